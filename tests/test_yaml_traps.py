"""The YAML loader: safe, line-aware, and immune to the classic traps."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign_sync.manifests.yamlsafe import MAX_ALIASES, MAX_DEPTH, YamlProblem, line_of, load


def test_lines_are_kept_for_keys_and_items() -> None:
    data = load("a: 1\nb:\n  - x: 1\n    y: 2\n  - 3\n", "f.yaml")
    assert data.key_lines == {"a": 1, "b": 2}
    assert data["b"].item_lines == [3, 5]
    assert line_of(data, ["b", 0, "y"]) == 4
    assert line_of(data, ["b", 0, "missing"]) == 3


def test_duplicate_key_names_both_lines() -> None:
    with pytest.raises(YamlProblem) as info:
        load("campaigns:\n  - key: a\n    name: x\n    name: y\n", "f.yaml")
    assert info.value.line == 4
    assert "first defined on line 3" in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/new:os.system [touch CANARY]",
        "a: !!python/object/apply:os.system ['touch CANARY']",
        "a: !!python/name:os.system",
        "a: !!python/object:builtins.dict {x: 1}",
    ],
)
def test_python_tags_are_refused_and_run_nothing(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(YamlProblem) as info:
        load(text.replace("CANARY", str(tmp_path / "canary")), "f.yaml")
    assert "tag" in info.value.message
    assert not (tmp_path / "canary").exists()


def test_alias_bomb_is_refused_before_expanding() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(YamlProblem) as info:
        load("\n".join(lines), "bomb.yaml")
    assert "refusing to expand" in info.value.message


def test_many_aliases_are_refused() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(YamlProblem) as info:
        load(text, "many.yaml")
    assert f"more than {MAX_ALIASES}" in info.value.message


def test_a_few_aliases_are_fine() -> None:
    data = load("base: &hours {day: MO}\nother: *hours\n", "f.yaml")
    assert data["other"] == {"day": "MO"}


def test_deep_nesting_is_refused() -> None:
    text = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    with pytest.raises(YamlProblem) as info:
        load(text, "deep.yaml")
    assert "nesting deeper" in info.value.message


def test_oversized_file_is_refused() -> None:
    with pytest.raises(YamlProblem) as info:
        load(b"a: " + b"x" * (6 * 1024 * 1024), "big.yaml")
    assert "larger than" in info.value.message


def test_sexagesimal_and_norway_stay_strings() -> None:
    data = load("t: 10:00\nb: no\nc: on\nd: yes\ne: true\nf: 0o17\ng: 1_000\n", "f.yaml")
    assert data == {"t": "10:00", "b": "no", "c": "on", "d": "yes", "e": True, "f": 15, "g": "1_000"}


def test_bom_and_crlf_are_accepted() -> None:
    data = load(b"\xef\xbb\xbfa: 1\r\nb: 2\r\n", "f.yaml")
    assert data == {"a": 1, "b": 2}
    assert data.key_lines["b"] == 2


def test_invalid_utf8_names_line_and_offset() -> None:
    with pytest.raises(YamlProblem) as info:
        load(b"a: 1\nb: \xff\n", "f.yaml")
    assert info.value.line == 2
    assert "byte offset 8" in info.value.message


def test_syntax_error_has_line() -> None:
    with pytest.raises(YamlProblem) as info:
        load("a:\n  - b\n c: [\n", "f.yaml")
    assert info.value.line >= 3
    assert info.value.message.startswith("invalid YAML")

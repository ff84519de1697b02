"""The fast YAML path agrees with the precise one, and a clean tree never needs the precise one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_sync.errors import ManifestError
from campaign_sync.manifests import loader, yamlfast
from campaign_sync.manifests.loader import load_desired, parse_file, parse_precise
from campaign_sync.manifests.yamlsafe import MAX_ALIASES, MAX_DEPTH, LineDict, LineList, YamlProblem, load
from tests.conftest import Repo

CAMPAIGN = """\
  - key: bill-{i}
    campaignType: sms
    format: simple
    name: Bill Reminder {i}
    description: "Monthly reminder"
    contactLists: [CL Only 2020 Dec 4]
    priority: 3
    message: {{message: "Your bill is due"}}
    dialingStrategy:
      callerId: {{phoneNumber: "+14155550100"}}
      callingHours:
        frequency: WEEKLY
        timezone: Asia/Kolkata
        days:
          - {{day: MO, start: "9:00 AM", end: "5:00 PM"}}
"""


def shape(value: Any) -> Any:
    """A type-strict picture of a loaded value (``True`` is not ``1``), lines of sequences included."""
    if isinstance(value, dict):
        return ("map", [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, LineList):
        return ("seq", value.line, list(value.item_lines), [shape(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("nan",)
    return (type(value).__name__, value)


def both(text: str) -> tuple[Any, Any]:
    """(precise, fast): each a loaded value, or the exception type it raised."""
    try:
        precise: Any = shape(load(text, "f.yaml"))
    except YamlProblem:
        precise = YamlProblem
    try:
        fast: Any = shape(yamlfast.load(text))
    except yamlfast.Slow:
        fast = yamlfast.Slow
    return precise, fast


def assert_agree(text: str) -> None:
    precise, fast = both(text)
    if precise is YamlProblem:
        assert fast is yamlfast.Slow, text
    elif fast is yamlfast.Slow:
        assert "!" in text, f"the fast path refused a plain document the precise one accepts: {text!r}"
    else:
        assert fast == precise, text


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "off",
            "10:00",
            "0o17",
            "0x1F",
            "1e3",
            ".inf",
            "-.Inf",
            ".NaN",
            "~",
            "null",
            "True",
            "FALSE",
            "012",
            "+1",
            "1_000",
            "<<",
            "=",
            "2024-01-01",
            "+14155550100",
            "9:00 AM",
            "",
        ]
    ),
)
KEYS = st.one_of(st.text(max_size=8), st.sampled_from(["true", "null", "1", "<<", "a", "b", "key"]))
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=TREES, flow=st.sampled_from([None, True, False]), width=st.sampled_from([20, 80, 1000]))
def test_fast_and_precise_agree_on_dumped_trees(tree: Any, flow: bool | None, width: int) -> None:
    assert_agree(yaml.safe_dump(tree, default_flow_style=flow, width=width, allow_unicode=True))


TOKENS = st.sampled_from(
    [
        "a: 1\n",
        "a: 2\n",
        "b:\n",
        "  - x\n",
        "  - &x {k: v}\n",
        "  - *x\n",
        "<<: *x\n",
        "c: &x [1, 2]\n",
        "d: *x\n",
        "- 1\n",
        "e: yes\n",
        "f: 10:00\n",
        "g: !!str 5\n",
        "h: !!python/name:os.system\n",
        "i: [unclosed\n",
        "\t- tab\n",
        "j: 'q''uote'\n",
        'k: "\\u00e9"\n',
        "l: |\n  block\n",
        "? complex\n",
        "? [a]\n: b\n",
        "m: {a: 1, a: 2}\n",
        "n: !!binary aGk=\n",
        "o: !custom x\n",
        "1: int\n",
        "null: n\n",
        "true: t\n",
        "p: 0x1F\n",
        "--- \n",
        "...\n",
        "%YAML 1.1\n---\n",
        "q: [*x, *x]\n",
    ]
)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(TOKENS, min_size=1, max_size=8))
def test_fast_and_precise_agree_on_odd_texts(parts: list[str]) -> None:
    assert_agree("".join(parts))


TRAPS = [
    "campaigns:\n  - key: a\n    name: x\n    name: y\n",
    "campaigns:\n  - {key: a, key: b}\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
    ),
    "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n",
    "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
    "campaigns:\n  - !!python/object:builtins.dict {x: 1}\n",
    "a: !!python/name:os.system\n",
    "campaigns:\n  - key: a\n    name: [unclosed\n",
    "campaigns:\n\t- key: a\n",
    "campaigns:\n  - [a]: b\n",
]


@pytest.mark.parametrize("text", TRAPS)
def test_traps_are_refused_by_the_fast_path_and_worded_by_the_precise_one(text: str) -> None:
    with pytest.raises(yamlfast.Slow):
        yamlfast.load(text)
    found, issues = parse_file("m.yaml", text)
    assert (found, issues) == parse_precise("m.yaml", text)
    assert issues
    assert all(i.location.line > 0 for i in issues)


def test_oversized_and_undecodable_files_take_the_precise_path() -> None:
    for raw in (b"a: " + b"x" * (6 * 1024 * 1024), b"campaigns:\n  - key: \xff\n"):
        with pytest.raises(yamlfast.Slow):
            yamlfast.load(raw)
        assert parse_file("m.yaml", raw) == parse_precise("m.yaml", raw)


def test_the_memoised_resolver_has_nothing_it_skips() -> None:
    from campaign_sync.manifests.yamlsafe import _Resolver

    assert None not in _Resolver.yaml_implicit_resolvers
    assert not _Resolver.yaml_path_resolvers


def manifests(count: int, extra: str = "") -> str:
    return "campaigns:\n" + "".join(CAMPAIGN.format(i=i) for i in range(count)) + extra


def test_a_clean_file_gives_what_the_precise_path_gives() -> None:
    text = manifests(3)
    found, issues = parse_file("m.yaml", text)
    assert issues == []
    assert [c.location.line for c in found] == [2, 17, 32]
    assert (found, issues) == parse_precise("m.yaml", text)


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str | bytes, path: str) -> Any:
        self.calls += 1
        return load(text, path)


def load_repo(root: Path) -> Any:
    return load_desired(root, ["manifests"], {}, {}, {}, "dev")


def test_a_valid_tree_is_parsed_without_the_marking_loader(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        repo.write(
            f"manifests/m{n}.yaml", manifests(4).replace("bill-", f"bill-{n}-").replace("Reminder", f"R{n}")
        )
    counting = Counting()
    monkeypatch.setattr(loader, "load", counting)
    desired = load_repo(repo.root)
    assert len(desired.campaigns) == 12
    assert counting.calls == 0
    assert desired.campaigns["bill-1-2"].location.line == 32


def test_a_broken_file_alone_goes_through_the_marking_loader(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("manifests/a.yaml", manifests(2))
    repo.write(
        "manifests/b.yaml",
        manifests(1).replace("bill-0", "other").replace("Reminder 0", "Other") + "    priority: 4\n",
    )
    counting = Counting()
    monkeypatch.setattr(loader, "load", counting)
    with pytest.raises(ManifestError) as info:
        load_repo(repo.root)
    assert counting.calls == 1
    assert [str(i) for i in info.value.issues] == [
        "manifests/b.yaml:17: duplicate key 'priority' (first defined on line 8)"
    ]


def test_a_line_dict_is_never_what_the_fast_path_builds() -> None:
    data = yamlfast.load(manifests(1))
    assert type(data) is dict
    assert not isinstance(data, LineDict)
    assert isinstance(data["campaigns"], LineList)
    assert data["campaigns"].item_lines == [2]

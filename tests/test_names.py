"""Names a person can tell apart: invisible characters are errors, look-alikes are warnings (validate)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from campaign_sync.cli import cli
from campaign_sync.manifests.names import name_errors, name_warnings
from tests.conftest import Repo
from tests.test_templates import TEMPLATE


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("Pay\u202eme", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("Pay\u2066me\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("Pay\u200fme", "U+200F RIGHT-TO-LEFT MARK"),
        ("Pay\u200bme", "U+200B ZERO WIDTH SPACE"),
        ("Pay\u200dme", "U+200D ZERO WIDTH JOINER"),
        ("Pay\ufeffme", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("Pay\x1b[2Jme", "U+001B"),
    ],
)
def test_invisible_and_control_characters_in_a_name_are_errors(name: str, named: str) -> None:
    (problem,) = name_errors(name)
    assert named in problem


@pytest.mark.parametrize(
    "name", ["Payment Reminder", "Café crème", "セール Sale 2024", "한국 캠페인", "Продажи"]
)
def test_ordinary_names_pass(name: str) -> None:
    assert name_errors(name) == []
    assert name_warnings(name) == []


def test_latin_with_a_cyrillic_look_alike_is_a_warning() -> None:
    (warning,) = name_warnings("P\u0430yment Reminder")
    assert "mixes Cyrillic and Latin letters" in warning
    assert "'а' (U+0430 CYRILLIC SMALL LETTER A) looks like 'a'" in warning


def test_compatibility_characters_are_a_warning() -> None:
    (warning,) = name_warnings("\uff33ale")
    assert "'Ｓ' (U+FF33 FULLWIDTH LATIN CAPITAL LETTER S) looks like 'S'" in warning


def manifest(key: str, name: str) -> str:
    return (
        TEMPLATE.replace("CALLER", "+14155550100")
        .replace("key: reminder", f"key: {key}")
        .replace("name: Reminder {{ environment }}", f'name: "{name}"')
    )


def validate(repo: Repo) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(repo.root / "campaign-sync.yaml"), "validate"])
    return result.exit_code, result.output


def test_validate_refuses_a_name_with_a_bidi_control_at_its_line(repo: Repo) -> None:
    repo.write("manifests/a.yaml", manifest("a", "Pay\\u202eme"))
    code, output = validate(repo)
    assert code == 1
    assert "manifests/a.yaml:4: campaigns[0].name: contains invisible or control characters (U+202E" in output
    assert "\u202e" not in output


def test_validate_warns_about_look_alike_names_and_passes(repo: Repo) -> None:
    repo.write("manifests/a.yaml", manifest("a", "Sale"))
    repo.write("manifests/b.yaml", manifest("b", "\\uff33ale"))
    repo.write("manifests/c.yaml", manifest("c", "P\\u0430yment"))
    code, output = validate(repo)
    assert code == 0, output
    assert "warning: manifests/b.yaml:4: campaigns[0].name: uses compatibility characters" in output
    assert (
        "warning: manifests/b.yaml:2: name: 'Ｓale' looks like 'Sale' of 'a' at manifests/a.yaml:2" in output
    )
    assert "warning: manifests/c.yaml:4: campaigns[0].name: mixes Cyrillic and Latin letters" in output

"""tests/FAULTS.md stays true: every test it names exists, and every matrix row is in it."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "tests" / "FAULTS.md"

MATRIX_ROWS = (
    [f"S{i}" for i in range(1, 11)]
    + [f"H{i}" for i in range(1, 21)]
    + [f"I{i}" for i in range(1, 15)]
    + [f"X{i}" for i in range(1, 4)]
)
NODE_ID = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
ROW = re.compile(r"^\| ([SHIXA]\d+) \|(.*)\|$")


def rows() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match.group(1) not in found, f"row {match.group(1)} appears twice"
            found[match.group(1)] = match.group(2)
    return found


@cache
def defined_tests(rel: str) -> frozenset[str]:
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"), filename=rel)
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    )


def node_ids() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in NODE_ID.finditer(DOC.read_text(encoding="utf-8"))]


def test_the_document_names_tests() -> None:
    assert len(node_ids()) >= len(MATRIX_ROWS)


@pytest.mark.parametrize(("path", "name"), sorted(set(node_ids())), ids=lambda value: str(value))
def test_every_named_test_exists(path: str, name: str) -> None:
    assert (ROOT / path).is_file(), f"{path} is named in FAULTS.md but does not exist"
    assert name in defined_tests(path), f"{path} defines no test {name}"


def test_every_matrix_row_is_in_the_document() -> None:
    missing = [row for row in MATRIX_ROWS if row not in rows()]
    assert missing == []


def test_every_row_names_a_test_or_says_it_is_not_covered() -> None:
    for row, text in rows().items():
        assert NODE_ID.search(text) or "not covered:" in text, f"row {row} names no test"


def test_the_coverage_summary_matches_the_rows() -> None:
    matrix = {row: text for row, text in rows().items() if row in MATRIX_ROWS}
    uncovered = sum("not covered:" in text for text in matrix.values())
    partly = sum("Partly:" in text for text in matrix.values())
    full = len(matrix) - uncovered - partly
    summary = (
        f"Coverage: {full} rows full, {partly} partly, {uncovered} not covered (of {len(matrix)} matrix rows)"
    )
    assert summary in " ".join(DOC.read_text(encoding="utf-8").split())

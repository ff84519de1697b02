"""The state's fast indented JSON is byte for byte what ``json.dumps(indent=2)`` writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_sync.state.jsontext import indented


def reference(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)


LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.sampled_from(["", "\u2028", "\x00\x1f\x7f", '"\\/', "\U0001f680", "\ud800"]),
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=6), inner, max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(tree=TREES)
def test_the_same_text_as_json_dumps(tree: Any) -> None:
    assert indented(tree) == reference(tree)


@pytest.mark.parametrize(
    "value",
    [{1: "int key"}, {"a": float("nan")}, [float("inf")], {"a": {1, 2}}, {"a": object()}, {"b": 1, 2: 3}],
)
def test_unusual_values_get_what_json_dumps_gives(value: Any) -> None:
    try:
        expected: Any = reference(value)
    except (TypeError, ValueError) as exc:
        expected = type(exc)
    try:
        got: Any = indented(value)
    except (TypeError, ValueError) as exc:
        got = type(exc)
    assert got == expected


def test_a_cycle_is_refused_as_before() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        indented(loop)

"""``diff._same`` walks two views and answers exactly what comparing their JSON would answer."""

from __future__ import annotations

import copy
import enum
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_sync.core.diff import _same, _text, compare


class Level(enum.IntEnum):
    LOW = 1


class Tag(str):
    pass


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([Level.LOW, 0.0, -0.0, 1.0, 1.5, math.inf, math.nan, "", "1", "true", Tag("1"), "a"]),
    st.floats(),
    st.text(max_size=3),
)
KEYS = st.one_of(
    st.sampled_from(["a", "b", "1", "true"]), st.text(max_size=2), st.sampled_from([1, True, None])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(KEYS, inner, max_size=3),
    ),
    max_leaves=12,
)


def text_or_error(value: Any) -> Any:
    try:
        return _text(value)
    except TypeError:  # keys JSON cannot sort (1 beside "a"): both sides raise alike
        return TypeError


def agrees(a: Any, b: Any) -> None:
    expected = text_or_error(a), text_or_error(b)
    if TypeError in expected:
        return
    assert _same(a, b) is (expected[0] == expected[1]), (a, b)


def swapped(value: Any) -> Any:
    """The same JSON written with other containers: tuples for lists, keys in reverse order."""
    if isinstance(value, dict):
        return {k: swapped(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return tuple(swapped(v) for v in value)
    if isinstance(value, tuple):
        return [swapped(v) for v in value]
    return value


@settings(max_examples=600, deadline=None)
@given(VALUES, VALUES)
def test_any_two_values(a: Any, b: Any) -> None:
    agrees(a, b)
    agrees({"x": a}, {"x": b})


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_a_value_and_its_copies(a: Any) -> None:
    agrees(a, copy.deepcopy(a))
    agrees(a, swapped(a))


def test_the_cases_that_matter() -> None:
    assert _same({"a": [1, {"b": "x"}]}, {"a": ({"b": "x"}, 1)[::-1]})
    assert not _same({"p": True}, {"p": 1})
    assert not _same({"p": 1}, {"p": 1.0})
    assert not _same({"p": "5"}, {"p": 5})
    assert not _same({"p": 0.0}, {"p": -0.0})
    assert _same({"p": math.nan}, {"p": float("nan")})
    assert _same({"1": "x"}, {1: "x"})  # JSON's keys are strings
    assert not _same({"p": None}, {})
    assert compare({"p": True}, {"p": 1}) != []

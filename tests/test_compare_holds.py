"""``compare._holds`` answers what projecting the live view and comparing it would answer."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from campaign_sync.core.compare import _holds
from campaign_sync.core.diff import unchanged
from campaign_sync.core.normalize import project

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 1.0, "", "1", "a", "6:00 PM"])
)
KEYS = st.one_of(st.sampled_from(["a", "b", "days", "start", "end"]), st.sampled_from([1, None]))
VIEWS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=2).map(tuple),
        st.dictionaries(KEYS, inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=2).map(MappingProxyType),
    ),
    max_leaves=14,
)


def edited(value: Any, data: st.DataObject) -> Any:
    """A copy of ``value`` with, at random, keys added, keys dropped or one value replaced."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if data.draw(st.integers(0, 9)) == 0:
                continue  # dropped
            out[key] = edited(inner, data)
        if data.draw(st.integers(0, 4)) == 0:
            out[data.draw(KEYS)] = data.draw(SCALARS)  # added (undeclared, or replacing one)
        return out
    if data.draw(st.integers(0, 9)) == 0:
        return data.draw(VIEWS)
    return copied(value)


def copied(value: Any) -> Any:
    """An equal value sharing no dict or list with ``value`` (read-only mappings are kept)."""
    if isinstance(value, dict):
        return {key: copied(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(copied(inner) for inner in value)
    return value


def definition(live: Any, desired: Any) -> bool:
    return unchanged(project(live, desired), desired)


def agrees(live: Any, desired: Any) -> None:
    """Same answer, or the same TypeError (keys JSON cannot sort, 1 beside "a", raise alike)."""
    try:
        expected: Any = definition(live, desired)
    except TypeError:
        expected = TypeError
    try:
        got: Any = _holds(live, desired)
    except TypeError:
        got = TypeError
    assert got is expected, (live, desired)


@settings(max_examples=800, deadline=None, derandomize=True)
@given(VIEWS, st.data())
@example({"a": {"days": {"MO": {"start": "1"}}}}, None)
def test_holds_is_project_then_compare(desired: Any, data: st.DataObject | None) -> None:
    live = edited(desired, data) if data is not None else {"a": {"days": {"MO": {"start": "1"}, "TU": {}}}}
    agrees(live, desired)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(VIEWS, VIEWS)
def test_holds_on_unrelated_values(live: Any, desired: Any) -> None:
    agrees(live, desired)


def test_the_cases_that_matter() -> None:
    desired = {
        "name": "N",
        "dialingStrategy": {"callerId": {"phoneNumber": "+1"}, "days": {"MO": {"end": "1"}}},
    }
    live = copy.deepcopy(desired)
    live["status"] = "Ready"  # undeclared: not compared
    live["dialingStrategy"]["callerId"]["extra"] = 1
    assert _holds(live, desired)
    live["dialingStrategy"]["days"]["TU"] = {"end": "2"}  # days are compared whole
    assert not _holds(live, desired)
    assert not _holds({"name": "N"}, desired), "a declared field live lacks is a change"
    assert not _holds({"n": 1}, {"n": True}), "type-strict: 1 is not True"
    assert not _holds({"n": 1}, {"n": 1.0}), "type-strict: 1 is not 1.0"

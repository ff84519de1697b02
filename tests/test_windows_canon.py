"""Calling-hour windows fold the same whether or not their spelling was folded before.

``Windows.canon`` remembers the keyed shape of windows spelled with plain strings; these tests
hold it to the uncached fold (``Windows._canon``) for every input, valid or not, and check that a
remembered shape is never shared between callers.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_sync.core.specs import Windows, _keyed_windows

SPEC = Windows()

DAYS = st.sampled_from(["MO", "mo", " Fr ", "SU", "XX", ""])
TIMES = st.sampled_from(["9:00 AM", "09:00 am", "9:00am", "5:00 PM", "12:30 pm", "25:00", "", "noon"])
ODD = st.one_of(st.none(), st.integers(-1, 2), st.booleans(), st.lists(st.text(max_size=1), max_size=1))
WINDOW = st.fixed_dictionaries({"day": DAYS, "start": TIMES, "end": TIMES})
ANY_WINDOW = st.one_of(
    WINDOW,
    st.fixed_dictionaries({"day": st.one_of(DAYS, ODD), "start": st.one_of(TIMES, ODD)}),
    st.dictionaries(st.sampled_from(["day", "start", "end", "extra"]), st.one_of(DAYS, TIMES, ODD)),
    ODD,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ANY_WINDOW, max_size=6))
def test_canon_is_the_uncached_fold(windows: list[Any]) -> None:
    assert SPEC.canon(windows) == SPEC._canon(windows)
    assert SPEC.canon(windows) == SPEC._canon(windows)  # the second call reads the remembered shape


@settings(max_examples=200, deadline=None)
@given(st.lists(WINDOW, min_size=1, max_size=6))
def test_plain_spellings_are_remembered_and_never_shared(windows: list[dict[str, str]]) -> None:
    _keyed_windows.cache_clear()
    first = SPEC.canon(windows)
    second = SPEC.canon([dict(w) for w in windows])
    assert _keyed_windows.cache_info().hits == 1  # the same spelling is folded once
    assert first == second == SPEC._canon(windows)
    for key in first:
        first[key]["start"] = "changed"
    assert SPEC.canon(windows) == second  # a caller's change never reaches the next caller


def test_non_string_values_are_folded_as_they_are() -> None:
    _keyed_windows.cache_clear()
    # True and 1 hash alike; folding them from one remembered entry would give the wrong key.
    assert SPEC.canon([{"day": True, "start": "9:00 AM", "end": "5:00 PM"}]) == {
        "True": {"start": "9:00 AM", "end": "5:00 PM"}
    }
    assert SPEC.canon([{"day": 1, "start": "9:00 AM", "end": "5:00 PM"}]) == {
        "1": {"start": "9:00 AM", "end": "5:00 PM"}
    }
    assert _keyed_windows.cache_info().currsize == 0
    assert SPEC.canon("not a list") == "not a list"

"""A save's text, written again only where records changed: the same bytes as writing it all, and
the stored text compared without parsing it (``RecordTexts``, ``same_but_write_marks``).

An apply saves the whole state after every write; with 10,000 campaigns that is 28 MB of JSON
each time. These hold the shortcuts to what the plain path gives, byte for byte and answer for
answer, and count that they are taken."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from state_support import record, sample_state

from campaign_sync.errors import StateError
from campaign_sync.state import State, StateStore
from campaign_sync.state import format as state_format
from campaign_sync.state.format import RecordTexts, same_but_write_marks, serialize

JSONISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.floats(allow_nan=False, allow_infinity=False, width=16),
        st.text(max_size=4),
        st.sampled_from(["\n", '"', "\u2028", '\n  "serial": 1,', '\n  "lineage": "x"']),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)
EDITS = st.lists(
    st.tuples(st.sampled_from(["set", "drop", "same"]), st.integers(1, 6), JSONISH), min_size=1, max_size=8
)


def _apply(state: State, op: str, n: int, value: Any) -> State:
    key = f"campaign-{n}"
    if op == "drop":
        return state.without_campaign(key)
    if op == "same":
        return dataclasses.replace(state, serial=state.serial + 1, toolVersion=f"0.{n}")
    return state.with_campaign(
        key, record(n, applied={"description": value}, cached={"_id": key, "v": value})
    )


@settings(max_examples=200, deadline=None)
@given(edits=EDITS)
def test_copied_record_texts_give_the_text_written_whole(edits: list[tuple[str, int, Any]]) -> None:
    texts = RecordTexts()
    state = sample_state(3)
    for op, n, value in edits:
        state = _apply(state, op, n, value)
        assert serialize(state, texts) == serialize(state)


@settings(max_examples=300, deadline=None)
@given(edits=EDITS, other=EDITS)
def test_comparing_texts_answers_what_content_equal_answers(
    edits: list[tuple[str, int, Any]], other: list[tuple[str, int, Any]]
) -> None:
    base = sample_state(3)
    one, two = base, base
    for op, n, value in edits:
        one = _apply(one, op, n, value)
    for op, n, value in other:
        two = _apply(two, op, n, value)
    for a, b in ((one, two), (one, dataclasses.replace(one, serial=one.serial + 7, toolVersion="9.9"))):
        new, old = serialize(a).encode(), serialize(b).encode()
        assert same_but_write_marks(new, old) is a.content_equal(b)


def test_lineage_flows_identity_and_version_still_count() -> None:
    state = sample_state(2)
    text = serialize(state).encode()
    for changed in (
        dataclasses.replace(state, lineage="00000000-0000-4000-8000-000000000000"),
        state.with_flows({"Another Flow": "cf-0009"}),
        dataclasses.replace(state, version=2),
    ):
        assert not changed.content_equal(state)
        assert same_but_write_marks(serialize(changed).encode(), text) is False


def test_a_save_writes_only_the_records_it_changed(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = store.save(sample_state(20))
    written: list[Any] = []
    real = state_format.piece

    def counting(value: Any, newline: str) -> Any:
        written.append(value.get("id") if newline == state_format._RECORD_NEWLINE else "the state")
        return real(value, newline)

    monkeypatch.setattr(state_format, "piece", counting)
    compared: list[int] = []
    content_equal = State.content_equal
    monkeypatch.setattr(State, "content_equal", lambda a, b: compared.append(1) or content_equal(a, b))

    state = store.save(state.with_campaign("campaign-5", record(5, name="Renamed")))
    assert written == ["cd-0005", "the state"]
    again = store.save(state)  # nothing changed: no write, decided from the text
    assert (again.serial, compared) == (state.serial, [])
    assert store.load().campaigns["campaign-5"].name == "Renamed"


def test_a_value_only_json_dumps_may_write_goes_the_plain_way(store: StateStore) -> None:
    state = store.save(sample_state(2))
    with pytest.raises(StateError, match="not plain JSON"):
        store.save(state.with_campaign("bad", record(9, applied={"x": float("nan")})))
    assert set(store.load().campaigns) == set(sample_state(2).campaigns)

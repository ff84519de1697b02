"""A save's text, written again only where records changed: the same bytes as writing it all, the
self-check made on its new parts, and the stored text compared without parsing it
(``RecordTexts``, ``check_serialized``, ``same_but_write_marks``).

An apply saves the whole state after every write; with 10,000 campaigns that is 28 MB of JSON
each time. These hold the shortcuts to what the plain path gives, byte for byte and answer for
answer (refusals included, word for word), and count that they are taken."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from state_support import record, sample_state

from campaign_sync.errors import StateError
from campaign_sync.state import State, StateStore
from campaign_sync.state import format as state_format
from campaign_sync.state.format import (
    Identity,
    Invalid,
    RecordTexts,
    check_serialized,
    parse_state,
    same_but_write_marks,
    serialize,
)

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
    st.tuples(st.sampled_from(["set", "drop", "same", "bad", "identity"]), st.integers(1, 6), JSONISH),
    min_size=1,
    max_size=8,
)
IDENTITY = Identity("prod", "https://platform.kore.ai", "st-0001", "acct-0001")
#: Records that serialize but do not read back as valid ones (what the self-check is for).
BAD: tuple[dict[str, Any], ...] = (
    {"campaignType": "fax"},
    {"id": ""},
    {"applied": ["not", "a", "mapping"]},
    {"updatedAt": 5},
    {"contentHash": {"nested": True}},
)


def _apply(state: State, op: str, n: int, value: Any) -> State:
    key = f"campaign-{n}"
    if op == "drop":
        return state.without_campaign(key)
    if op == "same":
        return dataclasses.replace(state, serial=state.serial + 1, toolVersion=f"0.{n}")
    if op == "bad":
        return state.with_campaign(key, record(n, **BAD[n % len(BAD)]))
    if op == "identity":  # a good one, or one whose environment is not text
        return state.with_identity(
            dataclasses.replace(IDENTITY, environment=IDENTITY.environment if n % 2 else n)
        )
    return state.with_campaign(
        key, record(n, applied={"description": value}, cached={"_id": key, "v": value})
    )


def _whole_check(text: str) -> str | None:
    """What the self-check of the whole text says (None: valid)."""
    try:
        parse_state(json.loads(text))
    except Invalid as exc:
        return str(exc)
    return None


@settings(max_examples=300, deadline=None)
@given(edits=EDITS)
def test_copied_texts_give_the_whole_text_and_the_check_of_the_parts_its_answers(
    edits: list[tuple[str, int, Any]],
) -> None:
    """Saved in turn, as an apply saves: each text equals the one written whole, and the self-check
    on its parts refuses exactly what the check of the whole text refuses, in the same words."""
    texts = RecordTexts()
    state = sample_state(3).with_identity(IDENTITY)
    for op, n, value in edits:
        state = _apply(state, op, n, value)
        text = serialize(state, texts)
        assert text == serialize(state)
        expected = _whole_check(text)
        got: str | None = None
        try:
            check_serialized(state, text, texts)
        except Invalid as exc:
            got = str(exc)
        assert got == expected


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


def test_a_save_writes_and_checks_only_the_records_it_changed(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = store.save(sample_state(20))
    written: list[Any] = []
    real = state_format.piece

    def counting(value: Any, newline: str) -> Any:
        written.append(value.get("id") if newline == state_format._RECORD_NEWLINE else "the state")
        return real(value, newline)

    monkeypatch.setattr(state_format, "piece", counting)
    checked: list[Any] = []
    well_formed = state_format._well_formed_record

    def checking(data: Any) -> Any:
        checked.append(data.get("id"))
        return well_formed(data)

    monkeypatch.setattr(state_format, "_well_formed_record", checking)
    compared: list[int] = []
    content_equal = State.content_equal
    monkeypatch.setattr(State, "content_equal", lambda a, b: compared.append(1) or content_equal(a, b))

    state = store.save(state.with_campaign("campaign-5", record(5, name="Renamed")))
    assert written == ["cd-0005", "the state"]
    assert checked == ["cd-0005"]
    again = store.save(state)  # nothing changed: no write, decided from the text
    assert (again.serial, compared) == (state.serial, [])
    assert store.load().campaigns["campaign-5"].name == "Renamed"


def test_a_refused_record_is_refused_again_and_never_copied(store: StateStore) -> None:
    """The record's text failed the self-check: it is not kept, so the same state saved again is
    checked (and refused) again rather than copied into the file."""
    state = store.save(sample_state(3))
    bad = state.with_campaign("campaign-9", record(9, campaignType="fax"))
    for _attempt in range(2):
        with pytest.raises(StateError, match="refusing to save an invalid state"):
            store.save(bad)
    assert "campaign-9" not in store.load().campaigns
    assert store.save(state.with_campaign("campaign-9", record(9))).serial == state.serial + 1


def test_a_value_only_json_dumps_may_write_goes_the_plain_way(store: StateStore) -> None:
    state = store.save(sample_state(2))
    with pytest.raises(StateError, match="not plain JSON"):
        store.save(state.with_campaign("bad", record(9, applied={"x": float("nan")})))
    assert set(store.load().campaigns) == set(sample_state(2).campaigns)

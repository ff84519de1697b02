"""State and CampaignRecord as values: construction, immutability, JSON round trip, content equality."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from state_support import record, sample_state

from campaign_sync import __version__
from campaign_sync.errors import StateError
from campaign_sync.state import CampaignRecord, State
from campaign_sync.state.format import Invalid, _parse_record, _well_formed_record, loads


def test_new_state_has_serial_zero_an_empty_body_and_a_fresh_uuid4_lineage() -> None:
    first, second = State.new(), State.new()
    assert first.serial == 0
    assert first.version == 1
    assert first.toolVersion == __version__
    assert first.campaigns == {}
    assert first.flows == {}
    assert uuid.UUID(first.lineage).version == 4
    assert first.lineage != second.lineage


def test_with_campaign_returns_a_new_state_and_leaves_the_original_alone() -> None:
    empty = State.new()
    one = empty.with_campaign("support", record(1))
    assert empty.campaigns == {}
    assert one.campaigns == {"support": record(1)}
    assert one.lineage == empty.lineage
    assert one.serial == empty.serial
    replaced = one.with_campaign("support", record(2))
    assert replaced.campaigns["support"].id == "cd-0002"
    assert one.campaigns["support"].id == "cd-0001"


def test_values_are_frozen() -> None:
    state = sample_state()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.serial = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.campaigns["campaign-1"].name = "x"  # type: ignore[misc]


def test_without_campaign_removes_the_key_and_ignores_an_absent_one() -> None:
    state = sample_state(2)
    smaller = state.without_campaign("campaign-1")
    assert set(smaller.campaigns) == {"campaign-2"}
    assert set(state.campaigns) == {"campaign-1", "campaign-2"}
    assert smaller.without_campaign("campaign-1").content_equal(smaller)


def test_with_flows_replaces_the_pairs() -> None:
    state = State.new().with_flows({"A": "cf-a", "B": "cf-b"})
    source = {"C": "cf-c"}
    replaced = state.with_flows(source)
    source["D"] = "cf-d"
    assert replaced.flows == {"C": "cf-c"}
    assert state.flows == {"A": "cf-a", "B": "cf-b"}


def test_with_campaign_rejects_what_is_not_a_record() -> None:
    with pytest.raises(TypeError):
        State.new().with_campaign("k", {"id": "cd-1"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        State.new().with_campaign("", record())


def test_json_round_trip_keeps_every_field() -> None:
    state = dataclasses.replace(sample_state(3), serial=7)
    data = state.to_json()
    assert set(data) == {"version", "serial", "lineage", "toolVersion", "flows", "campaigns"}
    assert set(data["campaigns"]["campaign-1"]) == {
        "id",
        "campaignType",
        "name",
        "applied",
        "updatedAt",
        "live",
        "contentHash",
    }
    assert State.from_json(data, "x.json") == state


def test_record_optional_fields_may_be_null_or_absent() -> None:
    minimal = {"id": "cd-1", "campaignType": "voice", "name": "V", "applied": {}}
    parsed = CampaignRecord.from_json(minimal)
    assert parsed == CampaignRecord(id="cd-1", campaignType="voice", name="V", applied={})
    assert parsed.updatedAt is None
    assert parsed.cached is None
    assert parsed.contentHash is None
    assert CampaignRecord.from_json(parsed.to_json()) == parsed


def test_state_without_tool_version_or_flows_loads() -> None:
    lineage = str(uuid.uuid4())
    state = State.from_json({"version": 1, "serial": 2, "lineage": lineage, "campaigns": {}}, "s.json")
    assert state.flows == {}
    assert state.serial == 2
    assert state.lineage == lineage


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("not a record", "must be a JSON object"),
        ({"campaignType": "sms", "name": "n", "applied": {}}, 'no "id" field'),
        ({"id": 5, "campaignType": "sms", "name": "n", "applied": {}}, "id must be a non-empty string"),
        ({"id": "cd-1", "campaignType": "fax", "name": "n", "applied": {}}, "must be sms or voice"),
        (
            {"id": "cd-1", "campaignType": "sms", "name": None, "applied": {}},
            "name must be a string, not null",
        ),
        ({"id": "cd-1", "campaignType": "sms", "name": "n", "applied": []}, "applied must be a JSON object"),
        ({"id": "cd-1", "campaignType": "sms", "name": "n", "applied": {}, "live": "x"}, "live must be"),
        (
            {"id": "cd-1", "campaignType": "sms", "name": "n", "applied": {}, "updatedAt": 3},
            "updatedAt must be a string or null, not 3",
        ),
        (
            {"id": "cd-1", "campaignType": "sms", "name": "n", "applied": {}, "extra": 1},
            'unknown field "extra"',
        ),
    ],
)
def test_record_from_json_is_strict(data: Any, fragment: str) -> None:
    with pytest.raises(StateError, match="invalid campaign record") as caught:
        CampaignRecord.from_json(data)
    assert fragment in str(caught.value)


def test_state_from_json_names_the_source_and_the_field() -> None:
    data = sample_state().to_json()
    data["campaigns"]["campaign-2"]["id"] = None
    with pytest.raises(StateError) as caught:
        State.from_json(data, ".campaign-sync/prod.state.json")
    message = str(caught.value)
    assert message.startswith("state file .campaign-sync/prod.state.json is unreadable")
    assert 'campaigns["campaign-2"].id must be a non-empty string' in message


def test_content_equal_ignores_serial_and_tool_version_only() -> None:
    base = sample_state()
    assert base.content_equal(dataclasses.replace(base, serial=99, toolVersion="9.9.9"))
    different = [
        dataclasses.replace(base, lineage=str(uuid.uuid4())),
        base.with_flows({}),
        base.without_campaign("campaign-1"),
        base.with_campaign("campaign-1", record(1, applied={"description": "changed"})),
        base.with_campaign("campaign-1", record(1, cached=None)),
        base.with_campaign("campaign-1", record(1, updatedAt="2026-01-01T00:00:00Z")),
        base.with_campaign("campaign-1", record(1, contentHash=None)),
        base.with_campaign("campaign-1", record(1, name="Renamed")),
    ]
    for other in different:
        assert not base.content_equal(other), other


def test_content_equal_tells_json_types_apart() -> None:
    base = State.new().with_campaign("k", record(1, applied={"priority": 5}))
    assert not base.content_equal(base.with_campaign("k", record(1, applied={"priority": "5"})))
    assert not base.content_equal(base.with_campaign("k", record(1, applied={"priority": 5.0})))


_RECORD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1, 1),
    st.sampled_from(["", "cd-1", "sms", "voice", "SMS", "2026-12-03T09:00:00Z"]),
    st.dictionaries(st.sampled_from(["name", "x"]), st.text(max_size=2), max_size=2),
    st.lists(st.integers(0, 1), max_size=1),
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.dictionaries(
            st.sampled_from(
                ["id", "campaignType", "name", "applied", "updatedAt", "live", "contentHash", "extra"]
            ),
            _RECORD_VALUES,
        ),
        st.fixed_dictionaries(
            {
                "id": st.sampled_from(["cd-1", ""]),
                "campaignType": st.sampled_from(["sms", "voice", "fax"]),
                "name": st.sampled_from(["", "Reminder"]),
                "applied": st.sampled_from([{}, {"name": "Reminder"}, []]),
            },
            optional={
                "updatedAt": _RECORD_VALUES,
                "live": _RECORD_VALUES,
                "contentHash": _RECORD_VALUES,
            },
        ),
        _RECORD_VALUES,
    )
)
def test_the_well_formed_record_fast_path_agrees_with_the_checked_parse(data: Any) -> None:
    try:
        checked: CampaignRecord | None = _parse_record(data, 'campaigns["k"]')
    except Invalid:
        checked = None
    assert _well_formed_record(data) == checked


@pytest.mark.parametrize(
    "raw",
    [b'{"version": 1}', b'{"version": 1, "version": 2}', b'{"version": ', b"[" * 100_000],
    ids=["valid", "duplicate key", "truncated", "nested too deeply"],
)
def test_parsing_a_state_resumes_the_garbage_collector_as_it_found_it(raw: bytes) -> None:
    """``loads`` pauses the collector while it parses: it must be running again afterwards,
    whether the text parsed or not, and a collector paused by the caller stays paused."""
    assert gc.isenabled()
    for enabled in (True, False):
        if not enabled:
            gc.disable()
        try:
            with contextlib.suppress(Invalid):
                loads(raw)
            assert gc.isenabled() is enabled
        finally:
            gc.enable()

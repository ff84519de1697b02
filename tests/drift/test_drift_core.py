"""build_drift, table-driven: each kind alone and together, flows, normalisation, targets, JSON shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from campaign_sync.core.compare import LiveCampaign
from campaign_sync.core.drift import Drift, Kind, build_drift
from campaign_sync.core.normalize import FlowBook, desired_view
from campaign_sync.errors import DriftError
from tests.test_manifest_rules import SMS_ADVANCED, SMS_SIMPLE, VOICE_AGENTLESS, VOICE_PREVIEW
from tests.test_normalize import (
    BASES,
    EQUIVALENT,
    FLOW_ID,
    FLOWS,
    SMS_ADVANCED_LIVE,
    SMS_SIMPLE_LIVE,
    VOICE_PREVIEW_ITEM,
    VOICE_PREVIEW_LIVE,
    _edit,
    campaign,
)
from tests.test_plan import Item, Rec

NOW = "2030-01-02T03:04:05Z"
ADV_ID = SMS_ADVANCED_LIVE["_id"]
SIMPLE_ID = SMS_SIMPLE_LIVE["_id"]
PREVIEW_ID = VOICE_PREVIEW_LIVE["_id"]


def live(doc: dict[str, Any], ctype: str = "sms", item: dict[str, Any] | None = None) -> LiveCampaign:
    cid = doc["_id"]
    listed = {"_id": cid, **(item or {})}
    return LiveCampaign(cid, ctype, doc["name"], doc.get("status"), doc.get("updatedAt"), listed, doc)


def applied(manifest: str) -> dict[str, Any]:
    return desired_view(campaign(manifest))


def item(manifest: str) -> Item:
    return Item(campaign(manifest))


def drift_of(
    desired: dict[str, Item],
    lives: list[LiveCampaign],
    state: dict[str, Rec],
    flows: FlowBook = FLOWS,
    targets: tuple[str, ...] = (),
) -> Drift:
    return build_drift("prod", desired, lives, state, flows, targets=targets, generated_at=NOW)


def kinds(result: Drift) -> list[tuple[str, str]]:
    return [(e.key, e.kind.value) for e in result.entries]


SIMPLE_REC = Rec(SIMPLE_ID, "sms", "Bill Reminder", applied(SMS_SIMPLE))
ADV_REC = Rec(ADV_ID, "sms", "Interactive Support SMS Campaign", applied(SMS_ADVANCED))
IN_SYNC = {
    "desired": {"bill-reminder": item(SMS_SIMPLE), "interactive-support": item(SMS_ADVANCED)},
    "lives": [live(SMS_SIMPLE_LIVE), live(SMS_ADVANCED_LIVE)],
    "state": {"bill-reminder": SIMPLE_REC, "interactive-support": ADV_REC},
}


def test_in_sync_is_no_drift() -> None:
    result = drift_of(**IN_SYNC)  # type: ignore[arg-type]
    assert result.entries == ()
    assert not result.has_drift
    assert result.summary.to_json() == {
        "changed": 0,
        "missing": 0,
        "pending": 0,
        "unmanaged": 0,
        "inSync": 2,
        "managed": 2,
        "facets": {"changed": 0, "missing": 0, "pending": 0},
    }
    assert result.summary.line() == "Drift: 0 changed, 0 missing, 0 pending, 0 unmanaged."
    assert [m.key for m in result.managed] == ["bill-reminder", "interactive-support"]


def test_changed_live_reports_each_field_with_applied_and_live_values_and_updated_at() -> None:
    doc = {
        **SMS_SIMPLE_LIVE,
        "description": "Edited in the UI",
        "priority": "4",
        "updatedAt": "2030-01-01T00:00:00Z",
    }
    result = drift_of({"bill-reminder": item(SMS_SIMPLE)}, [live(doc)], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    assert entry.kind is Kind.CHANGED
    assert (entry.campaign_id, entry.updated_at, entry.campaign_type) == (
        SIMPLE_ID,
        "2030-01-01T00:00:00Z",
        "sms",
    )
    assert [(f.path, f.applied, f.live) for f in entry.fields] == [
        ("description", "Due date reminder", "Edited in the UI"),
        ("priority", "3", "4"),
    ]
    assert result.has_drift
    assert result.summary.changed == 1


def test_only_fields_applied_holds_are_compared() -> None:
    # The manifest (so applied) has no dncLists and no schedule: live edits to them are not drift.
    doc = _edit(SMS_SIMPLE_LIVE, "schedule", {"isSchedulingEnabled": True})
    doc = _edit(doc, "dncLists", {"name": "someone's list"})
    result = drift_of({"bill-reminder": item(SMS_SIMPLE)}, [live(doc)], {"bill-reminder": SIMPLE_REC})
    assert result.entries == ()


def test_missing_when_the_state_id_is_gone_live() -> None:
    result = drift_of({"bill-reminder": item(SMS_SIMPLE)}, [], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    assert (entry.kind, entry.campaign_id, entry.fields) == (Kind.MISSING, SIMPLE_ID, ())
    assert entry.note is not None
    assert "apply creates it again" in entry.note


def test_gone_live_and_gone_from_the_manifests_is_missing_only() -> None:
    result = drift_of({}, [], {"bill-reminder": SIMPLE_REC})
    assert kinds(result) == [("bill-reminder", "missing")]
    assert result.entries[0].note is not None
    assert "apply forgets it" in result.entries[0].note


def test_pending_update_compares_the_manifest_with_applied() -> None:
    new = SMS_SIMPLE.replace("description: Due date reminder", "description: Pay by Friday")
    result = drift_of({"bill-reminder": item(new)}, [live(SMS_SIMPLE_LIVE)], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    assert (entry.kind, entry.action) == (Kind.PENDING, "update")
    assert [(f.path, f.applied, f.manifest) for f in entry.fields] == [
        ("description", "Due date reminder", "Pay by Friday")
    ]


def test_pending_ignores_fields_the_manifest_no_longer_declares() -> None:
    # Dropping a field from a manifest makes it unmanaged (plan never compares it): not pending.
    new = SMS_ADVANCED.replace("    schedule: {isSchedulingEnabled: false}\n", "")
    assert "schedule" in ADV_REC.applied
    assert "schedule" not in applied(new)
    result = drift_of(
        {"interactive-support": item(new)}, [live(SMS_ADVANCED_LIVE)], {"interactive-support": ADV_REC}
    )
    assert result.entries == ()


def test_pending_create_for_a_key_not_in_the_state() -> None:
    result = drift_of({"bill-reminder": item(SMS_SIMPLE)}, [], {})
    (entry,) = result.entries
    assert (entry.kind, entry.action, entry.campaign_id) == (Kind.PENDING, "create", None)
    paths = {f.path for f in entry.fields}
    assert {"name", "priority", "message.message", "dialingStrategy.callingHours.days[FR]"} <= paths
    assert all(f.applied is None for f in entry.fields)
    assert entry.note == "not applied yet; apply creates it"


def test_pending_create_names_the_live_campaign_apply_would_adopt() -> None:
    result = drift_of({"bill-reminder": item(SMS_SIMPLE)}, [live(SMS_SIMPLE_LIVE)], {})
    (entry,) = result.entries
    assert entry.action == "create"
    assert entry.campaign_id == SIMPLE_ID
    assert entry.note is not None
    assert "adopts the live campaign" in entry.note
    assert [u.id for u in result.unmanaged] == [SIMPLE_ID]


def test_pending_delete_for_a_state_key_no_manifest_has() -> None:
    result = drift_of({}, [live(SMS_SIMPLE_LIVE)], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    assert (entry.kind, entry.action, entry.campaign_id, entry.name) == (
        Kind.PENDING,
        "delete",
        SIMPLE_ID,
        "Bill Reminder",
    )


def test_changed_and_pending_together_are_one_entry_whose_counts_add_up() -> None:
    doc = {**SMS_SIMPLE_LIVE, "priority": "1"}
    new = SMS_SIMPLE.replace("description: Due date reminder", "description: Pay by Friday")
    result = drift_of({"bill-reminder": item(new)}, [live(doc)], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    assert (entry.key, entry.kind, entry.kinds) == (
        "bill-reminder",
        Kind.CHANGED,
        (Kind.CHANGED, Kind.PENDING),
    )
    assert (entry.action, entry.campaign_id) == ("update", SIMPLE_ID)
    assert [(f.path, f.applied, f.live, f.manifest, f.kinds) for f in entry.fields] == [
        ("description", "Due date reminder", "Due date reminder", "Pay by Friday", (Kind.PENDING,)),
        ("priority", "3", "1", None, (Kind.CHANGED,)),
    ]
    assert entry.note == "changed outside campaign-sync; manifest changes not applied yet"
    summary = result.summary
    assert summary.to_json() == {
        "changed": 1,
        "missing": 0,
        "pending": 0,
        "unmanaged": 0,
        "inSync": 0,
        "managed": 1,
        "facets": {"changed": 1, "missing": 0, "pending": 1},
    }
    assert summary.changed + summary.missing + summary.pending + summary.in_sync == len(result.managed)
    assert summary.line() == "Drift: 1 changed, 0 missing, 0 pending, 0 unmanaged; 1 of them also pending."


def test_a_path_changed_live_and_in_the_manifest_is_one_field_with_both_kinds() -> None:
    doc = {**SMS_SIMPLE_LIVE, "description": "Edited in the UI"}
    new = SMS_SIMPLE.replace("description: Due date reminder", "description: Pay by Friday")
    result = drift_of({"bill-reminder": item(new)}, [live(doc)], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    (field,) = entry.fields
    assert (field.path, field.applied, field.live, field.manifest) == (
        "description",
        "Due date reminder",
        "Edited in the UI",
        "Pay by Friday",
    )
    assert field.kinds == (Kind.CHANGED, Kind.PENDING)
    assert entry.to_json()["fields"] == [
        {
            "path": "description",
            "applied": "Due date reminder",
            "live": "Edited in the UI",
            "manifest": "Pay by Friday",
            "kinds": ["changed", "pending"],
        }
    ]


def test_a_pending_change_carries_the_live_value() -> None:
    new = SMS_SIMPLE.replace("description: Due date reminder", "description: Pay by Friday")
    new = new.replace('priority: "3"', 'priority: "2"')
    assert 'priority: "2"' in new
    result = drift_of({"bill-reminder": item(new)}, [live(SMS_SIMPLE_LIVE)], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    assert entry.kinds == (Kind.PENDING,)
    assert [(f.path, f.applied, f.live, f.manifest, f.live_known) for f in entry.fields] == [
        ("description", "Due date reminder", "Due date reminder", "Pay by Friday", True),
        ("priority", "3", "3", "2", True),
    ]


def test_a_pending_field_the_applied_record_lacks_shows_live_all_the_same() -> None:
    # An older apply did not manage the contact lists; the manifest declares them now.
    applied_without = {k: v for k, v in SIMPLE_REC.applied.items() if k != "contactLists"}
    record = Rec(SIMPLE_ID, "sms", "Bill Reminder", applied_without)
    lists = ["CL Only 2020 Dec 4", "Renewals Q3"]
    new = SMS_SIMPLE.replace("contactLists: [CL Only 2020 Dec 4]", f"contactLists: [{', '.join(lists)}]")
    result = drift_of({"bill-reminder": item(new)}, [live(SMS_SIMPLE_LIVE)], {"bill-reminder": record})
    (entry,) = result.entries
    assert [(f.path, f.applied, f.live, f.manifest) for f in entry.fields] == [
        ("contactLists", None, SMS_SIMPLE_LIVE["contactLists"], lists)
    ]


def test_a_pending_flow_shows_the_live_flow_by_name_or_by_id() -> None:
    new = SMS_ADVANCED.replace("experienceFlowName: SMS Support Flow", "experienceFlowName: Voice Flow 2")
    assert new != SMS_ADVANCED
    state = {"interactive-support": ADV_REC}
    paired = drift_of({"interactive-support": item(new)}, [live(SMS_ADVANCED_LIVE)], state)
    (field,) = paired.entries[0].fields
    assert (field.path, field.applied, field.live, field.manifest) == (
        "experienceFlowName",
        "SMS Support Flow",
        "SMS Support Flow",
        "Voice Flow 2",
    )
    unpaired = drift_of({"interactive-support": item(new)}, [live(SMS_ADVANCED_LIVE)], state, FlowBook())
    flow = next(f for f in unpaired.entries[0].fields if f.path == "experienceFlowName")
    # An unpairable live flow is a note, never a "changed" facet (SPEC 6); the pending field
    # shows the live id as it is, never a made-up name.
    assert flow.kinds == (Kind.PENDING,)
    assert flow.live == FLOW_ID, "no pairing: the id, never a made-up name"
    assert any("cannot verify experienceFlowName" in w and FLOW_ID in w for w in unpaired.warnings)


def test_missing_and_pending_together_are_one_missing_entry_apply_recreates() -> None:
    new = SMS_SIMPLE.replace("description: Due date reminder", "description: Pay by Friday")
    result = drift_of({"bill-reminder": item(new)}, [], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    assert (entry.kind, entry.kinds, entry.action) == (Kind.MISSING, (Kind.MISSING, Kind.PENDING), "create")
    (field,) = entry.fields
    assert (field.path, field.live, field.live_known) == ("description", None, False)
    assert result.summary.to_json()["missing"] == 1
    assert result.summary.to_json()["pending"] == 0
    assert entry.note == (
        "deleted outside campaign-sync; apply creates it again; manifest changes not applied yet"
    )


def test_a_pending_create_knows_no_live_value() -> None:
    result = drift_of({"bill-reminder": item(SMS_SIMPLE)}, [live(SMS_SIMPLE_LIVE)], {})
    (entry,) = result.entries
    assert entry.campaign_id == SIMPLE_ID, "the campaign apply would adopt"
    assert all(f.live is None and not f.live_known for f in entry.fields)


def test_unmanaged_live_campaigns_are_listed_not_drift() -> None:
    other = {**SMS_SIMPLE_LIVE, "_id": "cd-9", "name": "Someone else's"}
    voice = {**VOICE_PREVIEW_LIVE, "_id": "cd-8", "name": "A voice one"}
    result = drift_of(
        IN_SYNC["desired"],  # type: ignore[arg-type]
        [*IN_SYNC["lives"], live(other), live(voice, "voice")],  # type: ignore[misc]
        IN_SYNC["state"],  # type: ignore[arg-type]
    )
    assert result.entries == ()
    assert not result.has_drift
    assert [(u.campaign_type, u.name, u.id) for u in result.unmanaged] == [
        ("sms", "Someone else's", "cd-9"),
        ("voice", "A voice one", "cd-8"),
    ]
    assert result.summary.unmanaged == 2


@pytest.mark.parametrize(
    ("base", "path", "value"), [c[1:] for c in EQUIVALENT], ids=[c[0] for c in EQUIVALENT]
)
def test_an_equivalent_spelling_live_is_not_drift(base: str, path: str, value: Any) -> None:
    manifest, doc, listed = BASES[base]
    parsed = campaign(manifest)
    ctype = parsed.campaignType
    key = parsed.key
    record = Rec(doc["_id"], ctype, doc["name"], desired_view(parsed))
    result = drift_of({key: Item(parsed)}, [live(_edit(doc, path, value), ctype, listed)], {key: record})
    assert result.entries == (), [e.to_json() for e in result.entries]


def test_values_the_api_never_returns_come_from_applied() -> None:
    # The API shows no queue_name on GET and this list item has no connection: never a false change.
    doc = copy.deepcopy(VOICE_PREVIEW_LIVE)
    record = Rec(PREVIEW_ID, "voice", "Collections Preview", applied(VOICE_PREVIEW))
    assert "queueName" in record.applied
    result = drift_of({"collections": item(VOICE_PREVIEW)}, [live(doc, "voice")], {"collections": record})
    assert result.entries == ()


def test_queue_changed_live_is_drift() -> None:
    record = Rec(PREVIEW_ID, "voice", "Collections Preview", applied(VOICE_PREVIEW))
    listed = {**VOICE_PREVIEW_ITEM, "connection": "Other Queue"}
    result = drift_of(
        {"collections": item(VOICE_PREVIEW)},
        [live(VOICE_PREVIEW_LIVE, "voice", listed)],
        {"collections": record},
    )
    (entry,) = result.entries
    assert [(f.path, f.applied, f.live) for f in entry.fields] == [
        ("queueName", "Support Queue", "Other Queue")
    ]


AGENTLESS_MANIFEST = VOICE_AGENTLESS.replace(
    "    priority: 5\n", "    priority: 5\n    enableMachineDetect: detect\n"
)
AGENTLESS_LIVE = {
    **{k: v for k, v in VOICE_PREVIEW_LIVE.items() if k not in {"maxSkips", "queue_name"}},
    "_id": "cd-4",
    "name": "Product Feedback",
    "description": "Survey",
    "priority": "5",
    "dialingMode": "Agentless",
    "experienceFlow": "cf-voice-2",
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14846550100"},
        "dialingOrder": "FIFO",
        "maxAttemptsPerRecord": 3,
        "defaultRetryPeriod": 10,
        "maxRingTime": 30,
        "callingHours": {
            "frequency": "WEEKLY",
            "timezone": "Asia/Kolkata",
            "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}],
        },
    },
}
AGENTLESS_ITEM = {"dialingMode": "Agentless", "connection": "Voice Flow 2"}


def test_machine_detect_the_api_does_not_show_is_not_drift() -> None:
    record = Rec("cd-4", "voice", "Product Feedback", applied(AGENTLESS_MANIFEST))
    assert record.applied["enableMachineDetect"] == "detect"
    result = drift_of(
        {"feedback": item(AGENTLESS_MANIFEST)},
        [live(AGENTLESS_LIVE, "voice", AGENTLESS_ITEM)],
        {"feedback": record},
        flows=FlowBook(),
    )
    assert result.entries == ()


# Flow pairing: (name, config/learned pairings, live flow id, list connection, expected fields, unverified)
FLOW_CASES: list[tuple[str, dict[str, str], str | None, dict[str, Any], list[tuple[str, Any, Any]], bool]] = [
    ("known-pairing-same-id", {"SMS Support Flow": FLOW_ID}, FLOW_ID, {}, [], False),
    (
        "known-pairing-other-known-id",
        {"SMS Support Flow": FLOW_ID, "Other Flow": "cf-other"},
        "cf-other",
        {},
        [("experienceFlowName", "SMS Support Flow", "Other Flow")],
        False,
    ),
    (
        "known-pairing-unknown-id",
        {"SMS Support Flow": FLOW_ID},
        "cf-unknown",
        {},
        [("experienceFlowName", "SMS Support Flow", "cf-unknown")],
        False,
    ),
    # SPEC 6: an id no pairing names is "cannot verify" (a warning with the fix), never a change.
    ("no-pairing-cannot-verify", {}, FLOW_ID, {}, [], True),
]


@pytest.mark.parametrize(
    ("pairs", "flow_id", "listed", "expected", "unverified"),
    [c[1:] for c in FLOW_CASES],
    ids=[c[0] for c in FLOW_CASES],
)
def test_flows_are_compared_by_name_through_the_known_pairings(
    pairs: dict[str, str], flow_id: str | None, listed: dict[str, Any], expected: list[Any], unverified: bool
) -> None:
    doc = {**SMS_ADVANCED_LIVE, "experienceFlow": flow_id}
    result = drift_of(
        {"interactive-support": item(SMS_ADVANCED)},
        [live(doc, "sms", listed)],
        {"interactive-support": ADV_REC},
        flows=FlowBook(pairs),
    )
    fields = [f for e in result.entries for f in e.fields]
    assert [(f.path, f.applied, f.live) for f in fields] == expected
    assert [f.unverified for f in fields] == [unverified] * len(fields)
    # Like plan: an unpairable id is flagged and explained, never shown as a plain change.
    assert any("cannot verify experienceFlowName" in w for w in result.warnings) == unverified


def test_agentless_flow_pairing_from_the_list_connection_is_no_drift() -> None:
    record = Rec("cd-4", "voice", "Product Feedback", applied(VOICE_AGENTLESS))
    result = drift_of(
        {"feedback": item(VOICE_AGENTLESS)},
        [live(AGENTLESS_LIVE, "voice", AGENTLESS_ITEM)],
        {"feedback": record},
        flows=FlowBook(),
    )
    assert result.entries == ()
    assert result.warnings == ()


def test_a_type_change_in_the_manifest_is_pending_not_an_error() -> None:
    voice = VOICE_PREVIEW.replace("key: collections", "key: bill-reminder")
    result = drift_of({"bill-reminder": item(voice)}, [live(SMS_SIMPLE_LIVE)], {"bill-reminder": SIMPLE_REC})
    (entry,) = result.entries
    assert entry.kind is Kind.PENDING
    assert [(f.path, f.applied, f.manifest) for f in entry.fields] == [("campaignType", "sms", "voice")]


def test_target_narrows_to_those_keys_and_lists_no_unmanaged() -> None:
    doc = {**SMS_SIMPLE_LIVE, "priority": "1"}
    other = {**SMS_SIMPLE_LIVE, "_id": "cd-9", "name": "Someone else's"}
    result = drift_of(
        IN_SYNC["desired"],  # type: ignore[arg-type]
        [live(doc), live(SMS_ADVANCED_LIVE), live(other)],
        IN_SYNC["state"],  # type: ignore[arg-type]
        targets=("interactive-support",),
    )
    assert result.entries == ()
    assert [m.key for m in result.managed] == ["interactive-support"]
    assert result.unmanaged == ()
    assert result.targets == ("interactive-support",)


def test_unknown_target_is_an_error() -> None:
    with pytest.raises(DriftError, match="--target nope: no such key"):
        drift_of({}, [], {}, targets=("nope",))


def test_json_is_the_spec_shape_and_deterministic() -> None:
    doc = {**SMS_SIMPLE_LIVE, "priority": "1", "updatedAt": "2030-01-01T00:00:00Z"}
    new = SMS_SIMPLE.replace("description: Due date reminder", "description: Pay by Friday")
    args = (
        {"bill-reminder": item(new)},
        [live(doc), live({**SMS_ADVANCED_LIVE, "_id": "cd-x"})],
        {"bill-reminder": SIMPLE_REC},
    )
    data = drift_of(*args).to_json()  # type: ignore[arg-type]
    assert set(data) >= {"formatVersion", "environment", "summary", "campaigns"}
    assert data["formatVersion"] == 1
    assert data["environment"] == "prod"
    assert data["generatedAt"] == NOW
    assert data["summary"] == {
        "changed": 1,
        "missing": 0,
        "pending": 0,
        "unmanaged": 1,
        "inSync": 0,
        "managed": 1,
        "facets": {"changed": 1, "missing": 0, "pending": 1},
    }
    (entry,) = data["campaigns"]
    assert entry["kind"] == "changed"
    assert entry["kinds"] == ["changed", "pending"]
    assert entry["action"] == "update"
    assert entry["updatedAt"] == "2030-01-01T00:00:00Z"
    assert entry["fields"] == [
        {
            "path": "description",
            "applied": "Due date reminder",
            "live": "Due date reminder",
            "manifest": "Pay by Friday",
            "kinds": ["pending"],
        },
        {"path": "priority", "applied": "3", "live": "1", "kinds": ["changed"]},
    ]
    assert data["unmanaged"] == [
        {"id": "cd-x", "name": "Interactive Support SMS Campaign", "campaignType": "sms"}
    ]
    reordered = (args[0], list(reversed(args[1])), args[2])
    assert drift_of(*reordered).to_json() == data  # type: ignore[arg-type]

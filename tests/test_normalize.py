"""Normalisation and diff, table-driven: every equivalence is no change, every real edit is one."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import urllib.parse
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from campaign_sync.core.bodies import create_body, put_body
from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.diff import compare, format_path
from campaign_sync.core.normalize import (
    FlowBook,
    decode_message,
    desired_view,
    live_view,
    project,
    recorded_view,
)
from campaign_sync.manifests.models import Campaign
from campaign_sync.manifests.parse import parse_campaign
from campaign_sync.manifests.yamlsafe import load
from tests.documents import MODES, list_item, live_document, manifest
from tests.test_manifest_rules import SMS_ADVANCED, SMS_SIMPLE, VOICE_AGENTLESS, VOICE_PREVIEW

FLOW_ID = "cf-67447605-115e-5dd2-a676-e158cf300001"
FLOWS = FlowBook({"SMS Support Flow": FLOW_ID})


def campaign(text: str) -> Campaign:
    doc = load(text, "m.yaml")
    result = parse_campaign(doc["campaigns"][0], "m.yaml", doc, ("campaigns", 0))
    assert not isinstance(result, list), result
    return result


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SMS_ADVANCED_LIVE: dict[str, Any] = {
    "_id": "cd-e7110489-a30a-5d1e-80ee-f246cc800001",
    "name": "Interactive Support SMS Campaign",
    "lname": "interactive support sms campaign",
    "description": "Chat-enabled SMS support",
    "status": "Ready",
    "dncLists": {"name": "testdnc"},
    "priority": "5",
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+919876543210"},
        "callingHours": {
            "frequency": "WEEKLY",
            "timezone": "Asia/Kolkata",
            "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}],
        },
    },
    "experienceFlow": FLOW_ID,
    "isImported": False,
    "isFiltersEnabled": False,
    "createdAt": "2025-12-05T08:16:19.398Z",
    "updatedAt": "2025-12-05T08:16:19.398Z",
    "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
    "contactLists": ["CL Only 2020 Dec 4"],
    "format": "advanced",
}

SMS_SIMPLE_LIVE: dict[str, Any] = {
    "_id": "cd-2",
    "name": "Bill Reminder",
    "description": "Due date reminder",
    "status": "Ready",
    "priority": "3",
    "message": {"message": b64("Your bill is due on Friday")},
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14155550100"},
        "callingHours": {
            "frequency": "DAILY",
            "timezone": "America/New_York",
            "days": [{"day": "FR", "start": "10:00 AM", "end": "3:00 PM"}],
        },
    },
    "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
    "contactLists": ["CL Only 2020 Dec 4"],
    "format": "simple",
}

VOICE_PREVIEW_LIVE: dict[str, Any] = {
    "_id": "cd-9e14b72-88cc-4544-9a98-7aee9b700001",
    "name": "Collections Preview",
    "lname": "collections preview",
    "description": "Overdue balances",
    "dncLists": {"id": "cl-68b802a", "name": "DNC CL Dec 4"},
    "priority": "2",
    "dialingMode": "Preview",
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14155550124"},
        "callingHours": {
            "frequency": "WEEKLY",
            "days": [{"start": "10:00 AM", "end": "4:00 PM", "day": "TU"}],
            "timezone": "America/Chicago",
        },
        "dialingOrder": "FIFO",
        "maxAttemptsPerRecord": 2,
        "defaultRetryPeriod": 120,
        "maxRingTime": 40,
        "useSystemMappings": False,
    },
    "status": "Ready",
    "isFiltersEnabled": False,
    "schedule": {"isSchedulingEnabled": False},
    "contactLists": ["CL Only 2020 Dec 4"],
    "maxSkips": 2,
}
VOICE_PREVIEW_ITEM = {
    "_id": VOICE_PREVIEW_LIVE["_id"],
    "connection": "Support Queue",
    "dialingMode": "Preview",
}


def changes(manifest: str, live: dict[str, Any], item: dict[str, Any] | None = None, flows: FlowBook = FLOWS):
    parsed = campaign(manifest)
    want = desired_view(parsed)
    have, _facts = live_view(parsed.campaignType, live, item, flows)
    have = project(have, want)
    want.pop("experienceFlowName", None)
    have.pop("experienceFlowName", None)
    return compare(have, want)


def test_documented_sample_is_in_sync() -> None:
    assert changes(SMS_ADVANCED, SMS_ADVANCED_LIVE) == []


def test_simple_and_preview_baselines_are_in_sync() -> None:
    assert changes(SMS_SIMPLE, SMS_SIMPLE_LIVE) == []
    assert changes(VOICE_PREVIEW, VOICE_PREVIEW_LIVE, VOICE_PREVIEW_ITEM) == []


def _edit(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if value is _DROP:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


_DROP = object()

# Each rule on its own: the live side spelled differently must produce no change.
EQUIVALENT: list[tuple[str, str, str, Any]] = [
    ("priority-as-number", "sms-advanced", "priority", 5),
    ("time-leading-zero-lower-case", "sms-advanced", "dialingStrategy.callingHours.days.0.start", "09:00 am"),
    ("time-no-space", "sms-advanced", "dialingStrategy.callingHours.days.0.end", "6:00PM"),
    ("timezone-case", "sms-advanced", "dialingStrategy.callingHours.timezone", "asia/kolkata"),
    ("phone-with-separators", "sms-advanced", "dialingStrategy.callerId.phoneNumber", "+91 98765-43210"),
    ("frequency-case", "sms-advanced", "dialingStrategy.callingHours.frequency", "weekly"),
    ("day-case", "sms-advanced", "dialingStrategy.callingHours.days.0.day", "mo"),
    ("server-owned-fields", "sms-advanced", "lname", "something else"),
    ("status", "sms-advanced", "status", "Completed"),
    ("timestamps", "sms-advanced", "updatedAt", "2030-01-01T00:00:00.000Z"),
    ("new-server-field", "sms-advanced", "brandNewServerField", {"x": 1}),
    ("recurrence-flag", "sms-advanced", "schedule.isRecurrenceEnabled", True),
    (
        "message-url-encoded-base64",
        "sms-simple",
        "message.message",
        urllib.parse.quote(b64("Your bill is due on Friday")),
    ),
    ("message-plain", "sms-simple", "message.message", "Your bill is due on Friday"),
    ("template-id-added", "sms-simple", "message.templateId", "cmt-1"),
    ("voice-dnc-id", "voice-preview", "dncLists.id", "cl-other"),
    (
        "voice-reordered-day",
        "voice-preview",
        "dialingStrategy.callingHours.days.0",
        {"end": "4:00 PM", "day": "TU", "start": "10:00 AM"},
    ),
    ("voice-dialing-order-case", "voice-preview", "dialingStrategy.dialingOrder", "fifo"),
    ("voice-system-mappings", "voice-preview", "dialingStrategy.useSystemMappings", True),
    ("dnc-unmanaged-on-sms", "sms-simple", "dncLists", {"name": "testdnc"}),
    ("schedule-absent-means-disabled", "sms-advanced", "schedule", _DROP),
]
BASES = {
    "sms-advanced": (SMS_ADVANCED, SMS_ADVANCED_LIVE, None),
    "sms-simple": (SMS_SIMPLE, SMS_SIMPLE_LIVE, None),
    "voice-preview": (VOICE_PREVIEW, VOICE_PREVIEW_LIVE, VOICE_PREVIEW_ITEM),
}


@pytest.mark.parametrize(
    ("base", "path", "value"), [c[1:] for c in EQUIVALENT], ids=[c[0] for c in EQUIVALENT]
)
def test_equivalent_spellings_are_no_change(base: str, path: str, value: Any) -> None:
    manifest, live, item = BASES[base]
    assert changes(manifest, _edit(live, path, value), item) == []


def test_order_of_days_and_lists_is_not_a_change() -> None:
    manifest = SMS_ADVANCED.replace("[CL Only 2020 Dec 4]", "[B list, a list]").replace(
        '          - {day: MO, start: "9:00 AM", end: "6:00 PM"}',
        '          - {day: MO, start: "9:00 AM", end: "6:00 PM"}\n          - {day: TU, start: "9:00 AM", end: "6:00 PM"}',
    )
    live = _edit(SMS_ADVANCED_LIVE, "contactLists", ["a list", "B list"])
    live = _edit(
        live,
        "dialingStrategy.callingHours.days",
        [
            {"day": "TU", "start": "9:00 AM", "end": "6:00 PM"},
            {"day": "MO", "start": "9:00 AM", "end": "6:00 PM"},
        ],
    )
    assert changes(manifest, live) == []


def test_description_absent_live_equals_empty() -> None:
    manifest = SMS_ADVANCED.replace("description: Chat-enabled SMS support", 'description: ""')
    assert changes(manifest, _edit(SMS_ADVANCED_LIVE, "description", _DROP)) == []


REAL: list[tuple[str, str, str, Any, str, Any, Any]] = [
    ("name", "sms-advanced", "name", "Old", "name", "Old", "Interactive Support SMS Campaign"),
    ("description", "sms-advanced", "description", "old", "description", "old", "Chat-enabled SMS support"),
    ("priority", "sms-advanced", "priority", "3", "priority", "3", "5"),
    (
        "day-end",
        "sms-advanced",
        "dialingStrategy.callingHours.days.0.end",
        "5:00 PM",
        "dialingStrategy.callingHours.days[MO].end",
        "5:00 PM",
        "6:00 PM",
    ),
    (
        "timezone",
        "sms-advanced",
        "dialingStrategy.callingHours.timezone",
        "UTC",
        "dialingStrategy.callingHours.timezone",
        "UTC",
        "Asia/Kolkata",
    ),
    (
        "caller",
        "sms-advanced",
        "dialingStrategy.callerId.phoneNumber",
        "+15550000000",
        "dialingStrategy.callerId.phoneNumber",
        "+15550000000",
        "+919876543210",
    ),
    (
        "contact-lists",
        "sms-advanced",
        "contactLists",
        ["Other"],
        "contactLists",
        ["Other"],
        ["CL Only 2020 Dec 4"],
    ),
    ("dnc", "sms-advanced", "dncLists.name", "other", "dncLists.name", "other", "testdnc"),
    (
        "schedule",
        "sms-advanced",
        "schedule.isSchedulingEnabled",
        True,
        "schedule.isSchedulingEnabled",
        True,
        False,
    ),
    (
        "message",
        "sms-simple",
        "message.message",
        b64("Old text"),
        "message.message",
        "Old text",
        "Your bill is due on Friday",
    ),
    ("max-ring", "voice-preview", "dialingStrategy.maxRingTime", 30, "dialingStrategy.maxRingTime", 30, 40),
    ("max-skips", "voice-preview", "maxSkips", 5, "maxSkips", 5, 2),
]


@pytest.mark.parametrize(
    ("base", "path", "value", "shown", "before", "after"), [c[1:] for c in REAL], ids=[c[0] for c in REAL]
)
def test_real_edits_are_exactly_one_change(
    base: str, path: str, value: Any, shown: str, before: Any, after: Any
) -> None:
    manifest, live, item = BASES[base]
    result = changes(manifest, _edit(live, path, value), item)
    assert [(c.path, c.before, c.after) for c in result] == [(shown, before, after)]


def test_day_added_and_removed_are_keyed_by_day() -> None:
    live = _edit(
        SMS_ADVANCED_LIVE,
        "dialingStrategy.callingHours.days",
        [{"day": "FR", "start": "9:00 AM", "end": "6:00 PM"}],
    )
    result = changes(SMS_ADVANCED, live)
    assert [(c.path, c.before, c.after) for c in result] == [
        ("dialingStrategy.callingHours.days[FR]", {"start": "9:00 AM", "end": "6:00 PM"}, None),
        ("dialingStrategy.callingHours.days[MO]", None, {"start": "9:00 AM", "end": "6:00 PM"}),
    ]


def test_queue_name_comes_from_the_list_connection() -> None:
    item = dict(VOICE_PREVIEW_ITEM, connection="Default Queue")
    result = changes(VOICE_PREVIEW, VOICE_PREVIEW_LIVE, item)
    assert [(c.path, c.before, c.after) for c in result] == [("queueName", "Default Queue", "Support Queue")]


def test_unset_fields_are_not_compared() -> None:
    # The manifest has no dncLists and no schedule: live values for them are ignored.
    live = _edit(SMS_SIMPLE_LIVE, "schedule", {"isSchedulingEnabled": True})
    assert changes(SMS_SIMPLE, live) == []


def test_flow_pairing_from_list_connection_for_agentless() -> None:
    live = {**VOICE_PREVIEW_LIVE, "dialingMode": "Agentless", "experienceFlow": "cf-voice"}
    live.pop("maxSkips")
    _view, facts = live_view(
        "voice", live, {"connection": "Voice Flow 2", "dialingMode": "Agentless"}, FlowBook()
    )
    assert (facts.flow_id, facts.flow_name) == ("cf-voice", "Voice Flow 2")


@pytest.mark.parametrize(
    ("stored", "text"),
    [
        ("Hello there", "Hello there"),
        (b64("Hello there"), "Hello there"),
        (urllib.parse.quote(b64("Héllo\nthere")), "Héllo\nthere"),
        ("abcd", "abcd"),
    ],
)
def test_messages_are_decoded_before_comparing(stored: str, text: str) -> None:
    assert decode_message(stored) == text


def test_paths_read_like_the_manifest() -> None:
    assert (
        format_path(["dialingStrategy", "callingHours", "days", "FR", "end"])
        == "dialingStrategy.callingHours.days[FR].end"
    )


def test_put_body_keeps_unmanaged_fields_and_drops_read_only_ones() -> None:
    live = _edit(SMS_SIMPLE_LIVE, "dncLists", {"name": "testdnc"})
    live["message"]["template_name"] = "Welcome"
    body = put_body(campaign(SMS_SIMPLE.replace("Due date reminder", "New")), live, None, FLOWS)
    assert body["dncLists"] == {"name": "testdnc"}
    assert body["description"] == "New"
    assert body["message"] == {"message": b64("Your bill is due on Friday"), "template_name": "Welcome"}
    assert body["campaignType"] == "sms"
    assert body["priority"] == "3"
    for key in ("_id", "id", "lname", "status", "createdAt", "updatedAt", "experienceFlow", "isImported"):
        assert key not in body
    assert body["dialingStrategy"]["callingHours"]["days"] == [
        {"day": "FR", "start": "10:00 AM", "end": "3:00 PM"}
    ]


def test_put_body_for_voice_sends_queue_and_flow_by_name() -> None:
    body = put_body(campaign(VOICE_PREVIEW), VOICE_PREVIEW_LIVE, VOICE_PREVIEW_ITEM, FLOWS)
    assert body["queue_name"] == "Support Queue"
    assert body["maxSkips"] == 2
    assert body["dncLists"] == {"name": "DNC CL Dec 4"}
    assert "useSystemMappings" not in body["dialingStrategy"]
    agentless = put_body(
        campaign(VOICE_AGENTLESS), {**VOICE_PREVIEW_LIVE, "dialingMode": "Agentless"}, None, FLOWS
    )
    assert agentless["experienceFlowName"] == "Voice Flow 2"
    assert "queue_name" not in agentless
    assert "maxSkips" not in agentless


def test_create_body_is_the_manifest_in_request_spelling() -> None:
    body = create_body(campaign(VOICE_PREVIEW))
    assert body["queue_name"] == "Support Queue"
    assert "queueName" not in body
    assert "key" not in body
    assert body["priority"] == "2"
    sms = create_body(
        campaign(
            SMS_SIMPLE.replace('      message: "Your', '      templateName: Welcome\n      message: "Your')
        )
    )
    assert sms["message"] == {"message": b64("Your bill is due on Friday"), "template_name": "Welcome"}


def test_recorded_view_keeps_what_the_api_never_shows_without_touching_the_desired_view() -> None:
    manifest = campaign(VOICE_AGENTLESS)  # leaves out enableMachineDetect, which no GET shows
    want = desired_view(manifest)
    before = copy.deepcopy(want)
    assert "enableMachineDetect" not in want
    recorded = recorded_view(manifest, want, {**want, "enableMachineDetect": "detect"})
    assert recorded["enableMachineDetect"] == "detect"
    assert {k: v for k, v in recorded.items() if k != "enableMachineDetect"} == want
    recorded["dialingStrategy"]["callingHours"]["timezone"] = "UTC"  # a copy that shares nothing
    assert want == before


def test_recorded_view_with_nothing_to_keep_is_the_desired_view_itself() -> None:
    declared = VOICE_AGENTLESS.replace(
        "    dialingStrategy:", "    enableMachineDetect: detect\n    dialingStrategy:"
    )
    manifest = campaign(declared)  # declares it: the record's value is not kept
    want = desired_view(manifest)
    assert recorded_view(manifest, want, None) is want
    assert recorded_view(manifest, want, {**want, "enableMachineDetect": "off"}) is want


def _row_by_row(campaign: Any, mode: Any = None) -> dict[str, Any]:
    """``desired_view`` as the field table spells it: every compared row, get_path then set_path."""
    from campaign_sync.core.fields import MISSING, get_path, set_path

    if mode is None:
        _ctype, mode = REGISTRY.of(campaign)
    doc = campaign.model_dump(exclude_unset=True)
    out: dict[str, Any] = {}
    for row in mode.compared_fields:
        value = get_path(doc, row.path)
        if value is not MISSING and value is not None:
            set_path(out, row.path, row.value.canon(value) if row.set_like else value)
    return out


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.sampled_from(MODES).flatmap(lambda pair: manifest(*pair)))
def test_desired_view_walks_the_row_tree_to_the_row_by_row_view_in_the_same_key_order(raw: Any) -> None:
    campaign = parse_campaign(raw, "m.yaml", raw, ("campaigns", 0))
    assert not isinstance(campaign, list), campaign
    _ctype, mode = REGISTRY.of(campaign)
    assert mode.row_tree is not None  # every mode of the table takes the walk
    view = desired_view(campaign)
    expected = _row_by_row(campaign)
    assert view == expected
    assert json.dumps(view) == json.dumps(expected)  # key order too: plans and state print views


def test_a_table_whose_groups_interleave_is_walked_row_by_row() -> None:
    _ctype, mode = REGISTRY.of(campaign(SMS_SIMPLE))
    rows = list(mode.compared_fields)
    grouped = [r for r in rows if r.path[0] == "dialingStrategy"]
    others = [r for r in rows if r.path[0] != "dialingStrategy"]
    assert len(grouped) >= 2
    assert others
    interleaved = [grouped[0], others[0], *grouped[1:], *others[1:]]  # a.x, b, a.y
    assert dataclasses.replace(mode, nodes=tuple(interleaved)).row_tree is None
    assert dataclasses.replace(mode, nodes=(*grouped, *others)).row_tree is not None
    leaf_and_group = [*rows, dataclasses.replace(grouped[0], path=("dialingStrategy",))]
    assert dataclasses.replace(mode, nodes=tuple(leaf_and_group)).row_tree is None


def test_desired_view_of_a_mode_without_a_row_tree_is_built_row_by_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import campaign_sync.core.normalize as normalize

    manifest = campaign(SMS_SIMPLE)
    ctype, mode = REGISTRY.of(manifest)
    rows = list(mode.compared_fields)
    grouped = [r for r in rows if r.path[0] == "dialingStrategy"]
    others = [r for r in rows if r.path[0] != "dialingStrategy"]
    # ``a.y, b, a.x`` with ``a.y`` unset: row by row, ``b`` comes before ``a``
    interleaved = dataclasses.replace(mode, nodes=(grouped[-1], *others, *grouped[:-1]))
    assert interleaved.row_tree is None

    class OneMode:
        def of(self, _campaign: Any) -> Any:
            return ctype, interleaved

    monkeypatch.setattr(normalize, "REGISTRY", OneMode())
    view = desired_view(manifest)
    expected = _row_by_row(manifest, interleaved)
    assert view == expected == _row_by_row(manifest)
    assert json.dumps(view) == json.dumps(expected)
    assert "dialingStrategy" in view
    assert list(view) != list(_row_by_row(manifest))  # the order differs from the tree's walk


def _live_row_by_row(campaign_type: str, doc: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """``live_view``'s shown fields as the field table spells them: ``_shown`` then ``set_path``."""
    from campaign_sync.core.fields import MISSING, ReadBack, set_path
    from campaign_sync.core.normalize import _shown, live_rows, live_value

    ctype = REGISTRY.get(campaign_type)
    out: dict[str, Any] = {}
    for row in live_rows(ctype, ctype.mode_of(doc, item)):
        if row.read_back is ReadBack.SHOWN:
            value = _shown(row, doc, checked=False)
            if value is MISSING:
                value = row.live_default
            if value is not MISSING and value is not None:
                set_path(out, row.path, value)
            continue
        value, source = live_value(row, doc, item, FLOWS, None)
        if value is not MISSING and source is not None:
            set_path(out, row.path, value)
    return out


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(MODES).flatmap(lambda pair: live_document(*pair).map(lambda doc: (pair, doc))))
@example(((("sms", "simple")), {"dialingStrategy": None, "message": "text", "format": "simple"}))
@example(((("voice", "Preview")), {"dialingStrategy": {"callingHours": ["MO"]}, "dialingMode": "Preview"}))
@example(((("voice", "Agentless")), {"dialingStrategy": MappingProxyType({"maxRingTime": 30})}))
@example(((("sms", "simple")), {"format": "unknown", "name": "N", "priority": 3, "contactLists": ["b", "A"]}))
@example(((("voice", "Preview")), {"dialingMode": None, "name": "N", "description": "d", "priority": "1"}))
def test_live_view_reads_shown_fields_as_the_row_by_row_reading_does(case: Any) -> None:
    (ctype, mode), doc = case
    item = list_item(ctype, mode, doc) if "_id" in doc else {}
    view, _facts = live_view(ctype, doc, item, FLOWS)
    expected = _live_row_by_row(ctype, doc, item)
    flowless = {k: v for k, v in view.items() if k != "experienceFlowName"}
    assert flowless == {k: v for k, v in expected.items() if k != "experienceFlowName"}
    assert json.dumps(flowless) == json.dumps(
        {k: v for k, v in expected.items() if k != "experienceFlowName"}
    )

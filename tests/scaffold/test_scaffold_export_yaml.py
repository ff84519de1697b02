"""export.py, the pure half of `export`: keys, manifest fields, and YAML that reads back exactly."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from campaign_sync.core.normalize import FlowBook, encode_message
from campaign_sync.manifests.export import (
    ExportedCampaign,
    ExportProblem,
    LiveRecord,
    Placeholder,
    assign_keys,
    group,
    manifest_fields,
    render,
    slug,
)
from campaign_sync.manifests.loader import parse_file
from campaign_sync.manifests.models.common import KEY_PATTERN
from campaign_sync.manifests.yamlsafe import load

FLOW_ID = "cf-dc1fdd73-fa87-5044-9742-a7a5eb76c4f3"
HOURS = {
    "frequency": "weekly",
    "timezone": "asia/kolkata",
    "days": [
        {"start": "2:00 PM", "end": "6:00 PM", "day": "mo"},
        {"day": "FR", "start": "09:00 am", "end": "5:00 PM"},
        {"day": "MO", "start": "9:00 AM", "end": "12:00 PM"},
    ],
}


def record(doc: dict[str, Any], ctype: str = "sms", item: dict[str, Any] | None = None) -> LiveRecord:
    return LiveRecord("cd-1", ctype, str(doc.get("name", "")), doc, item or {})


def sms(**extra: Any) -> dict[str, Any]:
    return {
        "_id": "cd-1",
        "name": "Bill Reminder",
        "lname": "bill reminder",
        "description": "Due date reminder",
        "status": "Ready",
        "contactLists": ["Renewals Q3", "CL Only 2020 Dec 4"],
        "priority": "3",
        "format": "simple",
        "message": {"message": encode_message("Your bill is due on Friday")},
        "dialingStrategy": {"callerId": {"phoneNumber": "+1 (415) 555-0100"}, "callingHours": HOURS},
        "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
        "createdAt": "2026-01-01T00:00:00.000Z",
        **extra,
    }


def voice(mode: str, **extra: Any) -> dict[str, Any]:
    return {
        "_id": "cd-2",
        "name": "Renewals",
        "description": "Agents call",
        "contactLists": ["CL Only 2020 Dec 4"],
        "dncLists": {"id": "cl-1", "name": "DNC CL Dec 4"},
        "priority": "4",
        "dialingMode": mode,
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+14155550123"},
            "callingHours": HOURS,
            "dialingOrder": "lifo",
            "maxAttemptsPerRecord": 5,
            "defaultRetryPeriod": 60,
            "maxRingTime": 25,
            "useSystemMappings": False,
        },
        "schedule": {"isSchedulingEnabled": True},
        **extra,
    }


# --- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Bill Reminder", "bill-reminder"),
        ("Promo!", "promo"),
        ("  Über Café -- 2024 ", "uber-cafe-2024"),
        ("Q3.Renewals_v2", "q3.renewals_v2"),
        ("...dots...", "dots"),
        ("日本語", "campaign"),
        ("", "campaign"),
        ("x" * 100, "x" * 64),
        ("a" * 63 + " b", "a" * 63),
    ],
)
def test_slug_is_a_valid_key(name: str, key: str) -> None:
    assert slug(name) == key
    assert re.match(KEY_PATTERN, key)


def test_keys_are_unique_in_a_stable_order_and_avoid_taken_ones() -> None:
    records = [LiveRecord(cid, "sms", name, {}, {}) for cid, name in [("b", "promo"), ("a", "Promo!")]]
    keys = assign_keys(records, taken={"promo-2"}, state_keys={})
    assert keys == {"b": "promo", "a": "promo-3"}
    assert assign_keys(list(reversed(records)), taken={"promo-2"}, state_keys={}) == keys


def test_a_managed_campaign_keeps_its_state_key_when_free() -> None:
    records = [LiveRecord("a", "sms", "Bill Reminder", {}, {}), LiveRecord("b", "sms", "Other", {}, {})]
    keys = assign_keys(records, taken={"other"}, state_keys={"a": "bills", "b": "other"})
    assert keys == {"a": "bills", "b": "other-2"}


def test_suffixed_long_keys_stay_within_64_characters() -> None:
    records = [LiveRecord(str(i), "sms", "y" * 80, {}, {}) for i in range(3)]
    keys = sorted(assign_keys(records, taken=(), state_keys={}).values())
    assert keys == ["y" * 62 + "-2", "y" * 62 + "-3", "y" * 64]
    assert all(re.match(KEY_PATTERN, k) for k in keys)


# --- fields ----------------------------------------------------------------------------------


def test_a_simple_sms_in_the_order_and_spelling_a_person_writes() -> None:
    campaign = manifest_fields("bill", record(sms()), FlowBook())
    assert list(campaign.fields) == [
        "key",
        "campaignType",
        "name",
        "description",
        "contactLists",
        "priority",
        "format",
        "message",
        "dialingStrategy",
        "schedule",
    ]
    fields = campaign.fields
    assert fields["priority"] == 3
    assert fields["contactLists"] == ["Renewals Q3", "CL Only 2020 Dec 4"]
    assert fields["message"] == {"message": "Your bill is due on Friday"}
    assert fields["dialingStrategy"] == {
        "callerId": {"phoneNumber": "+14155550100"},
        "callingHours": {
            "frequency": "WEEKLY",
            "timezone": "Asia/Kolkata",
            "days": [
                {"day": "MO", "start": "9:00 AM", "end": "12:00 PM"},
                {"day": "MO", "start": "2:00 PM", "end": "6:00 PM"},
                {"day": "FR", "start": "9:00 AM", "end": "5:00 PM"},
            ],
        },
    }
    assert fields["schedule"] == {"isSchedulingEnabled": False}
    assert campaign.placeholders == ()


def test_template_and_url_encoded_messages_are_plain_text() -> None:
    doc = sms(message={"template_name": "Welcome", "templateId": "cmt-1", "message": "V2VsY29tZQ%3D%3D"})
    fields = manifest_fields("w", record(doc), FlowBook()).fields
    assert list(fields["message"].items()) == [("templateName", "Welcome"), ("message", "Welcome")]


def test_advanced_sms_flow_by_name_from_the_known_pairings() -> None:
    doc = sms(format="advanced", experienceFlow=FLOW_ID, message=None)
    campaign = manifest_fields("s", record(doc), FlowBook({"SMS Support Flow": FLOW_ID}))
    assert campaign.fields["experienceFlowName"] == "SMS Support Flow"
    assert "message" not in campaign.fields
    assert campaign.placeholders == ()


def test_an_unknown_flow_id_becomes_a_visible_placeholder_with_a_comment() -> None:
    doc = sms(format="advanced", experienceFlow=FLOW_ID)
    campaign = manifest_fields("s", record(doc), FlowBook())
    value = f"REPLACE-WITH-FLOW-NAME {FLOW_ID}"
    assert campaign.fields["experienceFlowName"] == value
    (hole,) = campaign.placeholders
    assert hole.field == "experienceFlowName"
    assert FLOW_ID in hole.warning
    text = render([campaign])
    (line,) = [line for line in text.splitlines() if "experienceFlowName" in line]
    assert line.startswith(f'    experienceFlowName: "{value}"  # ')
    assert "experienceFlows" in line
    assert "campaign-sync.yaml" in line


def test_agentless_voice_flow_name_comes_from_the_list_items_connection() -> None:
    doc = voice("agentless", experienceFlow="cf-2", enableMachineDetect="detect")
    campaign = manifest_fields("v", record(doc, "voice", {"connection": "Voice Flow 2"}), FlowBook())
    assert list(campaign.fields)[6:11] == [
        "priority",
        "dialingMode",
        "experienceFlowName",
        "enableMachineDetect",
        "dialingStrategy",
    ]
    assert campaign.fields["experienceFlowName"] == "Voice Flow 2"
    assert campaign.fields["enableMachineDetect"] == "detect"
    strategy = campaign.fields["dialingStrategy"]
    assert list(strategy) == [
        "callerId",
        "dialingOrder",
        "maxAttemptsPerRecord",
        "defaultRetryPeriod",
        "maxRingTime",
        "callingHours",
    ]
    assert strategy["dialingOrder"] == "LIFO"
    assert campaign.fields["dncLists"] == {"name": "DNC CL Dec 4"}


def test_agentless_machine_detect_shown_as_a_boolean_is_left_unmanaged() -> None:
    doc = voice("Agentless", experienceFlow="cf-2", enableMachineDetect=False)
    fields = manifest_fields("v", record(doc, "voice", {"connection": "Voice Flow 2"}), FlowBook()).fields
    assert "enableMachineDetect" not in fields


def test_queued_voice_takes_the_queue_from_the_connection_and_preview_keeps_max_skips() -> None:
    progressive = manifest_fields(
        "p", record(voice("Progressive"), "voice", {"connection": "Default Queue"}), FlowBook()
    )
    assert progressive.fields["queueName"] == "Default Queue"
    assert progressive.placeholders == ()
    preview = manifest_fields(
        "q", record(voice("Preview", maxSkips=2), "voice", {"connection": "Q"}), FlowBook()
    )
    assert list(preview.fields)[7:10] == ["dialingMode", "queueName", "maxSkips"]
    missing = manifest_fields("m", record(voice("Progressive"), "voice"), FlowBook())
    assert missing.fields["queueName"] == "REPLACE-WITH-QUEUE-NAME"
    assert [p.field for p in missing.placeholders] == ["queueName"]


@pytest.mark.parametrize(("ctype", "doc"), [("sms", sms(format="mms")), ("voice", voice("Robocall"))])
def test_an_unknown_format_or_mode_cannot_be_exported(ctype: str, doc: dict[str, Any]) -> None:
    with pytest.raises(ExportProblem):
        manifest_fields("x", record(doc, ctype), FlowBook())


# --- YAML ------------------------------------------------------------------------------------

TRICKY = [
    "yes",
    "No",
    "on",
    "true",
    "null",
    "~",
    "123",
    "1e3",
    "0x10",
    "017",
    "1_000",
    "2024-01-01",
    "10:00",
    "a: b",
    "- x",
    "#tag",
    "x # y",
    "[a]",
    "{a}",
    "'single'",
    '"double"',
    "a,b",
    "tab\there",
    "new\nline",
    "sep\u2028arator",
    "nel\x85",
    "bom\ufeff",
    "del\x7f",
    "emoji 🎉 and Ünïcödé",
    "trailing ",
    " leading",
    "",
    "@at",
    "`tick",
    "%pct",
    "!bang",
    "&amp",
    "*star",
    "a  b",
    "back\\slash",
    "Plain Name (v2) & co.",
]


@pytest.mark.parametrize("value", TRICKY)
def test_any_string_reads_back_exactly_with_our_loader_and_yaml_1_1(value: str) -> None:
    fields = {
        "key": "k",
        "campaignType": "sms",
        "name": value,
        "description": value,
        "contactLists": [value, "Other"],
        "priority": 3,
        "format": "simple",
        "message": {"templateName": value, "message": value},
        "dialingStrategy": {"callerId": {"phoneNumber": value}},
    }
    text = render([ExportedCampaign("k", "sms", value, "cd-1", fields)])
    expected = {"campaigns": [fields]}
    assert load(text, "t.yaml") == expected
    assert yaml.safe_load(text) == expected, "YAML 1.1 tools read the same values"


def test_plain_names_stay_plain_and_times_and_phones_are_quoted() -> None:
    campaign = manifest_fields("bill", record(sms()), FlowBook())
    text = render([campaign], header=["Exported.", ""])
    assert text.startswith("# Exported.\n#\ncampaigns:\n  - key: bill\n    campaignType: sms\n")
    assert "    name: Bill Reminder\n" in text
    assert "    contactLists: [Renewals Q3, CL Only 2020 Dec 4]\n" in text
    assert '      callerId: {phoneNumber: "+14155550100"}\n' in text
    assert '          - {day: MO, start: "9:00 AM", end: "12:00 PM"}\n' in text
    assert "    schedule: {isSchedulingEnabled: false}\n" in text
    assert '      message: "Your bill is due on Friday"\n' in text


def test_the_rendered_file_is_a_valid_manifest_and_stable() -> None:
    campaigns = [
        manifest_fields("bill", record(sms()), FlowBook()),
        manifest_fields("renewals", record(voice("Progressive"), "voice", {"connection": "Q"}), FlowBook()),
    ]
    text = render(campaigns)
    assert render(campaigns) == text
    found, issues = parse_file("manifests/x.yaml", text)
    assert issues == []
    assert [c.key for c in found] == ["bill", "renewals"]


def test_files_per_campaign_or_per_type() -> None:
    def exported(key: str, ctype: str) -> ExportedCampaign:
        return ExportedCampaign(key, ctype, key, key, {"key": key})

    campaigns = [exported("b", "voice"), exported("a", "sms"), exported("c", "sms")]
    assert {k: [c.key for c in v] for k, v in group(campaigns, "per-campaign").items()} == {
        "a.yaml": ["a"],
        "b.yaml": ["b"],
        "c.yaml": ["c"],
    }
    assert {k: [c.key for c in v] for k, v in group(campaigns, "per-type").items()} == {
        "sms.yaml": ["a", "c"],
        "voice.yaml": ["b"],
    }
    with pytest.raises(ValueError, match="layout"):
        group(campaigns, "per-moon")


def test_a_placeholder_comment_is_not_part_of_the_value() -> None:
    hole = Placeholder("queueName", "REPLACE-WITH-QUEUE-NAME", "write the queue here", "w")
    fields = {"key": "k", "queueName": "REPLACE-WITH-QUEUE-NAME"}
    text = render([ExportedCampaign("k", "voice", "n", "cd-1", fields, (hole,))])
    assert '    queueName: "REPLACE-WITH-QUEUE-NAME"  # write the queue here\n' in text
    assert load(text, "t.yaml") == {"campaigns": [fields]}

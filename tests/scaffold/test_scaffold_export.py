"""`campaign-sync export` end to end: the real command against the emulator on 127.0.0.1."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from campaign_sync.manifests.yamlsafe import load
from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import FLOWS_CONFIG, base_seed

pytestmark = pytest.mark.e2e

SMS_FLOW = "cf-dc1fdd73-fa87-5044-9742-a7a5eb76c4f3"
HOURS = {"frequency": "WEEKLY", "timezone": "America/New_York"}


def sms(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} description",
        "contactLists": ["CL Only 2020 Dec 4"],
        "priority": "2",
        "format": "simple",
        "campaignType": "sms",
        "message": {"message": "SGVsbG8gdGhlcmU="},
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+14155550100"},
            "callingHours": {**HOURS, "days": [{"day": "MO", "start": "9:00 AM", "end": "5:00 PM"}]},
        },
        **extra,
    }


TEMPLATE_SMS = sms(
    "Welcome Series",
    message={"template_name": "Welcome", "message": "V2VsY29tZSBhYm9hcmQh"},
    dncLists={"name": "testdnc"},
)
PROGRESSIVE = {
    "name": "Policy Renewals",
    "description": "Agents call customers whose policy renews this month",
    "contactLists": ["CL Only 2020 Dec 4", "Renewals Q3"],
    "dncLists": {"name": "DNC CL Dec 4"},
    "priority": 4,
    "campaignType": "voice",
    "dialingMode": "Progressive",
    "queue_name": "Default Queue",
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14155550123"},
        "dialingOrder": "LIFO",
        "maxAttemptsPerRecord": 5,
        "defaultRetryPeriod": 60,
        "maxRingTime": 25,
        "callingHours": {
            "frequency": "WEEKLY",
            "timezone": "Europe/London",
            "days": [
                {"day": "WE", "start": "08:30 am", "end": "5:30 PM"},
                {"day": "MO", "start": "8:30 AM", "end": "5:30 PM"},
            ],
        },
    },
}
ALL_KEYS = {
    "bill-reminder",
    "collections-preview",
    "interactive-support-sms-campaign",
    "policy-renewals",
    "product-feedback-voice-campaign",
    "welcome-series",
}


@pytest.fixture
def live(emulator: Emulator) -> Emulator:
    seed = base_seed()
    seed["campaigns"] += [TEMPLATE_SMS, PROGRESSIVE]
    emulator.seed(seed)
    emulator.clear_journal()
    return emulator


def files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


def keys_in(folder: Path) -> set[str]:
    return {c["key"] for text in files(folder).values() for c in load(text, "x")["campaigns"]}


def test_round_trip_export_then_validate_then_plan_shows_no_changes(ws: Workspace, live: Emulator) -> None:
    ws.write_config(FLOWS_CONFIG)

    exported = ws.run("export", "--output-dir", "manifests")

    assert exported.code == 0, exported.both
    folder = ws.root / "manifests"
    assert set(files(folder)) == {f"{key}.yaml" for key in ALL_KEYS}
    assert "Exported 6 campaigns (3 sms, 3 voice); 0 placeholders to fill in." in exported.out
    assert "campaign-sync import" in exported.out
    assert "Warning" not in exported.err
    assert live.writes() == [], "export reads only"

    validated = ws.run("validate")
    assert validated.code == 0, validated.both
    assert "OK: 6 campaigns (3 sms, 3 voice) in 6 manifest files" in validated.out

    planned = ws.run("plan", "--detailed-exitcode")
    assert planned.code == 0, planned.both
    assert "No changes" in planned.out
    assert "6 unchanged" in planned.out
    assert "Adopted by name" in planned.out
    assert live.writes() == []


def test_exported_files_read_as_a_person_would_write_them(ws: Workspace, live: Emulator) -> None:
    ws.write_config(FLOWS_CONFIG)
    assert ws.run("export", "--output-dir", "first").code == 0
    folder = ws.root / "first"

    welcome = files(folder)["welcome-series.yaml"]
    assert "      templateName: Welcome\n" in welcome
    assert '      message: "Welcome aboard!"\n' in welcome, "SMS text decoded to plain text"
    renewals = files(folder)["policy-renewals.yaml"]
    assert "    priority: 4\n" in renewals
    assert "    queueName: Default Queue\n" in renewals
    assert renewals.index("day: MO") < renewals.index("day: WE"), "days in week order"
    assert '          - {day: WE, start: "8:30 AM", end: "5:30 PM"}\n' in renewals
    interactive = files(folder)["interactive-support-sms-campaign.yaml"]
    assert "    experienceFlowName: SMS Support Flow\n" in interactive

    again = ws.run("export", "--output-dir", "second")
    assert again.code == 0, again.both
    assert files(ws.root / "second") == files(folder), "identical input, byte-identical files"


def test_an_unknown_flow_pairing_gives_a_marked_placeholder_and_a_warning(
    ws: Workspace, live: Emulator
) -> None:
    exported = ws.run("export", "--output-dir", "manifests")

    assert exported.code == 0, exported.both
    text = files(ws.root / "manifests")["interactive-support-sms-campaign.yaml"]
    (line,) = [line for line in text.splitlines() if "experienceFlowName" in line]
    assert line.startswith(f'    experienceFlowName: "REPLACE-WITH-FLOW-NAME {SMS_FLOW}"  # ')
    assert "experienceFlows" in line
    assert (
        f"Warning: interactive-support-sms-campaign: experience flow {SMS_FLOW} has no known name"
        in exported.err
    )
    assert "1 placeholder to fill in" in exported.out
    assert "Replace each REPLACE-WITH-... placeholder" in exported.out
    feedback = files(ws.root / "manifests")["product-feedback-voice-campaign.yaml"]
    assert "    experienceFlowName: Voice Flow 2\n" in feedback, "Agentless: named by the list's connection"
    assert ws.run("validate").code == 0


def test_flow_names_learned_in_state_are_used(ws: Workspace, live: Emulator) -> None:
    ws.state_path.parent.mkdir(parents=True)
    ws.state_path.write_text(
        json.dumps(
            {
                "version": 1,
                "serial": 1,
                "lineage": str(uuid.uuid4()),
                "toolVersion": "0.1.0",
                "flows": {"SMS Support Flow": SMS_FLOW},
                "campaigns": {},
            }
        )
    )

    exported = ws.run("export", "--output-dir", "manifests", "--name-regex", "Interactive")

    assert exported.code == 0, exported.both
    assert "Warning" not in exported.err
    text = files(ws.root / "manifests")["interactive-support-sms-campaign.yaml"]
    assert "    experienceFlowName: SMS Support Flow\n" in text


def test_type_and_name_filters(ws: Workspace, live: Emulator) -> None:
    voice = ws.run("export", "--type", "voice", "--output-dir", "voice")
    assert voice.code == 0, voice.both
    assert keys_in(ws.root / "voice") == {
        "collections-preview",
        "policy-renewals",
        "product-feedback-voice-campaign",
    }
    sms_lists = [e for e in live.journal() if (e["body"] or {}).get("type") == "sms"]
    assert sms_lists == [], "--type voice lists voice campaigns only"

    named = ws.run("export", "--name-regex", "^(Bill|Policy)", "--output-dir", "named")
    assert named.code == 0, named.both
    assert keys_in(ws.root / "named") == {"bill-reminder", "policy-renewals"}
    assert live.count("GET") == 3 + 2, "only matching campaigns are read"

    both = ws.run("export", "--type", "sms", "--name-regex", "(?i)series", "--output-dir", "both")
    assert keys_in(ws.root / "both") == {"welcome-series"}, both.both

    bad = ws.run("export", "--name-regex", "(")
    assert bad.code == 1
    assert "--name-regex" in bad.err


def test_layout_per_type_groups_campaigns_in_sms_and_voice_files(ws: Workspace, live: Emulator) -> None:
    ws.write_config(FLOWS_CONFIG)
    exported = ws.run("export", "--layout", "per-type", "--output-dir", "manifests")

    assert exported.code == 0, exported.both
    written = files(ws.root / "manifests")
    assert set(written) == {"sms.yaml", "voice.yaml"}
    sms_keys = [c["key"] for c in load(written["sms.yaml"], "s")["campaigns"]]
    assert sms_keys == ["bill-reminder", "interactive-support-sms-campaign", "welcome-series"]
    assert "\n\n  - key: interactive-support-sms-campaign\n" in written["sms.yaml"]
    assert ws.run("validate").code == 0
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_refuses_to_overwrite_before_writing_anything(ws: Workspace, live: Emulator) -> None:
    existing = ws.write("manifests/exported/bill-reminder.yaml", "# mine\n")

    refused = ws.run("export")

    assert refused.code == 1
    assert "refusing to overwrite 1 existing file" in refused.err
    assert "bill-reminder.yaml" in refused.err
    assert "--force" in refused.err
    assert existing.read_text() == "# mine\n"
    assert sorted(p.name for p in existing.parent.iterdir()) == ["bill-reminder.yaml"], "nothing written"

    forced = ws.run("export", "--force")
    assert forced.code == 0, forced.both
    assert existing.read_text().startswith("# Exported from environment test")
    assert len(files(existing.parent)) == 6


def test_keys_are_unique_and_never_collide_with_existing_manifests(ws: Workspace, emulator: Emulator) -> None:
    emulator.seed({"campaigns": [sms("Promo!"), sms("promo"), sms("PROMO 2")]})
    ws.write(
        "manifests/mine.yaml",
        """\
        campaigns:
          - key: promo
            campaignType: sms
            name: Spring Sale
            description: Not live yet
            contactLists: [CL Only 2020 Dec 4]
            priority: 1
            format: simple
            message: {message: Hello}
            dialingStrategy:
              callerId: {phoneNumber: "+14155550100"}
              callingHours:
                frequency: WEEKLY
                timezone: America/New_York
                days:
                  - {day: MO, start: "9:00 AM", end: "5:00 PM"}
        """,
    )

    exported = ws.run("export")

    assert exported.code == 0, exported.both
    by_name = {
        c["name"]: c["key"]
        for text in files(ws.root / "manifests" / "exported").values()
        for c in load(text, "x")["campaigns"]
    }
    assert by_name == {"promo": "promo-2", "PROMO 2": "promo-2-2", "Promo!": "promo-3"}
    validated = ws.run("validate")
    assert validated.code == 0, validated.both
    assert "4 campaigns" in validated.out


def test_campaigns_already_in_the_manifests_are_skipped_unless_asked(ws: Workspace, live: Emulator) -> None:
    ws.write_config(FLOWS_CONFIG)
    assert ws.run("export", "--output-dir", "manifests", "--name-regex", "^Bill").code == 0

    again = ws.run("export", "--name-regex", "^(Bill|Policy)")

    assert again.code == 0, again.both
    assert keys_in(ws.root / "manifests" / "exported") == {"policy-renewals"}
    assert "1 skipped (already in the manifests)" in again.out
    assert ws.run("validate").code == 0

    every = ws.run("export", "--name-regex", "^Bill", "--include-managed", "--output-dir", "copy")
    assert every.code == 0, every.both
    assert keys_in(ws.root / "copy") == {"bill-reminder-2"}


def test_an_output_folder_outside_the_manifests_is_pointed_out(ws: Workspace, live: Emulator) -> None:
    exported = ws.run("export", "--output-dir", "elsewhere", "--type", "sms")

    assert exported.code == 0, exported.both
    assert "elsewhere is not under the manifests paths of campaign-sync.yaml" in exported.out
    inside = ws.run("export", "--type", "voice")
    assert "not under the manifests paths" not in inside.out


def test_nothing_to_export_is_said_plainly(ws: Workspace, live: Emulator) -> None:
    result = ws.run("export", "--name-regex", "no campaign has this name")

    assert result.code == 0, result.both
    assert "Nothing to export" in result.out
    assert not (ws.root / "manifests" / "exported").exists()

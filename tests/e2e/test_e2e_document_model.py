"""The two defects one model of the campaign document fixes, end to end against the emulator.

* Data loss on update: an Agentless voice campaign created with ``enableMachineDetect:
  disconnect``, adopted by a manifest that leaves the field out, then given a new description.
  The API never shows the field, so the PUT carries it only when the manifest or the state knows
  it; otherwise the plan warns (and ``validate`` recommends declaring it).
* False change: with no ``experienceFlows`` pairing and no state, an advanced SMS campaign whose
  content matches its manifest is a note ("cannot verify", with the fix), not a change: exit 0
  under ``--detailed-exitcode`` and no PUT; ``apply --write-unverified`` writes it once and
  learns the pairing.

The real command runs against the emulator over HTTP; the journal says what was written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import ADVANCED, setup

pytestmark = pytest.mark.e2e

SURVEY = "Product Feedback Voice Campaign"
AGENTLESS_BODY: dict[str, Any] = {
    "name": SURVEY,
    "description": "Automated post-purchase survey",
    "contactLists": ["CL Only 2020 Dec 4"],
    "dncLists": {"name": "DNC CL Dec 4"},
    "priority": "5",
    "campaignType": "voice",
    "dialingMode": "Agentless",
    "experienceFlowName": "Voice Flow 2",
    "enableMachineDetect": "disconnect",
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
    "schedule": {"isSchedulingEnabled": False},
}


def survey_manifest(description: str, machine_detect: str | None = None) -> str:
    line = f"    enableMachineDetect: {machine_detect}\n" if machine_detect else ""
    return f"""\
campaigns:
  - key: product-feedback
    campaignType: voice
    name: {SURVEY}
    description: {description}
    contactLists: [CL Only 2020 Dec 4]
    dncLists: {{name: DNC CL Dec 4}}
    priority: 5
    dialingMode: Agentless
    experienceFlowName: Voice Flow 2
{line}    dialingStrategy:
      callerId: {{phoneNumber: "+14846550100"}}
      dialingOrder: FIFO
      maxAttemptsPerRecord: 3
      defaultRetryPeriod: 10
      maxRingTime: 30
      callingHours:
        frequency: WEEKLY
        timezone: Asia/Kolkata
        days:
          - {{day: MO, start: "9:00 AM", end: "6:00 PM"}}
    schedule: {{isSchedulingEnabled: false}}
"""


def puts(emulator: Emulator) -> list[dict[str, Any]]:
    return [e for e in emulator.journal() if e["method"] == "PUT"]


def seed_survey(ws: Workspace, emulator: Emulator) -> str:
    ids = emulator.seed({"campaigns": [AGENTLESS_BODY]})
    emulator.clear_journal()
    return ids[SURVEY]


def test_an_undeclared_value_the_api_never_shows_is_warned_about_before_the_put(
    ws: Workspace, emulator: Emulator
) -> None:
    campaign = seed_survey(ws, emulator)
    assert emulator.campaign(campaign)["enableMachineDetect"] == "disconnect"
    ws.write("manifests/voice.yaml", survey_manifest("A new description"))

    checked = ws.run("validate")
    assert checked.code == 0, checked.both
    assert "product-feedback.enableMachineDetect: not declared" in checked.err
    assert "declare it (no | detect | disconnect)" in checked.err

    planned = ws.run("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.both
    assert "description" in planned.out
    assert "product-feedback: the update may reset enableMachineDetect" in planned.out
    emulator.clear_journal()

    applied = ws.run("apply", "--auto-approve")
    assert applied.code == 0, applied.both
    assert "may reset enableMachineDetect" in applied.out  # the plan apply shows warns too
    (put,) = puts(emulator)
    assert "enableMachineDetect" not in put["body"]  # nothing knew it: this is what the plan warned of


def test_a_declared_value_the_api_never_shows_is_in_the_put(ws: Workspace, emulator: Emulator) -> None:
    campaign = seed_survey(ws, emulator)
    ws.write("manifests/voice.yaml", survey_manifest("A new description", "disconnect"))
    planned = ws.run("plan")
    assert planned.code == 0, planned.both
    assert "may reset" not in planned.out
    emulator.clear_journal()

    applied = ws.run("apply", "--auto-approve")
    assert applied.code == 0, applied.both
    (put,) = puts(emulator)
    assert put["body"]["enableMachineDetect"] == "disconnect"
    assert put["body"]["description"] == "A new description"
    assert emulator.campaign(campaign)["enableMachineDetect"] == "disconnect"


def test_a_value_the_api_never_shows_is_carried_from_the_state_when_the_manifest_drops_it(
    ws: Workspace, emulator: Emulator
) -> None:
    campaign = seed_survey(ws, emulator)
    ws.write("manifests/voice.yaml", survey_manifest("First description", "disconnect"))
    first = ws.run("apply", "--auto-approve")
    assert first.code == 0, first.both
    assert ws.state()["campaigns"]["product-feedback"]["applied"]["enableMachineDetect"] == "disconnect"

    ws.write("manifests/voice.yaml", survey_manifest("Second description"))
    planned = ws.run("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.both
    assert "may reset" not in planned.out
    emulator.clear_journal()

    applied = ws.run("apply", "--auto-approve")
    assert applied.code == 0, applied.both
    (put,) = puts(emulator)
    assert put["body"]["enableMachineDetect"] == "disconnect"
    assert put["body"]["description"] == "Second description"
    assert emulator.campaign(campaign)["enableMachineDetect"] == "disconnect"
    # still known for the next update: what campaign-sync last wrote
    assert ws.state()["campaigns"]["product-feedback"]["applied"]["enableMachineDetect"] == "disconnect"
    again = ws.run("plan", "--detailed-exitcode")
    assert again.code == 0, again.both


def unpaired(ws: Workspace, emulator: Emulator) -> None:
    """The base campaigns live, the base manifests, no experienceFlows pairing and no state."""
    setup(ws, emulator, adopt=False)
    ws.write_config("")


def test_an_unpaired_flow_that_matches_is_a_note_not_a_change(ws: Workspace, emulator: Emulator) -> None:
    unpaired(ws, emulator)
    planned = ws.run("plan", "--detailed-exitcode")
    assert planned.code == 0, planned.both
    assert "Plan: 0 to create, 0 to update, 0 to delete" in planned.out
    assert 'cannot verify experienceFlowName "SMS Support Flow"' in planned.out
    assert "experienceFlows" in planned.out
    assert "apply --write-unverified" in planned.out

    as_json = json.loads(ws.run("plan", "--format", "json").out)
    assert as_json["summary"]["update"] == 0
    assert as_json["changes"] == []
    (note,) = as_json["unverified"]
    assert (note["key"], note["campaignId"], note["manifest"]) == (
        "interactive-support",
        ADVANCED,
        "SMS Support Flow",
    )
    assert note["live"].startswith("cf-")

    applied = ws.run("apply", "--auto-approve")
    assert applied.code == 0, applied.both
    assert emulator.writes() == []  # no PUT on its own
    assert "interactive-support" in ws.state()["campaigns"]  # adopted, still recorded


def test_write_unverified_writes_the_flow_once_and_learns_the_pairing(
    ws: Workspace, emulator: Emulator
) -> None:
    unpaired(ws, emulator)
    flow_id = emulator.campaign(ADVANCED)["experienceFlow"]
    applied = ws.run("apply", "--auto-approve", "--write-unverified")
    assert applied.code == 0, applied.both
    (put,) = puts(emulator)
    assert put["path"].endswith(f"/campaign/{ADVANCED}")
    assert put["body"]["experienceFlowName"] == "SMS Support Flow"
    assert ws.state()["flows"]["SMS Support Flow"] == flow_id

    emulator.clear_journal()
    planned = ws.run("plan", "--detailed-exitcode")
    assert planned.code == 0, planned.both
    assert "cannot verify" not in planned.both
    again = ws.run("apply", "--auto-approve", "--write-unverified")
    assert again.code == 0, again.both
    assert emulator.writes() == []  # learned: nothing left to write


def test_an_update_that_cannot_keep_an_unpaired_flow_is_blocked_with_the_fix(
    ws: Workspace, emulator: Emulator
) -> None:
    unpaired(ws, emulator)
    path = ws.root / "manifests" / "sms.yaml"
    path.write_text(
        path.read_text().replace("description: Chat-enabled SMS support", "description: Weekends too", 1)
    )

    planned = ws.run("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.both
    assert "blocked" in planned.out
    assert "--write-unverified" in planned.out

    applied = ws.run("apply", "--auto-approve")
    assert applied.code == 1, applied.both
    assert puts(emulator) == []
    assert "experienceFlows" in applied.both

    written = ws.run("apply", "--auto-approve", "--write-unverified")
    assert written.code == 0, written.both
    (put,) = puts(emulator)
    assert put["body"]["description"] == "Weekends too"
    assert put["body"]["experienceFlowName"] == "SMS Support Flow"


def test_write_unverified_with_a_saved_plan_is_a_usage_error(ws: Workspace, emulator: Emulator) -> None:
    unpaired(ws, emulator)
    saved = ws.run("plan", "--out", "plan.json")
    assert saved.code == 0, saved.both
    result = ws.run("apply", "plan.json", "--write-unverified")
    assert result.code == 1, result.both
    assert "without PLANFILE" in result.err
    assert emulator.writes() == []

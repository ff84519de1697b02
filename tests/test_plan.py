"""build_plan: identity, actions, blocked changes, flows, summary, safety, determinism."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from campaign_sync.core.compare import LiveCampaign
from campaign_sync.core.normalize import FlowBook, desired_view
from campaign_sync.core.plan import Action, Plan, Policy, build_plan, safety_problem
from campaign_sync.errors import Location, PlanError
from campaign_sync.report import render_plan
from tests.test_manifest_rules import SMS_ADVANCED, SMS_SIMPLE
from tests.test_normalize import FLOW_ID, FLOWS, SMS_ADVANCED_LIVE, SMS_SIMPLE_LIVE, campaign


@dataclass(frozen=True)
class Item:
    campaign: Any
    location: Location = field(default_factory=lambda: Location("manifests/m.yaml", 2))

    @property
    def key(self) -> str:
        return str(self.campaign.key)


@dataclass(frozen=True)
class Rec:
    id: str
    campaignType: str
    name: str
    applied: dict[str, Any] = field(default_factory=dict)


def live(doc: dict[str, Any], ctype: str = "sms", status: str = "Ready", **item: Any) -> LiveCampaign:
    cid = doc["_id"]
    return LiveCampaign(cid, ctype, doc["name"], status, doc.get("updatedAt"), {"_id": cid, **item}, doc)


ADV = campaign(SMS_ADVANCED)
SIMPLE = campaign(SMS_SIMPLE)
DESIRED = {"interactive-support": Item(ADV), "bill-reminder": Item(SIMPLE)}


def plan_of(desired=DESIRED, lives=(), state=None, flows=FLOWS, **kw) -> Plan:  # type: ignore[no-untyped-def]
    return build_plan("prod", desired, list(lives), state or {}, flows, Policy(), **kw)


def test_in_sync_through_state_is_no_change() -> None:
    state = {
        "interactive-support": Rec(SMS_ADVANCED_LIVE["_id"], "sms", "x"),
        "bill-reminder": Rec("cd-2", "sms", "y"),
    }
    result = plan_of(lives=[live(SMS_ADVANCED_LIVE), live(SMS_SIMPLE_LIVE)], state=state)
    assert result.changes == ()
    assert result.summary.to_json() == {"create": 0, "update": 0, "delete": 0, "unchanged": 2, "unmanaged": 0}
    assert render_plan(result, "text").startswith("No changes.")


def test_only_changed_campaigns_build_their_projected_live_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unchanged campaign needs no projected live view (the plan shows none): at 10,000 in-sync
    campaigns building it was a tenth of build_plan. A changed one still gets it."""
    from campaign_sync.core import compare

    built: list[dict[str, Any]] = []
    declared = compare._declared

    def counting(live_full: dict[str, Any], want: Any) -> dict[str, Any]:
        built.append(live_full)
        return declared(live_full, want)

    monkeypatch.setattr(compare, "_declared", counting)
    state = {
        "interactive-support": Rec(SMS_ADVANCED_LIVE["_id"], "sms", "x"),
        "bill-reminder": Rec("cd-2", "sms", "y"),
    }
    edited = dict(SMS_SIMPLE_LIVE, description="Edited in the UI")
    result = plan_of(lives=[live(SMS_ADVANCED_LIVE), live(edited)], state=state)
    (change,) = result.changes
    assert (change.key, result.summary.unchanged) == ("bill-reminder", 1)
    assert len(built) == 1
    assert change.live_view is not None
    assert change.live_view.get("description") == "Edited in the UI"


def test_a_plan_builds_no_recorded_view_until_apply_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    """What apply would record for an unchanged campaign is built when asked for, not held by every
    plan (a view per campaign: 15 MiB of a 10,000-campaign plan), and is what it always was."""
    from campaign_sync.core import changes, normalize, plan

    asked: list[str] = []
    real = normalize.recorded_view

    def counting(campaign: Any, want: Any, applied: Any) -> Any:
        asked.append(campaign.key)
        return real(campaign, want, applied)

    for module in (changes, normalize, plan):  # wherever it would be called from
        monkeypatch.setattr(module, "recorded_view", counting)
    state = {
        "interactive-support": Rec(SMS_ADVANCED_LIVE["_id"], "sms", "x", applied={"name": "Interactive"}),
        "bill-reminder": Rec("cd-2", "sms", "y"),
    }
    result = plan_of(lives=[live(SMS_ADVANCED_LIVE), live(SMS_SIMPLE_LIVE)], state=state)
    assert (result.summary.unchanged, asked) == (2, [])
    by_key = {m.key: m for m in result.matches}
    assert by_key["bill-reminder"].recorded == desired_view(SIMPLE)
    assert by_key["interactive-support"].recorded == real(ADV, desired_view(ADV), {"name": "Interactive"})
    assert sorted(asked) == ["bill-reminder", "interactive-support"]


def test_adopt_by_name_ignoring_case() -> None:
    doc = dict(SMS_SIMPLE_LIVE, name="BILL REMINDER")
    result = plan_of(desired={"bill-reminder": Item(SIMPLE)}, lives=[live(doc)])
    (change,) = result.changes
    assert change.action is Action.UPDATE
    assert change.adopted
    assert [f.path for f in change.fields] == ["name"]
    assert result.matches[0].adopted


def test_adopted_without_change_is_still_recorded() -> None:
    result = plan_of(desired={"bill-reminder": Item(SIMPLE)}, lives=[live(SMS_SIMPLE_LIVE)])
    assert result.changes == ()
    assert [(m.key, m.campaign_id, m.adopted) for m in result.matches] == [("bill-reminder", "cd-2", True)]
    assert "Adopted by name" in render_plan(result, "text")


def test_create_when_nothing_matches() -> None:
    result = plan_of(desired={"bill-reminder": Item(SIMPLE)})
    (change,) = result.changes
    assert change.action is Action.CREATE
    assert change.body is not None
    assert change.body["name"] == "Bill Reminder"
    paths = {f.path for f in change.fields}
    assert {"name", "priority", "message.message", "dialingStrategy.callingHours.days[FR]"} <= paths
    assert all(f.before is None for f in change.fields)


def test_state_entry_gone_live_is_a_create_flagged() -> None:
    result = plan_of(
        desired={"bill-reminder": Item(SIMPLE)}, state={"bill-reminder": Rec("cd-gone", "sms", "Bill")}
    )
    (change,) = result.changes
    assert change.action is Action.CREATE
    assert change.note == "deleted outside campaign-sync (was cd-gone)"


def test_key_dropped_from_manifests_is_a_delete_and_unknown_live_is_unmanaged() -> None:
    other = dict(SMS_SIMPLE_LIVE, _id="cd-9", name="Someone else's")
    result = plan_of(
        desired={"interactive-support": Item(ADV)},
        lives=[live(SMS_ADVANCED_LIVE), live(SMS_SIMPLE_LIVE), live(other)],
        state={
            "interactive-support": Rec(SMS_ADVANCED_LIVE["_id"], "sms", "x"),
            "bill-reminder": Rec("cd-2", "sms", "y"),
        },
    )
    assert [(c.action, c.key, c.campaign_id) for c in result.changes] == [
        (Action.DELETE, "bill-reminder", "cd-2")
    ]
    assert result.summary.unmanaged == 1
    assert result.summary.unchanged == 1


def test_state_key_gone_everywhere_is_forgotten_without_a_request() -> None:
    result = plan_of(desired={}, state={"old": Rec("cd-old", "sms", "Old")})
    assert result.changes == ()
    assert result.forget == ("old",)


@pytest.mark.parametrize(
    ("status", "blocked"), [("Active", True), ("Preparing", True), ("Stopped", False), ("Completed", False)]
)
def test_active_campaigns_block_updates(status: str, blocked: bool) -> None:
    doc = dict(SMS_SIMPLE_LIVE, description="old")
    result = plan_of(
        desired={"bill-reminder": Item(SIMPLE)},
        lives=[live(doc, status=status)],
        state={"bill-reminder": Rec("cd-2", "sms", "y")},
    )
    (change,) = result.changes
    assert bool(change.blocked) is blocked
    assert result.writes == (0 if blocked else 1)


def test_unknown_flow_pairing_is_a_note_not_a_change() -> None:
    result = plan_of(
        desired={"interactive-support": Item(ADV)}, lives=[live(SMS_ADVANCED_LIVE)], flows=FlowBook()
    )
    assert result.changes == ()
    assert result.summary.update == 0
    assert result.summary.unchanged == 1
    (note,) = result.unverified
    assert (note.key, note.flow.path, note.flow.live_id, note.flow.wanted) == (
        "interactive-support",
        "experienceFlowName",
        FLOW_ID,
        "SMS Support Flow",
    )
    (warning,) = [w for w in result.warnings if "cannot verify experienceFlowName" in w]
    assert 'experienceFlows: {"SMS Support Flow": ' + FLOW_ID + "}" in warning
    assert "apply --write-unverified" in warning
    assert result.to_json()["unverified"] == [
        {
            "key": "interactive-support",
            "campaignId": SMS_ADVANCED_LIVE["_id"],
            "path": "experienceFlowName",
            "live": FLOW_ID,
            "manifest": "SMS Support Flow",
        }
    ]


def test_write_unverified_makes_the_unpaired_flow_one_update() -> None:
    result = plan_of(
        desired={"interactive-support": Item(ADV)},
        lives=[live(SMS_ADVANCED_LIVE)],
        flows=FlowBook(),
        write_unverified=True,
    )
    (change,) = result.changes
    assert change.blocked is None
    assert [(f.path, f.before, f.after, f.unverified) for f in change.fields] == [
        ("experienceFlowName", FLOW_ID, "SMS Support Flow", True)
    ]
    assert change.body is not None
    assert change.body["experienceFlowName"] == "SMS Support Flow"
    assert result.unverified == ()


def test_an_update_that_cannot_keep_an_unpaired_flow_is_blocked_with_the_fix() -> None:
    edited = {**SMS_ADVANCED_LIVE, "description": "edited live"}
    result = plan_of(desired={"interactive-support": Item(ADV)}, lives=[live(edited)], flows=FlowBook())
    (change,) = result.changes
    assert [f.path for f in change.fields] == ["description"]
    assert change.blocked is not None
    assert FLOW_ID in change.blocked
    assert "experienceFlows" in change.blocked
    assert "--write-unverified" in change.blocked
    unblocked = plan_of(
        desired={"interactive-support": Item(ADV)},
        lives=[live(edited)],
        flows=FlowBook(),
        write_unverified=True,
    )
    (change,) = unblocked.changes
    assert change.blocked is None
    assert [f.path for f in change.fields] == ["description", "experienceFlowName"]


def test_known_flow_pairing_to_another_flow_is_a_real_change() -> None:
    flows = FlowBook({"SMS Support Flow": "cf-other", "Old Flow": FLOW_ID})
    result = plan_of(desired={"interactive-support": Item(ADV)}, lives=[live(SMS_ADVANCED_LIVE)], flows=flows)
    (change,) = result.changes
    assert [(f.path, f.before, f.after, f.unverified) for f in change.fields] == [
        ("experienceFlowName", "Old Flow", "SMS Support Flow", False)
    ]


def test_type_change_is_an_error_naming_the_location() -> None:
    with pytest.raises(
        PlanError, match=r"manifests/m.yaml:2: bill-reminder: campaignType changed from voice to sms"
    ):
        plan_of(desired={"bill-reminder": Item(SIMPLE)}, state={"bill-reminder": Rec("cd-2", "voice", "y")})


def test_targets_narrow_the_plan_and_unknown_targets_fail() -> None:
    result = plan_of(targets=["bill-reminder"])
    assert [c.key for c in result.changes] == ["bill-reminder"]
    with pytest.raises(PlanError, match="--target nope"):
        plan_of(targets=["nope"])


def test_changes_sorted_by_action_then_key_and_json_shape() -> None:
    desired = {
        "z-new": Item(campaign(SMS_SIMPLE.replace("bill-reminder", "z-new").replace("Bill Reminder", "Zed"))),
        "a-new": Item(campaign(SMS_SIMPLE.replace("bill-reminder", "a-new").replace("Bill Reminder", "Ay"))),
        "interactive-support": Item(ADV),
    }
    doc = dict(SMS_ADVANCED_LIVE, description="old")
    state = {"interactive-support": Rec(doc["_id"], "sms", "x"), "gone": Rec("cd-2", "sms", "Bill")}
    result = plan_of(desired=desired, lives=[live(doc), live(SMS_SIMPLE_LIVE)], state=state)
    assert [(c.action.value, c.key) for c in result.changes] == [
        ("create", "a-new"),
        ("create", "z-new"),
        ("update", "interactive-support"),
        ("delete", "gone"),
    ]
    data = result.to_json()
    assert data["formatVersion"] == 1
    assert data["environment"] == "prod"
    assert data["summary"] == {"create": 2, "update": 1, "delete": 1, "unchanged": 0, "unmanaged": 0}
    update = data["changes"][2]
    assert {k: update[k] for k in ("key", "action", "campaignType", "campaignId", "blocked")} == {
        "key": "interactive-support",
        "action": "update",
        "campaignType": "sms",
        "campaignId": doc["_id"],
        "blocked": None,
    }
    assert update["fields"] == [{"path": "description", "before": "old", "after": "Chat-enabled SMS support"}]


def test_identical_input_gives_byte_identical_output() -> None:
    doc = dict(SMS_ADVANCED_LIVE, description="old")
    outputs = set()
    for _ in range(3):
        result = plan_of(lives=[live(copy.deepcopy(doc))])
        outputs.add(tuple(render_plan(result, fmt) for fmt in ("text", "json", "markdown")))
    assert len(outputs) == 1


def test_safety_threshold_counts_updates_and_deletes_of_managed() -> None:
    state = {f"k{i}": Rec(f"cd-{i}", "sms", f"n{i}") for i in range(10)}
    result = plan_of(
        desired={},
        lives=[live(dict(SMS_SIMPLE_LIVE, _id=f"cd-{i}", name=f"n{i}")) for i in range(10)],
        state=state,
    )
    assert result.summary.delete == 10
    problem = safety_problem(result)
    assert problem is not None
    assert "10 of 10 managed campaigns" in problem
    assert "--force" in problem
    small = plan_of(desired={}, lives=[live(SMS_SIMPLE_LIVE)], state={"k": Rec("cd-2", "sms", "x")})
    assert safety_problem(small) is None  # fewer than 10 managed


def test_applied_spec_is_the_desired_view() -> None:
    result = plan_of(desired={"bill-reminder": Item(SIMPLE)}, lives=[live(SMS_SIMPLE_LIVE)])
    assert result.matches[0].recorded == desired_view(SIMPLE)


def test_documented_sample_request_against_documented_response_plans_no_changes() -> None:
    from campaign_sync.manifests.parse import parse_campaign
    from tests.fixtures.documented import sms_advanced_sample

    sample = sms_advanced_sample()
    manifest = {"key": "interactive-support", **sample["request"]}
    parsed = parse_campaign(manifest, "sample.yaml", manifest, ("campaigns", 0))
    assert not isinstance(parsed, list), parsed
    doc = sample["response"]["data"]
    pairing = FlowBook({"SMS Support Flow": "cf-67447605-115e-5dd2-a676-e158cf312345"})
    result = plan_of(desired={"interactive-support": Item(parsed)}, lives=[live(doc)], flows=pairing)
    assert result.changes == ()
    assert result.summary.unchanged == 1
    assert result.matches[0].adopted
    without_pairing = plan_of(
        desired={"interactive-support": Item(parsed)}, lives=[live(doc)], flows=FlowBook()
    )
    assert without_pairing.changes == ()
    assert [n.flow.path for n in without_pairing.unverified] == ["experienceFlowName"]


def test_renaming_a_key_re_keys_the_campaign_instead_of_deleting_it() -> None:
    renamed = campaign(SMS_SIMPLE.replace("key: bill-reminder", "key: bill-reminder-sms"))
    result = plan_of(
        desired={"bill-reminder-sms": Item(renamed)},
        lives=[live(SMS_SIMPLE_LIVE)],
        state={"bill-reminder": Rec("cd-2", "sms", "Bill Reminder")},
    )
    assert result.changes == ()
    assert result.forget == ("bill-reminder",)
    assert [(m.key, m.campaign_id) for m in result.matches] == [("bill-reminder-sms", "cd-2")]
    assert result.summary.delete == 0
    assert any("re-keyed from bill-reminder" in w for w in result.warnings)


def test_machine_detect_the_api_cannot_show_is_written_once() -> None:
    from tests.test_manifest_rules import VOICE_AGENTLESS
    from tests.test_normalize import VOICE_PREVIEW_LIVE

    manifest = campaign(
        VOICE_AGENTLESS.replace(
            "    dialingStrategy:", "    enableMachineDetect: detect\n    dialingStrategy:"
        )
    )
    doc = {
        **VOICE_PREVIEW_LIVE,
        "_id": "cd-v",
        "name": "Product Feedback",
        "description": "Survey",
        "priority": "5",
        "dialingMode": "Agentless",
        "experienceFlow": "cf-voice",
    }
    doc.pop("maxSkips")
    doc["dialingStrategy"] = {
        **doc["dialingStrategy"],
        "maxAttemptsPerRecord": 3,
        "defaultRetryPeriod": 10,
        "maxRingTime": 30,
        "callerId": {"phoneNumber": "+14846550100"},
        "callingHours": {
            "frequency": "WEEKLY",
            "timezone": "Asia/Kolkata",
            "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}],
        },
    }
    flows = FlowBook({"Voice Flow 2": "cf-voice"})
    adopted = plan_of(desired={"feedback": Item(manifest)}, lives=[live(doc, "voice")], flows=flows)
    (change,) = adopted.changes
    assert [(f.path, f.after, f.unverified) for f in change.fields] == [
        ("enableMachineDetect", "detect", True)
    ]
    assert change.body is not None
    assert change.body["enableMachineDetect"] == "detect"
    recorded = Rec("cd-v", "voice", "Product Feedback", applied=desired_view(manifest))
    again = plan_of(
        desired={"feedback": Item(manifest)},
        lives=[live(doc, "voice")],
        state={"feedback": recorded},
        flows=flows,
    )
    assert again.changes == ()


def test_safety_threshold_counts_adopted_campaigns_when_the_state_is_lost() -> None:
    desired = {}
    lives = []
    for i in range(10):
        key = f"k{i}"
        desired[key] = Item(
            campaign(
                SMS_SIMPLE.replace("key: bill-reminder", f"key: {key}").replace("Bill Reminder", f"N{i}")
            )
        )
        lives.append(
            live(dict(SMS_SIMPLE_LIVE, _id=f"cd-{i}", name=f"N{i}", description="changed in the UI"))
        )
    result = plan_of(desired=desired, lives=lives)
    assert result.managed == 0
    assert result.summary.update == 10
    problem = safety_problem(result)
    assert problem is not None
    assert "10 of 10 managed campaigns" in problem


def test_updating_a_campaign_with_a_recurring_schedule_warns() -> None:
    doc = dict(
        SMS_SIMPLE_LIVE,
        description="old",
        schedule={"isSchedulingEnabled": True, "isRecurrenceEnabled": True},
    )
    result = plan_of(
        desired={"bill-reminder": Item(SIMPLE)},
        lives=[live(doc)],
        state={"bill-reminder": Rec("cd-2", "sms", "y")},
    )
    assert result.summary.update == 1
    assert any("recurring schedule" in w for w in result.warnings)
    quiet = plan_of(
        desired={"bill-reminder": Item(SIMPLE)},
        lives=[live(dict(SMS_SIMPLE_LIVE, description="old"))],
        state={"bill-reminder": Rec("cd-2", "sms", "y")},
    )
    assert not any("recurring schedule" in w for w in quiet.warnings)

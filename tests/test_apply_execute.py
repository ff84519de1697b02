"""apply.execute with a stand-in client: results per campaign, state after each write, fields that
did not take. (The real client against the emulator is exercised in tests/e2e.)"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from campaign_sync.core.normalize import FlowBook
from campaign_sync.core.plan import Policy, build_plan
from campaign_sync.engine.writes import StopFlag, execute, results_table
from campaign_sync.errors import BudgetExceeded, ServerError, StalePlanError
from campaign_sync.kore.notices import Notices
from campaign_sync.state import CampaignRecord, State, StateStore
from tests.test_manifest_rules import SMS_ADVANCED, SMS_SIMPLE
from tests.test_normalize import FLOWS, SMS_ADVANCED_LIVE, SMS_SIMPLE_LIVE, campaign
from tests.test_plan import Item, live


class StandIn:
    """Answers writes like the API, except for the tweaks a test asks for."""

    def __init__(
        self, docs: dict[str, dict[str, Any]], ignore: set[str] = frozenset(), fail: set[str] = frozenset()
    ):
        self.docs = docs
        self.ignore = ignore
        self.fail = fail
        self.calls: list[tuple[str, str]] = []
        self.notices = Notices()

    def update_campaign(
        self, campaign_id: str, campaign_type: str, body: dict[str, Any], *, holds: Any = None
    ) -> dict[str, Any]:
        self.calls.append(("PUT", campaign_id))
        if campaign_id in self.fail:
            raise ServerError("persistent failure", method="PUT", path=f"/campaign/{campaign_id}", status=500)
        doc = copy.deepcopy(self.docs[campaign_id])
        for key, value in body.items():
            if key not in self.ignore and key != "campaignType":
                doc[key] = value
        doc["updatedAt"] = "2030-01-01T00:00:00.000Z"
        return doc


def run(tmp_path: Path, client: StandIn, **edits: str):  # type: ignore[no-untyped-def]
    adv = campaign(
        SMS_ADVANCED.replace("Chat-enabled SMS support", edits.get("adv", "Chat-enabled SMS support"))
    )
    simple = campaign(SMS_SIMPLE.replace("Due date reminder", edits.get("simple", "Due date reminder")))
    state = State.new()
    state = state.with_campaign(
        "interactive-support", CampaignRecord(SMS_ADVANCED_LIVE["_id"], "sms", "a", {})
    )
    state = state.with_campaign("bill-reminder", CampaignRecord("cd-2", "sms", "b", {}))
    plan = build_plan(
        "prod",
        {"interactive-support": Item(adv), "bill-reminder": Item(simple)},
        [live(SMS_ADVANCED_LIVE), live(SMS_SIMPLE_LIVE)],
        state.campaigns,
        FLOWS,
        Policy(),
    )
    store = StateStore(tmp_path / "state.json")
    messages: list[str] = []
    result = execute(
        plan, client, store, state, FlowBook(FLOWS.by_name), stop=StopFlag(), progress=messages.append
    )  # type: ignore[arg-type]
    return plan, result, store, messages


def test_a_field_that_did_not_take_is_named(tmp_path: Path) -> None:
    client = StandIn(
        {SMS_ADVANCED_LIVE["_id"]: SMS_ADVANCED_LIVE, "cd-2": SMS_SIMPLE_LIVE}, ignore={"description"}
    )
    _plan, result, _store, _messages = run(tmp_path, client, adv="New description")
    (outcome,) = result.outcomes
    assert outcome.status == "applied"
    assert (
        'did not take: description (sent "New description", API has "Chat-enabled SMS support")'
        in outcome.detail
    )
    assert len(client.calls) == 1


def test_one_failure_does_not_stop_the_rest_and_state_records_the_others(tmp_path: Path) -> None:
    client = StandIn({SMS_ADVANCED_LIVE["_id"]: SMS_ADVANCED_LIVE, "cd-2": SMS_SIMPLE_LIVE}, fail={"cd-2"})
    _plan, result, store, _messages = run(tmp_path, client, adv="A", simple="B")
    assert [(o.key, o.status) for o in result.outcomes] == [
        ("bill-reminder", "failed"),
        ("interactive-support", "applied"),
    ]
    saved = store.load()
    assert saved.campaigns["interactive-support"].applied["description"] == "A"
    assert saved.campaigns["bill-reminder"].applied == {}
    table = results_table(result)
    assert "Apply: 1 applied, 1 failed, 0 skipped." in table
    assert "HTTP 500" in table


def test_a_stop_request_skips_what_has_not_started(tmp_path: Path) -> None:
    client = StandIn({SMS_ADVANCED_LIVE["_id"]: SMS_ADVANCED_LIVE, "cd-2": SMS_SIMPLE_LIVE})
    adv = campaign(SMS_ADVANCED.replace("Chat-enabled SMS support", "A"))
    simple = campaign(SMS_SIMPLE.replace("Due date reminder", "B"))
    state = State.new()
    plan = build_plan(
        "prod",
        {"interactive-support": Item(adv), "bill-reminder": Item(simple)},
        [live(SMS_ADVANCED_LIVE), live(SMS_SIMPLE_LIVE)],
        {},
        FLOWS,
        Policy(),
    )
    stop = StopFlag()
    stop.request()
    result = execute(
        plan, client, StateStore(tmp_path / "s.json"), state, FLOWS, stop=stop, progress=lambda _m: None
    )  # type: ignore[arg-type]
    assert result.interrupted
    assert {o.status for o in result.outcomes} == {"skipped"}
    assert client.calls == []


def test_a_blocked_create_does_not_make_a_saved_plan_stale(tmp_path: Path) -> None:
    from campaign_sync.core.plan import Action, Change
    from campaign_sync.engine.approval import check_saved
    from campaign_sync.state import planfile
    from tests.test_plan import Rec, plan_of

    clash = dict(SMS_SIMPLE_LIVE, _id="cd-other")
    result = plan_of(
        desired={"bill-reminder": Item(campaign(SMS_SIMPLE))},
        lives=[live(clash)],
        state={"bill-reminder": Rec("cd-gone", "sms", "Bill Reminder")},
    )
    (change,) = result.changes
    assert change.action is Action.CREATE
    assert change.blocked is not None

    def saved(plan: Any) -> planfile.SavedPlan:
        path = tmp_path / "plan.json"
        data = planfile.to_json(
            plan, manifests_digest="sha256:m", lineage="", serial=0, targets=(), created_at="now"
        )
        planfile.write(path, data)
        return planfile.read(path)

    check_saved(saved(result), result, [live(clash)])  # does not raise
    unblocked = Change(change.key, Action.CREATE, "sms", change.name)
    with pytest.raises(StalePlanError, match="stale plan"):  # another plan than the one saved
        check_saved(saved(type(result)("prod", (unblocked,), result.summary)), result, [live(clash)])


class OutOfTime(StandIn):
    """The run's budget runs out at ``campaign_id``'s PUT; ``doubt`` says whether it may have been applied."""

    def __init__(self, docs: dict[str, dict[str, Any]], at: str, doubt: bool) -> None:
        super().__init__(docs)
        self.at = at
        self.doubt = doubt

    def update_campaign(
        self, campaign_id: str, campaign_type: str, body: dict[str, Any], *, holds: Any = None
    ) -> dict[str, Any]:
        if campaign_id == self.at:
            self.calls.append(("PUT", campaign_id))
            raise BudgetExceeded("the API asked to wait 999999s", method="PUT", write_in_doubt=self.doubt)
        return super().update_campaign(campaign_id, campaign_type, body, holds=holds)


@pytest.mark.parametrize(("doubt", "said"), [(False, "not applied"), (True, "may have been applied")])
def test_the_budget_running_out_stops_the_run_and_says_what_was_done(
    tmp_path: Path, doubt: bool, said: str
) -> None:
    client = OutOfTime({SMS_ADVANCED_LIVE["_id"]: SMS_ADVANCED_LIVE, "cd-2": SMS_SIMPLE_LIVE}, "cd-2", doubt)
    _plan, result, store, _messages = run(tmp_path, client, adv="A", simple="B")
    assert [(o.key, o.status) for o in result.outcomes] == [
        ("bill-reminder", "failed"),
        ("interactive-support", "skipped"),
    ]
    assert result.outcomes[0].detail.startswith(said)
    assert client.calls == [("PUT", "cd-2")], "nothing after the budget ran out"
    assert result.stopped is not None
    summary = result.stop_summary()
    assert (
        "Applied and recorded in state: none; not applied: 2 (bill-reminder, interactive-support)" in summary
    )
    assert not store.exists(), "nothing was written, so nothing was saved"


class StopsDuringWrite(StandIn):
    def __init__(self, docs: dict[str, dict[str, Any]], stop: StopFlag) -> None:
        super().__init__(docs)
        self.stop = stop

    def update_campaign(
        self, campaign_id: str, campaign_type: str, body: dict[str, Any], *, holds: Any = None
    ) -> dict[str, Any]:
        self.stop.request()  # the signal arrives while this (the only) write is in flight
        return super().update_campaign(campaign_id, campaign_type, body, holds=holds)


def test_a_stop_during_the_last_write_still_ends_interrupted(tmp_path: Path) -> None:
    stop = StopFlag()
    client = StopsDuringWrite({SMS_ADVANCED_LIVE["_id"]: SMS_ADVANCED_LIVE, "cd-2": SMS_SIMPLE_LIVE}, stop)
    adv = campaign(SMS_ADVANCED.replace("Chat-enabled SMS support", "Only change"))
    plan = build_plan(
        "prod", {"interactive-support": Item(adv)}, [live(SMS_ADVANCED_LIVE)], {}, FLOWS, Policy()
    )
    store = StateStore(tmp_path / "s.json")
    result = execute(plan, client, store, State.new(), FLOWS, stop=stop, progress=lambda _m: None)  # type: ignore[arg-type]
    assert [o.status for o in result.outcomes] == ["applied"]
    assert result.interrupted, "exit 130, not 0"
    assert store.load().campaigns["interactive-support"].applied["description"] == "Only change"


def test_holds_update_compares_through_the_desired_view_not_bytes() -> None:
    from campaign_sync.engine.writes import holds_update

    adv = campaign(SMS_ADVANCED.replace("priority: 5", "priority: 4"))
    plan = build_plan(
        "prod", {"interactive-support": Item(adv)}, [live(SMS_ADVANCED_LIVE)], {}, FLOWS, Policy()
    )
    (change,) = plan.changes
    holds = holds_update(change, FLOWS)
    taken = copy.deepcopy(SMS_ADVANCED_LIVE)
    taken["priority"] = 4  # a number where a string was sent: equal once normalised
    days = taken["dialingStrategy"]["callingHours"]["days"]
    taken["dialingStrategy"]["callingHours"]["days"] = list(reversed(days))
    taken["updatedAt"] = "2031-01-01T00:00:00.000Z"
    assert holds(taken)
    assert not holds(SMS_ADVANCED_LIVE), "live still has the old priority"

"""`refresh` end to end: a read-only bootstrap that makes later plans cost list calls only."""

from __future__ import annotations

import json

import pytest

from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import ADVANCED, BILL, edit, setup, wait_for

pytestmark = pytest.mark.e2e

NEW_CAMPAIGN = """\
campaigns:
  - key: brand-new
    campaignType: sms
    name: Brand New Reminder
    description: Not live yet
    contactLists: [Renewals Q3]
    priority: 2
    format: simple
    message: {message: Hello}
    dialingStrategy:
      callerId: {phoneNumber: "+14155550100"}
      callingHours:
        frequency: WEEKLY
        timezone: America/Los_Angeles
        days:
          - {day: MO, start: "10:00 AM", end: "5:00 PM"}
"""


def gets(emulator: Emulator) -> list[str]:
    return [e["path"] for e in emulator.journal() if e["method"] == "GET"]


def lists(emulator: Emulator) -> int:
    return emulator.count("POST", "getAllCampaignDetails")


def plan_json(ws: Workspace) -> dict:  # type: ignore[type-arg]
    result = ws.run("plan", "--format", "json")
    assert result.code == 0, result.both
    return dict(json.loads(result.out))


def test_refresh_records_adoptions_and_later_plans_cost_list_calls_only(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator, adopt=False)
    ws.write("manifests/new.yaml", NEW_CAMPAIGN)  # the plan creates it: refresh must not record it
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Changed in Git")
    before = plan_json(ws)
    assert {c["key"]: c["action"] for c in before["changes"]} == {
        "brand-new": "create",
        "bill-reminder": "update",
    }
    emulator.clear_journal()

    result = ws.run("refresh")
    assert result.code == 0, result.both
    assert emulator.writes() == []
    assert "adopted 4, cached 4, unmanaged 0" in result.out
    assert "2 changes not applied" in result.out
    state = ws.state()
    assert sorted(state["campaigns"]) == [
        "bill-reminder",
        "collections",
        "interactive-support",
        "product-feedback",
    ]
    assert state["campaigns"]["bill-reminder"]["id"] == BILL
    assert all(record["live"] is not None for record in state["campaigns"].values())

    emulator.clear_journal()
    after = plan_json(ws)
    assert gets(emulator) == []  # only list calls: one per campaign type
    assert lists(emulator) == 2
    assert emulator.writes() == []
    assert after["digest"] == before["digest"]  # the same plan as without state, for free
    assert after["changes"] == [{k: v for k, v in c.items() if k != "adopted"} for c in before["changes"]]


def test_a_second_refresh_reads_only_what_changed_live(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator, adopt=False)
    assert ws.run("refresh").code == 0
    serial = ws.state()["serial"]
    emulator.clear_journal()

    unchanged = ws.run("refresh")
    assert unchanged.code == 0, unchanged.both
    assert gets(emulator) == []
    assert "adopted 0, cached 0, unmanaged 0 (4 already cached and current; state unchanged" in unchanged.out
    assert ws.state()["serial"] == serial

    emulator.patch(ADVANCED, {"description": "Edited in the UI"})
    emulator.clear_journal()
    moved = ws.run("refresh")
    assert moved.code == 0, moved.both
    assert [path.rsplit("/", 1)[-1] for path in gets(emulator)] == [ADVANCED]
    assert emulator.writes() == []
    assert "adopted 0, cached 1, unmanaged 0 (3 already cached and current" in moved.out
    assert ws.state()["serial"] == serial + 1
    assert ws.state()["campaigns"]["interactive-support"]["live"]["description"] == "Edited in the UI"
    # what was applied is untouched: the edit shows as an update (and as drift), not as applied
    plan = ws.run("plan")
    assert "Plan: 0 to create, 1 to update" in plan.out, plan.both


def test_refresh_fails_at_once_naming_the_lock_holder(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Only once")
    emulator.fault(method="PUT", path=BILL, holdAfterApply=30)
    first = ws.popen("apply", "--auto-approve")
    wait_for(lambda: any(e["method"] == "PUT" for e in emulator.journal()), "the apply's PUT")
    emulator.clear_journal()
    second = ws.run("refresh")
    requests = emulator.journal()
    emulator.release()
    out, err = first.communicate(timeout=30)
    assert first.returncode == 0, out + err
    assert second.code == 1
    assert "state is locked by apply (pid" in second.err
    assert str(first.pid) in second.err
    assert requests == []  # refused before any request


@pytest.mark.slow
def test_refresh_of_1000_campaigns_then_plans_cost_list_calls_only(ws: Workspace, emulator: Emulator) -> None:
    from tests.e2e.test_e2e_plan import many

    seed, manifest = many(1000)
    emulator.seed(seed)
    ws.write("manifests/many.yaml", manifest)
    emulator.clear_journal()
    result = ws.run("refresh")
    assert result.code == 0, result.both
    assert "adopted 1000, cached 1000, unmanaged 0" in result.out
    assert emulator.count("GET") == 1000
    assert emulator.writes() == []

    emulator.clear_journal()
    plan = ws.run("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.both
    assert "1000 unchanged" in plan.out
    assert emulator.count("GET") == 0
    assert lists(emulator) == 11  # 10 pages of SMS campaigns, one of voice

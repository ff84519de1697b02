"""Plan files are expectations, never instructions (SPEC 4), and `apply --expect-digest`.

A hand-edited plan file can make apply refuse, never make it touch a campaign the manifests and
the state do not give it: each edit below ends in exit 1 with zero writes in the emulator's
journal, even when the editor also recomputes the file's digest to match the edit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from campaign_sync.core.diff import FieldChange
from campaign_sync.core.plan import Action, Change, plan_digest
from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import BILL, base_seed, edit, setup

pytestmark = pytest.mark.e2e

OUTSIDER = "cd-00000000-0000-4000-8000-000000000099"


def seed_outsider(emulator: Emulator) -> dict[str, Any]:
    """A live campaign campaign-sync does not manage (made by hand in the UI)."""
    body = next(c for c in base_seed()["campaigns"] if c["_id"] == BILL)
    emulator.seed({"campaigns": [dict(body, _id=OUTSIDER, name="Hand Made Promo", description="Not ours")]})
    return emulator.campaign(OUTSIDER)


def redigest(plan: dict[str, Any]) -> None:
    """What a careful attacker does: make the file's digest match the edited changes."""
    changes = [
        Change(
            c["key"],
            Action(c["action"]),
            c["campaignType"],
            c.get("name", ""),
            campaign_id=c["campaignId"],
            fields=tuple(FieldChange(f["path"], f["before"], f["after"]) for f in c["fields"]),
        )
        for c in plan["changes"]
    ]
    plan["digest"] = plan_digest(plan["environment"], changes)


def tamper(ws: Workspace, change: Callable[[dict[str, Any]], None], *, again: bool) -> None:
    path = ws.root / "plan.json"
    data = json.loads(path.read_text())
    change(data)
    if again:
        redigest(data["plan"])
    path.write_text(json.dumps(data))


def planned(ws: Workspace, emulator: Emulator) -> dict[str, Any]:
    setup(ws, emulator)
    outsider = seed_outsider(emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")  # bill-reminder: one PUT
    result = ws.run("plan", "--out", "plan.json")
    assert result.code == 0, result.both
    emulator.clear_journal()
    return outsider


@pytest.mark.parametrize("again", [False, True], ids=["digest-left", "digest-recomputed"])
def test_a_change_pointed_at_an_unmanaged_campaign_writes_nothing(
    ws: Workspace, emulator: Emulator, again: bool
) -> None:
    outsider = planned(ws, emulator)
    state_before = ws.state()

    def swap(data: dict[str, Any]) -> None:
        (change,) = data["plan"]["changes"]
        change["campaignId"] = OUTSIDER
        data["versions"][change["key"]].update(campaignId=OUTSIDER, updatedAt=outsider["updatedAt"])

    tamper(ws, swap, again=again)
    result = ws.run("apply", "plan.json")
    assert result.code == 1, result.both
    assert "stale plan" in result.err
    assert f"the saved plan would update sms {OUTSIDER}" in result.err
    assert "now: update sms " + BILL in result.err
    assert emulator.writes() == []
    assert emulator.campaign(OUTSIDER) == outsider
    assert ws.state()["campaigns"] == state_before["campaigns"]  # the key still maps to its own id


@pytest.mark.parametrize("again", [False, True], ids=["digest-left", "digest-recomputed"])
def test_an_added_delete_entry_deletes_nothing(ws: Workspace, emulator: Emulator, again: bool) -> None:
    planned(ws, emulator)

    def add_delete(data: dict[str, Any]) -> None:
        data["plan"]["changes"].append(
            {
                "key": "zz-intruder",
                "action": "delete",
                "campaignType": "sms",
                "campaignId": OUTSIDER,
                "fields": [],
            }
        )

    tamper(ws, add_delete, again=again)
    result = ws.run("apply", "plan.json", "--allow-delete")
    assert result.code == 1, result.both
    assert "zz-intruder: the saved plan would delete it (sms " + OUTSIDER in result.err
    assert emulator.writes() == []
    assert OUTSIDER in {c["_id"] for c in emulator.campaigns()}


@pytest.mark.parametrize("again", [False, True], ids=["digest-left", "digest-recomputed"])
def test_an_edited_value_is_never_sent(ws: Workspace, emulator: Emulator, again: bool) -> None:
    planned(ws, emulator)

    def other_value(data: dict[str, Any]) -> None:
        (change,) = data["plan"]["changes"]
        (field,) = change["fields"]
        field["after"] = "1"

    tamper(ws, other_value, again=again)
    result = ws.run("apply", "plan.json")
    assert result.code == 1, result.both
    assert 'priority: the manifest value "1" -> "4"' in result.err
    assert emulator.writes() == []
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["priority"] == "3"


def test_an_untouched_saved_plan_applies_what_the_manifests_say(ws: Workspace, emulator: Emulator) -> None:
    planned(ws, emulator)
    result = ws.run("apply", "plan.json")
    assert result.code == 0, result.both
    (put,) = emulator.writes()
    assert put["path"].endswith(BILL)
    assert put["body"]["priority"] == "4"
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["priority"] == "4"


def test_a_plan_file_of_the_old_format_is_refused(ws: Workspace, emulator: Emulator) -> None:
    planned(ws, emulator)
    tamper(ws, lambda data: data.update(formatVersion=1), again=False)
    result = ws.run("apply", "plan.json")
    assert result.code == 1
    assert "plan format 1 is not supported" in result.err
    assert "campaign-sync plan --out plan.json" in result.err
    assert emulator.journal() == []


def test_a_live_edit_of_an_unmanaged_field_makes_a_saved_plan_stale(
    ws: Workspace, emulator: Emulator
) -> None:
    planned(ws, emulator)
    emulator.patch(BILL, {"dncLists": {"name": "testdnc"}})  # bill-reminder does not declare dncLists
    emulator.clear_journal()
    result = ws.run("apply", "plan.json")
    assert result.code == 1, result.both
    assert f"bill-reminder ({BILL}) changed live since the plan was made" in result.err
    assert "in fields the manifests do not manage" in result.err
    assert emulator.writes() == []


def test_expect_digest_applies_exactly_the_plan_that_was_shown(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    shown = ws.run("plan", "--format", "json")
    digest = json.loads(shown.out)["digest"]
    emulator.clear_journal()
    result = ws.run("apply", "--expect-digest", digest)  # no terminal, no --auto-approve: the digest approves
    assert result.code == 0, result.both
    assert f"Plan digest: {digest}" in result.out
    (put,) = emulator.writes()
    assert put["body"]["priority"] == "4"


def test_expect_digest_of_another_plan_writes_nothing_and_shows_the_new_plan(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    digest = json.loads(ws.run("plan", "--format", "json").out)["digest"]
    emulator.patch(BILL, {"description": "Edited in the UI meanwhile"})
    emulator.clear_journal()
    result = ws.run("apply", "--expect-digest", digest)
    assert result.code == 1, result.both
    assert emulator.writes() == []
    assert 'description: "Edited in the UI meanwhile" -> "Due date reminder"' in result.out  # the new plan
    assert f"not the expected {digest}" in result.err
    now = json.loads(ws.run("plan", "--format", "json").out)["digest"]
    assert now != digest
    assert f"Plan digest: {now}" in result.out


@pytest.mark.parametrize("value", ["sha256:abc", "9f2c", "md5:" + "0" * 64])
def test_expect_digest_must_look_like_a_digest(ws: Workspace, emulator: Emulator, value: str) -> None:
    setup(ws, emulator)
    result = ws.run("apply", "--expect-digest", value)
    assert result.code == 1
    assert "expected sha256: and 64 hex digits" in result.err
    assert emulator.journal() == []

"""`plan` end to end: refresh cost, narrowing, exit codes, saved files, secrets, faults."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.e2e.harness import CANARY_SECRET, Emulator, Workspace
from tests.e2e.support import ADVANCED, BILL, base_seed, edit, setup

pytestmark = pytest.mark.e2e
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def list_calls(emulator: Emulator, ctype: str) -> int:
    return sum(
        1
        for e in emulator.journal()
        if e["path"].endswith("getAllCampaignDetails") and (e["body"] or {}).get("type") == ctype
    )


def many(n: int) -> tuple[dict, str]:  # type: ignore[type-arg]
    template = base_seed()["campaigns"][1]
    campaigns = []
    manifest = ["campaigns:"]
    for i in range(n):
        campaign = json.loads(json.dumps(template))
        campaign["_id"] = f"cd-00000000-0000-4000-8000-{i + 1000:012d}"
        campaign["name"] = f"Reminder {i:04d}"
        campaigns.append(campaign)
        manifest.append(
            f"""  - key: reminder-{i:04d}
    campaignType: sms
    name: Reminder {i:04d}
    description: Due date reminder
    contactLists: [CL Only 2020 Dec 4, Renewals Q3]
    priority: 3
    format: simple
    message: {{message: Your bill is due on Friday}}
    dialingStrategy:
      callerId: {{phoneNumber: "+14155550100"}}
      callingHours:
        frequency: WEEKLY
        timezone: America/Los_Angeles
        days:
          - {{day: MO, start: "10:00 AM", end: "5:00 PM"}}
          - {{day: WE, start: "10:00 AM", end: "5:00 PM"}}
          - {{day: FR, start: "10:00 AM", end: "3:00 PM"}}"""
        )
    return {"campaigns": campaigns}, "\n".join(manifest) + "\n"


@pytest.mark.slow
def test_incremental_refresh_of_1000_campaigns_costs_list_calls_only(
    ws: Workspace, emulator: Emulator
) -> None:
    seed, manifest = many(1000)
    emulator.seed(seed)
    ws.write("manifests/many.yaml", manifest)
    adopt = ws.run("apply", "--auto-approve")
    assert adopt.code == 0, adopt.both
    assert emulator.writes() == []
    emulator.clear_journal()

    in_sync = ws.run("plan", "--detailed-exitcode")
    assert in_sync.code == 0, in_sync.both
    assert "1000 unchanged" in in_sync.out
    assert list_calls(emulator, "sms") == 10
    assert list_calls(emulator, "voice") == 1
    assert emulator.count("GET") == 0

    emulator.patch("cd-00000000-0000-4000-8000-000000001500", {"description": "Edited in the UI"})
    emulator.clear_journal()
    one_edit = ws.run("plan", "--detailed-exitcode")
    assert one_edit.code == 2
    assert "Plan: 0 to create, 1 to update" in one_edit.out
    assert emulator.count("GET") == 1
    assert list_calls(emulator, "sms") == 10

    emulator.clear_journal()
    full = ws.run("plan", "--refresh", "full", "-q")
    assert full.code == 0
    assert emulator.count("GET") == 1000
    assert full.err == ""


def test_target_narrows_the_refresh(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.patch(BILL, {"description": "x"})
    emulator.patch(ADVANCED, {"description": "y"})
    emulator.clear_journal()
    result = ws.run("plan", "--target", "bill-reminder")
    assert result.code == 0, result.both
    assert "bill-reminder" in result.out
    assert "interactive-support" not in result.out
    assert list_calls(emulator, "voice") == 0
    gets = [e["path"] for e in emulator.journal() if e["method"] == "GET"]
    assert len(gets) == 1
    assert gets[0].endswith(BILL)


def test_detailed_exitcode_and_errors(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    assert ws.run("plan", "--detailed-exitcode").code == 0
    assert ws.run("plan").code == 0
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("plan", "--detailed-exitcode").code == 2
    assert ws.run("plan").code == 0
    edit(ws, "sms.yaml", "priority: 4", "priority: 9")
    invalid = ws.run("plan", "--detailed-exitcode")
    assert invalid.code == 1
    assert "manifests/sms.yaml:" in invalid.err
    assert "priority: must be 1..5" in invalid.err
    assert emulator.writes() == []


def test_unreachable_api_is_a_clear_error(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.server.stop()
    result = ws.run("plan")
    assert result.code == 1
    assert "cannot reach the API" in result.err
    assert "Traceback" not in result.err


def test_missing_credentials_name_the_variable(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    env = ws.env()
    del env["KORE_CLIENT_SECRET"]
    result = ws.run("plan", env=env)
    assert result.code == 1
    assert "KORE_CLIENT_SECRET" in result.err
    assert emulator.journal() == []


def test_wrong_secret_is_an_auth_error_without_the_secret(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    wrong = "wrong-secret-0123456789abcdef0123456789abcdef"
    result = ws.run("plan", "-vv", env=ws.env(KORE_CLIENT_SECRET=wrong))
    assert result.code == 1
    assert "authentication failed" in result.err
    assert wrong not in result.both
    assert not JWT_SHAPE.search(result.both)


def test_rate_limited_api_is_retried_honouring_retry_after(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.fault(method="POST", path="getAllCampaignDetails", statuses=[429], retryAfter="1", times=1)
    result = ws.run("plan", "--detailed-exitcode")
    assert result.code == 0, result.both
    statuses = [e["status"] for e in emulator.journal() if e["path"].endswith("getAllCampaignDetails")]
    assert statuses[0] == 429
    assert statuses.count(200) == 2


def test_lost_create_response_does_not_create_twice(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator, adopt=False, seed=False)
    emulator.fault(method="POST", path=r"/campaign$", dropAfterApply=True, times=1)
    result = ws.run("apply", "--auto-approve")
    assert result.code == 0, result.both
    names = [c["name"] for c in emulator.campaigns()]
    assert sorted(names) == sorted(set(names))
    assert len(names) == 4
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_lost_put_response_is_retried_and_converges(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    emulator.fault(method="PUT", path=BILL, dropAfterApply=True, times=1)
    result = ws.run("apply", "--auto-approve")
    assert result.code == 0, result.both
    assert emulator.campaign(BILL)["priority"] == "4"
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["priority"] == "4"
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_canary_secret_and_tokens_never_reach_outputs_or_files(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    outputs = [
        ws.run("-vvv", "plan", "--out", "plan.json"),
        ws.run("-vv", "plan", "--format", "json"),
        ws.run("-vv", "plan", "--format", "markdown"),
        ws.run("-vv", "apply", "plan.json"),
        ws.run("-vv", "state", "list"),
        ws.run("-vv", "state", "show", "bill-reminder"),
    ]
    emulator.fault(method="GET", path=".*", statuses=[500], times=-1)
    emulator.patch(BILL, {"description": "force a read"})
    outputs.append(ws.run("-vv", "plan"))
    assert outputs[-1].code == 1
    for result in outputs:
        assert CANARY_SECRET not in result.both
        assert not JWT_SHAPE.search(result.both), result.both
    for path, text in ws.files_text():
        assert CANARY_SECRET not in text, path
        assert not JWT_SHAPE.search(text), path
    assert "auth" not in json.dumps(json.loads((ws.root / "plan.json").read_text()))


def test_import_then_plan_shows_differences(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator, adopt=False)
    emulator.patch(BILL, {"name": "Renamed In UI", "description": "Old"})
    result = ws.run("import", "bill-reminder", BILL)
    assert result.code == 0, result.both
    assert ws.state()["campaigns"]["bill-reminder"]["id"] == BILL
    assert emulator.writes() == []
    plan = ws.run("plan")
    assert 'name: "Renamed In UI" -> "Bill Reminder"' in plan.out
    assert 'description: "Old" -> "Due date reminder"' in plan.out
    wrong_type = ws.run("import", "collections", ADVANCED)
    assert wrong_type.code == 1
    assert "is a sms campaign" in wrong_type.err
    unknown = ws.run("import", "not-a-key", ADVANCED)
    assert unknown.code == 1
    assert "not in the manifests" in unknown.err


def test_state_list_show_rm(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    listing = ws.run("state", "list")
    assert listing.code == 0
    assert re.search(rf"bill-reminder\s+sms\s+{BILL}\s+Bill Reminder", listing.out)
    shown = ws.run("state", "show", "bill-reminder")
    assert json.loads(shown.out)["bill-reminder"]["id"] == BILL
    removed = ws.run("state", "rm", "bill-reminder")
    assert removed.code == 0, removed.both
    assert "bill-reminder" not in ws.state()["campaigns"]
    assert BILL in {c["_id"] for c in emulator.campaigns()}
    assert emulator.writes() == []
    missing = ws.run("state", "show", "bill-reminder")
    assert missing.code == 1


def test_force_unlock_removes_a_stale_lock(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    ws.plant_lock_info(
        {
            "id": "1",
            "operation": "apply",
            "user": "ci",
            "host": "elsewhere",
            "pid": 99999999,
            "created": "2026-11-27T00:00:00Z",
            "version": "0.1.0",
        }
    )
    result = ws.run("force-unlock")
    assert result.code == 0, result.both
    assert "apply (pid 99999999 on elsewhere" in result.out
    assert not ws.lock_recorded()
    assert ws.run("force-unlock").out.startswith("No lock")


def test_the_parse_cache_gives_the_same_plan_and_keeps_lines(
    ws: Workspace, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`campaign-sync plan` twice with a parse cache of its own: the second run reads the cached
    values (the entries are not rewritten, only marked recently used) and prints the same plan as
    a run without the cache; a file then broken is parsed again and its error keeps its line."""
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    cache = tmp_path_factory.mktemp("parse-cache")
    with_cache = ws.env(CAMPAIGN_SYNC_CACHE_DIR=str(cache))
    first = ws.run("plan", "--no-color", env=with_cache)
    entries = sorted(cache.rglob("*.json"))
    assert len(entries) == 2  # sms.yaml and voice.yaml
    for entry in entries:
        os.utime(entry, ns=(1_000_000_000, 1_000_000_000))
    written = [(entry.stat().st_ino, entry.read_bytes()) for entry in entries]
    second = ws.run("plan", "--no-color", env=with_cache)
    without = ws.run("plan", "--no-color", env=ws.env(CAMPAIGN_SYNC_CACHE_DIR=""))
    assert first.code == second.code == without.code == 0
    assert first.out == second.out == without.out
    assert "~ sms bill-reminder" in second.out
    after = sorted(cache.rglob("*.json"))
    assert [(entry.stat().st_ino, entry.read_bytes()) for entry in after] == written  # not rewritten
    assert all(entry.stat().st_mtime_ns > 1_000_000_000 for entry in after)  # read: recently used
    edit(ws, "sms.yaml", "priority: 4", "priority: 4\n    priority: 5")
    broken = ws.run("validate", env=with_cache)
    assert broken.code == 1
    assert "manifests/sms.yaml:25: duplicate key 'priority'" in broken.err

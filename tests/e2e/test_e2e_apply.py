"""`apply` end to end: minimal writes, saved plans, faults, signals, locking, state safety."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.harness import ACCOUNT, CANARY_SECRET, PG_CANARY_PASSWORD, Emulator, Workspace
from tests.e2e.support import ADVANCED, AGENTLESS, BILL, PREVIEW, base_seed, edit, setup, wait_for

pytestmark = pytest.mark.e2e


def puts(emulator: Emulator) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in emulator.journal() if e["method"] == "PUT"]


def test_no_op_apply_makes_zero_write_requests(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    result = ws.run("apply", "--auto-approve")
    assert result.code == 0, result.both
    assert "No changes." in result.out
    assert emulator.writes() == []
    assert emulator.count("GET") == 0  # every campaign came from the state's cache


def test_one_change_is_exactly_one_put_with_the_full_body(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Chat-enabled SMS support", "description: Now with weekend hours")
    result = ws.run("apply", "--auto-approve")
    assert result.code == 0, result.both
    (put,) = emulator.writes()
    assert put["method"] == "PUT"
    assert put["path"].endswith(f"/campaign/{ADVANCED}")
    assert put["query"] == {"accountId": ACCOUNT, "campaignType": "sms"}
    body = put["body"]
    assert body == {
        "name": "Interactive Support SMS Campaign",
        "description": "Now with weekend hours",
        "contactLists": ["CL Only 2020 Dec 4"],
        "dncLists": {"name": "testdnc"},
        "priority": "5",
        "format": "advanced",
        "campaignType": "sms",
        "experienceFlowName": "SMS Support Flow",
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+919876543210"},
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "Asia/Kolkata",
                "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}],
            },
        },
        "schedule": {"isSchedulingEnabled": False},
    }
    assert emulator.campaign(ADVANCED)["description"] == "Now with weekend hours"
    state = ws.state()
    assert state["campaigns"]["interactive-support"]["applied"]["description"] == "Now with weekend hours"
    emulator.clear_journal()
    again = ws.run("plan", "--detailed-exitcode")
    assert again.code == 0, again.both
    assert emulator.count("GET") == 0  # the PUT response was cached


def test_fields_the_manifest_leaves_out_survive_the_put(ws: Workspace, emulator: Emulator) -> None:
    seed = base_seed()
    for campaign in seed["campaigns"]:
        if campaign["_id"] == BILL:
            campaign["dncLists"] = {"name": "testdnc"}
            campaign["message"]["template_name"] = "Welcome"
            campaign["schedule"] = {"isSchedulingEnabled": True}
    emulator.seed(seed)
    setup(ws, emulator, seed=False)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Due soon")
    assert ws.run("apply", "--auto-approve").code == 0
    (put,) = emulator.writes()
    assert put["body"]["dncLists"] == {"name": "testdnc"}
    live = emulator.campaign(BILL)
    assert live["description"] == "Due soon"
    assert live["dncLists"]["name"] == "testdnc"
    assert live["message"]["template_name"] == "Welcome"
    assert live["schedule"]["isSchedulingEnabled"] is True


def test_voice_queue_survives_through_the_list_connection(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "voice.yaml", "maxRingTime: 40", "maxRingTime: 45")
    assert ws.run("apply", "--auto-approve").code == 0
    (put,) = emulator.writes()
    assert put["query"]["campaignType"] == "voice"
    assert put["body"]["queue_name"] == "Support Queue"
    assert put["body"]["maxSkips"] == 2
    assert emulator.campaign(PREVIEW)["queue_name"] == "Support Queue"


def test_create_then_a_second_plan_has_no_changes(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator, adopt=False, seed=False)
    result = ws.run("apply", "--auto-approve")
    assert result.code == 0, result.both
    creates = [e for e in emulator.writes() if e["method"] == "POST"]
    assert len(creates) == 4
    assert {e["query"]["campaignType"] for e in creates} == {"sms", "voice"}
    state = ws.state()
    assert set(state["campaigns"]) == {
        "interactive-support",
        "bill-reminder",
        "collections",
        "product-feedback",
    }
    assert state["flows"]["SMS Support Flow"].startswith("cf-")
    plan = ws.run("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.both
    assert "No changes." in plan.out


def test_delete_needs_allow_delete(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    text = (ws.root / "manifests" / "voice.yaml").read_text()
    ws.write("manifests/voice.yaml", text.split("  - key: product-feedback")[0])
    refused = ws.run("apply", "--auto-approve")
    assert refused.code == 1
    assert "--allow-delete" in refused.err
    assert "product-feedback" in refused.err
    assert emulator.writes() == []
    done = ws.run("apply", "--auto-approve", "--allow-delete")
    assert done.code == 0, done.both
    (delete,) = emulator.writes()
    assert delete["method"] == "DELETE"
    assert delete["query"] == {"accountId": ACCOUNT, "campaignType": "voice"}
    assert AGENTLESS not in {c["_id"] for c in emulator.campaigns()}
    assert "product-feedback" not in ws.state()["campaigns"]


def test_saved_plan_is_applied_exactly(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    plan = ws.run("plan", "--out", "plan.json")
    assert plan.code == 0, plan.both
    saved = json.loads((ws.root / "plan.json").read_text())
    assert saved["manifestsDigest"].startswith("sha256:")
    assert saved["state"]["serial"] == ws.state()["serial"]
    assert saved["state"]["lineage"] == ws.state()["lineage"]
    assert saved["plan"]["digest"].startswith("sha256:")
    assert "Plan digest: " + saved["plan"]["digest"] in plan.out
    ((key, version),) = saved["versions"].items()
    assert key == saved["plan"]["changes"][0]["key"]
    assert version["updatedAt"]
    assert version["contentHash"].startswith("sha256:")
    assert "body" not in json.dumps(saved)  # nothing in the file is ever sent
    emulator.clear_journal()
    result = ws.run("apply", "plan.json")
    assert result.code == 0, result.both
    (put,) = emulator.writes()
    assert put["body"]["priority"] == "4"
    assert emulator.count("GET") == 0  # updatedAt unchanged: the list calls were enough


def test_stale_plan_is_refused_with_zero_writes_and_says_what_moved(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("plan", "--out", "plan.json").code == 0
    emulator.patch(BILL, {"description": "Edited in the UI meanwhile"})
    emulator.clear_journal()
    result = ws.run("apply", "plan.json")
    assert result.code == 1
    assert "stale plan" in result.err
    assert "bill-reminder" in result.err
    assert 'description: "Due date reminder" -> "Edited in the UI meanwhile"' in result.err
    assert emulator.writes() == []


def test_a_harmless_bump_does_not_make_the_plan_stale(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("plan", "--out", "plan.json").code == 0
    emulator.patch(BILL, {"description": "Due date reminder"})  # same value: only updatedAt moves
    result = ws.run("apply", "plan.json")
    assert result.code == 0, result.both
    assert len(emulator.writes()) == 1


def test_changed_manifests_make_a_saved_plan_stale(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("plan", "--out", "plan.json").code == 0
    edit(ws, "sms.yaml", "priority: 4", "priority: 2")
    result = ws.run("apply", "plan.json")
    assert result.code == 1
    assert "manifests changed" in result.err
    assert emulator.writes() == []


def test_sigkill_after_the_put_was_applied_then_rerun_converges(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Killed mid-apply")
    emulator.fault(method="PUT", path=BILL, holdAfterApply=30)
    proc = ws.popen("apply", "--auto-approve")
    wait_for(lambda: len(puts(emulator)) == 1, "the PUT to be applied")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    emulator.release()
    assert emulator.campaign(BILL)["description"] == "Killed mid-apply"
    rerun = ws.run("apply", "--auto-approve")
    assert rerun.code == 0, rerun.both
    assert len(puts(emulator)) == 1, "the rerun must not write again"
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["description"] == "Killed mid-apply"
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_sigint_finishes_the_request_in_flight_saves_state_and_exits_130(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Chat-enabled SMS support", "description: First")
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Second")
    emulator.fault(method="PUT", path=BILL, holdAfterApply=30)  # bill-reminder is written first
    proc = ws.popen("apply", "--auto-approve")
    wait_for(lambda: len(puts(emulator)) == 1, "the first PUT")
    proc.send_signal(signal.SIGINT)
    emulator.release()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert CANARY_SECRET not in out + err
    assert "Traceback" not in err
    assert len(puts(emulator)) == 1, "nothing after the request in flight"
    state = ws.state()
    assert state["campaigns"]["bill-reminder"]["applied"]["description"] == "Second"
    assert state["campaigns"]["interactive-support"]["applied"]["description"] == "Chat-enabled SMS support"
    assert "skipped" in out
    assert not ws.lock_recorded()
    rest = ws.run("apply", "--auto-approve")
    assert rest.code == 0, rest.both
    assert len(puts(emulator)) == 2


def test_two_applies_at_once_one_writes_the_other_names_the_lock(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Only once")
    emulator.fault(method="PUT", path=BILL, holdAfterApply=30)
    first = ws.popen("apply", "--auto-approve")
    wait_for(lambda: len(puts(emulator)) == 1, "the first apply's PUT")
    second = ws.run("apply", "--auto-approve")
    emulator.release()
    out, err = first.communicate(timeout=30)
    assert first.returncode == 0, out + err
    assert second.code == 1
    assert "state is locked by apply (pid" in second.err
    assert str(first.pid) in second.err
    assert len(puts(emulator)) == 1


@pytest.mark.parametrize("damage", ["{ not json", "", '{"version": 99}'])
def test_corrupt_state_is_refused_without_writes(ws: Workspace, emulator: Emulator, damage: str) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("apply", "--auto-approve").code == 0  # a second save leaves a .backup
    edit(ws, "sms.yaml", "priority: 4", "priority: 5")
    emulator.clear_journal()
    ws.put_state(damage)
    result = ws.run("apply", "--auto-approve")
    assert result.code == 1
    assert "unreadable" in result.err
    assert (".backup" if ws.backend == "file" else "campaign-sync state history") in result.err
    assert emulator.writes() == []
    assert ws.state_bytes() == damage.encode()


def test_foreign_state_is_refused_for_a_saved_plan(ws: Workspace, emulator: Emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("plan", "--out", "plan.json").code == 0
    state = ws.state()
    state["lineage"] = "00000000-0000-4000-8000-00000000beef"
    ws.put_state(json.dumps(state))
    result = ws.run("apply", "plan.json")
    assert result.code == 1
    assert "lineage" in result.err
    assert "00000000-0000-4000-8000-00000000beef" in result.err
    assert emulator.writes() == []


def test_one_persistent_failure_does_not_stop_the_others(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Chat-enabled SMS support", "description: A")
    edit(ws, "sms.yaml", "description: Due date reminder", "description: B")
    edit(ws, "voice.yaml", "description: Overdue balances", "description: C")
    fault = emulator.fault(method="PUT", path=BILL, statuses=[500], times=-1)
    result = ws.run("apply", "--auto-approve")
    assert result.code == 1
    assert "bill-reminder" in result.out
    assert "failed" in result.out
    assert "HTTP 500" in result.out
    assert "Apply: 2 applied, 1 failed, 0 skipped." in result.out
    state = ws.state()["campaigns"]
    assert state["interactive-support"]["applied"]["description"] == "A"
    assert state["collections"]["applied"]["description"] == "C"
    assert state["bill-reminder"]["applied"]["description"] == "Due date reminder"
    assert emulator.campaign(ADVANCED)["description"] == "A"
    del fault
    emulator._call("DELETE", "faults")
    emulator.clear_journal()
    plan = ws.run("plan")
    assert "Plan: 0 to create, 1 to update" in plan.out
    rerun = ws.run("apply", "--auto-approve")
    assert rerun.code == 0, rerun.both
    (put,) = emulator.writes()
    assert put["path"].endswith(BILL)


def test_blocked_active_campaign_fails_clearly_while_the_rest_apply(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(ws, "voice.yaml", "description: Overdue balances", "description: C")
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    emulator.start(PREVIEW)
    result = ws.run("apply", "--auto-approve")
    assert result.code == 1
    assert "campaign is Active and cannot be updated" in result.out
    assert [e["path"].rsplit("/", 1)[-1] for e in emulator.writes()] == [BILL]


def test_apply_without_a_terminal_needs_auto_approve_and_calls_nothing(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    result = ws.run("apply")
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert emulator.journal() == []


def test_unwritable_state_location_fails_before_any_request(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator, adopt=False)
    env = ws.env()
    if ws.backend == "file":
        (ws.root / "blocker").write_text("a file where the state directory should be")
        ws.write_config("state: blocker/test.state.json\n")
        expected = "cannot write the state"
    else:  # a database that does not answer: nothing is sent to the API either
        env["UNREACHABLE_DSN"] = f"postgresql://campaign_sync:{PG_CANARY_PASSWORD}@127.0.0.1:1/campaign_sync"
        ws.write_config("state: {backend: postgres, dsnEnv: UNREACHABLE_DSN}\n")
        expected = "cannot connect to postgres state 'test'"
    result = ws.run("apply", "--auto-approve", env=env)
    assert result.code == 1
    assert expected in result.err
    assert "Traceback" not in result.err
    assert emulator.journal() == []


def test_second_sigint_stops_at_once_and_releases_the_lock(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Interrupted twice")
    emulator.fault(method="PUT", path=BILL, holdAfterApply=30)
    proc = ws.popen("apply", "--auto-approve")
    wait_for(lambda: len(puts(emulator)) == 1, "the PUT to be in flight")
    proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None
    seen = ""
    while "finishing the request in flight" not in seen:  # the first signal was handled
        line = proc.stderr.readline()
        assert line, "apply ended before handling the first SIGINT"
        seen += line
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    err = seen + err
    emulator.release()
    assert proc.returncode == 130, out + err
    assert "state may lag" in err
    assert "Traceback" not in err
    again = ws.run("apply", "--auto-approve")  # the lock was released; the rerun reconciles from live
    assert again.code == 0, again.both
    assert len(puts(emulator)) == 1
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["description"] == "Interrupted twice"


def test_a_server_that_rewrites_values_converges_without_an_update_loop(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    emulator.settings(normalizeTimes=True)
    edit(
        ws,
        "sms.yaml",
        '{day: FR, start: "10:00 AM", end: "3:00 PM"}',
        '{day: FR, start: "9:00 AM", end: "3:00 PM"}',
    )
    assert ws.run("apply", "--auto-approve").code == 0
    days = emulator.campaign(BILL)["dialingStrategy"]["callingHours"]["days"]
    assert {"day": "FR", "start": "09:00 AM", "end": "03:00 PM"} in days  # the server rewrote them
    result = ws.run("plan", "--detailed-exitcode")
    assert result.code == 0, result.both
    assert len(puts(emulator)) == 1


def _apply_in_a_terminal(ws: Workspace, answer: str) -> tuple[int, str]:
    """Run `campaign-sync apply` on a pseudo-terminal and answer its question."""
    import os
    import pty

    from tests.e2e.harness import command

    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command, on the terminal
        os.chdir(ws.root)
        os.execve(command()[0], [*command(), "apply"], ws.env())  # noqa: S606 - argv, no shell
    output = b""
    answered = False
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"Only 'yes' is accepted" in output:
            os.write(fd, answer.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_apply_on_a_terminal_asks_and_only_yes_applies(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    code, output = _apply_in_a_terminal(ws, "y")
    assert code == 1, output
    assert "Plan: 0 to create, 1 to update" in output
    assert "Apply cancelled; nothing was changed." in output
    assert emulator.writes() == []
    code, output = _apply_in_a_terminal(ws, "yes")
    assert code == 0, output
    assert "Apply: 1 applied, 0 failed, 0 skipped." in output
    assert len(emulator.writes()) == 1


def test_renaming_a_key_keeps_the_live_campaign(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "key: bill-reminder", "key: bill-reminder-sms")
    result = ws.run("apply", "--auto-approve", "--allow-delete")
    assert result.code == 0, result.both
    assert emulator.writes() == []
    assert BILL in {c["_id"] for c in emulator.campaigns()}
    campaigns = ws.state()["campaigns"]
    assert "bill-reminder" not in campaigns
    assert campaigns["bill-reminder-sms"]["id"] == BILL

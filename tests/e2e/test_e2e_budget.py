"""Bounded runs, writes resolved by reading, and signals during the last write: the real command, real HTTP.

Each test drives ``campaign-sync`` as a subprocess against the emulator on 127.0.0.1 and asserts on
the exit code, the output and the emulator's journal (counts, never wall-clock time).
"""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.harness import CANARY_SECRET, Emulator, Workspace
from tests.e2e.support import ADVANCED, BILL, PREVIEW, edit, setup, wait_for

pytestmark = pytest.mark.e2e


def _methods(emulator: Emulator) -> list[str]:
    return [e["method"] for e in emulator.journal()]


def _three_changes(ws: Workspace) -> None:
    edit(ws, "sms.yaml", "description: Chat-enabled SMS support", "description: A")
    edit(ws, "sms.yaml", "description: Due date reminder", "description: B")
    edit(ws, "voice.yaml", "description: Overdue balances", "description: C")


def test_a_429_storm_with_a_huge_retry_after_ends_at_once_saying_nothing_was_applied(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    _three_changes(ws)
    before = ws.state()
    emulator.fault(method="PUT", statuses=[429], retryAfter="999999", times=-1)

    result = ws.run("apply", "--auto-approve")

    assert result.code == 1, result.both
    assert "the API asked to wait 999999s (Retry-After)" in result.err
    assert (
        "Applied and recorded in state: none; not applied: 3 (bill-reminder, collections, interactive-support)"
        in (result.err)
    )
    assert "Apply: 0 applied, 1 failed, 2 skipped." in result.out
    assert "Traceback" not in result.both
    assert "unexpected" not in result.both
    assert _methods(emulator).count("PUT") == 1, "one refused PUT, no waiting, no retries"
    assert ws.state()["campaigns"] == before["campaigns"]


def test_a_run_stopped_by_its_budget_names_what_was_applied_and_recorded(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    _three_changes(ws)
    emulator.fault(method="PUT", path=PREVIEW, statuses=[429], retryAfter="30", times=-1)

    result = ws.run("--timeout", "20", "apply", "--auto-approve")

    assert result.code == 1, result.both
    assert (
        "Applied and recorded in state: 1 (bill-reminder); not applied: 2 (collections, interactive-support)"
        in (result.err)
    )
    assert "longer --timeout" in result.err
    state = ws.state()["campaigns"]
    assert state["bill-reminder"]["applied"]["description"] == "B"
    assert state["interactive-support"]["applied"]["description"] == "Chat-enabled SMS support"
    assert emulator.campaign(ADVANCED)["description"] == "Chat-enabled SMS support"
    rest = [e for e in emulator.writes() if e["status"] == 200]
    assert [e["path"].rsplit("/", 1)[-1] for e in rest] == [BILL]


def test_a_list_that_repeats_its_page_forever_stops_on_page_two(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    page = {"status": "success", "data": {"results": [{"id": BILL, "name": "x"}], "hasMore": True}}
    emulator.fault(method="POST", path="getAllCampaignDetails", rawBody=json.dumps(page), times=-1)

    result = ws.run("plan")

    assert result.code == 1, result.both
    assert "the server repeats pages" in result.err
    assert _methods(emulator) == ["POST", "POST"]


def test_a_lost_put_response_is_one_put_and_success_is_recorded(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    emulator.fault(method="PUT", path=BILL, dropAfterApply=True, times=-1)

    result = ws.run("apply", "--auto-approve")

    assert result.code == 0, result.both
    assert "Apply: 1 applied, 0 failed, 0 skipped." in result.out
    assert "read back holds the update" in result.err
    puts = [e for e in emulator.journal() if e["method"] == "PUT"]
    assert len(puts) == 1, "exactly one PUT: the read-back showed it took"
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["priority"] == "4"
    emulator._call("DELETE", "faults")
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_a_managed_campaign_missing_from_the_list_is_read_by_id_never_created(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    emulator.fault(method="POST", path="getAllCampaignDetails", listOmit=[BILL], times=-1)

    result = ws.run("apply", "--auto-approve")

    assert result.code == 1, result.both
    assert f"did not include bill-reminder ({BILL}), yet reading it by id succeeds" in result.err
    gets = [e for e in emulator.journal() if e["method"] == "GET"]
    assert [e["path"].rsplit("/", 1)[-1] for e in gets] == [BILL]
    assert emulator.writes() == [], "no POST, no write at all"


def test_a_campaign_deleted_outside_is_confirmed_by_a_404_then_planned_as_a_create(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    emulator.delete(BILL)

    result = ws.run("plan")

    assert result.code == 0, result.both
    assert "+ sms bill-reminder" in result.out
    gets = [(e["path"].rsplit("/", 1)[-1], e["status"]) for e in emulator.journal() if e["method"] == "GET"]
    assert gets == [(BILL, 404)]


def test_a_deeply_nested_response_is_a_protocol_error_not_a_crash(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.fault(method="GET", rawBody="[" * 100_000 + "]" * 100_000, times=-1)

    result = ws.run("plan", "--refresh", "full")

    assert result.code == 1, result.both
    assert "nested too deeply to parse" in result.err
    assert "HTTP 200" in result.err
    assert "unexpected RecursionError" not in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_last_write_exits_130_with_state_saved_and_lock_released(
    ws: Workspace, emulator: Emulator, sig: signal.Signals
) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Last and only")
    emulator.fault(method="PUT", path=BILL, holdAfterApply=30)
    proc = ws.popen("apply", "--auto-approve")
    wait_for(lambda: any(e["method"] == "PUT" for e in emulator.journal()), "the PUT to be in flight")
    proc.send_signal(sig)
    assert proc.stderr is not None
    seen = ""
    while "finishing the request in flight" not in seen:
        line = proc.stderr.readline()
        assert line, "apply ended before handling the signal"
        seen += line
    emulator.release()
    out, err = proc.communicate(timeout=30)
    err = seen + err

    assert proc.returncode == 130, out + err
    assert CANARY_SECRET not in out + err
    assert "Traceback" not in err
    assert "Apply: 1 applied, 0 failed, 0 skipped." in out
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["description"] == "Last and only"
    assert not (ws.state_path.parent / "test.state.json.lock.info").exists()
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_retries_and_pauses_show_as_progress_lines_and_quiet_silences_them(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    emulator.fault(method="POST", path="getAllCampaignDetails", statuses=[429], retryAfter="1")

    shown = ws.run("plan")

    assert shown.code == 0, shown.both
    assert "-> HTTP 429; retrying in 1.0s (attempt 2 of 6)" in shown.err
    assert "pausing every request to the account 1.0s (Retry-After)" in shown.err
    emulator.fault(method="POST", path="getAllCampaignDetails", statuses=[429], retryAfter="1")
    quiet = ws.run("-q", "plan")
    assert quiet.code == 0, quiet.both
    assert "retrying" not in quiet.err
    assert "pausing" not in quiet.err


def test_connection_refused_retries_are_shown_and_the_budget_ends_them(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    port = emulator.server.url.rsplit(":", 1)[1]
    emulator.server.stop()

    result = ws.run("--timeout", "2", "plan")

    assert result.code == 1, result.both
    assert f"cannot connect to 127.0.0.1:{port}" in result.err
    assert "retrying in" in result.err
    # Whichever ends first: the 2 s run budget, or six quick jittered attempts.
    assert "run budget exhausted" in result.err or "gave up after 6 attempts" in result.err
    assert "Traceback" not in result.err


def test_a_budget_that_runs_out_before_any_write_says_nothing_was_applied(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    _three_changes(ws)
    emulator.fault(method="POST", path="getAllCampaignDetails", statuses=[429], retryAfter="600", times=-1)

    result = ws.run("--timeout", "300", "apply", "--auto-approve")

    assert result.code == 1, result.both
    assert "run budget exhausted" in result.err
    assert "nothing was applied" in result.err
    assert emulator.writes() == []

"""The CLI's edges end to end: a closed pipe, one line per campaign, targeting notices, approval
without a terminal, shell completion."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.harness import Emulator, Workspace, command
from tests.e2e.support import edit, setup

pytestmark = pytest.mark.e2e


def plant_many(ws: Workspace, emulator: Emulator, n: int) -> None:
    """A state of ``n`` campaigns (copies of one real record), as a long-lived account has."""
    setup(ws, emulator)
    state = ws.state()
    record = state["campaigns"]["bill-reminder"]
    state["campaigns"] = {
        f"reminder-{i:05d}": {**record, "id": f"cd-00000000-0000-4000-8000-{i:012d}", "name": f"Reminder {i}"}
        for i in range(n)
    }
    ws.put_state(json.dumps(state))


def test_a_reader_that_goes_away_ends_the_command_quietly(ws: Workspace, emulator: Emulator) -> None:
    plant_many(ws, emulator, 3000)  # ~200 KB of output: far more than a pipe buffer holds
    proc = subprocess.Popen(
        [*command(), "state", "list"],
        cwd=ws.root,
        env=ws.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away while the command still has lines to write
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert first.startswith(b"reminder-00000 ")
    assert err == b""  # no message, no traceback, no "Exception ignored"

    full = ws.run("state", "list")  # with a reader to the end, every line arrives
    assert full.code == 0, full.err
    assert len(full.out.splitlines()) == 3000


def test_a_closed_pipe_through_a_shell_is_quiet_too(ws: Workspace, emulator: Emulator) -> None:
    plant_many(ws, emulator, 3000)
    cli = " ".join(f"'{part}'" for part in command())
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {cli} state list | head -n 2 >/dev/null; echo ${{PIPESTATUS[0]}}"],
        cwd=ws.root,
        env=ws.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == "141"
    assert result.stderr == ""


def test_state_list_is_one_line_per_campaign_whatever_the_names(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    state = ws.state()
    records = state["campaigns"]
    records["bill-reminder"]["name"] = "Bill\nfake-key  sms    cd-1  Fake\x1b[2J\u202e"
    records["evil\nkey\r\x07"] = records.pop("collections")
    ws.put_state(json.dumps(state))
    result = ws.run("state", "list")
    assert result.code == 0, result.both
    lines = result.out.splitlines()
    assert len(lines) == 4
    assert not any(ch in result.out for ch in "\x1b\r\x07\u202e")
    bill = next(line for line in lines if line.startswith("bill-reminder"))
    assert bill.endswith("Bill\\u000afake-key  sms    cd-1  Fake\\u001b[2J\\u202e")
    assert any(line.startswith("evil\\u000akey\\u000d\\u0007 ") for line in lines)


def test_target_says_that_targeting_is_in_effect(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Targeted")
    notice = "Targeting is in effect: only 1 of 4 campaigns was considered; "
    plan = ws.run("plan", "--target", "bill-reminder")
    assert plan.code == 0, plan.both
    assert f"Warning: {notice}the plan may be incomplete" in plan.err
    assert plan.out.rstrip().splitlines()[-1].startswith(notice)  # in the plan's text output too
    two = ws.run("plan", "--target", "bill-reminder", "--target", "collections", "--format", "json")
    assert "only 2 of 4 campaigns were considered" in two.err
    assert json.loads(two.out)["environment"] == "test"  # JSON stays JSON
    comment = ws.run("plan", "--target", "bill-reminder", "--format", "markdown")  # a PR comment says it too
    assert comment.code == 0, comment.both
    assert "\n- Targeting is in effect: only 1 of 4 campaigns was considered" in comment.out  # a warning
    assert comment.out.count("Targeting is in effect") == 1
    assert "Targeting" not in ws.run("plan", "--format", "markdown").out
    untargeted = ws.run("plan")
    assert "Targeting" not in untargeted.both

    drift = ws.run("drift", "--target", "collections")
    assert drift.code == 0, drift.both
    assert f"{notice}drift of the other campaigns is not reported" in drift.err

    apply = ws.run("apply", "--auto-approve", "--target", "bill-reminder")
    assert apply.code == 0, apply.both
    assert f"Warning: {notice}changes to the other campaigns are not applied" in apply.err
    assert notice in apply.out
    assert len([w for w in emulator.writes() if w["method"] == "PUT"]) == 1


def test_a_saved_targeted_plan_says_that_targeting_is_in_effect_when_applied(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Targeted")
    edit(ws, "sms.yaml", "priority: 5", "priority: 4")  # interactive-support: left out by the target
    saved = ws.run("plan", "--target", "bill-reminder", "--out", "plan.json")
    assert saved.code == 0, saved.both
    notice = "Targeting is in effect: only 1 of 4 campaigns was considered; "
    applied = ws.run("apply", "plan.json")
    assert applied.code == 0, applied.both
    assert f"Warning: {notice}changes to the other campaigns are not applied" in applied.err
    assert notice in applied.out
    assert len([w for w in emulator.writes() if w["method"] == "PUT"]) == 1
    whole = ws.run("plan", "--out", "all.json")
    assert whole.code == 0, whole.both
    rest = ws.run("apply", "all.json")
    assert rest.code == 0, rest.both
    assert "Targeting" not in rest.both  # an untargeted saved plan: no notice
    assert len([w for w in emulator.writes() if w["method"] == "PUT"]) == 2  # the one the target left


def test_apply_without_a_terminal_or_approval_is_one_clear_error(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Needs approval")
    result = ws.run("apply", input="")  # stdin is not a terminal
    assert result.code == 1
    assert result.out == ""
    assert "Usage:" not in result.err
    assert "Try 'campaign-sync" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("Error: apply needs approval")
    assert "--auto-approve" in lines[0]
    assert "plan --out plan.json" in lines[0]
    assert emulator.journal() == []  # refused before any request


def test_a_long_retry_wait_is_not_silent_without_a_terminal(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.fault(method="POST", path="getAllCampaignDetails", statuses=[503], retryAfter="7")
    result = ws.run("plan")  # stderr is a pipe here, as in CI
    assert result.code == 0, result.both
    lines = result.err.splitlines()
    retry = [i for i, line in enumerate(lines) if "-> HTTP 503; retrying in 7.0s (attempt 2 of" in line]
    assert len(retry) == 1, result.err
    waiting = [line for line in lines if line.startswith("waiting to retry: still waiting, 2s left")]
    assert len(waiting) == 1, result.err  # one more line when the clock passed 5 s of the 7 s wait

"""Guards a user meets in the first hour: placeholders, wrong flow pairings, signals before any
write, unwritable outputs, stale state entries, and API errors that name the manifest line."""

from __future__ import annotations

import signal

import pytest
from click.testing import CliRunner

from campaign_sync.cli import cli
from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import ADVANCED, BILL, edit, setup, wait_for

pytestmark = pytest.mark.e2e


def test_placeholders_warn_in_validate_and_stop_plan_before_any_request(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(
        ws,
        "sms.yaml",
        "contactLists: [CL Only 2020 Dec 4, Renewals Q3]",
        "contactLists: [REPLACE-WITH-A-CONTACT-LIST]",
    )
    checked = ws.run("validate")
    assert checked.code == 0, checked.both
    assert "warning: manifests/sms.yaml:" in checked.err
    assert "bill-reminder.contactLists[0]: still a placeholder (REPLACE-WITH-A-CONTACT-LIST)" in checked.err
    emulator.clear_journal()
    planned = ws.run("plan")
    assert planned.code == 1
    assert "still a placeholder" in planned.err
    assert emulator.journal() == []


def test_a_wrong_flow_pairing_in_the_config_is_reported(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    ws.write_config('experienceFlows: {"SMS Support Flow": cf-00000000-0000-5000-8000-000000000000}\n')
    applied = ws.run("apply", "--auto-approve")
    assert applied.code == 0, applied.both
    assert "the platform resolved experienceFlowName 'SMS Support Flow' to cf-dc1fdd73" in applied.out
    planned = ws.run("plan")
    assert "experienceFlows in campaign-sync.yaml pairs 'SMS Support Flow' with cf-00000000" in planned.out


def test_sigterm_before_any_write_exits_130_and_releases_the_lock(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    emulator.fault(method="POST", path="getAllCampaignDetails", delay=30, times=1)
    proc = ws.popen("apply", "--auto-approve")
    wait_for(ws.lock_recorded, "apply to take the lock")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert not ws.lock_recorded()
    assert emulator.writes() == []


def test_plan_out_to_a_missing_folder_is_a_clear_error(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    result = ws.run("plan", "--out", "no/such/folder/plan.json")
    assert result.code == 1
    assert "cannot save the plan to no/such/folder/plan.json" in result.err
    assert "unexpected" not in result.err


def test_api_errors_during_apply_name_the_manifest_line(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "contactLists: [CL Only 2020 Dec 4, Renewals Q3]", "contactLists: [No Such List]")
    result = ws.run("apply", "--auto-approve")
    assert result.code == 1
    assert "manifests/sms.yaml:" in result.out
    assert "No Such List" in result.out


def test_import_replaces_an_entry_whose_campaign_was_deleted(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.delete(BILL)
    replacement = emulator.seed(
        {
            "campaigns": [
                {
                    "name": "Bill Reminder",
                    "description": "Due date reminder",
                    "contactLists": ["CL Only 2020 Dec 4"],
                    "priority": "3",
                    "format": "simple",
                    "campaignType": "sms",
                    "message": {"message": "WW91ciBiaWxsIGlzIGR1ZSBvbiBGcmlkYXk="},
                    "dialingStrategy": {
                        "callerId": {"phoneNumber": "+14155550100"},
                        "callingHours": {
                            "frequency": "WEEKLY",
                            "timezone": "America/Los_Angeles",
                            "days": [{"day": "MO", "start": "10:00 AM", "end": "5:00 PM"}],
                        },
                    },
                }
            ]
        }
    )["Bill Reminder"]
    result = ws.run("import", "bill-reminder", replacement)
    assert result.code == 0, result.both
    assert ws.state()["campaigns"]["bill-reminder"]["id"] == replacement
    still_there = ws.run("import", "interactive-support", replacement)
    assert still_there.code == 1
    assert f"already manages {ADVANCED}, which still exists" in still_there.err


def test_state_commands_take_the_global_options(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    result = ws.run("state", "-e", "test", "list")
    assert result.code == 0, result.both
    assert BILL in result.out


def test_the_emulator_refuses_a_public_address_with_a_clear_message() -> None:
    result = CliRunner().invoke(cli, ["emulator", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 1
    assert "the emulator cannot start: refusing to bind 0.0.0.0" in result.output

"""State end to end, on both backends: identity, older copies, history, migration, and secrets.

Each refusal is checked with the emulator's journal: zero requests reached the API.
"""

from __future__ import annotations

import json
import re
import signal

import pytest

from tests.e2e.harness import (
    ACCOUNT,
    CANARY_SECRET,
    PG_CANARY_PASSWORD,
    PG_DSN_ENV,
    STREAM,
    Emulator,
    Workspace,
)
from tests.e2e.support import BILL, edit, setup, wait_for
from tests.pgstate import PgSchema

pytestmark = pytest.mark.e2e
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def puts(emulator: Emulator) -> int:
    return sum(1 for e in emulator.journal() if e["method"] == "PUT")


def test_every_state_records_its_environment(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    identity = ws.state()["identity"]
    assert identity == {
        "environment": "test",
        "host": emulator.url,
        "streamId": STREAM,
        "accountId": ACCOUNT,
    }


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["drift"], ["state", "list"]])
def test_a_state_of_another_account_is_refused_naming_both_with_zero_requests(
    ws: Workspace, emulator: Emulator, command: list[str]
) -> None:
    setup(ws, emulator)
    foreign = ws.state()
    foreign["identity"]["accountId"] = "another-account-0001"
    ws.put_state(json.dumps(foreign, indent=2, sort_keys=True) + "\n")
    before = ws.state_bytes()
    emulator.clear_journal()
    result = ws.run(*command)
    assert result.code == 1, result.both
    assert f"accountId 'another-account-0001' vs '{ACCOUNT}'" in result.err
    assert "belongs to environment 'test'" in result.err
    assert emulator.journal() == []
    assert ws.state_bytes() == before


def test_an_older_copy_put_back_is_refused_with_zero_requests_until_apply_force(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    old = ws.state_bytes()
    assert old is not None
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("apply", "--auto-approve").code == 0
    newest = ws.state()["serial"]
    ws.put_state(old)  # e.g. `cp test.state.json.backup test.state.json`
    emulator.clear_journal()
    for command in (["plan"], ["apply", "--auto-approve"], ["drift"]):
        refused = ws.run(*command)
        assert refused.code == 1, refused.both
        assert f"at serial {newest - 1}, but serial {newest} of the same lineage" in refused.err
        assert "apply --force" in refused.err
    assert emulator.journal() == []
    accepted = ws.run("apply", "--auto-approve", "--force")
    assert accepted.code == 0, accepted.both
    assert f"saved as serial {newest + 1}" in accepted.err
    assert ws.state()["serial"] == newest + 1
    assert emulator.writes() == []  # live already has the manifest's value: the state learns it again
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["priority"] == "4"
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_a_state_from_before_identities_is_accepted_and_stamped_on_the_next_write(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    legacy = ws.state()
    del legacy["identity"]
    legacy["serial"] += 1  # as if an older campaign-sync had written it since
    ws.put_state(json.dumps(legacy, indent=2, sort_keys=True) + "\n")
    planned = ws.run("plan", "--detailed-exitcode")
    assert planned.code == 0, planned.both
    assert "records no environment identity" in planned.err
    assert "identity" not in ws.state()
    applied = ws.run("apply", "--auto-approve")
    assert applied.code == 0, applied.both
    assert ws.state()["identity"]["environment"] == "test"
    assert ws.state()["serial"] == legacy["serial"] + 1
    assert "records no environment identity" not in ws.run("plan").err
    assert emulator.writes() == []


def test_state_history_and_pull(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    for old, new in (("3", "4"), ("4", "5"), ("5", "2")):
        edit(ws, "sms.yaml", f"priority: {old}", f"priority: {new}")
        assert ws.run("apply", "--auto-approve").code == 0
    current = ws.state()["serial"]
    listed = ws.run("state", "history", "--format", "json")
    assert listed.code == 0, listed.both
    history = json.loads(listed.out)
    assert history["current"] == current
    pulled = ws.run("state", "pull")
    assert pulled.code == 0
    assert pulled.out.encode() == ws.state_bytes()
    if ws.backend == "file":
        assert history["keepsHistory"] is False
        assert history["backup"] == current - 1
        assert history["serials"] == []
        text = ws.run("state", "history").out
        assert "keeps no history beyond its .backup copy" in text
        assert ws.run("state", "pull", "--serial", str(current - 1)).out.encode() == (
            ws.state_path.with_name("test.state.json.backup").read_bytes()
        )
        assert ws.run("state", "pull", "--serial", "1").code == 1
    else:
        assert ws.pg is not None
        stored = ws.pg.history()
        assert [e["serial"] for e in history["serials"]] == list(range(1, current + 1))
        assert [s for s, _ in stored] == list(range(1, current + 1))
        text = ws.run("state", "history").out
        assert f"{current}  " in text
        assert "(current)" in text
        for serial, data in stored:
            assert ws.run("state", "pull", "--serial", str(serial)).out.encode() == data


def test_migrate_file_to_postgres_to_file_round_trips_byte_for_byte(
    tmp_path, emulator: Emulator, pg: PgSchema
) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace(tmp_path / "repo", emulator)
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("apply", "--auto-approve").code == 0
    original = ws.state_bytes()
    assert original is not None
    env = ws.env(**{PG_DSN_ENV: pg.user_dsn})

    moved = ws.run("state", "migrate", "--to", f"postgres:{PG_DSN_ENV}?schema={pg.schema}", env=env)
    assert moved.code == 0, moved.both
    assert f"state: {{backend: postgres, dsnEnv: {PG_DSN_ENV}, schema: {pg.schema}}}" in moved.out
    assert pg.state_bytes() == original
    assert ws.state_bytes() == original  # the source is left as it was

    again = ws.run("state", "migrate", "--to", f"postgres:{PG_DSN_ENV}?schema={pg.schema}", env=env)
    assert again.code == 0, again.both
    assert "nothing to copy" in again.out

    on_pg = Workspace(ws.root, emulator, pg=pg)
    on_pg.write_config('experienceFlows: {"SMS Support Flow": cf-dc1fdd73-fa87-5044-9742-a7a5eb76c4f3}\n')
    emulator.clear_journal()
    planned = on_pg.run("plan", "--detailed-exitcode")
    assert planned.code == 0, planned.both
    assert emulator.count("GET") == 0  # the cache moved with the state

    back = on_pg.run("state", "migrate", "--to", "file:.campaign-sync/back.state.json")
    assert back.code == 0, back.both
    assert (ws.root / ".campaign-sync" / "back.state.json").read_bytes() == original
    assert (ws.root / ".campaign-sync" / "back.state.json").stat().st_mode & 0o777 == 0o600


def test_migrate_refuses_to_overwrite_another_state(tmp_path, emulator: Emulator, pg: PgSchema) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace(tmp_path / "repo", emulator, pg=pg)
    setup(ws, emulator)
    other = tmp_path / "repo" / "other.state.json"
    other.write_text(
        json.dumps(
            {
                "version": 1,
                "serial": 9,
                "lineage": "00000000-0000-4000-8000-00000000beef",
                "campaigns": {},
            }
        )
    )
    before = other.read_bytes()
    result = ws.run("state", "migrate", "--to", "file:other.state.json")
    assert result.code == 1
    assert (
        "already holds another state (lineage 00000000-0000-4000-8000-00000000beef, serial 9)" in result.err
    )
    assert other.read_bytes() == before


def test_migrate_never_takes_a_dsn_on_the_command_line(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    dsn = f"postgresql://campaign_sync:{PG_CANARY_PASSWORD}@127.0.0.1:5432/campaign_sync"
    result = ws.run("state", "migrate", "--to", dsn)  # run() asserts the password is not echoed
    assert result.code == 1
    assert "never the DSN itself" in result.err
    assert emulator.journal() == []


def test_the_database_password_never_appears_anywhere(tmp_path, emulator: Emulator, pg: PgSchema) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace(tmp_path / "repo", emulator, pg=pg)
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    wrong = pg.user_dsn.replace(PG_CANARY_PASSWORD, PG_CANARY_PASSWORD + "x")
    unreachable = f"postgresql://campaign_sync:{PG_CANARY_PASSWORD}@127.0.0.1:1/campaign_sync"
    results = [
        ws.run("-vvv", "plan", "--out", "plan.json"),
        ws.run("-vvv", "plan", "--format", "json"),
        ws.run("-vvv", "apply", "plan.json"),
        ws.run("-vvv", "drift", "--format", "html", "--output", "drift.html"),
        ws.run("-vvv", "drift", "--format", "junit", "--output", "drift.xml"),
        ws.run("-vvv", "state", "list"),
        ws.run("-vvv", "state", "history"),
        ws.run("-vvv", "state", "pull"),
        ws.run("-vvv", "force-unlock"),
        ws.run("-vvv", "state", "migrate", "--to", "file:copy.state.json"),
    ]
    failing = [
        ws.run("-vvv", "plan", env=ws.env(**{PG_DSN_ENV: wrong})),
        ws.run("-vvv", "apply", "--auto-approve", env=ws.env(**{PG_DSN_ENV: unreachable})),
    ]
    assert all(r.code in (0, 2) for r in results), [r.both for r in results if r.code not in (0, 2)]
    assert all(r.code == 1 for r in failing)
    assert "password authentication failed" in failing[0].err
    assert "cannot connect" in failing[1].err
    assert "Traceback" not in failing[0].err + failing[1].err
    for result in results + failing:
        assert PG_CANARY_PASSWORD not in result.both
        assert CANARY_SECRET not in result.both
    for path, text in ws.files_text():
        assert PG_CANARY_PASSWORD not in text, path
        assert not JWT_SHAPE.search(text), path
    assert pg.history()
    for _serial, data in pg.history():
        assert PG_CANARY_PASSWORD.encode() not in data
    assert PG_CANARY_PASSWORD not in json.dumps(pg.execute("SELECT * FROM {s}.locks"), default=str)


def test_a_killed_apply_leaves_no_lock_behind(ws: Workspace, emulator: Emulator) -> None:
    """SIGKILL of the lock holder: the next apply proceeds without force-unlock (the OS or the
    database server released the lock with the process), naming the run that died."""
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: After a kill")
    emulator.fault(method="PUT", path=BILL, holdAfterApply=30)
    proc = ws.popen("apply", "--auto-approve")
    wait_for(lambda: puts(emulator) == 1, "the PUT to be in flight")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    emulator.release()
    assert ws.lock_recorded()  # the dead run's description is left; its lock is not
    rerun = ws.run("apply", "--auto-approve", "--lock-timeout", "30")
    assert rerun.code == 0, rerun.both
    assert "ended without releasing the lock" in rerun.err
    assert f"pid {proc.pid}" in rerun.err
    assert not ws.lock_recorded()
    assert ws.state()["campaigns"]["bill-reminder"]["applied"]["description"] == "After a kill"


def test_force_unlock_ends_a_live_holder_only_on_postgres_and_only_with_terminate(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Held")
    emulator.fault(method="PUT", path=BILL, holdAfterApply=30)
    proc = ws.popen("apply", "--auto-approve")
    try:
        wait_for(lambda: puts(emulator) == 1, "the PUT to be in flight")
        refused = ws.run("force-unlock")
        assert refused.code == 1
        assert "not stale" in refused.err
        assert ws.lock_recorded()
        ended = ws.run("force-unlock", "--terminate")
        if ws.backend == "file":
            assert ended.code == 1
            assert "cannot end another process's run" in ended.err
            assert ws.lock_recorded()
            emulator.release()
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, out + err
            return
        assert ended.code == 0, ended.both
        assert not ws.lock_recorded()
        emulator.release()
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 1, out + err  # its state connection was ended too: it cannot record
        assert "the state could not be saved" in out + err
        assert PG_CANARY_PASSWORD not in out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    recovered = ws.run("apply", "--auto-approve")
    assert recovered.code == 0, recovered.both
    assert ws.run("plan", "--detailed-exitcode").code == 0

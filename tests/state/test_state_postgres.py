"""The PostgreSQL backend against a real server: tables, compare-and-swap, history, the advisory lock,
force-unlock, and a DSN password that never shows. No mock: every test talks to the test server."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from state_support import REPO, record, sample_state

from campaign_sync.errors import CredentialsError, LockError, StateConflictError, StateError
from campaign_sync.redact import Redactor
from campaign_sync.state import Identity, StateStore
from campaign_sync.state.backends import pg_schema
from campaign_sync.state.backends.postgres import PostgresBackend
from tests.pgstate import PG_CANARY_PASSWORD, PgSchema

IDENTITY = Identity("prod", "https://platform.kore.ai", "st-1", "acct-1")

# Holds the postgres lock until a line arrives on stdin; prints its lock id once held.
PG_HOLDER = """
import sys
from campaign_sync.redact import Redactor
from campaign_sync.state import StateStore
from campaign_sync.state.backends.postgres import PostgresBackend
backend = PostgresBackend.from_environment("DSN", sys.argv[1], "prod", {"DSN": sys.argv[2]}, Redactor())
with StateStore(backend).lock(operation="apply") as info:
    sys.stdout.write(info.id + "\\n")
    sys.stdout.flush()
    sys.stdin.readline()
"""


def backend_for(pg: PgSchema, redactor: Redactor | None = None, environment: str = "prod") -> PostgresBackend:
    return PostgresBackend.from_environment(
        "CAMPAIGN_SYNC_PG_DSN",
        pg.schema,
        environment,
        {"CAMPAIGN_SYNC_PG_DSN": pg.user_dsn},
        redactor or Redactor(),
    )


@pytest.fixture
def open_store(pg: PgSchema) -> Iterator[Callable[..., StateStore]]:
    stores: list[StateStore] = []

    def make(identity: Identity | None = IDENTITY, environment: str = "prod") -> StateStore:
        store = StateStore(backend_for(pg, environment=environment), identity=identity)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


class PgHolder:
    def __init__(self, pg: PgSchema) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PG_HOLDER, pg.schema, pg.user_dsn],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(
                f"the holder did not take the lock: {self.proc.stderr.read() if self.proc.stderr else ''}"
            )
        self.lock_id = line.strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def pg_holder(pg: PgSchema) -> Iterator[Callable[[], PgHolder]]:
    started: list[PgHolder] = []

    def start() -> PgHolder:
        holder = PgHolder(pg)
        started.append(holder)
        return holder

    yield start
    for holder in started:
        holder.close()


# -- tables -----------------------------------------------------------------------------------------


def test_tables_are_created_on_first_use_with_a_schema_version(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    assert pg.tables() == set()
    store = open_store()
    assert store.load().serial == 0
    assert pg.tables() == {"schema_version", "states", "state_history", "locks"}
    assert pg.execute("SELECT version FROM {s}.schema_version") == [(pg_schema.SCHEMA_VERSION,)]


def test_a_schema_migrated_by_a_newer_campaign_sync_is_refused(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    open_store().load()
    pg.execute("UPDATE {s}.schema_version SET version = 99")
    with pytest.raises(StateError, match=r"at version 99, newer than this campaign-sync knows \(1\)"):
        open_store().load()


def test_two_runs_creating_the_tables_at_once_do_not_race(pg: PgSchema) -> None:
    errors: list[BaseException] = []

    def create() -> None:
        store = StateStore(backend_for(pg))
        try:
            store.load()
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert pg.execute("SELECT count(*) FROM {s}.schema_version") == [(1,)]


# -- reading and writing ----------------------------------------------------------------------------


def test_round_trip_stamps_identity_and_stores_the_exact_bytes(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    store = open_store()
    saved = store.save(sample_state(2))
    assert saved.serial == 1
    assert saved.identity == IDENTITY
    loaded = store.load()
    assert loaded == saved
    stored = pg.state_bytes("prod")
    assert stored is not None
    assert stored.startswith(b'{\n  "campaigns"')
    assert pg.execute("SELECT serial, lineage FROM {s}.states") == [(1, saved.lineage)]


def test_every_serial_is_kept_in_the_history(pg: PgSchema, open_store: Callable[..., StateStore]) -> None:
    store = open_store()
    state = store.save(sample_state(1))
    for n in range(2, 6):
        state = store.save(state.with_campaign(f"campaign-{n}", record(n)))
    assert state.serial == 5
    history = store.history()
    assert [e.serial for e in history] == [1, 2, 3, 4, 5]
    assert {e.lineage for e in history} == {state.lineage}
    rows = pg.history("prod")
    assert [serial for serial, _ in rows] == [1, 2, 3, 4, 5]
    assert rows[-1][1] == pg.state_bytes("prod")
    assert store.backend.read_serial(3) == rows[2][1]
    assert [e.size for e in history] == [len(data) for _, data in rows]


def test_identical_content_writes_nothing(pg: PgSchema, open_store: Callable[..., StateStore]) -> None:
    store = open_store()
    saved = store.save(sample_state())
    assert store.save(saved).serial == 1
    assert [serial for serial, _ in pg.history("prod")] == [1]


def test_a_save_that_lost_the_race_is_refused_naming_both_serials_and_loses_nothing(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    first, second = open_store(), open_store()
    base = first.save(sample_state(1))
    ours, theirs = first.load(), second.load()
    won = second.save(theirs.with_campaign("theirs", record(7)))
    with pytest.raises(StateError, match=r"changed since it was read \(serial 2 on disk, 1 here\)"):
        first.save(ours.with_campaign("ours", record(8)))
    assert first.load() == won
    assert [serial for serial, _ in pg.history("prod")] == [base.serial, won.serial]


def test_the_compare_and_swap_itself_refuses_a_serial_moved_underneath(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    store = open_store()
    saved = store.save(sample_state(1))
    newer = store.save(saved.with_flows({}))
    before = pg.state_bytes("prod")
    with pytest.raises(
        StateConflictError
    ) as caught:  # a writer that read serial 1, after serial 2 was written
        store.backend.write(b"{}", serial=2, lineage=saved.lineage, expected_serial=saved.serial)
    message = str(caught.value)
    assert f"serial {newer.serial} of lineage {saved.lineage} stored now" in message
    assert f"serial {saved.serial} of lineage {saved.lineage} was read" in message
    assert pg.state_bytes("prod") == before
    with pytest.raises(StateConflictError, match="no state was read"):
        store.backend.write(b"{}", serial=1, lineage=saved.lineage, expected_serial=None)
    assert pg.state_bytes("prod") == before


def test_concurrent_writers_never_lose_an_update(pg: PgSchema) -> None:
    """Eight threads, each with its own connection, race to add one campaign at a time."""
    seed = StateStore(backend_for(pg))
    seed.save(sample_state(0))
    seed.close()
    done: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        try:
            attempt(n)
        except BaseException as exc:
            errors.append(exc)

    def attempt(n: int) -> None:
        store = StateStore(backend_for(pg))
        try:
            for _attempt in range(50):
                state = store.load()
                try:
                    store.save(state.with_campaign(f"w-{n}", record(n)))
                except StateError:
                    continue  # lost the race: read again, as a rerun would
                with lock:
                    done.append(f"w-{n}")
                return
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    final = StateStore(backend_for(pg)).load()
    assert errors == []
    assert sorted(done) == sorted(f"w-{n}" for n in range(1, 9))
    assert set(final.campaigns) == set(done)
    assert final.serial == 9
    assert [serial for serial, _ in pg.history("prod")] == list(range(1, 10))


def test_environments_share_a_schema_without_sharing_a_state(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    prod = open_store()
    staging = open_store(
        Identity("staging", "https://platform.kore.ai", "st-2", "acct-1"), environment="staging"
    )
    prod.save(sample_state(1))
    staging.save(sample_state(3))
    assert len(prod.load().campaigns) == 1
    assert len(staging.load().campaigns) == 3


# -- identity and older serials -------------------------------------------------------------------


def test_a_state_of_another_identity_is_refused_naming_both(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    open_store().save(sample_state())
    other = Identity("prod", "https://platform.kore.ai", "st-1", "acct-OTHER")
    with pytest.raises(StateError) as caught:
        open_store(other).load()
    message = str(caught.value)
    assert "accountId 'acct-1' vs 'acct-OTHER'" in message
    assert "belongs to environment 'prod'" in message


def test_an_older_serial_put_back_is_refused_then_accepted_with_force(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    store = open_store()
    first = store.save(sample_state(1))
    store.save(first.with_flows({}))
    old = dict(pg.history("prod"))[1]
    pg.put_state_bytes(old, "prod")  # an old copy restored behind campaign-sync's back
    with pytest.raises(StateError, match=r"at serial 1, but serial 2 .* was written there last"):
        store.load()
    accepted = store.load(accept_older=True)
    assert accepted.serial == 1
    resaved = store.save(accepted)
    assert resaved.serial == 3
    assert [serial for serial, _ in pg.history("prod")] == [1, 2, 3]


def test_corrupt_bytes_are_refused_pointing_at_the_history(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    store = open_store()
    store.save(sample_state())
    pg.put_state_bytes(b"{ not json", "prod")
    with pytest.raises(StateError, match=r"unreadable .*campaign-sync state history"):
        store.load()
    with pytest.raises(StateError, match="refusing to write over it"):
        store.save(sample_state())
    assert pg.state_bytes("prod") == b"{ not json"


# -- the lock -----------------------------------------------------------------------------------------


def test_holding_records_the_holder_and_release_removes_it(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    store = open_store()
    with store.lock("apply") as info:
        row = pg.lock_row("prod")
        assert row is not None
        assert row[1] == info.id
        assert row[5] == os.getpid()
        assert pg.advisory_locks() == 1
        current = store.lock_info()
        assert current is not None
        assert current.id == info.id
        assert not current.stale
    assert pg.lock_row("prod") is None
    assert pg.advisory_locks() == 0
    assert store.lock_info() is None


def test_another_process_is_refused_at_once_naming_the_holder(
    pg: PgSchema, open_store: Callable[..., StateStore], pg_holder: Callable[[], PgHolder]
) -> None:
    holder = pg_holder()
    with pytest.raises(LockError) as caught, open_store().lock("apply"):
        pass
    message = str(caught.value)
    assert f"state is locked by apply (pid {holder.proc.pid} on " in message
    assert holder.lock_id in message


def test_a_killed_holder_releases_the_lock_without_force_unlock(
    pg: PgSchema,
    open_store: Callable[..., StateStore],
    pg_holder: Callable[[], PgHolder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    holder = pg_holder()
    holder.proc.send_signal(signal.SIGKILL)
    holder.proc.wait(timeout=30)
    store = open_store()
    with caplog.at_level(logging.WARNING, logger="campaign_sync.state"), store.lock("apply") as info:
        assert pg.lock_row("prod")[1] == info.id  # type: ignore[index]
    assert f"pid {holder.proc.pid}" in caplog.text
    assert "ended without releasing the lock" in caplog.text


def test_a_timeout_waits_for_the_holder_to_finish(
    pg: PgSchema, open_store: Callable[..., StateStore], pg_holder: Callable[[], PgHolder]
) -> None:
    holder = pg_holder()

    def release_soon() -> None:
        time.sleep(0.5)
        assert holder.proc.stdin is not None
        holder.proc.stdin.write("\n")
        holder.proc.stdin.flush()

    threading.Thread(target=release_soon).start()
    with open_store().lock("apply", timeout=30) as info:
        assert info.pid == os.getpid()


def test_force_unlock_refuses_a_live_holder_and_terminates_it_only_when_asked(
    pg: PgSchema, open_store: Callable[..., StateStore], pg_holder: Callable[[], PgHolder]
) -> None:
    holder = pg_holder()
    store = open_store()
    with pytest.raises(LockError, match=r"is alive, so the lock is not stale.*--terminate"):
        store.force_unlock()
    assert pg.lock_row("prod") is not None
    removed = store.force_unlock(terminate=True)
    assert removed is not None
    assert removed.id == holder.lock_id
    assert pg.lock_row("prod") is None
    assert pg.advisory_locks() == 0
    with store.lock("apply"):
        pass


def test_force_unlock_clears_a_leftover_holder_record(
    pg: PgSchema, open_store: Callable[..., StateStore]
) -> None:
    store = open_store()
    store.load()
    pg.execute(
        "INSERT INTO {s}.locks VALUES ('prod', 'x1', 'apply', 'ci', 'elsewhere', 4242, '2026-01-01T00:00:00Z', "
        "'0.1.0', 0, 'gone')"
    )
    info = store.lock_info()
    assert info is not None
    assert info.stale
    removed = store.force_unlock()
    assert removed is not None
    assert removed.host == "elsewhere"
    assert pg.lock_row("prod") is None
    assert store.force_unlock() is None


# -- secrets ------------------------------------------------------------------------------------------


def test_the_dsn_is_registered_and_errors_never_carry_the_password(pg: PgSchema) -> None:
    redactor = Redactor()
    wrong = pg.user_dsn.replace(PG_CANARY_PASSWORD, PG_CANARY_PASSWORD + "-wrong")
    backend = PostgresBackend.from_environment("DSN", pg.schema, "prod", {"DSN": wrong}, redactor)
    assert PG_CANARY_PASSWORD + "-wrong" in redactor.secrets()
    assert wrong in redactor.secrets()
    with pytest.raises(StateError) as caught:
        backend.read()
    message = str(caught.value)
    assert "password authentication failed" in message
    assert PG_CANARY_PASSWORD not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_dsn_that_is_not_one_is_refused_without_repeating_it() -> None:
    secret = "host=db password=" + PG_CANARY_PASSWORD + " 'unbalanced"
    with pytest.raises(StateError) as caught:
        PostgresBackend.from_environment("DSN", "s", "prod", {"DSN": secret}, Redactor())
    assert PG_CANARY_PASSWORD not in str(caught.value)
    assert "$DSN is not a valid PostgreSQL DSN" in str(caught.value)


def test_an_unset_dsn_variable_is_named() -> None:
    with pytest.raises(CredentialsError, match=r"\$CAMPAIGN_SYNC_PG_DSN, which is not set"):
        PostgresBackend.from_environment("CAMPAIGN_SYNC_PG_DSN", "s", "prod", {}, Redactor())


def test_psycopg_text_is_scrubbed(pg: PgSchema) -> None:
    backend = backend_for(pg)
    text = f"failed: password={PG_CANARY_PASSWORD} and postgresql://u:{PG_CANARY_PASSWORD}@h/db"
    cleaned = backend.clean(text)
    assert PG_CANARY_PASSWORD not in cleaned
    assert "password=***" in cleaned
    assert "postgresql://u:***@h/db" in cleaned


def test_a_remote_host_without_certificate_checks_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="campaign_sync.state"):
        PostgresBackend.from_environment(
            "DSN", "s", "prod", {"DSN": "host=db.example.com dbname=x"}, Redactor()
        )
    assert "sslmode=prefer, which does not verify" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="campaign_sync.state"):
        PostgresBackend.from_environment(
            "DSN", "s", "prod", {"DSN": "host=db.example.com dbname=x sslmode=verify-full"}, Redactor()
        )
    assert caplog.text == ""

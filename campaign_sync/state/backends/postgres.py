"""The PostgreSQL backend: one state per environment in a shared database, every serial kept.

Selected with ``state: {backend: postgres, dsnEnv: CAMPAIGN_SYNC_PG_DSN, schema: campaign_sync}``;
needs the ``postgres`` extra (psycopg 3). The DSN (a libpq connection string or URI) comes only
from the environment variable ``dsnEnv`` names; TLS settings (``sslmode``, ``sslrootcert``, ...)
come from it too. The DSN and its password are registered with the run's redactor and never
appear in messages: errors from psycopg are scrubbed and re-raised without their chain.

- **Tables** (``pg_schema.py``) are created on first use and migrated by a schema version.
- **Writes** are compare-and-swap in one transaction: ``UPDATE states ... WHERE serial = <read>``
  (or an ``INSERT`` that must not find a row), plus the new serial in ``state_history``. A write
  that finds another serial is a ``StateConflictError`` naming both; nothing is overwritten.
- **The lock** is a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of
  its own for the whole command: when the holder dies, its connection drops and the server
  releases the lock (for a vanished host, through the TCP keepalives this connection sets). The
  holder is described in the ``locks`` table for the "locked by" message; a refused run whose
  holder is a dead process on this host waits a few seconds for the server to notice.
  ``force_unlock`` removes a leftover description; with ``terminate=True`` it ends a *live*
  holder's server sessions (``pg_terminate_backend``: the same role or ``pg_signal_backend`` is
  needed), after which that run fails at its next state write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from campaign_sync import __version__
from campaign_sync.errors import CredentialsError, LockError, StateConflictError, StateError
from campaign_sync.state.backend import HistoryEntry
from campaign_sync.state.backends import pg_schema
from campaign_sync.state.lock import LockInfo, hostname, new_lock_info, pid_alive, username
from campaign_sync.urls import is_loopback

if TYPE_CHECKING:
    import psycopg

    from campaign_sync.redact import Redactor

__all__ = ["PostgresBackend"]

logger = logging.getLogger("campaign_sync.state")

CONNECT_TIMEOUT = 10
"""Seconds to wait for a connection when the DSN does not say (``connect_timeout``)."""
POLL_INTERVAL = 0.2
DEAD_HOLDER_GRACE = 15.0
"""How long a refused run waits when the holder is a process on this host that no longer exists."""
_HOLDER_SETTLE = 0.5
_KEEPALIVE = {"keepalives": "1", "keepalives_idle": "15", "keepalives_interval": "5", "keepalives_count": "3"}
_SERVER_SETTINGS = (
    "SET statement_timeout = '60s'",
    "SET tcp_keepalives_idle = 15",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)
_VERIFYING = {"verify-ca", "verify-full"}
_SECRET_PATTERNS = (
    (re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE), r"\1***"),
    (re.compile(r"(://[^/@\s:]*:)[^@\s]*(@)"), r"\1***\2"),
)

Scrub = Callable[[str], str]


def _missing_psycopg() -> StateError:
    return StateError(
        "the postgres state backend needs psycopg 3: install it with `pip install 'campaign-sync[postgres]'`"
    )


class PostgresBackend:
    """One environment's state in a PostgreSQL schema. Connects on first use."""

    kind = "postgres"
    keeps_history = True

    def __init__(
        self,
        dsn: str,
        schema: str,
        environment: str,
        *,
        dsn_env: str,
        scrub: Scrub,
        environ: Mapping[str, str],
    ) -> None:
        try:
            from psycopg.conninfo import conninfo_to_dict
        except ImportError:
            raise _missing_psycopg() from None
        self._scrub = scrub
        try:
            params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
        except Exception:  # noqa: BLE001 - psycopg's message quotes the DSN: never shown
            raise StateError(
                f"${dsn_env} is not a valid PostgreSQL DSN (a libpq connection string such as "
                "`host=db.example.com dbname=campaign_sync user=ci sslmode=verify-full`, or a "
                "postgresql:// URI); its value is not shown"
            ) from None
        self._dsn = dsn
        self._params = params
        self._schema = schema
        self.environment = environment
        self._dsn_env = dsn_env
        self._session = secrets.token_hex(6)
        self._data: psycopg.Connection[tuple[Any, ...]] | None = None
        self._ready = False
        host = params.get("host") or params.get("hostaddr") or environ.get("PGHOST") or "the local socket"
        port = params.get("port") or environ.get("PGPORT") or "5432"
        dbname = params.get("dbname") or environ.get("PGDATABASE") or params.get("user") or "postgres"
        self._where = f"{dbname} on {host}" + (
            "" if host.startswith("/") or host == "the local socket" else f":{port}"
        )
        self._warn_about_tls(host, params.get("sslmode") or environ.get("PGSSLMODE") or "prefer")

    @classmethod
    def from_environment(
        cls, dsn_env: str, schema: str, environment: str, environ: Mapping[str, str], redactor: Redactor
    ) -> PostgresBackend:
        dsn = environ.get(dsn_env, "")
        if not dsn.strip():
            raise CredentialsError(
                f"the postgres state backend reads its DSN from ${dsn_env}, which is not set: set it to the "
                "libpq connection string of the state database (in CI, from a secret)"
            )
        _register_secrets(redactor, dsn, environ)
        backend = cls(dsn, schema, environment, dsn_env=dsn_env, scrub=redactor.scrub, environ=environ)
        password = backend._params.get("password")
        if password:
            redactor.add(password)
            redactor.add(quote(password, safe=""))
        return backend

    @property
    def location(self) -> str:
        return (
            f"postgres state {self.environment!r} (schema {self._schema} of {self._where}, "
            f"DSN from ${self._dsn_env})"
        )

    # -- connections --------------------------------------------------------------------------------

    def _connect(self, purpose: str) -> psycopg.Connection[tuple[Any, ...]]:
        try:
            import psycopg
        except ImportError:
            raise _missing_psycopg() from None
        extra: dict[str, str] = {"application_name": f"campaign-sync/{self._session}"}
        if "connect_timeout" not in self._params:
            extra["connect_timeout"] = str(CONNECT_TIMEOUT)
        extra.update({k: v for k, v in _KEEPALIVE.items() if k not in self._params})
        try:
            conn = psycopg.connect(psycopg.conninfo.make_conninfo(self._dsn, **extra), autocommit=True)
        except psycopg.Error as exc:
            raise self._error(f"cannot connect to {self.location} ({purpose})", exc) from None
        try:
            for statement in _SERVER_SETTINGS:
                conn.execute(statement)
            if not self._ready:
                pg_schema.ensure(conn, self._schema)
                self._ready = True
        except psycopg.Error as exc:
            with contextlib.suppress(Exception):
                conn.close()
            raise self._error(f"cannot prepare the state tables of {self.location}", exc) from None
        return conn

    def _conn(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._data is None or self._data.closed:
            self._data = self._connect("state")
        return self._data

    def _run(self, what: str, action: Callable[[psycopg.Connection[tuple[Any, ...]]], Any]) -> Any:
        import psycopg

        conn = self._conn()
        try:
            return action(conn)
        except psycopg.Error as exc:
            if conn.closed or conn.broken:
                self._data = None
            raise self._error(f"cannot {what} {self.location}", exc) from None

    def _error(self, head: str, exc: BaseException) -> StateError:
        return StateError(f"{head}: {self.clean(str(exc))}")

    def clean(self, text: str) -> str:
        """psycopg's text made safe to show: secrets scrubbed, one line."""
        for pattern, replacement in _SECRET_PATTERNS:
            text = pattern.sub(replacement, text)
        return " ".join(self._scrub(text).split()) or "no detail"

    def _table(self, name: str) -> Any:
        from psycopg import sql

        return sql.Identifier(self._schema, name)

    def _sql(self, template: str, **tables: str) -> Any:
        from psycopg import sql

        return sql.SQL(template).format(**{k: self._table(v) for k, v in tables.items()})

    # -- reading and writing ------------------------------------------------------------------------

    def read(self) -> bytes | None:
        query = self._sql("SELECT data FROM {t} WHERE environment = %s", t="states")
        row = self._run("read", lambda c: c.execute(query, (self.environment,)).fetchone())
        return None if row is None else bytes(row[0])

    def write(self, data: bytes, *, serial: int, lineage: str, expected_serial: int | None) -> None:
        by = f"{username()}@{hostname()} pid {os.getpid()} campaign-sync {__version__}"
        env = self.environment

        def swap(conn: psycopg.Connection[tuple[Any, ...]]) -> str | None:
            with conn.transaction():
                if expected_serial is None:
                    cursor = conn.execute(
                        self._sql(
                            "INSERT INTO {t} (environment, lineage, serial, data, written_by) "
                            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (environment) DO NOTHING",
                            t="states",
                        ),
                        (env, lineage, serial, data, by),
                    )
                else:
                    cursor = conn.execute(
                        self._sql(
                            "UPDATE {t} SET lineage = %s, serial = %s, data = %s, written_at = now(), "
                            "written_by = %s WHERE environment = %s AND lineage = %s AND serial = %s",
                            t="states",
                        ),
                        (lineage, serial, data, by, env, lineage, expected_serial),
                    )
                if cursor.rowcount != 1:
                    row = conn.execute(
                        self._sql("SELECT lineage, serial FROM {t} WHERE environment = %s", t="states"),
                        (env,),
                    ).fetchone()
                    return "no state" if row is None else f"serial {row[1]} of lineage {row[0]}"
                history = conn.execute(
                    self._sql(
                        "INSERT INTO {t} (environment, lineage, serial, data, written_by) "
                        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        t="state_history",
                    ),
                    (env, lineage, serial, data, by),
                )
                if history.rowcount != 1:
                    raise _HistoryClash
            return None

        try:
            found = self._run("write", swap)
        except _HistoryClash:
            raise StateConflictError(
                f"refusing to save: serial {serial} of lineage {lineage} is already in the history of "
                f"{self.location} (the states table was changed by hand?); nothing was written"
            ) from None
        if found is not None:
            read = "no state" if expected_serial is None else f"serial {expected_serial} of lineage {lineage}"
            raise StateConflictError(
                f"refusing to save: {self.location} changed since it was read ({found} stored now, {read} "
                "was read); another run has written it. Nothing was written. Run the command again"
            )

    def last_written(self, lineage: str) -> int | None:
        query = self._sql(
            "SELECT max(serial) FROM {t} WHERE environment = %s AND lineage = %s", t="state_history"
        )
        row = self._run(
            "read the history of", lambda c: c.execute(query, (self.environment, lineage)).fetchone()
        )
        return None if row is None or row[0] is None else int(row[0])

    def history(self) -> Sequence[HistoryEntry]:
        query = self._sql(
            "SELECT serial, lineage, "
            "to_char(written_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
            "written_by, octet_length(data) FROM {t} WHERE environment = %s ORDER BY written_at, serial",
            t="state_history",
        )
        rows = self._run("read the history of", lambda c: c.execute(query, (self.environment,)).fetchall())
        return tuple(HistoryEntry(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in rows)

    def read_serial(self, serial: int) -> bytes | None:
        query = self._sql(
            "SELECT data FROM {t} WHERE environment = %s AND serial = %s ORDER BY written_at DESC LIMIT 1",
            t="state_history",
        )
        row = self._run(
            "read the history of", lambda c: c.execute(query, (self.environment, serial)).fetchone()
        )
        return None if row is None else bytes(row[0])

    # -- locking ------------------------------------------------------------------------------------

    @property
    def _key(self) -> int:
        return pg_schema.advisory_key("state lock", self._schema, self.environment)

    def lock(self, operation: str = "apply", timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        if not timeout >= 0:  # also refuses NaN
            raise ValueError(f"lock timeout must be >= 0 seconds, not {timeout!r}")
        return self._hold(operation, timeout)

    @contextlib.contextmanager
    def _hold(self, operation: str, timeout: float) -> Iterator[LockInfo]:
        import psycopg

        conn = self._connect("lock")
        try:
            self._acquire(conn, timeout)
            mine = new_lock_info(operation)
            try:
                self._record_holder(conn, mine)
            except psycopg.Error as exc:
                raise self._error(f"cannot record the lock holder in {self.location}", exc) from None
            try:
                yield mine
            finally:
                try:
                    conn.execute(
                        self._sql("DELETE FROM {t} WHERE environment = %s AND id = %s", t="locks"),
                        (self.environment, mine.id),
                    )
                    conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
                except psycopg.Error as exc:  # the connection went: the server released the lock with it
                    logger.warning("releasing the lock of %s: %s", self.location, self.clean(str(exc)))
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def _acquire(self, conn: psycopg.Connection[tuple[Any, ...]], timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        grace: float | None = None
        announced = False
        while True:
            try:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
            except psycopg.Error as exc:
                raise self._error(f"cannot take the lock of {self.location}", exc) from None
            if row is not None and row[0] is True:
                return
            holder = self._holder_info(conn)
            now = time.monotonic()
            if holder is not None and holder.on_this_host and not pid_alive(holder.pid):
                grace = grace if grace is not None else now + DEAD_HOLDER_GRACE
                if not announced:
                    logger.info(
                        "the lock holder %s is gone; waiting for the server to drop its connection",
                        holder.describe(),
                    )
                    announced = True
            if now >= max(deadline, grace or 0.0):
                raise LockError(self._held_message(conn, timeout))
            if not announced:
                logger.info(
                    "state is locked by %s; waiting up to %g s for it",
                    holder.describe() if holder else "another run",
                    timeout,
                )
                announced = True
            time.sleep(POLL_INTERVAL)

    def _held_message(self, conn: psycopg.Connection[tuple[Any, ...]], waited: float) -> str:
        settle = time.monotonic() + _HOLDER_SETTLE
        holder = self._holder_info(conn)
        while holder is None and time.monotonic() < settle:
            time.sleep(0.05)
            holder = self._holder_info(conn)
        who = holder.describe() if holder else "another campaign-sync run (it has not recorded who it is)"
        after = f" after waiting {waited:g} s" if waited > 0 else ""
        return (
            f"state is locked by {who}{after}; wait for it to finish, or pass --lock-timeout SECONDS to "
            "wait. The lock is held by a live database session: it goes away when that run ends or its "
            "connection drops."
        )

    def _record_holder(self, conn: psycopg.Connection[tuple[Any, ...]], mine: LockInfo) -> None:
        leftover = self._holder_info(conn)
        if leftover is not None:
            logger.warning(
                "a previous %s (pid %s on %s, since %s) ended without releasing the lock; its database "
                "session is gone; continuing",
                leftover.operation,
                leftover.pid,
                "this host" if leftover.on_this_host else leftover.host,
                leftover.created,
            )
        conn.execute(
            self._sql(
                "INSERT INTO {t} (environment, id, operation, username, host, pid, created, version, "
                "backend_pid, session) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, pg_backend_pid(), %s) "
                "ON CONFLICT (environment) DO UPDATE SET id = EXCLUDED.id, operation = EXCLUDED.operation, "
                "username = EXCLUDED.username, host = EXCLUDED.host, pid = EXCLUDED.pid, "
                "created = EXCLUDED.created, version = EXCLUDED.version, "
                "backend_pid = EXCLUDED.backend_pid, session = EXCLUDED.session",
                t="locks",
            ),
            (
                self.environment,
                mine.id,
                mine.operation,
                mine.user,
                mine.host,
                mine.pid,
                mine.created,
                mine.version,
                self._session,
            ),
        )

    def _holder_row(self, conn: psycopg.Connection[tuple[Any, ...]]) -> tuple[Any, ...] | None:
        return conn.execute(
            self._sql(
                "SELECT id, operation, username, host, pid, created, version, backend_pid, session "
                "FROM {t} WHERE environment = %s",
                t="locks",
            ),
            (self.environment,),
        ).fetchone()

    def _holder_info(self, conn: psycopg.Connection[tuple[Any, ...]]) -> LockInfo | None:
        row = self._holder_row(conn)
        if row is None:
            return None
        return LockInfo.from_json(
            dict(zip(("id", "operation", "user", "host", "pid", "created", "version"), row[:7], strict=True))
        )

    def _lock_holder_pid(self, conn: psycopg.Connection[tuple[Any, ...]]) -> int | None:
        classid, objid = pg_schema.pg_locks_ids(self._key)
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            "AND classid::bigint = %s AND objid::bigint = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (classid, objid),
        ).fetchone()
        return None if row is None else int(row[0])

    def lock_info(self) -> LockInfo | None:
        def look(conn: psycopg.Connection[tuple[Any, ...]]) -> LockInfo | None:
            info = self._holder_info(conn)
            if info is None:
                return None
            held = self._lock_holder_pid(conn) is not None
            stale = not held or (info.on_this_host and not pid_alive(info.pid))
            return LockInfo(**{**info.to_json(), "stale": stale})

        result: LockInfo | None = self._run("read the lock of", look)
        return result

    def force_unlock(self, *, terminate: bool = False) -> LockInfo | None:
        def unlock(conn: psycopg.Connection[tuple[Any, ...]]) -> LockInfo | None:
            row = self._holder_row(conn)
            info = self._holder_info(conn)
            holder_pid = self._lock_holder_pid(conn)
            if holder_pid is not None:
                who = info.describe() if info else "a run that has not recorded who it is"
                if not terminate:
                    raise LockError(
                        f"the state lock is held by {who}: its database session (server pid {holder_pid}) is "
                        "alive, so the lock is not stale. Wait for that run to finish, or stop it; "
                        "`campaign-sync force-unlock --terminate` ends its database sessions (that run then "
                        "fails at its next state write)"
                    )
                session = str(row[8]) if row is not None else None
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = %s "
                    "OR (%s::text IS NOT NULL AND application_name = 'campaign-sync/' || %s::text)",
                    (holder_pid, session, session),
                )
                deadline = time.monotonic() + 10
                while self._lock_holder_pid(conn) is not None:
                    if time.monotonic() > deadline:
                        raise LockError(
                            f"could not end the database session of {who} (server pid {holder_pid}): "
                            "ending another session needs its role or pg_signal_backend"
                        )
                    time.sleep(0.1)
                logger.warning("ended the database sessions of %s", who)
            if row is None:
                return None
            conn.execute(self._sql("DELETE FROM {t} WHERE environment = %s", t="locks"), (self.environment,))
            if info is not None:
                logger.info("removed the state lock of %s", info.describe())
            return None if info is None else LockInfo(**{**info.to_json(), "stale": True})

        result: LockInfo | None = self._run("unlock", unlock)
        return result

    # -- checks and messages ------------------------------------------------------------------------

    def check_writable(self) -> None:
        def check(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
            for table in ("states", "state_history", "locks"):
                row = conn.execute(
                    "SELECT has_table_privilege(%s, 'SELECT, INSERT, UPDATE')", (f"{self._schema}.{table}",)
                ).fetchone()
                if row is None or row[0] is not True:
                    raise StateError(
                        f"cannot write the state in {self.location}: no INSERT/UPDATE privilege on "
                        f"{self._schema}.{table}; nothing was applied"
                    )

        self._run("check", check)

    def recovery_hint(self) -> str:
        return (
            "every earlier serial is kept: list them with `campaign-sync state history` and read one with "
            "`campaign-sync state pull --serial N`"
        )

    def close(self) -> None:
        if self._data is not None:
            with contextlib.suppress(Exception):
                self._data.close()
            self._data = None

    def _warn_about_tls(self, host: str, sslmode: str) -> None:
        if host.startswith("/") or host == "the local socket" or is_loopback(host):
            return
        if sslmode not in _VERIFYING:
            logger.warning(
                "the DSN in $%s connects to %s with sslmode=%s, which does not verify the server's "
                "certificate; add sslmode=verify-full (and sslrootcert=...) to the DSN",
                self._dsn_env,
                host,
                sslmode,
            )


class _HistoryClash(Exception):
    """The history already holds the serial being written."""


def _register_secrets(redactor: Redactor, dsn: str, environ: Mapping[str, str]) -> None:
    redactor.add(dsn)
    redactor.add(dsn.strip())
    for name in ("PGPASSWORD",):
        redactor.add(environ.get(name))

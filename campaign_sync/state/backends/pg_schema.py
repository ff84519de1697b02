"""The PostgreSQL backend's tables, created on first use and migrated by a schema version.

All tables live in one schema (``campaign_sync`` unless the config says otherwise); one row per
environment, keyed by the environment's name in campaign-sync.yaml:

``schema_version (version)``
    One row: the version of these tables. A schema of a higher version than this campaign-sync
    knows is refused (a newer campaign-sync migrated it); a lower one is migrated forward.
``states (environment, lineage, serial, data, written_at, written_by)``
    The current state of each environment: ``data`` is the state's exact bytes (``bytea``, so a
    copy between backends is byte for byte, whatever the database encoding).
``state_history (environment, lineage, serial, data, written_at, written_by)``
    Every serial ever written, in the same transaction as ``states`` (never pruned by campaign-sync).
``locks (environment, id, operation, username, host, pid, created, version, backend_pid, session)``
    Who holds each environment's lock (the lock itself is a session-level advisory lock).

Creation and migration run in one transaction under a transaction-level advisory lock, so two
runs starting at once against an empty database do not race each other.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from campaign_sync.errors import StateError

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 1

_SETUP_LOCK = "campaign-sync schema setup"

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE IF NOT EXISTS {schema}.states (
            environment text PRIMARY KEY,
            lineage text NOT NULL,
            serial bigint NOT NULL CHECK (serial >= 0),
            data bytea NOT NULL,
            written_at timestamptz NOT NULL DEFAULT now(),
            written_by text NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS {schema}.state_history (
            environment text NOT NULL,
            lineage text NOT NULL,
            serial bigint NOT NULL CHECK (serial >= 0),
            data bytea NOT NULL,
            written_at timestamptz NOT NULL DEFAULT now(),
            written_by text NOT NULL,
            PRIMARY KEY (environment, lineage, serial)
        )""",
        """CREATE TABLE IF NOT EXISTS {schema}.locks (
            environment text PRIMARY KEY,
            id text NOT NULL,
            operation text NOT NULL,
            username text NOT NULL,
            host text NOT NULL,
            pid integer NOT NULL,
            created text NOT NULL,
            version text NOT NULL,
            backend_pid integer NOT NULL,
            session text NOT NULL
        )""",
    ),
}


def advisory_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key derived from ``parts`` (stable across runs and hosts)."""
    digest = hashlib.sha256("\0".join(("campaign-sync", *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def pg_locks_ids(key: int) -> tuple[int, int]:
    """How ``pg_locks`` shows a bigint advisory key: (classid, objid), with objsubid 1."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


def ensure(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """Create the schema and tables if missing, and migrate them to :data:`SCHEMA_VERSION`."""
    from psycopg import sql

    name = sql.Identifier(schema)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(_SETUP_LOCK, schema),))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {}.schema_version (version integer NOT NULL)").format(name)
        )
        row = conn.execute(sql.SQL("SELECT max(version) FROM {}.schema_version").format(name)).fetchone()
        current = row[0] if row is not None and isinstance(row[0], int) else 0
        if current > SCHEMA_VERSION:
            raise StateError(
                f"the state tables in schema {schema} are at version {current}, newer than this "
                f"campaign-sync knows ({SCHEMA_VERSION}): upgrade campaign-sync"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[version]:
                conn.execute(sql.SQL(statement).format(schema=name))
        if current < SCHEMA_VERSION:
            conn.execute(sql.SQL("DELETE FROM {}.schema_version").format(name))
            conn.execute(
                sql.SQL("INSERT INTO {}.schema_version (version) VALUES (%s)").format(name), (SCHEMA_VERSION,)
            )

"""Direct access to a test schema of the PostgreSQL test server, for checking what the backend stored.

Tests read and plant rows with the superuser DSN, never through campaign-sync, so what they
check is what the server holds.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tests.pgserver import PG_CANARY_PASSWORD

__all__ = ["PG_CANARY_PASSWORD", "PgSchema", "new_schema_name"]


def new_schema_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


@dataclass
class PgSchema:
    """One test's schema on the shared server: ``user_dsn`` is what campaign-sync gets."""

    admin_dsn: str
    user_dsn: str
    schema: str

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            cursor = conn.execute(sql.SQL(query).format(s=sql.Identifier(self.schema)), params)  # type: ignore[arg-type]
            return list(cursor.fetchall()) if cursor.description else []

    def tables(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.schema,)
        )
        return {str(r[0]) for r in rows}

    def state_bytes(self, environment: str = "test") -> bytes | None:
        if "states" not in self.tables():
            return None
        rows = self.execute("SELECT data FROM {s}.states WHERE environment = %s", (environment,))
        return bytes(rows[0][0]) if rows else None

    def put_state_bytes(self, data: bytes, environment: str = "test") -> None:
        """Replace the stored state behind campaign-sync's back (serial column from the bytes if JSON)."""
        try:
            parsed = json.loads(data)
            serial, lineage = int(parsed["serial"]), str(parsed["lineage"])
        except (ValueError, KeyError, TypeError):
            serial, lineage = 0, "damaged"
        self.execute(
            "UPDATE {s}.states SET data = %s, serial = %s, lineage = %s WHERE environment = %s",
            (data, serial, lineage, environment),
        )

    def history(self, environment: str = "test") -> list[tuple[int, bytes]]:
        rows = self.execute(
            "SELECT serial, data FROM {s}.state_history WHERE environment = %s ORDER BY serial",
            (environment,),
        )
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def lock_row(self, environment: str = "test") -> tuple[Any, ...] | None:
        if "locks" not in self.tables():
            return None
        rows = self.execute("SELECT * FROM {s}.locks WHERE environment = %s", (environment,))
        return rows[0] if rows else None

    def advisory_locks(self) -> int:
        rows = self.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        return int(rows[0][0])

    def drop(self) -> None:
        self.execute("DROP SCHEMA IF EXISTS {s} CASCADE")

"""Who holds a state lock: the ``LockInfo`` every backend records and shows, and host helpers.

Backends record the holder when they take the lock and remove the record when they release it
(file: ``<state>.lock.info``; postgres: a row of the ``locks`` table). The record only
*describes* the lock; each backend's real lock (an OS ``flock``, a PostgreSQL advisory lock)
is what excludes a second run, and both are released by the system when their holder dies.
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from campaign_sync import __version__

__all__ = ["LockInfo", "hostname", "new_lock_info", "pid_alive", "username"]

_UNKNOWN = "unknown"


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or last held) a state lock. ``stale`` is computed when read, never stored."""

    id: str
    operation: str
    user: str
    host: str
    pid: int
    created: str
    version: str
    stale: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "user": self.user,
            "host": self.host,
            "pid": self.pid,
            "created": self.created,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: Any) -> LockInfo:
        """Lenient: a field that is missing or of the wrong type reads as ``unknown`` (pid 0)."""
        record: dict[str, Any] = data if isinstance(data, dict) else {}

        def text(name: str) -> str:
            value = record.get(name)
            return value if isinstance(value, str) and value else _UNKNOWN

        pid = record.get("pid")
        return cls(
            id=text("id"),
            operation=text("operation"),
            user=text("user"),
            host=text("host"),
            pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else 0,
            created=text("created"),
            version=text("version"),
        )

    @property
    def on_this_host(self) -> bool:
        return self.host == hostname()

    def describe(self) -> str:
        """``apply (pid 4242 on host-x, user ci, since 2026-11-27T16:01:02Z, lock id ...)``."""
        return (
            f"{self.operation} (pid {self.pid} on {self.host}, user {self.user}, "
            f"since {self.created}, lock id {self.id})"
        )


def new_lock_info(operation: str) -> LockInfo:
    """This process as a lock holder, now."""
    return LockInfo(
        id=str(uuid.uuid4()),
        operation=operation,
        user=username(),
        host=hostname(),
        pid=os.getpid(),
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        version=__version__,
    )


def pid_alive(pid: int) -> bool:
    """False only when ``pid`` certainly names no process on this host."""
    if pid <= 0 or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # EPERM: exists, owned by another user
        return True
    return True


def hostname() -> str:
    return socket.gethostname() or _UNKNOWN


def username() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (containers with an arbitrary uid)
        return str(os.getuid()) if hasattr(os, "getuid") else _UNKNOWN

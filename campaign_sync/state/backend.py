"""The seam between the state rules and where a state is kept: the ``StateBackend`` Protocol.

A backend stores one environment's state as the exact bytes the rules serialized (so a copy
between backends is byte for byte) and knows nothing of campaigns. What it must do:

- ``read()``: the bytes stored now, or ``None`` when no state exists.
- ``write(data, serial=, lineage=, expected_serial=)``: store ``data`` (serial ``serial``) only if
  the stored state is still the one the caller read: of ``lineage`` at ``expected_serial``, or
  absent when ``expected_serial`` is ``None``. Otherwise raise :class:`~campaign_sync.errors.
  StateConflictError` naming both serials. Never an overwrite of a serial the caller did not read.
- ``last_written(lineage)``: the highest serial of ``lineage`` this backend ever wrote (its
  high-water mark), so a state restored from an older copy is noticed; ``None`` when unknown.
- ``lock(operation, timeout)``: hold the environment's lock for a ``with`` block, recording the
  holder (:class:`~campaign_sync.state.lock.LockInfo`: who, host, pid, operation, since);
  ``lock_info()`` shows it; ``force_unlock(terminate=)`` clears a lock whose holder is gone (and,
  only when asked, ends a live holder where the backend can).
- ``location``: where the state lives, for messages (never a secret); ``kind``: ``file`` or
  ``postgres``; ``history()`` / ``read_serial(n)``: every stored serial, where the backend keeps them
  (``keeps_history``).
- ``check_writable()`` before any API write; ``recovery_hint()`` for a state that cannot be read.

The rules (strict format, lineage, serial, identity, no secrets) live once in
``campaign_sync.state.StateStore``, which every command uses through the same facade whatever
the backend. Backends: ``state/backends/file.py`` (the default) and ``state/backends/postgres.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from campaign_sync.state.lock import LockInfo

__all__ = ["HistoryEntry", "StateBackend"]


@dataclass(frozen=True)
class HistoryEntry:
    """One stored serial of a state."""

    serial: int
    lineage: str
    written_at: str
    written_by: str
    size: int

    def to_json(self) -> dict[str, object]:
        return {
            "serial": self.serial,
            "lineage": self.lineage,
            "writtenAt": self.written_at,
            "writtenBy": self.written_by,
            "bytes": self.size,
        }


@runtime_checkable
class StateBackend(Protocol):
    """Where one environment's state is kept. See the module docstring for the contract."""

    @property
    def kind(self) -> str: ...

    @property
    def location(self) -> str: ...

    @property
    def keeps_history(self) -> bool: ...

    def read(self) -> bytes | None: ...

    def write(self, data: bytes, *, serial: int, lineage: str, expected_serial: int | None) -> None: ...

    def last_written(self, lineage: str) -> int | None: ...

    def lock(self, operation: str = "apply", timeout: float = 0.0) -> AbstractContextManager[LockInfo]: ...

    def lock_info(self) -> LockInfo | None: ...

    def force_unlock(self, *, terminate: bool = False) -> LockInfo | None: ...

    def history(self) -> Sequence[HistoryEntry]: ...

    def read_serial(self, serial: int) -> bytes | None: ...

    def check_writable(self) -> None: ...

    def recovery_hint(self) -> str: ...

    def close(self) -> None: ...

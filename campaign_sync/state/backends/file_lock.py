"""The file backend's lock: one run at a time per state file, and a clear name for the run that holds it.

Two files sit next to the state file ``<state>``:

``<state>.lock``
    Carries an **OS-level lock** (``flock`` through the ``filelock`` library). The kernel drops it when
    the holder's process ends for any reason, SIGKILL included, so this lock can never be stale: if the
    OS says it is held, a live process holds it. The file stays in place after release (waiters share
    its inode); its content means nothing. Soft (marker-file) locking is disabled: on a filesystem
    without ``flock`` taking the lock fails with a ``LockError`` instead of silently degrading.
``<state>.lock.info``
    JSON describing the holder: ``user``, ``host``, ``pid``, ``operation``, ``created`` (ISO-8601 UTC),
    ``version`` (of campaign-sync) and ``id`` (uuid4). Written atomically (temp file + rename) right
    after the OS lock is taken and removed right before it is released. It only *describes* the lock
    and is never trusted as the lock itself.

Semantics of :meth:`StateLock.hold` (``StateStore.lock`` in ``campaign_sync.state``):

- Free: the OS lock is taken, the info file written, the holder's :class:`LockInfo` yielded.
- Held by another process: with ``timeout=0`` a :class:`~campaign_sync.errors.LockError` at once,
  naming the holder from the info file (operation, pid, host, user, start time, lock id); with a
  timeout it polls every 0.1 s (one INFO log line says it is waiting) and fails the same way at the
  deadline.
- A holder that died without releasing leaves only its info file: the OS lock is free, so the next
  run takes it, logs a WARNING naming the dead run, and replaces the info file.
- Release (info file first, then the OS lock) always happens on leaving the ``with`` block,
  including on exceptions and ``KeyboardInterrupt``.
- One ``hold`` per state file per process at a time: ``flock`` locks belong to an open file, so a
  second ``hold`` in the same process fails like any other contender. Not re-entrant.

:meth:`StateLock.info` reports who holds (or last held) the lock; ``stale=True`` when the info
file exists but the OS lock is free, or when it names a process on this host that no longer exists.
:meth:`StateLock.force_unlock` removes both files, but refuses while the OS lock is held: a held OS
lock means a live holder, and deleting its file would let a second run in beside it. Checking
whether the lock is held briefly takes it, so a run starting at that very moment with ``timeout=0``
may be refused once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import filelock

from campaign_sync.errors import LockError
from campaign_sync.state.lock import LockInfo, new_lock_info, pid_alive

__all__ = ["StateLock"]

logger = logging.getLogger("campaign_sync.state")

POLL_INTERVAL = 0.1
"""Seconds between attempts while waiting for a held lock."""

_HOLDER_SETTLE = 0.5
"""How long a refused run waits for a new holder to record itself before naming it."""


class StateLock:
    """The lock of one state file. Cheap to create; holds nothing until :meth:`hold` is entered."""

    def __init__(self, state_path: Path) -> None:
        self.path = state_path.with_name(state_path.name + ".lock")
        self.info_path = state_path.with_name(state_path.name + ".lock.info")

    # -- taking and releasing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def hold(self, operation: str = "apply", timeout: float = 0.0) -> Iterator[LockInfo]:
        """Hold the lock for the ``with`` block; yields this run's :class:`LockInfo`."""
        if not timeout >= 0:  # also refuses NaN
            raise ValueError(f"lock timeout must be >= 0 seconds, not {timeout!r}")
        _ensure_directory(self.path.parent)
        os_lock = self._os_lock()
        self._acquire(os_lock, timeout)
        try:
            leftover = self._read_info()
            if leftover is not None:
                where = "this host" if leftover.on_this_host else leftover.host
                logger.warning(
                    "a previous %s (pid %s on %s, since %s) ended without releasing the lock; "
                    "its process is gone; continuing",
                    leftover.operation,
                    leftover.pid,
                    where,
                    leftover.created,
                )
            self._remove_info_temps()
            mine = new_lock_info(operation)
            self._write_info(mine)
            try:
                yield mine
            finally:
                self._remove_info_if_mine(mine)
        finally:
            os_lock.release()

    def _os_lock(self) -> filelock.BaseFileLock:
        return filelock.FileLock(
            self.path,
            mode=0o600,
            thread_local=False,
            fallback_to_soft=False,
            preserve_lock_file=True,
        )

    def _acquire(self, os_lock: filelock.BaseFileLock, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            if self._try_acquire(os_lock):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockError(self._held_message(timeout))
            if not announced:
                holder = self._read_info()
                logger.info(
                    "state is locked by %s; waiting up to %g s for it",
                    holder.describe() if holder else "another run",
                    timeout,
                )
                announced = True
            time.sleep(min(POLL_INTERVAL, remaining))

    def _try_acquire(self, os_lock: filelock.BaseFileLock) -> bool:
        try:
            os_lock.acquire(blocking=False)
        except filelock.Timeout:
            return False
        except OSError as exc:
            raise LockError(f"cannot take the state lock {self.path}: {_reason(exc)}") from exc
        return True

    def _held_message(self, waited: float) -> str:
        holder = self._current_holder()
        who = (
            holder.describe()
            if holder is not None
            else "another campaign-sync run (it has not recorded who it is)"
        )
        after = f" after waiting {waited:g} s" if waited > 0 else ""
        return (
            f"state is locked by {who}{after}; wait for it to finish, or pass --lock-timeout SECONDS "
            "to wait. If that process is gone, run `campaign-sync force-unlock`."
        )

    def _current_holder(self) -> LockInfo | None:
        """The info of the run holding the OS lock, giving a run that just took it time to record itself."""
        settle = time.monotonic() + _HOLDER_SETTLE
        while True:
            info = self._read_info()
            looks_current = info is not None and not (info.on_this_host and not pid_alive(info.pid))
            if looks_current or time.monotonic() >= settle:
                return info
            time.sleep(0.05)

    # -- inspecting and breaking -----------------------------------------------------------------------

    def info(self) -> LockInfo | None:
        """Who holds or last held the lock (``None`` when no info file exists), with ``stale`` set."""
        info = self._read_info()
        if info is None:
            return None
        stale = not self._os_lock_held() or (info.on_this_host and not pid_alive(info.pid))
        return replace(info, stale=stale)

    def force_unlock(self) -> LockInfo | None:
        """Remove the lock and info files; returns the removed info (``None`` if there was none).

        Raises :class:`LockError` while the OS lock is held: its holder is alive, so it is not stale.
        """
        if not self.path.exists() and not self.info_path.exists():
            return None
        os_lock = self._os_lock()
        if not self._try_acquire(os_lock):
            holder = self._read_info()
            who = holder.describe() if holder is not None else "a process that has not recorded who it is"
            where = "this host" if holder is None or holder.on_this_host else f"host {holder.host}"
            raise LockError(
                f"the state lock is held by {who}: a live process on {where} holds it, so it is not "
                "stale. Wait for that run to finish, or stop it first; force-unlock only clears a lock "
                "whose holder is gone."
            )
        try:
            info = self._read_info()
            self._remove_info_temps()
            for path in (self.info_path, self.path):
                try:
                    path.unlink(missing_ok=True)
                except OSError as exc:
                    raise LockError(f"cannot remove {path}: {_reason(exc)}") from exc
        finally:
            os_lock.release()
        if info is not None:
            logger.info("removed the state lock of %s", info.describe())
            return replace(info, stale=True)
        return None

    def _os_lock_held(self) -> bool:
        if not self.path.exists():
            return False
        probe = self._os_lock()
        if not self._try_acquire(probe):
            return True
        probe.release()
        return False

    # -- the info file ---------------------------------------------------------------------------------

    def _read_info(self) -> LockInfo | None:
        try:
            raw = self.info_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.debug("cannot read %s: %s", self.info_path, exc)
            return LockInfo.from_json(None)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        return LockInfo.from_json(data)

    def _write_info(self, info: LockInfo) -> None:
        text = json.dumps(info.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        tmp = self.info_path.with_name(f"{self.info_path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                os.write(fd, text.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.info_path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise LockError(f"cannot write the lock info file {self.info_path}: {_reason(exc)}") from exc

    def _remove_info_if_mine(self, mine: LockInfo) -> None:
        current = self._read_info()
        if current is None or current.id != mine.id:
            return
        try:
            self.info_path.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("cannot remove the lock info file %s: %s", self.info_path, _reason(exc))

    def _remove_info_temps(self) -> None:
        """Only the lock holder writes the info file, so under the lock every temp of it is a leftover."""
        for tmp in self.info_path.parent.glob(f"{self.info_path.name}.tmp-*"):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _ensure_directory(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise LockError(f"cannot create the state directory {directory}: {_reason(exc)}") from exc


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)

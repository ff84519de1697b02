"""The file backend (the default): one JSON file per environment, written atomically.

Files, all beside ``<state>`` (``.campaign-sync/<env>.state.json`` by default), all 0600:

``<state>``
    The state, exactly as the rules serialized it.
``<state>.backup``
    The previous copy, replaced (atomically) on every write. The only history this backend keeps.
``<state>.lock`` / ``<state>.lock.info``
    The OS lock and the holder's description (``campaign_sync.state.backends.file_lock``).
``<state>.lock.serial``
    The high-water mark: ``{"lineage": ..., "serial": N}`` of the last state this backend wrote, so
    that a state file replaced by an older copy (an old backup restored) is noticed. Written after
    each state write; a missing or unreadable mark means "unknown", never an error.

A write (:meth:`FileBackend.write`), in order: re-read the file and refuse (``StateConflictError``)
unless it is the lineage and serial the caller read; create the directory (0700) if needed and
remove temp files left by killed saves; copy the current file to ``<state>.backup`` (temp + fsync
+ rename); write ``<state>.tmp-<pid>-<random>`` (0600), fsync it, ``os.replace`` it onto
``<state>``, fsync the directory; record the high-water mark. A crash at any point leaves
``<state>`` either old or new, never partial, and ``<state>.backup`` a loadable copy. The OS lock
(held by every command that writes) is what keeps two runs from writing at once; the re-read is
the compare-and-swap that catches anyone who wrote without it.

Test hook (reliability row S2): with ``CAMPAIGN_SYNC_TEST_FAULT=kill-during-state-write`` in the
environment, a write kills its own process (SIGKILL) after writing half the temp file.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
import secrets
import shlex
import signal
import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager, suppress
from pathlib import Path

from campaign_sync.errors import LockError, StateConflictError, StateError
from campaign_sync.state.backend import HistoryEntry
from campaign_sync.state.backends.file_lock import StateLock
from campaign_sync.state.format import Invalid, loads, parse_state
from campaign_sync.state.lock import LockInfo, pid_alive

__all__ = ["FAULT_ENV", "FileBackend"]

logger = logging.getLogger("campaign_sync.state")

FAULT_ENV = "CAMPAIGN_SYNC_TEST_FAULT"
_FAULT_MID_WRITE = "kill-during-state-write"
_TEMP_NAME = re.compile(r"\.tmp-(\d+)-[0-9a-f]+$")


class FileBackend:
    """One state file and the files beside it. Cheap to create; touches nothing until used."""

    kind = "file"
    keeps_history = False

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.serial_path = self.path.with_name(self.path.name + ".lock.serial")
        self._lock = StateLock(self.path)
        self.lock_path = self._lock.path
        self.lock_info_path = self._lock.info_path
        #: The bytes this backend wrote last with their lineage and serial: found unchanged on the
        #: next write, they need no parse to tell what is stored (an apply writes after every change).
        self._wrote: tuple[bytes, str, int] | None = None

    @property
    def location(self) -> str:
        return f"state file {self.path}"

    # -- reading and writing -------------------------------------------------------------------------

    def read(self) -> bytes | None:
        return self._read(self.path, "state file")

    def write(self, data: bytes, *, serial: int, lineage: str, expected_serial: int | None) -> None:
        current_raw = self.read()
        self._check_expected(current_raw, lineage, expected_serial)
        self._ensure_directory()
        self._remove_leftover_temps()
        if current_raw is not None:
            self._write_atomically(self.backup_path, current_raw, "the state backup")
        self._wrote = None
        self._write_atomically(self.path, data, "the state file", fault=os.environ.get(FAULT_ENV))
        _fsync_directory(self.path.parent)
        self._wrote = (data, lineage, serial)
        self._record_high_water(lineage, serial)

    def _check_expected(self, raw: bytes | None, lineage: str, expected: int | None) -> None:
        if raw is None:
            if expected is not None:
                raise StateConflictError(
                    f"refusing to save: {self.location} was removed since serial {expected} was read; "
                    "nothing was written. Run the command again"
                )
            return
        wrote = self._wrote
        if wrote is not None and wrote[0] == raw:  # the very bytes written last: what they hold is known
            stored_lineage, stored_serial = wrote[1], wrote[2]
        else:
            try:
                stored = parse_state(loads(raw))
            except Invalid as exc:
                raise StateError(
                    f"{self.location} is unreadable ({exc}); refusing to write over it"
                ) from None
            stored_lineage, stored_serial = stored.lineage, stored.serial
        if stored_lineage != lineage or stored_serial != expected:
            where = f"lineage {stored_lineage} serial {stored_serial}"
            raise StateConflictError(
                f"refusing to save: {self.location} changed since it was read ({where} stored now, "
                f"serial {expected} of lineage {lineage} was read); another run has written it. "
                "Nothing was written. Run the command again"
            )

    def last_written(self, lineage: str) -> int | None:
        raw = self._read(self.serial_path, "the state's serial mark", quiet=True)
        if raw is None:
            return None
        try:
            mark = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            logger.debug("ignoring the unreadable serial mark %s", self.serial_path)
            return None
        if not isinstance(mark, dict) or mark.get("lineage") != lineage:
            return None
        serial = mark.get("serial")
        return serial if isinstance(serial, int) and not isinstance(serial, bool) and serial >= 0 else None

    def _record_high_water(self, lineage: str, serial: int) -> None:
        if (self.last_written(lineage) or -1) > serial:
            return
        text = json.dumps({"lineage": lineage, "serial": serial}, sort_keys=True) + "\n"
        try:
            self._write_atomically(self.serial_path, text.encode("utf-8"), "the state's serial mark")
        except StateError as exc:  # the state itself is saved; only the older-copy check weakens
            logger.warning("%s", exc)

    # -- history ------------------------------------------------------------------------------------

    def history(self) -> Sequence[HistoryEntry]:
        return ()

    def read_serial(self, serial: int) -> bytes | None:
        """The current file or its backup, when it is of ``serial``: the only copies kept."""
        for path in (self.path, self.backup_path):
            raw = self._read(path, "state file", quiet=True)
            if raw is None:
                continue
            try:
                if parse_state(loads(raw)).serial == serial:
                    return raw
            except Invalid:
                continue
        return None

    # -- locking ------------------------------------------------------------------------------------

    def lock(self, operation: str = "apply", timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        return self._lock.hold(operation, timeout)

    def lock_info(self) -> LockInfo | None:
        return self._lock.info()

    def force_unlock(self, *, terminate: bool = False) -> LockInfo | None:
        if terminate:
            info = self._lock.info()
            if info is not None and not info.stale:
                raise LockError(
                    f"the file backend cannot end another process's run: stop {info.describe()} "
                    "yourself, then run `campaign-sync force-unlock`"
                )
        return self._lock.force_unlock()

    # -- checks and messages ------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Fail before any API write when the state cannot be saved (reliability row S5)."""
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=directory)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StateError(
                f"cannot write the state in {directory}: {exc.strerror}; nothing was applied"
            ) from None

    def recovery_hint(self) -> str:
        if self.backup_path.exists():
            backup, path = shlex.quote(str(self.backup_path)), shlex.quote(str(self.path))
            return (
                f"the previous copy is at {self.backup_path} — inspect it and restore it with "
                f"`cp {backup} {path}` if it is good (it is one serial older, so the next apply needs "
                "--force to accept it)"
            )
        return (
            "there is no backup copy: repair it by hand, or move it aside to start a new state "
            "(live campaigns are then matched by name)"
        )

    def missing_hint(self) -> str | None:
        """A warning for a missing state file whose backup is still there."""
        if not self.backup_path.exists():
            return None
        return (
            f"state file {self.path} does not exist but {self.backup_path} does; starting from an empty "
            "state. If the state file was removed by mistake, restore it with "
            f"`cp {shlex.quote(str(self.backup_path))} {shlex.quote(str(self.path))}`"
        )

    def close(self) -> None:
        return None

    # -- internals ----------------------------------------------------------------------------------

    def _read(self, path: Path, what: str, *, quiet: bool = False) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            if quiet:
                logger.debug("cannot read %s: %s", path, exc)
                return None
            raise StateError(f"cannot read {what} {path}: {_reason(exc)}") from exc

    def _ensure_directory(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the state directory {self.path.parent}: {_reason(exc)}") from exc

    def _remove_leftover_temps(self) -> None:
        """Temp files of killed saves; a live process's own (other pid) are left alone."""
        for prefix in (self.path.name, self.backup_path.name, self.serial_path.name):
            for tmp in self.path.parent.glob(f"{glob.escape(prefix)}.tmp-*"):
                match = _TEMP_NAME.search(tmp.name)
                if match is None or tmp.name != f"{prefix}{match.group(0)}":
                    continue
                pid = int(match.group(1))
                if pid != os.getpid() and pid_alive(pid):
                    continue
                with suppress(OSError):
                    tmp.unlink()
                    logger.info("removed %s, left by an interrupted save", tmp)

    def _write_atomically(self, target: Path, data: bytes, what: str, *, fault: str | None = None) -> None:
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        )
        try:
            fd = os.open(tmp, flags, 0o600)
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
                half = len(data) // 2
                _write_all(fd, data[:half])
                if fault == _FAULT_MID_WRITE:
                    os.fsync(fd)
                    os.kill(os.getpid(), signal.SIGKILL)
                _write_all(fd, data[half:])
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except OSError as exc:
            with suppress(OSError):
                tmp.unlink()
            raise StateError(
                f"cannot write {what} {target}: {_reason(exc)}; the state file on disk is unchanged"
            ) from exc
        except BaseException:
            with suppress(OSError):
                tmp.unlink()
            raise


# -- small OS helpers ----------------------------------------------------------------------------------


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a directory; the rename is still done
        logger.debug("cannot fsync %s: %s", directory, exc)
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)

"""The state file: which live campaign each manifest key owns, and what was last applied to it.

Format (JSON; one file per environment, ``.campaign-sync/<env>.state.json`` by default)::

    {"version": 1, "serial": 7, "lineage": "<uuid4>", "toolVersion": "0.1.0",
     "flows": {"SMS Support Flow": "cf-..."},
     "campaigns": {"<key>": {"id": "cd-...", "campaignType": "sms", "name": "...",
                             "applied": {...}, "updatedAt": "2025-...Z", "live": {...} | null,
                             "contentHash": "sha256:..." | null}}}

- ``version``: the format version. This module reads and writes 1 and refuses any other.
- ``serial``: grows by exactly one on every write that changes the content; a save whose content
  equals the file's does not write at all. A fresh state has serial 0, its first save serial 1.
- ``lineage``: a uuid given when a state is born (:meth:`State.new`) and kept for its whole life; a
  saved plan records it, so it cannot be applied against another environment's state file.
- ``toolVersion``: the campaign-sync that last wrote the file. Stamped on each write; not content.
- ``flows``: experience flow name -> ``cf-...`` id pairs learned from the tool's own writes.
- ``campaigns[key]``: ``id`` (non-empty), ``campaignType`` (sms | voice) and ``name`` are checked;
  ``applied`` (the normalised spec last applied), ``live`` (the cached raw live document),
  ``updatedAt`` (its live version) and ``contentHash`` (a hash of it) are opaque here, bar their
  JSON types. Optional fields may be absent.
  Unknown fields at the top level or in a record are errors: a newer format must change ``version``.

Reading is strict (rule 9: plain, schema-checked JSON). Empty, truncated, non-UTF-8 or non-JSON
text, duplicate keys, NaN, an unknown version or a field of the wrong type raise ``StateError``
naming the file, pointing at ``<state>.backup`` when it exists; a corrupt file is never written
over. Serialization is deterministic (``indent=2``, sorted keys, UTF-8, trailing newline) so state
diffs in Git read well. No secret belongs in state: ``save(..., forbidden=[...])`` refuses to write
a state whose text contains any of the given values (and never repeats the value in its message).

:meth:`StateStore.save`, in order:

1. serialize and self-check the new state (what ``load`` would refuse is never written);
2. read the file on disk: refuse if it is corrupt, of another lineage, or of a higher serial than
   the state being saved (another run wrote it since it was read); return it, unwritten, if its
   content equals the new one;
3. create the directory (0700) if needed and remove temp files left by killed saves;
4. copy the current file to ``<state>.backup`` atomically (temp + fsync + rename);
5. write ``<state>.tmp-<pid>-<random>`` (0600) in the same directory, fsync it, ``os.replace`` it
   onto ``<state>``, fsync the directory.

A crash at any point leaves ``<state>`` either old or new, never partial, and ``<state>.backup`` a
loadable copy. ``load`` ignores temp files. Callers hold :meth:`StateStore.lock` (see
``campaign_sync.state.lock``), :meth:`StateStore.load` under it, and keep saving the ``State`` each ``save``
returns.

``State`` and ``CampaignRecord`` (defined with the JSON parsing in ``stateformat.py``, re-exported
here) are immutable values: ``with_*`` methods return new states. The
dicts inside (``campaigns``, ``flows``, ``applied``, ``live``) must be treated as read-only.

Test hook (reliability row S2): with ``CAMPAIGN_SYNC_TEST_FAULT=kill-during-state-write`` in the
environment, a save that writes the state kills its own process (SIGKILL) after writing half the
temp file.
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
from collections.abc import Iterable
from contextlib import AbstractContextManager, suppress
from dataclasses import replace
from pathlib import Path

from campaign_sync import __version__
from campaign_sync.errors import StateError
from campaign_sync.state.format import (
    FORMAT_VERSION,
    CampaignRecord,
    Invalid,
    State,
    loads,
    parse_state,
    refuse_forbidden,
    serialize,
)
from campaign_sync.state.lock import LockInfo, StateLock, pid_alive

__all__ = ["FORMAT_VERSION", "CampaignRecord", "LockInfo", "State", "StateStore"]

logger = logging.getLogger("campaign_sync.state")

FAULT_ENV = "CAMPAIGN_SYNC_TEST_FAULT"
_FAULT_MID_WRITE = "kill-during-state-write"
_TEMP_NAME = re.compile(r"\.tmp-(\d+)-[0-9a-f]+$")


# -- the file ------------------------------------------------------------------------------------------


class StateStore:
    """Reads, writes and locks one state file. See the module docstring for the guarantees."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self._lock = StateLock(self.path)
        self.lock_path = self._lock.path
        self.lock_info_path = self._lock.info_path

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> State:
        """The state on disk; ``State.new()`` (not written) when there is no file."""
        raw = self._read()
        if raw is None:
            if self.backup_path.exists():
                logger.warning(
                    "state file %s does not exist but %s does; starting from an empty state. If the state "
                    "file was removed by mistake, restore it with `cp %s %s`",
                    self.path,
                    self.backup_path,
                    shlex.quote(str(self.backup_path)),
                    shlex.quote(str(self.path)),
                )
            return State.new()
        return self._decode(raw, overwriting=False)

    def save(self, state: State, forbidden: Iterable[str] = ()) -> State:
        """Write ``state`` atomically if its content differs from the file's; returns the state as saved."""
        candidate = replace(state, version=FORMAT_VERSION, toolVersion=__version__, serial=state.serial + 1)
        text = serialize(candidate)
        refuse_forbidden(candidate, text, forbidden)
        try:
            parse_state(json.loads(text))
        except Invalid as exc:
            raise StateError(f"refusing to save an invalid state to {self.path} ({exc})") from None
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise StateError(
                f"refusing to save state to {self.path}: text that is not valid Unicode"
            ) from exc

        current_raw = self._read()
        if current_raw is not None:
            current = self._decode(current_raw, overwriting=True)
            if current.lineage != state.lineage:
                raise StateError(
                    f"refusing to save: state file {self.path} has lineage {current.lineage}, but the state "
                    f"being saved has lineage {state.lineage} (it belongs to another state file)"
                )
            if current.serial > state.serial:
                raise StateError(
                    f"refusing to save: state file {self.path} changed since it was read (serial "
                    f"{current.serial} on disk, {state.serial} here); another run has written it. "
                    "Run the command again"
                )
            if current.content_equal(state):
                return current

        self._ensure_directory()
        self._remove_leftover_temps()
        if current_raw is not None:
            self._write_atomically(self.backup_path, current_raw, "the state backup")
        self._write_atomically(self.path, data, "the state file", fault=os.environ.get(FAULT_ENV))
        _fsync_directory(self.path.parent)
        logger.debug("saved %s at serial %d", self.path, candidate.serial)
        return candidate

    def check_compatible(self, expected_lineage: str, expected_serial: int) -> None:
        """For saved plans: ``StateError`` if the file is of another lineage or older than the plan's.

        A missing file matches a plan made at serial 0 (made when there was no state). A *higher*
        serial returns normally: the state moved on since the plan, and the caller decides (it
        compares the campaigns the plan touches).
        """
        raw = self._read()
        if raw is None:
            if expected_serial == 0:
                return
            raise StateError(
                f"state file {self.path} is missing, but the plan was made against serial {expected_serial} "
                f"of lineage {expected_lineage}: restore the state file or make a new plan"
            )
        current = self._decode(raw, overwriting=False)
        if current.lineage != expected_lineage:
            if expected_serial == 0:
                raise StateError(
                    f"state lineage {current.lineage} differs from the plan's {expected_lineage}: the plan "
                    f"was made when there was no state file, and {self.path} has been created since "
                    f"(serial {current.serial}); make a new plan"
                )
            raise StateError(
                f"state lineage {current.lineage} differs from the plan's {expected_lineage}: the plan was "
                f"made against another state file than {self.path}; make a new plan against this one"
            )
        if current.serial < expected_serial:
            raise StateError(
                f"state serial {current.serial} is older than the plan's {expected_serial}: {self.path} "
                "was replaced by an older copy since the plan was made; restore the newer state or make a "
                "new plan"
            )

    def lock(self, operation: str = "apply", timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        """``with store.lock("apply", timeout=30) as info:`` holds the state lock (``state.lock``)."""
        return self._lock.hold(operation, timeout)

    def lock_info(self) -> LockInfo | None:
        return self._lock.info()

    def force_unlock(self) -> LockInfo | None:
        return self._lock.force_unlock()

    # -- internals ---------------------------------------------------------------------------------------

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read state file {self.path}: {_reason(exc)}") from exc

    def _decode(self, raw: bytes, *, overwriting: bool) -> State:
        try:
            return parse_state(loads(raw))
        except Invalid as exc:
            message = f"state file {self.path} is unreadable ({exc})"
            if overwriting:
                message += "; refusing to write over it"
            if self.backup_path.exists():
                backup, path = shlex.quote(str(self.backup_path)), shlex.quote(str(self.path))
                message += (
                    f"; the previous copy is at {self.backup_path} — inspect it and restore it with "
                    f"`cp {backup} {path}` if it is good"
                )
            else:
                message += (
                    "; there is no backup copy: repair it by hand, or move it aside to start a new state "
                    "(live campaigns are then matched by name)"
                )
            raise StateError(message) from None

    def _ensure_directory(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the state directory {self.path.parent}: {_reason(exc)}") from exc

    def _remove_leftover_temps(self) -> None:
        """Temp files of killed saves; a live process's own (other pid) are left alone."""
        for prefix in (self.path.name, self.backup_path.name):
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

"""The state: which live campaign each manifest key owns, what was last applied to it, and whose it is.

Format (JSON; one state per environment)::

    {"version": 1, "serial": 7, "lineage": "<uuid4>", "toolVersion": "0.1.0",
     "identity": {"environment": "prod", "host": "https://platform.kore.ai",
                  "streamId": "st-...", "accountId": "..."},
     "flows": {"SMS Support Flow": "cf-..."},
     "campaigns": {"<key>": {"id": "cd-...", "campaignType": "sms", "name": "...",
                             "applied": {...}, "updatedAt": "2025-...Z", "live": {...} | null,
                             "contentHash": "sha256:..." | null}}}

- ``version``: the format version. This module reads and writes 1 and refuses any other.
- ``serial``: grows by exactly one on every write that changes the content; a save whose content
  equals the stored one does not write at all. A fresh state has serial 0, its first save serial 1.
- ``lineage``: a uuid given when a state is born (:meth:`State.new`) and kept for its whole life; a
  saved plan records it, so it cannot be applied against another environment's state.
- ``identity``: the environment the state belongs to (name, host, streamId, accountId), stamped on
  every write. Added to version 1 without a version change: states written before it have none,
  are accepted with a warning and are stamped on their next write.
- ``toolVersion``: the campaign-sync that last wrote the state. Stamped on each write; not content.
- ``flows``: experience flow name -> ``cf-...`` id pairs learned from the tool's own writes.
- ``campaigns[key]``: ``id`` (non-empty), ``campaignType`` (sms | voice) and ``name`` are checked;
  ``applied`` (the normalised spec last applied), ``live`` (the cached raw live document),
  ``updatedAt`` (its live version) and ``contentHash`` (a hash of it) are opaque here, bar their
  JSON types. Optional fields may be absent.
  Unknown fields at the top level or in a record are errors: a newer format must change ``version``.

The rules live here once; where the bytes are kept is a :class:`~campaign_sync.state.backend.
StateBackend` (``backends/file.py``, the default, or ``backends/postgres.py``). :class:`StateStore`
is the facade every command uses, whatever the backend:

- **Strict reading** (rule 9: plain, schema-checked JSON). Empty, truncated, non-UTF-8 or non-JSON
  text, duplicate keys, NaN, an unknown version or a field of the wrong type raise ``StateError``
  naming the state and how to recover (the file backend's ``.backup``, the postgres history); a
  corrupt state is never written over.
- **Identity**: a state whose identity differs from the chosen environment's is refused, naming
  both, before any request to the API.
- **No going back**: a state whose serial is lower than the highest the backend wrote for its
  lineage (an older copy restored) is refused, unless ``load(accept_older=True)`` (``apply
  --force``): the next save then writes serial ``last written + 1``, so history never repeats a
  serial.
- **Compare-and-swap saves**: a save writes serial ``n + 1`` only if the stored state is still the
  ``n`` that was read; a save that lost a race is a ``StateError`` naming both serials, never an
  overwrite.
- **No secret**: ``save(..., forbidden=[...])`` refuses a state whose text contains any of the
  given values (and never repeats the value in its message).
- Deterministic serialization (``indent=2``, sorted keys, UTF-8, trailing newline), so state
  diffs read well and copies between backends are byte for byte.

:meth:`StateStore.save`, in order: serialize and self-check the new state (what ``load`` would
refuse is never written); read the stored state and refuse if it is corrupt, of another lineage,
or of another serial than the one being saved was read at; return it, unwritten, if its content
equals the new one; otherwise hand the bytes to the backend's compare-and-swap write. Callers
hold :meth:`StateStore.lock`, :meth:`StateStore.load` under it, and keep saving the ``State`` each
``save`` returns.

``State`` and ``CampaignRecord`` (defined with the JSON parsing in ``format.py``, re-exported here)
are immutable values: ``with_*`` methods return new states. The dicts inside (``campaigns``,
``flows``, ``applied``, ``live``) must be treated as read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path

from campaign_sync import __version__
from campaign_sync.errors import StateError
from campaign_sync.heap import long_lived
from campaign_sync.state.backend import HistoryEntry, StateBackend
from campaign_sync.state.backends.file import FAULT_ENV, FileBackend
from campaign_sync.state.format import (
    FORMAT_VERSION,
    CampaignRecord,
    Identity,
    Invalid,
    RecordTexts,
    State,
    check_serialized,
    loads,
    parse_state,
    refuse_forbidden,
    same_but_write_marks,
    serialize,
)
from campaign_sync.state.lock import LockInfo

__all__ = [
    "FAULT_ENV",
    "FORMAT_VERSION",
    "CampaignRecord",
    "HistoryEntry",
    "Identity",
    "LockInfo",
    "State",
    "StateBackend",
    "StateStore",
]

logger = logging.getLogger("campaign_sync.state")

_READ_ATTEMPTS = 5
"""Reads of a state that keeps moving under concurrent writers before the older-copy check decides."""


class StateStore:
    """Reads, writes and locks one environment's state through its backend (see the module docstring).

    ``StateStore(path)`` is the file backend at ``path``; ``StateStore(backend, identity=...)`` any
    backend, checking and stamping ``identity`` (``None``: neither, for tools and tests).
    """

    def __init__(self, backend: StateBackend | Path | str, *, identity: Identity | None = None) -> None:
        self.backend: StateBackend = FileBackend(backend) if isinstance(backend, Path | str) else backend
        self.identity = identity
        self._renumber_above: int | None = None
        self._written: tuple[bytes, State] | None = None
        """The bytes this store wrote last, and the state they were written from (self-checked)."""
        self._texts = RecordTexts()  # the records' text, copied into the next save

    # -- where it lives ----------------------------------------------------------------------------------

    @property
    def location(self) -> str:
        """Where the state lives, for messages: ``state file PATH``, ``postgres state ...``. No secret."""
        return self.backend.location

    @property
    def kind(self) -> str:
        return self.backend.kind

    @property
    def path(self) -> Path:
        """The state file (file backend only)."""
        return self._file().path

    @property
    def backup_path(self) -> Path:
        return self._file().backup_path

    @property
    def lock_path(self) -> Path:
        return self._file().lock_path

    @property
    def lock_info_path(self) -> Path:
        return self._file().lock_info_path

    def _file(self) -> FileBackend:
        if not isinstance(self.backend, FileBackend):
            raise StateError(f"{self.location} is not kept in a file")
        return self.backend

    def exists(self) -> bool:
        return self.backend.read() is not None

    # -- reading -----------------------------------------------------------------------------------------

    def load(self, *, accept_older: bool = False) -> State:
        """The stored state, checked; ``State.new()`` (not written) when there is none."""
        raw = self.backend.read()
        if raw is None:
            hint = getattr(self.backend, "missing_hint", None)
            message = hint() if callable(hint) else None
            if isinstance(message, str):
                logger.warning("%s", message)
            return State.new(self.identity)
        for _attempt in range(_READ_ATTEMPTS):
            with long_lived():  # the run's state: every record lives to its end (``heap``)
                state = self.decode(raw, overwriting=False)
            self._check_identity(state)
            last = self.backend.last_written(state.lineage)
            if last is None or state.serial >= last:
                return state
            # Backends record the high-water mark after (or with) the state, so a state read before
            # a concurrent write and a mark read after it look like an older copy: read again.
            again = self.backend.read()
            if again is None or again == raw:
                break
            raw = again
        assert last is not None  # the loop only goes on, or stops, on an older serial
        self._check_not_older(state, last, accept_older=accept_older)
        return state

    def decode(self, raw: bytes, *, overwriting: bool = False) -> State:
        """Strictly parsed, or a ``StateError`` naming the state and how to recover."""
        try:
            return parse_state(loads(raw))
        except Invalid as exc:
            message = f"{self.location} is unreadable ({exc})"
            if overwriting:
                message += "; refusing to write over it"
            raise StateError(f"{message}; {self.backend.recovery_hint()}") from None

    def _check_identity(self, state: State) -> None:
        mine = self.identity
        if mine is None:
            return
        if state.identity is None:
            logger.warning(
                "%s records no environment identity (it was written before campaign-sync kept one); "
                "accepting it as %s, which the next write records",
                self.location,
                mine.describe(),
            )
            return
        if state.identity != mine:
            differs = "; ".join(state.identity.differences(mine))
            raise StateError(
                f"{self.location} belongs to {state.identity.describe()}, not to the chosen "
                f"{mine.describe()} ({differs}); nothing was done. Check `state:` of environment "
                f"{mine.environment!r} in campaign-sync.yaml: every environment needs a state of its own"
            )

    def _check_not_older(self, state: State, last: int, *, accept_older: bool) -> None:
        if not accept_older:
            raise StateError(
                f"{self.location} is at serial {state.serial}, but serial {last} of the same lineage "
                f"({state.lineage}) was written there last: an older copy has replaced the state (a "
                "backup restored?). Nothing was done. Put the newer state back, or, if this older copy "
                f"is the one you mean, run `campaign-sync apply --force` to accept it (it is saved as "
                f"serial {last + 1})"
            )
        logger.warning(
            "accepting %s at serial %d although serial %d was written last (--force); it is saved as "
            "serial %d",
            self.location,
            state.serial,
            last,
            last + 1,
        )
        self._renumber_above = last

    # -- writing -----------------------------------------------------------------------------------------

    def save(self, state: State, forbidden: Iterable[str] = ()) -> State:
        """Write ``state`` if its content differs from the stored one's; returns the state as saved."""
        renumber = self._renumber_above
        serial = max(state.serial, renumber if renumber is not None else -1) + 1
        candidate = replace(
            state,
            version=FORMAT_VERSION,
            toolVersion=__version__,
            serial=serial,
            identity=self.identity or state.identity,
        )
        text = serialize(candidate, self._texts)
        refuse_forbidden(candidate, text, forbidden)
        try:
            check_serialized(candidate, text, self._texts)
        except Invalid as exc:
            raise StateError(f"refusing to save an invalid state to {self.location} ({exc})") from None
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise StateError(
                f"refusing to save state to {self.location}: text that is not valid Unicode"
            ) from exc

        expected: int | None = None
        current_raw = self.backend.read()
        if current_raw is not None:
            written = self._written
            # The very bytes this store wrote last: the state they were written from (checked by
            # the save's self-check) says their lineage and serial, and is never handed out; any
            # other bytes are parsed afresh.
            reuse = written is not None and written[0] == current_raw
            current = (
                written[1] if written is not None and reuse else self.decode(current_raw, overwriting=True)
            )
            if current.lineage != state.lineage:
                raise StateError(
                    f"refusing to save: {self.location} has lineage {current.lineage}, but the state "
                    f"being saved has lineage {state.lineage} (it belongs to another state)"
                )
            if current.serial > state.serial:
                raise StateError(
                    f"refusing to save: {self.location} changed since it was read (serial "
                    f"{current.serial} on disk, {state.serial} here); another run has written it. "
                    "Run the command again"
                )
            if current.serial < state.serial:
                raise StateError(
                    f"refusing to save: {self.location} went back from serial {state.serial} to "
                    f"{current.serial} since it was read (an older copy was put in its place); nothing "
                    "was written. Run the command again"
                )
            # Bytes this store wrote itself compare as text (the same serializer wrote both).
            if renumber is None and (
                same_but_write_marks(data, current_raw) if reuse else current.content_equal(candidate)
            ):
                return self.decode(current_raw, overwriting=True) if reuse else current
            expected = current.serial
        elif state.serial > 0:
            raise StateError(
                f"refusing to save: {self.location} was removed since serial {state.serial} was read; "
                "nothing was written. Restore it, or run the command again to start a new state"
            )
        self._written = None
        self.backend.write(data, serial=serial, lineage=state.lineage, expected_serial=expected)
        self._written = (data, candidate)
        self._renumber_above = None
        logger.debug("saved %s at serial %d", self.location, serial)
        return candidate

    def check_compatible(self, expected_lineage: str, expected_serial: int) -> None:
        """For saved plans: ``StateError`` if the state is of another lineage or older than the plan's.

        A missing state matches a plan made at serial 0 (made when there was no state). A *higher*
        serial returns normally: the state moved on since the plan, and the caller decides (it
        compares the campaigns the plan touches).
        """
        raw = self.backend.read()
        if raw is None:
            if expected_serial == 0:
                return
            raise StateError(
                f"{self.location} is missing, but the plan was made against serial {expected_serial} "
                f"of lineage {expected_lineage}: restore the state or make a new plan"
            )
        current = self.decode(raw, overwriting=False)
        if current.lineage != expected_lineage:
            if expected_serial == 0:
                raise StateError(
                    f"state lineage {current.lineage} differs from the plan's {expected_lineage}: the plan "
                    f"was made when there was no state file, and {self.location} has been created since "
                    f"(serial {current.serial}); make a new plan"
                )
            raise StateError(
                f"state lineage {current.lineage} differs from the plan's {expected_lineage}: the plan was "
                f"made against another state file than this one ({self.location}); make a new plan "
                "against this one"
            )
        if current.serial < expected_serial:
            raise StateError(
                f"state serial {current.serial} is older than the plan's {expected_serial}: "
                f"{self.location} was replaced by an older copy since the plan was made; restore the "
                "newer state or make a new plan"
            )

    def check_writable(self) -> None:
        """``StateError`` before any API write when the state could not be saved."""
        self.backend.check_writable()

    # -- locking and history -----------------------------------------------------------------------------

    def lock(self, operation: str = "apply", timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        """``with store.lock("apply", timeout=30) as info:`` holds the environment's state lock."""
        return self.backend.lock(operation, timeout)

    def lock_info(self) -> LockInfo | None:
        return self.backend.lock_info()

    def force_unlock(self, *, terminate: bool = False) -> LockInfo | None:
        return self.backend.force_unlock(terminate=terminate)

    def history(self) -> Sequence[HistoryEntry]:
        return self.backend.history()

    def close(self) -> None:
        self.backend.close()

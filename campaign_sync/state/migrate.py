"""``state migrate``: copy an environment's state to another backend, byte for byte, under both locks.

The copy keeps lineage and serial (it is the same state, moved): the target's bytes are the
source's bytes. Refused, with nothing written, when the source holds no state or one the rules
refuse (corrupt, another environment's identity, older than its backend last wrote, a secret in
it), or when the target already holds another state (another lineage), a newer serial, or the
same serial with other content. A target that already holds exactly these bytes is left alone.
The source is never changed: remove it once campaign-sync.yaml points at the new backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from campaign_sync.errors import StateError
from campaign_sync.state import StateStore
from campaign_sync.state.format import refuse_forbidden

__all__ = ["Migration", "migrate"]


@dataclass(frozen=True)
class Migration:
    serial: int
    lineage: str
    size: int
    already_there: bool


def migrate(
    source: StateStore, target: StateStore, *, lock_timeout: float = 0.0, forbidden: Iterable[str] = ()
) -> Migration:
    if source.location == target.location:
        raise StateError(f"the state is already in {source.location}: nothing to migrate")
    with (
        source.lock("state migrate", timeout=lock_timeout),
        target.lock("state migrate", timeout=lock_timeout),
    ):
        raw = source.backend.read()
        if raw is None:
            raise StateError(f"{source.location} holds no state: nothing to migrate")
        state = source.load()  # the rules: strict format, identity, not older than last written
        if source.decode(raw) != state:
            raise StateError(f"{source.location} changed while it was being read; run the command again")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:  # load would have refused it already
            raise StateError(f"{source.location} is not UTF-8 text") from None
        refuse_forbidden(state, text, forbidden)
        if target.identity is not None and state.identity not in (None, target.identity):
            raise StateError(
                f"the state in {source.location} belongs to {state.identity.describe()}, not to "
                f"{target.identity.describe()}; nothing was copied"
            )

        expected: int | None = None
        current_raw = target.backend.read()
        if current_raw is not None:
            current = target.decode(current_raw)
            if current.lineage != state.lineage:
                raise StateError(
                    f"{target.location} already holds another state (lineage {current.lineage}, serial "
                    f"{current.serial}); copying lineage {state.lineage} over it would lose it. Nothing "
                    "was copied: choose another target, or remove that state first"
                )
            if current.serial > state.serial:
                raise StateError(
                    f"{target.location} is newer (serial {current.serial}) than {source.location} (serial "
                    f"{state.serial}); nothing was copied"
                )
            if current.serial == state.serial:
                if current_raw == raw:
                    return Migration(state.serial, state.lineage, len(raw), already_there=True)
                raise StateError(
                    f"{target.location} holds serial {current.serial} of the same lineage with other "
                    "content; nothing was copied"
                )
            expected = current.serial
        last = target.backend.last_written(state.lineage)
        if last is not None and last > state.serial:
            raise StateError(
                f"{target.location} has already written serial {last} of lineage {state.lineage}; copying "
                f"serial {state.serial} there would go back in time. Nothing was copied"
            )
        target.backend.write(raw, serial=state.serial, lineage=state.lineage, expected_serial=expected)
        if target.backend.read() != raw:
            raise StateError(f"the copy in {target.location} does not read back byte for byte")
    return Migration(state.serial, state.lineage, len(raw), already_there=False)

"""Writing the files users keep (manifests, saved plans, reports): whole or not at all.

A temp file in the same directory, then ``os.replace``: a reader never sees half a file, and an
interrupted write leaves the old one in place. (The state file has its own, stricter sequence
with fsync and a backup in ``state.py``.)

Files are owner read/write only (0600) unless a caller asks otherwise: saved plans and reports
show campaign values, like the state. Files meant for the repository (``init``'s scaffold,
``export``'s manifests) are written ``SHARED``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE = 0o600
SHARED = 0o644


def write_atomic(path: Path, data: str | bytes, mode: int = PRIVATE, *, make_parents: bool = False) -> None:
    """Replace ``path`` with ``data`` (text as UTF-8); a missing folder is an error unless asked."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise

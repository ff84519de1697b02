"""The parsed values of clean manifest files, cached by content hash outside the repository.

Parsing YAML is most of what loading manifests costs (libyaml builds a node per scalar); reading
back the same values as JSON is about ten times cheaper. So when a plain ``*.yaml`` / ``*.yml``
file parses cleanly on the fast path (``yamlfast``: nothing to report), its values are written
here, and the next run that reads the *same bytes* reads them back instead of parsing. Every
campaign is still validated from those values on every run; only the YAML parse is skipped.

What makes it safe:

- the key is the SHA-256 of the file's bytes together with a fingerprint of the YAML reader
  (this package's version, PyYAML's, and the source of ``yamlsafe`` and ``yamlfast``), so a
  changed file or a changed parser is a miss, never a stale value;
- it lives in the user's cache directory (``$CAMPAIGN_SYNC_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/campaign-sync``, else ``~/.cache/campaign-sync``), never in the workspace,
  so a repository or a pull request cannot carry an entry; set ``CAMPAIGN_SYNC_CACHE_DIR`` to
  the empty string to turn it off;
- it holds only plain files, never a rendered ``*.j2`` template (whose output depends on
  variables and the environment): nothing that is not already in the repository;
- JSON only (no pickle): an entry is data, never code. A value JSON cannot carry exactly (a
  non-finite float) is not cached;
- every failure (an unwritable directory, a torn or foreign entry) is a miss or a skipped write,
  never an error: entries are written to a temporary file and renamed into place.

Entries are never needed; delete the directory at any time. The cache stays bounded: a hit
refreshes its entry's modification time, and a run that wrote entries then removes the least
recently used ones while the directory holds more than ``MAX_BYTES`` (down to three quarters of
it; a workspace of 10,000 campaigns takes about 6 MiB), and temporary files a killed run left.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

import campaign_sync
from campaign_sync.manifests import yamlfast, yamlsafe
from campaign_sync.manifests.yamlsafe import LineList

CACHE_ENV = "CAMPAIGN_SYNC_CACHE_DIR"
FORMAT = 1
MAX_BYTES = 64 * 1024 * 1024
#: A temporary file older than this is a killed run's leftover (a write takes milliseconds).
STALE_TEMPORARY_SECONDS = 3600


def directory(env: Mapping[str, str]) -> Path | None:
    """Where entries live, by the variables of ``env`` (None: turned off, or no home to put them in)."""
    chosen = env.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen) / "manifests" if chosen else None
    base = env.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):  # the XDG spec: a relative path is invalid and ignored
        home = env.get("HOME") or ""
        if not home:
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "campaign-sync" / "manifests"


@functools.cache
def _fingerprint() -> bytes:
    """What the parsed values depend on besides the bytes (empty: unknown, so cache nothing)."""
    parts = [f"campaign-sync manifest values {FORMAT}", campaign_sync.__version__, yaml.__version__]
    try:
        sources = [Path(module.__file__ or "").read_bytes() for module in (yamlsafe, yamlfast)]
    except OSError:
        return b""
    digest = hashlib.sha256("\0".join(parts).encode())
    for source in sources:
        digest.update(hashlib.sha256(source).digest())
    return digest.digest()


class ParseCache:
    """One run's view of the cache (``root`` None: every lookup misses and nothing is written)."""

    def __init__(self, root: Path | None) -> None:
        fingerprint = _fingerprint() if root is not None else b""
        self.root = root if fingerprint else None
        self._fingerprint = fingerprint
        self.hits = 0
        self.writes = 0

    def _path(self, content_digest: bytes) -> Path | None:
        if self.root is None:
            return None
        key = hashlib.sha256(self._fingerprint + content_digest).hexdigest()
        return self.root / key[:2] / f"{key}.json"

    def get(self, content_digest: bytes) -> dict[str, Any] | None:
        """The document of the file whose bytes hash to ``content_digest``, as ``yamlfast.load`` made it."""
        path = self._path(content_digest)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(entry, dict):
            return None
        data, lines = entry.get("document"), entry.get("lines")
        if not isinstance(data, dict) or not isinstance(lines, list):
            return None
        campaigns = data.get("campaigns")
        if not isinstance(campaigns, list) or len(campaigns) != len(lines):
            return None
        if not all(type(line) is int for line in lines):
            return None
        items = LineList(campaigns)
        line = entry.get("line")
        items.line = line if type(line) is int else 1
        items.item_lines = lines
        data["campaigns"] = items
        self.hits += 1
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: the last to be pruned
        return data

    def put(self, content_digest: bytes, data: dict[str, Any]) -> None:
        """Remember a clean file's document (one with a ``campaigns`` list); never raises."""
        path = self._path(content_digest)
        campaigns = data.get("campaigns")
        if path is None or not isinstance(campaigns, LineList) or not _exact(data):
            return
        entry = {"line": campaigns.line, "lines": campaigns.item_lines, "document": data}
        try:
            text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except (OSError, ValueError, UnicodeError):
            return
        self.writes += 1

    def prune(self, max_bytes: int | None = None) -> int:
        """After a run that wrote entries: remove the least recently used while the cache holds
        more than ``max_bytes`` (default ``MAX_BYTES``; down to three quarters of it), and stale
        temporary files. Returns how many files were removed; never raises (a file another run
        removed first is simply gone). Symbolic links are never followed.
        """
        if self.root is None or not self.writes:
            return 0
        bound = MAX_BYTES if max_bytes is None else max_bytes
        entries: list[tuple[float, int, str]] = []
        removed = 0
        moment = time.time()
        try:
            shards = [e.path for e in os.scandir(self.root) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return 0
        for shard in shards:
            try:
                listing = list(os.scandir(shard))
            except OSError:
                continue
            for item in listing:
                try:
                    info = item.stat(follow_symlinks=False)
                except OSError:
                    continue
                if item.name.endswith(".json") and not item.name.startswith("."):
                    entries.append((info.st_mtime, info.st_size, item.path))
                elif item.name.endswith(".tmp") and moment - info.st_mtime > STALE_TEMPORARY_SECONDS:
                    removed += _removed(item.path)
        total = sum(size for _mtime, size, _path in entries)
        if total <= bound:
            return removed
        entries.sort()
        for _mtime, size, path in entries:
            if total <= bound * 3 // 4:
                break
            removed += _removed(path)
            total -= size
        return removed


def _removed(path: str) -> int:
    try:
        os.unlink(path)
    except OSError:
        return 0
    return 1


def _exact(value: Any) -> bool:
    """True when JSON gives ``value`` back exactly (same types, same values)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            stack.extend(item.values())
        elif kind is list or kind is LineList:
            stack.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif item is not None and kind not in (str, int, bool):
            return False
    return True

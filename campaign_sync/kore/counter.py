"""How many HTTP requests a client sent, by method, and how many of them were writes.

Every attempt handed to the network counts: retries, the token re-mint retry and the lookups
a create makes to check whether a lost response had in fact created the campaign. A *write*
is a create (POST ``.../campaign``), an update (PUT) or a delete (DELETE); the list endpoint
is a POST but only reads, so it counts as a read.
"""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounter:
    """Thread-safe tally of requests sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_method: Counter[str] = Counter()
        self._writes = 0

    def record(self, method: str, *, write: bool) -> None:
        with self._lock:
            self._by_method[method.upper()] += 1
            if write:
                self._writes += 1

    def by_method(self) -> dict[str, int]:
        """A copy, e.g. ``{"GET": 1, "POST": 2}`` (sorted by method)."""
        with self._lock:
            return dict(sorted(self._by_method.items()))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._by_method.values())

    @property
    def writes(self) -> int:
        with self._lock:
            return self._writes

    @property
    def reads(self) -> int:
        with self._lock:
            return sum(self._by_method.values()) - self._writes

    def __repr__(self) -> str:
        return f"RequestCounter(total={self.total}, writes={self.writes}, by_method={self.by_method()})"

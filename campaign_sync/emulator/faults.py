"""Scripted faults, the per-account rate limiter and the request journal.

A fault is matched against each API request (never control calls) in creation order: the first
one whose method is ``*`` or equal, whose ``path`` regex is found in the request path and that
has uses left, applies. See ``docs/emulator.md`` for every field and the fault matrix rows each
one serves (reference/reliability.md, section 6(a)).
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .wire import ApiError

JOURNAL_LIMIT = 10_000
#: The deepest ``nestedBody`` a fault may ask for (two bytes a level: 2 MB of brackets).
MAX_NESTING = 1_000_000


@dataclass
class Fault:
    id: str
    method: str = "*"
    path: str = ""
    statuses: list[int] = field(default_factory=list)
    times: int = 1
    delay: float = 0.0
    retryAfter: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    dropAfterApply: bool = False
    dropBefore: bool = False
    malformed: bool = False
    drip: dict[str, float] | None = None
    holdAfterApply: float = 0.0
    endlessPaging: bool = False
    nestedBody: int = 0
    rawBody: str | None = None
    listOmit: list[str] = field(default_factory=list)
    used: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times == 0:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None

    def status_for(self, use: int) -> int | None:
        """The scripted status of the ``use``-th application (0-based); the last one repeats."""
        if not self.statuses:
            return None
        return self.statuses[min(use, len(self.statuses) - 1)]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "statuses": list(self.statuses),
            "times": self.times,
            "delay": self.delay,
            "retryAfter": self.retryAfter,
            "body": self.body,
            "headers": dict(self.headers),
            "dropAfterApply": self.dropAfterApply,
            "dropBefore": self.dropBefore,
            "malformed": self.malformed,
            "drip": self.drip,
            "holdAfterApply": self.holdAfterApply,
            "endlessPaging": self.endlessPaging,
            "nestedBody": self.nestedBody,
            "rawBody": self.rawBody,
            "listOmit": list(self.listOmit),
            "used": self.used,
        }


def _number(spec: dict[str, Any], key: str, default: float, problems: list[str]) -> float:
    value = spec.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or not math.isfinite(value):
        problems.append(f"{key} must be a non-negative number of seconds")
        return default
    return float(value)


def _flag(spec: dict[str, Any], key: str, problems: list[str]) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        problems.append(f"{key} must be a boolean")
        return False
    return value


#: The keys a fault may have; any other is a 400 (a misspelt key would silently script nothing).
FAULT_KEYS = (
    "method",
    "path",
    "statuses",
    "times",
    "delay",
    "retryAfter",
    "body",
    "headers",
    "dropBefore",
    "dropAfterApply",
    "malformed",
    "drip",
    "holdAfterApply",
    "endlessPaging",
    "nestedBody",
    "rawBody",
    "listOmit",
)


def parse_fault(spec: Any, fault_id: str) -> Fault:
    """A ``Fault`` from a ``POST /__emulator/faults`` body; problems raise a 400."""
    if not isinstance(spec, dict):
        raise ApiError(400, "a fault must be a JSON object")
    problems: list[str] = [
        f"unknown fault key {key!r}; known: {', '.join(FAULT_KEYS)}" for key in spec if key not in FAULT_KEYS
    ]
    method = spec.get("method", "*")
    if not isinstance(method, str) or not method:
        problems.append('method must be an HTTP method or "*"')
        method = "*"
    path = spec.get("path", "")
    try:
        re.compile(path)
    except (re.error, TypeError):
        problems.append("path must be a regular expression (searched in the request path)")
        path = ""
    statuses = spec.get("statuses", [])
    if isinstance(statuses, int) and not isinstance(statuses, bool):
        statuses = [statuses]
    if not isinstance(statuses, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in statuses
    ):
        problems.append("statuses must be an array of HTTP status codes")
        statuses = []
    times = spec.get("times", len(statuses) or 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < -1 or times == 0:
        problems.append("times must be a positive integer, or -1 for forever")
        times = 1
    retry_after = spec.get("retryAfter")
    if retry_after is not None and not isinstance(retry_after, str | int):
        problems.append("retryAfter must be a string (seconds or an HTTP date) or null")
        retry_after = None
    headers = spec.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        problems.append("headers must be an object of strings")
        headers = {}
    drip = spec.get("drip")
    if drip is not None:
        chunks = drip.get("chunks") if isinstance(drip, dict) else None
        interval = drip.get("interval") if isinstance(drip, dict) else None
        if (
            isinstance(chunks, bool)
            or not isinstance(chunks, int)
            or chunks < 1
            or isinstance(interval, bool)
            or not isinstance(interval, int | float)
            or interval < 0
        ):
            problems.append("drip must be {chunks: integer >= 1, interval: seconds >= 0}")
            drip = None
        else:
            drip = {"chunks": chunks, "interval": float(interval)}
    nested = spec.get("nestedBody", 0)
    if nested is None:
        nested = 0
    if isinstance(nested, bool) or not isinstance(nested, int) or not 0 <= nested <= MAX_NESTING:
        problems.append(f"nestedBody must be a nesting depth, an integer 0..{MAX_NESTING}")
        nested = 0
    raw_body = spec.get("rawBody")
    if raw_body is not None and not isinstance(raw_body, str):
        problems.append("rawBody must be a string (sent as the body, with Content-Type application/json)")
        raw_body = None
    omit = spec.get("listOmit") or []
    if not isinstance(omit, list) or not all(isinstance(i, str) and i for i in omit):
        problems.append("listOmit must be an array of campaign ids")
        omit = []
    fault = Fault(
        id=fault_id,
        method=method.upper() if method != "*" else "*",
        path=path,
        statuses=list(statuses),
        times=times,
        delay=_number(spec, "delay", 0.0, problems),
        retryAfter=str(retry_after) if retry_after is not None else None,
        body=spec.get("body"),
        headers=dict(headers),
        dropAfterApply=_flag(spec, "dropAfterApply", problems),
        dropBefore=_flag(spec, "dropBefore", problems),
        malformed=_flag(spec, "malformed", problems),
        drip=drip,
        holdAfterApply=_number(spec, "holdAfterApply", 0.0, problems),
        endlessPaging=_flag(spec, "endlessPaging", problems),
        nestedBody=nested,
        rawBody=raw_body,
        listOmit=list(omit),
    )
    if problems:
        raise ApiError(400, *problems)
    return fault


class FaultBook:
    """The scripted faults, in creation order, and the event that releases held responses."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._release = threading.Event()

    def add(self, spec: Any) -> Fault:
        with self._lock:
            fault = parse_fault(spec, f"f-{next(self._ids)}")
            self._faults.append(fault)
            return fault

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        self.release_holds()

    def reset(self) -> None:
        self.clear()
        with self._lock:
            self._ids = itertools.count(1)

    def take(self, method: str, path: str) -> tuple[Fault, int] | None:
        """The first matching fault and the index of this use; its ``times`` is decremented."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    use = fault.used
                    fault.used += 1
                    if fault.times > 0:
                        fault.times -= 1
                    return fault, use
        return None

    def release_event(self) -> threading.Event:
        """The event the next ``release_holds`` sets; take it before a request could be released."""
        with self._lock:
            return self._release

    @staticmethod
    def hold(seconds: float, release: threading.Event) -> None:
        """Wait ``seconds``, or less if ``release_holds`` is called meanwhile."""
        release.wait(seconds)

    def release_holds(self) -> None:
        with self._lock:
            self._release.set()
            self._release = threading.Event()


class RateLimiter:
    """Sliding window per account: ``limit`` requests per ``window`` seconds (0 = off)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def check(self, account: str, now: float) -> int | None:
        """None when the request may proceed (it is counted); else whole seconds until a slot frees."""
        if self.limit <= 0:
            return None
        with self._lock:
            hits = self._hits.setdefault(account, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return None


class Journal:
    """Every API request the emulator answered (or dropped), oldest first; bounded."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=JOURNAL_LIMIT)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append({"seq": next(self._seq), **entry})

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

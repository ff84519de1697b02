"""The emulator's one clock: wall time plus an adjustable offset.

Every timestamp the emulator produces or checks (``createdAt``/``updatedAt``, JWT ``exp``, the
rate-limit window, journal times, Preparing -> Ready) reads this clock, so a test can move time
forward through ``PUT /__emulator/settings {"clockOffset": ...}`` instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """``time.time() + offset``; the offset is changed through the settings control endpoint."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    @offset.setter
    def offset(self, value: float) -> None:
        with self._lock:
            self._offset = float(value)

    def now(self) -> float:
        """Seconds since the epoch on the emulator clock."""
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)


def iso_ms(ms: int) -> str:
    """ISO 8601 with milliseconds and ``Z``, the form the API uses: ``2025-12-05T08:16:19.398Z``."""
    stamp = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ms % 1000:03d}Z"


def parse_iso_ms(text: str) -> int | None:
    """Milliseconds since the epoch for an ISO 8601 string (``Z`` or offset), or None if unparseable."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)

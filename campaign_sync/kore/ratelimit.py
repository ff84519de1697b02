"""The client-side rate limiter: at most ``limit`` requests in any ``window`` seconds.

Why pyrate-limiter: its ``InMemoryBucket`` with the default ``SlidingWindowLog`` algorithm is
an exact sliding window (a log of admitted requests, bisected), which is what the platform's
per-account "60 requests per minute" limit is; a token bucket would allow bursts the server
then answers with 429. One limiter is shared by every thread of a client.

How it is used, deliberately:

* Acquisition is a loop of non-blocking ``try_acquire`` calls. On a refusal the wait is computed
  from the bucket (the entry that must leave the window), logged once at INFO ("rate limit:
  waiting 3.2s"), slept, and the acquisition retried with a fresh timestamp. pyrate-limiter's own
  blocking mode would stamp the admitted entry with "first attempt + planned sleep", which is
  earlier than the real send whenever the thread oversleeps or loses a race, and would hide the
  wait from the log.
* The window the bucket enforces is a little longer than the server's (``margin``): the bucket
  stamps a request when it is admitted, the server when it arrives, and a request that is slow
  to arrive must not make a later one land in the same server window.
* No background thread: the bucket is built with ``schedule_leak=False`` and expired entries
  are dropped on each acquisition, so nothing outlives the client and nothing keeps the process
  alive; ``close()`` closes the limiter and its bucket.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pyrate_limiter import InMemoryBucket, Limiter, Rate, SingleBucketFactory

log = logging.getLogger("campaign_sync.kore")

_NAME = "kore-account"


def safety_margin(window: float) -> float:
    """Extra window length covering the gap between admission and arrival at the server."""
    return min(1.0, max(0.2, 0.05 * window))


class RateLimiter:
    """Sliding-window limiter shared by the threads of one client."""

    def __init__(self, limit: int, window: float, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit = limit
        self.window = window
        self._interval_ms = round((window + safety_margin(window)) * 1000)
        self._rate = Rate(limit, self._interval_ms)
        self._bucket = InMemoryBucket([self._rate])
        self._limiter = Limiter(SingleBucketFactory(self._bucket, schedule_leak=False))
        self._sleep = sleep
        self._closed = threading.Event()

    def acquire(self) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        waited = 0.0
        logged = False
        started = time.monotonic()
        while True:
            if self._closed.is_set():
                raise RuntimeError("the rate limiter is closed")
            self._bucket.leak(self._now_ms())
            if self._limiter.try_acquire(_NAME, blocking=False) is True:
                return waited
            wait = self._wait_seconds()
            if not logged:
                log.info("rate limit: waiting %.1fs", wait)
                logged = True
            self._sleep(wait)
            waited = time.monotonic() - started

    def _wait_seconds(self) -> float:
        """Until the oldest entry that keeps the window full leaves it (at least 10 ms)."""
        blocking = self._bucket.peek(self.limit - 1)
        if blocking is None:
            return 0.01
        wait_ms = int(blocking.timestamp) + self._interval_ms - self._now_ms() + 1
        return max(0.01, wait_ms / 1000)

    def _now_ms(self) -> int:
        """The bucket's clock (monotonic milliseconds)."""
        return int(self._bucket.now())  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self._closed.set()
        self._limiter.close()

"""Progress lines from the client for a person watching stderr, with or without a terminal.

Without them a 70-campaign apply sat silent for 40 s while the rate limiter waited, and
connection-refused retries were silent for 13 s. The client reports three kinds of event here:

* **waits for the rate limit**: a long wait is announced when it starts, with its length, and
  again every ``interval`` seconds while it lasts; short waits (the steady one-second pacing of
  a sliding window) are added up and reported at most every ``interval`` seconds;
* **retries**: each one, with what failed, why, and the wait before the next attempt;
* **account events**: a 429 that pauses every request, and a change of the pace the client
  keeps (adaptive rate, ``ratelimit.py``);
* **long retry waits**: a backoff or a ``Retry-After`` of a minute would be one silent sleep;
  :meth:`Notices.sliced` sleeps it in slices and says every ``interval`` seconds that the run
  still waits (the client's default sleep; tests inject their own and see whole waits).

The engine sets ``status`` ("12 of 70 changes done"), which ends every line, so each says how far
the run has got. The sink is the console's progress line (stderr, silenced by ``-q``, scrubbed
of secrets like everything the console prints); the text itself never holds a header or a body.
Without a sink the lines go to the ``campaign_sync.kore`` logger at INFO (``-v``); with one, to
DEBUG, so ``-v`` does not print each line twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("campaign_sync.kore")

#: Seconds between two lines about the same ongoing wait ("every few seconds").
INTERVAL = 5.0
#: A rate-limit wait at least this long is announced as it starts.
LONG_WAIT = 2.0


class Notices:
    """Thread-safe, throttled progress lines; ``sink`` None logs them instead."""

    def __init__(
        self,
        sink: Callable[[str], None] | None = None,
        *,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._status = ""
        self._last_wait_line = -float("inf")
        self._short_waited = 0.0
        self._short_since: float | None = None

    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @status.setter
    def status(self, text: str) -> None:
        with self._lock:
            self._status = text

    def say(self, text: str) -> None:
        """One line now, ending with the run's status when there is one."""
        with self._lock:
            status = self._status
        line = f"{text}; {status}" if status else text
        if self._sink is None:
            log.info("%s", line)
        else:
            log.debug("%s", line)
            self._sink(line)

    def retrying(self, what: str, reason: str, wait: float, attempt: int, of: int) -> None:
        self.say(f"{what} -> {reason}; retrying in {wait:.1f}s (attempt {attempt} of {of})")

    def rate_wait(self, seconds: float, pace: str) -> None:
        """The rate limiter is about to wait ``seconds`` for a free slot (``pace``: "60 requests/minute")."""
        now = self._clock()
        with self._lock:
            if seconds >= LONG_WAIT:
                self._last_wait_line = now
                text: str | None = f"rate limit ({pace}): waiting {seconds:.1f}s for a free request slot"
            else:
                if self._short_since is None:
                    self._short_since = now
                self._short_waited += seconds
                text = None
                if now - self._last_wait_line >= self.interval and now - self._short_since >= self.interval:
                    text = (
                        f"rate limit ({pace}): waited {self._short_waited:.1f}s in the last "
                        f"{now - self._short_since:.0f}s"
                    )
                    self._last_wait_line = now
                    self._short_waited = 0.0
                    self._short_since = None
        if text is not None:
            self.say(text)

    def still_waiting(self, left: float, why: str) -> None:
        """Called during a long wait; says so again at most every ``interval`` seconds."""
        now = self._clock()
        with self._lock:
            due = now - self._last_wait_line >= self.interval
            if due:
                self._last_wait_line = now
        if due:
            self.say(f"{why}: still waiting, {left:.0f}s left")

    def sliced(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """``sleep`` in slices of at most ``interval`` seconds, saying after each that the run still
        waits (while at least a second is left), so a long retry wait is never silent."""

        def wait(seconds: float) -> None:
            left = float(seconds)
            while left > 0:
                step = min(left, self.interval)
                sleep(step)
                left -= step
                if left >= 1.0:
                    self.still_waiting(left, "waiting to retry")

        return wait

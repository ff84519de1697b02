"""The account's request pace: a shared sliding window that adapts to what the server allows.

One ``RateLimiter`` is shared by every thread of a client. Three jobs:

**A sliding window of ``limit`` requests per ``window`` seconds.** Why pyrate-limiter: its
``InMemoryBucket`` with the default ``SlidingWindowLog`` algorithm is an exact sliding window (a
log of admitted requests, bisected), which is what the platform's per-account "60 requests per
minute" is; a token bucket would allow bursts the server then answers with 429. The bucket is
used directly (``put``/``leak``/``peek`` and the ``rates`` setter), stamped from our own
injectable monotonic clock, so tests drive it without waiting; there is no ``Limiter`` object
and no background leak thread, so nothing outlives the client. The bucket's window is a little
longer than the server's (``safety_margin``): the bucket stamps a request when it is admitted,
the server when it arrives, and a request slow to arrive must not make a later one land in the
same server window.

**An account-wide pause after a 429.** A 429 is about the account, not the request: when one
thread is told ``Retry-After: 7`` every thread waits those 7 s (capped at ``retry_after_cap``)
before its next request, instead of each finding out with a 429 of its own. The call that got
the 429 waits in its retry policy and passes ``waited_until`` so it does not wait twice.

**Adaptive pace (the server allows less than ``rateLimit``).** The configured limit is a
ceiling, not a promise: another client may share the account, or the account's real limit may
be lower. Plain AIMD (halve on a 429, add one per window) averages about 75 % of the real
limit, because it keeps halving below it; the server tells us more than "too fast". Requests
answered 429 do not use a slot, so the number of our requests the server *accepted* in the
trailing window, at the moment it refused one, is a direct measurement of what it allows us.
So on a 429:

* the pace becomes ``max(accepted in the last window, half the current pace)``, and always at
  least one less than the current pace (multiplicative decrease, floored by the measurement, so
  a burst of 429s from a fault, with nothing accepted, halves it rather than collapsing it);
* only one decrease per congestion event: a 429 for a request admitted before the last
  decrease (in flight when the pace changed) changes nothing;
* after a whole window without a decrease the pace grows by ``step`` (5 % of the ceiling,
  additive increase), up to the configured limit, probing whether the server allows more;
* a probe that is refused within a window of growing doubles the windows the next probe waits
  (up to ``MAX_PROBE_WINDOWS``); a probe that holds halves them again. At a steady server limit
  the probes, and the 429s they cost, thin out to one every few minutes.

Against a server allowing 30/minute with 60 configured, this settles at the server's 30 with
a probe-429 every few windows (``tests/kore/test_kore_adaptive.py`` simulates it on an
injected clock; ``bench/apply_throughput.py`` measures it against the emulator).

Waits are reported to ``Notices`` (long waits as they start, short ones summed) and checked
against the run's ``RunBudget``: a wait that would end past the deadline raises
``BudgetExceeded`` instead of starting.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from pyrate_limiter import InMemoryBucket, Rate, RateItem

from campaign_sync.errors import BudgetExceeded

from .budget import RunBudget
from .notices import Notices

_NAME = "kore-account"
#: Multiplicative decrease: never below this fraction of the current pace on one 429.
DECREASE = 0.5
#: Additive increase per clean window, as a fraction of the configured limit (at least 1).
INCREASE = 0.05
#: The most windows a probe waits after earlier probes were refused.
MAX_PROBE_WINDOWS = 8


def safety_margin(window: float) -> float:
    """Extra window length covering the gap between admission and arrival at the server."""
    return min(1.0, max(0.2, 0.05 * window))


def pace_text(limit: int, window: float) -> str:
    if window == 60.0:
        return f"{limit} requests/minute"
    return f"{limit} requests per {window:g}s"


class RateLimiter:
    """Sliding-window limiter shared by the threads of one client, with a shared pause and adaptive pace."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        notices: Notices | None = None,
        budget: RunBudget | None = None,
        retry_after_cap: float = 120.0,
        adaptive: bool = True,
    ) -> None:
        self.limit = limit
        self.window = window
        self.adaptive = adaptive
        self.retry_after_cap = retry_after_cap
        self.step = max(1, round(limit * INCREASE))
        self._clock = clock
        self._sleep = sleep
        self._notices = notices or Notices(clock=clock)
        self._budget = budget
        self._interval_ms = round((window + safety_margin(window)) * 1000)
        self._current = limit
        self._bucket = InMemoryBucket([Rate(limit, self._interval_ms)])
        self._lock = threading.Lock()
        self._closed = False
        self._paused_until = -math.inf
        self._accepted: deque[float] = deque()
        self._last_change = clock()
        self._last_decrease = -math.inf
        self._grew = False
        self._probe_windows = 1
        self.admitted = 0
        self.throttled_count = 0
        self.decreases = 0

    @property
    def current(self) -> int:
        """The pace in force now (requests per window), at most ``limit``."""
        with self._lock:
            return self._current

    @property
    def paused_until(self) -> float:
        with self._lock:
            return self._paused_until

    def acquire(self, *, waited_until: float = -math.inf) -> float:
        """Block until a request may be sent; returns its admission time on the limiter's clock.

        ``waited_until``: the caller already waited out an account pause ending then (its own 429).
        """
        first = True
        while True:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the rate limiter is closed")
                now = self._clock()
                self._grow(now)
                if self._paused_until > max(now, waited_until):
                    wait, why = self._paused_until - now, "paused"
                else:
                    stamp = self._ms(now)
                    self._bucket.leak(stamp)
                    if self._bucket.put(RateItem(_NAME, stamp)):
                        self.admitted += 1
                        return now
                    wait, why = self._wait_seconds(now), "slot"
                pace = pace_text(self._current, self.window)
            self._check_budget(wait, why, pace)
            if first:
                if why == "slot":
                    self._notices.rate_wait(wait, pace)
                first = False
            elif wait >= 1.0:
                self._notices.still_waiting(
                    wait, "the API asked to pause" if why == "paused" else f"rate limit ({pace})"
                )
            self._sleep(min(wait, self._notices.interval))

    def accepted(self, admitted_at: float) -> None:
        """The server answered a request admitted at ``admitted_at`` with anything but 429 (a used slot)."""
        with self._lock:
            self._accepted.append(admitted_at)
            self._trim(self._clock())

    def throttled(self, admitted_at: float, retry_after: float | None) -> float:
        """The server answered 429: pause the account (``Retry-After``), slow down; returns the pause end."""
        say: list[str] = []
        with self._lock:
            now = self._clock()
            self.throttled_count += 1
            if retry_after is not None and retry_after > 0:
                pause = min(retry_after, self.retry_after_cap)
                if now + pause > self._paused_until:
                    self._paused_until = now + pause
                    say.append(f"HTTP 429: pausing every request to the account {pause:.1f}s (Retry-After)")
            if self.adaptive and admitted_at >= self._last_decrease:
                self._trim(now)
                measured = len(self._accepted)
                new = max(1, min(self._current - 1, max(measured, math.ceil(self._current * DECREASE))))
                if new < self._current:
                    if self._grew and now - self._last_change < self.window:
                        self._probe_windows = min(MAX_PROBE_WINDOWS, self._probe_windows * 2)
                    self._grew = False
                    say.append(
                        f"the API refused a request at {pace_text(self._current, self.window)} "
                        f"({measured} accepted in the last {self.window:g}s): sending at most "
                        f"{pace_text(new, self.window)} from now on"
                    )
                    self._set(new, now)
                    self._last_decrease = now
                    self.decreases += 1
            until = self._paused_until
        for line in say:
            self._notices.say(line)
        return until

    def close(self) -> None:
        with self._lock:
            self._closed = True

    # ------------------------------------------------------------------ internals (lock held)

    def _grow(self, now: float) -> None:
        """Additive increase: one ``step`` after ``probe windows`` without a decrease, up to ``limit``."""
        if self._current < self.limit and now - self._last_change >= self.window * self._probe_windows:
            if self._grew:  # the last probe held for its windows: probe more often again
                self._probe_windows = max(1, self._probe_windows // 2)
            self._set(min(self.limit, self._current + self.step), now)
            self._grew = True

    def _set(self, limit: int, now: float) -> None:
        self._current = limit
        self._bucket.rates = [Rate(limit, self._interval_ms)]
        self._last_change = now

    def _trim(self, now: float) -> None:
        while self._accepted and self._accepted[0] <= now - self.window:
            self._accepted.popleft()

    def _wait_seconds(self, now: float) -> float:
        """Until the oldest entry that keeps the window full leaves it (at least 10 ms)."""
        blocking = self._bucket.peek(self._current - 1)
        if blocking is None:
            return 0.01
        wait_ms = int(blocking.timestamp) + self._interval_ms - self._ms(now) + 1
        return max(0.01, wait_ms / 1000)

    @staticmethod
    def _ms(seconds: float) -> int:
        return int(seconds * 1000)

    def _check_budget(self, wait: float, why: str, pace: str) -> None:
        budget = self._budget
        if budget is None or not budget.would_pass(wait):
            return
        if why == "paused":
            reason = f"the account is paused for {wait:.0f}s more after a 429"
        else:
            reason = f"the next free request slot at {pace} is {wait:.0f}s away"
        left = budget.remaining()
        raise BudgetExceeded(f"{reason}, past the end of {budget.describe()} ({left:.0f}s left)")

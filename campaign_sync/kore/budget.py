"""The run's time budget: one deadline that every request, retry wait and rate-limit wait answers to.

The per-call retry budget (``retry.py``) bounds one call; nothing bounded a whole run, so a
server answering every PUT with ``429, Retry-After: 999999`` kept an apply of 30 campaigns busy
for hours, and a list endpoint that always said ``hasMore`` kept a plan paging for minutes. A
``RunBudget`` is created once per command (``--timeout``) and shared by everything the client
does:

* no attempt starts after the deadline, and each attempt's socket timeouts and overall
  deadline are cut to the time left (``session.py``);
* no wait starts that would end past the deadline: a retry's backoff, a ``Retry-After``
  (the server's own figure, before our cap: waiting less than it asks would only earn another
  429), the account-wide pause after a 429 and the rate limiter's wait for a free slot.

Reaching it raises ``BudgetExceeded`` at once instead of waiting in vain; the engine stops the
run there and says what was done. The clock is monotonic and injectable (tests move it by hand).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: The command-line default (``--timeout``): two hours. A first plan of an account without
#: state reads every campaign once (list calls plus one GET each), about 1,010 requests per
#: 1,000 campaigns, so two hours at the documented 60 requests/minute cover a first plan of
#: about 7,000 campaigns, or an apply of about 3,500 changes with its refresh; a routine plan
#: in sync needs seconds. It ends well inside GitHub Actions' 6-hour job limit, so a stuck run
#: fails with campaign-sync's own message rather than the runner's.
DEFAULT_TIMEOUT = 7200.0


class RunBudget:
    """A deadline on a monotonic clock; ``seconds`` of None (or 0) means no deadline."""

    def __init__(
        self,
        seconds: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        started: float | None = None,
    ) -> None:
        if seconds is not None and (not math.isfinite(seconds) or seconds < 0):
            raise ValueError(f"a time budget must be a non-negative number of seconds, got {seconds!r}")
        self.seconds = seconds or None
        self.clock = clock
        self.started = clock() if started is None else started
        self.deadline = math.inf if self.seconds is None else self.started + self.seconds

    @property
    def limited(self) -> bool:
        return self.seconds is not None

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float:
        """Seconds left (``inf`` without a deadline; never negative)."""
        return max(0.0, self.deadline - self.clock())

    def expired(self) -> bool:
        return self.clock() >= self.deadline

    def would_pass(self, seconds: float) -> bool:
        """Whether a wait of ``seconds`` starting now would end past the deadline."""
        return self.clock() + max(0.0, seconds) > self.deadline

    def describe(self) -> str:
        if self.seconds is None:
            return "no time budget"
        return f"the run's time budget of {self.seconds:g}s (--timeout)"

    def __repr__(self) -> str:
        return f"RunBudget({self.seconds!r}, remaining={self.remaining():.1f})"

"""Which failed attempts are retried, how long to wait between them, and when to give up.

Why tenacity: the policy is a composition of small, well-tested parts (a retry predicate, a
wait strategy, a stop condition, a hook before each sleep, a callback on giving up) instead of
a hand-rolled loop whose edge cases (the last sleep overshooting the budget, an attempt count
off by one) each need their own tests. Its ``sleep`` is injectable, so tests run the real
policy without waiting. Two pieces are ours:

* ``WaitRetryAfter`` honours a ``Retry-After`` the server sent (seconds or HTTP date, parsed
  by the response layer into ``ApiError.retry_after``), capped at ``retry_after_cap``; without
  one it falls back to exponential backoff with full jitter (``wait_random_exponential``: a
  uniform draw from ``[0, min(cap, base * 2 ** n)]``, base 0.5 s, cap 30 s).
* ``StopWhenExhausted`` stops at ``max_attempts`` or when the *next* sleep would end past the
  call's retry budget, measured on the client's injectable monotonic clock (tenacity's own
  ``stop_after_delay`` reads ``time.monotonic`` directly and checks before the sleep is known).
  It also stops when the next sleep, or the server's own ``Retry-After`` before our cap, would
  end past the whole run's deadline (``budget.RunBudget``); giving up then raises
  ``BudgetExceeded``, which ends the run instead of failing one call.

Each retry is announced through ``Notices`` (what failed, why, the wait, the attempt number):
a person watching a CI log sees connection-refused retries instead of silence.

A failed attempt is an ``AttemptFailure``: the ``ApiError`` to show plus two facts only the
layer that saw the failure knows: may it be retried, and may the server have applied the
request (a dropped connection after sending may have; a refused connection or a 429 has not).
``AttemptFailure`` never leaves this package: ``KoreClient`` raises its ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random_exponential
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from campaign_sync.errors import ApiError, BudgetExceeded

from .budget import RunBudget
from .notices import Notices

log = logging.getLogger("campaign_sync.kore")

#: Statuses worth another attempt: rate limited, and the server-side failures that are usually
#: transient (a 500 from an overloaded backend included). 501/505 and every 4xx are final.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


class AttemptFailure(Exception):
    """One failed attempt: the error to report, and whether to retry it."""

    def __init__(self, error: ApiError, *, retryable: bool, maybe_applied: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.maybe_applied = maybe_applied


def _failure(retry_state: RetryCallState) -> AttemptFailure | None:
    outcome = retry_state.outcome
    if outcome is None or not outcome.failed:
        return None
    exc = outcome.exception()
    return exc if isinstance(exc, AttemptFailure) else None


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, AttemptFailure) and exc.retryable


class WaitRetryAfter(wait_base):
    """The server's ``Retry-After`` (capped) when it sent one, else ``fallback``."""

    def __init__(self, cap: float, fallback: wait_base) -> None:
        self.cap = cap
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = _failure(retry_state)
        if failure is not None and failure.error.retry_after is not None:
            return min(max(0.0, failure.error.retry_after), self.cap)
        return float(self.fallback(retry_state))


def needed_wait(retry_state: RetryCallState) -> float:
    """The coming sleep, or the server's uncapped ``Retry-After`` when it asked for longer."""
    failure = _failure(retry_state)
    asked = failure.error.retry_after if failure is not None else None
    return max(retry_state.upcoming_sleep, asked or 0.0)


class StopWhenExhausted(stop_base):
    """Stop after ``max_attempts``, or when the coming sleep would end past ``budget`` s or the run."""

    def __init__(
        self,
        max_attempts: int,
        budget: float,
        clock: Callable[[], float],
        started: float,
        run_budget: RunBudget | None = None,
    ) -> None:
        self.max_attempts = max_attempts
        self.budget = budget
        self.clock = clock
        self.started = started
        self.run_budget = run_budget

    def past_run_budget(self, retry_state: RetryCallState) -> bool:
        return self.run_budget is not None and self.run_budget.would_pass(needed_wait(retry_state))

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.attempt_number >= self.max_attempts:
            return True
        if self.past_run_budget(retry_state):
            return True
        return self.clock() - self.started + retry_state.upcoming_sleep > self.budget


def exhausted(error: ApiError, attempts: int, elapsed: float, *, over_budget_wait: float | None) -> ApiError:
    """``error`` again, saying how many attempts were made and why they stopped."""
    noun = "attempt" if attempts == 1 else "attempts"
    detail = f"gave up after {attempts} {noun} in {elapsed:.1f}s"
    if over_budget_wait is not None:
        detail += f" (the next retry, in {over_budget_wait:.0f}s, would pass the retry budget)"
    detail = f"{error.detail}; {detail}" if error.detail else detail
    return error.restated(detail)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    budget: float
    retry_after_cap: float
    backoff_base: float = BACKOFF_BASE
    backoff_cap: float = BACKOFF_CAP

    def retrying(
        self,
        what: str,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        notices: Notices | None = None,
        run_budget: RunBudget | None = None,
    ) -> Retrying:
        """A fresh controller for one logical call (``what`` = ``"GET /path"``, for the log)."""
        started = clock()
        stop = StopWhenExhausted(self.max_attempts, self.budget, clock, started, run_budget)
        say = notices or Notices()

        def before_sleep(retry_state: RetryCallState) -> None:
            failure = _failure(retry_state)
            say.retrying(
                what,
                _reason(failure),
                retry_state.upcoming_sleep,
                retry_state.attempt_number + 1,
                self.max_attempts,
            )

        def give_up(retry_state: RetryCallState) -> NoReturn:
            failure = _failure(retry_state)
            assert failure is not None
            attempts = retry_state.attempt_number
            if attempts < self.max_attempts and stop.past_run_budget(retry_state):
                assert run_budget is not None
                raise _over_run_budget(what, failure, needed_wait(retry_state), run_budget, attempts)
            over = retry_state.upcoming_sleep if attempts < self.max_attempts else None
            error = exhausted(failure.error, attempts, clock() - started, over_budget_wait=over)
            log.info("%s: %s", what, error)
            raise AttemptFailure(error, retryable=False, maybe_applied=failure.maybe_applied)

        return Retrying(
            sleep=sleep,
            stop=stop,
            wait=WaitRetryAfter(
                self.retry_after_cap,
                wait_random_exponential(multiplier=self.backoff_base, max=self.backoff_cap),
            ),
            retry=retry_if_exception(_is_retryable),
            before_sleep=before_sleep,
            retry_error_callback=give_up,
        )


def _reason(failure: AttemptFailure | None) -> str:
    if failure is None:
        return "failed"
    if failure.error.status is not None:
        return f"HTTP {failure.error.status}"
    return failure.error.detail


def _over_run_budget(
    what: str, failure: AttemptFailure, wait: float, run_budget: RunBudget, attempts: int
) -> BudgetExceeded:
    error = failure.error
    asked = error.retry_after
    why = (
        f"the API asked to wait {asked:.0f}s (Retry-After)"
        if asked is not None and asked >= wait
        else f"the next retry would wait {wait:.1f}s"
    )
    log.info("%s -> %s; %s: stopping, the run's time budget would run out", what, _reason(failure), why)
    return BudgetExceeded(
        f"{why}, past the end of {run_budget.describe()} ({run_budget.remaining():.0f}s left), after "
        f"{attempts} attempt{'s' if attempts != 1 else ''}",
        method=error.method,
        path=error.path,
        status=error.status,
        kore_message=error.kore_message,
        retry_after=asked,
    )


def run(retrying: Retrying, fn: Callable[[], Any], what: str = "request") -> Any:
    """``fn`` under ``retrying``; a final ``AttemptFailure`` becomes its ``ApiError``.

    The error is raised outside the ``except`` block, so it carries no chained context (an httpx
    exception in a chain would hold the request, headers included).
    """
    try:
        result = retrying(fn)
    except AttemptFailure as failure:
        error = failure.error
    else:
        attempts = retrying.statistics.get("attempt_number", 1)
        if attempts > 1:
            waited = retrying.statistics.get("idle_for", 0.0)
            log.info("%s: succeeded after %d attempts (waited %.1fs in all)", what, attempts, waited)
        return result
    raise error

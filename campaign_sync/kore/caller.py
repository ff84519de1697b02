"""``Caller``: one logical API call at a time, under its own retry controller, through the shared session.

The machinery under ``KoreClient``'s endpoints, kept apart from them: a ``Call`` records what its
attempts have taught (attempts, failures, whether it may have been applied, the account pause it
already waited out); ``Caller`` owns the pieces a client shares between threads (token source,
retry policy, rate limiter, session, counter, run budget, progress notices) and runs calls:

* ``_attempt``: one try, plus exactly one more with a re-minted token after a 401;
* ``_run``: a call under a fresh tenacity controller; a ``BudgetExceeded`` leaving it learns whether
  the call was a write that may have been applied (``write_in_doubt``);
* ``_data`` / ``_shape_error``: the envelope's ``data`` object, or a ``ProtocolError`` saying what
  was wrong with it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
from tenacity import Retrying

from campaign_sync.errors import ApiError, AuthError, BudgetExceeded, ProtocolError
from campaign_sync.redact import Redactor

from .auth import Credentials, TokenSource
from .budget import RunBudget
from .counter import RequestCounter
from .notices import Notices
from .ratelimit import RateLimiter
from .responses import SCOPE, interpret
from .retry import AttemptFailure, RetryPolicy, run
from .session import Session
from .settings import ClientSettings

log = logging.getLogger("campaign_sync.kore")


@dataclass
class Call:
    """One logical call and what its attempts so far have taught us."""

    method: str
    path: str
    params: dict[str, str]
    body: Any = None
    write: bool = False
    attempts: int = 0
    reminted: bool = False
    failures: list[AttemptFailure] = field(default_factory=list)
    waited_until: float = -math.inf
    """The end of the account pause this call's last 429 started (its retry waits it out itself)."""
    in_doubt: bool = False
    resent: bool = False

    @property
    def maybe_applied(self) -> bool:
        return any(f.maybe_applied for f in self.failures)


class Caller:
    """Runs logical calls for one environment; thread-safe; close it when done."""

    def __init__(
        self,
        settings: ClientSettings,
        credentials: Credentials,
        redactor: Redactor,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        budget: RunBudget | None = None,
        notices: Notices | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        """``budget``: the run's deadline (default: none); ``notices``: where progress lines go
        (default: the log); ``sleep``: the retry waits (default: real time in slices that report
        progress, ``Notices.sliced``); ``limiter``: the account's pace (default: one on the real clock, built
        from ``settings``; tests pass one on an injected clock)."""
        self.settings = settings
        self.counter = RequestCounter()
        self.budget = budget or RunBudget(None, clock=clock)
        self.notices = notices or Notices()
        self._redactor = redactor
        self._sleep = sleep if sleep is not None else self.notices.sliced(time.sleep)
        self._clock = clock
        self._wall_clock = wall_clock
        self._tokens = TokenSource(credentials, redactor, clock=clock, wall_clock=wall_clock)
        self._policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            budget=settings.retry_budget_seconds,
            retry_after_cap=settings.retry_after_cap,
        )
        self.limiter = limiter or RateLimiter(
            settings.rate_limit,
            settings.rate_window,
            notices=self.notices,
            budget=self.budget,
            retry_after_cap=settings.retry_after_cap,
        )
        self._session = Session(
            settings,
            self.limiter,
            self.counter,
            redactor,
            transport=transport,
            clock=clock,
            wall_clock=wall_clock,
            budget=self.budget,
        )
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._session.close()
        finally:
            self.limiter.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ machinery

    def _new_call(
        self, method: str, path: str, params: dict[str, str], *, body: Any = None, write: bool = False
    ) -> Call:
        return Call(method, path, {"accountId": self.settings.account_id, **params}, body, write)

    def _retrying(self, call: Call) -> Retrying:
        return self._policy.retrying(
            self._what(call),
            sleep=self._sleep,
            clock=self._clock,
            notices=self.notices,
            run_budget=self.budget,
        )

    def _what(self, call: Call) -> str:
        return f"{call.method} {self._shown(call)}"

    def _shown(self, call: Call) -> str:
        return httpx.URL(self.settings.api_root + call.path).path

    def _call(self, call: Call) -> dict[str, Any]:
        return self._run(call, lambda: self._attempt(call))

    def _run(self, call: Call, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``fn`` under the call's retry controller; a ``BudgetExceeded`` learns if a write is in doubt."""
        try:
            result: dict[str, Any] = run(self._retrying(call), fn, self._what(call))
        except BudgetExceeded as exc:
            error = exc
        else:
            return result
        in_doubt = error.write_in_doubt or (call.write and call.maybe_applied)
        if in_doubt == error.write_in_doubt and error.method:
            raise error
        detail = error.detail
        if in_doubt and not error.write_in_doubt:
            detail += f"; the {call.method} before it may have been applied"
        raise BudgetExceeded(
            detail,
            method=error.method or call.method,
            path=error.path or self._shown(call),
            status=error.status,
            kore_message=error.kore_message,
            retry_after=error.retry_after,
            write_in_doubt=in_doubt,
        )

    def _attempt(self, call: Call) -> dict[str, Any]:
        """One try (two with a 401 re-mint); raises ``AttemptFailure``, recording it on ``call``."""
        token = self._tokens.current()
        outcome = self._try(call, token)
        if _unauthorized(outcome) and not call.reminted and self._tokens.renewable:
            call.reminted = True
            log.info(
                "%s %s -> HTTP 401; minting a new token, trying once more", call.method, self._shown(call)
            )
            outcome = self._try(call, self._tokens.renew(token))
        if isinstance(outcome, dict):
            return outcome
        if _unauthorized(outcome):
            outcome = self._auth_failure(outcome.error)
        call.failures.append(outcome)
        raise outcome

    def _try(self, call: Call, token: str) -> dict[str, Any] | AttemptFailure:
        call.attempts += 1
        try:
            reply = self._session.send(
                call.method,
                call.path,
                params=call.params,
                body=call.body,
                token=token,
                write=call.write,
                attempt=call.attempts,
                waited_until=call.waited_until,
            )
            if reply.paused_until is not None:
                call.waited_until = reply.paused_until
            return interpret(
                reply,
                method=call.method,
                path=self._shown(call),
                redactor=self._redactor,
                wall_now=self._wall_clock(),
            )
        except AttemptFailure as failure:
            return failure

    def _auth_failure(self, error: ApiError) -> AttemptFailure:
        if self._tokens.renewable:
            detail = (
                f"the API rejected the token twice (it was re-minted once): check {self._tokens.describe()} "
                f"(client id and secret of the JWT app), that the app has the {SCOPE} API scope and it is "
                "published, and that this machine's clock is right"
            )
        else:
            detail = (
                f"the API rejected {self._tokens.describe()}: it may have expired or lack the {SCOPE} "
                "API scope; set a fresh token, or unset it to mint tokens from the client id and secret"
            )
        return AttemptFailure(
            AuthError(
                detail, method=error.method, path=error.path, status=401, kore_message=error.kore_message
            ),
            retryable=False,
            maybe_applied=False,
        )

    def _data(self, call: Call, payload: dict[str, Any]) -> dict[str, Any]:
        data = payload.get("data")
        if not isinstance(data, dict):
            raise self._shape_error(call, "the response has no data object")
        return data

    def _shape_error(self, call: Call, what: str) -> ProtocolError:
        return ProtocolError(f"unexpected response shape: {what}", method=call.method, path=self._shown(call))


def uncertain_reason(call: Call) -> str:
    """Why the call's last attempt left its outcome uncertain, for a progress line."""
    if not call.failures:
        return "no response"
    error = call.failures[-1].error
    return f"HTTP {error.status}" if error.status is not None else error.detail


def _unauthorized(failure: AttemptFailure | dict[str, Any]) -> bool:
    return isinstance(failure, AttemptFailure) and failure.error.status == 401

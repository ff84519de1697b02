"""One HTTP attempt: a free slot, a rate-limit permit, the request, the whole body by a deadline.

``campaign_sync.kore`` is the only package that imports httpx, and this is where requests are sent.

* ``follow_redirects=False``: a 3xx is reported, never followed, so the ``auth`` header cannot
  be sent to another host. TLS verification is httpx's default (on, certifi or ``SSL_CERT_FILE``);
  there is no switch to turn it off.
* In flight: a semaphore of ``parallelism`` slots, independent of the rate limiter, and an httpx
  pool of the same size (so no request ever waits for a pooled connection).
* Order per attempt: take a slot, then a rate-limit permit, then send at once, so the permit's
  timestamp is close to the moment the server sees the request. The reply goes back to the
  limiter: a 429 pauses the account and slows the pace, anything else counts as a request the
  server accepted (``ratelimit.py``).
* Run budget: no attempt starts once the run's deadline has passed (``BudgetExceeded``), and
  each attempt's timeouts and overall deadline are cut to the time the run has left.
* Deadline: connect and read timeouts bound each socket operation; the body is streamed and the
  overall per-attempt deadline is checked after every chunk, so a server dripping bytes (each
  within the read timeout) cannot hold a request forever. Each socket wait is also capped at the
  deadline, so an attempt ends at most one such wait after it.
* httpx exceptions are translated into ``TransportError`` with a message of our own (host, what
  failed) and raised without chaining: the httpx exception holds the request, headers included.
* Logging: one DEBUG line per attempt (method, path, status, elapsed, attempt), never headers
  or bodies.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from campaign_sync import __version__
from campaign_sync.errors import BudgetExceeded, TransportError
from campaign_sync.redact import Redactor

from .budget import RunBudget
from .counter import RequestCounter
from .ratelimit import RateLimiter
from .responses import Reply, parse_retry_after
from .retry import AttemptFailure
from .settings import ClientSettings

log = logging.getLogger("campaign_sync.kore")

USER_AGENT = f"campaign-sync/{__version__}"
MAX_BODY_BYTES = 32 * 1024 * 1024


class _DeadlineExceeded(Exception):
    pass


class _TooLarge(Exception):
    pass


class Session:
    """Sends single attempts for one environment; shared by all threads of a client."""

    def __init__(
        self,
        settings: ClientSettings,
        limiter: RateLimiter,
        counter: RequestCounter,
        redactor: Redactor,
        *,
        transport: httpx.BaseTransport | None,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        budget: RunBudget,
    ) -> None:
        self._settings = settings
        self._limiter = limiter
        self._counter = counter
        self._redactor = redactor
        self._clock = clock
        self._wall_clock = wall_clock
        self._budget = budget
        self._slots = threading.BoundedSemaphore(settings.parallelism)
        self._host = urlsplit(settings.base_url).netloc
        self._http = httpx.Client(
            transport=transport,
            follow_redirects=False,
            verify=True,
            trust_env=True,
            timeout=self._timeout(),
            limits=httpx.Limits(
                max_connections=settings.parallelism, max_keepalive_connections=settings.parallelism
            ),
            headers={"User-Agent": USER_AGENT},
        )

    def _timeout(self, limit: float = math.inf) -> httpx.Timeout:
        s = self._settings
        deadline = max(0.001, min(s.request_deadline, limit))
        return httpx.Timeout(
            connect=min(s.connect_timeout, deadline),
            read=min(s.read_timeout, deadline),
            write=min(s.read_timeout, deadline),
            pool=deadline,
        )

    def close(self) -> None:
        self._http.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: Any,
        token: str,
        write: bool,
        attempt: int,
        waited_until: float = -math.inf,
    ) -> Reply:
        """One attempt (``path`` relative to the API root); a transport failure raises ``AttemptFailure``.

        ``waited_until``: the end of an account pause this call already waited out (its own 429).
        The reply's ``paused_until`` is the account pause a 429 started (else None).
        """
        settings = self._settings
        url = settings.api_root + path
        shown = urlsplit(url).path
        headers = {
            "auth": token,
            "iid": settings.iid,
            "accountId": settings.account_id,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        budget = self._budget
        with self._slots:
            self._check_budget(method, shown)
            admitted_at = self._limiter.acquire(waited_until=waited_until)
            self._check_budget(method, shown)
            left = budget.remaining()
            request = self._http.build_request(
                method,
                url,
                params=dict(params),
                headers=headers,
                content=content,
                timeout=self._timeout(left),
            )
            self._counter.record(method, write=write)
            started = self._clock()
            outcome = self._exchange(request, started + min(settings.request_deadline, left))
        elapsed = self._clock() - started
        if isinstance(outcome, Reply):
            log.debug("%s %s -> %d in %.3fs (attempt %d)", method, shown, outcome.status, elapsed, attempt)
            if outcome.status == 429:
                wait = parse_retry_after(outcome.retry_after, self._wall_clock())
                until = self._limiter.throttled(admitted_at, wait)
                return dataclasses.replace(outcome, paused_until=until)
            self._limiter.accepted(admitted_at)
            return outcome
        detail, retryable, maybe_applied = outcome
        log.debug("%s %s -> %s after %.3fs (attempt %d)", method, shown, detail, elapsed, attempt)
        raise AttemptFailure(
            TransportError(self._redactor.scrub(detail), method=method, path=shown),
            retryable=retryable,
            maybe_applied=maybe_applied,
        )

    def _check_budget(self, method: str, shown: str) -> None:
        budget = self._budget
        if budget.expired():
            raise BudgetExceeded(
                f"{budget.describe()} ran out before the request could be sent", method=method, path=shown
            )

    def _exchange(self, request: httpx.Request, deadline: float) -> Reply | tuple[str, bool, bool]:
        """The reply, or (what failed, retryable, maybe applied). Never raises an httpx exception."""
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            return self._describe(exc, sent=False)
        try:
            body = self._read(response, deadline)
        except _DeadlineExceeded:
            if self._budget.expired():
                return (f"{self._budget.describe()} ran out while waiting for the response", True, True)
            return (
                f"deadline exceeded: no complete response within {self._settings.request_deadline:g}s",
                True,
                True,
            )
        except _TooLarge:
            return (f"response body larger than {MAX_BODY_BYTES} bytes", False, True)
        except httpx.HTTPError as exc:
            return self._describe(exc, sent=True)
        finally:
            response.close()
        return Reply(
            status=response.status_code,
            body=body,
            content_type=response.headers.get("content-type", ""),
            location=response.headers.get("location"),
            retry_after=response.headers.get("retry-after"),
        )

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        if self._clock() > deadline:
            raise _DeadlineExceeded
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if self._clock() > deadline:
                raise _DeadlineExceeded
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _describe(self, exc: httpx.HTTPError, *, sent: bool) -> tuple[str, bool, bool]:
        """A message for a transport failure, and whether it is retryable / may have been applied."""
        host = self._host
        s = self._settings
        if isinstance(exc, httpx.ConnectTimeout):
            return (f"connecting to {host} timed out after {s.connect_timeout:g}s", True, False)
        if isinstance(exc, httpx.ConnectError):
            if _tls_failure(exc):
                return (
                    f"TLS handshake with {host} failed ({exc}); campaign-sync always verifies certificates: "
                    "if a proxy re-signs traffic, set SSL_CERT_FILE to a CA bundle that includes its "
                    "certificate",
                    False,
                    False,
                )
            return (f"cannot connect to {host}: {exc}", True, False)
        if isinstance(exc, httpx.PoolTimeout):
            return (f"no free connection to {host}", True, False)
        if isinstance(exc, httpx.ReadTimeout):
            return (f"no response from {host} within {s.read_timeout:g}s (read timeout)", True, True)
        if isinstance(exc, httpx.WriteTimeout | httpx.WriteError):
            return (f"sending the request to {host} failed: {type(exc).__name__}", True, True)
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.CloseError):
            return (f"connection to {host} dropped before a complete response ({exc})", True, True)
        if isinstance(exc, httpx.ProxyError):
            return (f"the proxy refused the connection to {host}: {exc}", True, False)
        if isinstance(exc, httpx.TimeoutException | httpx.NetworkError):
            return (f"network error talking to {host}: {type(exc).__name__}", True, sent)
        return (f"request to {host} failed: {type(exc).__name__}", False, sent)


def _tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return True
        current = current.__cause__ or current.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in str(exc)

"""``KoreClient``: the v2 Campaign Management endpoints, with retries that never duplicate a write.

Each public method is one logical call run under a fresh retry controller (``retry.py``); each
attempt goes through the shared ``Session`` (slot, rate-limit permit, deadline). Return values
are the raw ``data`` member of the platform's envelope: lenient at the server boundary, so a
field the server adds tomorrow reaches the engine untouched.

What is retried and what is not:

* GET, PUT, DELETE and the list POST are idempotent: 429, 500/502/503/504 and transport failures
  are retried with backoff (``Retry-After`` honoured); 4xx are final and raise at once.
* A 401 gets exactly one re-mint of the token and one more try per call; a ready token from
  ``tokenEnv`` cannot be re-minted, so its 401 is final.
* A DELETE whose earlier attempt may have been applied (dropped connection, 5xx) and that then
  gets 404 was deleted by that attempt: it returns ``{}``.
* POST create is never retried blindly. Once an attempt may have been applied (the connection
  dropped after sending, a timeout, a 5xx), every further attempt first lists the campaigns of
  that type and looks for the name (case-insensitively, as the platform's ``lname``): if the
  campaign is there, the create had in fact succeeded and its document is returned; only when
  the lookup proves it absent is the POST sent again. A 429 or a refused connection applied
  nothing, so the POST is retried without a lookup. A 409 "already exists" after an uncertain
  attempt is resolved the same way.
* A PUT is never re-sent blind either. When an attempt may have been applied (its response was
  lost, or a 500/502/504), the campaign is read back (GET) and the caller's ``holds`` predicate
  (the engine compares the document with the manifest's desired view through the core's
  comparison, not byte for byte) decides: if live holds the desired values the update succeeded
  and that document is returned; only if it provably does not is the PUT sent again, at most
  once more. Without ``holds`` an in-doubt PUT is not retried at all.
* Listing stops with a ``ProtocolError`` when a page brings no campaign not already listed while
  ``hasMore`` is true, or the campaigns listed outnumber ``totalResults``: a server that repeats
  pages cannot keep the client paging.
* The whole run answers to one ``RunBudget`` (``budget.py``); a ``BudgetExceeded`` leaving a call
  says whether that call was a write that may have been applied (``write_in_doubt``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx
from tenacity import Retrying

from campaign_sync.errors import (
    ApiError,
    AuthError,
    BudgetExceeded,
    ConflictError,
    NotFoundError,
    ProtocolError,
)
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

CampaignType = Literal["sms", "voice"]
Holds = Callable[[Mapping[str, Any]], bool]
PAGE_SIZE = 100
MAX_PAGES = 10_000


def campaign_id_of(doc: Any) -> str | None:
    """A campaign's id, whichever spelling the endpoint used (``_id`` or ``id``)."""
    if not isinstance(doc, dict):
        return None
    for key in ("_id", "id"):
        value = doc.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _check_type(campaign_type: str) -> None:
    if campaign_type not in ("sms", "voice"):
        raise ValueError(f"campaign type must be 'sms' or 'voice', got {campaign_type!r}")


def _segment(campaign_id: str) -> str:
    if not isinstance(campaign_id, str) or not campaign_id:
        raise ValueError(f"a campaign id must be a non-empty string, got {campaign_id!r}")
    return quote(campaign_id, safe="")


@dataclass
class _Call:
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


class KoreClient:
    """HTTP client for one environment's Campaign Management API. Thread-safe; close it when done."""

    def __init__(
        self,
        settings: ClientSettings,
        credentials: Credentials,
        redactor: Redactor,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        budget: RunBudget | None = None,
        notices: Notices | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        """``budget``: the run's deadline (default: none); ``notices``: where progress lines go
        (default: the log); ``limiter``: the account's pace (default: one on the real clock, built
        from ``settings``; tests pass one on an injected clock)."""
        self.settings = settings
        self.counter = RequestCounter()
        self.budget = budget or RunBudget(None, clock=clock)
        self.notices = notices or Notices()
        self._redactor = redactor
        self._sleep = sleep
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

    def __enter__(self) -> KoreClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.settings
        return f"KoreClient({s.base_url}, stream {s.stream_id}, account {s.account_id})"

    # ------------------------------------------------------------------ endpoints

    def list_campaigns(self, campaign_type: str) -> list[dict[str, Any]]:
        """Every campaign of one type (raw list items), all pages of ``getAllCampaignDetails``.

        A campaign listed twice (pages shifting while they are read) is kept once. Paging stops
        with a ``ProtocolError`` when ``hasMore`` stays true but a page brings nothing new, or when
        more campaigns were listed than ``totalResults`` says exist.
        """
        _check_type(campaign_type)
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        skip = 0
        for page in range(1, MAX_PAGES + 1):
            call = self._new_call(
                "POST",
                "/campaign/getAllCampaignDetails",
                {},
                body={"type": campaign_type, "skip": skip, "limit": PAGE_SIZE},
            )
            data = self._data(call, self._call(call))
            results = data.get("results")
            if not isinstance(results, list):
                raise self._shape_error(call, "data.results is not a list")
            fresh = 0
            for item in results:
                if not isinstance(item, dict):
                    continue
                cid = campaign_id_of(item)
                if cid is not None:
                    if cid in seen:
                        continue
                    seen.add(cid)
                    fresh += 1
                items.append(item)
            total = data.get("totalResults")
            if not isinstance(total, int) or isinstance(total, bool):
                total = None
            if total is not None and len(seen) > total:
                raise self._shape_error(
                    call,
                    f"{len(seen)} different {campaign_type} campaigns listed in {page} pages, more than the "
                    f"list's totalResults ({total}); stopped listing",
                )
            if not data.get("hasMore"):
                return items
            if not results:
                raise self._shape_error(call, "hasMore is true but the page is empty")
            if not fresh:
                raise self._shape_error(
                    call,
                    f"page {page} of the {campaign_type} campaigns (skip {skip}) lists no campaign the "
                    "earlier pages did not, yet hasMore is true: the server repeats pages; stopped listing",
                )
            skip += len(results)
            if total is not None and skip >= total:
                return items
        raise ProtocolError(f"more than {MAX_PAGES} pages of {campaign_type} campaigns; stopped listing")

    def get_campaign(self, campaign_id: str) -> dict[str, Any]:
        call = self._new_call("GET", f"/campaign/{_segment(campaign_id)}", {})
        return self._data(call, self._call(call))

    def get_campaigns(self, ids: Sequence[str]) -> dict[str, dict[str, Any] | ApiError]:
        """GET several campaigns, at most ``parallelism`` at a time; a failed one maps to its error."""
        unique = list(dict.fromkeys(ids))
        results: dict[str, dict[str, Any] | ApiError] = {}
        if not unique:
            return results
        workers = min(self.settings.parallelism, len(unique))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="campaign-sync-get")
        try:
            futures: dict[str, Future[dict[str, Any]]] = {
                cid: pool.submit(self.get_campaign, cid) for cid in unique
            }
            for cid, future in futures.items():
                try:
                    results[cid] = future.result()
                except ApiError as exc:
                    results[cid] = exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return results

    def create_campaign(self, campaign_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a new campaign; after an uncertain failure, finds it by name instead of creating twice."""
        _check_type(campaign_type)
        name = body.get("name") if isinstance(body.get("name"), str) else None
        call = self._new_call("POST", "/campaign", {"campaignType": campaign_type}, body=body, write=True)

        def once() -> dict[str, Any]:
            if call.maybe_applied:
                found = self._find_created(campaign_type, name)
                if found is not None:
                    return found
            try:
                return self._data(call, self._attempt(call))
            except AttemptFailure as failure:
                if isinstance(failure.error, ConflictError) and call.maybe_applied:
                    found = self._find_created(campaign_type, name)
                    if found is not None:
                        return found
                if failure.retryable and failure.maybe_applied and name is None:
                    raise AttemptFailure(
                        type(failure.error)(
                            f"{failure.error.detail}; the campaign may have been created, and without a "
                            "name it cannot be looked up, so the create is not retried",
                            method=call.method,
                            path=failure.error.path,
                            status=failure.error.status,
                            kore_message=failure.error.kore_message,
                        ),
                        retryable=False,
                        maybe_applied=True,
                    ) from None
                raise

        return self._run(call, once)

    def update_campaign(
        self,
        campaign_id: str,
        campaign_type: str,
        body: dict[str, Any],
        *,
        holds: Holds | None = None,
    ) -> dict[str, Any]:
        """PUT the complete campaign (the API replaces it); returns the updated document.

        ``holds(document)`` says whether a campaign read back holds what this PUT meant to write;
        it resolves an attempt that may have been applied (see the module docstring). Without it
        such an attempt is final: the error says the update may have been applied.
        """
        _check_type(campaign_type)
        call = self._new_call(
            "PUT",
            f"/campaign/{_segment(campaign_id)}",
            {"campaignType": campaign_type},
            body=body,
            write=True,
        )

        def once() -> dict[str, Any]:
            if call.in_doubt:
                assert holds is not None
                doc = self._read_back(call, campaign_id)
                why = _uncertain(call)
                if holds(doc):
                    self.notices.say(
                        f"PUT {campaign_id}: its outcome was uncertain ({why}); the campaign read back holds "
                        "the update, so it is not sent again"
                    )
                    return doc
                if call.resent:
                    raise AttemptFailure(
                        ApiError(
                            "the update did not take: after two PUTs whose outcome was uncertain, the "
                            "campaign read back still does not hold the desired values",
                            method=call.method,
                            path=self._shown(call),
                        ),
                        retryable=False,
                        maybe_applied=True,
                    )
                self.notices.say(
                    f"PUT {campaign_id}: its outcome was uncertain ({why}) and the campaign read back does "
                    "not hold the update; sending it once more"
                )
                call.in_doubt = False
                call.resent = True
            try:
                return self._data(call, self._attempt(call))
            except AttemptFailure as failure:
                if not failure.maybe_applied:
                    raise
                if holds is None:
                    raise AttemptFailure(
                        type(failure.error)(
                            f"{failure.error.detail}; the update may have been applied, so it is not sent "
                            "again blind: run `campaign-sync plan` to see whether it took",
                            method=call.method,
                            path=failure.error.path,
                            status=failure.error.status,
                            kore_message=failure.error.kore_message,
                        ),
                        retryable=False,
                        maybe_applied=True,
                    ) from None
                call.in_doubt = True
                raise AttemptFailure(failure.error, retryable=True, maybe_applied=True) from None

        return self._run(call, once)

    def _read_back(self, call: _Call, campaign_id: str) -> dict[str, Any]:
        """The campaign as it is now, to decide an in-doubt write; failing that, the write stays in doubt."""
        try:
            return self.get_campaign(campaign_id)
        except BudgetExceeded:
            raise
        except ApiError as exc:
            raise AttemptFailure(
                type(exc)(
                    f"the {call.method} may have been applied, and reading the campaign back to check failed "
                    f"({exc.detail}); run `campaign-sync plan` to see whether it took",
                    method=exc.method,
                    path=exc.path,
                    status=exc.status,
                    kore_message=exc.kore_message,
                ),
                retryable=False,
                maybe_applied=True,
            ) from None

    def delete_campaign(self, campaign_id: str, campaign_type: str) -> dict[str, Any]:
        """DELETE a campaign; returns the deleted document (``{}`` if an earlier attempt deleted it)."""
        _check_type(campaign_type)
        call = self._new_call(
            "DELETE", f"/campaign/{_segment(campaign_id)}", {"campaignType": campaign_type}, write=True
        )
        try:
            payload = self._call(call)
        except NotFoundError:
            if not call.maybe_applied:
                raise
            log.info(
                "DELETE %s: gone after an attempt whose response was lost; that attempt deleted it",
                campaign_id,
            )
            return {}
        data = payload.get("data")
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ machinery

    def _new_call(
        self, method: str, path: str, params: dict[str, str], *, body: Any = None, write: bool = False
    ) -> _Call:
        return _Call(method, path, {"accountId": self.settings.account_id, **params}, body, write)

    def _retrying(self, call: _Call) -> Retrying:
        return self._policy.retrying(
            self._what(call),
            sleep=self._sleep,
            clock=self._clock,
            notices=self.notices,
            run_budget=self.budget,
        )

    def _what(self, call: _Call) -> str:
        return f"{call.method} {self._shown(call)}"

    def _shown(self, call: _Call) -> str:
        return httpx.URL(self.settings.api_root + call.path).path

    def _call(self, call: _Call) -> dict[str, Any]:
        return self._run(call, lambda: self._attempt(call))

    def _run(self, call: _Call, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
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

    def _attempt(self, call: _Call) -> dict[str, Any]:
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

    def _try(self, call: _Call, token: str) -> dict[str, Any] | AttemptFailure:
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

    def _data(self, call: _Call, payload: dict[str, Any]) -> dict[str, Any]:
        data = payload.get("data")
        if not isinstance(data, dict):
            raise self._shape_error(call, "the response has no data object")
        return data

    def _shape_error(self, call: _Call, what: str) -> ProtocolError:
        return ProtocolError(f"unexpected response shape: {what}", method=call.method, path=self._shown(call))

    def _find_created(self, campaign_type: str, name: str | None) -> dict[str, Any] | None:
        """The campaign an earlier, uncertain create attempt made, if it exists."""
        if name is None:
            return None
        try:
            items = self.list_campaigns(campaign_type)
        except BudgetExceeded:
            raise
        except ApiError as exc:
            raise AttemptFailure(
                type(exc)(
                    f"could not check whether an earlier attempt created {name!r} ({exc.detail}); "
                    "run plan again before retrying",
                    method=exc.method,
                    path=exc.path,
                    status=exc.status,
                    kore_message=exc.kore_message,
                ),
                retryable=False,
                maybe_applied=True,
            ) from None
        wanted = name.lower()
        matches = [i for i in items if isinstance(i.get("name"), str) and i["name"].lower() == wanted]
        if not matches:
            log.info("create of %r: not found after an uncertain attempt; sending it again", name)
            return None
        campaign_id = campaign_id_of(matches[0])
        log.info("create of %r had in fact succeeded (campaign %s); not creating it again", name, campaign_id)
        if campaign_id is None:
            return matches[0]
        try:
            return self.get_campaign(campaign_id)
        except ApiError as exc:
            log.warning(
                "created campaign %s found, but reading it failed (%s); using the list item", campaign_id, exc
            )
            return matches[0]


def _uncertain(call: _Call) -> str:
    """Why the call's last attempt left its outcome uncertain, for a progress line."""
    if not call.failures:
        return "no response"
    error = call.failures[-1].error
    return f"HTTP {error.status}" if error.status is not None else error.detail


def _unauthorized(failure: AttemptFailure | dict[str, Any]) -> bool:
    return isinstance(failure, AttemptFailure) and failure.error.status == 401

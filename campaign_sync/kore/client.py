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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.errors import (
    ApiError,
    BudgetExceeded,
    ConflictError,
    NotFoundError,
    ProtocolError,
)

from .caller import Call, Caller, uncertain_reason
from .retry import AttemptFailure

log = logging.getLogger("campaign_sync.kore")

#: A campaign type as the API spells it; which types exist is the registry's business
#: (core/campaign_types.py).
CampaignType = str
Holds = Callable[[Mapping[str, Any]], bool]
PAGE_SIZE = 100
MAX_PAGES = 10_000
#: List pages in flight at once, at most (and never more than ``parallelism``). Past about four the
#: gain ends (the answers are parsed one at a time), while each worker thread keeps a memory arena
#: of its own: measured on 10,000 campaigns, 8 in flight listed no faster than 4 and took 1 MiB more.
LIST_AHEAD = 4


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
    names = REGISTRY.names()
    if campaign_type not in names:
        raise ValueError(f"campaign type must be one of {', '.join(names)}, got {campaign_type!r}")


def _segment(campaign_id: str) -> str:
    if not isinstance(campaign_id, str) or not campaign_id:
        raise ValueError(f"a campaign id must be a non-empty string, got {campaign_id!r}")
    return quote(campaign_id, safe="")


class KoreClient(Caller):
    """HTTP client for one environment's Campaign Management API. Thread-safe; close it when done."""

    def __repr__(self) -> str:
        s = self.settings
        return f"KoreClient({s.base_url}, stream {s.stream_id}, account {s.account_id})"

    # ------------------------------------------------------------------ endpoints

    def list_campaigns(self, campaign_type: str) -> list[dict[str, Any]]:
        """Every campaign of one type (raw list items), all pages of ``getAllCampaignDetails``.

        A campaign listed twice (pages shifting while they are read) is kept once. Paging stops
        with a ``ProtocolError`` when ``hasMore`` stays true but a page brings nothing new, or when
        more campaigns were listed than ``totalResults`` says exist.

        Once a full first page says how many campaigns there are (``totalResults``), the next
        pages are requested ahead, at most ``LIST_AHEAD`` (4) and ``parallelism`` at a time (the
        rate limiter still paces every request). They are read in order, exactly as the
        page-by-page loop reads them: a page is used only if it starts where the pages before it
        ended; when one does not (a short page: the list shrank or the server caps the page size),
        the rest is read page by page. So a server that lies about its pages costs at most the
        pages in flight more.
        """
        _check_type(campaign_type)
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        skip = 0
        ahead = _Ahead(self, campaign_type)
        try:
            for page in range(1, MAX_PAGES + 1):
                call, data = ahead.take(skip)
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
                        f"{len(seen)} different {campaign_type} campaigns listed in {page} pages, more than "
                        f"the list's totalResults ({total}); stopped listing",
                    )
                if not data.get("hasMore"):
                    return items
                if not results:
                    raise self._shape_error(call, "hasMore is true but the page is empty")
                if not fresh:
                    raise self._shape_error(
                        call,
                        f"page {page} of the {campaign_type} campaigns (skip {skip}) lists no campaign "
                        "the earlier pages did not, yet hasMore is true: the server repeats pages; "
                        "stopped listing",
                    )
                skip += len(results)
                if total is not None and skip >= total:
                    return items
                if len(results) == PAGE_SIZE and total is not None:
                    ahead.plan(skip, total, MAX_PAGES - page)
                else:
                    ahead.stop()
        finally:
            ahead.close()
        raise ProtocolError(f"more than {MAX_PAGES} pages of {campaign_type} campaigns; stopped listing")

    def _list_page(self, campaign_type: str, skip: int) -> tuple[Call, dict[str, Any]]:
        call = self._new_call(
            "POST",
            "/campaign/getAllCampaignDetails",
            {},
            body={"type": campaign_type, "skip": skip, "limit": PAGE_SIZE},
        )
        return call, self._data(call, self._call(call))

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
                        failure.error.restated(
                            f"{failure.error.detail}; the campaign may have been created, and without a "
                            "name it cannot be looked up, so the create is not retried"
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
                why = uncertain_reason(call)
                if holds(doc):
                    self.notices.say(
                        f"PUT {campaign_id}: its outcome was uncertain ({why}); the campaign read back holds "
                        "the update, so it is not sent again"
                    )
                    return doc
                if call.resent:
                    last = call.failures[-1].error if call.failures else ApiError("no response")
                    raise AttemptFailure(
                        type(last)(
                            f"{last.detail}; the update did not take: sent twice, and the campaign read "
                            "back after each attempt does not hold the desired values",
                            method=call.method,
                            path=self._shown(call),
                            status=last.status,
                            kore_message=last.kore_message,
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
                        failure.error.restated(
                            f"{failure.error.detail}; the update may have been applied, so it is not sent "
                            "again blind: run `campaign-sync plan` to see whether it took"
                        ),
                        retryable=False,
                        maybe_applied=True,
                    ) from None
                call.in_doubt = True
                raise AttemptFailure(failure.error, retryable=True, maybe_applied=True) from None

        return self._run(call, once)

    def _read_back(self, call: Call, campaign_id: str) -> dict[str, Any]:
        """The campaign as it is now, to decide an in-doubt write; failing that, the write stays in doubt."""
        try:
            return self.get_campaign(campaign_id)
        except BudgetExceeded:
            raise
        except ApiError as exc:
            raise AttemptFailure(
                exc.restated(
                    f"the {call.method} may have been applied, and reading the campaign back to check failed "
                    f"({exc.detail}); run `campaign-sync plan` to see whether it took"
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
                exc.restated(
                    f"could not check whether an earlier attempt created {name!r} ({exc.detail}); "
                    "run plan again before retrying"
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


class _Ahead:
    """List pages requested ahead of the one being read (``KoreClient.list_campaigns``).

    ``plan(skip, total)`` keeps up to ``LIST_AHEAD`` (and ``parallelism``) full pages in flight
    from ``skip`` on, while they stay below ``total``; ``take(skip)`` answers the page starting at
    ``skip``, from a request made ahead if there is one, else by requesting it now. ``stop()``
    plans nothing more (requests in flight are left to finish and are not used unless their page
    is asked for).
    """

    def __init__(self, client: KoreClient, campaign_type: str) -> None:
        self._client = client
        self._type = campaign_type
        self._pending: dict[int, Future[tuple[Call, dict[str, Any]]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._stopped = False

    def take(self, skip: int) -> tuple[Call, dict[str, Any]]:
        future = self._pending.pop(skip, None)
        if future is None:
            return self._client._list_page(self._type, skip)
        return future.result()

    def plan(self, skip: int, total: int, pages_left: int) -> None:
        width = min(self._client.settings.parallelism, LIST_AHEAD)
        if self._stopped or width < 2:
            return
        wanted = range(skip, min(total, skip + PAGE_SIZE * min(width, pages_left)), PAGE_SIZE)
        if self._pool is None and len(wanted) > 1:
            self._pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="campaign-sync-list")
        if self._pool is None:
            return
        for start in wanted:
            if start not in self._pending:
                self._pending[start] = self._pool.submit(self._client._list_page, self._type, start)

    def stop(self) -> None:
        self._stopped = True

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

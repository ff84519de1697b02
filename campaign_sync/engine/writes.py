"""Apply a plan: preflight checks, one write per change, durable state.

Guarantees, in order:

* Nothing is written when the plan deletes without ``--allow-delete`` or crosses the safety
  threshold without ``--force`` (a saved plan that is stale is refused before, in ``approval``).
* Creates, then updates, then deletes; one request each. One failure does not stop the rest.
* After every successful write the state is saved (atomically), so a killed apply loses at
  most the write in flight, and a rerun plans exactly what is left.
* What the API returns is compared with the manifest again; a field that did not take is named.
* A PUT whose outcome is uncertain (lost response, 5xx) is decided by reading the campaign back
  and comparing it with the manifest's desired view (``holds``), never re-sent blind.
* Ctrl-C / SIGTERM: the request in flight finishes, state is saved, the rest is skipped, and the
  run ends interrupted (exit 130) even when the signal came during the last write.
* The run's time budget (``--timeout``): when it runs out the loop stops before the next change;
  ``ApplyResult.stopped`` says why, and the outcomes say what was applied and what was not.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.compare import LiveCampaign, compare_campaign
from campaign_sync.core.diff import compare
from campaign_sync.core.normalize import FLOW_FIELD, FlowBook, content_hash, live_view, project
from campaign_sync.core.plan import Action, Change, Plan
from campaign_sync.core.refusals import refusing
from campaign_sync.display import show
from campaign_sync.engine.results import ApplyResult, Outcome, results_table
from campaign_sync.errors import (
    ApiError,
    ApplyFailed,
    BudgetExceeded,
    ProtocolError,
    SafetyError,
    StateError,
)
from campaign_sync.sanitize import escape

if TYPE_CHECKING:
    from campaign_sync.kore import KoreClient
    from campaign_sync.state import State, StateStore

__all__ = ["ApplyResult", "Outcome", "results_table"]  # kept importable from here; defined in results.py

log = logging.getLogger("campaign_sync.engine.writes")
Progress = Callable[[str], None]


class StopFlag:
    """Set by the first Ctrl-C or SIGTERM; the second one stops at once."""

    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self) -> None:
        self._event.set()


@contextmanager
def deferred_signals(on_first: Progress) -> Iterator[StopFlag]:
    """Turn SIGINT/SIGTERM into a stop request while writes are in progress."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if flag.requested:
            raise KeyboardInterrupt("stopped at once: state may lag the live API; run `campaign-sync plan`")
        flag.request()
        name = signal.Signals(signum).name
        on_first(f"{name} received: finishing the request in flight, then stopping (again to stop at once)")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def preflight(plan: Plan, *, allow_delete: bool, force: bool) -> None:
    """Refusals that must happen before any write: the plan's own (``core.refusals``), as it states them."""
    refusal = refusing(plan.refusals, allow_delete=allow_delete, force=force)
    if refusal is not None:
        raise SafetyError(f"{refusal.message} Nothing was applied.")


def _cacheable(doc: Mapping[str, Any]) -> bool:
    """Whether a write response looks like a full document worth caching for the next refresh."""
    return all(key in doc for key in ("updatedAt", "dialingStrategy", "schedule", "contactLists"))


def _not_taken(change: Change, doc: Mapping[str, Any], flows: FlowBook) -> list[str]:
    """Fields the API did not take: the response compared with the manifest again."""
    wanted = dict(change.recorded or {})
    have, facts = live_view(change.campaign_type, doc, None, flows, wanted)
    have = {k: v for k, v in project(have, wanted).items() if k in doc or k in {FLOW_FIELD, "queueName"}}
    if facts.flow_id is None:
        have.pop(FLOW_FIELD, None)
    wanted = {k: v for k, v in wanted.items() if k in have}
    return [f"{f.path} (sent {show(f.after)}, API has {show(f.before)})" for f in compare(have, wanted)]


def record_matches(state: State, plan: Plan, docs: Mapping[str, Mapping[str, Any]]) -> State:
    """Record adopted and unchanged campaigns, learned flows and forgotten keys (no API writes)."""
    from campaign_sync.state import CampaignRecord

    changing = {c.key for c in plan.changes}
    for match in plan.matches:
        if match.key in changing:
            continue
        old = state.campaigns.get(match.key)
        doc = docs.get(match.campaign_id)
        live = dict(doc) if doc is not None else (old.cached if old is not None else None)
        state = state.with_campaign(
            match.key,
            CampaignRecord(
                id=match.campaign_id,
                campaignType=match.campaign_type,
                name=match.name,
                applied=dict(match.recorded),
                updatedAt=match.updated_at,
                cached=live,
                contentHash=content_hash(live) if live is not None else None,
            ),
        )
    for key in plan.forget:
        state = state.without_campaign(key)
    if plan.learned_flows:
        state = state.with_flows({**state.flows, **plan.learned_flows})
    return state


def execute(
    plan: Plan,
    client: KoreClient,
    store: StateStore,
    state: State,
    flows: FlowBook,
    *,
    stop: StopFlag,
    progress: Progress,
    forbidden: tuple[str, ...] = (),
) -> ApplyResult:
    """Make each change, saving state after every successful write."""
    from campaign_sync.kore import campaign_id_of
    from campaign_sync.state import CampaignRecord

    result = ApplyResult(state=state)
    total = len(plan.changes)
    for index, change in enumerate(plan.changes):
        label = f"{change.action.glyph} {change.key}"
        client.notices.status = f"{index} of {total} changes done"
        if stop.requested:
            result.interrupted = True
            result.outcomes.extend(
                Outcome(c.key, c.action, c.campaign_id, "skipped", "interrupted")
                for c in plan.changes[index:]
            )
            break
        if change.blocked:  # the plan's blocked refusal (``core.refusals``) states this: no request
            result.outcomes.append(
                Outcome(change.key, change.action, change.campaign_id, "failed", change.blocked)
            )
            continue
        try:
            if change.action is Action.CREATE:
                doc = client.create_campaign(REGISTRY.get(change.campaign_type).name, dict(change.body or {}))
                campaign_id = campaign_id_of(doc)
                if campaign_id is None:
                    raise ProtocolError("the create response carries no campaign id", method="POST")
            elif change.action is Action.UPDATE:
                assert change.campaign_id is not None
                doc = client.update_campaign(
                    change.campaign_id,
                    REGISTRY.get(change.campaign_type).name,
                    dict(change.body or {}),
                    holds=holds_update(change, flows),
                )
                campaign_id = change.campaign_id
            else:
                assert change.campaign_id is not None
                client.delete_campaign(change.campaign_id, REGISTRY.get(change.campaign_type).name)
                state = _save_after_write(store, state.without_campaign(change.key), forbidden, change, None)
                result.outcomes.append(
                    Outcome(change.key, change.action, change.campaign_id, "applied", "deleted")
                )
                progress(f"{label}: deleted")
                continue
        except BudgetExceeded as exc:
            doubt = (
                "may have been applied (the next plan shows whether it took)"
                if exc.write_in_doubt
                else "not applied"
            )
            result.outcomes.append(
                Outcome(change.key, change.action, change.campaign_id, "failed", f"{doubt}: {exc}")
            )
            result.outcomes.extend(
                Outcome(c.key, c.action, c.campaign_id, "skipped", "not started: the time budget ran out")
                for c in plan.changes[index + 1 :]
            )
            result.stopped = f"stopped at {change.key}: {exc}"
            progress(f"{label}: {doubt}: {exc}")
            break
        except ApiError as exc:
            where = f"{change.location}: " if change.location else ""
            result.outcomes.append(
                Outcome(change.key, change.action, change.campaign_id, "failed", f"{where}{exc}")
            )
            progress(f"{label}: failed: {where}{exc}")
            continue
        sent_flow = (change.recorded or {}).get(FLOW_FIELD)
        flow_id = doc.get("experienceFlow")
        flow_note = ""
        if isinstance(sent_flow, str) and isinstance(flow_id, str) and flow_id:
            believed = flows.id_of(sent_flow)
            if believed is not None and believed != flow_id:
                flow_note = (
                    f"; the platform resolved experienceFlowName {sent_flow!r} to {flow_id}, not {believed}: "
                    "fix experienceFlows in campaign-sync.yaml"
                )
            if state.flows.get(sent_flow) != flow_id:
                state = state.with_flows({**state.flows, sent_flow: flow_id})
            flows = FlowBook.of({sent_flow: flow_id}, flows.by_name)
        cache = _cacheable(doc)
        state = state.with_campaign(
            change.key,
            CampaignRecord(
                id=campaign_id,
                campaignType=change.campaign_type,
                name=str(doc.get("name") or change.name),
                applied=dict(change.recorded or {}),
                updatedAt=doc.get("updatedAt"),
                cached=dict(doc) if cache else None,
                contentHash=content_hash(doc) if cache else None,
            ),
        )
        state = _save_after_write(store, state, forbidden, change, campaign_id)
        missed = _not_taken(change, doc, flows)
        count = len(change.fields)
        detail = (
            "created"
            if change.action is Action.CREATE
            else f"updated {count} field{'s' if count != 1 else ''}"
        )
        if missed:
            detail += "; did not take: " + ", ".join(missed)
        detail += flow_note
        result.outcomes.append(Outcome(change.key, change.action, campaign_id, "applied", detail))
        progress(f"{label}: {detail} ({escape(campaign_id)})")
    else:
        # A signal during the last write: that write finished and was saved, but the run was still
        # asked to stop, so it ends interrupted (exit 130), as it would have one change earlier.
        result.interrupted = stop.requested
    client.notices.status = ""
    result.state = state
    return result


def holds_update(change: Change, flows: FlowBook) -> Callable[[Mapping[str, Any]], bool]:
    """Whether a campaign read back holds what ``change`` meant to write (decides an in-doubt PUT).

    The same comparison plan makes: the read-back document against the manifest's desired view
    (``change.recorded``), normalised alike, the flow by name through the known pairings. A field
    the API cannot show back (``unverified``) cannot disprove it, so only verifiable fields count.
    """
    wanted = dict(change.recorded or {})

    def check(doc: Mapping[str, Any]) -> bool:
        live = LiveCampaign(
            id=change.campaign_id or "",
            campaign_type=change.campaign_type,
            name=str(doc.get("name", change.name)),
            status=doc.get("status"),
            updated_at=doc.get("updatedAt"),
            item={},
            doc=doc,
        )
        comparison = compare_campaign(wanted, live, flows, applied=wanted)
        return not [f for f in comparison.fields if not f.unverified]

    return check


def fill_cache(client: KoreClient, store: StateStore, state: State, forbidden: tuple[str, ...] = ()) -> State:
    """Read once, now, every managed campaign the state holds no document for.

    Create responses (and campaigns adopted from a saved plan) come without a full document;
    caching one here means later plans and drift runs need no GET for them until they change.
    """
    missing = {key: record for key, record in state.campaigns.items() if record.cached is None}
    if not missing:
        return state
    found = client.get_campaigns([record.id for record in missing.values()])
    for key, record in missing.items():
        doc = found.get(record.id)
        if isinstance(doc, Mapping):
            state = state.with_campaign(
                key,
                dataclasses.replace(
                    record,
                    cached=dict(doc),
                    updatedAt=doc.get("updatedAt", record.updatedAt),
                    contentHash=content_hash(doc),
                ),
            )
    try:
        return store.save(state, forbidden)
    except StateError as exc:  # the cache only saves reads later; the writes are already recorded
        log.warning("could not cache live documents in the state: %s", exc)
        return state


def _save_after_write(
    store: StateStore, state: State, forbidden: tuple[str, ...], change: Change, campaign_id: str | None
) -> State:
    """Save right after a write; if that fails, stop everything and say how to recover."""
    try:
        return store.save(state, forbidden)
    except StateError as exc:
        cid = campaign_id or change.campaign_id or "?"
        recover = (
            f"`campaign-sync state rm {change.key}`"
            if change.action is Action.DELETE
            else f"`campaign-sync import {change.key} {cid}`"
        )
        raise ApplyFailed(
            f"{change.key} was {change.action.value}d live ({cid}) but the state could not be saved: {exc}. "
            f"No further changes were made. Fix the state location, then run {recover} and "
            "`campaign-sync plan`."
        ) from None


def with_docs(live: tuple[LiveCampaign, ...]) -> dict[str, Mapping[str, Any]]:
    return {c.id: c.doc for c in live if c.doc is not None}

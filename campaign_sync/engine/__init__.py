"""Orchestration only: plan, drift, apply, refresh (the state bootstrap), import, forget, export.

The pure core (normalize, diff, plan, drift, report) never sees a client, a path or a clock;
this module is where they meet. The workspace is ``workspace.py``, reading live is ``refresh.py``,
the writes are ``writes.py``; what a person approved is checked in ``approval.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaign_sync import heap
from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.compare import LiveCampaign
from campaign_sync.core.normalize import FlowBook, content_hash, live_view
from campaign_sync.core.plan import Plan, build_plan
from campaign_sync.engine.refresh import (
    campaign_id,
    read_documents,
    read_left_manifests,
    refresh,
)
from campaign_sync.engine.workspace import (
    ValidationSummary,
    Workspace,
    config_placeholders,
    load_manifests,
    utc_now,
    validate,
)
from campaign_sync.errors import (
    ManifestError,
    NotFoundError,
    StateError,
)

if TYPE_CHECKING:
    from campaign_sync.core.drift import Drift
    from campaign_sync.engine.writes import ApplyResult
    from campaign_sync.manifests.export import ExportedCampaign
    from campaign_sync.state import CampaignRecord, State

__all__ = ["ValidationSummary", "Workspace", "load_manifests", "refresh", "utc_now", "validate"]


@dataclass(frozen=True)
class PlanRun:
    plan: Plan
    state: State
    live: tuple[LiveCampaign, ...]
    targets: tuple[str, ...]


def plan(workspace: Workspace, *, targets: Sequence[str] = (), full: bool = False) -> PlanRun:
    """Refresh and plan (read-only: nothing is written, not even state)."""
    desired = workspace.desired
    state = workspace.store.load()
    live = refresh(
        workspace.client(), desired, state, targets=targets, full=full, progress=workspace.progress
    )
    result = _plan_for(workspace, live, state, targets)
    run = PlanRun(result, state, tuple(live), tuple(targets))
    heap.keep(run)
    return run


def _plan_for(
    workspace: Workspace,
    live: Sequence[LiveCampaign],
    state: State,
    targets: Sequence[str],
    *,
    write_unverified: bool = False,
) -> Plan:
    desired = workspace.desired.campaigns
    with heap.long_lived():  # the plan's matches and views live to the run's end (``heap``)
        result = build_plan(
            workspace.env.name,
            desired,
            live,
            state.campaigns,
            workspace.flows(state),
            workspace.policy(),
            targets,
            write_unverified=write_unverified,
        )
    extra = workspace.flow_warnings(state)
    return dataclasses.replace(result, warnings=(*extra, *result.warnings)) if extra else result


@dataclass(frozen=True)
class DriftRun:
    drift: Drift
    live: tuple[LiveCampaign, ...]


def drift(
    workspace: Workspace, *, targets: Sequence[str] = (), full: bool = False, now: str | None = None
) -> DriftRun:
    """Refresh and compare live and the manifests with what was last applied (read-only).

    The same incremental refresh as plan, over the campaigns the state manages (manifest keys
    not in the state need no read: they are pending creates). A managed campaign whose key left
    the manifests is read only when its list ``updatedAt`` moved since the state's cached copy.
    Nothing is written: no API writes, no state. ``now`` is the run's time shown in the reports.
    """
    from campaign_sync.core.drift import build_drift, check_targets

    desired = workspace.desired
    state = workspace.store.load()
    check_targets(targets, desired.campaigns, state.campaigns)
    managed = dataclasses.replace(
        desired, campaigns={k: v for k, v in desired.campaigns.items() if k in state.campaigns}
    )
    client = workspace.client()
    live = refresh(client, managed, state, targets=targets, full=full, progress=workspace.progress)
    live = read_left_manifests(client, live, desired, state, targets=targets, full=full)
    result = build_drift(
        workspace.env.name,
        desired.campaigns,
        live,
        state.campaigns,
        workspace.flows(state),
        targets=targets,
        generated_at=now or utc_now(),
    )
    heap.keep(state, live, result)
    return DriftRun(result, tuple(live))


def save_plan(workspace: Workspace, run: PlanRun, path: Path) -> None:
    from campaign_sync.state import planfile

    data = planfile.to_json(
        run.plan,
        manifests_digest=workspace.desired.digest,
        lineage=run.state.lineage if workspace.store.exists() else "",
        serial=run.state.serial,
        targets=run.targets,
        created_at=utc_now(),
    )
    planfile.write(path, data)


def apply(
    workspace: Workspace,
    *,
    planfile_path: Path | None = None,
    expect_digest: str | None = None,
    targets: Sequence[str] = (),
    allow_delete: bool = False,
    force: bool = False,
    write_unverified: bool = False,
    full: bool = False,
    lock_timeout: float = 0.0,
    approve: Callable[[Plan], bool] = lambda _plan: True,
    show: Callable[[Plan, tuple[str, ...], Collection[str]], None] = lambda _plan, _targets, _keys: None,
) -> ApplyOutcome:
    """Make live match: a fresh plan, shown, then approved (a person, a saved plan or a digest).

    ``show`` gets the plan, the targets in effect (a saved plan's own, else ``targets``) and the
    keys of the state the plan was made from.

    The plan is always computed here, from the manifests, the state and live. A saved plan
    (``planfile_path``) or an expected digest only decides whether to go on: the writes come
    from the recomputed plan, never from the file (see ``approval``).
    """
    from campaign_sync.engine import approval
    from campaign_sync.engine import writes as applying
    from campaign_sync.state import planfile

    saved = planfile.read(planfile_path) if planfile_path is not None else None
    desired = workspace.desired
    store = workspace.store
    store.check_writable()
    with store.lock("apply", timeout=lock_timeout):
        state = store.load(accept_older=force)
        if saved is not None:
            approval.check_header(saved, workspace.env.name, desired.digest, store, state)
            targets = saved.targets
        client = workspace.client()
        live_list = refresh(client, desired, state, targets=targets, full=full, progress=workspace.progress)
        plan_value = _plan_for(workspace, live_list, state, targets, write_unverified=write_unverified)
        if saved is not None:
            approval.check_saved(saved, plan_value, live_list)
        show(plan_value, tuple(targets), state.campaigns.keys())
        if expect_digest is not None:
            approval.check_expected(expect_digest, plan_value)
        docs = applying.with_docs(tuple(live_list))
        if plan_value.has_changes:
            applying.preflight(plan_value, allow_delete=allow_delete, force=force)
            approved = saved is not None or expect_digest is not None
            if not approved and not approve(plan_value):
                return ApplyOutcome(plan_value, None, cancelled=True)
        forbidden = tuple(workspace.redactor.secrets())
        state = store.save(applying.record_matches(state, plan_value, docs), forbidden)
        if not plan_value.has_changes:
            state = applying.fill_cache(client, store, state, forbidden)
            return ApplyOutcome(plan_value, applying.ApplyResult(state=state))
        flows = FlowBook.of(workspace.env.experience_flows, state.flows)
        with applying.deferred_signals(workspace.progress) as stop:
            result = applying.execute(
                plan_value,
                client,
                store,
                state,
                flows,
                stop=stop,
                progress=workspace.progress,
                forbidden=forbidden,
            )
            if result.state is not None and not stop.requested and not result.stopped:
                result.state = applying.fill_cache(client, store, result.state, forbidden)
            result.interrupted = result.interrupted or stop.requested  # a signal at any point: exit 130
        return ApplyOutcome(plan_value, result)


@dataclass(frozen=True)
class RefreshRun:
    """What ``refresh`` recorded in the state (nothing is written live)."""

    adopted: tuple[str, ...]  # manifest keys newly tied to a live campaign of the same name
    cached: int  # managed campaigns whose cached document was stored or renewed
    current: int  # managed campaigns whose cached document was already current
    unmanaged: int
    pending: int  # changes the next plan shows (creates included: refresh never records those)
    serial: int
    saved: bool


def refresh_state(
    workspace: Workspace, *, targets: Sequence[str] = (), full: bool = False, lock_timeout: float = 0.0
) -> RefreshRun:
    """Record adoptions and cache every managed document in the state, reading live only.

    The bootstrap of a large account: the same refresh and plan as ``plan``, under the state lock;
    then every manifest campaign matched by name is recorded as ``apply`` records it (an unchanged
    one with the manifest's view, a changed one with the live view, as ``import`` does) and every
    managed document read is cached with its ``updatedAt``, so later plans need only list calls.
    Campaigns the plan would create are never recorded. No write request; one state save, at the end.
    """
    from campaign_sync.core.plan import Action
    from campaign_sync.engine import writes as applying

    desired = workspace.desired
    store = workspace.store
    store.check_writable()
    with store.lock("refresh", timeout=lock_timeout):
        before = store.load()
        client = workspace.client()
        live = refresh(client, desired, before, targets=targets, full=full, progress=workspace.progress)
        live = read_left_manifests(client, live, desired, before, targets=targets, full=full)
        plan_value = _plan_for(workspace, live, before, targets)
        by_id = {c.id: c for c in live}
        docs = applying.with_docs(tuple(live))
        state = applying.record_matches(before, plan_value, docs)
        flows = workspace.flows(before)
        for change in plan_value.changes:
            seen = by_id.get(change.campaign_id or "")
            if change.action is Action.CREATE or seen is None or seen.doc is None:
                continue
            old = state.campaigns.get(change.key)
            if old is not None and old.id == seen.id:  # managed: what was applied stays as it was
                record = _recached(old, seen.doc, seen.updated_at)
            elif old is None and change.action is Action.UPDATE:  # adopted, not yet applied
                record = _live_record(
                    seen.id, seen.campaign_type, seen.name, seen.doc, seen.item, seen.updated_at, flows
                )
            else:
                continue
            state = state.with_campaign(change.key, record)
        for key, old in state.campaigns.items():  # managed campaigns whose keys left the manifests
            seen = by_id.get(old.id)
            if key in desired.campaigns or seen is None or seen.doc is None or old.cached == seen.doc:
                continue
            state = state.with_campaign(key, _recached(old, seen.doc, seen.updated_at))
        saved = store.save(state, tuple(workspace.redactor.secrets()))
    adopted = tuple(k for k in sorted(state.campaigns) if k not in before.campaigns)
    renewed = current = 0
    for key, record in state.campaigns.items():
        if record.cached is None:
            continue
        old = before.campaigns.get(key)
        if old is not None and old.cached == record.cached and old.updatedAt == record.updatedAt:
            current += 1
        else:
            renewed += 1
    return RefreshRun(
        adopted=adopted,
        cached=renewed,
        current=current,
        unmanaged=plan_value.summary.unmanaged,
        pending=len(plan_value.changes),
        serial=saved.serial,
        saved=saved.serial != before.serial,
    )


def _recached(record: CampaignRecord, doc: Mapping[str, Any], updated_at: str | None) -> CampaignRecord:
    """``record`` with ``doc`` as its cached live document; what was applied stays as it was."""
    return dataclasses.replace(record, updatedAt=updated_at, cached=dict(doc), contentHash=content_hash(doc))


def _live_record(
    campaign_id: str,
    campaign_type: str,
    name: str,
    doc: Mapping[str, Any],
    item: Mapping[str, Any] | None,
    updated_at: str | None,
    flows: FlowBook,
) -> CampaignRecord:
    """A record of a campaign adopted as it is live (not yet applied): its live view as applied."""
    from campaign_sync.state import CampaignRecord

    view, _facts = live_view(campaign_type, doc, item, flows)
    return CampaignRecord(
        id=campaign_id,
        campaignType=campaign_type,
        name=name,
        applied=view,
        updatedAt=updated_at,
        cached=dict(doc),
        contentHash=content_hash(doc),
    )


@dataclass(frozen=True)
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None
    cancelled: bool = False


def import_campaign(workspace: Workspace, key: str, campaign_id: str, *, lock_timeout: float = 0.0) -> str:
    """Adopt a live campaign into state under a manifest key; nothing is written live."""
    from campaign_sync.kore import campaign_id_of

    desired = workspace.desired.campaigns.get(key)
    if desired is None:
        raise StateError(
            f"{key!r} is not in the manifests: add the campaign to a manifest first "
            "(`campaign-sync export` writes manifests for live campaigns)"
        )
    store = workspace.store
    with store.lock("import", timeout=lock_timeout):
        state = store.load()
        existing = state.campaigns.get(key)
        if existing is not None and existing.id != campaign_id and _still_live(workspace, existing.id):
            raise StateError(
                f"{key!r} already manages {existing.id}, which still exists; "
                f"run `campaign-sync state rm {key}` first to re-import"
            )
        owner = next((k for k, r in state.campaigns.items() if r.id == campaign_id and k != key), None)
        if owner is not None:
            raise StateError(f"{campaign_id} is already managed as {owner!r}")
        try:
            doc = workspace.client().get_campaign(campaign_id)
        except NotFoundError:
            raise StateError(f"no live campaign {campaign_id} in environment {workspace.env.name}") from None
        ctype = REGISTRY.of_document(doc).name
        if ctype != desired.campaign.campaignType:
            raise StateError(
                f"{campaign_id} is a {ctype} campaign but {key!r} in {desired.location} is "
                f"{desired.campaign.campaignType}"
            )
        record = _live_record(
            campaign_id_of(doc) or campaign_id,
            ctype,
            str(doc.get("name", "")),
            doc,
            None,
            doc.get("updatedAt"),
            workspace.flows(state),
        )
        saved = store.save(state.with_campaign(key, record), tuple(workspace.redactor.secrets()))
    return (
        f"Imported {campaign_id} ({record.name!r}) as {key} (state serial {saved.serial}). "
        "Run `campaign-sync plan` to see how it differs from the manifest."
    )


def _still_live(workspace: Workspace, campaign_id: str) -> bool:
    """Whether a campaign still exists (a state entry for a deleted one may be replaced)."""
    try:
        workspace.client().get_campaign(campaign_id)
    except NotFoundError:
        return False
    return True


def forget(workspace: Workspace, keys: Sequence[str], *, lock_timeout: float = 0.0) -> str:
    """Remove campaigns from state without touching them live."""
    store = workspace.store
    with store.lock("state rm", timeout=lock_timeout):
        state = store.load()
        missing = [k for k in keys if k not in state.campaigns]
        if missing:
            raise StateError(f"not in the state: {', '.join(missing)} (see `campaign-sync state list`)")
        ids = [f"{k} ({state.campaigns[k].id})" for k in keys]
        for key in keys:
            state = state.without_campaign(key)
        saved = store.save(state)
    return (
        f"Forgot {', '.join(ids)} (state serial {saved.serial}). Live campaigns were not touched; they are "
        "now unmanaged, and a manifest with the same name would adopt them again."
    )


@dataclass(frozen=True)
class ExportRun:
    """What ``export`` read and the manifest files it would write (relative name -> text)."""

    files: dict[str, str]
    campaigns: tuple[ExportedCampaign, ...]
    skipped: tuple[str, ...]
    warnings: tuple[str, ...]


def export(
    workspace: Workspace,
    *,
    campaign_type: str | None = None,
    name_regex: str | None = None,
    layout: str = "per-campaign",
    include_managed: bool = False,
) -> ExportRun:
    """Read live campaigns (one list per type, then a parallel GET of each match) as manifest files.

    Nothing is written, live or local. Campaigns the manifests already declare (by name, or by a
    state key a manifest uses) are skipped unless ``include_managed``; new keys never collide
    with keys the manifests use.
    """
    import re

    from campaign_sync.manifests import export as exporting

    pattern = re.compile(name_regex) if name_regex else None
    todo = config_placeholders(workspace.env)
    if todo:
        raise ManifestError(todo)
    desired = workspace.manifests.campaigns
    state = workspace.store.load()
    state_keys = {record.id: key for key, record in state.campaigns.items()}
    declared = {(c.campaign.campaignType, c.campaign.name.lower()) for c in desired.values()}
    client = workspace.client()
    listed: list[tuple[str, str, Mapping[str, Any]]] = []
    skipped: list[str] = []
    for ctype in [campaign_type] if campaign_type else REGISTRY.names():
        for item in client.list_campaigns(REGISTRY.get(ctype).list_type):
            cid = campaign_id(item)
            name = str(item.get("name", ""))
            if cid is None or (pattern is not None and not pattern.search(name)):
                continue
            if not include_managed and ((ctype, name.lower()) in declared or state_keys.get(cid) in desired):
                skipped.append(f"{ctype} {name!r}")
                continue
            listed.append((cid, ctype, item))
    workspace.progress(f"Reading {len(listed)} live campaign{'s' if len(listed) != 1 else ''}...")
    records: list[exporting.LiveRecord] = []
    docs = read_documents(client, [cid for cid, _, _ in listed])
    for cid, ctype, entry in listed:
        doc = docs.get(cid)
        if doc is None:
            continue  # deleted between the list and the read
        records.append(exporting.LiveRecord(cid, ctype, str(doc.get("name", entry.get("name"))), doc, entry))
    keys = exporting.assign_keys(records, desired, state_keys)
    flows = workspace.flows(state)
    campaigns: list[ExportedCampaign] = []
    warnings: list[str] = []
    for record in records:
        try:
            campaign = exporting.manifest_fields(keys[record.id], record, flows)
        except exporting.ExportProblem as exc:
            warnings.append(f"skipped {record.campaign_type} {record.name!r} ({record.id}): {exc}")
            continue
        campaigns.append(campaign)
        warnings.extend(f"{campaign.key}: {hole.warning}" for hole in campaign.placeholders)
    header = (
        f"Exported from environment {workspace.env.name} by `campaign-sync export`.",
        "A plan adopts these live campaigns by name: no `campaign-sync import` is needed.",
    )
    files = {
        name: exporting.render(group, header) for name, group in exporting.group(campaigns, layout).items()
    }
    ordered = tuple(sorted(campaigns, key=lambda c: c.key))
    return ExportRun(files, ordered, tuple(sorted(skipped)), tuple(warnings))

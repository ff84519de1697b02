"""Orchestration only: load the workspace, refresh live state, plan, apply.

The pure core (normalize, diff, plan, drift, report) never sees a client, a path or a clock;
this module is where they meet. Writes live in ``apply.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaign_sync.apply import kind
from campaign_sync.config import Config, ResolvedEnvironment
from campaign_sync.errors import (
    ApiError,
    Issue,
    ManifestError,
    NotFoundError,
    StalePlanError,
    StateError,
)
from campaign_sync.manifest import DesiredState, load_desired
from campaign_sync.normalize import FlowBook
from campaign_sync.plan import LiveCampaign, Plan, Policy, build_plan

if TYPE_CHECKING:
    from campaign_sync.apply import ApplyResult
    from campaign_sync.drift import Drift
    from campaign_sync.export import ExportedCampaign
    from campaign_sync.kore import KoreClient
    from campaign_sync.planfile import SavedPlan
    from campaign_sync.redact import Redactor
    from campaign_sync.state import State, StateStore

Progress = Callable[[str], None]
CAMPAIGN_TYPES = ("sms", "voice")
GET_BATCH = 50


@dataclass(frozen=True)
class ValidationSummary:
    environments: tuple[str, ...]
    files: int
    sms: int
    voice: int

    def line(self) -> str:
        envs = ", ".join(self.environments)
        total = self.sms + self.voice
        noun = "campaign" if total == 1 else "campaigns"
        files = "file" if self.files == 1 else "files"
        return (
            f"OK: {total} {noun} ({self.sms} sms, {self.voice} voice) in {self.files} manifest {files}; "
            f"config valid for {envs}"
        )


def load_manifests(
    env: ResolvedEnvironment, cli_vars: Mapping[str, str], environ: Mapping[str, str]
) -> DesiredState:
    config = env.config
    return load_desired(config.root, config.settings.manifests, env.vars, cli_vars, environ, env.name)


def validate(
    config: Config, env_name: str | None, cli_vars: Mapping[str, str], environ: Mapping[str, str]
) -> ValidationSummary:
    """Offline check of the config and every manifest, for one environment or all of them."""
    names: Sequence[str]
    if env_name is None and len(config.settings.environments) > 1:
        names = sorted(config.settings.environments)
    else:
        names = [config.environment(env_name).name]
    issues: set[Issue] = set()
    desired: DesiredState | None = None
    for name in names:
        try:
            desired = load_manifests(config.environment(name), cli_vars, environ)
        except ManifestError as exc:
            issues.update(exc.issues)
    if issues or desired is None:
        raise ManifestError(sorted(issues))
    sms = sum(1 for c in desired.campaigns.values() if c.campaign.campaignType == "sms")
    return ValidationSummary(tuple(names), len(desired.files), sms, len(desired.campaigns) - sms)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Session:
    """One command's view of the workspace: environment, manifests, state store, API client."""

    config: Config
    env_name: str | None
    cli_vars: Mapping[str, str]
    environ: Mapping[str, str]
    redactor: Redactor
    progress: Progress = lambda _text: None
    transport: Any = None
    client_overrides: Mapping[str, Any] = field(default_factory=dict)
    _client: KoreClient | None = None

    @cached_property
    def env(self) -> ResolvedEnvironment:
        return self.config.environment(self.env_name)

    @cached_property
    def desired(self) -> DesiredState:
        return load_manifests(self.env, self.cli_vars, self.environ)

    @cached_property
    def store(self) -> StateStore:
        from campaign_sync.state import StateStore

        return StateStore(self.env.state_path)

    def client(self) -> KoreClient:
        if self._client is None:
            from campaign_sync.kore import ClientSettings, Credentials, KoreClient

            creds = Credentials.from_environment(self.env.auth, self.environ, self.redactor)
            settings = ClientSettings.from_environment(self.env)
            if self.client_overrides:
                settings = dataclasses.replace(settings, **self.client_overrides)
            self._client = KoreClient(settings, creds, self.redactor, transport=self.transport)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def flows(self, state: State) -> FlowBook:
        """Name -> id pairings: the config's experienceFlows win over pairings learned in state."""
        return FlowBook.of(self.env.experience_flows, state.flows)

    def policy(self) -> Policy:
        return Policy(max_change_fraction=self.env.max_change_fraction, rate_limit=self.env.rate_limit)

    def requests(self) -> dict[str, int]:
        return self._client.counter.by_method() if self._client is not None else {}


def _campaign_id(item: Mapping[str, Any]) -> str | None:
    value = item.get("_id") or item.get("id")
    return str(value) if value else None


def refresh(
    client: KoreClient,
    desired: DesiredState,
    state: State,
    *,
    targets: Iterable[str] = (),
    full: bool = False,
    progress: Progress = lambda _text: None,
) -> list[LiveCampaign]:
    """Read live campaigns: one list call per 100 per type, a GET only where the cache is stale.

    A managed campaign whose list ``updatedAt`` equals the copy cached in state is not read
    again; ``full`` reads every managed campaign. Candidates for adoption by name are read too.
    """
    wanted = set(targets)
    keys = [k for k in {*desired.campaigns, *state.campaigns} if not wanted or k in wanted]
    types = {
        desired.campaigns[k].campaign.campaignType
        if k in desired.campaigns
        else state.campaigns[k].campaignType
        for k in keys
    }
    if not wanted:
        types = set(CAMPAIGN_TYPES)
    by_state_id = {state.campaigns[k].id: k for k in keys if k in state.campaigns}
    adopt_names = {
        (item.campaign.campaignType, item.campaign.name.lower())
        for key, item in desired.campaigns.items()
        if key in keys and key not in state.campaigns
    }
    items: list[tuple[str, Mapping[str, Any]]] = []
    for ctype in sorted(types):
        items.extend((ctype, item) for item in client.list_campaigns(kind(ctype)))
    live: dict[str, LiveCampaign] = {}
    to_read: list[str] = []
    cached = 0
    for ctype, item in items:
        cid = _campaign_id(item)
        if cid is None:
            continue
        name = str(item.get("name", ""))
        doc: Mapping[str, Any] | None = None
        key = by_state_id.get(cid)
        needs_doc = (key is not None and key in desired.campaigns) or (ctype, name.lower()) in adopt_names
        if key is not None and needs_doc:
            record = state.campaigns[key]
            if not full and record.live is not None and record.updatedAt == item.get("updatedAt"):
                doc = record.live
                cached += 1
        if needs_doc and doc is None:
            to_read.append(cid)
        live[cid] = LiveCampaign(
            id=cid,
            campaign_type=ctype,
            name=name,
            status=item.get("status"),
            updated_at=item.get("updatedAt"),
            item=item,
            doc=doc,
        )
    if to_read:
        progress(
            f"Reading {len(to_read)} campaign{'s' if len(to_read) != 1 else ''} "
            "not cached in the state or changed live since the last apply..."
        )
    read = 0
    for start in range(0, len(to_read), GET_BATCH):
        batch = to_read[start : start + GET_BATCH]
        for cid, result in client.get_campaigns(batch).items():
            if isinstance(result, NotFoundError):
                live.pop(cid, None)  # deleted between the list and the read
                continue
            if isinstance(result, ApiError):
                raise result
            current = live[cid]
            live[cid] = LiveCampaign(
                current.id,
                current.campaign_type,
                current.name,
                current.status,
                current.updated_at,
                current.item,
                result,
            )
        read += len(batch)
        if len(to_read) > GET_BATCH:
            progress(f"  read {read}/{len(to_read)}")
    progress(
        f"Refreshed {len(live)} live campaign{'s' if len(live) != 1 else ''} "
        f"({', '.join(sorted(types))}): {len(to_read)} read, {cached} from the state's cache"
    )
    return sorted(live.values(), key=lambda c: c.id)


@dataclass(frozen=True)
class PlanRun:
    plan: Plan
    state: State
    live: tuple[LiveCampaign, ...]
    targets: tuple[str, ...]


def plan(session: Session, *, targets: Sequence[str] = (), full: bool = False) -> PlanRun:
    """Refresh and plan (read-only: nothing is written, not even state)."""
    desired = session.desired
    state = session.store.load()
    live = refresh(session.client(), desired, state, targets=targets, full=full, progress=session.progress)
    result = build_plan(
        session.env.name,
        desired.campaigns,
        live,
        state.campaigns,
        session.flows(state),
        session.policy(),
        targets,
    )
    return PlanRun(result, state, tuple(live), tuple(targets))


@dataclass(frozen=True)
class DriftRun:
    drift: Drift
    live: tuple[LiveCampaign, ...]


def drift(
    session: Session, *, targets: Sequence[str] = (), full: bool = False, now: str | None = None
) -> DriftRun:
    """Refresh and compare live and the manifests with what was last applied (read-only).

    The same incremental refresh as plan, over the campaigns the state manages (manifest keys
    not in the state need no read: they are pending creates). A managed campaign whose key left
    the manifests is read only when its list ``updatedAt`` moved since the state's cached copy.
    Nothing is written: no API writes, no state. ``now`` is the run's time shown in the reports.
    """
    from campaign_sync.drift import build_drift, check_targets

    desired = session.desired
    state = session.store.load()
    check_targets(targets, desired.campaigns, state.campaigns)
    managed = dataclasses.replace(
        desired, campaigns={k: v for k, v in desired.campaigns.items() if k in state.campaigns}
    )
    client = session.client()
    live = refresh(client, managed, state, targets=targets, full=full, progress=session.progress)
    live = _read_left_manifests(client, live, desired, state, targets=targets, full=full)
    result = build_drift(
        session.env.name,
        desired.campaigns,
        live,
        state.campaigns,
        session.flows(state),
        targets=targets,
        generated_at=now or utc_now(),
    )
    return DriftRun(result, tuple(live))


def _read_left_manifests(
    client: KoreClient,
    live: list[LiveCampaign],
    desired: DesiredState,
    state: State,
    *,
    targets: Sequence[str],
    full: bool,
) -> list[LiveCampaign]:
    """Documents for state campaigns no manifest declares (``refresh`` reads manifest ones only)."""
    wanted = set(targets)
    records = {
        rec.id: rec
        for key, rec in state.campaigns.items()
        if key not in desired.campaigns and (not wanted or key in wanted)
    }
    out: dict[str, LiveCampaign] = {c.id: c for c in live}
    to_read: list[str] = []
    for cid, current in out.items():
        record = records.get(cid)
        if record is None or current.doc is not None:
            continue
        if not full and record.live is not None and record.updatedAt == current.updated_at:
            out[cid] = dataclasses.replace(current, doc=record.live)
        else:
            to_read.append(cid)
    for start in range(0, len(to_read), GET_BATCH):
        for cid, result in client.get_campaigns(to_read[start : start + GET_BATCH]).items():
            if isinstance(result, NotFoundError):
                out.pop(cid, None)
            elif isinstance(result, ApiError):
                raise result
            else:
                out[cid] = dataclasses.replace(out[cid], doc=result)
    return sorted(out.values(), key=lambda c: c.id)


def save_plan(session: Session, run: PlanRun, path: Path) -> None:
    from campaign_sync import planfile

    saved = planfile.SavedPlan(
        plan=run.plan,
        manifests_digest=session.desired.digest,
        lineage=run.state.lineage if session.store.exists() else "",
        serial=run.state.serial,
        targets=run.targets,
        created_at=utc_now(),
    )
    planfile.write(saved, path)


def _check_writable(directory: Path) -> None:
    """Fail before any write when the state cannot be saved (reliability row S5)."""
    import os
    import tempfile

    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StateError(
            f"cannot write the state in {directory}: {exc.strerror}; nothing was applied"
        ) from None


def _check_saved_plan(session: Session, saved: SavedPlan, state: State) -> None:
    desired = session.desired
    if saved.plan.environment != session.env.name:
        raise StalePlanError(
            f"{saved.path} was made for environment {saved.plan.environment!r}, not {session.env.name!r}"
        )
    if saved.manifests_digest != desired.digest:
        raise StalePlanError(
            f"stale plan: the manifests changed since {saved.path} was made; nothing was applied. "
            "Run `campaign-sync plan --out FILE` again."
        )
    store = session.store
    if not saved.lineage:
        if store.exists():
            raise StalePlanError(
                f"stale plan: {saved.path} was made before the state file existed, and "
                f"{store.path} has been written since; nothing was applied. Plan again."
            )
        return
    store.check_compatible(saved.lineage, saved.serial)
    if state.serial != saved.serial:
        raise StalePlanError(
            f"stale plan: the state moved from serial {saved.serial} to {state.serial} since {saved.path} "
            "was made (another apply ran); nothing was applied. Plan again."
        )


def apply(
    session: Session,
    *,
    planfile_path: Path | None = None,
    targets: Sequence[str] = (),
    allow_delete: bool = False,
    force: bool = False,
    full: bool = False,
    lock_timeout: float = 0.0,
    approve: Callable[[Plan], bool] = lambda _plan: True,
    show: Callable[[Plan], None] = lambda _plan: None,
) -> ApplyOutcome:
    """Make live match: from a fresh plan (shown, then approved) or exactly a saved plan."""
    from campaign_sync import apply as applying
    from campaign_sync import planfile

    saved = planfile.read(planfile_path) if planfile_path is not None else None
    desired = session.desired
    store = session.store
    _check_writable(store.path.parent)
    with store.lock("apply", timeout=lock_timeout):
        state = store.load()
        client = session.client()
        docs: Mapping[str, Mapping[str, Any]] = {}
        if saved is not None:
            _check_saved_plan(session, saved, state)
            plan_value = saved.plan
            types = {c.campaign_type for c in plan_value.changes}
            live = {
                cid: c
                for ctype in sorted(types)
                for item in client.list_campaigns(kind(ctype))
                if (cid := _campaign_id(item)) is not None
                for c in [_live_from_item(ctype, cid, item)]
            }
            applying.check_stale(plan_value, live, client.get_campaign)
            show(plan_value)
            applying.preflight(plan_value, session.policy(), allow_delete=allow_delete, force=force)
        else:
            live_list = refresh(client, desired, state, targets=targets, full=full, progress=session.progress)
            plan_value = build_plan(
                session.env.name,
                desired.campaigns,
                live_list,
                state.campaigns,
                session.flows(state),
                session.policy(),
                targets,
            )
            docs = applying.with_docs(tuple(live_list))
            show(plan_value)
            if plan_value.has_changes:
                applying.preflight(plan_value, session.policy(), allow_delete=allow_delete, force=force)
                if not approve(plan_value):
                    return ApplyOutcome(plan_value, None, cancelled=True)
        forbidden = tuple(session.redactor.secrets())
        state = store.save(applying.record_matches(state, plan_value, docs), forbidden)
        if not plan_value.has_changes:
            state = applying.fill_cache(client, store, state, forbidden)
            return ApplyOutcome(plan_value, applying.ApplyResult(state=state))
        flows = FlowBook.of(session.env.experience_flows, state.flows)
        with applying.deferred_signals(session.progress) as stop:
            result = applying.execute(
                plan_value,
                client,
                store,
                state,
                flows,
                stop=stop,
                progress=session.progress,
                forbidden=forbidden,
            )
            if result.state is not None and not stop.requested:
                result.state = applying.fill_cache(client, store, result.state, forbidden)
        return ApplyOutcome(plan_value, result)


def _live_from_item(ctype: str, cid: str, item: Mapping[str, Any]) -> LiveCampaign:
    return LiveCampaign(
        id=cid,
        campaign_type=ctype,
        name=str(item.get("name", "")),
        status=item.get("status"),
        updated_at=item.get("updatedAt"),
        item=item,
    )


@dataclass(frozen=True)
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None
    cancelled: bool = False


def import_campaign(session: Session, key: str, campaign_id: str, *, lock_timeout: float = 0.0) -> str:
    """Adopt a live campaign into state under a manifest key; nothing is written live."""
    from campaign_sync.kore import campaign_id_of
    from campaign_sync.normalize import content_hash, live_view
    from campaign_sync.state import CampaignRecord

    desired = session.desired.campaigns.get(key)
    if desired is None:
        raise StateError(
            f"{key!r} is not in the manifests: add the campaign to a manifest first "
            "(`campaign-sync export` writes manifests for live campaigns)"
        )
    store = session.store
    with store.lock("import", timeout=lock_timeout):
        state = store.load()
        existing = state.campaigns.get(key)
        if existing is not None and existing.id != campaign_id:
            raise StateError(
                f"{key!r} already manages {existing.id}; "
                f"run `campaign-sync state rm {key}` first to re-import"
            )
        owner = next((k for k, r in state.campaigns.items() if r.id == campaign_id and k != key), None)
        if owner is not None:
            raise StateError(f"{campaign_id} is already managed as {owner!r}")
        try:
            doc = session.client().get_campaign(campaign_id)
        except NotFoundError:
            raise StateError(f"no live campaign {campaign_id} in environment {session.env.name}") from None
        ctype = "voice" if doc.get("dialingMode") else "sms"
        if ctype != desired.campaign.campaignType:
            raise StateError(
                f"{campaign_id} is a {ctype} campaign but {key!r} in {desired.location} is "
                f"{desired.campaign.campaignType}"
            )
        view, _facts = live_view(doc, None, session.flows(state))
        record = CampaignRecord(
            id=campaign_id_of(doc) or campaign_id,
            campaignType=ctype,
            name=str(doc.get("name", "")),
            applied=view,
            updatedAt=doc.get("updatedAt"),
            live=dict(doc),
            contentHash=content_hash(doc),
        )
        saved = store.save(state.with_campaign(key, record), tuple(session.redactor.secrets()))
    return (
        f"Imported {campaign_id} ({record.name!r}) as {key} (state serial {saved.serial}). "
        "Run `campaign-sync plan` to see how it differs from the manifest."
    )


def forget(session: Session, keys: Sequence[str], *, lock_timeout: float = 0.0) -> str:
    """Remove campaigns from state without touching them live."""
    store = session.store
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
    session: Session,
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

    from campaign_sync import export as exporting

    pattern = re.compile(name_regex) if name_regex else None
    desired = session.desired.campaigns
    state = session.store.load()
    state_keys = {record.id: key for key, record in state.campaigns.items()}
    declared = {(c.campaign.campaignType, c.campaign.name.lower()) for c in desired.values()}
    client = session.client()
    listed: list[tuple[str, str, Mapping[str, Any]]] = []
    skipped: list[str] = []
    for ctype in [campaign_type] if campaign_type else CAMPAIGN_TYPES:
        for item in client.list_campaigns(kind(ctype)):
            cid = _campaign_id(item)
            name = str(item.get("name", ""))
            if cid is None or (pattern is not None and not pattern.search(name)):
                continue
            if not include_managed and ((ctype, name.lower()) in declared or state_keys.get(cid) in desired):
                skipped.append(f"{ctype} {name!r}")
                continue
            listed.append((cid, ctype, item))
    session.progress(f"Reading {len(listed)} live campaign{'s' if len(listed) != 1 else ''}...")
    records: list[exporting.LiveRecord] = []
    for start in range(0, len(listed), GET_BATCH):
        batch = listed[start : start + GET_BATCH]
        docs = client.get_campaigns([cid for cid, _, _ in batch])
        for cid, ctype, entry in batch:
            doc = docs[cid]
            if isinstance(doc, NotFoundError):
                continue  # deleted between the list and the read
            if isinstance(doc, ApiError):
                raise doc
            records.append(
                exporting.LiveRecord(cid, ctype, str(doc.get("name", entry.get("name"))), doc, entry)
            )
    keys = exporting.assign_keys(records, desired, state_keys)
    flows = session.flows(state)
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
        f"Exported from environment {session.env.name} by `campaign-sync export`.",
        "A plan adopts these live campaigns by name: no `campaign-sync import` is needed.",
    )
    files = {
        name: exporting.render(group, header) for name, group in exporting.group(campaigns, layout).items()
    }
    ordered = tuple(sorted(campaigns, key=lambda c: c.key))
    return ExportRun(files, ordered, tuple(sorted(skipped)), tuple(warnings))

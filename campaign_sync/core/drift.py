"""The Drift value and ``build_drift``: state + live + manifests in, a deterministic drift report out.

Pure: no client, no files, no clock (the run's time is passed in). ``engine.drift`` feeds it the
same incremental refresh as plan; nothing is ever written.

Three sides, three questions, per managed campaign (a key in the state and/or the manifests):

* ``changed``: does live still match what campaign-sync last applied (the state's ``applied``,
  a canonical desired view)? Compared exactly as plan compares: only the fields ``applied``
  holds, the same normalisation, flows by name through the known pairings (an id with no known
  name is an *unverified* change, never a false one), ``enableMachineDetect`` skipped when the
  API does not show it. Each field: path, applied value, live value; plus the live ``updatedAt``.
* ``missing``: is the state's campaign still there? Its id gone live means deleted outside Git.
* ``pending``: do the manifests still say what was applied? ``desired_view`` is compared with
  ``applied`` over the fields the manifest declares (a field left out of a manifest is
  unmanaged, as in plan). A key only in the manifests is a pending create, a key only in the
  state a pending delete. Each field: path, applied value, manifest value.

A campaign can be both changed and pending (two entries). Live campaigns not in the state are
``unmanaged``: listed, never drift (not listed when ``targets`` narrow the check). Entries are
sorted by key, then kind.

JSON (SPEC section 5, plus added fields): every field object has ``path``, ``applied`` and
``live``; a pending field adds ``manifest`` and has ``live: null`` (pending compares the manifest
with ``applied``; live plays no part). Entries add ``campaignType``, ``campaignId``, ``name``,
``updatedAt`` (live, for changed), ``note`` and, for pending, ``action`` (create | update |
delete); the document adds ``generatedAt``, ``unmanaged``, ``warnings`` and ``summary.inSync``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from campaign_sync.core.compare import LiveCampaign, compare_campaign
from campaign_sync.core.diff import FieldChange, additions, compare
from campaign_sync.core.normalize import FlowBook, desired_view, project
from campaign_sync.core.plan import DesiredCampaign, Record
from campaign_sync.errors import DriftError

FORMAT_VERSION = 1


class Kind(StrEnum):
    CHANGED = "changed"
    MISSING = "missing"
    PENDING = "pending"

    @property
    def glyph(self) -> str:
        return {"changed": "~", "missing": "!", "pending": ">"}[self.value]


@dataclass(frozen=True)
class DriftField:
    """One field: what was applied, and what live (changed) or the manifest (pending) says now."""

    path: str
    applied: Any
    live: Any = None
    manifest: Any = None
    unverified: bool = False

    def to_json(self, kind: Kind) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "applied": self.applied, "live": self.live}
        if kind is Kind.PENDING:
            out["manifest"] = self.manifest
        if self.unverified:
            out["unverified"] = True
        return out


@dataclass(frozen=True)
class DriftEntry:
    key: str
    kind: Kind
    campaign_type: str
    name: str
    campaign_id: str | None = None
    fields: tuple[DriftField, ...] = ()
    updated_at: str | None = None
    action: str | None = None  # pending only: create | update | delete
    note: str | None = None
    location: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind.value,
            "campaignType": self.campaign_type,
            "campaignId": self.campaign_id,
            "name": self.name,
            "updatedAt": self.updated_at,
            "fields": [f.to_json(self.kind) for f in self.fields],
            "note": self.note,
        }
        if self.action is not None:
            out["action"] = self.action
        return out


@dataclass(frozen=True)
class Managed:
    """A managed campaign (checked, drifted or not): what the JUnit report makes a test case of."""

    key: str
    campaign_type: str
    name: str
    campaign_id: str | None


@dataclass(frozen=True)
class Unmanaged:
    id: str
    campaign_type: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "campaignType": self.campaign_type}


@dataclass(frozen=True)
class DriftSummary:
    changed: int = 0
    missing: int = 0
    pending: int = 0
    unmanaged: int = 0
    in_sync: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "changed": self.changed,
            "missing": self.missing,
            "pending": self.pending,
            "unmanaged": self.unmanaged,
            "inSync": self.in_sync,
        }

    def line(self) -> str:
        return (
            f"Drift: {self.changed} changed, {self.missing} missing, {self.pending} pending, "
            f"{self.unmanaged} unmanaged."
        )


@dataclass(frozen=True)
class Drift:
    environment: str
    entries: tuple[DriftEntry, ...]
    managed: tuple[Managed, ...]
    unmanaged: tuple[Unmanaged, ...]
    warnings: tuple[str, ...] = ()
    generated_at: str | None = None
    targets: tuple[str, ...] = ()

    @property
    def summary(self) -> DriftSummary:
        drifted = {e.key for e in self.entries}
        return DriftSummary(
            changed=sum(e.kind is Kind.CHANGED for e in self.entries),
            missing=sum(e.kind is Kind.MISSING for e in self.entries),
            pending=sum(e.kind is Kind.PENDING for e in self.entries),
            unmanaged=len(self.unmanaged),
            in_sync=sum(m.key not in drifted for m in self.managed),
        )

    @property
    def has_drift(self) -> bool:
        """Anything changed, missing or pending (unmanaged campaigns alone are not drift)."""
        return bool(self.entries)

    def to_json(self) -> dict[str, Any]:
        """The SPEC section 5 shape, plus ``unmanaged``, ``warnings`` and ``generatedAt``."""
        return {
            "formatVersion": FORMAT_VERSION,
            "environment": self.environment,
            "generatedAt": self.generated_at,
            "summary": self.summary.to_json(),
            "campaigns": [e.to_json() for e in self.entries],
            "unmanaged": [u.to_json() for u in self.unmanaged],
            "warnings": list(self.warnings),
        }


def check_targets(targets: Iterable[str], desired: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    unknown = sorted(set(targets) - set(desired) - set(state))
    if unknown:
        raise DriftError(f"--target {', '.join(unknown)}: no such key in the manifests or the state")


def _changed(field: FieldChange) -> DriftField:
    # compare_campaign turns live (before) into the applied view (after).
    return DriftField(field.path, applied=field.after, live=field.before, unverified=field.unverified)


def _pending(field: FieldChange) -> DriftField:
    return DriftField(field.path, applied=field.before, manifest=field.after)


def build_drift(
    environment: str,
    desired: Mapping[str, DesiredCampaign],
    live: Iterable[LiveCampaign],
    state: Mapping[str, Record],
    flows: FlowBook,
    *,
    targets: Iterable[str] = (),
    generated_at: str | None = None,
) -> Drift:
    """Compare live with the state's ``applied``, and the manifests with ``applied``; pure."""
    wanted = tuple(sorted(set(targets)))
    check_targets(wanted, desired, state)
    by_id = {c.id: c for c in live}
    claimed = {rec.id for rec in state.values()}
    by_name = {(c.campaign_type, c.name.lower()): c for c in by_id.values() if c.id not in claimed}
    keys = sorted(k for k in {*desired, *state} if not wanted or k in wanted)
    learned: dict[str, str] = {}
    entries: list[DriftEntry] = []
    managed: list[Managed] = []
    warnings: list[str] = []

    for key in keys:
        record = state.get(key)
        item = desired.get(key)
        target = by_id.get(record.id) if record is not None else None
        name, ctype, where = _identity(item, record, target)
        managed.append(Managed(key, ctype, name, record.id if record is not None else None))

        if record is not None and target is None:
            then = (
                "apply creates it again"
                if item is not None
                else "it left the manifests too; apply forgets it"
            )
            entries.append(
                DriftEntry(
                    key,
                    Kind.MISSING,
                    record.campaignType,
                    name,
                    record.id,
                    note=f"deleted outside campaign-sync; {then}",
                    location=where,
                )
            )
        elif record is not None and target is not None:
            result = compare_campaign(record.applied, target, flows, record.applied, learned)
            facts = result.facts
            if facts.flow_id and facts.flow_name and flows.id_of(facts.flow_name) is None:
                learned[facts.flow_name] = facts.flow_id
            warnings.extend(f"{key}: {w}" for w in result.warnings)
            if result.fields:
                entries.append(
                    DriftEntry(
                        key,
                        Kind.CHANGED,
                        record.campaignType,
                        name,
                        target.id,
                        tuple(_changed(f) for f in result.fields),
                        updated_at=target.updated_at,
                        note=f"changed outside campaign-sync (live updatedAt {target.updated_at})"
                        if target.updated_at
                        else "changed outside campaign-sync",
                        location=where,
                    )
                )

        pending = _pending_entry(key, item, record, target, by_name, where)
        if pending is not None:
            entries.append(pending)

    unmanaged = (
        ()
        if wanted
        else tuple(
            sorted(
                (Unmanaged(c.id, c.campaign_type, c.name) for c in by_id.values() if c.id not in claimed),
                key=lambda u: (u.campaign_type, u.name.lower(), u.name, u.id),
            )
        )
    )
    entries.sort(key=lambda e: (e.key, e.kind.value))
    return Drift(
        environment=environment,
        entries=tuple(entries),
        managed=tuple(managed),
        unmanaged=unmanaged,
        warnings=tuple(warnings),
        generated_at=generated_at,
        targets=wanted,
    )


def _identity(
    item: DesiredCampaign | None, record: Record | None, target: LiveCampaign | None
) -> tuple[str, str, str | None]:
    """Name, type and manifest location to show: the manifest's, else live's, else the state's."""
    if item is not None:
        return item.campaign.name, item.campaign.campaignType, str(item.location)
    assert record is not None  # a managed key is in the manifests or the state
    return (target.name if target is not None else record.name), record.campaignType, None


def _pending_entry(
    key: str,
    item: DesiredCampaign | None,
    record: Record | None,
    target: LiveCampaign | None,
    by_name: Mapping[tuple[str, str], LiveCampaign],
    where: str | None,
) -> DriftEntry | None:
    """The manifest's campaign against what was last applied (live plays no part)."""
    if item is None:
        if record is None or target is None:
            return None  # gone from both sides: reported as missing
        return DriftEntry(
            key,
            Kind.PENDING,
            record.campaignType,
            target.name,
            record.id,
            action="delete",
            note="removed from the manifests; `campaign-sync apply --allow-delete` deletes it",
        )
    campaign = item.campaign
    want = desired_view(campaign)
    if record is None:
        match = by_name.get((campaign.campaignType, campaign.name.lower()))
        note = (
            f"not applied yet; apply adopts the live campaign {match.id} of the same name"
            if match is not None
            else "not applied yet; apply creates it"
        )
        return DriftEntry(
            key,
            Kind.PENDING,
            campaign.campaignType,
            campaign.name,
            match.id if match is not None else None,
            tuple(_pending(f) for f in additions(want)),
            action="create",
            note=note,
            location=where,
        )
    if record.campaignType != campaign.campaignType:
        fields: list[FieldChange] = [FieldChange("campaignType", record.campaignType, campaign.campaignType)]
        note = "a campaign cannot change type; give the new campaign a new key"
    else:
        fields = compare(project(dict(record.applied), want), want)
        note = "manifest changes not applied yet"
    if not fields:
        return None
    return DriftEntry(
        key,
        Kind.PENDING,
        campaign.campaignType,
        campaign.name,
        record.id,
        tuple(_pending(f) for f in fields),
        action="update",
        note=note,
        location=where,
    )

"""The Drift value and ``build_drift``: state + live + manifests in, a deterministic drift report out.

Pure: no client, no files, no clock (the run's time is passed in). ``engine.drift`` feeds it the
same incremental refresh as plan; nothing is ever written.

Three sides, three questions, per managed campaign (a key in the state and/or the manifests);
each answer that finds something is a *facet* of the campaign's drift:

* ``changed``: does live still match what campaign-sync last applied (the state's ``applied``,
  a canonical desired view)? Compared exactly as plan compares: only the fields ``applied``
  holds, the same normalisation, flows by name through the known pairings (an id with no known
  name is an *unverified* change, never a false one), ``enableMachineDetect`` skipped when the
  API does not show it. Each field: path, applied value, live value; plus the live ``updatedAt``.
* ``missing``: is the state's campaign still there? Its id gone live means deleted outside Git.
* ``pending``: do the manifests still say what was applied? ``desired_view`` is compared with
  ``applied`` over the fields the manifest declares (a field left out of a manifest is
  unmanaged, as in plan). A key only in the manifests is a pending create, a key only in the
  state a pending delete. Each field: path, applied value, manifest value, and the live value
  when live is known (the campaign was read: not for creates, nor for missing campaigns).

**One entry per drifted campaign.** A campaign both changed (or missing) and pending is one
entry with both facets. Its ``kind`` is the first facet in the order missing, changed, pending
(what happened live outranks what is merely not applied yet) and ``kinds`` lists every facet in
that order, so ``kind`` keeps its SPEC meaning and a consumer looking for pending work checks
``"pending" in kinds``. Summary counts are by ``kind``: ``changed + missing + pending`` is the
number of drifted campaigns, and with ``inSync`` it adds up to ``managed``, as do the JUnit
test cases and failures. ``summary.facets`` counts campaigns per facet (a changed and pending
campaign counts in both). Live campaigns not in the state are ``unmanaged``: listed, never
drift (not listed when ``targets`` narrow the check). Entries are sorted by key.

JSON (SPEC section 5, plus added fields): every field object has ``path``, ``applied``, ``live``
and ``kinds`` (the facets it belongs to); a field of the pending facet adds ``manifest``, and its
``live`` is null only when live is not known (or the field is absent live). A path that drifted
both ways is one field object with ``kinds: ["changed", "pending"]``. Entries add ``kinds``,
``campaignType``, ``campaignId``, ``name``, ``updatedAt`` (live, for changed), ``note`` (the
facets' notes joined with "; ") and, with a pending facet, ``action`` (create | update |
delete: what apply would do); the document adds ``generatedAt``, ``unmanaged``, ``warnings``
and ``summary.inSync``, ``summary.managed`` and ``summary.facets``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from campaign_sync.core.compare import LiveCampaign, compare_campaign
from campaign_sync.core.diff import FieldChange, additions, compare
from campaign_sync.core.normalize import FLOW_FIELD, FlowBook, desired_view, live_view, project
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

    @property
    def rank(self) -> int:
        """Precedence of an entry's facets: what happened live first, then what is not applied yet."""
        return KIND_ORDER.index(self)


#: The order of facets in an entry; the first one present is the entry's ``kind``.
KIND_ORDER = (Kind.MISSING, Kind.CHANGED, Kind.PENDING)


def _ordered(kinds: Iterable[Kind]) -> tuple[Kind, ...]:
    return tuple(sorted(set(kinds), key=lambda k: k.rank))


@dataclass(frozen=True)
class DriftField:
    """One field: what was applied, what live says now, and (pending) what the manifest says.

    ``kinds`` are the facets the field belongs to; empty means the facet it was made for.
    """

    path: str
    applied: Any
    live: Any = None
    manifest: Any = None
    unverified: bool = False
    kinds: tuple[Kind, ...] = ()
    live_known: bool = True

    def to_json(self, kind: Kind | None = None) -> dict[str, Any]:
        kinds = self.kinds or ((kind,) if kind is not None else ())
        out: dict[str, Any] = {"path": self.path, "applied": self.applied, "live": self.live}
        if Kind.PENDING in kinds:
            out["manifest"] = self.manifest
        if self.unverified:
            out["unverified"] = True
        out["kinds"] = [k.value for k in kinds]
        return out


@dataclass(frozen=True)
class Facet:
    """One way a campaign drifted (changed, missing or pending), with its fields and note."""

    kind: Kind
    fields: tuple[DriftField, ...] = ()
    note: str | None = None
    action: str | None = None  # pending only: create | update | delete
    updated_at: str | None = None  # changed only: live updatedAt


def _merge(facets: tuple[Facet, ...]) -> tuple[DriftField, ...]:
    """The facets' fields as one list: a path in several facets becomes one field with their kinds."""
    by_path: dict[str, DriftField] = {}
    for facet in facets:
        for f in facet.fields:
            mine = f.kinds or (facet.kind,)
            seen = by_path.get(f.path)
            if seen is None:
                by_path[f.path] = DriftField(
                    f.path, f.applied, f.live, f.manifest, f.unverified, _ordered(mine), f.live_known
                )
                continue
            pending = Kind.PENDING in mine
            by_path[f.path] = DriftField(
                f.path,
                seen.applied,
                seen.live if seen.live_known else f.live,
                f.manifest if pending else seen.manifest,
                seen.unverified or f.unverified,
                _ordered((*seen.kinds, *mine)),
                seen.live_known or f.live_known,
            )
    return tuple(by_path[p] for p in sorted(by_path))


@dataclass(frozen=True)
class DriftEntry:
    """One drifted campaign: one facet or several (changed or missing, and pending)."""

    key: str
    campaign_type: str
    name: str
    campaign_id: str | None
    facets: tuple[Facet, ...]
    location: str | None = None
    fields: tuple[DriftField, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.facets or len({f.kind for f in self.facets}) != len(self.facets):
            raise ValueError(f"{self.key}: a drift entry has one facet of each kind it has, at least one")
        object.__setattr__(self, "facets", tuple(sorted(self.facets, key=lambda f: f.kind.rank)))
        object.__setattr__(self, "fields", _merge(self.facets))

    @classmethod
    def of(
        cls,
        key: str,
        kind: Kind,
        campaign_type: str,
        name: str,
        campaign_id: str | None = None,
        fields: tuple[DriftField, ...] = (),
        *,
        updated_at: str | None = None,
        action: str | None = None,
        note: str | None = None,
        location: str | None = None,
    ) -> DriftEntry:
        """An entry with a single facet."""
        facet = Facet(kind, fields, note, action, updated_at)
        return cls(key, campaign_type, name, campaign_id, (facet,), location)

    @property
    def kind(self) -> Kind:
        return self.facets[0].kind

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return tuple(f.kind for f in self.facets)

    def facet(self, kind: Kind) -> Facet | None:
        return next((f for f in self.facets if f.kind is kind), None)

    @property
    def note(self) -> str | None:
        notes = [f.note for f in self.facets if f.note]
        return "; ".join(notes) if notes else None

    @property
    def action(self) -> str | None:
        pending = self.facet(Kind.PENDING)
        return pending.action if pending is not None else None

    @property
    def updated_at(self) -> str | None:
        changed = self.facet(Kind.CHANGED)
        return changed.updated_at if changed is not None else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind.value,
            "kinds": [k.value for k in self.kinds],
            "campaignType": self.campaign_type,
            "campaignId": self.campaign_id,
            "name": self.name,
            "updatedAt": self.updated_at,
            "fields": [f.to_json() for f in self.fields],
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
    """Counts by entry ``kind`` (they add up: ``changed + missing + pending + in_sync == managed``),
    plus ``facets``: campaigns per facet, where a changed and pending campaign counts twice."""

    changed: int = 0
    missing: int = 0
    pending: int = 0
    unmanaged: int = 0
    in_sync: int = 0
    facets: Mapping[str, int] = field(default_factory=dict)

    @property
    def drifted(self) -> int:
        return self.changed + self.missing + self.pending

    @property
    def managed(self) -> int:
        return self.drifted + self.in_sync

    @property
    def also_pending(self) -> int:
        """Changed or missing campaigns that have unapplied manifest changes as well."""
        return self.facets.get(Kind.PENDING.value, self.pending) - self.pending

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "missing": self.missing,
            "pending": self.pending,
            "unmanaged": self.unmanaged,
            "inSync": self.in_sync,
            "managed": self.managed,
            "facets": {
                k.value: self.facets.get(k.value, 0) for k in (Kind.CHANGED, Kind.MISSING, Kind.PENDING)
            },
        }

    def line(self) -> str:
        also = f"; {self.also_pending} of them also pending" if self.also_pending else ""
        return (
            f"Drift: {self.changed} changed, {self.missing} missing, {self.pending} pending, "
            f"{self.unmanaged} unmanaged{also}."
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
            facets={k.value: sum(k in e.kinds for e in self.entries) for k in KIND_ORDER},
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


def _changed(change: FieldChange) -> DriftField:
    # compare_campaign turns live (before) into the applied view (after).
    return DriftField(
        change.path,
        applied=change.after,
        live=change.before,
        unverified=change.unverified,
        kinds=(Kind.CHANGED,),
    )


_PATH_PART = re.compile(r"\[([^\]]*)\]|\.?([^.\[\]]+)")


def value_at(view: Any, path: str) -> Any:
    """The value at a field path as ``diff`` writes it (``a.b``, ``days[MO]``); None if absent."""
    node = view
    for match in _PATH_PART.finditer(path):
        part = match.group(1) if match.group(1) is not None else match.group(2)
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _live_now(
    target: LiveCampaign, flows: FlowBook, applied: Mapping[str, Any], learned: Mapping[str, str]
) -> dict[str, Any]:
    """Live in the canonical shape, the experience flow by name where any pairing knows it."""
    assert target.doc is not None
    view, facts = live_view(target.campaign_type, target.doc, target.item, flows, applied)
    if facts.flow_id:
        name = facts.flow_name or next((n for n, i in sorted(learned.items()) if i == facts.flow_id), None)
        view[FLOW_FIELD] = name or facts.flow_id
    return view


def _pending(change: FieldChange, live_now: Mapping[str, Any] | None) -> DriftField:
    return DriftField(
        change.path,
        applied=change.before,
        live=value_at(live_now, change.path) if live_now is not None else None,
        manifest=change.after,
        kinds=(Kind.PENDING,),
        live_known=live_now is not None,
    )


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
        facets: list[Facet] = []
        live_now: dict[str, Any] | None = None

        if record is not None and target is None:
            then = (
                "apply creates it again"
                if item is not None
                else "it left the manifests too; apply forgets it"
            )
            facets.append(Facet(Kind.MISSING, note=f"deleted outside campaign-sync; {then}"))
        elif record is not None and target is not None:
            result = compare_campaign(record.applied, target, flows, record.applied, learned)
            facts = result.facts
            if facts.flow_id and facts.flow_name and flows.id_of(facts.flow_name) is None:
                learned[facts.flow_name] = facts.flow_id
            warnings.extend(f"{key}: {w}" for w in result.warnings)
            if target.doc is not None:
                live_now = _live_now(target, flows, record.applied, learned)
            if result.fields:
                facets.append(
                    Facet(
                        Kind.CHANGED,
                        tuple(_changed(f) for f in result.fields),
                        note=f"changed outside campaign-sync (live updatedAt {target.updated_at})"
                        if target.updated_at
                        else "changed outside campaign-sync",
                        updated_at=target.updated_at,
                    )
                )

        pending = _pending_facet(item, record, target, by_name, live_now)
        adopted = None
        if pending is not None:
            facets.append(pending[0])
            adopted = pending[1]
        if facets:
            campaign_id = record.id if record is not None else adopted
            campaign_type = record.campaignType if record is not None else ctype
            entries.append(DriftEntry(key, campaign_type, name, campaign_id, tuple(facets), where))

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
    entries.sort(key=lambda e: e.key)
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


def _pending_facet(
    item: DesiredCampaign | None,
    record: Record | None,
    target: LiveCampaign | None,
    by_name: Mapping[tuple[str, str], LiveCampaign],
    live_now: Mapping[str, Any] | None,
) -> tuple[Facet, str | None] | None:
    """The manifest's campaign against what was last applied, and the id a create would adopt.

    Live decides nothing here; where it was read (``live_now``), each field also shows its value.
    """
    if item is None:
        if record is None or target is None:
            return None  # gone from both sides: reported as missing
        note = "removed from the manifests; `campaign-sync apply --allow-delete` deletes it"
        return Facet(Kind.PENDING, note=note, action="delete"), None
    campaign = item.campaign
    want = desired_view(campaign)
    if record is None:
        match = by_name.get((campaign.campaignType, campaign.name.lower()))
        note = (
            f"not applied yet; apply adopts the live campaign {match.id} of the same name"
            if match is not None
            else "not applied yet; apply creates it"
        )
        fields = tuple(_pending(f, None) for f in additions(want))
        return Facet(Kind.PENDING, fields, note, "create"), match.id if match is not None else None
    if record.campaignType != campaign.campaignType:
        changes = [FieldChange("campaignType", record.campaignType, campaign.campaignType)]
        note = "a campaign cannot change type; give the new campaign a new key"
    else:
        changes = compare(project(dict(record.applied), want), want)
        note = "manifest changes not applied yet"
    if not changes:
        return None
    # A campaign deleted outside campaign-sync is created again by apply, with the manifest's fields.
    action = "update" if target is not None else "create"
    live_fields = live_now if target is not None else None
    return Facet(Kind.PENDING, tuple(_pending(f, live_fields) for f in changes), note, action), None

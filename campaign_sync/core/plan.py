"""The Plan value and ``build_plan``: desired + live + state in, a deterministic plan out.

Pure: no client, no files, no clock. ``plan`` and ``apply`` run this same computation; a saved
plan is this value, serialised.

Identity: state ``key -> id``; without a state entry, a live campaign of the same type whose name
matches case-insensitively is adopted; otherwise the campaign is created. A state entry whose id
is gone live becomes a create ("deleted outside campaign-sync"); a state key no manifest has any
more becomes a delete. Live campaigns neither in state nor adopted are unmanaged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from campaign_sync.core.bodies import build_put, create_body
from campaign_sync.core.changes import (
    Action,
    Change,
    DesiredCampaign,
    FlowNote,
    Match,
    Policy,
    Record,
    Summary,
)
from campaign_sync.core.compare import LiveCampaign, compare_campaign
from campaign_sync.core.diff import additions
from campaign_sync.core.digest import plan_digest
from campaign_sync.core.fields import Choice, Field
from campaign_sync.core.normalize import (
    FlowBook,
    content_hash,
    desired_view,
    recorded_view,
)
from campaign_sync.core.refusals import Reason, Refusal, blocked_reason, decide
from campaign_sync.errors import PlanError

__all__ = [
    "FORMAT_VERSION",
    "Action",
    "Change",
    "DesiredCampaign",
    "FlowNote",
    "Match",
    "Plan",
    "Policy",
    "Record",
    "Refusal",
    "Summary",
    "build_plan",
    "plan_digest",
    "safety_problem",
]

FORMAT_VERSION = 1
DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Plan:
    environment: str
    changes: tuple[Change, ...]
    summary: Summary
    matches: tuple[Match, ...] = ()
    warnings: tuple[str, ...] = ()
    learned_flows: Mapping[str, str] = field(default_factory=dict)
    forget: tuple[str, ...] = ()
    managed: int = 0
    rate_limit: int = 60
    unverified: tuple[FlowNote, ...] = ()
    refusals: tuple[Refusal, ...] = ()  # what apply will refuse (core/refusals.py); not in the digest

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def digest(self) -> str:
        """What a reviewer approves (SPEC 4); see :func:`plan_digest`."""
        return plan_digest(self.environment, self.changes)

    @property
    def writes(self) -> int:
        return sum(1 for c in self.changes if not c.blocked)

    def estimate(self) -> str:
        """How many writes apply makes, and how long the account's rate limit makes that take."""
        noun = "request" if self.writes == 1 else "requests"
        minutes = math.ceil(self.writes / max(self.rate_limit, 1))
        span = "within a minute" if minutes <= 1 else f"about {minutes} minutes"
        return f"apply will make {self.writes} write {noun} ({span} at {self.rate_limit} requests/minute)"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "formatVersion": FORMAT_VERSION,
            "environment": self.environment,
            "digest": self.digest,
            "summary": self.summary.to_json(),
            "changes": [c.to_json() for c in self.changes],
            "warnings": list(self.warnings),
            "writes": self.writes,
            "refusals": [r.to_json() for r in self.refusals],
        }
        if self.unverified:  # flows that cannot be verified: notes, not changes (SPEC 6)
            out["unverified"] = [n.to_json() for n in self.unverified]
        return out


def _choices(row: Field) -> str:
    return f" ({' | '.join(row.value.choices)})" if isinstance(row.value, Choice) else ""


def build_plan(
    environment: str,
    desired: Mapping[str, DesiredCampaign],
    live: Iterable[LiveCampaign],
    state: Mapping[str, Record],
    flows: FlowBook,
    policy: Policy = DEFAULT_POLICY,
    targets: Iterable[str] = (),
    *,
    write_unverified: bool = False,
) -> Plan:
    """Compare desired with live through state; pure and deterministic.

    ``write_unverified`` (``apply --write-unverified``): an experience flow that cannot be verified
    is written (an update) so the pairing is learned; otherwise it is a note, not a change, and an
    update the campaign needs for other fields is blocked, since its PUT cannot keep the live flow.
    """
    wanted = set(targets)
    unknown = sorted(wanted - set(desired) - set(state))
    if unknown:
        raise PlanError(f"--target {', '.join(unknown)}: no such key in the manifests or the state")

    def in_scope(key: str) -> bool:
        return not wanted or key in wanted

    by_id = {c.id: c for c in live}
    # A state key that left the manifests frees its campaign for adoption by name: renaming a
    # key re-keys the campaign in state instead of deleting it and creating it again.
    leaving = {rec.id: key for key, rec in state.items() if key not in desired and in_scope(key)}
    claimed = {rec.id for rec in state.values()} - set(leaving)
    by_name = {(c.campaign_type, c.name.lower()): c for c in by_id.values() if c.id not in claimed}
    learned: dict[str, str] = {}
    changes: list[Change] = []
    matches: list[Match] = []
    warnings: list[str] = []
    notes: list[FlowNote] = []
    unchanged = 0
    adopted_ids: set[str] = set()

    for key in sorted(desired):
        if not in_scope(key):
            continue
        item = desired[key]
        campaign = item.campaign
        ctype = campaign.campaignType
        where = str(item.location)
        record = state.get(key)
        if record is not None and record.campaignType != ctype:
            raise PlanError(
                f"{where}: {key}: campaignType changed from {record.campaignType} to {ctype}; a campaign "
                "cannot change type. Give the new campaign a new key (the old one will be deleted)."
            )
        want = desired_view(campaign)
        matched: LiveCampaign | None = None
        adopted = False
        note = None
        if record is not None:
            matched = by_id.get(record.id)
            if matched is None:
                note = f"deleted outside campaign-sync (was {record.id})"
        if matched is None and record is None:
            matched = by_name.get((ctype, campaign.name.lower()))
            adopted = matched is not None
            if matched is not None and matched.id in leaving:
                note = f"re-keyed from {leaving[matched.id]} (same campaign; not deleted)"
        if matched is None:
            clash = by_name.get((ctype, campaign.name.lower()))
            blocked = (
                f"a live {ctype} campaign named {clash.name!r} already exists ({clash.id}); adopt it with "
                f"`campaign-sync import {key} {clash.id}` or rename the manifest campaign"
                if clash is not None
                else None
            )
            changes.append(
                Change(
                    key,
                    Action.CREATE,
                    ctype,
                    campaign.name,
                    fields=tuple(additions(want)),
                    blocked=blocked,
                    note=note,
                    location=where,
                    body=create_body(campaign),
                    recorded=want,
                )
            )
            continue
        if adopted:
            adopted_ids.add(matched.id)
        if matched.doc is None:
            raise PlanError(f"internal: live campaign {matched.id} for {key!r} was not read")
        applied = record.applied if record is not None else None
        result = compare_campaign(want, matched, flows, applied, learned)
        facts = result.facts
        if facts.flow_id and facts.flow_name and flows.id_of(facts.flow_name) is None:
            learned[facts.flow_name] = facts.flow_id
        fields = list(result.fields)
        if write_unverified and result.unverified:
            fields = sorted([*fields, *(u.change() for u in result.unverified)], key=lambda f: f.path)
        else:
            notes.extend(FlowNote(key, matched.id, u) for u in result.unverified)
        warnings.extend(f"{key}: {warning}" for warning in result.warnings)
        matches.append(
            Match(key, matched.id, ctype, campaign.name, adopted, matched.updated_at, campaign, applied)
        )
        if not fields:
            unchanged += 1
            if note:
                warnings.append(f"{key}: {note}")
            continue
        schedule = matched.doc.get("schedule")
        if isinstance(schedule, Mapping) and schedule.get("isRecurrenceEnabled"):
            warnings.append(
                f"{key}: has a recurring schedule set outside campaign-sync; the API replaces the whole "
                "campaign on update and its schedule settings cannot be read back, so check the schedule "
                "after apply"
            )
        for other in by_id.values():
            if (
                other.id != matched.id
                and other.campaign_type == ctype
                and other.name.lower() == campaign.name.lower()
                and other.name.lower() != matched.name.lower()
            ):
                warnings.append(
                    f"{key}: renaming to {campaign.name!r} will fail: {other.id} already has that name"
                )
        recorded = recorded_view(campaign, want, applied)
        put = build_put(campaign, matched.doc, matched.item, FlowBook.of(learned, flows.by_name), applied)
        for row in put.may_reset:
            warnings.append(
                f"{key}: the update may reset {'.'.join(row.path)}: the API never shows it, and neither the "
                "manifest nor the state (what campaign-sync last wrote) holds it, so the PUT cannot carry "
                f"its live value. Declare it in the manifest{_choices(row)}."
            )
        blocked = blocked_reason(matched, Action.UPDATE)
        if blocked is None and result.unverified and not write_unverified:
            flow = result.unverified[0]
            blocked = (
                f"{flow.path}: the live flow {flow.live_id} has no known name, and the API takes a flow by "
                "name only, so this update cannot keep it; pair it under experienceFlows in "
                f"campaign-sync.yaml, or pass `apply --write-unverified` to write {flow.wanted!r}"
            )
        changes.append(
            Change(
                key,
                Action.UPDATE,
                ctype,
                campaign.name,
                campaign_id=matched.id,
                fields=tuple(fields),
                blocked=blocked,
                adopted=adopted,
                note=note,
                location=where,
                body=put.body,
                live_updated_at=matched.updated_at,
                live_hash=content_hash(matched.doc),  # what a saved plan checks live against
                live_view=result.live_view,  # built here: an unchanged campaign never needs it
                recorded=recorded,
            )
        )

    forget: list[str] = []
    for key in sorted(state):
        if key in desired or not in_scope(key):
            continue
        record = state[key]
        if record.id in adopted_ids:
            forget.append(key)  # re-keyed: the campaign now belongs to another key
            continue
        gone = by_id.get(record.id)
        if gone is None:
            forget.append(key)
            warnings.append(f"{key}: no longer in the manifests and already gone live; apply forgets it")
            continue
        changes.append(
            Change(
                key,
                Action.DELETE,
                record.campaignType,
                gone.name,
                campaign_id=gone.id,
                blocked=blocked_reason(gone, Action.DELETE),
                live_updated_at=gone.updated_at,
                live_hash=content_hash(gone.doc) if gone.doc is not None else None,
            )
        )

    managed_ids = {rec.id for rec in state.values()} | adopted_ids
    unmanaged = sum(1 for c in by_id.values() if c.id not in managed_ids)
    changes.sort(key=lambda c: (c.action.order, c.key))
    summary = Summary(
        create=sum(c.action is Action.CREATE for c in changes),
        update=sum(c.action is Action.UPDATE for c in changes),
        delete=sum(c.action is Action.DELETE for c in changes),
        unchanged=unchanged,
        unmanaged=unmanaged,
    )
    for change in changes:
        if change.blocked:
            warnings.append(f"{change.key}: blocked: {change.blocked}")
    return Plan(
        environment=environment,
        changes=tuple(changes),
        summary=summary,
        matches=tuple(sorted(matches, key=lambda m: m.key)),
        warnings=tuple(warnings),
        learned_flows=dict(sorted(learned.items())),
        forget=tuple(forget),
        managed=len(state),
        rate_limit=policy.rate_limit,
        unverified=tuple(notes),
        refusals=decide(changes, managed=len(state), matched=len(matches), policy=policy),
    )


def safety_problem(plan: Plan) -> str | None:
    """Why the plan is too big to apply without --force, or None (its safety-threshold refusal)."""
    return next((r.message for r in plan.refusals if r.reason is Reason.SAFETY_THRESHOLD), None)

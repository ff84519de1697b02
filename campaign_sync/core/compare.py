"""One live campaign compared with a desired view: the rule plan and drift share.

Live and desired go through the same normalisation (``normalize``), the live view is cut down
to what the desired view declares, the experience flow is compared by name through the known
pairings, and deepdiff (``diff``) turns the rest into field changes. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign_sync.core.diff import FieldChange, compare
from campaign_sync.core.normalize import FLOW_FIELD, FlowBook, LiveFacts, live_view, project
from campaign_sync.errors import CampaignSyncError


@dataclass(frozen=True)
class LiveCampaign:
    """One live campaign: its list item, and its full document when it was read (or cached)."""

    id: str
    campaign_type: str
    name: str
    status: str | None
    updated_at: str | None
    item: Mapping[str, Any]
    doc: Mapping[str, Any] | None = None


def _compare_flow(
    desired: dict[str, Any], live: dict[str, Any], flow_id: str | None, flows: FlowBook
) -> list[FieldChange]:
    """The experience flow, compared by name through the known pairings (never a false change)."""
    want = desired.pop(FLOW_FIELD, None)
    have = live.pop(FLOW_FIELD, None)
    if want is None:
        return []
    known = flows.id_of(want)
    if flow_id is None:
        return [FieldChange(FLOW_FIELD, None, want)]
    if known is not None:
        return [] if known == flow_id else [FieldChange(FLOW_FIELD, have or flow_id, want)]
    if have is not None:
        return [] if have == want else [FieldChange(FLOW_FIELD, have, want)]
    return [FieldChange(FLOW_FIELD, flow_id, want, unverified=True)]


@dataclass(frozen=True)
class Comparison:
    """One live campaign compared with a desired view (the manifest's, or the state's ``applied``).

    ``fields`` turn live (``before``) into the view (``after``); ``live`` is the live view cut down
    to the fields the view declares (bar the experience flow, compared by name apart);
    ``warnings`` are unprefixed (the caller names the campaign).
    """

    fields: tuple[FieldChange, ...]
    facts: LiveFacts
    live: dict[str, Any]
    warnings: tuple[str, ...] = ()


def compare_campaign(
    want: Mapping[str, Any],
    live: LiveCampaign,
    flows: FlowBook,
    applied: Mapping[str, Any] | None = None,
    learned: Mapping[str, str] | None = None,
) -> Comparison:
    """Compare one matched live campaign with a canonical view, as plan does (pure).

    Only the fields ``want`` declares are compared, with the same normalisation; the experience
    flow is compared by name through the known pairings (``flows``, plus ``learned`` ones and the
    pairing this campaign itself shows), an unpairable id is an ``unverified`` change, never a false
    one; ``enableMachineDetect`` is not compared when the API does not show it. ``applied`` (what
    was last written) stands in for values the API accepts but never returns.
    """
    if live.doc is None:
        raise CampaignSyncError(f"internal: live campaign {live.id} was not read")
    have_full, facts = live_view(live.doc, live.item, flows, applied)
    pairs = dict(learned or {})
    if facts.flow_id and facts.flow_name and flows.id_of(facts.flow_name) is None:
        pairs[facts.flow_name] = facts.flow_id
    have = project(have_full, want)
    want_cmp = dict(want)
    fields = _compare_flow(want_cmp, have, facts.flow_id, FlowBook.of(pairs, flows.by_name))
    fields = sorted([*fields, *compare(have, want_cmp)], key=lambda f: f.path)
    warnings: list[str] = []
    if any(f.unverified for f in fields):
        warnings.append(
            f"cannot verify experienceFlowName {want.get(FLOW_FIELD)!r}: live flow "
            f"{facts.flow_id} has no known name. apply writes it and remembers the pairing; "
            "or add it under experienceFlows in campaign-sync.yaml."
        )
    if "enableMachineDetect" in want and "enableMachineDetect" not in have_full:
        # The API never shows the Agentless machine-detect choice: write it once, then trust state.
        fields = [f for f in fields if f.path != "enableMachineDetect"]
        fields.append(FieldChange("enableMachineDetect", None, want["enableMachineDetect"], unverified=True))
        warnings.append(
            "enableMachineDetect cannot be read back from the API; apply writes it once and remembers it"
        )
    return Comparison(tuple(fields), facts, have, tuple(warnings))

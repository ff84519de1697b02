"""One live campaign compared with a desired view: the rule plan and drift share.

Live and desired go through the same normalisation (``normalize``), the live view is cut down
to what the desired view declares, the experience flow is compared by name through the known
pairings, and deepdiff (``diff``) turns the rest into field changes. Pure.

A flow id the known pairings cannot name is never a change (SPEC 6): it is an
:class:`Unverified` note, with the fix spelled out, and it is left out of ``fields``. A field the
API never shows (the Agentless machine-detect choice) that the view declares but neither live
nor the state knows is an ``unverified`` field change: apply writes it once, then trusts the state.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.diff import FieldChange, compare, unchanged
from campaign_sync.core.fields import MISSING, Field, ReadBack, get_path
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


@dataclass(frozen=True)
class Unverified:
    """A declared experience flow that cannot be checked: live shows an id no known pairing names."""

    path: str
    live_id: str  # the cf- id live shows
    wanted: str  # the name the view declares

    def change(self) -> FieldChange:
        """As a field change, for ``apply --write-unverified`` (written once to learn the pairing)."""
        return FieldChange(self.path, self.live_id, self.wanted, unverified=True)

    def note(self) -> str:
        pairing = f"experienceFlows: {{{json.dumps(self.wanted, ensure_ascii=False)}: {self.live_id}}}"
        return (
            f"cannot verify {self.path} {json.dumps(self.wanted, ensure_ascii=False)}: the live flow "
            f"{self.live_id} has no known name, so it is not counted as a change. If that is the flow, pair "
            f"them in campaign-sync.yaml ({pairing}); or run `campaign-sync apply --write-unverified` to "
            "write the manifest's flow once and learn the pairing."
        )


def _compare_flow(
    desired: dict[str, Any], live: dict[str, Any], flow_id: str | None, flows: FlowBook
) -> tuple[list[FieldChange], list[Unverified]]:
    """The experience flow, compared by name through the known pairings (never a false change)."""
    want = desired.pop(FLOW_FIELD, None)
    have = live.pop(FLOW_FIELD, None)
    if want is None:
        return [], []
    known = flows.id_of(want)
    if flow_id is None:
        return [FieldChange(FLOW_FIELD, None, want)], []
    if known is not None:
        return ([] if known == flow_id else [FieldChange(FLOW_FIELD, have or flow_id, want)]), []
    if have is not None:
        return ([] if have == want else [FieldChange(FLOW_FIELD, have, want)]), []
    return [], [Unverified(FLOW_FIELD, flow_id, want)]


@dataclass(frozen=True)
class Comparison:
    """One live campaign compared with a desired view (the manifest's, or the state's ``applied``).

    ``fields`` turn live (``before``) into the view (``after``); ``live_view`` is the live view cut down
    to the fields the view declares (bar the experience flow, compared by name apart), built when
    it is first asked for (a plan asks only for the campaigns it changes); ``unverified`` are flows
    that cannot be checked (notes, not changes); ``warnings`` are unprefixed (the caller names the
    campaign) and include each unverified note.
    """

    fields: tuple[FieldChange, ...]
    facts: LiveFacts
    live_full: dict[str, Any]  # the whole live view
    declared: Mapping[str, Any]  # the desired view compared with it
    warnings: tuple[str, ...] = ()
    unverified: tuple[Unverified, ...] = ()

    @functools.cached_property
    def live_view(self) -> dict[str, Any]:
        return _declared(self.live_full, self.declared)


def _declared(live_full: dict[str, Any], want: Mapping[str, Any]) -> dict[str, Any]:
    """The live view cut down to what ``want`` declares, bar the experience flow."""
    have: dict[str, Any] = project(live_full, want)
    have.pop(FLOW_FIELD, None)
    return have


def _holds(live: Any, desired: Any) -> bool:
    """``unchanged(project(live, desired), desired)`` without building the projection: the in-sync
    case, nearly every campaign of a plan. Anything but plain dicts with text keys takes the
    definition (``tests/test_compare_holds.py`` holds the two to the same answers)."""
    if live.__class__ is not dict or desired.__class__ is not dict:
        return unchanged(project(live, desired), desired)
    for key, want in desired.items():
        if key.__class__ is not str:
            return unchanged(project(live, desired), desired)
        if key not in live:
            return False
        have = live[key]
        kind = want.__class__
        if (kind is str or kind is int) and have.__class__ is kind:  # most leaves: what _same does
            same = have == want
        elif key == "days":  # compared whole, as project keeps it
            same = unchanged(have, want)
        elif have.__class__ is dict and want.__class__ is dict:
            same = _holds(have, want)
        else:
            same = unchanged(project(have, want), want)
        if not same:
            return False
    return True


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
    pairing this campaign itself shows); an unpairable id is ``unverified``, never a change.
    ``applied`` (what was last written) stands in for values the API accepts but never returns.
    """
    if live.doc is None:
        raise CampaignSyncError(f"internal: live campaign {live.id} was not read")
    have_full, facts = live_view(live.campaign_type, live.doc, live.item, flows, applied)
    pairs = dict(learned or {})
    if facts.flow_id and facts.flow_name and flows.id_of(facts.flow_name) is None:
        pairs[facts.flow_name] = facts.flow_id
    want_cmp = dict(want)
    shown_flow = (
        {FLOW_FIELD: project(have_full[FLOW_FIELD], want[FLOW_FIELD])}
        if FLOW_FIELD in want and FLOW_FIELD in have_full
        else {}
    )
    book = FlowBook.of(pairs, flows.by_name) if pairs else flows  # nothing learned: the same pairings
    fields, unverified = _compare_flow(want_cmp, shown_flow, facts.flow_id, book)
    projected = None
    if not _holds(have_full, want_cmp):  # want_cmp no longer holds the flow: _holds skips it
        projected = _declared(have_full, want)
        fields = sorted([*fields, *compare(projected, want_cmp)], key=lambda f: f.path)
    warnings = [u.note() for u in unverified]
    for row in _never_shown(live.campaign_type):
        wanted = get_path(want, row.path)
        if wanted is MISSING or get_path(have_full, row.path) is not MISSING:
            continue
        # The API never shows it and the state does not know it: write it once, then trust state.
        path = ".".join(row.path)
        fields = [f for f in fields if f.path != path]
        fields.append(FieldChange(path, None, wanted, unverified=True))
        warnings.append(f"{path} cannot be read back from the API; apply writes it once and remembers it")
    result = Comparison(tuple(fields), facts, have_full, want, tuple(warnings), tuple(unverified))
    if projected is not None:  # built already: it is what ``live_view`` would build
        result.__dict__["live_view"] = projected
    return result


@functools.cache
def _never_shown(campaign_type: str) -> tuple[Field, ...]:
    """The type's fields the API never shows (in table order)."""
    return tuple(row for row in REGISTRY.get(campaign_type).fields if row.read_back is ReadBack.NEVER)

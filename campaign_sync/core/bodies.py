"""Request bodies, driven by the field table: the create body, and the complete PUT body.

The API replaces the whole campaign on PUT, so :func:`build_put` starts from **every** writable
field of the live document (a field the table does not know is kept as it is, never silently
dropped), leaves out read-only fields and fields that belong to another type or mode, spells
each known field as a request spells it (the flow id back to ``experienceFlowName`` through a
known pairing, the list's ``connection`` to ``queue_name``), and lays the manifest's declared
fields over it. A writable field the API never shows comes from the manifest, else from the
state (what campaign-sync last wrote); when neither has it the body cannot carry it, and
:class:`PutBody` names it so the plan can warn that the PUT may reset it.

Pure, like ``normalize``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.fields import MISSING, READ_ONLY, Field, ReadBack, Role, get_path, pop_path, set_path
from campaign_sync.core.normalize import FlowBook, Source, live_value
from campaign_sync.manifests.models import Campaign


def create_body(campaign: Campaign) -> dict[str, Any]:
    """The request body for the fields the manifest sets (the whole body on create)."""
    ctype, mode = REGISTRY.of(campaign)
    doc = campaign.model_dump(exclude_unset=True)
    body: dict[str, Any] = {}
    for row in mode.fields:
        if row.role in (Role.KEY, Role.TYPE):
            continue
        value = get_path(doc, row.path)
        if value is not MISSING and value is not None:
            set_path(body, row.api_path, row.value.to_api(value))
    body["campaignType"] = ctype.name
    return body


@dataclass(frozen=True)
class PutBody:
    """A complete PUT body, and what it could not know."""

    body: dict[str, Any]
    #: rows whose value came from the state (the API never shows them; the manifest leaves them out)
    from_state: tuple[Field, ...] = ()
    #: writable rows neither live, the manifest nor the state gives a value: the PUT may reset them
    may_reset: tuple[Field, ...] = ()


def _overlay(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _overlay(dict(out[key]), value)
        else:
            out[key] = value
    return out


def build_put(
    campaign: Campaign,
    live_doc: Mapping[str, Any],
    list_item: Mapping[str, Any] | None,
    flows: FlowBook,
    applied: Mapping[str, Any] | None = None,
) -> PutBody:
    """The complete PUT body: the manifest's fields laid over every writable field of live."""
    ctype, mode = REGISTRY.of(campaign)
    item = list_item or {}
    own = [row for row in mode.fields if row.role is not Role.KEY]
    own_paths = {path for row in own for path in (row.api_path, *row.read_paths)}
    base: dict[str, Any] = copy.deepcopy(dict(live_doc))
    for path in READ_ONLY:
        pop_path(base, path)
    for path in REGISTRY.field_paths - own_paths:  # another type's or mode's field
        pop_path(base, path)
    declared = create_body(campaign)
    from_state: list[Field] = []
    may_reset: list[Field] = []
    for row in own:
        if row.role is Role.TYPE:
            continue
        shown = get_path(base, row.api_path)
        for path in row.read_paths:  # read spellings become the write spelling
            if path != row.api_path:
                moved = pop_path(base, path)
                if shown is MISSING and moved is not MISSING:
                    shown = moved
        if row.read_back is ReadBack.SHOWN:
            if shown is not MISSING:
                set_path(base, row.api_path, shown)
            continue
        pop_path(base, row.api_path)  # rebuilt from what the row's read-back rule knows
        value, source = live_value(row, live_doc, item, flows, applied)
        if value is not MISSING and value is not None and source is not None:
            set_path(base, row.api_path, row.value.to_api(value))
            if source is Source.STATE and get_path(declared, row.api_path) is MISSING:
                from_state.append(row)
        elif get_path(declared, row.api_path) is MISSING:
            may_reset.append(row)
    body = _overlay(base, declared)
    body["campaignType"] = ctype.name
    return PutBody(body, tuple(from_state), tuple(may_reset))


def put_body(
    campaign: Campaign,
    live_doc: Mapping[str, Any],
    list_item: Mapping[str, Any] | None,
    flows: FlowBook,
    applied: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The complete PUT body (see :func:`build_put`)."""
    return build_put(campaign, live_doc, list_item, flows, applied).body

"""One canonical shape for both sides, before anything is compared, driven by the field table.

``desired_view`` (from a manifest campaign) and ``live_view`` (from the API's documents) return
the same shape, built row by row from the field table (``fields.py``) with the same value
functions, so two spellings of one value can never show as a change:

* only fields the table knows are in a view; server-owned ones (``_id``, ``status``...) never are;
* priority is a string; times are ``h:mm AM``; phone numbers E.164; enums in the API's case;
* calling-hour days are a mapping keyed by day (``days[FR]``), contact lists a sorted list;
* SMS message text is compared decoded (the API stores base64, sometimes URL-encoded);
* an absent ``description`` is ``""``; an absent ``schedule`` is scheduling disabled;
* each field is read back as its row says: shown by GET; the experience flow by name through the
  known name <-> ``cf-`` id pairings (and the voice list's ``connection``); the voice queue from
  the list's ``connection``; a field the API never shows from the state (what was last written).

Only what the manifest declares is compared: :func:`project` cuts the live view down to the
keys of the desired view. Request bodies are built in ``bodies.py``.

Pure: no I/O, no clock; imports only the field table, the registry, models and errors.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.fields import (
    MISSING,
    VOLATILE,
    CampaignType,
    Field,
    Mode,
    Path,
    ReadBack,
    RowTree,
    get_path,
    readings,
    set_path,
)
from campaign_sync.core.values import decode_message, encode_message
from campaign_sync.manifests.models import Campaign

__all__ = [
    "FLOW_FIELD",
    "FlowBook",
    "LiveFacts",
    "Source",
    "decode_message",
    "desired_view",
    "encode_message",
    "live_value",
    "live_view",
    "project",
    "recorded_view",
    "undeclared_unshown",
]

View = dict[str, Any]
FLOW_FIELD = "experienceFlowName"


@dataclass(frozen=True)
class FlowBook:
    """Known experience-flow pairings, name -> ``cf-`` id (config first, then learned ones)."""

    by_name: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, *sources: Mapping[str, str]) -> FlowBook:
        merged: dict[str, str] = {}
        for source in reversed(sources):
            merged.update(source)
        return cls(merged)

    def id_of(self, name: str) -> str | None:
        return self.by_name.get(name)

    def name_of(self, flow_id: str) -> str | None:
        names = sorted(n for n, i in self.by_name.items() if i == flow_id)
        return names[0] if names else None


# --- the desired side ------------------------------------------------------------------------


def desired_view(campaign: Campaign) -> View:
    """The manifest's campaign, canonical, holding only the fields the manifest sets."""
    _ctype, mode = REGISTRY.of(campaign)
    doc = campaign.model_dump(exclude_unset=True)
    tree = mode.row_tree
    if tree is not None:
        return _picked(doc, tree)
    out: View = {}
    for row in mode.compared_fields:
        value = get_path(doc, row.path)
        if value is not MISSING and value is not None:
            # validated values are canonical already (the models use the same value functions);
            # only set-like ones take their order-free shape
            set_path(out, row.path, row.value.canon(value) if row.set_like else value)
    return out


def _picked(doc: Mapping[str, Any], tree: RowTree) -> View:
    """What ``desired_view``'s row-by-row loop builds from ``doc``, in one walk of the row tree."""
    out: View = {}
    for name, entry in tree.items():
        if name not in doc:
            continue
        value = doc[name]
        if entry.__class__ is dict:
            if value.__class__ is dict or isinstance(value, Mapping):
                inner = _picked(value, entry)
                if inner:
                    out[name] = inner
        elif value is not None:
            row: Field = entry  # type: ignore[assignment]
            out[name] = row.value.canon(value) if row.set_like else value
    return out


def recorded_view(campaign: Campaign, want: View, applied: Mapping[str, Any] | None) -> View:
    """What to record as applied: the desired view, plus the values the API never shows that the
    previous record holds and the manifest leaves out (the PUT carried them, so they still hold).

    Views are never changed in place once built, so with nothing to add this is ``want`` itself
    (as a create records it); only a view that gains kept values is copied first.
    """
    if not applied:
        return want
    _ctype, mode = REGISTRY.of(campaign)
    kept_values: list[tuple[Path, Any]] = []
    for row in mode.compared():
        if row.read_back in (ReadBack.NEVER, ReadBack.CONNECTION) and get_path(want, row.path) is MISSING:
            kept = get_path(applied, row.path)
            if kept is not MISSING and kept is not None:
                kept_values.append((row.path, kept))
    if not kept_values:
        return want
    out: View = _copied(want)
    for path, kept in kept_values:
        set_path(out, path, kept)
    return out


#: Values a copy can share (immutable), by exact type.
_SHARED = frozenset({str, int, float, bool, type(None)})


#: Values that are never a mapping, by exact type.
_LEAVES = _SHARED | {list, tuple}


def _copied(view: Mapping[str, Any]) -> View:
    """A copy of a view (nested dicts and lists of plain values) that shares nothing mutable."""

    def copy_of(node: Any) -> Any:
        kind = type(node)
        if kind in _SHARED:  # the common case first, by exact type
            return node
        if kind is dict or isinstance(node, dict):
            return {key: copy_of(value) for key, value in node.items()}
        if kind is list or isinstance(node, list):
            return [copy_of(value) for value in node]
        return copy.deepcopy(node) if not isinstance(node, str | int | float | bool | None) else node

    return {key: copy_of(value) for key, value in view.items()}


def undeclared_unshown(campaign: Campaign) -> tuple[Field, ...]:
    """Writable fields of the campaign's mode the API never shows and the manifest leaves out.

    An update can keep such a field only if campaign-sync wrote it before (the state): declaring
    it is safer, so ``validate`` recommends it.
    """
    _ctype, mode = REGISTRY.of(campaign)
    rows = [row for row in mode.compared() if row.read_back is ReadBack.NEVER]
    if not rows:
        return ()
    doc = campaign.model_dump(exclude_unset=True)
    return tuple(row for row in rows if get_path(doc, row.path) in (MISSING, None))


# --- the live side ---------------------------------------------------------------------------


class Source(StrEnum):
    """Where a live value was found."""

    GET = "get"
    DEFAULT = "default"  # the API shows none: the documented default
    PAIRING = "pairing"  # a flow id named through the known pairings
    CONNECTION = "connection"  # the voice list item's connection
    STATE = "state"  # what campaign-sync last wrote


@dataclass(frozen=True)
class LiveFacts:
    """What one live campaign shows, beyond its canonical view."""

    flow_id: str | None
    flow_name: str | None


def _shown(row: Field, doc: Mapping[str, Any], *, checked: bool) -> Any:
    for path in row.read_paths:
        raw = doc.get(path[0], MISSING) if len(path) == 1 else get_path(doc, path)
        if raw is MISSING or raw is None:
            continue
        if checked and not row.value.accepts(raw):
            continue
        return raw if row.value.plain else row.value.read(raw)
    return MISSING


def live_value(
    row: Field,
    doc: Mapping[str, Any],
    item: Mapping[str, Any],
    flows: FlowBook,
    applied: Mapping[str, Any] | None,
) -> tuple[Any, Source | None]:
    """One field's live value, canonical, and where it came from (``MISSING``, None if unknown).

    A flow id with no known name is ``(None, None)``: shown, but not nameable.
    """
    if row.read_back is ReadBack.SHOWN:
        value = _shown(row, doc, checked=False)
        if value is not MISSING:
            return value, Source.GET
        if row.live_default is not None:
            return row.live_default, Source.DEFAULT
        return MISSING, None
    if row.read_back is ReadBack.PAIRED and row.id_path is not None:
        flow_id = get_path(doc, row.id_path)
        if not isinstance(flow_id, str) or not flow_id:
            flow_id = get_path(item, row.id_path)
        if isinstance(flow_id, str) and flow_id:
            name = flows.name_of(flow_id)
            if name is not None:
                return name, Source.PAIRING
            connection = item.get("connection")
            if row.connection and isinstance(connection, str) and connection:
                return connection, Source.CONNECTION
            return None, None
    value = _shown(row, doc, checked=True)
    if value is not MISSING:
        return value, Source.GET
    connection = item.get("connection")
    if row.read_back is ReadBack.CONNECTION and isinstance(connection, str) and connection:
        return connection, Source.CONNECTION
    if row.read_back in (ReadBack.CONNECTION, ReadBack.NEVER) and applied:
        kept = get_path(applied, row.path)
        if kept is not MISSING and kept is not None:
            return kept, Source.STATE
    return MISSING, None


def live_rows(ctype: CampaignType, mode: Mode | None) -> tuple[Field, ...]:
    """The compared rows of a live campaign's mode (every mode's shared rows if the mode is unknown)."""
    if mode is not None:
        return mode.compared_fields
    shared = set.intersection(*({r.path for r in m.compared()} for m in ctype.modes))
    return tuple(r for r in ctype.fields if r.path in shared)


def live_view(
    campaign_type: str,
    doc: Mapping[str, Any],
    list_item: Mapping[str, Any] | None,
    flows: FlowBook,
    applied: Mapping[str, Any] | None = None,
) -> tuple[View, LiveFacts]:
    """A live campaign (full GET document plus its list item), in the canonical shape.

    Values the API accepts but never shows (voice ``queue_name``, the Agentless machine-detect
    choice) come from the list item's ``connection`` when it has them, else from ``applied``
    (what campaign-sync last wrote), so they never show as a change on every plan.
    """
    item = list_item or {}
    ctype = REGISTRY.get(campaign_type)
    mode = ctype.mode_of(doc, item)
    out: View = {}
    flow_id: str | None = None
    flow_name: str | None = None
    # Most fields are SHOWN and nest two or three deep under a few groups: their reading and
    # writing is inlined here (this runs for every campaign), with the document's groups looked up
    # once (``shown_in``) and the view's made once (``made``): what ``_shown`` and ``set_path``
    # row by row would give. The rows come unpacked once per mode (``Mode.reading``), so the loop
    # does no attribute lookups or path slicing of its own.
    shown_in: dict[Path, Any] = {}
    made: dict[Path, View] = {}
    rows = mode.reading if mode is not None else readings(live_rows(ctype, None))
    for row, reads, read, default, parent, name in rows:
        if reads is not None:  # ReadBack.SHOWN
            value = MISSING
            for where, leaf in reads:
                if where:
                    group = shown_in.get(where, MISSING)
                    if group is MISSING:
                        group = shown_in[where] = get_path(doc, where)
                    if group.__class__ is dict:
                        raw = group.get(leaf, MISSING)
                    else:
                        raw = get_path(group, (leaf,)) if group is not MISSING else MISSING
                else:
                    raw = doc.get(leaf, MISSING)
                if raw is not MISSING and raw is not None:
                    value = raw if read is None else read(raw)
                    break
            if value is MISSING:
                value = default
                if value is None:
                    continue
            if not parent:
                out[name] = value
                continue
            node = made.get(parent)
            if node is None:
                node = out
                for part in parent:  # as set_path makes them
                    child = node.get(part)
                    if not isinstance(child, dict):
                        child = node[part] = {}
                    node = child
                made[parent] = node
            node[name] = value
            continue
        value, source = live_value(row, doc, item, flows, applied)
        if row.read_back is ReadBack.PAIRED and row.id_path is not None:
            shown = get_path(doc, row.id_path)
            if not isinstance(shown, str) or not shown:
                shown = get_path(item, row.id_path)
            if isinstance(shown, str) and shown:
                flow_id, flow_name = shown, value
                set_path(out, row.path, value)  # None: an id with no known name
                continue
        if value is not MISSING and source is not None:
            set_path(out, row.path, value)
    return out, LiveFacts(flow_id, flow_name)


def project(live: Any, desired: Any) -> Any:
    """``live`` cut down to what ``desired`` declares (recursively, for plain mappings).

    Calling-hour days are compared whole (a day missing on one side is a change), as are lists.
    """
    kinds = type(live), type(desired)
    if kinds[0] in _LEAVES or kinds[1] in _LEAVES:  # the common cases by exact type: no abstract
        return live  # isinstance checks, which cost most of a plan's projections
    if kinds == (dict, dict) or (isinstance(live, Mapping) and isinstance(desired, Mapping)):
        return {
            key: live[key] if key == "days" else project(live[key], desired[key])
            for key in desired
            if key in live
        }
    return live


def content_hash(doc: Mapping[str, Any]) -> str:
    """A stable hash of a live document's content, ignoring bookkeeping that moves on its own."""
    content = {k: v for k, v in doc.items() if k not in VOLATILE}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

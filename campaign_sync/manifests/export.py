"""Live campaigns as manifest YAML: the pure half of ``campaign-sync export``.

``manifest_fields`` turns one live campaign (its full GET document plus its list item) into the
fields a person would write, in the order a person writes them (key, campaignType, name,
description, lists, priority, mode, flow or queue, message, dialing strategy, schedule), with
every value in the spelling the manifests use: priority a number, SMS text decoded to plain
text, times ``h:mm AM``, phone numbers E.164, days sorted MO..SU.

Experience flows are written by name where the pairing is known (the config's
``experienceFlows``, the pairings learned in state, and for Agentless voice the list item's
``connection``). An id without a known name becomes the visible placeholder
``"REPLACE-WITH-FLOW-NAME cf-..."`` with a comment on its line saying how to fill it in; the
file still validates, so the placeholder cannot hide, and each one is reported as a warning.

Keys are slugs of the names, unique among themselves and the keys already taken (existing
manifests); a campaign the state already manages keeps its state key when it is free.

``render`` writes the YAML itself rather than through a generic dumper, so the layout is the
one in ``manifests/`` (flow mappings for short mappings and for each calling-hours day, quoted
times and phone numbers) and byte-identical for identical input. Every rendered file is parsed
back with our own safe loader and must give exactly the data it was made from.

Pure: no I/O, no clock; imports only normalisation, models and the YAML loader.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.fields import MISSING, Field, ReadBack, get_path, set_path
from campaign_sync.core.normalize import FlowBook, Source, live_value
from campaign_sync.errors import CampaignTypeError
from campaign_sync.manifests.yamlsafe import YamlProblem, load

FLOW_PLACEHOLDER = "REPLACE-WITH-FLOW-NAME"
QUEUE_PLACEHOLDER = "REPLACE-WITH-QUEUE-NAME"
_PLACEHOLDER = "REPLACE-WITH-"
LAYOUTS = ("per-campaign", "per-type")
KEY_MAX = 64
#: Mappings short enough to read on one line.
_FLOW_STYLE = frozenset({"dncLists", "callerId", "schedule"})
#: Values always written in double quotes, as in the examples: times, phone numbers, SMS text.
_ALWAYS_QUOTED = frozenset({"phoneNumber", "start", "end", "message"})
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/()&+'@!?-]*$")
_NON_PRINTABLE = re.compile(
    r"[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x85\u2028\u2029\ufeff]"
)


class ExportProblem(Exception):
    """A live campaign that cannot be written as a manifest (an unknown format or mode)."""


@dataclass(frozen=True)
class LiveRecord:
    """One live campaign as read: list item and full document."""

    id: str
    campaign_type: str
    name: str
    doc: Mapping[str, Any]
    item: Mapping[str, Any]


@dataclass(frozen=True)
class Placeholder:
    """A value export could not know; written as ``REPLACE-WITH-...`` and reported."""

    field: str
    value: str
    comment: str
    warning: str


@dataclass(frozen=True)
class ExportedCampaign:
    key: str
    campaign_type: str
    name: str
    id: str
    fields: dict[str, Any]
    placeholders: tuple[Placeholder, ...] = ()

    @property
    def comments(self) -> dict[str, str]:
        return {p.field: p.comment for p in self.placeholders}


# --- keys ------------------------------------------------------------------------------------


def slug(name: str) -> str:
    """A manifest key from a campaign name: ``[a-z0-9][a-z0-9._-]{0,63}``, ``campaign`` if nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9._-]+", "-", ascii_text)
    text = re.sub(r"-{2,}", "-", text).strip("-._")
    return text[:KEY_MAX].rstrip("-._") or "campaign"


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: KEY_MAX - len(suffix)].rstrip("-._") + suffix
        if candidate not in taken:
            return candidate
        n += 1


def assign_keys(
    records: Sequence[LiveRecord], taken: Iterable[str], state_keys: Mapping[str, str]
) -> dict[str, str]:
    """Campaign id -> key. State keys are kept when free; the rest are unique slugs of the names.

    Deterministic: campaigns are taken in (type, name, id) order, so ``Promo!`` and ``promo``
    always get ``promo`` and ``promo-2`` the same way round.
    """
    used = set(taken)
    keys: dict[str, str] = {}
    ordered = sorted(records, key=lambda r: (r.campaign_type, r.name.lower(), r.name, r.id))
    for record in ordered:
        kept = state_keys.get(record.id)
        if kept is not None and kept not in used:
            keys[record.id] = kept
            used.add(kept)
    for record in ordered:
        if record.id not in keys:
            keys[record.id] = _unique(slug(record.name), used)
            used.add(keys[record.id])
    return keys


# --- one campaign ----------------------------------------------------------------------------


def _flow_placeholder(record: LiveRecord) -> Placeholder:
    flow_id = record.doc.get("experienceFlow") or record.item.get("experienceFlow")
    if isinstance(flow_id, str) and flow_id:
        value = f"{FLOW_PLACEHOLDER} {flow_id}"
        return Placeholder(
            "experienceFlowName",
            value,
            "flow name unknown: find the name of this flow id among the Experience Flows in Kore.ai, "
            "or pair it under experienceFlows in campaign-sync.yaml and export again",
            f"experience flow {flow_id} has no known name; wrote the placeholder {value!r}",
        )
    return Placeholder(
        "experienceFlowName",
        FLOW_PLACEHOLDER,
        "the live campaign shows no experience flow: write the flow's name here",
        f"no experience flow on the live campaign; wrote the placeholder {FLOW_PLACEHOLDER!r}",
    )


def _queue_placeholder() -> Placeholder:
    return Placeholder(
        "queueName",
        QUEUE_PLACEHOLDER,
        "the API did not show the queue of this campaign: write the agent queue's name here",
        f"the queue is not shown by the API; wrote the placeholder {QUEUE_PLACEHOLDER!r}",
    )


def _placeholder(row: Field, record: LiveRecord) -> Placeholder | None:
    """A value a required field needs that the API does not show (the flow's name, the queue)."""
    if row.read_back is ReadBack.PAIRED:
        return _flow_placeholder(record)
    if row.read_back is ReadBack.CONNECTION:
        return _queue_placeholder()
    return None


def manifest_fields(key: str, record: LiveRecord, flows: FlowBook) -> ExportedCampaign:
    """One live campaign as manifest fields, in the order a person writes them (the table's)."""
    doc, item = record.doc, record.item
    try:
        ctype = REGISTRY.get(record.campaign_type)
    except CampaignTypeError as exc:
        raise ExportProblem(str(exc)) from None
    mode = ctype.mode_of(doc, item)
    if mode is None:
        shown = doc.get(ctype.selector.name, item.get(ctype.selector.name))
        raise ExportProblem(f"unknown {ctype.selector.name} {shown!r} (known: {ctype.choices()})")
    out: dict[str, Any] = {"key": key, "campaignType": ctype.name}
    placeholders: list[Placeholder] = []
    for row in mode.compared():
        value, source = live_value(row, doc, item, flows, None)
        if row.path == ("name",) and value is MISSING:
            value, source = record.name, Source.GET
        if value is MISSING or value is None or source is None:
            hole = _placeholder(row, record) if row.required else None
            if hole is None:
                continue
            placeholders.append(hole)
            set_path(out, row.path, hole.value)
            continue
        raw = next((r for p in row.read_paths if (r := get_path(doc, p)) is not MISSING), MISSING)
        exported = row.value.export(raw) if source is Source.GET and raw is not None else None
        set_path(out, row.path, exported if exported is not None else row.value.to_manifest(value))
    return ExportedCampaign(key, ctype.name, str(out["name"]), record.id, out, tuple(placeholders))


# --- files -----------------------------------------------------------------------------------


def group(campaigns: Sequence[ExportedCampaign], layout: str) -> dict[str, list[ExportedCampaign]]:
    """File name -> its campaigns (sorted by key): ``<key>.yaml`` each, or ``sms.yaml`` / ``voice.yaml``."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    files: dict[str, list[ExportedCampaign]] = {}
    for campaign in sorted(campaigns, key=lambda c: c.key):
        name = f"{campaign.key}.yaml" if layout == "per-campaign" else f"{campaign.campaign_type}.yaml"
        files.setdefault(name, []).append(campaign)
    return dict(sorted(files.items()))


def render(campaigns: Sequence[ExportedCampaign], header: Sequence[str] = ()) -> str:
    """A manifest file holding ``campaigns``; parsed back, it gives exactly their fields."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines.append("campaigns:")
    for index, campaign in enumerate(campaigns):
        if index:
            lines.append("")
        body: list[str] = []
        _mapping(campaign.fields, 4, body, campaign.comments)
        body[0] = "  - " + body[0][4:]
        lines.extend(body)
    text = "\n".join(lines) + "\n"
    _check_round_trip(text, campaigns)
    return text


def _check_round_trip(text: str, campaigns: Sequence[ExportedCampaign]) -> None:
    try:
        data = load(text, "<export>")
    except YamlProblem as exc:  # pragma: no cover - a bug in the emitter
        raise AssertionError(f"export wrote YAML it cannot read back: line {exc.line}: {exc}") from None
    expected = {"campaigns": [c.fields for c in campaigns]}
    if data != expected:  # pragma: no cover - a bug in the emitter
        raise AssertionError("export wrote YAML that does not read back as the live values")


def _mapping(mapping: Mapping[str, Any], indent: int, lines: list[str], comments: Mapping[str, str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            if key in _FLOW_STYLE:
                lines.append(f"{pad}{key}: {_flow_mapping(value)}")
            else:
                lines.append(f"{pad}{key}:")
                _mapping(value, indent + 2, lines, {})
        elif isinstance(value, list):
            if all(not isinstance(v, Mapping | list) for v in value):
                items = ", ".join(_scalar(v, key, flow=True) for v in value)
                lines.append(f"{pad}{key}: [{items}]")
            else:
                lines.append(f"{pad}{key}:")
                lines.extend(f"{pad}  - {_flow_mapping(item)}" for item in value)
        else:
            line = f"{pad}{key}: {_scalar(value, key)}"
            comment = comments.get(key)
            lines.append(f"{line}  # {comment}" if comment else line)


def _flow_mapping(mapping: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v, k, flow=True)}" for k, v in mapping.items()) + "}"


def _scalar(value: Any, key: str, *, flow: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if key not in _ALWAYS_QUOTED and not text.startswith(_PLACEHOLDER) and _plain_ok(text):
        return text
    return quote(text)


@lru_cache(maxsize=4096)
def _plain_ok(text: str) -> bool:
    """True when ``text`` reads back as the same string, plain, in block and in flow context.

    Checked with our loader (YAML 1.2) and with PyYAML's YAML 1.1 one, which other tools use:
    ``yes``, ``2024-01-01`` or ``1_000`` are strings to the first but not to the second.
    """
    if not _PLAIN.match(text) or text != text.strip():
        return False
    probe = f"v: {text}\nf: [{text}]\n"
    try:
        ours = load(probe, "<scalar>")
        theirs = yaml.safe_load(probe)
    except (YamlProblem, yaml.YAMLError):
        return False
    return all(isinstance(d, dict) and d.get("v") == text and d.get("f") == [text] for d in (ours, theirs))


def quote(text: str) -> str:
    """A YAML double-quoted scalar; characters YAML cannot carry raw are escaped."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return _NON_PRINTABLE.sub(escape, json.dumps(text, ensure_ascii=False))

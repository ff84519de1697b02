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

from campaign_sync.core.normalize import FlowBook, decode_message, phone, time, timezone
from campaign_sync.manifests.models import DAYS, minutes_of
from campaign_sync.manifests.models.common import lower, title, upper
from campaign_sync.manifests.yamlsafe import YamlProblem, load

FLOW_PLACEHOLDER = "REPLACE-WITH-FLOW-NAME"
QUEUE_PLACEHOLDER = "REPLACE-WITH-QUEUE-NAME"
_PLACEHOLDER = "REPLACE-WITH-"
LAYOUTS = ("per-campaign", "per-type")
KEY_MAX = 64
_MACHINE_DETECT = frozenset({"no", "detect", "disconnect"})
_VOICE_NUMBERS = ("maxAttemptsPerRecord", "defaultRetryPeriod", "maxRingTime")
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


def _priority(value: Any) -> Any:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else None
    return int(text) if text in {"1", "2", "3", "4", "5"} else value


def _days(days: Any) -> list[dict[str, Any]]:
    out = [
        {"day": upper(d.get("day")), "start": time(d.get("start")), "end": time(d.get("end"))}
        for d in days
        if isinstance(d, Mapping)
    ]

    def order(day: dict[str, Any]) -> tuple[int, int, str]:
        where = DAYS.index(day["day"]) if day["day"] in DAYS else len(DAYS)
        try:
            start = minutes_of(day["start"])
        except (ValueError, AttributeError):
            start = -1
        return where, start, str(day["day"])

    return sorted(out, key=order)


def _strategy(strategy: Any, voice: bool) -> dict[str, Any]:
    if not isinstance(strategy, Mapping):
        return {}
    out: dict[str, Any] = {}
    caller = strategy.get("callerId")
    if isinstance(caller, Mapping) and caller.get("phoneNumber") is not None:
        out["callerId"] = {"phoneNumber": phone(caller["phoneNumber"])}
    if voice:
        if strategy.get("dialingOrder") is not None:
            out["dialingOrder"] = upper(strategy["dialingOrder"])
        for name in _VOICE_NUMBERS:
            if strategy.get(name) is not None:
                out[name] = strategy[name]
    hours = strategy.get("callingHours")
    if isinstance(hours, Mapping):
        shown: dict[str, Any] = {}
        if hours.get("frequency") is not None:
            shown["frequency"] = upper(hours["frequency"])
        if hours.get("timezone") is not None:
            shown["timezone"] = timezone(hours["timezone"])
        if isinstance(hours.get("days"), list):
            shown["days"] = _days(hours["days"])
        out["callingHours"] = shown
    return out


def _flow(record: LiveRecord, flows: FlowBook, agentless: bool) -> tuple[str, Placeholder | None]:
    doc, item = record.doc, record.item
    flow_id = doc.get("experienceFlow") or item.get("experienceFlow")
    if isinstance(flow_id, str) and flow_id:
        name = flows.name_of(flow_id)
        connection = item.get("connection")
        if name is None and agentless and isinstance(connection, str) and connection:
            name = connection
        if name is not None:
            return name, None
        value = f"{FLOW_PLACEHOLDER} {flow_id}"
        return value, Placeholder(
            "experienceFlowName",
            value,
            "flow name unknown: find the name of this flow id among the Experience Flows in Kore.ai, "
            "or pair it under experienceFlows in campaign-sync.yaml and export again",
            f"experience flow {flow_id} has no known name; wrote the placeholder {value!r}",
        )
    named = doc.get("experienceFlowName")
    if isinstance(named, str) and named:
        return named, None
    return FLOW_PLACEHOLDER, Placeholder(
        "experienceFlowName",
        FLOW_PLACEHOLDER,
        "the live campaign shows no experience flow: write the flow's name here",
        f"no experience flow on the live campaign; wrote the placeholder {FLOW_PLACEHOLDER!r}",
    )


def _queue(record: LiveRecord) -> tuple[str, Placeholder | None]:
    doc, item = record.doc, record.item
    for value in (doc.get("queue_name"), doc.get("queueName"), item.get("connection")):
        if isinstance(value, str) and value:
            return value, None
    return QUEUE_PLACEHOLDER, Placeholder(
        "queueName",
        QUEUE_PLACEHOLDER,
        "the API did not show the queue of this campaign: write the agent queue's name here",
        f"the queue is not shown by the API; wrote the placeholder {QUEUE_PLACEHOLDER!r}",
    )


def manifest_fields(key: str, record: LiveRecord, flows: FlowBook) -> ExportedCampaign:
    """One live campaign as manifest fields, in the order a person writes them."""
    doc = record.doc
    ctype = record.campaign_type
    out: dict[str, Any] = {"key": key, "campaignType": ctype, "name": str(doc.get("name", record.name))}
    out["description"] = str(doc.get("description") or "")
    lists = doc.get("contactLists", record.item.get("contactLists"))
    if isinstance(lists, list):
        out["contactLists"] = [str(n) for n in lists]
    dnc = doc.get("dncLists")
    if isinstance(dnc, Mapping) and dnc.get("name"):
        out["dncLists"] = {"name": str(dnc["name"])}
    out["priority"] = _priority(doc.get("priority"))
    placeholders: list[Placeholder] = []
    if ctype == "sms":
        fmt = lower(doc.get("format") or record.item.get("format"))
        if fmt not in {"simple", "advanced"}:
            raise ExportProblem(f"unknown SMS format {fmt!r}")
        out["format"] = fmt
        if fmt == "advanced":
            out["experienceFlowName"], hole = _flow(record, flows, agentless=False)
            placeholders.extend([hole] if hole else [])
        else:
            message = doc.get("message")
            shown: dict[str, Any] = {}
            if isinstance(message, Mapping):
                template = message.get("template_name") or message.get("templateName")
                if template:
                    shown["templateName"] = str(template)
                shown["message"] = decode_message(message.get("message"))
            out["message"] = shown
    else:
        mode = title(doc.get("dialingMode") or record.item.get("dialingMode"))
        if mode not in {"Agentless", "Progressive", "Preview"}:
            raise ExportProblem(f"unknown dialingMode {mode!r}")
        out["dialingMode"] = mode
        hole = None
        if mode == "Agentless":
            out["experienceFlowName"], hole = _flow(record, flows, agentless=True)
            machine = doc.get("enableMachineDetect")
            if isinstance(machine, str) and machine in _MACHINE_DETECT:
                out["enableMachineDetect"] = machine
        else:
            out["queueName"], hole = _queue(record)
            if mode == "Preview" and doc.get("maxSkips") is not None:
                out["maxSkips"] = doc["maxSkips"]
        placeholders.extend([hole] if hole else [])
    out["dialingStrategy"] = _strategy(doc.get("dialingStrategy"), voice=ctype == "voice")
    schedule = doc.get("schedule")
    enabled = isinstance(schedule, Mapping) and bool(schedule.get("isSchedulingEnabled", False))
    out["schedule"] = {"isSchedulingEnabled": enabled}
    return ExportedCampaign(key, ctype, out["name"], record.id, out, tuple(placeholders))


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

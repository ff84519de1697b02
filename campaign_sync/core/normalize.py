"""One canonical shape for both sides, before anything is compared; and the request bodies.

``desired_view`` (from a manifest campaign) and ``live_view`` (from the API's documents) return
the same shape, built by the same value functions, so two spellings of one value can never show
as a change:

* server-owned fields (``_id``, ``lname``, ``status``, timestamps, counters...) are dropped;
* priority is a string; times are ``h:mm AM``; phone numbers E.164; enums in the API's case;
* calling-hour days are a mapping keyed by day (``days[FR]``), contact lists a sorted list;
* SMS message text is compared decoded (the API stores base64, sometimes URL-encoded);
* an absent ``description`` is ``""``; an absent ``schedule`` is scheduling disabled;
* the experience flow is compared by name, through the known name <-> ``cf-`` id pairings.

Only what the manifest declares is compared: :func:`project` cuts the live view down to the
keys of the desired view. Request bodies are built in ``bodies.py``.

Pure: no I/O, no clock; imports only models and errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from campaign_sync.manifests.models import Campaign, minutes_of
from campaign_sync.manifests.models.common import (
    canonical_phone,
    canonical_priority,
    canonical_time,
    canonical_timezone,
    lower,
    title,
    upper,
)

View = dict[str, Any]
FLOW_FIELD = "experienceFlowName"

#: Fields the server owns: never compared, never sent.
READ_ONLY = frozenset(
    {
        "_id",
        "id",
        "lname",
        "status",
        "createdAt",
        "updatedAt",
        "experienceFlow",
        "campaignInstanceId",
        "campaignInstanceUpdatedAt",
        "campaignExecutionType",
        "totalMessagesSent",
        "totalCallsCompleted",
        "isImported",
        "isFiltersEnabled",
        "connection",
        "useSystemMappings",
        "createdBy",
        "updatedBy",
    }
)


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


# --- values --------------------------------------------------------------------------------


def _try(func: Any, value: Any) -> Any:
    try:
        return func(value)
    except (ValueError, TypeError):
        return value


def priority(value: Any) -> Any:
    return _try(canonical_priority, value)


def time(value: Any) -> Any:
    return _try(canonical_time, value)


def phone(value: Any) -> Any:
    return _try(canonical_phone, value)


def timezone(value: Any) -> Any:
    return _try(canonical_timezone, value)


def decode_message(value: Any) -> Any:
    """The text of an SMS message as stored by the API: plain, base64 or URL-encoded base64."""
    if not isinstance(value, str):
        return value
    candidate = urllib.parse.unquote(value) if "%" in value else value
    compact = candidate.strip()
    if compact and len(compact) % 4 == 0:
        try:
            raw = base64.b64decode(compact, validate=True)
            text = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return value
        if text and all(c.isprintable() or c in "\n\r\t" for c in text):
            return text
    return value


def encode_message(text: str) -> str:
    """What the v2 API documents for ``message.message``: base64 of the UTF-8 text."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def days_view(days: Any) -> Any:
    """``[{day, start, end}, ...]`` -> ``{"MO": {"start", "end"}, "MO#2": {...}}`` (order-free)."""
    if not isinstance(days, list):
        return days
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in days:
        if not isinstance(item, Mapping):
            continue
        day = upper(item.get("day"))
        grouped.setdefault(str(day), []).append(
            {"start": time(item.get("start")), "end": time(item.get("end"))}
        )
    out: dict[str, Any] = {}
    for day, windows in grouped.items():
        windows.sort(key=lambda w: (_minutes(w["start"]), str(w["end"])))
        for index, window in enumerate(windows):
            out[day if index == 0 else f"{day}#{index + 1}"] = window
    return out


def _minutes(value: Any) -> int:
    try:
        return minutes_of(value)
    except (ValueError, AttributeError):
        return -1


def _calling_hours(hours: Any) -> Any:
    if not isinstance(hours, Mapping):
        return hours
    out: dict[str, Any] = {}
    if "frequency" in hours:
        out["frequency"] = upper(hours["frequency"])
    if "timezone" in hours:
        out["timezone"] = timezone(hours["timezone"])
    if "days" in hours:
        out["days"] = days_view(hours["days"])
    return out


_STRATEGY_VALUES = {
    "dialingOrder": upper,
    "maxAttemptsPerRecord": None,
    "defaultRetryPeriod": None,
    "maxRingTime": None,
}


def _strategy(strategy: Any) -> Any:
    if not isinstance(strategy, Mapping):
        return strategy
    out: dict[str, Any] = {}
    caller = strategy.get("callerId")
    if isinstance(caller, Mapping) and "phoneNumber" in caller:
        out["callerId"] = {"phoneNumber": phone(caller["phoneNumber"])}
    if "callingHours" in strategy:
        out["callingHours"] = _calling_hours(strategy["callingHours"])
    for key, func in _STRATEGY_VALUES.items():
        if key in strategy:
            out[key] = func(strategy[key]) if func else strategy[key]
    return out


def _common(doc: Mapping[str, Any]) -> View:
    """The canonical view of the fields both sides spell the same way."""
    out: View = {}
    if "name" in doc:
        out["name"] = doc["name"]
    out["description"] = doc.get("description") or ""
    if "contactLists" in doc:
        lists = doc["contactLists"]
        out["contactLists"] = (
            sorted(lists, key=lambda n: (str(n).lower(), str(n))) if isinstance(lists, list) else lists
        )
    dnc = doc.get("dncLists")
    if isinstance(dnc, Mapping) and dnc.get("name"):
        out["dncLists"] = {"name": dnc["name"]}
    if "priority" in doc:
        out["priority"] = priority(doc["priority"])
    if "format" in doc:
        out["format"] = lower(doc["format"])
    if "dialingMode" in doc:
        out["dialingMode"] = title(doc["dialingMode"])
    if "dialingStrategy" in doc:
        out["dialingStrategy"] = _strategy(doc["dialingStrategy"])
    schedule = doc.get("schedule")
    out["schedule"] = {
        "isSchedulingEnabled": bool(schedule.get("isSchedulingEnabled", False))
        if isinstance(schedule, Mapping)
        else False
    }
    if "maxSkips" in doc:
        out["maxSkips"] = doc["maxSkips"]
    return out


# --- the two views ---------------------------------------------------------------------------


def desired_view(campaign: Campaign) -> View:
    """The manifest's campaign, canonical, holding only the fields the manifest sets."""
    doc = campaign.model_dump(exclude_unset=True, exclude={"key", "campaignType"})
    out = _common(doc)
    if "description" not in doc:
        out.pop("description")
    if "schedule" not in doc:
        out.pop("schedule")
    message = doc.get("message")
    if isinstance(message, Mapping):
        view: dict[str, Any] = {"message": message["message"]}
        if message.get("templateName") is not None:
            view["templateName"] = message["templateName"]
        out["message"] = view
    for key in ("queueName", FLOW_FIELD):
        if key in doc:
            out[key] = doc[key]
    if doc.get("enableMachineDetect") is not None:
        out["enableMachineDetect"] = doc["enableMachineDetect"]
    return out


@dataclass(frozen=True)
class LiveFacts:
    """What one live campaign shows, beyond its canonical view."""

    flow_id: str | None
    flow_name: str | None


def live_view(
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
    out = _common(doc)
    message = doc.get("message")
    if isinstance(message, Mapping):
        view: dict[str, Any] = {"message": decode_message(message.get("message"))}
        template = message.get("template_name", message.get("templateName"))
        if template:
            view["templateName"] = template
        out["message"] = view
    mode = title(doc.get("dialingMode") or item.get("dialingMode"))
    connection = item.get("connection")
    flow_id = doc.get("experienceFlow") or item.get("experienceFlow")
    flow_name = None
    if isinstance(flow_id, str) and flow_id:
        flow_name = flows.name_of(flow_id)
        if flow_name is None and mode == "Agentless" and isinstance(connection, str) and connection:
            flow_name = connection
        out[FLOW_FIELD] = flow_name
    if mode in {"Progressive", "Preview"}:
        queue = doc.get("queue_name") or doc.get("queueName") or connection
        if not queue and applied:
            queue = applied.get("queueName")
        if queue:
            out["queueName"] = queue
    machine = doc.get("enableMachineDetect")
    if mode == "Agentless":
        if isinstance(machine, str) and machine in {"no", "detect", "disconnect"}:
            out["enableMachineDetect"] = machine
        elif applied and "enableMachineDetect" in applied:
            out["enableMachineDetect"] = applied["enableMachineDetect"]
    return out, LiveFacts(flow_id if isinstance(flow_id, str) else None, flow_name)


def project(live: Any, desired: Any) -> Any:
    """``live`` cut down to what ``desired`` declares (recursively, for plain mappings).

    Calling-hour days are compared whole (a day missing on one side is a change), as are lists.
    """
    if isinstance(live, Mapping) and isinstance(desired, Mapping):
        return {
            key: live[key] if key == "days" else project(live[key], desired[key])
            for key in desired
            if key in live
        }
    return live


#: Bookkeeping the server changes without anyone editing the campaign.
VOLATILE = frozenset(
    {
        "updatedAt",
        "status",
        "campaignInstanceId",
        "campaignInstanceUpdatedAt",
        "campaignExecutionType",
        "totalMessagesSent",
        "totalCallsCompleted",
    }
)


def content_hash(doc: Mapping[str, Any]) -> str:
    """A stable hash of a live document's content, ignoring bookkeeping that moves on its own."""
    content = {k: v for k, v in doc.items() if k not in VOLATILE}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

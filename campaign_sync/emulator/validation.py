"""The documented request rules (reference §5.1, §5.2, §6, §11) and the stored shape they produce.

``build_campaign`` turns a create or update body into the writable part of a stored document, or
raises ``ApiError(400, ...)`` with one message per problem, each naming the field. Unknown fields
are ignored and not stored (the platform is lenient about extra fields).
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

from .registry import Registries
from .store import Doc
from .wire import ApiError

CAMPAIGN_TYPES = ("sms", "voice")
PRIORITIES = ("1", "2", "3", "4", "5")
FORMATS = ("simple", "advanced")
FREQUENCIES = ("WEEKLY", "DAILY", "CUSTOM")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DIALING_MODES = ("Agentless", "Progressive", "Preview")
DIALING_ORDERS = ("FIFO", "LIFO")
AMD_V2 = ("no", "detect", "disconnect")
NAME_MAX = 48
DESCRIPTION_MAX = 256
MAX_CONTACT_LISTS = 10
VOICE_RANGES = {
    "maxAttemptsPerRecord": (1, 100),
    "defaultRetryPeriod": (1, 1440),
    "maxRingTime": (5, 120),
}
MAX_SKIPS_RANGE = (0, 100)

_TIME = re.compile(r"^(0?[1-9]|1[0-2]):([0-5][0-9]) ([AaPp][Mm])$")
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


def one_of(values: tuple[str, ...]) -> str:
    return ", ".join(values)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def is_timezone(value: Any) -> bool:
    return isinstance(value, str) and value in _zones()


def minutes_of_day(value: str) -> int | None:
    """``"9:00 AM"`` -> 540; ``12:xx AM`` is just after midnight. None when the format is wrong."""
    match = _TIME.match(value)
    if match is None:
        return None
    hour, minute, half = int(match.group(1)) % 12, int(match.group(2)), match.group(3).upper()
    return (hour + (12 if half == "PM" else 0)) * 60 + minute


def as_int(value: Any) -> int | None:
    """A JSON integer (``3`` or ``3.0``), never a bool or a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def priority_text(value: Any) -> str | None:
    """``"5"`` or ``5`` -> ``"5"``; anything else -> None."""
    if isinstance(value, str) and value in PRIORITIES:
        return value
    number = as_int(value)
    return str(number) if number is not None and 1 <= number <= 5 else None


class _Checker:
    """Collects problems while reading one body."""

    def __init__(self, registries: Registries) -> None:
        self.registries = registries
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def text(
        self, obj: dict[str, Any], key: str, label: str, *, required: bool, limit: int = 0
    ) -> str | None:
        if key not in obj or obj[key] is None:
            if required:
                self.add(f"{label} is required")
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.add(f"{label} must be a string")
            return None
        if required and not value.strip():
            self.add(f"{label} must not be empty")
            return None
        if limit and len(value) > limit:
            self.add(f"{label} must be at most {limit} characters")
            return None
        return value

    def choice(self, obj: dict[str, Any], key: str, label: str, values: tuple[str, ...]) -> str | None:
        if key not in obj or obj[key] is None:
            self.add(f"{label} is required")
            return None
        if obj[key] not in values:
            self.add(f"{label} must be one of {one_of(values)}")
            return None
        return str(obj[key])

    def obj(
        self, parent: dict[str, Any], key: str, label: str, *, required: bool = True
    ) -> dict[str, Any] | None:
        if key not in parent or parent[key] is None:
            if required:
                self.add(f"{label} is required")
            return None
        if not isinstance(parent[key], dict):
            self.add(f"{label} must be an object")
            return None
        value: dict[str, Any] = parent[key]
        return value

    def ranged(self, obj: dict[str, Any], key: str, label: str, bounds: tuple[int, int]) -> int | None:
        low, high = bounds
        if key not in obj or obj[key] is None:
            self.add(f"{label} is required")
            return None
        number = as_int(obj[key])
        if number is None or not low <= number <= high:
            self.add(f"{label} must be an integer between {low} and {high}")
            return None
        return number

    def resolve(self, kind: str, name: str, label: str, what: str) -> str | None:
        found = self.registries.table(kind).get(name)
        if found is None:
            self.add(f'{label}: {what} "{name}" not found' if label else f'{what} "{name}" not found')
        return found


def _calling_hours(check: _Checker, strategy: dict[str, Any]) -> dict[str, Any] | None:
    hours = check.obj(strategy, "callingHours", "dialingStrategy.callingHours")
    if hours is None:
        return None
    label = "dialingStrategy.callingHours"
    frequency = check.choice(hours, "frequency", f"{label}.frequency", FREQUENCIES)
    timezone = hours.get("timezone")
    if timezone is None:
        check.add(f"{label}.timezone is required")
    elif not is_timezone(timezone):
        check.add(f"{label}.timezone must be a valid IANA time zone such as Asia/Kolkata")
    days = hours.get("days")
    stored_days: list[dict[str, str]] = []
    if not isinstance(days, list) or not days:
        check.add(f"{label}.days must be a non-empty array of {{day, start, end}}")
        days = []
    for index, entry in enumerate(days):
        where = f"{label}.days[{index}]"
        if not isinstance(entry, dict):
            check.add(f"{where} must be an object with day, start and end")
            continue
        day = check.choice(entry, "day", f"{where}.day", DAYS)
        times: dict[str, int] = {}
        for key in ("start", "end"):
            value = entry.get(key)
            minutes = minutes_of_day(value) if isinstance(value, str) else None
            if minutes is None:
                check.add(f'{where}.{key} must be a time like "9:00 AM" (h:mm AM|PM)')
            else:
                times[key] = minutes
        if len(times) == 2 and times["start"] >= times["end"]:
            check.add(f"{where}.start must be before {where}.end")
        if day is not None and len(times) == 2:
            stored_days.append({"day": day, "start": entry["start"], "end": entry["end"]})
    if frequency is None or not is_timezone(timezone) or len(stored_days) != len(days):
        return None
    return {"frequency": frequency, "timezone": timezone, "days": stored_days}


def _dialing_strategy(check: _Checker, body: dict[str, Any], campaign_type: str) -> dict[str, Any] | None:
    strategy = check.obj(body, "dialingStrategy", "dialingStrategy")
    if strategy is None:
        return None
    caller = check.obj(strategy, "callerId", "dialingStrategy.callerId")
    phone = None
    if caller is not None:
        phone = check.text(caller, "phoneNumber", "dialingStrategy.callerId.phoneNumber", required=True)
        if phone is not None and not _E164.match(phone):
            check.add("dialingStrategy.callerId.phoneNumber must be an E.164 number such as +14155550100")
            phone = None
    hours = _calling_hours(check, strategy)
    stored: dict[str, Any] = {"callerId": {"phoneNumber": phone}, "callingHours": hours}
    if campaign_type == "voice":
        stored["dialingOrder"] = check.choice(
            strategy, "dialingOrder", "dialingStrategy.dialingOrder", DIALING_ORDERS
        )
        for key, bounds in VOICE_RANGES.items():
            stored[key] = check.ranged(strategy, key, f"dialingStrategy.{key}", bounds)
    return stored


def _schedule(check: _Checker, body: dict[str, Any]) -> dict[str, Any]:
    schedule = check.obj(body, "schedule", "schedule", required=False) or {}
    enabled = schedule.get("isSchedulingEnabled", False)
    if not isinstance(enabled, bool):
        check.add("schedule.isSchedulingEnabled must be a boolean")
        enabled = False
    return {"isSchedulingEnabled": enabled, "isRecurrenceEnabled": False}


def _sms_content(check: _Checker, body: dict[str, Any], doc: Doc) -> None:
    fmt = check.choice(body, "format", "format", FORMATS)
    doc["format"] = fmt
    if fmt is None:
        return  # the content rules depend on the format
    if fmt == "advanced":
        flow = check.text(body, "experienceFlowName", "experienceFlowName", required=True)
        if flow is not None:
            doc["experienceFlowName"] = flow
            doc["experienceFlow"] = check.resolve("flows", flow, "", "experience flow")
        return
    message = check.obj(body, "message", "message")
    if message is None:
        return
    stored: dict[str, Any] = {}
    template = check.text(message, "template_name", "message.template_name", required=False)
    if template is not None:
        stored["template_name"] = template
    text = check.text(message, "message", "message.message", required=True)
    if text is not None:
        stored["message"] = text
    template_id = check.text(message, "templateId", "message.templateId", required=False)
    if template_id is not None:
        stored["templateId"] = template_id
    if template is not None:
        stored["templateId"] = check.resolve("templates", template, "message.template_name", "template")
    doc["message"] = stored


def _voice_content(check: _Checker, body: dict[str, Any], doc: Doc, version: int) -> None:
    mode = check.choice(body, "dialingMode", "dialingMode", DIALING_MODES)
    doc["dialingMode"] = mode
    if mode == "Agentless":
        flow = check.text(body, "experienceFlowName", "experienceFlowName", required=True)
        if flow is not None:
            doc["experienceFlowName"] = flow
            doc["experienceFlow"] = check.resolve("flows", flow, "", "experience flow")
    elif mode in ("Progressive", "Preview"):
        queue = body.get("queue_name")
        if queue is None:
            check.add("queue_name is required for Progressive and Preview campaigns")
        elif not isinstance(queue, str) or not queue:
            check.add("queue_name must be a queue name")
        else:
            doc["queue_name"] = queue
            check.resolve("queues", queue, "queue_name", "queue")
        if mode == "Preview":
            if body.get("maxSkips") is None:
                check.add("maxSkips is required for Preview campaigns")
            else:
                doc["maxSkips"] = check.ranged(body, "maxSkips", "maxSkips", MAX_SKIPS_RANGE)
    amd = body.get("enableMachineDetect")
    if amd is None:
        return
    if version == 1:
        if not isinstance(amd, bool):
            check.add("enableMachineDetect must be a boolean")
        doc["enableMachineDetect"] = amd
    elif mode == "Agentless":  # v2 Progressive/Preview dropped AMD: the field is ignored there
        if amd not in AMD_V2:
            check.add(f"enableMachineDetect must be one of {one_of(AMD_V2)}")
        doc["enableMachineDetect"] = amd


def build_campaign(
    body: Any,
    *,
    registries: Registries,
    version: int = 2,
    campaign_type: str | None = None,
    query_type: str | None = None,
) -> Doc:
    """Validate a create/update body; return the writable fields in stored form.

    ``campaign_type`` is the stored type on update (the body may not change it); ``query_type`` is
    the ``campaignType`` query parameter on create, which must agree with the body when present.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    check = _Checker(registries)
    ctype = check.choice(body, "campaignType", "campaignType", CAMPAIGN_TYPES)
    if ctype is not None and campaign_type is not None and ctype != campaign_type:
        check.add(f"campaignType cannot be changed (the campaign is {campaign_type})")
    if ctype is not None and query_type is not None and ctype != query_type:
        check.add(f"campaignType in the body ({ctype}) does not match the campaignType query parameter")
    kind = campaign_type or ctype or "sms"
    name = check.text(body, "name", "name", required=True, limit=NAME_MAX)
    doc: Doc = {"campaignType": kind, "name": name, "lname": name.lower() if name else None}
    description_required = kind == "voice" or body.get("format") != "advanced"
    description = check.text(
        body, "description", "description", required=description_required, limit=DESCRIPTION_MAX
    )
    if description is not None:
        doc["description"] = description
    priority = body.get("priority")
    if priority is None:
        check.add("priority is required")
    elif priority_text(priority) is None:
        check.add('priority must be one of "1", "2", "3", "4", "5"')
    doc["priority"] = priority_text(priority)
    doc["contactLists"] = _contact_lists(check, body)
    if version == 2:
        dnc = check.obj(body, "dncLists", "dncLists", required=kind == "voice")
        if dnc is not None:
            dnc_name = check.text(dnc, "name", "dncLists.name", required=True)
            if dnc_name is not None:
                dnc_id = check.resolve("dncLists", dnc_name, "dncLists", "DNC list")
                doc["dncLists"] = {"name": dnc_name, "id": dnc_id}
    doc["dialingStrategy"] = _dialing_strategy(check, body, kind)
    doc["schedule"] = _schedule(check, body)
    if kind == "sms":
        _sms_content(check, body, doc)
    else:
        _voice_content(check, body, doc, version)
    if check.problems:
        raise ApiError(400, *check.problems)
    return doc


def _contact_lists(check: _Checker, body: dict[str, Any]) -> list[str]:
    lists = body.get("contactLists")
    if lists is None:
        check.add("contactLists is required")
        return []
    if not isinstance(lists, list) or not all(isinstance(item, str) and item for item in lists):
        check.add("contactLists must be an array of contact list names")
        return []
    if not 1 <= len(lists) <= MAX_CONTACT_LISTS:
        check.add(f"contactLists must contain 1 to {MAX_CONTACT_LISTS} names")
    for item in lists:
        check.resolve("contactLists", item, "contactLists", "contact list")
    return list(lists)


def derive(doc: Doc, registries: Registries) -> None:
    """Recompute server-derived fields after an out-of-band edit; unknown names raise a 400."""
    problems: list[str] = []
    if isinstance(doc.get("name"), str):
        doc["lname"] = doc["name"].lower()
    flow = doc.get("experienceFlowName")
    if isinstance(flow, str):
        flow_id = registries.flows.get(flow)
        if flow_id is None:
            problems.append(f'experience flow "{flow}" not found')
        doc["experienceFlow"] = flow_id
    dnc = doc.get("dncLists")
    if isinstance(dnc, dict) and isinstance(dnc.get("name"), str):
        dnc["id"] = registries.dncLists.get(dnc["name"], dnc.get("id"))
    message = doc.get("message")
    if isinstance(message, dict) and isinstance(message.get("template_name"), str):
        template_id = registries.templates.get(message["template_name"])
        if template_id is None:
            problems.append(f'message.template_name: template "{message["template_name"]}" not found')
        message["templateId"] = template_id
    if problems:
        raise ApiError(400, *problems)

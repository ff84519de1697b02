"""What each endpoint returns for a stored document, per API version (reference §5, §6, §9).

Quirks reproduced here, in one place:

* SMS documents carry ``_id``; voice create responses carry ``id``; SMS list items carry ``id``,
  voice list items ``_id``; everything on v1 carries ``id`` (§5.1, §5.2, §5.4, §12.8).
* SMS list items have no ``dialingStrategy`` and no ``lname`` but carry ``totalMessagesSent`` and
  ``campaignExecutionType``; voice list items carry ``connection`` (queue or flow *name*) (§5.4).
* Voice day objects come back as ``{start, end, day}`` with ``timezone`` after ``days``, and
  ``dialingStrategy.useSystemMappings: false`` is added (§5.2, §6.1).
* Voice ``dncLists`` gains ``id: "cl-..."``; SMS echoes only the name (§6.3).
* ``queue_name`` is never echoed; ``experienceFlowName`` comes back as ``experienceFlow`` (``cf-...``).
* v2 Agentless create responses echo ``enableMachineDetect: false`` whatever was requested; v1
  responses lack ``dncLists``/``isImported``/``isFiltersEnabled`` and SMS adds
  ``enableMachineDetect: false`` (§5.1, §5.2, §12.9).
* Create responses echo ``schedule`` as requested (no ``isRecurrenceEnabled``); voice create
  responses have no ``schedule`` at all (the §5.2 sample); GET fills ``isRecurrenceEnabled`` in.
"""

from __future__ import annotations

from typing import Any

from .store import Doc

Payload = dict[str, Any]

#: Views: "get" (GET, PUT, DELETE data), "create" (POST response), "list" (getAllCampaignDetails item).
VIEWS = ("get", "create", "list")


def _copy(node: Any) -> Any:
    """A copy of a stored JSON value that shares no dict or list with the store.

    Stored documents hold only what JSON parses to, so this walks dicts and lists and shares the
    rest (strings, numbers, booleans, None are immutable): the copy ``copy.deepcopy`` makes, without
    its memo, which cost most of a list page's rendering.
    """
    kind = node.__class__
    if kind is dict:
        return {key: _copy(value) for key, value in node.items()}
    if kind is list:
        return [_copy(value) for value in node]
    return node


def _strategy(doc: Doc) -> Payload:
    stored = doc.get("dialingStrategy") or {}
    hours = stored.get("callingHours") or {}
    caller = _copy(stored.get("callerId") or {})
    if doc.get("campaignType") != "voice":
        return {
            "callerId": caller,
            "callingHours": {
                "frequency": hours.get("frequency"),
                "timezone": hours.get("timezone"),
                "days": [
                    {"day": d["day"], "start": d["start"], "end": d["end"]} for d in hours.get("days", [])
                ],
            },
        }
    return {
        "callerId": caller,
        "callingHours": {
            "frequency": hours.get("frequency"),
            "days": [{"start": d["start"], "end": d["end"], "day": d["day"]} for d in hours.get("days", [])],
            "timezone": hours.get("timezone"),
        },
        "dialingOrder": stored.get("dialingOrder"),
        "maxAttemptsPerRecord": stored.get("maxAttemptsPerRecord"),
        "defaultRetryPeriod": stored.get("defaultRetryPeriod"),
        "maxRingTime": stored.get("maxRingTime"),
        "useSystemMappings": False,
    }


def _schedule(doc: Doc, view: str) -> Payload:
    stored = doc.get("schedule") or {}
    enabled = bool(stored.get("isSchedulingEnabled", False))
    if view == "create" or (view == "list" and doc.get("campaignType") == "voice"):
        return {"isSchedulingEnabled": enabled}
    return {
        "isSchedulingEnabled": enabled,
        "isRecurrenceEnabled": bool(stored.get("isRecurrenceEnabled", False)),
    }


def _dnc(doc: Doc) -> Payload | None:
    dnc = doc.get("dncLists")
    if not isinstance(dnc, dict):
        return None
    if doc.get("campaignType") == "voice":
        return {"id": dnc.get("id"), "name": dnc.get("name")}
    return {"name": dnc.get("name")}


def v1_machine_detect(doc: Doc) -> bool:
    """v1 speaks booleans: a stored v2 value counts as on unless it is ``"no"``."""
    value = doc.get("enableMachineDetect")
    if isinstance(value, bool):
        return value
    return value in ("detect", "disconnect")


def _put(out: Payload, key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _sms(doc: Doc, view: str, version: int) -> Payload:
    out: Payload = {}
    content_key = "experienceFlow" if doc.get("format") == "advanced" else "message"
    content = doc.get(content_key)
    run = ("campaignInstanceId", "campaignInstanceUpdatedAt")
    if view == "list":
        for key in ("name", "description", "status"):
            _put(out, key, doc.get(key))
        _put(out, "dncLists", _dnc(doc))
        out["priority"] = doc.get("priority")
        _put(out, content_key, _copy(content))
        out["createdAt"], out["updatedAt"] = doc.get("createdAt"), doc.get("updatedAt")
        out["schedule"] = _schedule(doc, view)
        _put(out, "campaignInstanceId", doc.get("campaignInstanceId"))
        out["id"] = doc["_id"]
        out["totalMessagesSent"] = int(doc.get("totalMessagesSent") or 0)
        _put(out, "campaignInstanceUpdatedAt", doc.get("campaignInstanceUpdatedAt"))
        out["campaignExecutionType"] = "NORMAL"
        out["contactLists"] = list(doc.get("contactLists") or [])
        out["format"] = doc.get("format")
    else:
        out["_id"] = doc["_id"]
        for key in ("name", "lname", "description", "status"):
            _put(out, key, doc.get(key))
        _put(out, "dncLists", _dnc(doc))
        out["priority"] = doc.get("priority")
        out["dialingStrategy"] = _strategy(doc)
        _put(out, content_key, _copy(content))
        out["isImported"] = bool(doc.get("isImported", False))
        out["isFiltersEnabled"] = bool(doc.get("isFiltersEnabled", False))
        out["createdAt"], out["updatedAt"] = doc.get("createdAt"), doc.get("updatedAt")
        out["schedule"] = _schedule(doc, view)
        out["contactLists"] = list(doc.get("contactLists") or [])
        out["format"] = doc.get("format")
        if view != "create":
            for key in run:
                _put(out, key, doc.get(key))
    if version == 1:
        out = _v1(out)
        out["enableMachineDetect"] = False
    return out


def _voice(doc: Doc, view: str, version: int, flow_name: str | None) -> Payload:
    out: Payload = {}
    mode = doc.get("dialingMode")
    if view != "create":
        out["_id"] = doc["_id"]
    for key in ("name",) if view == "list" else ("name", "lname"):
        out[key] = doc.get(key)
    _put(out, "description", doc.get("description"))
    _put(out, "dncLists", _dnc(doc))
    out["priority"] = doc.get("priority")
    out["dialingMode"] = mode
    if view != "list":
        out["dialingStrategy"] = _strategy(doc)
    _put(out, "experienceFlow", doc.get("experienceFlow") if mode == "Agentless" else None)
    out["status"] = doc.get("status")
    out["isFiltersEnabled"] = bool(doc.get("isFiltersEnabled", False))
    out["createdAt"], out["updatedAt"] = doc.get("createdAt"), doc.get("updatedAt")
    if view == "create":
        out["id"] = doc["_id"]
    elif view == "list":
        _put(out, "campaignInstanceUpdatedAt", doc.get("campaignInstanceUpdatedAt"))
        _put(out, "campaignInstanceId", doc.get("campaignInstanceId"))
        out["schedule"] = _schedule(doc, view)
        out["connection"] = flow_name if mode == "Agentless" else doc.get("queue_name")
    else:
        out["schedule"] = _schedule(doc, view)
    out["contactLists"] = list(doc.get("contactLists") or [])
    if view != "list" and mode == "Preview":
        _put(out, "maxSkips", doc.get("maxSkips"))
    if view == "get":
        _put(out, "campaignInstanceId", doc.get("campaignInstanceId"))
        _put(out, "campaignInstanceUpdatedAt", doc.get("campaignInstanceUpdatedAt"))
    if version == 1:
        out = _v1(out)
        out["enableMachineDetect"] = v1_machine_detect(doc)
    elif view == "create" and mode == "Agentless":
        out["enableMachineDetect"] = False
    return out


def _v1(out: Payload) -> Payload:
    """v1 documents: ``id`` instead of ``_id``; no ``dncLists``, ``isImported``, ``isFiltersEnabled``."""
    result: Payload = {}
    for key, value in out.items():
        if key in ("dncLists", "isImported", "isFiltersEnabled"):
            continue
        result["id" if key == "_id" else key] = value
    return result


def campaign(doc: Doc, *, view: str = "get", version: int = 2, flow_name: str | None = None) -> Payload:
    """The document as the API shows it in ``view`` on API ``version``.

    ``flow_name`` is the experience flow's name, used for a voice list item's ``connection``.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    if doc.get("campaignType") == "voice":
        return _voice(doc, view, version, flow_name or doc.get("experienceFlowName"))
    return _sms(doc, view, version)


def success(message: str, data: Any, **extra: Any) -> Payload:
    """The ``{"status": "success", "message": ..., "data": ...}`` envelope; ``extra`` goes before data."""
    return {"status": "success", "message": message, **extra, "data": data}

"""The campaign endpoints of the public API, v1 and v2 (reference §4, §5): routing and handlers.

Handlers run with ``store.lock`` held and return a ``Response`` or raise ``ApiError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import render
from .clock import parse_iso_ms
from .listing import DEFAULT_LIMIT, MAX_LIMIT, filter_docs, filtered, paging, sort_docs
from .store import CampaignStore, Doc
from .validation import CAMPAIGN_TYPES, DAYS, build_campaign, minutes_of_day
from .wire import ApiError, Request, Response

if TYPE_CHECKING:
    from .app import EmulatorApp

_V2 = r"^/campaign/api/v2/public/(?P<sid>[^/]+)/campaign"
_V2_BARE = r"^/api/v2/public/(?P<sid>[^/]+)/campaign"
_V1 = r"^/agentassist/api/v1/public/(?P<sid>[^/]+)/campaign"
_V1_TRIGGER = r"^/campaign/api/v1/public/(?P<sid>[^/]+)/campaign"
_ID = r"/(?P<id>[^/]+)/?$"

#: (method, path pattern, operation, API version); the first match wins.
ROUTES: list[tuple[str, re.Pattern[str], str, int]] = [
    (method, re.compile(pattern), op, version)
    for method, pattern, op, version in (
        ("POST", _V2 + r"/getAllCampaignDetails/?$", "list", 2),
        ("POST", _V1 + r"/getAllCampaignDetails/?$", "list", 1),
        ("POST", _V2 + r"/?$", "create", 2),
        ("POST", _V2_BARE + r"/?$", "create", 2),
        ("POST", _V1 + r"/?$", "create", 1),
        ("POST", _V2 + r"/schedule/?$", "schedule", 2),
        ("POST", _V2 + r"//?trigger" + _ID, "trigger", 2),
        ("POST", _V2_BARE + r"/trigger" + _ID, "trigger", 2),
        ("POST", _V2 + r"/(?P<id>[^/]+)/status/?$", "status", 2),
        ("POST", _V1 + r"/(?P<id>[^/]+)/status/?$", "status", 1),
        ("POST", _V2 + _ID, "trigger", 2),
        ("POST", _V1_TRIGGER + _ID, "trigger", 1),
        ("GET", _V2 + _ID, "get", 2),
        ("GET", _V1 + _ID, "get", 1),
        ("PUT", _V2 + _ID, "update", 2),
        ("PUT", _V1 + _ID, "update", 1),
        ("DELETE", _V2 + _ID, "delete", 2),
        ("DELETE", _V1 + _ID, "delete", 1),
    )
]

_SCHEDULE_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})$")


@dataclass
class Call:
    """One routed API call: the request, the path parameters, the version and the caller's account."""

    request: Request
    params: dict[str, str]
    version: int
    account: str


def route(method: str, path: str) -> tuple[str, dict[str, str], int] | None:
    for route_method, pattern, op, version in ROUTES:
        if route_method == method:
            match = pattern.match(path)
            if match:
                return op, match.groupdict(), version
    return None


def _query_type(call: Call) -> str:
    """The ``campaignType`` query parameter, which every documented create, update, delete and
    start/stop URL carries (reference §4): missing or empty is a 400, like any other value than
    ``sms`` or ``voice``."""
    value = call.request.query.get("campaignType")
    if not value:
        raise ApiError(400, "the campaignType query parameter is required (sms or voice)")
    if value not in CAMPAIGN_TYPES:
        raise ApiError(400, "campaignType must be one of sms, voice")
    return value


class CampaignApi:
    """Handlers for every routed operation, bound to one emulator."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.store = app.store
        self.handlers: dict[str, Callable[[Call], Response]] = {
            "list": self.list,
            "create": self.create,
            "get": self.get,
            "update": self.update,
            "delete": self.delete,
            "trigger": self.trigger,
            "status": self.status,
            "schedule": self.schedule,
        }

    def _campaign(self, call: Call) -> Doc:
        doc = self.store.get(call.account, call.params["id"])
        if doc is None:
            raise ApiError(404, "Campaign not found")
        return doc

    def _flow_name(self, doc: Doc) -> str | None:
        name = doc.get("experienceFlowName")
        return (
            name if isinstance(name, str) else self.store.registries.flow_name(str(doc.get("experienceFlow")))
        )

    def _normalize(self, doc: Doc) -> None:
        """The ``normalizeTimes`` setting: store times as ``09:00 AM`` and days in MO..SU order."""
        if not self.app.settings.normalizeTimes:
            return
        hours = doc["dialingStrategy"]["callingHours"]
        for day in hours["days"]:
            for key in ("start", "end"):
                minutes = minutes_of_day(day[key]) or 0
                hour, half = (minutes // 60) % 12 or 12, "AM" if minutes < 720 else "PM"
                day[key] = f"{hour:02d}:{minutes % 60:02d} {half}"
        hours["days"].sort(key=lambda d: DAYS.index(d["day"]))

    # ------------------------------------------------------------------ list

    def list(self, call: Call) -> Response:
        body = call.request.json_object()
        kind = body.get("type")
        if kind is None or kind == "":
            raise ApiError(400, "type is required")
        if kind not in CAMPAIGN_TYPES:
            raise ApiError(400, "type must be one of sms, voice")
        skip, page, limit = (paging(body, key) for key in ("skip", "page", "limit"))
        limit = min(limit if limit is not None else DEFAULT_LIMIT, MAX_LIMIT)
        if limit < 1:
            raise ApiError(400, "limit must be at least 1")
        if page is not None and page < 1:
            raise ApiError(400, "page must be at least 1")
        if skip is None:
            skip = (page - 1) * limit if page is not None else 0
        docs = self.store.ordered(call.account, kind)
        if filtered(body):
            docs = filter_docs([self.store.settle(d) for d in docs], body, kind)
        docs = sort_docs(docs, body.get("sortBy"))
        total = len(docs)
        window = [self.store.settle(d) for d in docs[skip : skip + limit]]
        results = [  # a flow's name is shown only on voice items (their ``connection``)
            render.campaign(
                d,
                view="list",
                version=call.version,
                flow_name=self._flow_name(d) if d.get("campaignType") == "voice" else None,
            )
            for d in window
        ]
        data = {
            "results": results,
            "skip": skip,
            "limit": limit,
            "hasMore": skip + len(results) < total,
            "totalPages": math.ceil(total / limit),
            "totalResults": total,
        }
        return Response.json(200, render.success("Campaign  retrieved successfully", data))

    # ------------------------------------------------------------------ CRUD

    def create(self, call: Call) -> Response:
        query_type = _query_type(call)
        body = call.request.json_object()
        doc = build_campaign(
            body, registries=self.store.registries, version=call.version, query_type=query_type
        )
        self._normalize(doc)
        kind, name = doc["campaignType"], doc["name"]
        if self.store.name_taken(call.account, kind, name):
            raise ApiError(409, f'a {kind} campaign named "{name}" already exists')
        doc["_id"] = self.store.new_campaign_id(kind)
        doc["isImported"] = False
        doc["isFiltersEnabled"] = False
        if kind == "sms":
            doc["status"] = "Ready"
            doc["totalMessagesSent"] = 0
        else:
            doc["status"] = "Preparing"
            doc["readyAt"] = self.store.clock.now() + self.app.settings.preparingSeconds
        self.store.stamp(doc, created=True)
        self.store.insert(call.account, doc)
        self.store.save()
        message = f"Campaign {name} creation in progress"
        if call.version == 1 and doc.get("dialingMode") == "Preview":
            payload = {
                "status": "success",
                "message": message,
                "id": doc["_id"],
                "data": {"campId": doc["_id"]},
            }
            return Response.json(200, payload)
        return Response.json(
            200, render.success(message, render.campaign(doc, view="create", version=call.version))
        )

    def get(self, call: Call) -> Response:
        doc = self._campaign(call)
        data = render.campaign(doc, version=call.version)
        return Response.json(200, render.success(f"Campaign {doc['name']} retrieved successfully", data))

    def update(self, call: Call) -> Response:
        _query_type(call)  # required; the stored type wins (the voice v2 page sends campaignType=sms)
        doc = self._campaign(call)
        if doc.get("status") in ("Active", "Preparing"):
            raise ApiError(409, f"Campaign {doc['name']} is {doc['status']} and cannot be updated")
        body = call.request.json_object()
        kind = doc["campaignType"]
        new = build_campaign(body, registries=self.store.registries, version=call.version, campaign_type=kind)
        self._normalize(new)
        if call.version == 1 and "dncLists" in doc:
            new["dncLists"] = doc["dncLists"]  # v1 has no dncLists field: keep the v2 value
        if self.store.name_taken(call.account, kind, new["name"], exclude=doc["_id"]):
            raise ApiError(409, f'a {kind} campaign named "{new["name"]}" already exists')
        kept = (
            "_id",
            "status",
            "createdAt",
            "updatedAt",
            "isImported",
            "isFiltersEnabled",
            "totalMessagesSent",
            "campaignInstanceId",
            "campaignInstanceUpdatedAt",
        )
        server_fields = {key: doc[key] for key in kept if key in doc}
        doc.clear()
        doc.update(new)
        doc.update(server_fields)
        doc["accountId"] = call.account
        self.store.stamp(doc)
        self.store.save()
        data = render.campaign(doc, version=call.version)
        message = f"Campaign {doc['name']} details updated successfully"
        extra = {"id": doc["_id"]} if kind == "voice" else {}
        return Response.json(200, render.success(message, data, **extra))

    def delete(self, call: Call) -> Response:
        _query_type(call)
        doc = self._campaign(call)
        if doc.get("status") == "Active":
            raise ApiError(409, f"Campaign {doc['name']} is Active and cannot be deleted; stop it first")
        self.store.remove(call.account, doc["_id"])
        self.store.save()
        data = render.campaign(doc, version=call.version)
        return Response.json(200, render.success(f"Campaign {doc['name']} deleted successfully", data))

    # ------------------------------------------------------------------ run control

    def trigger(self, call: Call) -> Response:
        trigger = call.request.query.get("trigger")
        if trigger not in ("play", "stop"):
            raise ApiError(400, "trigger must be one of play, stop")
        _query_type(call)
        doc = self._campaign(call)
        if trigger == "play":
            if doc.get("status") in ("Active", "Preparing"):
                raise ApiError(409, f"Campaign {doc['name']} is {doc['status']} and cannot be started")
            start_run(self.store, doc)
            payload: dict[str, Any] = {"status": "Active", "message": "Campaign Started"}
            if doc["campaignType"] == "voice":
                payload["totalCallsCompleted"] = 0
            payload["updatedAt"] = doc["updatedAt"]
            if doc["campaignType"] == "voice":
                payload["campaignInstanceId"] = doc["campaignInstanceId"]
        else:
            if doc.get("status") not in ("Active", "Paused"):
                raise ApiError(409, f"Campaign {doc['name']} is {doc.get('status')}, not running")
            stop_run(self.store, doc)
            payload = {"status": "Stopped", "message": "Campaign Stopped", "updatedAt": doc["updatedAt"]}
            if doc["campaignType"] == "voice":
                payload["campaignInstanceId"] = doc.get("campaignInstanceId")
            else:
                payload["campaignExecutionType"] = "NORMAL"
        self.store.save()
        return Response.json(200, payload)

    def status(self, call: Call) -> Response:
        doc = self._campaign(call)
        view = call.request.query.get("view", "status")
        if view == "status":
            data = {"id": doc["_id"], "status": doc.get("status"), "name": doc["name"]}
            return Response.json(200, {"status": "success", "data": data})
        if view != "contacts":
            raise ApiError(400, "view must be one of status, contacts")
        body = call.request.json_object()
        page, limit = paging(body, "page"), paging(body, "limit")
        if page is not None and page < 1:
            raise ApiError(400, "page must be an integer >= 1")
        if limit is not None and not 1 <= limit <= 100:
            raise ApiError(400, "limit must be an integer between 1 and 100")
        data = {"results": [], "page": page or 1, "limit": limit or 100, "totalPages": 0, "totalResults": 0}
        return Response.json(200, {"status": "success", "data": data})

    def schedule(self, call: Call) -> Response:
        query = call.request.query
        enable = query.get("enableSchedule")
        name = query.get("campaignName")
        if enable not in ("true", "false"):
            raise ApiError(400, "enableSchedule must be true or false")
        if not name:
            raise ApiError(400, "campaignName is required")
        doc = next((d for d in self.store.campaigns(call.account) if d.get("lname") == name.lower()), None)
        if doc is None:
            raise ApiError(404, "Campaign not found")
        body = call.request.json_object()
        if enable == "true":
            start, end = (_schedule_time(body, key) for key in ("startDateTime", "endDateTime"))
            if not isinstance(body.get("recurrenceObject"), dict):
                raise ApiError(400, "recurrenceObject is required")
            if end <= start or end <= self.store.clock.now_ms():
                raise ApiError(400, "endDateTime must be later than startDateTime and than now")
            doc["schedule"] = {
                "isSchedulingEnabled": True,
                "isRecurrenceEnabled": True,
                "startDateTime": body["startDateTime"],
                "endDateTime": body["endDateTime"],
                "recurrenceObject": body["recurrenceObject"],
            }
            if doc.get("status") in ("Ready", "Stopped", "Completed"):
                doc["status"] = "Scheduled"
            message = f"Campaign {doc['name']} scheduled successfully"
        else:
            doc["schedule"] = {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}
            if doc.get("status") == "Scheduled":
                doc["status"] = "Ready"
            message = f"Campaign {doc['name']} schedule has been disabled successfully"
        self.store.stamp(doc)
        self.store.save()
        return Response.json(200, {"status": "success", "message": message, "id": doc["_id"]})


def start_run(store: CampaignStore, doc: Doc) -> None:
    """Play: ``Active``, a new campaign instance, ``updatedAt`` bumped."""
    doc["status"] = "Active"
    doc["campaignInstanceId"] = store.new_instance_id()
    doc["campaignInstanceUpdatedAt"] = store.stamp(doc)


def stop_run(store: CampaignStore, doc: Doc) -> None:
    doc["status"] = "Stopped"
    doc["campaignInstanceUpdatedAt"] = store.stamp(doc)


def _schedule_time(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    match = _SCHEDULE_TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise ApiError(400, f"{key} must be a date-time like 2026-01-27 18:29:00")
    y, mo, d, h, mi, s = (int(part) for part in match.groups())
    stamp = parse_iso_ms(f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z")
    if stamp is None:
        raise ApiError(400, f"{key} is not a valid date-time")
    return stamp

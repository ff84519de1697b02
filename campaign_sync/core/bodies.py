"""Request bodies: the create body from a manifest, and the complete PUT body.

The API replaces the whole campaign on PUT, so ``put_body`` lays the manifest's fields over the
live campaign's writable fields: a field the manifest leaves out (unmanaged) is sent with its
live value and survives. Read-only fields are never sent. Pure, like ``normalize``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign_sync.core.normalize import FLOW_FIELD, READ_ONLY, FlowBook, encode_message, live_view
from campaign_sync.manifests.models import Campaign

_NOT_FOR = {
    ("sms", "simple"): {FLOW_FIELD, "queue_name", "maxSkips", "enableMachineDetect", "dialingMode"},
    ("sms", "advanced"): {"message", "queue_name", "maxSkips", "enableMachineDetect", "dialingMode"},
    ("voice", "Agentless"): {"message", "format", "queue_name", "maxSkips"},
    ("voice", "Progressive"): {"message", "format", FLOW_FIELD, "maxSkips", "enableMachineDetect"},
    ("voice", "Preview"): {"message", "format", FLOW_FIELD, "enableMachineDetect"},
}
_VOICE_STRATEGY = ("dialingOrder", "maxAttemptsPerRecord", "defaultRetryPeriod", "maxRingTime")


def _kind(campaign: Campaign) -> tuple[str, str]:
    mode = getattr(campaign, "format", None) or getattr(campaign, "dialingMode", "")
    return campaign.campaignType, str(mode)


def create_body(campaign: Campaign) -> dict[str, Any]:
    """The request body for the fields the manifest sets (the whole body on create)."""
    doc = campaign.model_dump(exclude_unset=True, exclude={"key"})
    body: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "message":
            message = {"message": encode_message(value["message"])}
            if value.get("templateName") is not None:
                message["template_name"] = value["templateName"]
            body["message"] = message
        elif key == "queueName":
            body["queue_name"] = value
        elif value is not None:
            body[key] = value
    body["campaignType"] = campaign.campaignType
    return body


def _live_request_fields(
    doc: Mapping[str, Any], item: Mapping[str, Any], flows: FlowBook, applied: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The live campaign's writable fields, spelled as a request."""
    body: dict[str, Any] = {}
    for key in ("name", "description", "contactLists", "priority", "format", "dialingMode", "maxSkips"):
        if doc.get(key) is not None:
            body[key] = doc[key]
    dnc = doc.get("dncLists")
    if isinstance(dnc, Mapping) and dnc.get("name"):
        body["dncLists"] = {"name": dnc["name"]}
    strategy = doc.get("dialingStrategy")
    if isinstance(strategy, Mapping):
        out: dict[str, Any] = {}
        caller = strategy.get("callerId")
        if isinstance(caller, Mapping) and caller.get("phoneNumber"):
            out["callerId"] = {"phoneNumber": caller["phoneNumber"]}
        hours = strategy.get("callingHours")
        if isinstance(hours, Mapping):
            out["callingHours"] = {
                "frequency": hours.get("frequency"),
                "timezone": hours.get("timezone"),
                "days": [
                    {"day": d.get("day"), "start": d.get("start"), "end": d.get("end")}
                    for d in hours.get("days") or []
                    if isinstance(d, Mapping)
                ],
            }
        for key in _VOICE_STRATEGY:
            if strategy.get(key) is not None:
                out[key] = strategy[key]
        body["dialingStrategy"] = out
    schedule = doc.get("schedule")
    if isinstance(schedule, Mapping) and "isSchedulingEnabled" in schedule:
        body["schedule"] = {"isSchedulingEnabled": bool(schedule["isSchedulingEnabled"])}
    message = doc.get("message")
    if isinstance(message, Mapping) and message.get("message") is not None:
        kept = {"message": message["message"]}
        template = message.get("template_name", message.get("templateName"))
        if template:
            kept["template_name"] = template
        body["message"] = kept
    view, facts = live_view(doc, item, flows, applied)
    if facts.flow_name:
        body[FLOW_FIELD] = facts.flow_name
    if view.get("queueName"):
        body["queue_name"] = view["queueName"]
    if view.get("enableMachineDetect"):
        body["enableMachineDetect"] = view["enableMachineDetect"]
    return body


def _overlay(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _overlay(dict(out[key]), value)
        else:
            out[key] = value
    return out


def put_body(
    campaign: Campaign,
    live_doc: Mapping[str, Any],
    list_item: Mapping[str, Any] | None,
    flows: FlowBook,
    applied: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The complete PUT body: the manifest's fields laid over the live campaign's writable fields.

    The API replaces the whole campaign on PUT, so a field the manifest leaves out (unmanaged)
    is sent with its live value and survives. Read-only fields are never sent; fields that do
    not belong to the campaign's format or dialing mode are dropped.
    """
    kind = _kind(campaign)
    body = _overlay(_live_request_fields(live_doc, list_item or {}, flows, applied), create_body(campaign))
    for key in _NOT_FOR.get(kind, set()) | READ_ONLY:
        body.pop(key, None)
    return body

"""Hypothesis strategies for campaign documents: manifests and live GET documents of every type and mode.

Values use the names the emulator's registries know (contact lists, DNC lists, flows, queues,
templates), so a generated manifest can be created on the emulator as it is.
"""

from __future__ import annotations

import base64
import string
import urllib.parse
from typing import Any

from hypothesis import strategies as st

from campaign_sync.emulator.registry import (
    DEFAULT_CONTACT_LISTS,
    DEFAULT_DNC_LISTS,
    DEFAULT_FLOWS,
    DEFAULT_QUEUES,
    DEFAULT_TEMPLATES,
    derived_id,
)

MODES = [
    ("sms", "simple"),
    ("sms", "advanced"),
    ("voice", "Agentless"),
    ("voice", "Progressive"),
    ("voice", "Preview"),
]
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ZONES = ("Asia/Kolkata", "America/New_York", "Europe/London", "UTC", "America/Los_Angeles")
FLOW_IDS = {name: derived_id("flows", name) for name in DEFAULT_FLOWS}

text = st.text(alphabet=string.ascii_letters + string.digits + " .,!?'-", min_size=1, max_size=30)
names = text.map(str.strip).filter(bool).map(lambda s: s[:48])
phones = st.from_regex(r"\+[1-9][0-9]{9,12}", fullmatch=True)


@st.composite
def windows(draw: st.DrawFn) -> list[dict[str, str]]:
    days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=4, unique=True))
    out = []
    for day in days:
        start = draw(st.integers(1, 11))
        end = draw(st.integers(1, 11))
        out.append(
            {"day": day, "start": f"{start}:{draw(st.sampled_from(['00', '30']))} AM", "end": f"{end}:00 PM"}
        )
    return out


def _spelled_time(value: str, draw: st.DrawFn) -> str:
    clock, half = value.split(" ")
    return draw(st.sampled_from([value, f"{clock}{half.lower()}", f"{clock.zfill(5)} {half.lower()}"]))


@st.composite
def manifest(
    draw: st.DrawFn, ctype: str, mode: str, name: str | None = None, key: str = "c"
) -> dict[str, Any]:
    """A valid manifest campaign (random spellings the models accept; optional fields sometimes)."""
    hours = {
        "frequency": draw(st.sampled_from(["WEEKLY", "DAILY", "weekly"])),
        "timezone": draw(st.sampled_from(ZONES)),
        "days": [
            {"day": w["day"], "start": _spelled_time(w["start"], draw), "end": w["end"]}
            for w in draw(windows())
        ],
    }
    doc: dict[str, Any] = {
        "key": key,
        "campaignType": draw(st.sampled_from([ctype, ctype.upper()])),
        "name": name if name is not None else draw(names),
        # the emulator (like the API's tables) takes no empty description; validate allows one
        "description": draw(names),
        "contactLists": draw(
            st.lists(st.sampled_from(DEFAULT_CONTACT_LISTS), min_size=1, max_size=3, unique=True)
        ),
        "priority": draw(st.one_of(st.integers(1, 5), st.sampled_from(["1", "2", "3", "4", "5"]))),
        "dialingStrategy": {"callerId": {"phoneNumber": draw(phones)}, "callingHours": hours},
    }
    if ctype == "voice" or draw(st.booleans()):
        doc["dncLists"] = {"name": draw(st.sampled_from(DEFAULT_DNC_LISTS))}
    if draw(st.booleans()):
        doc["schedule"] = {"isSchedulingEnabled": False}
    if ctype == "sms":
        doc["format"] = mode
        if mode == "simple":
            message: dict[str, Any] = {"message": draw(text)}
            if draw(st.booleans()):
                message[draw(st.sampled_from(["templateName", "template_name"]))] = draw(
                    st.sampled_from(DEFAULT_TEMPLATES)
                )
            doc["message"] = message
        else:
            doc["experienceFlowName"] = draw(st.sampled_from(DEFAULT_FLOWS))
        return doc
    doc["dialingMode"] = draw(st.sampled_from([mode, mode.lower()]))
    doc["dialingStrategy"].update(
        {
            "dialingOrder": draw(st.sampled_from(["FIFO", "LIFO"])),
            "maxAttemptsPerRecord": draw(st.integers(1, 100)),
            "defaultRetryPeriod": draw(st.integers(1, 1440)),
            "maxRingTime": draw(st.integers(5, 120)),
        }
    )
    if mode == "Agentless":
        doc["experienceFlowName"] = draw(st.sampled_from(DEFAULT_FLOWS))
        if draw(st.booleans()):
            doc["enableMachineDetect"] = draw(st.sampled_from(["no", "detect", "disconnect"]))
    else:
        doc[draw(st.sampled_from(["queueName", "queue_name"]))] = draw(st.sampled_from(DEFAULT_QUEUES))
        if mode == "Preview":
            doc["maxSkips"] = draw(st.integers(0, 100))
    return doc


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3)
    ),
    max_leaves=5,
)


def _b64(value: str, draw: st.DrawFn) -> str:
    encoded = base64.b64encode(value.encode()).decode()
    return draw(st.sampled_from([encoded, urllib.parse.quote(encoded, safe="")]))


@st.composite
def live_document(draw: st.DrawFn, ctype: str, mode: str, unknown: bool = True) -> dict[str, Any]:
    """A GET document as the API shows it, with server fields, and (``unknown``) fields nobody documented."""
    hours = {
        "frequency": draw(st.sampled_from(["WEEKLY", "DAILY", "CUSTOM"])),
        "timezone": draw(st.sampled_from(ZONES)),
        "days": draw(windows()),
    }
    strategy: dict[str, Any] = {"callerId": {"phoneNumber": draw(phones)}, "callingHours": hours}
    name = draw(names)
    doc: dict[str, Any] = {
        "_id": "cd-" + draw(st.from_regex(r"[0-9a-f]{8}", fullmatch=True)),
        "name": name,
        "lname": name.lower(),
        "description": draw(st.text(alphabet=string.ascii_letters + " ", max_size=40)),
        "status": draw(st.sampled_from(["Ready", "Stopped", "Completed"])),
        "priority": draw(st.sampled_from(["1", "2", "3", "4", "5"])),
        "contactLists": draw(
            st.lists(st.sampled_from(DEFAULT_CONTACT_LISTS), min_size=1, max_size=3, unique=True)
        ),
        "createdAt": "2025-12-05T08:16:19.398Z",
        "updatedAt": "2025-12-05T08:16:19.398Z",
        "isFiltersEnabled": False,
        "schedule": {"isSchedulingEnabled": draw(st.booleans()), "isRecurrenceEnabled": False},
        "dialingStrategy": strategy,
    }
    if ctype == "voice" or draw(st.booleans()):
        dnc = draw(st.sampled_from(DEFAULT_DNC_LISTS))
        doc["dncLists"] = (
            {"name": dnc, "id": derived_id("dncLists", dnc)} if ctype == "voice" else {"name": dnc}
        )
    if draw(st.booleans()):
        doc["campaignInstanceId"] = "cid-1"
    if ctype == "sms":
        doc["format"] = mode
        doc["isImported"] = False
        if mode == "simple":
            message: dict[str, Any] = {"message": _b64(draw(text), draw)}
            if draw(st.booleans()):
                template = draw(st.sampled_from(DEFAULT_TEMPLATES))
                message[draw(st.sampled_from(["template_name", "templateName"]))] = template
                message["templateId"] = derived_id("templates", template)
            doc["message"] = message
        else:
            doc["experienceFlow"] = FLOW_IDS[draw(st.sampled_from(DEFAULT_FLOWS))]
    else:
        doc["dialingMode"] = mode
        strategy.update(
            {
                "dialingOrder": draw(st.sampled_from(["FIFO", "LIFO"])),
                "maxAttemptsPerRecord": draw(st.integers(1, 100)),
                "defaultRetryPeriod": draw(st.integers(1, 1440)),
                "maxRingTime": draw(st.integers(5, 120)),
                "useSystemMappings": False,
            }
        )
        if mode == "Agentless":
            doc["experienceFlow"] = FLOW_IDS[draw(st.sampled_from(DEFAULT_FLOWS))]
            if draw(st.booleans()):
                doc["enableMachineDetect"] = False  # the create response's echo, not a v2 value
        if mode == "Preview":
            doc["maxSkips"] = draw(st.integers(0, 100))
    if unknown:
        for key, value in draw(
            st.dictionaries(st.sampled_from(["x_owner", "x_region", "x_tags"]), json_values, max_size=2)
        ).items():
            doc[key] = value
        if draw(st.booleans()):
            strategy["callerId"]["direction"] = "outbound"
        if draw(st.booleans()):
            strategy["x_pacing"] = draw(st.integers(1, 10))
    return doc


def list_item(ctype: str, mode: str, doc: dict[str, Any], queue: str | None = None) -> dict[str, Any]:
    """The document's list item (voice items carry ``connection``: the queue, or the flow's name)."""
    item: dict[str, Any] = {"_id" if ctype == "voice" else "id": doc["_id"], "name": doc["name"]}
    item["updatedAt"] = doc["updatedAt"]
    if ctype == "voice":
        item["dialingMode"] = mode
        if mode == "Agentless":
            flow = next(n for n, i in FLOW_IDS.items() if i == doc["experienceFlow"])
            item["experienceFlow"] = doc["experienceFlow"]
            item["connection"] = flow
        elif queue is not None:
            item["connection"] = queue
    return item

"""Request validation: one row per documented rule (reference §5.1, §5.2, §6, §11), all with the
``{"errors":[{"msg","code":400}]}`` envelope and HTTP 400."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from emulator_support import (
    Kore,
    clone,
    errors,
    sms_advanced,
    sms_simple,
    sms_template,
    voice_agentless,
    voice_preview,
    voice_progressive,
)

Body = dict[str, Any]


def setting(path: str, value: Any) -> Callable[[Body], None]:
    """A mutation that sets (or, with ``...``, deletes) a dotted path; ``days.0`` indexes a list."""

    def apply(body: Body) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is ...:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


HOURS = "dialingStrategy.callingHours"
DAY = f"{HOURS}.days.0"
CASES: list[tuple[str, Callable[..., Body], Callable[[Body], None], str]] = [
    ("name required", sms_advanced, setting("name", ...), "name is required"),
    ("name not a string", sms_advanced, setting("name", 7), "name must be a string"),
    ("name too long", sms_advanced, setting("name", "x" * 49), "name must be at most 48 characters"),
    (
        "description too long",
        sms_advanced,
        setting("description", "d" * 257),
        "description must be at most 256 characters",
    ),
    (
        "description required for simple sms",
        sms_simple,
        setting("description", ...),
        "description is required",
    ),
    (
        "description required for template sms",
        sms_template,
        setting("description", ...),
        "description is required",
    ),
    (
        "description required for voice",
        voice_agentless,
        setting("description", ...),
        "description is required",
    ),
    ("campaignType required", sms_advanced, setting("campaignType", ...), "campaignType is required"),
    (
        "campaignType enum",
        sms_advanced,
        setting("campaignType", "email"),
        "campaignType must be one of sms, voice",
    ),
    ("priority required", sms_advanced, setting("priority", ...), "priority is required"),
    (
        "priority range",
        sms_advanced,
        setting("priority", "6"),
        'priority must be one of "1", "2", "3", "4", "5"',
    ),
    (
        "priority zero int",
        sms_advanced,
        setting("priority", 0),
        'priority must be one of "1", "2", "3", "4", "5"',
    ),
    ("format required", sms_advanced, setting("format", ...), "format is required"),
    ("format enum", sms_advanced, setting("format", "fancy"), "format must be one of simple, advanced"),
    (
        "frequency enum",
        sms_advanced,
        setting(f"{HOURS}.frequency", "HOURLY"),
        f"{HOURS}.frequency must be one of WEEKLY, DAILY, CUSTOM",
    ),
    (
        "day enum",
        sms_advanced,
        setting(f"{DAY}.day", "MON"),
        f"{DAY.replace('.days.0', '.days[0]')}.day must be one of MO, TU, WE, TH, FR, SA, SU",
    ),
    (
        "time format",
        sms_advanced,
        setting(f"{DAY}.start", "9am"),
        f'{HOURS}.days[0].start must be a time like "9:00 AM" (h:mm AM|PM)',
    ),
    (
        "24h time rejected",
        sms_advanced,
        setting(f"{DAY}.end", "18:00"),
        f'{HOURS}.days[0].end must be a time like "9:00 AM" (h:mm AM|PM)',
    ),
    (
        "start before end",
        sms_advanced,
        setting(f"{DAY}.start", "7:00 PM"),
        f"{HOURS}.days[0].start must be before {HOURS}.days[0].end",
    ),
    (
        "days required",
        sms_advanced,
        setting(f"{HOURS}.days", []),
        f"{HOURS}.days must be a non-empty array of {{day, start, end}}",
    ),
    (
        "timezone IANA",
        sms_advanced,
        setting(f"{HOURS}.timezone", "IST"),
        f"{HOURS}.timezone must be a valid IANA time zone such as Asia/Kolkata",
    ),
    ("timezone required", sms_advanced, setting(f"{HOURS}.timezone", ...), f"{HOURS}.timezone is required"),
    (
        "callerId E.164",
        sms_advanced,
        setting("dialingStrategy.callerId.phoneNumber", "98607 12345"),
        "dialingStrategy.callerId.phoneNumber must be an E.164 number such as +14155550100",
    ),
    (
        "callerId required",
        sms_advanced,
        setting("dialingStrategy.callerId", ...),
        "dialingStrategy.callerId is required",
    ),
    (
        "dialingStrategy required",
        sms_advanced,
        setting("dialingStrategy", ...),
        "dialingStrategy is required",
    ),
    ("contactLists required", sms_advanced, setting("contactLists", ...), "contactLists is required"),
    (
        "contactLists non-empty",
        sms_advanced,
        setting("contactLists", []),
        "contactLists must contain 1 to 10 names",
    ),
    (
        "contactLists at most 10",
        sms_advanced,
        setting("contactLists", ["CL Only 2020 Dec 4"] * 11),
        "contactLists must contain 1 to 10 names",
    ),
    (
        "contactLists must exist",
        sms_advanced,
        setting("contactLists", ["Nobody"]),
        'contactLists: contact list "Nobody" not found',
    ),
    (
        "dncLists must exist",
        sms_advanced,
        setting("dncLists", {"name": "Nope"}),
        'dncLists: DNC list "Nope" not found',
    ),
    ("dncLists shape", sms_advanced, setting("dncLists", ["testdnc"]), "dncLists must be an object"),
    ("dncLists required for voice", voice_agentless, setting("dncLists", ...), "dncLists is required"),
    (
        "flow required for advanced sms",
        sms_advanced,
        setting("experienceFlowName", ...),
        "experienceFlowName is required",
    ),
    (
        "unknown flow",
        sms_advanced,
        setting("experienceFlowName", "Ghost Flow"),
        'experience flow "Ghost Flow" not found',
    ),
    (
        "flow required for agentless",
        voice_agentless,
        setting("experienceFlowName", ...),
        "experienceFlowName is required",
    ),
    ("message required for simple sms", sms_simple, setting("message", ...), "message is required"),
    ("message text required", sms_simple, setting("message", {}), "message.message is required"),
    (
        "unknown template",
        sms_template,
        setting("message.template_name", "Nope"),
        'message.template_name: template "Nope" not found',
    ),
    ("dialingMode required", voice_agentless, setting("dialingMode", ...), "dialingMode is required"),
    (
        "dialingMode enum",
        voice_agentless,
        setting("dialingMode", "Power"),
        "dialingMode must be one of Agentless, Progressive, Preview",
    ),
    (
        "dialingOrder enum",
        voice_agentless,
        setting("dialingStrategy.dialingOrder", "RANDOM"),
        "dialingStrategy.dialingOrder must be one of FIFO, LIFO",
    ),
    (
        "attempts low",
        voice_agentless,
        setting("dialingStrategy.maxAttemptsPerRecord", 0),
        "dialingStrategy.maxAttemptsPerRecord must be an integer between 1 and 100",
    ),
    (
        "attempts high",
        voice_agentless,
        setting("dialingStrategy.maxAttemptsPerRecord", 101),
        "dialingStrategy.maxAttemptsPerRecord must be an integer between 1 and 100",
    ),
    (
        "retry period",
        voice_agentless,
        setting("dialingStrategy.defaultRetryPeriod", 1441),
        "dialingStrategy.defaultRetryPeriod must be an integer between 1 and 1440",
    ),
    (
        "ring time low",
        voice_agentless,
        setting("dialingStrategy.maxRingTime", 4),
        "dialingStrategy.maxRingTime must be an integer between 5 and 120",
    ),
    (
        "ring time string",
        voice_agentless,
        setting("dialingStrategy.maxRingTime", "30"),
        "dialingStrategy.maxRingTime must be an integer between 5 and 120",
    ),
    (
        "queue required",
        voice_progressive,
        setting("queue_name", ...),
        "queue_name is required for Progressive and Preview campaigns",
    ),
    (
        "queue must exist",
        voice_progressive,
        setting("queue_name", "Night Queue"),
        'queue_name: queue "Night Queue" not found',
    ),
    (
        "maxSkips required",
        voice_preview,
        setting("maxSkips", ...),
        "maxSkips is required for Preview campaigns",
    ),
    (
        "maxSkips range",
        voice_preview,
        setting("maxSkips", -1),
        "maxSkips must be an integer between 0 and 100",
    ),
    (
        "AMD enum",
        voice_agentless,
        setting("enableMachineDetect", True),
        "enableMachineDetect must be one of no, detect, disconnect",
    ),
    (
        "schedule flag",
        sms_advanced,
        setting("schedule.isSchedulingEnabled", "no"),
        "schedule.isSchedulingEnabled must be a boolean",
    ),
]


@pytest.mark.parametrize(("make", "mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_rejects_with_one_message_naming_the_field(
    inproc: Kore, make: Callable[..., Body], mutate: Callable[[Body], None], message: str
) -> None:
    body = clone(make())
    mutate(body)
    response = inproc.create(body, ctype=make()["campaignType"])
    assert response.status_code == 400, response.text
    assert errors(response) == [message]
    assert inproc.list_data(type="sms")["totalResults"] == 0
    assert inproc.list_data(type="voice")["totalResults"] == 0


def test_every_problem_is_reported_at_once(inproc: Kore) -> None:
    body = sms_advanced(name="n" * 60, priority="9", contactLists=[])
    response = inproc.create(body)
    assert errors(response) == [
        "name must be at most 48 characters",
        'priority must be one of "1", "2", "3", "4", "5"',
        "contactLists must contain 1 to 10 names",
    ]


@pytest.mark.parametrize(
    "mutate",
    [
        setting("name", "x" * 48),
        setting("description", "d" * 256),
        setting("priority", 1),
        setting(f"{DAY}.start", "09:00 am"),
        setting(f"{DAY}.end", "11:59 PM"),
        setting(f"{HOURS}.frequency", "CUSTOM"),
        setting(f"{HOURS}.timezone", "America/Argentina/Buenos_Aires"),
        setting("contactLists", ["CL Only 2020 Dec 4", "Renewals Q3"] * 5),
        setting("dncLists", ...),
        setting("description", ...),  # optional for advanced SMS
        setting("unknownField", {"ignored": True}),
    ],
)
def test_boundary_values_are_accepted(inproc: Kore, mutate: Callable[[Body], None]) -> None:
    body = clone(sms_advanced())
    mutate(body)
    response = inproc.create(body)
    assert response.status_code == 200, response.text


def test_times_are_stored_as_sent_and_unknown_fields_are_not_stored(inproc: Kore) -> None:
    body = sms_advanced(internalNote="x")
    body["dialingStrategy"]["callingHours"]["days"] = [{"day": "TU", "start": "09:30 am", "end": "5:00 pm"}]
    body["dialingStrategy"]["callerId"]["direction"] = "outbound"
    data = inproc.create_ok(body)
    assert data["dialingStrategy"]["callingHours"]["days"] == [
        {"day": "TU", "start": "09:30 am", "end": "5:00 pm"}
    ]
    assert data["dialingStrategy"]["callerId"] == {"phoneNumber": "+919860712345"}
    raw = inproc.control("GET", f"campaigns/{data['_id']}")
    assert "internalNote" not in raw


def test_integer_priority_is_stored_as_a_string(inproc: Kore) -> None:
    assert inproc.create_ok(sms_advanced(priority=2))["priority"] == "2"


def test_query_and_body_campaign_types_must_agree(inproc: Kore) -> None:
    response = inproc.create(sms_advanced(), ctype="voice")
    assert response.status_code == 400
    assert errors(response) == [
        "campaignType in the body (sms) does not match the campaignType query parameter"
    ]


def test_v2_amd_values_are_accepted_and_kept_internally(inproc: Kore) -> None:
    for index, value in enumerate(["no", "detect", "disconnect"]):
        created = inproc.create_ok(voice_agentless(f"AMD {index}", enableMachineDetect=value))
        assert created["enableMachineDetect"] is False, "echoed as documented"
        assert inproc.control("GET", f"campaigns/{created['id']}")["enableMachineDetect"] == value


def test_amd_is_ignored_on_v2_progressive(inproc: Kore) -> None:
    created = inproc.create_ok(voice_progressive(enableMachineDetect="detect"))
    assert "enableMachineDetect" not in inproc.control("GET", f"campaigns/{created['id']}")


def test_body_must_be_an_object(inproc: Kore) -> None:
    response = inproc.request("POST", inproc.v2, params={"campaignType": "sms"}, json=[1, 2])
    assert response.status_code == 400
    assert errors(response) == ["request body must be a JSON object"]

"""CRUD on the v2 campaign endpoints and the documented response quirks (reference §5, §6, §9)."""

from __future__ import annotations

import re

import pytest
from emulator_support import (
    ACCOUNT,
    OTHER_ACCOUNT,
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

#: Keys of the §5.1 v2 advanced SMS sample response's ``data``, in the sample's order.
SAMPLE_SMS_CREATE_KEYS = [
    "_id",
    "name",
    "lname",
    "description",
    "status",
    "dncLists",
    "priority",
    "dialingStrategy",
    "experienceFlow",
    "isImported",
    "isFiltersEnabled",
    "createdAt",
    "updatedAt",
    "schedule",
    "contactLists",
    "format",
]
#: Keys of the §5.2 v2 Agentless sample response's ``data``, in the sample's order.
SAMPLE_VOICE_CREATE_KEYS = [
    "name",
    "lname",
    "description",
    "dncLists",
    "priority",
    "dialingMode",
    "dialingStrategy",
    "experienceFlow",
    "status",
    "isFiltersEnabled",
    "createdAt",
    "updatedAt",
    "id",
    "contactLists",
    "enableMachineDetect",
]
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_documented_advanced_sms_sample_round_trips_with_the_sample_shape(kore: Kore) -> None:
    path = f"/api/v2/public/{kore.stream}/campaign"  # the bare path the §5.1 v2 sample uses
    response = kore.request(
        "POST", path, params={"accountId": ACCOUNT, "campaignType": "sms"}, json=sms_advanced("Sample 1212")
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert list(payload) == ["status", "message", "data"]
    assert payload["status"] == "success"
    assert payload["message"] == "Campaign Sample 1212 creation in progress"
    data = payload["data"]
    assert list(data) == SAMPLE_SMS_CREATE_KEYS
    assert data["status"] == "Ready"
    assert data["lname"] == "sample 1212"
    assert data["dncLists"] == {"name": "testdnc"}
    assert data["schedule"] == {"isSchedulingEnabled": False}
    assert re.match(r"^cf-[0-9a-f-]{36}$", data["experienceFlow"])
    assert re.match(r"^cd-[0-9a-f-]{36}$", data["_id"])
    assert ISO_MS.match(data["createdAt"])
    assert data["createdAt"] == data["updatedAt"]
    assert data["dialingStrategy"] == sms_advanced()["dialingStrategy"]

    fetched = kore.get(data["_id"]).json()
    assert fetched["message"] == "Campaign Sample 1212 retrieved successfully"
    assert list(fetched["data"]) == SAMPLE_SMS_CREATE_KEYS
    assert fetched["data"]["schedule"] == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}
    assert "experienceFlowName" not in fetched["data"]
    assert "campaignType" not in fetched["data"]


def test_sms_message_is_stored_exactly_as_sent(kore: Kore) -> None:
    for index, text in enumerate(["Plain text reminder", "UGxhaW4gdGV4dA==", "UGxhaW4gdGV4dA%3D%3D"]):
        data = kore.create_ok(sms_simple(f"Message {index}", message={"message": text}))
        assert data["message"] == {"message": text}
        assert kore.get_data(data["_id"])["message"] == {"message": text}


def test_template_name_resolves_to_a_cmt_template_id(kore: Kore) -> None:
    data = kore.create_ok(sms_template())
    assert data["message"]["template_name"] == "Welcome"
    assert re.match(r"^cmt-", data["message"]["templateId"])
    assert "experienceFlow" not in data


def test_voice_create_answers_id_and_preparing_then_get_shows_id_and_ready(kore: Kore) -> None:
    response = kore.create(voice_agentless())
    payload = response.json()
    assert payload["message"] == "Campaign Product Feedback Voice creation in progress"
    data = payload["data"]
    assert list(data) == SAMPLE_VOICE_CREATE_KEYS
    assert data["status"] == "Preparing"
    assert data["enableMachineDetect"] is False
    assert "_id" not in data
    assert "schedule" not in data
    cid = data["id"]
    assert re.match(r"^cd-[0-9a-f]{7}-", cid)

    assert kore.get_data(cid)["status"] == "Preparing"
    kore.advance(6)  # preparing_seconds is 5 in the fixture
    fetched = kore.get_data(cid)
    assert fetched["status"] == "Ready"
    assert fetched["_id"] == cid
    assert "id" not in fetched
    assert fetched["updatedAt"] == data["updatedAt"], "Preparing -> Ready must not bump updatedAt"


def test_voice_documents_reorder_days_add_mappings_and_dnc_id(kore: Kore) -> None:
    cid = kore.create_ok(voice_agentless())["id"]
    data = kore.get_data(cid)
    hours = data["dialingStrategy"]["callingHours"]
    assert list(hours) == ["frequency", "days", "timezone"]
    assert [list(day) for day in hours["days"]] == [["start", "end", "day"]]
    assert data["dialingStrategy"]["useSystemMappings"] is False
    assert re.match(r"^cl-", data["dncLists"]["id"])
    assert data["dncLists"]["name"] == "DNC CL Dec 4"
    assert data["isFiltersEnabled"] is False
    assert "enableMachineDetect" not in data
    assert re.match(r"^cf-", data["experienceFlow"])
    assert data["schedule"] == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}


def test_sms_documents_keep_day_order_and_echo_dnc_name_only(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    data = kore.get_data(cid)
    assert list(data["dialingStrategy"]["callingHours"]) == ["frequency", "timezone", "days"]
    assert list(data["dialingStrategy"]["callingHours"]["days"][0]) == ["day", "start", "end"]
    assert data["dncLists"] == {"name": "testdnc"}


def test_queue_name_is_accepted_but_never_echoed(kore: Kore) -> None:
    created = kore.create(voice_progressive()).json()["data"]
    assert "queue_name" not in created
    assert "experienceFlow" not in created
    assert "enableMachineDetect" not in created
    data = kore.get_data(created["id"])
    assert "queue_name" not in data
    raw = kore.control("GET", f"campaigns/{created['id']}")
    assert raw["queue_name"] == "Default Queue"


def test_preview_campaigns_carry_max_skips(kore: Kore) -> None:
    created = kore.create(voice_preview(maxSkips=2)).json()["data"]
    assert created["maxSkips"] == 2
    assert kore.get_data(created["id"])["maxSkips"] == 2


def test_unknown_campaign_is_a_404_with_the_error_envelope(kore: Kore) -> None:
    response = kore.get("cd-00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert errors(response) == ["Campaign not found"]


def test_updated_at_moves_on_every_write_and_never_on_reads(kore: Kore) -> None:
    body = sms_advanced()
    created = kore.create_ok(body)
    cid, stamps = created["_id"], [created["updatedAt"]]
    for description in ("first", "second", "third"):
        response = kore.put(cid, dict(body, description=description))
        assert response.status_code == 200, response.text
        stamps.append(response.json()["data"]["updatedAt"])
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps), "strictly increasing, even within 1 ms"
    assert all(ISO_MS.match(s) for s in stamps)
    before = kore.get_data(cid)
    kore.list(type="sms")
    after = kore.get_data(cid)
    assert before["updatedAt"] == after["updatedAt"] == stamps[-1]
    assert after["createdAt"] == created["createdAt"]


def test_put_answers_like_get_with_the_update_message(kore: Kore) -> None:
    body = sms_advanced()
    cid = kore.create_ok(body)["_id"]
    payload = kore.put(cid, dict(body, description="changed")).json()
    assert payload["message"] == "Campaign Interactive Support SMS details updated successfully"
    assert list(payload) == ["status", "message", "data"]
    assert payload["data"]["description"] == "changed"
    assert payload["data"]["status"] == "Ready"
    assert list(payload["data"]) == SAMPLE_SMS_CREATE_KEYS


def test_voice_put_answers_with_a_top_level_id(kore: Kore) -> None:
    body = voice_agentless()
    cid = kore.create_ok(body)["id"]
    kore.advance(6)
    payload = kore.put(cid, dict(body, priority="3")).json()
    assert list(payload) == ["status", "message", "id", "data"]
    assert payload["id"] == cid
    assert payload["data"]["_id"] == cid
    assert payload["data"]["priority"] == "3"


def test_put_is_a_full_replacement_that_drops_omitted_optional_fields(kore: Kore) -> None:
    body = sms_advanced()
    cid = kore.create_ok(body)["_id"]
    without_dnc = clone(body)
    del without_dnc["dncLists"]
    response = kore.put(cid, without_dnc)
    assert response.status_code == 200, response.text
    assert "dncLists" not in response.json()["data"]
    assert "dncLists" not in kore.get_data(cid)


def test_put_rejects_an_omitted_required_field_and_changes_nothing(kore: Kore) -> None:
    body = sms_simple()
    cid = kore.create_ok(body)["_id"]
    before = kore.get_data(cid)
    partial = clone(body)
    del partial["description"]
    response = kore.put(cid, partial)
    assert response.status_code == 400
    assert errors(response) == ["description is required"]
    assert kore.get_data(cid) == before


def test_put_changes_the_flow_id_when_the_flow_name_changes(kore: Kore) -> None:
    body = voice_agentless()
    cid = kore.create_ok(body)["id"]
    kore.advance(6)
    old = kore.get_data(cid)["experienceFlow"]
    new = kore.put(cid, dict(body, experienceFlowName="Voice Survey Flow")).json()["data"]["experienceFlow"]
    assert new != old
    assert new.startswith("cf-")


def test_voice_put_with_campaign_type_sms_in_the_query_is_accepted(kore: Kore) -> None:
    """The v2 voice update page's URL says campaignType=sms (§5.5, §12.6): the stored type wins."""
    body = voice_agentless()
    cid = kore.create_ok(body)["id"]
    kore.advance(6)
    response = kore.put(cid, dict(body, description="via sms query"), ctype="sms")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["dialingMode"] == "Agentless"


def test_campaign_type_query_must_be_sms_or_voice(kore: Kore) -> None:
    body = sms_advanced()
    cid = kore.create_ok(body)["_id"]
    response = kore.put(cid, body, ctype="email")
    assert response.status_code == 400
    assert errors(response) == ["campaignType must be one of sms, voice"]


MISSING_TYPE = "the campaignType query parameter is required (sms or voice)"


@pytest.mark.parametrize("missing", [None, ""], ids=["absent", "empty"])
def test_writes_without_the_campaign_type_query_are_400_and_change_nothing(
    kore: Kore, missing: str | None
) -> None:
    """Every documented create, update, delete and start/stop URL carries campaignType (§4)."""
    body = sms_advanced()
    cid = kore.create_ok(body)["_id"]
    before = kore.control("GET", f"campaigns/{cid}")
    query = {"accountId": ACCOUNT} if missing is None else {"accountId": ACCOUNT, "campaignType": missing}
    bare = f"/api/v2/public/{kore.stream}/campaign"
    v1_trigger = f"/campaign/api/v1/public/{kore.stream}/campaign/{cid}"
    calls = [
        ("POST", kore.v2, query, sms_advanced("Created Without Type")),
        ("POST", bare, query, sms_advanced("Created Without Type")),
        ("POST", kore.v1, query, sms_advanced("Created Without Type")),
        ("PUT", f"{kore.v2}/{cid}", query, dict(body, description="never")),
        ("PUT", f"{kore.v1}/{cid}", query, dict(body, description="never")),
        ("DELETE", f"{kore.v2}/{cid}", query, None),
        ("DELETE", f"{kore.v1}/{cid}", query, None),
        ("POST", f"{kore.v2}/{cid}", {**query, "trigger": "play"}, {}),
        ("POST", f"{kore.v2}//trigger/{cid}", {**query, "trigger": "stop"}, {}),
        ("POST", f"{bare}/trigger/{cid}", {**query, "trigger": "play"}, {}),
        ("POST", v1_trigger, {**query, "trigger": "play"}, {}),
    ]
    for method, path, params, payload in calls:
        response = kore.request(method, path, params=params, json=payload)
        assert response.status_code == 400, (method, path, response.text)
        assert errors(response) == [MISSING_TYPE], (method, path)
    assert kore.control("GET", f"campaigns/{cid}") == before, "nothing changed"
    assert [c["name"] for c in kore.control("GET", "campaigns")] == [body["name"]], "nothing created"


def test_the_campaign_type_query_is_checked_before_the_campaign_is_looked_up(kore: Kore) -> None:
    response = kore.request("DELETE", f"{kore.v2}/cd-unknown", params={"accountId": ACCOUNT})
    assert response.status_code == 400
    assert errors(response) == [MISSING_TYPE]
    assert kore.delete("cd-unknown").status_code == 404


def test_put_cannot_change_the_campaign_type(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    response = kore.put(cid, voice_agentless(), ctype="sms")
    assert response.status_code == 400
    assert "campaignType cannot be changed (the campaign is sms)" in errors(response)


@pytest.mark.parametrize("name", ["Interactive Support SMS", "INTERACTIVE support sms"])
def test_duplicate_names_are_rejected_case_insensitively(kore: Kore, name: str) -> None:
    kore.create_ok(sms_advanced("Interactive Support SMS"))
    response = kore.create(sms_advanced(name))
    assert response.status_code == 409
    assert errors(response) == [f'a sms campaign named "{name}" already exists']


def test_the_same_name_may_be_used_by_a_campaign_of_the_other_type(kore: Kore) -> None:
    kore.create_ok(sms_advanced("Shared Name"))
    assert kore.create(voice_agentless("Shared Name")).status_code == 200


def test_renaming_onto_another_campaign_is_a_conflict(kore: Kore) -> None:
    kore.create_ok(sms_advanced("First"))
    body = sms_advanced("Second")
    cid = kore.create_ok(body)["_id"]
    response = kore.put(cid, dict(body, name="first"))
    assert response.status_code == 409
    assert kore.put(cid, dict(body, name="SECOND")).status_code == 200, "renaming onto itself is fine"


def test_active_campaigns_reject_put_and_delete(kore: Kore) -> None:
    body = sms_advanced()
    cid = kore.create_ok(body)["_id"]
    assert kore.start_sms(cid).status_code == 200
    put = kore.put(cid, dict(body, description="x"))
    assert put.status_code == 409
    assert errors(put) == ["Campaign Interactive Support SMS is Active and cannot be updated"]
    delete = kore.delete(cid)
    assert delete.status_code == 409
    assert kore.get_data(cid)["status"] == "Active"


def test_preparing_voice_campaigns_reject_put(kore: Kore) -> None:
    body = voice_agentless()
    cid = kore.create_ok(body)["id"]
    response = kore.put(cid, dict(body, description="x"))
    assert response.status_code == 409
    kore.advance(6)
    assert kore.put(cid, dict(body, description="x")).status_code == 200


def test_delete_answers_the_deleted_document(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    payload = kore.delete(cid).json()
    assert payload["message"] == "Campaign Interactive Support SMS deleted successfully"
    assert payload["data"]["_id"] == cid
    assert kore.get(cid).status_code == 404
    assert kore.delete(cid).status_code == 404


def test_sms_start_and_stop_use_their_documented_paths_and_bodies(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    started = kore.start_sms(cid)
    assert started.status_code == 200, started.text
    assert list(started.json()) == ["status", "message", "updatedAt"]
    assert started.json()["status"] == "Active"
    assert started.json()["message"] == "Campaign Started"
    stopped = kore.stop_sms(cid).json()
    assert list(stopped) == ["status", "message", "updatedAt", "campaignExecutionType"]
    assert stopped["status"] == "Stopped"
    assert stopped["campaignExecutionType"] == "NORMAL"
    assert kore.get_data(cid)["status"] == "Stopped"


def test_voice_start_makes_a_new_instance_each_time(kore: Kore) -> None:
    cid = kore.create_ok(voice_progressive())["id"]
    kore.advance(6)
    first = kore.trigger_voice(cid, "play").json()
    assert list(first) == ["status", "message", "totalCallsCompleted", "updatedAt", "campaignInstanceId"]
    stop = kore.trigger_voice(cid, "stop").json()
    assert list(stop) == ["status", "message", "updatedAt", "campaignInstanceId"]
    assert stop["campaignInstanceId"] == first["campaignInstanceId"]
    second = kore.trigger_voice(cid, "play").json()
    assert first["campaignInstanceId"].startswith("cid-")
    assert second["campaignInstanceId"] != first["campaignInstanceId"]
    assert kore.get_data(cid)["campaignInstanceId"] == second["campaignInstanceId"]


def test_start_and_stop_refuse_impossible_transitions(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    assert kore.stop_sms(cid).status_code == 409, "stop on Ready"
    assert kore.start_sms(cid).status_code == 200
    assert kore.start_sms(cid).status_code == 409, "play on Active"
    voice = kore.create_ok(voice_agentless())["id"]
    assert kore.trigger_voice(voice, "play").status_code == 409, "play on Preparing"
    bad = kore.request("POST", f"{kore.v2}/{cid}", params={"campaignType": "sms", "trigger": "pause"})
    assert bad.status_code == 400


def test_campaigns_are_kept_per_account(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    other = Kore(kore.http, account=OTHER_ACCOUNT)
    assert other.get(cid).status_code == 404
    assert other.list_data(type="sms")["totalResults"] == 0
    assert other.create(sms_advanced()).status_code == 200, "names are unique per account only"


def test_status_view_reports_the_campaign_state(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    path = f"{kore.v2}/{cid}/status"
    payload = kore.request("POST", path, params={"accountId": ACCOUNT, "view": "status"}, json={}).json()
    assert payload == {
        "status": "success",
        "data": {"id": cid, "status": "Ready", "name": "Interactive Support SMS"},
    }
    contacts = kore.request("POST", path, params={"view": "contacts"}, json={"page": 1, "limit": 100}).json()
    assert contacts["data"]["results"] == []
    assert contacts["data"]["limit"] == 100


def test_schedule_is_enabled_and_disabled_by_campaign_name(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    path = f"{kore.v2}/schedule"
    body = {
        "startDateTime": "2099-01-1 18:29:00",
        "endDateTime": "2099-02-27 18:29:00",
        "recurrenceObject": {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 1}},
    }
    params = {"enableSchedule": "true", "campaignName": "Interactive Support SMS"}
    payload = kore.request("POST", path, params=params, json=body).json()
    assert payload == {
        "status": "success",
        "message": "Campaign Interactive Support SMS scheduled successfully",
        "id": cid,
    }
    data = kore.get_data(cid)
    assert data["schedule"] == {"isSchedulingEnabled": True, "isRecurrenceEnabled": True}
    assert data["status"] == "Scheduled"
    params["enableSchedule"] = "false"
    off = kore.request("POST", path, params=params, json={}).json()
    assert off["message"] == "Campaign Interactive Support SMS schedule has been disabled successfully"
    assert kore.get_data(cid)["status"] == "Ready"
    past = dict(body, endDateTime="2001-01-01 00:00:00")
    assert (
        kore.request("POST", path, params=dict(params, enableSchedule="true"), json=past).status_code == 400
    )


def test_unknown_paths_and_bad_json_get_the_error_envelope(kore: Kore) -> None:
    missing = kore.request("GET", "/campaign/api/v2/public/st-1/nothing-here")
    assert missing.status_code == 404
    assert errors(missing)
    bad = kore.request(
        "POST",
        kore.v2,
        params={"campaignType": "sms"},
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert errors(bad) == ["request body is not valid JSON"]


def test_oversized_bodies_are_refused_and_the_connection_closed(kore: Kore) -> None:
    body = sms_advanced(description="x" * 1_100_000)
    response = kore.create(body)
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"
    assert kore.list_data(type="sms")["totalResults"] == 0, "the next request on a new connection works"

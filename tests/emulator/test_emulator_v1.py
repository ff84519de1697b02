"""The v1 ``agentassist`` family (reference §1.2, §5): ``id`` everywhere, fewer fields."""

from __future__ import annotations

from emulator_support import Kore, sms_advanced, voice_agentless, voice_preview

V1_ABSENT = {"dncLists", "isImported", "isFiltersEnabled", "_id"}


def test_v1_get_of_an_sms_campaign(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    payload = kore.request("GET", f"{kore.v1}/{cid}").json()
    data = payload["data"]
    assert payload["message"] == "Campaign Interactive Support SMS retrieved successfully"
    assert data["id"] == cid
    assert not V1_ABSENT & set(data)
    assert data["enableMachineDetect"] is False
    assert data["lname"] == "interactive support sms"


def test_v1_list_uses_id_for_both_types(kore: Kore) -> None:
    sms = kore.create_ok(sms_advanced())["_id"]
    voice = kore.create_ok(voice_agentless())["id"]
    for kind, cid in (("sms", sms), ("voice", voice)):
        payload = kore.request("POST", f"{kore.v1}/getAllCampaignDetails", json={"type": kind}).json()
        [item] = payload["data"]["results"]
        assert item["id"] == cid
        assert not V1_ABSENT & set(item)


def test_v1_put_keeps_the_dnc_list_and_speaks_boolean_amd(kore: Kore) -> None:
    body = voice_agentless()
    cid = kore.create_ok(body)["id"]
    kore.advance(6)
    v1_body = dict(body, enableMachineDetect=True)
    del v1_body["dncLists"]
    response = kore.request("PUT", f"{kore.v1}/{cid}", params={"campaignType": "voice"}, json=v1_body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["id"] == cid
    assert payload["data"]["id"] == cid
    assert payload["data"]["enableMachineDetect"] is True
    assert kore.get_data(cid)["dncLists"]["name"] == "DNC CL Dec 4", "v1 has no dncLists: the v2 value stays"
    bad = kore.request(
        "PUT",
        f"{kore.v1}/{cid}",
        params={"campaignType": "voice"},
        json=dict(v1_body, enableMachineDetect="detect"),
    )
    assert bad.status_code == 400


def test_v1_preview_create_has_its_own_response_shape(kore: Kore) -> None:
    body = voice_preview()
    del body["dncLists"]
    response = kore.request("POST", kore.v1, params={"campaignType": "voice"}, json=body)
    payload = response.json()
    assert list(payload) == ["status", "message", "id", "data"]
    assert payload["data"] == {"campId": payload["id"]}
    assert kore.get_data(payload["id"])["dialingMode"] == "Preview"


def test_v1_start_and_stop_path(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    path = f"/campaign/api/v1/public/{kore.stream}/campaign/{cid}"
    assert (
        kore.request("POST", path, params={"campaignType": "sms", "trigger": "play"}, json={}).json()[
            "status"
        ]
        == "Active"
    )
    assert (
        kore.request("POST", path, params={"campaignType": "sms", "trigger": "stop"}, json={}).json()[
            "status"
        ]
        == "Stopped"
    )


def test_v1_delete(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    payload = kore.request("DELETE", f"{kore.v1}/{cid}", params={"campaignType": "sms"}).json()
    assert payload["data"]["id"] == cid
    assert kore.get(cid).status_code == 404

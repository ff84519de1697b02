"""The control API under /__emulator/: seed, out-of-band edits, run control, journal, settings, reset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulator_support import (
    ACCOUNT,
    OTHER_ACCOUNT,
    Kore,
    errors,
    sms_advanced,
    token,
    voice_agentless,
    voice_progressive,
)

from campaign_sync.emulator import DEFAULT_ACCOUNT_ID, create_app


def test_health(kore: Kore) -> None:
    assert kore.control("GET", "health") == {"ok": True}


def test_default_registries_hold_the_documented_sample_names(kore: Kore) -> None:
    registries = kore.control("GET", "registries")
    assert {"SMS Support Flow", "Voice Flow 2", "Voice Survey Flow"} <= set(registries["flows"])
    assert {"CL Only 2020 Dec 4", "DNC CL Dec 4", "testdnc", "Default Global DNC"} <= set(
        registries["contactLists"]
    )
    assert {"Default Queue", "Support Queue"} <= set(registries["queues"])
    assert "Welcome" in registries["templates"]
    assert all(fid.startswith("cf-") for fid in registries["flows"].values())


def test_seed_merges_registries_and_creates_campaigns_with_status_and_id(kore: Kore) -> None:
    seeded = kore.control(
        "POST",
        "seed",
        json={
            "accountId": ACCOUNT,
            "flows": {"Night Flow": "cf-11111111-2222-3333-4444-555555555555"},
            "contactLists": ["Night List"],
            "dncLists": ["Night DNC"],
            "queues": ["Night Queue"],
            "templates": {"Night Template": "cmt-1"},
            "campaigns": [
                sms_advanced("Seeded Night", experienceFlowName="Night Flow", contactLists=["Night List"]),
                dict(
                    voice_progressive("Seeded Calls", queue_name="Night Queue"),
                    status="Active",
                    _id="cd-fixed-1",
                ),
            ],
        },
    )
    assert seeded["ids"]["Seeded Calls"] == "cd-fixed-1"
    sms = kore.get_data(seeded["ids"]["Seeded Night"])
    assert sms["experienceFlow"] == "cf-11111111-2222-3333-4444-555555555555"
    voice = kore.get_data("cd-fixed-1")
    assert voice["status"] == "Active"
    assert voice["campaignInstanceId"].startswith("cid-")
    assert "Night Queue" in kore.control("GET", "registries")["queues"]


def test_seeded_campaigns_are_ready_unless_told_otherwise(kore: Kore) -> None:
    ids = kore.control(
        "POST", "seed", params={"accountId": ACCOUNT}, json={"campaigns": [voice_agentless()]}
    )["ids"]
    assert kore.get_data(ids["Product Feedback Voice"])["status"] == "Ready"


def test_seed_without_an_account_goes_to_the_default_account(kore: Kore) -> None:
    kore.control("POST", "seed", json={"campaigns": [sms_advanced()]})
    assert kore.list_data(type="sms")["totalResults"] == 0
    assert Kore(kore.http, account=DEFAULT_ACCOUNT_ID).list_data(type="sms")["totalResults"] == 1
    [raw] = kore.control("GET", "campaigns")
    assert raw["accountId"] == DEFAULT_ACCOUNT_ID


def test_seed_is_all_or_nothing(kore: Kore) -> None:
    body = {
        "flows": {"Half Flow": "cf-half"},
        "campaigns": [sms_advanced("good"), sms_advanced("bad", priority="9"), sms_advanced("GOOD")],
    }
    response = kore.http.post("/__emulator/seed", json=body)
    assert response.status_code == 400
    assert errors(response) == [
        'campaigns[1]: priority must be one of "1", "2", "3", "4", "5"',
        'campaigns[2]: a sms campaign named "GOOD" already exists',
    ]
    assert kore.control("GET", "campaigns") == []
    assert "Half Flow" not in kore.control("GET", "registries")["flows"]


def test_campaigns_lists_raw_documents_with_internal_fields(kore: Kore) -> None:
    kore.create_ok(voice_progressive())
    Kore(kore.http, account=OTHER_ACCOUNT).create_ok(sms_advanced())
    everything = kore.control("GET", "campaigns")
    assert len(everything) == 2
    [mine] = kore.control("GET", "campaigns", params={"accountId": ACCOUNT})
    assert mine["queue_name"] == "Default Queue"
    assert mine["campaignType"] == "voice"
    assert mine["accountId"] == ACCOUNT
    assert kore.http.get("/__emulator/campaigns/cd-missing").status_code == 404


def test_patch_is_a_merge_patch_that_bumps_updated_at(kore: Kore) -> None:
    created = kore.create_ok(sms_advanced())
    cid = created["_id"]
    patched = kore.control(
        "PATCH",
        f"campaigns/{cid}",
        json={
            "description": "edited in the UI",
            "dncLists": None,
            "dialingStrategy": {"callerId": {"phoneNumber": "+15550001111"}},
        },
    )
    assert patched["description"] == "edited in the UI"
    assert "dncLists" not in patched
    live = kore.get_data(cid)
    assert live["dialingStrategy"]["callerId"]["phoneNumber"] == "+15550001111"
    assert live["dialingStrategy"]["callingHours"]["timezone"] == "Asia/Kolkata", (
        "siblings survive a merge patch"
    )
    assert live["updatedAt"] > created["updatedAt"]
    assert live["createdAt"] == created["createdAt"]


def test_patch_resolves_a_flow_name_and_rejects_an_unknown_one(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    before = kore.get_data(cid)["experienceFlow"]
    kore.control(
        "PATCH", f"campaigns/{cid}", json={"experienceFlowName": "Voice Survey Flow", "name": "Renamed"}
    )
    after = kore.get_data(cid)
    assert after["experienceFlow"] != before
    assert after["experienceFlow"] == kore.control("GET", "registries")["flows"]["Voice Survey Flow"]
    assert after["lname"] == "renamed"
    bad = kore.http.patch(f"/__emulator/campaigns/{cid}", json={"experienceFlowName": "Ghost"})
    assert bad.status_code == 400
    assert errors(bad) == ['experience flow "Ghost" not found']
    assert kore.get_data(cid)["experienceFlow"] == after["experienceFlow"]


def test_out_of_band_delete(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    deleted = kore.control("DELETE", f"campaigns/{cid}")
    assert deleted["deleted"]["_id"] == cid
    assert kore.get(cid).status_code == 404


def test_out_of_band_start_and_stop(kore: Kore) -> None:
    body = sms_advanced()
    cid = kore.create_ok(body)["_id"]
    started = kore.control("POST", f"campaigns/{cid}/start")
    assert started["status"] == "Active"
    assert kore.put(cid, body).status_code == 409
    again = kore.control("POST", f"campaigns/{cid}/start")
    assert again["campaignInstanceId"] != started["campaignInstanceId"]
    assert kore.control("POST", f"campaigns/{cid}/stop")["status"] == "Stopped"
    assert kore.put(cid, body).status_code == 200


def test_journal_records_requests_without_the_token(kore: Kore) -> None:
    raw = token({"jti": "journal-test", "iat": 1, "exp": 3000000000 - 1, "scope": "x"})
    kore.headers["auth"] = raw
    kore.list(type="sms", limit=5)
    kore.control("GET", "health")
    [entry] = kore.journal()
    assert entry["seq"] == 1
    assert entry["method"] == "POST"
    assert entry["path"] == f"{kore.v2}/getAllCampaignDetails"
    assert entry["query"] == {"accountId": ACCOUNT}
    assert entry["status"] == 401, "jti with exp - iat over an hour"
    assert entry["body"] == {"type": "sms", "limit": 5}
    assert entry["account"] == ACCOUNT
    assert entry["headers"]["iid"] == kore.stream
    assert entry["headers"]["accountId"] == ACCOUNT
    assert entry["headers"]["auth"].startswith("sha256:")
    assert len(entry["headers"]["auth"]) == len("sha256:") + 12
    assert entry["jwt"]["jti"] == "journal-test"
    assert isinstance(entry["time"], float)
    dumped = kore.http.get("/__emulator/journal").text
    signature = raw.rsplit(".", 1)[1]
    assert raw not in dumped
    assert signature not in dumped
    kore.control("DELETE", "journal")
    assert kore.journal() == []


def test_journal_times_follow_the_emulator_clock(kore: Kore) -> None:
    kore.list(type="sms")
    kore.advance(1000)
    kore.list(type="sms")
    first, second = kore.journal()
    assert second["time"] - first["time"] >= 1000


def test_settings_round_trip_and_validation(kore: Kore) -> None:
    settings = kore.control("GET", "settings")
    assert set(settings) == {
        "rateLimit",
        "rateWindow",
        "retryAfter",
        "preparingSeconds",
        "clockOffset",
        "normalizeTimes",
    }
    updated = kore.control("PUT", "settings", json={"preparingSeconds": 0, "retryAfter": True})
    assert updated["preparingSeconds"] == 0
    assert updated["retryAfter"] is True
    bad = kore.http.put("/__emulator/settings", json={"rateLimit": -1, "bogus": 1, "retryAfter": "yes"})
    assert bad.status_code == 400
    assert sorted(errors(bad)) == [
        "rateLimit must be a number",
        "retryAfter must be a boolean",
        "unknown setting bogus",
    ]


def test_preparing_seconds_setting_applies_to_new_voice_campaigns(kore: Kore) -> None:
    kore.control("PUT", "settings", json={"preparingSeconds": 0})
    cid = kore.create_ok(voice_agentless())["id"]
    assert kore.get_data(cid)["status"] == "Ready"


def test_normalize_times_setting_rewrites_times_and_orders_days(kore: Kore) -> None:
    kore.control("PUT", "settings", json={"normalizeTimes": True})
    body = sms_advanced()
    body["dialingStrategy"]["callingHours"]["days"] = [
        {"day": "WE", "start": "9:00 am", "end": "5:30 PM"},
        {"day": "MO", "start": "12:15 AM", "end": "12:30 PM"},
    ]
    days = kore.create_ok(body)["dialingStrategy"]["callingHours"]["days"]
    assert days == [
        {"day": "MO", "start": "12:15 AM", "end": "12:30 PM"},
        {"day": "WE", "start": "09:00 AM", "end": "05:30 PM"},
    ]


def test_reset_restores_a_fresh_emulator(kore: Kore) -> None:
    kore.create_ok(sms_advanced())
    kore.control("POST", "seed", json={"flows": {"Extra": "cf-extra"}})
    kore.fault(path="x", statuses=[500])
    kore.control("PUT", "settings", json={"rateLimit": 1, "clockOffset": 99})
    assert kore.control("POST", "reset") == {"ok": True}
    assert kore.control("GET", "campaigns") == []
    assert kore.journal() == []
    assert kore.control("GET", "faults")["faults"] == []
    assert "Extra" not in kore.control("GET", "registries")["flows"]
    assert kore.control("GET", "settings")["clockOffset"] == 0
    assert kore.control("GET", "settings")["rateLimit"] == 0
    assert kore.fault(path="y", statuses=[500]) == "f-1"


def test_unknown_control_paths_are_404(kore: Kore) -> None:
    assert kore.http.get("/__emulator/nothing").status_code == 404
    assert kore.http.post("/__emulator/health").status_code == 404


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_seed_file_option(tmp_path: Path, kind: str) -> None:
    payload: dict[str, Any] = {
        "flows": {"File Flow": "cf-file"},
        "campaigns": [sms_advanced(experienceFlowName="File Flow")],
    }
    path = tmp_path / f"seed.{kind}"
    path.write_text(yaml.safe_dump(payload) if kind == "yaml" else json.dumps(payload))
    app = create_app(seed=path)
    [doc] = app.store.campaigns(DEFAULT_ACCOUNT_ID)
    assert doc["experienceFlow"] == "cf-file"
    assert doc["status"] == "Ready"

"""Every v2 endpoint against the emulator: paths, query, bodies, headers, paging, returned documents."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from kore_support import (
    ACCOUNT,
    STREAM,
    Emulator,
    RecordingRedactor,
    fingerprint,
    mock_transport,
    sms_body,
    voice_body,
)

from campaign_sync import __version__
from campaign_sync.errors import NotFoundError
from campaign_sync.kore import KoreClient, campaign_id_of

V2 = f"/campaign/api/v2/public/{STREAM}/campaign"


def _api(journal: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in journal]


def test_list_pages_through_every_campaign_100_at_a_time(client: KoreClient, emu: Emulator) -> None:
    emu.seed([sms_body(f"Bulk {i:03d}") for i in range(230)])
    emu.seed([voice_body("Only Voice")])

    items = client.list_campaigns("sms")

    assert sorted(item["name"] for item in items) == [f"Bulk {i:03d}" for i in range(230)]
    assert all(campaign_id_of(item) for item in items)
    journal = emu.journal()
    assert _api(journal) == [("POST", f"{V2}/getAllCampaignDetails")] * 3
    # pages after the first are sent ahead, several at a time: the server may see them in any order
    assert sorted((e["body"] for e in journal), key=lambda body: body["skip"]) == [
        {"type": "sms", "skip": 0, "limit": 100},
        {"type": "sms", "skip": 100, "limit": 100},
        {"type": "sms", "skip": 200, "limit": 100},
    ]
    assert all(e["query"] == {"accountId": ACCOUNT} for e in journal)
    assert [item["name"] for item in client.list_campaigns("voice")] == ["Only Voice"]


def test_list_of_an_empty_account_is_one_call(client: KoreClient, emu: Emulator) -> None:
    assert client.list_campaigns("voice") == []
    assert len(emu.journal()) == 1


def test_list_and_other_calls_reject_an_unknown_campaign_type(client: KoreClient, emu: Emulator) -> None:
    with pytest.raises(ValueError, match="sms"):
        client.list_campaigns("email")
    with pytest.raises(ValueError, match="voice"):
        client.create_campaign("fax", sms_body())
    assert emu.journal() == []


def test_create_sms_returns_the_raw_document(client: KoreClient, emu: Emulator) -> None:
    doc = client.create_campaign("sms", sms_body("Welcome SMS"))

    assert doc["name"] == "Welcome SMS"
    assert doc["experienceFlow"].startswith("cf-")  # the raw server document, untouched
    assert doc["_id"].startswith("cd-")
    (entry,) = emu.journal()
    assert (entry["method"], entry["path"]) == ("POST", V2)
    assert entry["query"] == {"accountId": ACCOUNT, "campaignType": "sms"}
    assert entry["body"] == sms_body("Welcome SMS")
    assert [c["name"] for c in emu.campaigns()] == ["Welcome SMS"]


def test_create_voice_tolerates_id_instead_of__id(client: KoreClient, emu: Emulator) -> None:
    doc = client.create_campaign("voice", voice_body("Survey Calls"))

    assert "_id" not in doc  # the voice create response uses `id` (reference §5.2)
    assert campaign_id_of(doc) == doc["id"]
    assert emu.journal()[0]["query"] == {"accountId": ACCOUNT, "campaignType": "voice"}
    assert client.get_campaign(doc["id"])["_id"] == doc["id"]


def test_get_update_and_delete(client: KoreClient, emu: Emulator) -> None:
    cid = emu.seed([sms_body("Billing")])["Billing"]

    assert client.get_campaign(cid)["description"] == "Chat-enabled SMS support"
    updated = client.update_campaign(cid, "sms", sms_body("Billing", description="new words"))
    assert updated["description"] == "new words"
    deleted = client.delete_campaign(cid, "sms")
    assert campaign_id_of(deleted) == cid

    assert emu.campaigns() == []
    get, put, delete = emu.journal()
    assert (get["method"], get["path"], get["query"]) == ("GET", f"{V2}/{cid}", {"accountId": ACCOUNT})
    assert (put["method"], put["path"], put["query"]) == (
        "PUT",
        f"{V2}/{cid}",
        {"accountId": ACCOUNT, "campaignType": "sms"},
    )
    assert put["body"]["description"] == "new words"
    assert (delete["method"], delete["path"], delete["query"]) == (
        "DELETE",
        f"{V2}/{cid}",
        {"accountId": ACCOUNT, "campaignType": "sms"},
    )


def test_get_of_an_unknown_campaign_is_not_found(client: KoreClient, emu: Emulator) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_campaign("cd-00000000-0000-0000-0000-000000000000")
    assert caught.value.status == 404
    assert caught.value.kore_message == "Campaign not found"
    assert len(emu.journal()) == 1, "404 is final: no retry"


def test_get_campaigns_maps_each_id_to_its_document_or_error(client: KoreClient, emu: Emulator) -> None:
    ids = emu.seed([sms_body(f"Many {i}") for i in range(5)])
    wanted = [*ids.values(), "cd-missing"]

    results = client.get_campaigns([*wanted, wanted[0]])

    assert list(results) == wanted, "input order, duplicates once"
    for name, cid in ids.items():
        doc = results[cid]
        assert isinstance(doc, dict)
        assert doc["name"] == name
    assert isinstance(results["cd-missing"], NotFoundError)
    assert len(emu.journal()) == 6


def test_every_request_carries_the_documented_headers(
    client: KoreClient, emu: Emulator, redactor: RecordingRedactor
) -> None:
    cid = client.create_campaign("sms", sms_body())["_id"]
    client.list_campaigns("sms")
    client.get_campaign(cid)
    client.update_campaign(cid, "sms", sms_body(description="d"))
    client.delete_campaign(cid, "sms")

    (token,) = set(redactor.tokens)
    journal = emu.journal()
    assert len(journal) == 5
    for entry in journal:
        assert entry["headers"] == {"iid": STREAM, "accountId": ACCOUNT, "auth": fingerprint(token)}
        assert entry["status"] == 200


def test_headers_and_encoding_on_the_wire(make_client: Callable[..., KoreClient]) -> None:
    """What the emulator journal does not record: Content-Type, User-Agent, no Authorization, encoded ids."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "success", "data": {"_id": "cd-1"}})

    transport, seen = mock_transport(answer)
    client = make_client(transport=transport)
    client.get_campaign("cd-a/b c?d")
    client.update_campaign("cd-1", "voice", {"name": "x"})

    get, put = seen
    assert get.url.raw_path == f"{V2}/cd-a%2Fb%20c%3Fd?accountId={ACCOUNT}".encode()
    assert put.url.params == httpx.QueryParams({"accountId": ACCOUNT, "campaignType": "voice"})
    assert json.loads(put.content) == {"name": "x"}
    for request in seen:
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == f"campaign-sync/{__version__}"
        assert request.headers["iid"] == STREAM
        assert request.headers["accountid"] == ACCOUNT
        assert request.headers["auth"].startswith("eyJ")
        assert "authorization" not in request.headers


def test_empty_campaign_ids_are_refused_before_any_request(client: KoreClient, emu: Emulator) -> None:
    with pytest.raises(ValueError, match="campaign id"):
        client.get_campaign("")
    assert emu.journal() == []


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"_id": "cd-1", "name": "a"}, "cd-1"),
        ({"id": "cd-2"}, "cd-2"),
        ({"_id": "cd-3", "id": "cd-3"}, "cd-3"),
        ({"_id": "", "id": "cd-4"}, "cd-4"),
        ({"name": "no id"}, None),
        ({"id": 5}, None),
        ("not a document", None),
    ],
)
def test_campaign_id_of_reads_either_spelling(doc: Any, expected: str | None) -> None:
    assert campaign_id_of(doc) == expected


def test_counter_counts_attempts_by_method_and_the_list_post_as_a_read(
    client: KoreClient, emu: Emulator
) -> None:
    cid = client.create_campaign("sms", sms_body())["_id"]
    client.list_campaigns("sms")
    client.get_campaign(cid)
    client.update_campaign(cid, "sms", sms_body(description="d"))
    client.delete_campaign(cid, "sms")

    counter = client.counter
    assert counter.by_method() == {"DELETE": 1, "GET": 1, "POST": 2, "PUT": 1}
    assert (counter.total, counter.writes, counter.reads) == (5, 3, 2)

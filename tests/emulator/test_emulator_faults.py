"""Scripted faults (reliability.md §6(a) rows H4-H19): each kind over a real socket."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from emulator_support import Kore, errors, sms_advanced

from campaign_sync.emulator import ConnectionDropped


def _wait_for(predicate: Any, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def campaign(kore: Kore) -> tuple[str, dict[str, Any]]:
    body = sms_advanced()
    return kore.create_ok(body)["_id"], body


def test_a_status_sequence_then_success(kore: Kore, campaign: tuple[str, dict[str, Any]]) -> None:
    cid, body = campaign
    kore.fault(method="PUT", path="/campaign/cd-", statuses=[503, 503])
    first, second = kore.put(cid, dict(body, description="a")), kore.put(cid, dict(body, description="b"))
    assert [first.status_code, second.status_code] == [503, 503]
    assert errors(first) == ["Service Unavailable"]
    assert kore.get_data(cid)["description"] == "Chat-enabled SMS support", "scripted statuses apply nothing"
    assert kore.put(cid, dict(body, description="c")).status_code == 200
    assert [e["status"] for e in kore.journal() if e["method"] == "PUT"] == [503, 503, 200]
    assert kore.control("GET", "faults")["faults"][0]["times"] == 0


def test_faults_match_method_and_path(kore: Kore, campaign: tuple[str, dict[str, Any]]) -> None:
    cid, _ = campaign
    kore.fault(method="PUT", path=cid, statuses=[500], times=-1)
    assert kore.get(cid).status_code == 200
    assert kore.list(type="sms").status_code == 200
    kore.control("DELETE", "faults")
    kore.fault(method="*", path="getAllCampaignDetails$", statuses=[500], times=-1)
    assert [kore.list(type="sms").status_code for _ in range(3)] == [500, 500, 500]
    assert kore.get(cid).status_code == 200


def test_retry_after_is_sent_as_given(kore: Kore) -> None:
    kore.fault(path="getAll", statuses=[429], retryAfter="7")
    kore.fault(path="getAll", statuses=[429], retryAfter="Wed, 21 Oct 2099 07:28:00 GMT")
    first, second = kore.list(type="sms"), kore.list(type="sms")
    assert first.headers["Retry-After"] == "7"
    assert errors(first) == [
        "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."
    ]
    assert second.headers["Retry-After"] == "Wed, 21 Oct 2099 07:28:00 GMT"


def test_custom_body_and_headers(kore: Kore) -> None:
    body = {"errors": [{"msg": "Invalid SDK credentials", "code": 4002}]}
    kore.fault(path="getAll", statuses=[403], body=body)
    kore.fault(path="getAll", statuses=[307], headers={"Location": "http://127.0.0.2:1/elsewhere"})
    forbidden = kore.list(type="sms")
    assert forbidden.status_code == 403
    assert forbidden.json() == body
    redirect = kore.list(type="sms")
    assert redirect.status_code == 307
    assert redirect.headers["Location"] == "http://127.0.0.2:1/elsewhere"


def test_drop_after_apply_applies_the_write_and_the_client_sees_a_connection_error(
    kore: Kore, campaign: tuple[str, dict[str, Any]]
) -> None:
    cid, body = campaign
    kore.fault(method="PUT", path=cid, dropAfterApply=True)
    with pytest.raises(httpx.TransportError):
        kore.put(cid, dict(body, description="applied anyway"))
    assert kore.get_data(cid)["description"] == "applied anyway"
    [entry] = [e for e in kore.journal() if e["method"] == "PUT"]
    assert entry["status"] == 200
    assert entry["dropped"] is True
    assert entry["fault"] == "f-1"


def test_a_dropped_create_still_creates_exactly_one_campaign(kore: Kore) -> None:
    kore.fault(method="POST", path=r"/campaign$", dropAfterApply=True)
    with pytest.raises(httpx.TransportError):
        kore.create(sms_advanced("Lost Response"))
    assert [r["name"] for r in kore.list_data(type="sms")["results"]] == ["Lost Response"]


def test_drop_before_applies_nothing(kore: Kore, campaign: tuple[str, dict[str, Any]]) -> None:
    cid, body = campaign
    kore.fault(method="PUT", path=cid, dropBefore=True)
    with pytest.raises(httpx.TransportError):
        kore.put(cid, dict(body, description="never applied"))
    assert kore.get_data(cid)["description"] == "Chat-enabled SMS support"
    assert [e["status"] for e in kore.journal() if e["method"] == "PUT"] == [None]


def test_in_process_drops_raise_connection_dropped(inproc: Kore) -> None:
    body = sms_advanced()
    cid = inproc.create_ok(body)["_id"]
    inproc.fault(method="PUT", dropAfterApply=True)
    with pytest.raises(ConnectionDropped):
        inproc.put(cid, dict(body, description="in-process"))
    assert inproc.get_data(cid)["description"] == "in-process"


def test_malformed_body_is_a_200_html_page(kore: Kore, campaign: tuple[str, dict[str, Any]]) -> None:
    cid, _ = campaign
    kore.fault(method="GET", malformed=True)
    response = kore.get(cid)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<html>")
    with pytest.raises(ValueError, match="Expecting value"):
        response.json()


def test_delay_holds_the_response_back(kore: Kore, campaign: tuple[str, dict[str, Any]]) -> None:
    cid, _ = campaign
    kore.fault(method="GET", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        kore.request("GET", f"{kore.v2}/{cid}", timeout=0.2)
    kore.fault(method="GET", delay=0.05)
    assert kore.get(cid).status_code == 200


def test_drip_sends_a_valid_body_in_several_pieces(kore: Kore, campaign: tuple[str, dict[str, Any]]) -> None:
    cid, _ = campaign
    kore.fault(method="GET", drip={"chunks": 4, "interval": 0.1})
    pieces: list[bytes] = []
    with kore.http.stream("GET", f"{kore.v2}/{cid}", headers=kore.headers) as response:
        pieces.extend(piece for piece in response.iter_raw() if piece)
    assert len(pieces) >= 3, "the body must arrive in separate writes"
    assert httpx.Response(200, content=b"".join(pieces)).json()["data"]["_id"] == cid


def test_hold_after_apply_applies_then_waits_until_released(
    kore: Kore, campaign: tuple[str, dict[str, Any]]
) -> None:
    cid, body = campaign
    kore.fault(method="PUT", path=cid, holdAfterApply=30)
    result: dict[str, int] = {}

    def held_put() -> None:
        with httpx.Client(base_url=str(kore.http.base_url), timeout=60) as http:
            result["status"] = Kore(http).put(cid, dict(body, description="held")).status_code

    worker = threading.Thread(target=held_put)
    worker.start()
    _wait_for(lambda: any(e["method"] == "PUT" for e in kore.journal()), "the held PUT to be journaled")
    assert kore.get_data(cid)["description"] == "held", "applied while the response is held"
    assert worker.is_alive()
    kore.control("POST", "faults/release")
    worker.join(timeout=10)
    assert result == {"status": 200}


def test_hold_makes_a_client_timeout_after_the_write(
    kore: Kore, campaign: tuple[str, dict[str, Any]]
) -> None:
    cid, body = campaign
    kore.fault(method="PUT", path=cid, holdAfterApply=5)
    with pytest.raises(httpx.ReadTimeout):
        kore.request(
            "PUT",
            f"{kore.v2}/{cid}",
            params={"campaignType": "sms"},
            json=dict(body, priority="1"),
            timeout=0.3,
        )
    assert kore.get_data(cid)["priority"] == "1"
    kore.control("DELETE", "faults")  # also releases the held response


@pytest.mark.parametrize(
    "spec",
    [
        {"statuses": [99]},
        {"path": "("},
        {"times": 0},
        {"delay": -1},
        {"drip": {"chunks": 0, "interval": 1}},
        {"dropAfterApply": "yes"},
        {"endlessPaging": 1},
        {"nestedBody": -1},
        {"nestedBody": True},
        {"nestedBody": 10_000_001},
        {"status": [500]},
    ],
)
def test_invalid_fault_specs_are_rejected(kore: Kore, spec: dict[str, Any]) -> None:
    response = kore.http.post("/__emulator/faults", json=spec)
    assert response.status_code == 400
    assert errors(response)


def test_faults_are_listed_with_their_use_count_and_cleared(kore: Kore) -> None:
    first = kore.fault(path="getAll", statuses=[502, 504], times=3)
    assert first == "f-1"
    codes = [kore.list(type="sms").status_code for _ in range(4)]
    assert codes == [502, 504, 504, 200], "the last status repeats while uses remain"
    [listed] = kore.control("GET", "faults")["faults"]
    assert listed["used"] == 3
    assert listed["times"] == 0
    kore.control("DELETE", "faults")
    assert kore.control("GET", "faults")["faults"] == []


def test_a_misspelt_fault_key_is_named(kore: Kore) -> None:
    response = kore.http.post("/__emulator/faults", json={"statuses": [500], "retry_after": "7"})
    assert response.status_code == 400
    [message] = errors(response)
    assert message.startswith("unknown fault key 'retry_after'; known: method, path, statuses")
    assert kore.control("GET", "faults")["faults"] == []


def test_endless_paging_repeats_the_first_page_with_has_more(kore: Kore) -> None:
    for index in range(3):
        kore.create_ok(sms_advanced(f"Paged {index}"))
    kore.fault(endlessPaging=True, times=-1)  # every method and path
    pages = [kore.list_data(type="sms", skip=skip, limit=2) for skip in (0, 2, 4, 400)]
    for skip, page in zip((0, 2, 4, 400), pages, strict=True):
        assert page["hasMore"] is True
        assert page["skip"] == skip, "skip echoes what was asked"
        assert [r["name"] for r in page["results"]] == ["Paged 0", "Paged 1"]
    by_page = kore.list_data(type="sms", page=3, limit=2)
    assert [r["name"] for r in by_page["results"]] == ["Paged 0", "Paged 1"]
    assert by_page["hasMore"] is True
    cid = pages[0]["results"][0]["id"]
    assert kore.get(cid).status_code == 200, "calls other than list are processed normally"
    assert kore.list(type="fax").status_code == 400, "a list error stays an error"
    listed = kore.control("GET", "faults")["faults"][0]
    assert listed["endlessPaging"] is True
    assert listed["used"] == 7


def test_nested_body_is_a_valid_deep_json_200_and_applies_nothing(
    kore: Kore, campaign: tuple[str, dict[str, Any]]
) -> None:
    cid, body = campaign
    kore.fault(method="PUT", path=cid, nestedBody=100_000)
    response = kore.put(cid, dict(body, description="never applied"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    text = response.text
    assert text.startswith('{"status":"success","message":"deep","data":[[[')
    assert text.count("[") == text.count("]") == 100_000
    with pytest.raises(RecursionError):
        response.json()
    assert kore.get_data(cid)["description"] == "Chat-enabled SMS support"
    [entry] = [e for e in kore.journal() if e["method"] == "PUT"]
    assert (entry["status"], entry["fault"]) == (200, "f-1")


def test_error_text_with_terminal_escapes_reaches_the_client_intact(kore: Kore) -> None:
    hostile = "bad \x1b[2J\x1b]0;owned\x07 \u202egnp.exe \x9b31m"
    kore.fault(path="getAll", statuses=[400], body={"errors": [{"msg": hostile, "code": 400}]})
    response = kore.list(type="sms")
    assert response.status_code == 400
    assert errors(response) == [hostile], "JSON escapes them (\\u001b); the client decodes real ESCs"
    kore.fault(path="getAll", statuses=[502], body=hostile)
    raw = kore.list(type="sms")
    assert raw.status_code == 502
    assert raw.headers["Content-Type"].startswith("text/plain")
    assert raw.content == hostile.encode("utf-8"), "a string body carries the raw bytes"


def test_429_with_a_large_retry_after_on_every_put(kore: Kore, campaign: tuple[str, dict[str, Any]]) -> None:
    cid, body = campaign
    kore.fault(method="PUT", statuses=[429], retryAfter="86400", times=-1)
    answers = [kore.put(cid, dict(body, description=str(n))) for n in range(3)]
    assert [(r.status_code, r.headers["Retry-After"]) for r in answers] == [(429, "86400")] * 3
    assert kore.get(cid).status_code == 200, "only PUTs are refused"
    assert kore.get_data(cid)["description"] == "Chat-enabled SMS support"


def test_raw_body_answers_exactly_those_bytes_and_applies_nothing(
    kore: Kore, campaign: tuple[str, dict[str, Any]]
) -> None:
    cid, body = campaign
    kore.fault(method="PUT", path=cid, rawBody="[[[[1]]]]")
    response = kore.put(cid, dict(body, description="never applied"))
    assert response.status_code == 200
    assert response.content == b"[[[[1]]]]"
    assert response.headers["Content-Type"].startswith("application/json")
    assert kore.get_data(cid)["description"] == "Chat-enabled SMS support"


def test_raw_body_with_a_status(kore: Kore) -> None:
    kore.fault(path="getAll", statuses=[502], rawBody="not json")
    response = kore.list(type="sms")
    assert (response.status_code, response.content) == (502, b"not json")


def test_list_omit_leaves_campaigns_out_of_list_answers_only(kore: Kore) -> None:
    first = kore.create_ok(sms_advanced("Listed"))["_id"]
    hidden = kore.create_ok(sms_advanced("Hidden"))["_id"]
    kore.fault(path="getAll", listOmit=[hidden], times=-1)
    data = kore.list_data(type="sms", limit=100)
    assert [r["id"] for r in data["results"]] == [first]
    assert data["totalResults"] == 1
    assert kore.get(hidden).status_code == 200, "GET still finds it"


@pytest.mark.parametrize(
    "spec", [{"rawBody": 5}, {"listOmit": "cd-1"}, {"listOmit": [""]}], ids=["raw", "omit-str", "omit-empty"]
)
def test_bad_raw_body_and_list_omit_are_refused(kore: Kore, spec: dict[str, Any]) -> None:
    response = kore.http.post("/__emulator/faults", json=spec)
    assert response.status_code == 400

"""A PUT whose outcome is uncertain is decided by reading the campaign back, never re-sent blind.

``holds`` is the caller's verdict on the document read back (the engine compares it with the
manifest's desired view); here it is a plain predicate so each path is explicit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from kore_support import Emulator, Sleeps, sms_body

from campaign_sync.errors import ApiError, ServerError
from campaign_sync.kore import KoreClient
from campaign_sync.kore.notices import Notices


def _calls(emu: Emulator) -> list[tuple[str, int | None, bool]]:
    return [(e["method"], e["status"], e["dropped"]) for e in emu.journal()]


def _described_as(text: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda doc: doc.get("description") == text


def test_a_lost_put_response_is_one_put_and_one_get_when_live_holds_the_update(
    make_client: Callable[..., KoreClient], emu: Emulator
) -> None:
    """Issue 10: 18 PUTs for 3 changes, reported failed, though live already held the values."""
    cid = emu.seed([sms_body("Lossy")])["Lossy"]
    lines: list[str] = []
    client = make_client(notices=Notices(lines.append))
    emu.fault(method="PUT", dropAfterApply=True, times=-1)

    doc = client.update_campaign(
        cid, "sms", sms_body("Lossy", description="after"), holds=_described_as("after")
    )

    assert doc["description"] == "after"
    assert _calls(emu) == [("PUT", 200, True), ("GET", 200, False)]
    assert any("read back holds the update, so it is not sent again" in line for line in lines), lines


def test_a_put_that_provably_did_not_take_is_sent_once_more(client: KoreClient, emu: Emulator) -> None:
    cid = emu.seed([sms_body("Flaky")])["Flaky"]
    emu.fault(method="PUT", path=cid, statuses=[502])

    doc = client.update_campaign(
        cid, "sms", sms_body("Flaky", description="after"), holds=_described_as("after")
    )

    assert doc["description"] == "after"
    assert _calls(emu) == [("PUT", 502, False), ("GET", 200, False), ("PUT", 200, False)]


def test_at_most_one_more_put_when_live_never_shows_the_update(client: KoreClient, emu: Emulator) -> None:
    cid = emu.seed([sms_body("Never")])["Never"]
    emu.fault(method="PUT", path=cid, statuses=[500], times=-1)

    with pytest.raises(ApiError) as caught:
        client.update_campaign(
            cid, "sms", sms_body("Never", description="after"), holds=_described_as("after")
        )

    assert "did not take" in str(caught.value)
    assert [m for m, _s, _d in _calls(emu)] == ["PUT", "GET", "PUT", "GET"]


def test_a_failed_read_back_leaves_the_put_in_doubt_and_unsent(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    cid = emu.seed([sms_body("Unreadable")])["Unreadable"]
    emu.fault(method="PUT", dropAfterApply=True)
    emu.fault(method="GET", statuses=[404])

    with pytest.raises(ApiError) as caught:
        client.update_campaign(cid, "sms", sms_body("Unreadable", description="x"), holds=lambda _doc: True)

    assert "may have been applied, and reading the campaign back to check failed" in str(caught.value)
    assert [m for m, _s, _d in _calls(emu)] == ["PUT", "GET"]


def test_a_rejected_put_is_final_and_not_read_back(client: KoreClient, emu: Emulator) -> None:
    cid = emu.seed([sms_body("Rejected")])["Rejected"]
    emu.fault(method="PUT", statuses=[400], body={"errors": [{"msg": "priority must be 1..5", "code": 400}]})

    with pytest.raises(ApiError, match=r"priority must be 1\.\.5"):
        client.update_campaign(cid, "sms", sms_body("Rejected"), holds=lambda _doc: True)

    assert [m for m, _s, _d in _calls(emu)] == ["PUT"]


def test_a_429_applied_nothing_and_is_retried_without_reading(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    cid = emu.seed([sms_body("Throttled")])["Throttled"]
    emu.fault(method="PUT", statuses=[429], retryAfter="2")

    client.update_campaign(cid, "sms", sms_body("Throttled", description="z"), holds=lambda _doc: False)

    assert [(m, s) for m, s, _d in _calls(emu)] == [("PUT", 429), ("PUT", 200)]
    assert sleeps.calls == [2.0]


def test_without_holds_a_5xx_put_is_final(client: KoreClient, emu: Emulator) -> None:
    cid = emu.seed([sms_body("NoJudge")])["NoJudge"]
    emu.fault(method="PUT", statuses=[504])

    with pytest.raises(ServerError, match="not sent again blind"):
        client.update_campaign(cid, "sms", sms_body("NoJudge"))

    assert [m for m, _s, _d in _calls(emu)] == ["PUT"]

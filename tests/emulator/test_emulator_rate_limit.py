"""The per-account sliding-window rate limit (reference §3.4): 429 with the documented message."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emulator_support import OTHER_ACCOUNT, Kore, errors

from campaign_sync.emulator import EmulatorServer, create_app

MESSAGE = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."


@pytest.fixture
def limited() -> Iterator[Kore]:
    app = create_app(rate_limit=3, rate_window=60.0)
    with EmulatorServer(app) as srv, httpx.Client(base_url=srv.url) as http:
        yield Kore(http)


def test_the_request_past_the_limit_gets_429_with_the_documented_message(limited: Kore) -> None:
    statuses = [limited.list(type="sms").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = limited.list(type="sms")
    assert response.status_code == 429
    assert errors(response) == [MESSAGE]
    assert "Retry-After" not in response.headers, "undocumented, so off by default"


def test_retry_after_is_sent_only_when_enabled(limited: Kore) -> None:
    limited.control("PUT", "settings", json={"retryAfter": True})
    for _ in range(3):
        limited.list(type="sms")
    response = limited.list(type="sms")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_a_slot_frees_when_the_window_slides(limited: Kore) -> None:
    for _ in range(3):
        limited.list(type="sms")
    assert limited.list(type="sms").status_code == 429
    limited.advance(61)
    assert limited.list(type="sms").status_code == 200


def test_limits_are_per_account(limited: Kore) -> None:
    for _ in range(4):
        limited.list(type="sms")
    assert Kore(limited.http, account=OTHER_ACCOUNT).list(type="sms").status_code == 200


def test_rejected_requests_are_journaled_and_control_calls_are_not_limited(limited: Kore) -> None:
    for _ in range(5):
        limited.list(type="sms")
    for _ in range(10):
        limited.control("GET", "health")
    assert [e["status"] for e in limited.journal()] == [200, 200, 200, 429, 429]


def test_rate_limit_zero_turns_it_off(limited: Kore) -> None:
    limited.control("PUT", "settings", json={"rateLimit": 0})
    assert {limited.list(type="sms").status_code for _ in range(20)} == {200}


def test_default_is_sixty_per_minute() -> None:
    app = create_app()
    assert (app.settings.rateLimit, app.settings.rateWindow) == (60, 60.0)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator.test") as http:
        kore = Kore(http)
        assert {kore.list(type="sms").status_code for _ in range(60)} == {200}
        assert kore.list(type="sms").status_code == 429

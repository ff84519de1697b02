"""Which failures are retried, how long the client waits (via the injected sleep), and when it gives up."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from email.utils import formatdate

import httpx
import pytest
from kore_support import STREAM, DroppingWSGITransport, Emulator, FakeClock, Sleeps, sms_body

from campaign_sync.emulator import EmulatorApp
from campaign_sync.errors import (
    ApiValidationError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from campaign_sync.kore import KoreClient

RATE_MESSAGE = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."


def _statuses(emu: Emulator, method: str | None = None) -> list[int | None]:
    return [e["status"] for e in emu.journal() if method is None or e["method"] == method]


def test_429_with_retry_after_seconds_waits_exactly_that_long(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    emu.fault(method="POST", statuses=[429], retryAfter="7")

    assert client.list_campaigns("sms") == []

    assert sleeps.calls == [7.0]
    assert _statuses(emu) == [429, 200]


def test_429_with_an_http_date_waits_until_that_date(
    make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps
) -> None:
    now = float(int(time.time()))
    client = make_client(wall_clock=lambda: now)
    emu.fault(method="POST", statuses=[429], retryAfter=formatdate(now + 9, usegmt=True))

    client.list_campaigns("sms")

    assert sleeps.calls == [9.0]
    assert _statuses(emu) == [429, 200]


def test_retry_after_is_capped(make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps) -> None:
    client = make_client(retry_after_cap=12.0)
    emu.fault(method="POST", statuses=[429], retryAfter="3600")

    client.list_campaigns("sms")

    assert sleeps.calls == [12.0]


def test_429_without_retry_after_backs_off_with_growing_jittered_waits(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    emu.fault(method="POST", statuses=[429, 429, 429, 429])

    client.list_campaigns("sms")

    assert _statuses(emu) == [429, 429, 429, 429, 200]
    assert len(sleeps.calls) == 4
    for attempt, wait in enumerate(sleeps.calls, start=1):
        assert 0.0 <= wait <= 0.5 * 2 ** (attempt - 1), (attempt, wait)


def test_rate_limited_after_every_attempt_says_so_with_the_server_message(
    make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps
) -> None:
    client = make_client(max_attempts=3)
    emu.fault(method="POST", statuses=[429], times=-1)

    with pytest.raises(RateLimitedError) as caught:
        client.list_campaigns("sms")

    error = caught.value
    assert error.status == 429
    assert error.kore_message == RATE_MESSAGE
    assert "gave up after 3 attempts" in str(error)
    assert error.method == "POST"
    assert error.path == f"/campaign/api/v2/public/{STREAM}/campaign/getAllCampaignDetails"
    assert "?" not in str(error)
    assert len(sleeps.calls) == 2


def test_503_twice_then_success_logs_each_retry_and_the_total_wait(
    client: KoreClient, emu: Emulator, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="campaign_sync.kore")
    cid = emu.seed([sms_body("Flaky")])["Flaky"]
    emu.fault(method="GET", statuses=[503, 503])

    assert client.get_campaign(cid)["name"] == "Flaky"

    assert _statuses(emu) == [503, 503, 200]
    assert len(sleeps.calls) == 2
    messages = [r.getMessage() for r in caplog.records]
    path = f"/campaign/api/v2/public/{STREAM}/campaign/{cid}"
    assert f"GET {path} -> HTTP 503; retrying in {sleeps.calls[0]:.1f}s (attempt 2 of 6)" in messages
    assert f"GET {path}: succeeded after 3 attempts (waited {sum(sleeps.calls):.1f}s in all)" in messages


@pytest.mark.parametrize("status", [500, 502, 504])
def test_other_transient_server_errors_are_retried(
    client: KoreClient, emu: Emulator, sleeps: Sleeps, status: int
) -> None:
    emu.fault(method="POST", statuses=[status])
    client.list_campaigns("voice")
    assert _statuses(emu) == [status, 200]


def test_persistent_500_is_a_server_error_after_max_attempts(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    emu.fault(method="GET", statuses=[500], times=-1)

    with pytest.raises(ServerError) as caught:
        client.get_campaign("cd-1")

    error = caught.value
    assert "gave up after 6 attempts" in str(error)
    assert error.status == 500
    assert error.kore_message == "Internal Server Error"
    assert (error.method, error.path) == ("GET", f"/campaign/api/v2/public/{STREAM}/campaign/cd-1")
    assert _statuses(emu) == [500] * 6
    assert len(sleeps.calls) == 5
    assert client.counter.by_method() == {"GET": 6}


def test_the_total_budget_stops_retries_before_max_attempts(
    make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps
) -> None:
    clock = FakeClock(0.0)

    def sleep(seconds: float) -> None:
        sleeps(seconds)
        clock.advance(seconds)

    client = make_client(clock=clock, sleep=sleep, retry_budget_seconds=20.0, max_attempts=10)
    emu.fault(method="GET", statuses=[503], retryAfter="8", times=-1)

    with pytest.raises(ServerError) as caught:
        client.get_campaign("cd-1")

    assert sleeps.calls == [8.0, 8.0], "a third 8 s wait would end at 24 s, past the 20 s budget"
    assert "gave up after 3 attempts" in str(caught.value)
    assert "would pass the retry budget" in str(caught.value)
    assert len(emu.journal()) == 3


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, ApiValidationError), (422, ApiValidationError), (404, NotFoundError), (409, ConflictError)],
)
def test_client_errors_are_final_and_carry_the_kore_message(
    client: KoreClient, emu: Emulator, sleeps: Sleeps, status: int, error_type: type[Exception]
) -> None:
    message = "dialingStrategy.callingHours.days[0].start must be before ...end"
    emu.fault(method="PUT", statuses=[status], body={"errors": [{"msg": message, "code": status}]})

    with pytest.raises(error_type) as caught:
        client.update_campaign("cd-1", "sms", sms_body())

    assert message in str(caught.value)
    assert caught.value.kore_message == message  # type: ignore[attr-defined]
    assert caught.value.status == status  # type: ignore[attr-defined]
    assert len(emu.journal()) == 1
    assert sleeps.calls == []


def test_real_validation_errors_from_the_emulator_are_reported_whole(
    client: KoreClient, emu: Emulator
) -> None:
    with pytest.raises(ApiValidationError) as caught:
        client.create_campaign("sms", sms_body("x" * 60, priority="9"))
    assert "name must be at most 48 characters" in caught.value.kore_message
    assert "priority" in caught.value.kore_message
    assert len(emu.journal()) == 1


def test_a_put_whose_response_is_lost_is_not_sent_again_blind(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    """Without a way to tell whether live holds the update, an in-doubt PUT is final (no blind resend)."""
    cid = emu.seed([sms_body("Lossy")])["Lossy"]
    emu.fault(method="PUT", dropAfterApply=True)

    with pytest.raises(TransportError) as caught:
        client.update_campaign(cid, "sms", sms_body("Lossy", description="after"))

    assert "may have been applied" in str(caught.value)
    assert "campaign-sync plan" in str(caught.value)
    assert [e["method"] for e in emu.journal()] == ["PUT"]
    assert sleeps.calls == []


def test_a_delete_whose_response_is_lost_then_404s_counts_as_deleted(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    cid = emu.seed([sms_body("Doomed")])["Doomed"]
    emu.fault(method="DELETE", dropAfterApply=True)

    assert client.delete_campaign(cid, "sms") == {}

    assert [(e["status"], e["dropped"]) for e in emu.journal()] == [(200, True), (404, False)]
    assert emu.campaigns() == []


def test_a_delete_of_a_missing_campaign_without_an_earlier_attempt_is_not_found(
    client: KoreClient, emu: Emulator
) -> None:
    with pytest.raises(NotFoundError):
        client.delete_campaign("cd-never-existed", "voice")
    assert len(emu.journal()) == 1


def test_delete_after_a_drop_in_process_too(app: EmulatorApp, make_client: Callable[..., KoreClient]) -> None:
    """The same rule through ``WSGITransport``, where a drop is the app raising ``ConnectionDropped``."""
    client = make_client(base_url="http://127.0.0.1:9", transport=DroppingWSGITransport(app=app))
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://127.0.0.1:9") as control:
        cid = control.post("/__emulator/seed", json={"campaigns": [sms_body("InProc")]}).json()["ids"][
            "InProc"
        ]
        control.post("/__emulator/faults", json={"method": "DELETE", "dropAfterApply": True})

        assert client.delete_campaign(cid, "sms") == {}

        entries = control.get("/__emulator/journal").json()["entries"]
    assert [(e["status"], e["dropped"]) for e in entries] == [(200, True), (404, False)]

"""The run's time budget: no request starts after the deadline, no wait starts that would end past it.

Time moves on an injected clock (``Timeline``): the client's retry sleeps, the rate limiter and the
budget all read it, so a two-hour budget is spent in microseconds and every assertion is a count.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kore_support import Emulator, Timeline, sms_body

from campaign_sync.errors import BudgetExceeded
from campaign_sync.kore import KoreClient
from campaign_sync.kore.budget import RunBudget
from campaign_sync.kore.ratelimit import RateLimiter


@pytest.fixture
def timeline() -> Timeline:
    return Timeline()


def _client(
    make_client: Callable[..., KoreClient], timeline: Timeline, seconds: float, **settings: object
) -> KoreClient:
    budget = RunBudget(seconds, clock=timeline.clock)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep, budget=budget)
    return make_client(clock=timeline.clock, sleep=timeline.sleep, budget=budget, limiter=limiter, **settings)


def _methods(emu: Emulator) -> list[str]:
    return [e["method"] for e in emu.journal()]


def test_a_retry_after_past_the_run_budget_stops_at_once_instead_of_waiting(
    make_client: Callable[..., KoreClient], emu: Emulator, timeline: Timeline
) -> None:
    """Issue 10: `Retry-After: 999999` on every PUT took 720 s for 3 campaigns; now it costs one request."""
    cid = emu.seed([sms_body("Storm")])["Storm"]
    client = _client(make_client, timeline, 7200)
    emu.fault(method="PUT", statuses=[429], retryAfter="999999", times=-1)

    with pytest.raises(BudgetExceeded) as caught:
        client.update_campaign(cid, "sms", sms_body("Storm", description="x"), holds=lambda _doc: False)

    message = str(caught.value)
    assert "the API asked to wait 999999s (Retry-After)" in message
    assert "7200s (--timeout)" in message
    assert caught.value.status == 429
    assert caught.value.write_in_doubt is False, "a 429 applied nothing"
    assert _methods(emu) == ["PUT"]
    assert timeline.sleeps == [], "no wait was started"


def test_retries_stop_when_the_next_wait_would_pass_the_run_budget(
    make_client: Callable[..., KoreClient], emu: Emulator, timeline: Timeline
) -> None:
    client = _client(make_client, timeline, 20, max_attempts=10, retry_budget_seconds=300)
    emu.fault(method="GET", statuses=[503], retryAfter="8", times=-1)

    with pytest.raises(BudgetExceeded) as caught:
        client.get_campaign("cd-1")

    assert timeline.sleeps == [8.0, 8.0], "a third 8 s wait would end at 24 s, past the 20 s run budget"
    assert "after 3 attempts" in str(caught.value)
    assert _methods(emu) == ["GET"] * 3


def test_no_request_starts_once_the_deadline_has_passed(
    make_client: Callable[..., KoreClient], emu: Emulator, timeline: Timeline
) -> None:
    client = _client(make_client, timeline, 30)
    assert client.list_campaigns("sms") == []
    timeline.advance(31)

    with pytest.raises(BudgetExceeded) as caught:
        client.list_campaigns("voice")

    assert "ran out before the request could be sent" in str(caught.value)
    assert len(emu.journal()) == 1


def test_the_budget_spans_calls_not_just_one(
    make_client: Callable[..., KoreClient], emu: Emulator, timeline: Timeline
) -> None:
    """Each call's own retry budget is 300 s; the run's 100 s budget is shared by all of them."""
    ids = list(emu.seed([sms_body(f"Slow {i}") for i in range(5)]).values())
    client = _client(make_client, timeline, 100)
    for cid in ids:
        emu.fault(method="GET", path=cid, statuses=[503], retryAfter="30")

    done: list[str] = []

    def read_all() -> None:
        for cid in ids:
            client.get_campaign(cid)
            done.append(cid)

    with pytest.raises(BudgetExceeded):
        read_all()

    assert len(done) == 3, "three calls of one 30 s wait each fit in 100 s; the fourth's wait does not"
    assert timeline.sleeps == [30.0, 30.0, 30.0]


def test_a_rate_limit_wait_past_the_deadline_is_not_started(timeline: Timeline) -> None:
    budget = RunBudget(10, clock=timeline.clock)
    limiter = RateLimiter(1, 60.0, clock=timeline.clock, sleep=timeline.sleep, budget=budget)
    limiter.acquire()

    with pytest.raises(BudgetExceeded) as caught:
        limiter.acquire()

    assert "the next free request slot at 1 requests/minute is 61s away" in str(caught.value)
    assert timeline.sleeps == []


def test_an_account_pause_past_the_deadline_is_not_started(timeline: Timeline) -> None:
    budget = RunBudget(60, clock=timeline.clock)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep, budget=budget)
    admitted = limiter.acquire()
    limiter.throttled(admitted, retry_after=90)  # capped at 120: a 90 s pause

    with pytest.raises(BudgetExceeded) as caught:
        limiter.acquire()

    assert "the account is paused for 90s more after a 429" in str(caught.value)


def test_a_lost_put_response_then_the_deadline_says_the_write_is_in_doubt(
    make_client: Callable[..., KoreClient], emu: Emulator, timeline: Timeline
) -> None:
    cid = emu.seed([sms_body("Doubt")])["Doubt"]
    client = _client(make_client, timeline, 5)
    emu.fault(method="PUT", dropAfterApply=True)
    emu.fault(method="GET", statuses=[503], retryAfter="10", times=-1)

    with pytest.raises(BudgetExceeded) as caught:
        client.update_campaign(cid, "sms", sms_body("Doubt", description="y"), holds=lambda _doc: True)

    assert caught.value.write_in_doubt is True
    assert "may have been applied" in str(caught.value)
    assert _methods(emu) == ["PUT", "GET"]


def test_without_a_budget_nothing_changes(make_client: Callable[..., KoreClient], emu: Emulator) -> None:
    client = make_client()
    assert client.budget.limited is False
    assert client.budget.remaining() == float("inf")
    assert client.list_campaigns("sms") == []


def test_each_attempt_is_cut_to_the_time_the_run_has_left(
    make_client: Callable[..., KoreClient], emu: Emulator
) -> None:
    """A 3 s server delay against 0.5 s left: the attempt ends with the budget, not with the server."""
    client = make_client(budget=RunBudget(0.5), read_timeout=5.0, request_deadline=10.0)
    emu.fault(method="POST", delay=3.0)

    with pytest.raises(BudgetExceeded):
        client.list_campaigns("sms")

    assert len(emu.journal()) <= 1

"""The account's pace: shared pause after a 429, and adaptive rate when the server allows less.

The client limiter runs on an injected clock (``Timeline``) against the emulator's own sliding-
window limiter (``campaign_sync.emulator.faults.RateLimiter``, the code that answers 429 on the
wire), fed the same clock. Every assertion is a count: requests accepted per window, 429s.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kore_support import Emulator, Sleeps, Timeline, sms_body

from campaign_sync.emulator import create_app
from campaign_sync.emulator.faults import RateLimiter as ServerLimiter
from campaign_sync.emulator.server import EmulatorServer
from campaign_sync.kore import KoreClient
from campaign_sync.kore.notices import Notices
from campaign_sync.kore.ratelimit import RateLimiter

LATENCY = 0.05  # simulated seconds from admission to the server's answer


def simulate(configured: int, server_limit: int, minutes: int) -> tuple[list[float], int, RateLimiter]:
    """Sequential requests for ``minutes``: accepted times (simulated) and the number answered 429."""
    timeline = Timeline(start=0.0)
    client = RateLimiter(configured, 60.0, clock=timeline.clock, sleep=timeline.sleep)
    server = ServerLimiter(server_limit, 60.0)
    accepted: list[float] = []
    refused = 0
    while timeline.now < minutes * 60:
        admitted = client.acquire()
        timeline.advance(LATENCY)
        if server.check("account", timeline.now) is None:
            client.accepted(admitted)
            accepted.append(timeline.now)
        else:
            refused += 1
            client.throttled(admitted, retry_after=None)
            timeline.advance(0.25)  # the retry policy's backoff before the next attempt
    return accepted, refused, client


def per_minute(times: list[float], start: float, end: float) -> float:
    return sum(1 for t in times if start <= t < end) / ((end - start) / 60)


def test_at_the_configured_limit_nothing_is_refused_and_the_pace_is_kept() -> None:
    accepted, refused, client = simulate(configured=60, server_limit=60, minutes=10)
    assert refused == 0
    assert per_minute(accepted, 60, 600) >= 0.95 * 60
    assert client.current == 60


def test_a_server_allowing_half_the_configured_rate_is_tracked_closely() -> None:
    """Configured 60, server 30: >= 90 % of the server's limit with <= 5 % of requests refused."""
    accepted, refused, client = simulate(configured=60, server_limit=30, minutes=30)
    total = len(accepted) + refused
    assert refused / total <= 0.05, (refused, total)
    assert per_minute(accepted, 120, 1800) >= 0.9 * 30
    assert 25 <= client.current <= 36
    assert client.decreases >= 1


def test_a_server_allowing_a_tenth_is_found_too() -> None:
    accepted, refused, _client = simulate(configured=100, server_limit=10, minutes=30)
    total = len(accepted) + refused
    assert refused / total <= 0.05, (refused, total)
    assert per_minute(accepted, 300, 1800) >= 0.9 * 10


def test_one_decrease_per_congestion_event() -> None:
    """Requests already in flight when the pace dropped do not drop it again."""
    timeline = Timeline(start=0.0)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep)
    in_flight = [limiter.acquire() for _ in range(4)]
    timeline.advance(0.1)
    for admitted in in_flight:
        limiter.throttled(admitted, retry_after=None)
    assert limiter.current == 30
    assert limiter.decreases == 1


def test_a_429_with_nothing_accepted_halves_rather_than_collapses() -> None:
    timeline = Timeline(start=0.0)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep)
    limiter.throttled(limiter.acquire(), retry_after=None)
    assert limiter.current == 30
    limiter.throttled(limiter.acquire(), retry_after=None)
    assert limiter.current == 15


def test_the_pace_grows_back_after_a_clean_window_up_to_the_configured_limit() -> None:
    timeline = Timeline(start=0.0)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep)
    limiter.throttled(limiter.acquire(), retry_after=None)
    assert limiter.current == 30
    for expected in (33, 36, 39):
        timeline.advance(60)
        limiter.acquire()
        assert limiter.current == expected
    timeline.advance(3600)
    for _ in range(20):
        timeline.advance(60)
        limiter.acquire()
    assert limiter.current == 60


def test_a_pace_change_is_announced() -> None:
    lines: list[str] = []
    timeline = Timeline(start=0.0)
    limiter = RateLimiter(
        60,
        60.0,
        clock=timeline.clock,
        sleep=timeline.sleep,
        notices=Notices(lines.append, clock=timeline.clock),
    )
    for _ in range(30):
        limiter.accepted(limiter.acquire())
    limiter.throttled(limiter.acquire(), retry_after=None)
    assert lines == [
        "the API refused a request at 60 requests/minute (30 accepted in the last 60s): "
        "sending at most 30 requests/minute from now on"
    ]


def test_a_retry_after_pauses_every_caller_but_not_twice_the_one_that_got_it() -> None:
    timeline = Timeline(start=0.0)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep)
    admitted = limiter.acquire()
    until = limiter.throttled(admitted, retry_after=7)
    assert until == pytest.approx(7.0)

    limiter.acquire(waited_until=until)  # the call that got the 429 waits in its retry policy instead
    assert timeline.sleeps == []
    limiter.acquire()  # any other caller waits out the pause
    assert sum(timeline.sleeps) == pytest.approx(7.0)


def test_retry_after_is_capped_for_the_pause_too() -> None:
    timeline = Timeline(start=0.0)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep, retry_after_cap=12)
    assert limiter.throttled(limiter.acquire(), retry_after=3600) == pytest.approx(12.0)


def test_one_threads_429_pauses_the_other_workers_on_the_wire(
    make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps
) -> None:
    """A 429 with Retry-After on one GET of a parallel read pauses the whole pool (account-wide)."""
    ids = list(emu.seed([sms_body(f"Pool {i}") for i in range(6)]).values())
    timeline = Timeline(start=0.0)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep)
    client = make_client(parallelism=1, limiter=limiter)
    emu.fault(method="GET", path=ids[0], statuses=[429], retryAfter="9")

    results = client.get_campaigns(ids)

    assert all(isinstance(doc, dict) for doc in results.values())
    assert sleeps.calls == [9.0], "the call that got the 429 waited in its retry policy"
    assert limiter.paused_until == pytest.approx(9.0)
    assert [e["status"] for e in emu.journal()] == [429, 200, 200, 200, 200, 200, 200]


def test_against_a_slower_server_the_client_settles_below_it_with_few_429s(
    make_client: Callable[..., KoreClient],
) -> None:
    """Real emulator, real clock, small window: configured 8 per 1 s, server 4 per 1 s."""
    app = create_app(rate_limit=4, rate_window=1.0, preparing_seconds=0.0)
    with EmulatorServer(app, host="127.0.0.1", port=0) as server:
        control = Emulator(server.url)
        ids = list(control.seed([sms_body(f"Slow {i:02d}") for i in range(12)]).values())
        client = make_client(base_url=server.url, rate_limit=8, rate_window=1.0, parallelism=1)

        results = client.get_campaigns(ids)

        statuses = [e["status"] for e in control.journal()]
        control.close()
    assert all(isinstance(doc, dict) for doc in results.values())
    assert statuses.count(200) == 12
    assert statuses.count(429) <= 3, statuses
    assert client.limiter.current <= 5

"""The shared rate limiter and the in-flight bound, asserted on the emulator's clock and the wire."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from kore_support import Emulator, ProbeTransport, Timeline, sms_body

from campaign_sync.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorApp,
    EmulatorServer,
    create_app,
)
from campaign_sync.kore import ClientSettings, Credentials, KoreClient
from campaign_sync.kore.ratelimit import RateLimiter
from campaign_sync.redact import Redactor


@pytest.fixture
def limited_app() -> EmulatorApp:
    return create_app(rate_limit=5, rate_window=2.0, preparing_seconds=0.0)


@pytest.fixture
def limited(limited_app: EmulatorApp) -> Iterator[tuple[EmulatorServer, Emulator]]:
    with EmulatorServer(limited_app, host="127.0.0.1", port=0) as srv:
        control = Emulator(srv.url)
        yield srv, control
        control.close()


def _most_in_any_window(times: list[float], window: float) -> int:
    """The most requests in any window of ``window`` seconds, as the emulator counts: (t - window, t]."""
    times = sorted(times)
    return max(sum(1 for other in times if t - window < other <= t) for t in times)


def test_the_limiter_keeps_parallel_requests_under_the_server_limit(
    limited: tuple[EmulatorServer, Emulator], make_client: Callable[..., KoreClient]
) -> None:
    server, emu = limited
    ids = list(emu.seed([sms_body(f"Limited {i:02d}") for i in range(15)]).values())
    client = make_client(base_url=server.url, rate_limit=5, rate_window=2.0, parallelism=4)

    results = client.get_campaigns(ids)

    assert all(isinstance(doc, dict) for doc in results.values())
    journal = emu.journal()
    assert len(journal) == 15
    assert [e["status"] for e in journal] == [200] * 15, "no request was answered 429"
    assert _most_in_any_window([e["time"] for e in journal], 2.0) <= 5


def test_without_the_client_limiter_the_same_burst_is_throttled(
    limited: tuple[EmulatorServer, Emulator], make_client: Callable[..., KoreClient]
) -> None:
    """The control case: a client allowed far more than the server gets 429s (so the test above is meaningful)."""
    server, emu = limited
    ids = list(emu.seed([sms_body(f"Burst {i:02d}") for i in range(8)]).values())
    client = make_client(base_url=server.url, rate_limit=1000, rate_window=2.0, parallelism=4, max_attempts=1)

    results = client.get_campaigns(ids)

    assert 429 in [e["status"] for e in emu.journal()]
    assert any(not isinstance(doc, dict) for doc in results.values())


def test_a_long_wait_for_the_limiter_is_announced_once_then_every_few_seconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="campaign_sync.kore")
    timeline = Timeline()
    limiter = RateLimiter(2, 20.0, clock=timeline.clock, sleep=timeline.sleep)
    start = timeline.now
    try:
        assert limiter.acquire() == start
        assert limiter.acquire() == start
        admitted = limiter.acquire()
    finally:
        limiter.close()
    assert admitted - start > 20.0, "the third request waited for the first to leave the window"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rate limit")]
    assert lines[0] == "rate limit (2 requests per 20s): waiting 21.0s for a free request slot"
    assert [line for line in lines if "waiting 21.0s" in line] == [lines[0]], "announced once"
    assert len([line for line in lines if "still waiting" in line]) >= 3, lines
    assert max(timeline.sleeps) <= 5.0, "long waits are slept in slices, so progress can be reported"


def test_requests_in_flight_never_exceed_parallelism(
    emu: Emulator, make_client: Callable[..., KoreClient]
) -> None:
    probe = ProbeTransport(httpx.HTTPTransport(limits=httpx.Limits(max_connections=10)))
    client = make_client(transport=probe, parallelism=3)
    ids = list(emu.seed([sms_body(f"Slow {i:02d}") for i in range(9)]).values())
    emu.fault(method="GET", delay=0.15, times=-1)

    results = client.get_campaigns(ids)

    assert len(results) == 9
    assert probe.max_in_flight == 3, "parallel, but never more than the setting"


def test_the_semaphore_bounds_callers_outside_get_campaigns_too(
    emu: Emulator, make_client: Callable[..., KoreClient]
) -> None:
    probe = ProbeTransport(httpx.HTTPTransport(limits=httpx.Limits(max_connections=10)))
    client = make_client(transport=probe, parallelism=2)
    emu.fault(method="POST", delay=0.15, times=-1)

    threads = [threading.Thread(target=client.list_campaigns, args=("sms",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(probe.requests) == 6
    assert probe.max_in_flight == 2


def test_closing_the_client_leaves_no_thread_behind(settings: ClientSettings) -> None:
    before = set(threading.enumerate())
    creds = Credentials(client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET)
    with KoreClient(settings, creds, Redactor()) as client:
        client.list_campaigns("sms")
        client.get_campaigns(["cd-1", "cd-2"])
    ours = [
        t
        for t in set(threading.enumerate()) - before
        if not t.daemon or "Leaker" in t.name or t.name.startswith("campaign-sync")
    ]
    assert ours == [], "no limiter leak thread, no pool worker, nothing that keeps the process alive"
    client.close()  # idempotent
    with pytest.raises(RuntimeError):
        client.list_campaigns("sms")

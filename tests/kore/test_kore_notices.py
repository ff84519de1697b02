"""Progress lines from the client: what they say and when they are due (on an injected clock)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from kore_support import Emulator, Timeline

from campaign_sync.kore import KoreClient
from campaign_sync.kore.notices import Notices
from campaign_sync.kore.ratelimit import RateLimiter


def test_short_rate_limit_waits_are_summed_and_reported_every_few_seconds() -> None:
    timeline = Timeline(start=0.0)
    lines: list[str] = []
    notices = Notices(lines.append, clock=timeline.clock)
    limiter = RateLimiter(60, 60.0, clock=timeline.clock, sleep=timeline.sleep, notices=notices)
    for _ in range(60):  # one a second: the window fills evenly
        limiter.acquire()
        timeline.advance(1.0)
    for _ in range(20):  # the window is full: each further request waits about a second
        limiter.acquire()
    summaries = [line for line in lines if "waited" in line]
    assert summaries, lines
    assert all(line.startswith("rate limit (60 requests/minute): waited ") for line in summaries)
    assert len(summaries) <= 20 / 5 + 1, "at most one line every 5 s"


def test_every_line_ends_with_the_runs_status() -> None:
    lines: list[str] = []
    notices = Notices(lines.append)
    notices.status = "12 of 70 changes done"
    notices.retrying("PUT /campaign/cd-1", "HTTP 503", 1.25, 2, 6)
    notices.status = ""
    notices.say("plain")
    assert lines == [
        "PUT /campaign/cd-1 -> HTTP 503; retrying in 1.2s (attempt 2 of 6); 12 of 70 changes done",
        "plain",
    ]


def test_without_a_sink_lines_are_logged_at_info_and_with_one_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="campaign_sync.kore")
    Notices().say("to the log")
    Notices(lambda _line: None).say("to the sink")
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert levels == {"to the log": logging.INFO, "to the sink": logging.DEBUG}


def test_retries_of_a_refused_connection_reach_the_sink(
    make_client: Callable[..., KoreClient], emu: Emulator
) -> None:
    lines: list[str] = []
    client = make_client(base_url="http://127.0.0.1:9", notices=Notices(lines.append), max_attempts=3)
    with pytest.raises(Exception, match="cannot connect"):
        client.list_campaigns("sms")
    retries = [line for line in lines if "retrying in" in line]
    assert len(retries) == 2
    assert all("cannot connect to 127.0.0.1:9" in line for line in retries)
    assert "(attempt 2 of 3)" in retries[0]

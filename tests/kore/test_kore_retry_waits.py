"""A long retry wait is slept in slices that say the run still waits (on an injected clock)."""

from __future__ import annotations

from kore_support import Timeline

from campaign_sync.kore.notices import Notices


def test_a_long_retry_wait_reports_every_few_seconds_with_the_status() -> None:
    timeline = Timeline(start=0.0)
    lines: list[str] = []
    notices = Notices(lines.append, clock=timeline.clock)
    notices.status = "3 of 70 changes done"
    notices.sliced(timeline.sleep)(30.0)
    assert timeline.sleeps == [5.0] * 6  # the whole wait, in slices of the interval
    assert lines == [
        f"waiting to retry: still waiting, {left}s left; 3 of 70 changes done" for left in (25, 20, 15, 10, 5)
    ]


def test_a_short_retry_wait_is_one_sleep_and_no_line() -> None:
    timeline = Timeline(start=0.0)
    lines: list[str] = []
    Notices(lines.append, clock=timeline.clock).sliced(timeline.sleep)(1.5)
    assert timeline.sleeps == [1.5]
    assert lines == []


def test_lines_are_due_only_when_the_clock_passes_the_interval() -> None:
    timeline = Timeline(start=0.0)
    lines: list[str] = []
    notices = Notices(lines.append, clock=timeline.clock)
    notices.rate_wait(3.0, "60 requests/minute")  # a long rate wait announced just now
    notices.sliced(lambda _s: None)(12.0)  # a sleep that takes no time on this clock: nothing due
    assert lines == ["rate limit (60 requests/minute): waiting 3.0s for a free request slot"]

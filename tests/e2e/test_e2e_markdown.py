"""The Markdown comment from the real command: its own joiners raw on stdout, a user's escaped."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import ADVANCED, setup

pytestmark = pytest.mark.e2e

LIVE = "@team see https://evil.example and www.x.com zero\u200dwidth \u202eevil"


def test_mentions_and_links_are_broken_by_a_raw_joiner_and_user_joiners_stay_escaped(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    emulator.patch(ADVANCED, {"description": LIVE})
    emulator.clear_journal()

    result = ws.run("plan", "--format", "markdown")
    assert result.code == 0, result.both
    out = result.out
    assert "@\u200dteam" in out, "the renderer's joiner reaches stdout as the real character"
    assert "https:\u200d//evil.example" in out
    assert "www\u200d.x.com" in out
    assert "zero\\\\u200dwidth" in out, "a joiner in the live text stays escaped (and its backslash)"
    assert "\\\\u202eevil" in out
    assert "\u202e" not in out
    assert out.count("\u200d") == 3, "only the renderer's own joiners are raw"
    assert "@team" not in out
    assert "https://evil" not in out

    report = ws.root / "drift.md"
    drift = ws.run("drift", "--format", "markdown", "--output", str(report))
    assert drift.code == 2, drift.both
    text = report.read_text(encoding="utf-8")
    assert "@\u200dteam" in text
    assert "zero\\\\u200dwidth" in text
    assert text.count("\u200d") == out.count("\u200d")
    assert emulator.writes() == []

"""Markdown for pull-request comments: hostile user text stays text; long plans stay under the cap."""

from __future__ import annotations

import re

from campaign_sync.core.diff import FieldChange
from campaign_sync.core.plan import Action, Change, Plan, Summary
from campaign_sync.report import markdown, render_plan
from campaign_sync.report.markdown import escape

HOSTILE = "Promo @here <script>alert(1)</script> | `rm -rf` [x](https://evil.example) www.evil.example *bold* ~~gone~~"


def plan_with(names: list[str], description: str = HOSTILE) -> Plan:
    changes = tuple(
        Change(
            key=f"k{i:04d}",
            action=Action.UPDATE,
            campaign_type="sms",
            name=name,
            campaign_id=f"cd-{i}",
            fields=(FieldChange("description", "old | value", description),),
        )
        for i, name in enumerate(names)
    )
    return Plan("prod", changes, Summary(update=len(changes)))


def test_hostile_user_text_is_escaped() -> None:
    text = render_plan(plan_with([HOSTILE]), "markdown")
    assert "<script>" not in text
    assert "@here" not in text
    assert "&#64;here" in text
    assert "&lt;script&gt;" in text
    assert "https://evil" not in text
    assert "www.evil" not in text
    assert "[x](" not in text
    assert "\\`rm -rf\\`" in text


def test_pipes_never_break_the_table() -> None:
    text = render_plan(plan_with(["Name | with | pipes"]), "markdown")
    rows = [line for line in text.splitlines() if line.startswith("| description")]
    assert rows
    for row in rows:
        unescaped = re.sub(r"\\\|", "", row)
        assert unescaped.count("|") == 4  # exactly three cells


def test_summary_line_comes_first() -> None:
    lines = [line for line in render_plan(plan_with(["A"]), "markdown").splitlines() if line.strip()]
    assert lines[1] == "**Plan: 0 to create, 1 to update, 0 to delete, 0 unchanged, 0 unmanaged.**"


def test_long_plans_are_cut_under_the_comment_limit_with_a_note() -> None:
    plan = plan_with([f"Campaign {i}" for i in range(2000)], description="x" * 200)
    text = render_plan(plan, "markdown")
    assert len(text) < markdown.LIMIT
    match = re.search(r"_(\d+) more campaigns not shown", text)
    assert match is not None
    shown = text.count("<details>")
    assert shown + int(match.group(1)) == 2000


def test_escape_keeps_plain_text_readable() -> None:
    assert escape("Bill Reminder (May 2026) - 50% off.") == "Bill Reminder (May 2026) - 50% off."
    assert escape("line one\nline two") == "line one line two"

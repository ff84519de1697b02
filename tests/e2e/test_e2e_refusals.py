"""The plan states what apply will refuse, and apply refuses exactly that (one rule, core/refusals).

For each reason (needs-allow-delete, safety-threshold, blocked) the plan's JSON, text and
Markdown state the refusal with what lifts it, and `apply` against the emulator refuses (or
fails the change) with the very same message; with the override given, apply goes ahead.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import BILL, PREVIEW, base_seed, edit, setup

pytestmark = pytest.mark.e2e


def plan_refusals(ws: Workspace) -> list[dict[str, Any]]:
    result = ws.run("plan", "--format", "json")
    assert result.code == 0, result.both
    refusals: list[dict[str, Any]] = json.loads(result.out)["refusals"]
    return refusals


def stated_in_every_format(ws: Workspace, message: str) -> None:
    text = ws.run("plan")
    assert "Apply will refuse:" in text.out
    assert f"  - {message}" in text.out
    markdown = ws.run("plan", "--format", "markdown")
    assert "**Apply will refuse**" in markdown.out
    assert "--" in markdown.out  # the override is named in the Markdown too


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_a_delete_is_stated_as_needing_allow_delete_and_apply_refuses_with_that_message(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    text = (ws.root / "manifests" / "voice.yaml").read_text()
    ws.write("manifests/voice.yaml", text.split("  - key: product-feedback")[0])

    (refusal,) = plan_refusals(ws)
    saved = ws.run("plan", "--out", "plan.json")
    assert saved.code == 0, saved.both
    assert json.loads((ws.root / "plan.json").read_text())["plan"]["refusals"] == [refusal]
    assert refusal["reason"] == "needs-allow-delete"
    assert refusal["override"] == "--allow-delete"
    assert refusal["keys"] == ["product-feedback"]
    stated_in_every_format(ws, refusal["message"])

    refused = ws.run("apply", "--auto-approve")
    assert refused.code == 1
    assert one_line(refusal["message"] + " Nothing was applied.") in one_line(refused.err)
    assert emulator.writes() == []
    done = ws.run("apply", "--auto-approve", "--allow-delete")
    assert done.code == 0, done.both
    assert [w["method"] for w in emulator.writes()] == ["DELETE"]
    assert plan_refusals(ws) == []


def test_the_safety_threshold_is_stated_with_force_and_apply_refuses_with_that_message(
    ws: Workspace, emulator: Emulator
) -> None:
    seed = base_seed()
    template = seed["campaigns"][1]
    for i in range(6):
        campaign = json.loads(json.dumps(template))
        campaign["_id"] = f"cd-00000000-0000-4000-8000-0000000001{i:02d}"
        campaign["name"] = f"Reminder {i}"
        seed["campaigns"].append(campaign)
    emulator.seed(seed)
    setup(ws, emulator, seed=False, adopt=False)
    block = (ws.root / "manifests" / "sms.yaml").read_text().split("  - key: bill-reminder")[1]
    more = "".join(
        f"  - key: reminder-{i}" + block.replace("name: Bill Reminder", f"name: Reminder {i}")
        for i in range(6)
    )
    ws.write("manifests/more.yaml", "campaigns:\n" + more)
    assert ws.run("apply", "--auto-approve").code == 0
    assert plan_refusals(ws) == []
    for i in range(6):
        more = more.replace(
            f"name: Reminder {i}\n    description: Due date reminder",
            f"name: Reminder {i}\n    description: Changed {i}",
        )
    ws.write("manifests/more.yaml", "campaigns:\n" + more)
    emulator.clear_journal()

    (refusal,) = plan_refusals(ws)
    assert refusal["reason"] == "safety-threshold"
    assert refusal["override"] == "--force"
    assert refusal["keys"] == [f"reminder-{i}" for i in range(6)]
    assert "6 of 10 managed campaigns would change or be deleted (60%)" in refusal["message"]
    stated_in_every_format(ws, refusal["message"])

    refused = ws.run("apply", "--auto-approve")
    assert refused.code == 1
    assert one_line(refusal["message"] + " Nothing was applied.") in one_line(refused.err)
    assert emulator.writes() == []
    forced = ws.run("apply", "--auto-approve", "--force")
    assert forced.code == 0, forced.both
    assert len(emulator.writes()) == 6


def test_an_update_of_an_active_campaign_is_stated_as_blocked_and_apply_fails_it_so(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    edit(ws, "voice.yaml", "description: Overdue balances", "description: C")
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    emulator.start(PREVIEW)
    emulator.clear_journal()

    (refusal,) = plan_refusals(ws)
    assert refusal["reason"] == "blocked"
    assert refusal["override"] is None  # no flag lifts it: the message says what to do
    assert refusal["keys"] == ["collections"]
    assert "stop it first" in refusal["message"]
    stated_in_every_format(ws, refusal["message"])
    assert emulator.writes() == []

    result = ws.run("apply", "--auto-approve")
    assert result.code == 1
    applied = json.loads(ws.run("plan", "--format", "json").out)
    (change,) = applied["changes"]
    assert change["key"] == "collections"
    assert refusal["message"].startswith(f"collections: {change['blocked']}")
    assert change["blocked"] in one_line(result.out), "apply fails the change with the plan's words"
    assert [e["path"].rsplit("/", 1)[-1] for e in emulator.writes()] == [BILL], "the others go ahead"
    assert applied["refusals"] == [refusal]

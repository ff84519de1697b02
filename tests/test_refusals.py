"""core.refusals: what apply will refuse, stated by the plan; the digest does not cover it."""

from __future__ import annotations

import dataclasses

from campaign_sync.core.changes import Action, Change, Policy
from campaign_sync.core.diff import FieldChange
from campaign_sync.core.digest import plan_digest
from campaign_sync.core.plan import Plan, Summary, safety_problem
from campaign_sync.core.refusals import Reason, decide, refusing


def update(key: str, blocked: str | None = None) -> Change:
    return Change(
        key, Action.UPDATE, "sms", key, f"cd-{key}", (FieldChange("description", "a", "b"),), blocked
    )


def delete(key: str) -> Change:
    return Change(key, Action.DELETE, "sms", key, f"cd-{key}")


def test_each_rule_with_what_lifts_it() -> None:
    changes = [
        update("a"),
        update("b", blocked="campaign is Active and cannot be updated; stop it first"),
        delete("z"),
    ]
    found = decide(changes, managed=4, matched=3, policy=Policy(min_managed=2))
    assert [(r.reason, r.override, r.keys) for r in found] == [
        (Reason.NEEDS_ALLOW_DELETE, "--allow-delete", ("z",)),
        (Reason.SAFETY_THRESHOLD, "--force", ("a", "b", "z")),
        (Reason.BLOCKED, None, ("b",)),
    ]
    assert "3 of 4 managed campaigns would change or be deleted (75%)" in found[1].message
    assert found[2].message.startswith("b: campaign is Active and cannot be updated; stop it first")


def test_apply_refuses_the_first_rule_its_flags_do_not_lift() -> None:
    found = decide([update("a"), delete("z")], managed=2, matched=1, policy=Policy(min_managed=2))
    assert refusing(found, allow_delete=False, force=False) is found[0]
    assert refusing(found, allow_delete=True, force=False) is found[1]
    assert refusing(found, allow_delete=True, force=True) is None
    blocked_only = decide([update("b", blocked="x")], managed=100, matched=100, policy=Policy())
    assert refusing(blocked_only, allow_delete=False, force=False) is None  # apply fails it, goes on


def test_the_threshold_needs_at_least_min_managed_and_more_than_the_fraction() -> None:
    few = decide([update("a")], managed=9, matched=9, policy=Policy())
    assert few == ()
    half = decide([update(str(i)) for i in range(5)], managed=10, matched=10, policy=Policy())
    assert half == ()  # 50% is not over 50%
    over = decide([update(str(i)) for i in range(6)], managed=10, matched=10, policy=Policy())
    assert [r.reason for r in over] == [Reason.SAFETY_THRESHOLD]


def test_refusals_are_in_the_json_and_not_in_the_digest() -> None:
    changes = (delete("z"),)
    refusals = decide(changes, managed=1, matched=0, policy=Policy())
    plan = Plan("prod", changes, Summary(delete=1), managed=1, refusals=refusals)
    data = plan.to_json()
    assert data["refusals"] == [
        {
            "reason": "needs-allow-delete",
            "message": refusals[0].message,
            "override": "--allow-delete",
            "keys": ["z"],
        }
    ]
    assert plan.digest == dataclasses.replace(plan, refusals=()).digest == plan_digest("prod", changes)
    assert dataclasses.replace(plan, refusals=()).to_json()["refusals"] == []
    assert safety_problem(plan) is None

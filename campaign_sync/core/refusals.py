"""What apply will refuse, decided once: the plan states it, apply enforces it (SPEC 4).

Three rules, each a :class:`Refusal` with what lifts it:

* ``needs-allow-delete``: the plan deletes campaigns; apply refuses before any write unless
  ``--allow-delete`` is passed;
* ``safety-threshold``: more than ``maxChangeFraction`` of at least ``min_managed`` managed
  campaigns would change or be deleted; apply refuses before any write unless ``--force``;
* ``blocked``: a change the platform (or campaign-sync) cannot make as things are, e.g. an
  update of an ``Active`` campaign; apply fails that change and goes on with the others. No
  flag lifts it: the message names what to do (stop the campaign, pair the flow, ...).

``build_plan`` stores :func:`decide`'s answer in the plan (``Plan.refusals``, in every plan
format and the ``--out`` file); apply's preflight refuses with :func:`refusing` over those very
values, so what the reviewer read and what apply does cannot disagree. Not part of the digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from campaign_sync.core.changes import Action, Change, Policy
from campaign_sync.core.compare import LiveCampaign


class Reason(StrEnum):
    NEEDS_ALLOW_DELETE = "needs-allow-delete"
    SAFETY_THRESHOLD = "safety-threshold"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    message: str
    override: str | None  # the flag that lifts it; None: no flag does
    keys: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason.value,
            "message": self.message,
            "override": self.override,
            "keys": list(self.keys),
        }

    @property
    def before_writes(self) -> bool:
        """Whether apply refuses the whole plan before any write (else it fails the keys' changes)."""
        return self.reason is not Reason.BLOCKED


def blocked_reason(live: LiveCampaign, action: Action) -> str | None:
    """Why the platform will not take this change of a live campaign now, or None."""
    status = live.status or ""
    if status == "Active":
        verb = "updated" if action is Action.UPDATE else "deleted"
        return f"campaign is Active and cannot be {verb}; stop it first, then apply again"
    if status == "Preparing" and action is Action.UPDATE:
        return "campaign is still Preparing; apply again once it is Ready"
    return None


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _deletes(changes: Sequence[Change]) -> Refusal | None:
    keys = tuple(c.key for c in changes if c.action is Action.DELETE)
    if not keys:
        return None
    return Refusal(
        Reason.NEEDS_ALLOW_DELETE,
        f"the plan deletes {_plural(len(keys), 'campaign')} ({', '.join(keys)}): apply refuses before any "
        "write without --allow-delete. Pass --allow-delete to delete them, or put them back in the "
        "manifests, or run `campaign-sync state rm KEY` to stop managing them without deleting.",
        "--allow-delete",
        keys,
    )


def _safety(changes: Sequence[Change], existing: int, policy: Policy) -> Refusal | None:
    keys = tuple(c.key for c in changes if c.action in (Action.UPDATE, Action.DELETE))
    if existing < policy.min_managed or existing == 0:
        return None
    fraction = len(keys) / existing
    if fraction <= policy.max_change_fraction:
        return None
    return Refusal(
        Reason.SAFETY_THRESHOLD,
        f"{len(keys)} of {existing} managed campaigns would change or be deleted ({fraction:.0%}), over the "
        f"{policy.max_change_fraction:.0%} safety threshold (maxChangeFraction): apply refuses before any "
        "write without --force. Review the plan, then pass --force to apply it anyway.",
        "--force",
        keys,
    )


def _blocked(changes: Sequence[Change]) -> list[Refusal]:
    return [
        Refusal(
            Reason.BLOCKED,
            f"{c.key}: {c.blocked} (apply fails this {c.action.value}; the other changes go ahead)",
            None,
            (c.key,),
        )
        for c in changes
        if c.blocked
    ]


def decide(changes: Sequence[Change], *, managed: int, matched: int, policy: Policy) -> tuple[Refusal, ...]:
    """Every refusal apply will make of these changes, in the order apply checks them.

    ``managed`` is the campaigns in state, ``matched`` the manifest campaigns tied to a live one
    (adopted by name included, so a lost state does not lift the safety threshold).
    """
    deletes = sum(1 for c in changes if c.action is Action.DELETE)
    existing = max(managed, matched + deletes)
    found = [_deletes(changes), _safety(changes, existing, policy)]
    return (*(r for r in found if r is not None), *_blocked(changes))


def refusing(refusals: Iterable[Refusal], *, allow_delete: bool, force: bool) -> Refusal | None:
    """The refusal that stops apply before any write with these flags, or None."""
    lifted = {Reason.NEEDS_ALLOW_DELETE: allow_delete, Reason.SAFETY_THRESHOLD: force}
    return next((r for r in refusals if r.before_writes and not lifted[r.reason]), None)

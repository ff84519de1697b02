"""What a person approved, checked against the plan apply recomputed: a plan file or a digest.

A plan file is an expectation, never an instruction (SPEC 4). ``apply PLANFILE`` and ``apply
--expect-digest`` compute the plan afresh from the manifests, the state and live, and go on only
when its digest equals the approved one; the writes are built from that recomputed plan. What a
plan file says (ids, fields, versions) is only compared and quoted in a refusal: an edited file
can make apply refuse, never make it touch a campaign the manifests and state do not give it.

The refusals, in order: the friendly early ones from the file's header (environment, manifests
digest, state lineage and serial: no request needed), then the digest, then the live version of
each campaign the plan touches (so a change made live to fields the manifests do not manage
also makes a saved plan stale, as SPEC 4 promises).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from campaign_sync.core.compare import LiveCampaign
from campaign_sync.core.diff import FieldChange
from campaign_sync.core.normalize import content_hash
from campaign_sync.core.plan import Action, Change, Plan, plan_digest
from campaign_sync.errors import StalePlanError
from campaign_sync.report.model import show
from campaign_sync.sanitize import escape

if TYPE_CHECKING:
    from campaign_sync.state import State, StateStore
    from campaign_sync.state.planfile import SavedChange, SavedPlan

AGAIN = "Run `campaign-sync plan --out FILE` again and review the new plan."


def check_header(
    saved: SavedPlan, environment: str, manifests_digest: str, store: StateStore, state: State
) -> None:
    """Refusals that need no request: another environment, changed manifests, a state that moved."""
    if saved.environment != environment:
        raise StalePlanError(
            f"{saved.path} was made for environment {escape(saved.environment)!r}, not {environment!r}; "
            "nothing was applied"
        )
    if saved.manifests_digest != manifests_digest:
        raise StalePlanError(
            f"stale plan: the manifests changed since {saved.path} was made; nothing was applied. {AGAIN}"
        )
    if not saved.lineage:
        if store.exists():
            raise StalePlanError(
                f"stale plan: {saved.path} was made before the state file existed, and "
                f"{store.path} has been written since; nothing was applied. {AGAIN}"
            )
        return
    store.check_compatible(saved.lineage, saved.serial)
    if state.serial != saved.serial:
        raise StalePlanError(
            f"stale plan: the state moved from serial {saved.serial} to {state.serial} since {saved.path} "
            f"was made (another apply ran); nothing was applied. {AGAIN}"
        )


def _file_digest(saved: SavedPlan) -> str | None:
    """The digest of the changes the file shows (None when they are not even valid changes)."""
    try:
        changes = [
            Change(c.key, Action(c.action), c.campaign_type, "", campaign_id=c.campaign_id, fields=c.fields)
            for c in saved.changes
        ]
    except ValueError:
        return None
    return plan_digest(saved.environment, changes)


def check_saved(saved: SavedPlan, plan: Plan, live: Iterable[LiveCampaign]) -> None:
    """Refuse unless the recomputed plan is the saved one and nothing it touches moved live.

    The file's changes must match its own digest too: a file edited to show other changes than
    the ones reviewed is refused even though apply would only ever write the recomputed plan.
    """
    if _file_digest(saved) != saved.digest:
        moved = explain(saved.changes, plan)
        moved.append(f"{saved.path} was edited: the changes it shows do not have its digest {saved.digest}")
        raise _stale(moved)
    if plan.digest != saved.digest:
        moved = explain(saved.changes, plan) or [
            "the plan differs from the saved one in a way the file does not show (was it edited?)"
        ]
        moved.append(f"saved plan digest {saved.digest}, the plan now {plan.digest}")
        raise _stale(moved)
    by_id = {c.id: c for c in live}
    moved = []
    for change in plan.changes:
        version = saved.versions.get(change.key)
        if change.blocked or change.campaign_id is None or version is None:
            continue
        current = by_id.get(change.campaign_id)
        if current is None or current.updated_at == version.updated_at:
            continue
        now = content_hash(current.doc) if current.doc is not None else None
        if now is not None and now == version.content_hash:
            continue  # a harmless bump: updatedAt moved, the content did not
        moved.append(
            f"{change.key} ({escape(change.campaign_id)}) changed live since the plan was made (updatedAt "
            f"{escape(str(version.updated_at))} -> {escape(str(current.updated_at))}), in fields the "
            "manifests do not manage"
        )
    if moved:
        raise _stale(moved)


def check_expected(expected: str, plan: Plan) -> None:
    """``apply --expect-digest``: the plan just computed (and shown) must be the approved one."""
    if plan.digest != expected:
        raise StalePlanError(
            f"the plan's digest is {plan.digest}, not the expected {expected}: live, the state or the "
            "manifests moved since that plan was shown; nothing was applied. The plan above is the "
            "current one; review it and apply with its digest."
        )


def _stale(moved: Sequence[str]) -> StalePlanError:
    return StalePlanError("stale plan: nothing was applied.\n  " + "\n  ".join(moved) + f"\n{AGAIN}")


def _ident(campaign_type: str, campaign_id: str | None) -> str:
    return f"{escape(campaign_type)} {escape(campaign_id) if campaign_id else '(new campaign)'}"


def explain(saved: Sequence[SavedChange], plan: Plan) -> list[str]:
    """What differs between the saved plan's changes and the recomputed ones, campaign by campaign."""
    then = {c.key: c for c in saved}
    now = {c.key: c for c in plan.changes}
    lines: list[str] = []
    for key in sorted(then.keys() | now.keys()):
        old, new = then.get(key), now.get(key)
        shown = escape(key)
        if old is None:
            assert new is not None
            lines.append(
                f"{shown}: now to {new.action.value} ({_ident(new.campaign_type, new.campaign_id)}); "
                "the saved plan has no change for it"
            )
        elif new is None:
            lines.append(
                f"{shown}: the saved plan would {escape(old.action)} it "
                f"({_ident(old.campaign_type, old.campaign_id)}); it needs no change now"
            )
        elif (old.action, old.campaign_type, old.campaign_id) != (
            new.action.value,
            new.campaign_type,
            new.campaign_id,
        ):
            lines.append(
                f"{shown}: the saved plan would {escape(old.action)} "
                f"{_ident(old.campaign_type, old.campaign_id)}; now: {new.action.value} "
                f"{_ident(new.campaign_type, new.campaign_id)}"
            )
        else:
            line = _fields_moved(shown, old.fields, new)
            if line:
                lines.append(line)
    return lines


def _fields_moved(shown: str, saved: Sequence[FieldChange], change: Change) -> str | None:
    then = {f.path: f for f in saved}
    now = {f.path: f for f in change.fields}
    live: list[str] = []
    wanted: list[str] = []
    for path in sorted(then.keys() | now.keys()):
        old, new = then.get(path), now.get(path)
        if old is not None and new is not None and (old.before, old.after) == (new.before, new.after):
            continue
        if old is not None and new is not None and old.after != new.after:
            wanted.append(f"{escape(path)}: the manifest value {show(old.after)} -> {show(new.after)}")
            continue
        # Same manifest value: where a side shows no change, live held the manifest value.
        live_then = old.before if old is not None else new.after if new is not None else None
        live_now = new.before if new is not None else old.after if old is not None else None
        live.append(f"{escape(path)}: {show(live_then)} -> {show(live_now)}")
    if not live and not wanted:
        return None
    where = f"{shown} ({escape(change.campaign_id)})" if change.campaign_id else shown
    parts = []
    if live:
        parts.append("changed live since the plan was made: " + "; ".join(live))
    if wanted:
        parts.append("the saved plan wanted other values: " + "; ".join(wanted))
    return f"{where} " + "; ".join(parts)

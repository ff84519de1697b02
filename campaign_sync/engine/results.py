"""What an apply did, campaign by campaign: outcomes, the run's result, and the table the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from campaign_sync.core.plan import Action
from campaign_sync.sanitize import escape

if TYPE_CHECKING:
    from campaign_sync.state import State


@dataclass(frozen=True)
class Outcome:
    key: str
    action: Action
    campaign_id: str | None
    status: str  # applied | failed | skipped
    detail: str = ""


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    state: State | None = None
    interrupted: bool = False
    stopped: str | None = None
    """Why the run stopped before the end of the plan (the time budget ran out), else None."""

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def counts(self) -> dict[str, int]:
        out = {"applied": 0, "failed": 0, "skipped": 0}
        for outcome in self.outcomes:
            out[outcome.status] += 1
        return out

    def stop_summary(self) -> str:
        """What was done and what was not, for a run that stopped early (``stopped``)."""
        applied = [o.key for o in self.outcomes if o.status == "applied"]
        rest = [o.key for o in self.outcomes if o.status != "applied"]
        return (
            f"{self.stopped}. Applied and recorded in state: {_keys(applied)}; not applied: {_keys(rest)}. "
            "Run apply again (with a longer --timeout if needed): the next plan shows exactly what is left."
        )


def _keys(keys: list[str], shown: int = 10) -> str:
    if not keys:
        return "none"
    text = ", ".join(keys[:shown])
    more = len(keys) - shown
    return f"{len(keys)} ({text}{f' and {more} more' if more > 0 else ''})"


def results_table(result: ApplyResult) -> str:
    rows = [
        (f"{o.action.glyph} {o.key}", o.status, escape(o.campaign_id or ""), escape(o.detail))
        for o in result.outcomes
    ]
    if not rows:
        return ""
    width = max(len(r[0]) for r in rows)
    lines = ["Apply results:"]
    for name, status, cid, detail in rows:
        lines.append(f"  {name.ljust(width)}  {status:<7}  {cid:<40}  {detail}".rstrip())
    counts = result.counts()
    lines.append(
        f"Apply: {counts['applied']} applied, {counts['failed']} failed, {counts['skipped']} skipped."
    )
    return "\n".join(lines) + "\n"

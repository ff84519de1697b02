"""Reports: a plan or a drift result, rendered as text, JSON, Markdown, HTML or JUnit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from campaign_sync.plan import Action, Plan
from campaign_sync.report import markdown, text
from campaign_sync.report.model import Report, Section, rows_of, show

PLAN_FORMATS = ("text", "json", "markdown")


def dumps(data: Any) -> str:
    """Deterministic JSON: identical input gives byte-identical output."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def plan_report(plan: Plan) -> Report:
    sections = []
    for change in plan.changes:
        notes = []
        if change.adopted:
            notes.append(f"adopted: live campaign {change.campaign_id} has the same name")
        if change.note:
            notes.append(change.note)
        rows = rows_of(change.fields)
        sections.append(
            Section(
                key=change.key,
                kind=change.action.value,
                glyph=change.action.glyph,
                campaign_type=change.campaign_type,
                name=change.name,
                campaign_id=change.campaign_id,
                rows=rows,
                notes=tuple(notes),
                blocked=change.blocked,
                location=change.location,
            )
        )
    adopted = [m for m in plan.matches if m.adopted and not any(c.key == m.key for c in plan.changes)]
    footer = []
    if adopted:
        footer.append(
            "Adopted by name (no change needed): " + ", ".join(f"{m.key} ({m.campaign_id})" for m in adopted)
        )
    if plan.has_changes:
        footer.append(plan.estimate())
    return Report(
        title="campaign-sync will make these changes",
        environment=plan.environment,
        summary_line=plan.summary.line(),
        counts=plan.summary.to_json(),
        sections=tuple(sections),
        warnings=plan.warnings,
        footer=tuple(footer),
        empty_message="No changes. Live campaigns match the manifests.",
        before_label="live (before)",
        after_label="manifest (after)",
    )


def render_plan(plan: Plan, fmt: str, style: Callable[..., str] | None = None) -> str:
    if fmt == "json":
        return dumps(plan.to_json())
    report = plan_report(plan)
    if fmt == "markdown":
        return markdown.render(report)
    return text.render(report, style)


__all__ = ["PLAN_FORMATS", "Action", "Report", "dumps", "plan_report", "render_plan", "show"]

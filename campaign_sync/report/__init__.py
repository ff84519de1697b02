"""Reports: a plan or a drift result, rendered as text, JSON, Markdown, HTML or JUnit.

JSON is the domain value's own ``to_json`` (raw values, the SPEC section 5 shape). Every other
format renders one view model, the :class:`Report` built here by ``plan_report`` or
``drift_report``; the renderers (``text``, ``markdown``, ``html``, ``junit``) hold no table logic
of their own beyond layout. ``html`` and ``junit`` are imported on use (Jinja2, ElementTree).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

from campaign_sync.core.drift import Drift, DriftEntry, DriftField, Facet, Kind
from campaign_sync.core.plan import Action, Plan
from campaign_sync.report import markdown, text
from campaign_sync.report.model import Listing, Report, Row, Section, rows_of, safe, show
from campaign_sync.sanitize import dumps_json, for_terminal

PLAN_FORMATS = ("text", "json", "markdown")
DRIFT_FORMATS = ("text", "json", "markdown", "html", "junit")


def dumps(data: Any) -> str:
    """Deterministic JSON: identical input gives byte-identical output; no raw control characters."""
    return dumps_json(data)


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
    # A blocked change is stated once, as a refusal, not again among the warnings.
    stated = {f"{c.key}: blocked: {c.blocked}" for c in plan.changes if c.blocked}
    return Report(
        title="campaign-sync will make these changes",
        environment=plan.environment,
        summary_line=plan.summary.line(),
        counts=plan.summary.to_json(),
        sections=tuple(sections),
        warnings=tuple(w for w in plan.warnings if w not in stated),
        footer=tuple(footer),
        empty_message="No changes. Live campaigns match the manifests.",
        before_label="live (before)",
        after_label="manifest (after)",
        digest=plan.digest,
        refusals=tuple(r.message for r in plan.refusals),
    )


def _markdown(report: Report, kind: str, joiner: str) -> str:
    """Markdown of an escaped report, its own zero-width joiners spelled ``joiner``.

    The renderer writes a mark only this call knows for each joiner of its own, so the
    sanitiser, which escapes every zero-width character (a user's included), leaves it alone.
    """
    mark = f"\ue000{secrets.token_hex(8)}\ue001"
    artifact = markdown.artifact_name(kind, report.environment)
    return for_terminal(markdown.render(report, joiner=mark, artifact=artifact)).replace(mark, joiner)


def render_plan(
    plan: Plan,
    fmt: str,
    style: Callable[..., str] | None = None,
    *,
    joiner: str = markdown.ZWJ,
    notice: str | None = None,
) -> str:
    """One format of a plan; every value in it escaped (``sanitize``), the digest in each.

    ``joiner``: how the Markdown spells its own zero-width joiners (the console passes its mark).
    ``notice``: a run's notice (targeting in effect): the text's last line, the first of the
    Markdown's warnings (inside its size budget); JSON has no place for it.
    """
    if fmt == "json":
        return dumps(plan.to_json())
    report = plan_report(plan)
    if fmt == "markdown":
        if notice:
            report = dataclasses.replace(report, warnings=(notice, *report.warnings))
        return _markdown(safe(report), "plan", joiner)
    rendered = for_terminal(text.render(safe(report), style))
    return f"{rendered}\n{notice}\n" if notice else rendered


def _row_note(facet: Facet, f: DriftField) -> str:
    """A changed field's unverified flow; a pending field's live value, when it differs from applied."""
    if facet.kind is not Kind.PENDING:
        return "cannot verify: flow id has no known name" if f.unverified else ""
    if not f.live_known or f.live == f.applied:
        return ""
    if f.live == f.manifest:
        return "live already has this"
    return f"live now {show(f.live)}"


def _drift_rows(facet: Facet) -> tuple[Row, ...]:
    pending = facet.kind is Kind.PENDING
    return tuple(
        Row(f.path, show(f.applied), show(f.manifest if pending else f.live), _row_note(facet, f))
        for f in facet.fields
    )


def _drift_sections(entry: DriftEntry) -> list[Section]:
    """One section per facet of the entry (same key): the human reports show each facet's columns."""
    sections = []
    for index, facet in enumerate(entry.facets):
        notes = [facet.note] if facet.note else []
        if entry.location and index == 0:
            notes.append(f"declared in {entry.location}")
        pending = facet.kind is Kind.PENDING
        label = f"pending {facet.action}" if pending and facet.action else facet.kind.value
        sections.append(
            Section(
                key=entry.key,
                kind=facet.kind.value,
                glyph=facet.kind.glyph,
                campaign_type=entry.campaign_type,
                name=entry.name,
                campaign_id=entry.campaign_id,
                rows=_drift_rows(facet),
                notes=tuple(notes),
                location=entry.location,
                failed=True,
                label=label,
                before_label="applied",
                after_label="manifest" if pending else "live",
            )
        )
    return sections


def drift_report(drift: Drift) -> Report:
    summary = drift.summary
    drifted = {e.key for e in drift.entries}
    in_sync = tuple(
        Section(
            key=m.key,
            kind="ok",
            glyph="=",
            campaign_type=m.campaign_type,
            name=m.name,
            campaign_id=m.campaign_id,
            label="in sync",
        )
        for m in drift.managed
        if m.key not in drifted
    )
    listings: tuple[Listing, ...] = ()
    if drift.unmanaged:
        listings = (
            Listing(
                title="Unmanaged live campaigns (not in the state; listed, not drift)",
                columns=("type", "name", "id"),
                rows=tuple((u.campaign_type, show(u.name), u.id) for u in drift.unmanaged),
            ),
        )
    footer = []
    if drift.targets:
        footer.append(f"Checked only: {', '.join(drift.targets)} (--target); unmanaged campaigns not listed.")
    if summary.in_sync:
        footer.append(f"{summary.in_sync} managed campaign{'s' if summary.in_sync != 1 else ''} in sync.")
    return Report(
        title="Drift since the last apply",
        environment=drift.environment,
        summary_line=summary.line(),
        counts={
            "changed": summary.changed,
            "missing": summary.missing,
            "pending": summary.pending,
            "unmanaged": summary.unmanaged,
            "in sync": summary.in_sync,
        },
        sections=tuple(s for e in drift.entries for s in _drift_sections(e)),
        warnings=drift.warnings,
        footer=tuple(footer),
        empty_message="No drift. Live campaigns match what was last applied, and the manifests have no "
        "unapplied changes.",
        before_label="applied",
        after_label="live",
        generated_at=drift.generated_at,
        listings=listings,
        in_sync=in_sync,
    )


def render_drift(
    drift: Drift, fmt: str, style: Callable[..., str] | None = None, *, joiner: str = markdown.ZWJ
) -> str:
    """One format of a drift result; the text is deterministic bar the run's time it shows."""
    if fmt == "json":
        return dumps(drift.to_json())
    report = safe(drift_report(drift))
    if fmt == "markdown":
        return _markdown(report, "drift", joiner)
    if fmt == "html":
        from campaign_sync.report import html

        return for_terminal(html.render(report))
    if fmt == "junit":
        from campaign_sync.report import junit

        return for_terminal(junit.render(report, suite=f"campaign-sync drift ({report.environment})"))
    if fmt == "text":
        return for_terminal(text.render(report, style))
    raise ValueError(f"unknown drift report format {fmt!r}; choose one of {', '.join(DRIFT_FORMATS)}")


__all__ = [
    "DRIFT_FORMATS",
    "PLAN_FORMATS",
    "Action",
    "Report",
    "drift_report",
    "dumps",
    "plan_report",
    "render_drift",
    "render_plan",
    "show",
]

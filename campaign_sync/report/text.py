"""Terraform-like text: a glyph per campaign, only the fields that change, before -> after."""

from __future__ import annotations

from collections.abc import Callable

from campaign_sync.report.model import Listing, Report, Section, show

Style = Callable[..., str]

REFUSALS_TITLE = "Apply will refuse"

_COLOURS = {"+": "green", "~": "yellow", "-": "red", "!": "red", "?": "magenta", ">": "cyan"}


def _plain(text: str, **_styles: object) -> str:
    return text


def _header(section: Section, style: Style) -> str:
    ident = f" ({section.campaign_id})" if section.campaign_id else ""
    label = f"{section.label} " if section.label else ""
    head = f"  {section.glyph} {label}{section.campaign_type} {section.key}: {show(section.name)}{ident}"
    head = style(head, fg=_COLOURS.get(section.glyph), bold=True)
    if section.blocked:
        head += " " + style(f"[blocked: {section.blocked}]", fg="red")
    return head


def section_lines(section: Section, style: Style | None = None) -> list[str]:
    """One campaign: its header, notes and field rows (also the text of a JUnit failure)."""
    style = style or _plain
    lines = [_header(section, style)]
    for note in section.notes:
        lines.append(f"      # {note}")
    if section.rows and section.before_label and section.after_label:
        lines.append(f"      # {section.before_label} -> {section.after_label}")
    width = max((len(r.path) for r in section.rows), default=0)
    for row in section.rows:
        if section.kind == "create":
            text = f"      {row.path.ljust(width)} = {row.after}"
        elif section.kind == "delete":
            text = f"      {row.path.ljust(width)} = {row.before}"
        else:
            text = f"      {row.path}: {row.before} -> {row.after}"
        if row.note:
            text += f"  ({row.note})"
        lines.append(text)
    return lines


def listing_lines(listing: Listing) -> list[str]:
    widths = [max((len(row[i]) for row in listing.rows), default=0) for i in range(len(listing.columns))]
    lines = [f"{listing.title}:"]
    for row in listing.rows:
        lines.append("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return lines


def render(report: Report, style: Style | None = None) -> str:
    style = style or _plain
    lines: list[str] = []
    if not report.sections:
        lines.append(report.empty_message)
        if report.listings:
            lines.append("")
    else:
        lines.append(f"{report.title} (environment {report.environment}):")
        lines.append("")
        for section in report.sections:
            lines.extend(section_lines(section, style))
            lines.append("")
    for listing in report.listings:
        lines.extend(listing_lines(listing))
        lines.append("")
    if report.warnings:
        lines.append(style("Warnings:", fg="yellow", bold=True))
        lines.extend(f"  - {w}" for w in report.warnings)
        lines.append("")
    if report.refusals:
        lines.append(style(REFUSALS_TITLE + ":", fg="red", bold=True))
        lines.extend(f"  - {r}" for r in report.refusals)
        lines.append("")
    lines.append(style(report.summary_line, bold=True))
    lines.extend(report.footer)
    if report.digest:
        lines.append(f"Plan digest: {report.digest}")
    return "\n".join(lines) + "\n"

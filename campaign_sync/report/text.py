"""Terraform-like text: a glyph per campaign, only the fields that change, before -> after."""

from __future__ import annotations

from collections.abc import Callable

from campaign_sync.report.model import Report, Section, show

Style = Callable[..., str]

_COLOURS = {"+": "green", "~": "yellow", "-": "red", "!": "red", "?": "magenta"}


def _plain(text: str, **_styles: object) -> str:
    return text


def _header(section: Section, style: Style) -> str:
    ident = f" ({section.campaign_id})" if section.campaign_id else ""
    head = f"  {section.glyph} {section.campaign_type} {section.key}: {show(section.name)}{ident}"
    head = style(head, fg=_COLOURS.get(section.glyph), bold=True)
    if section.blocked:
        head += " " + style(f"[blocked: {section.blocked}]", fg="red")
    return head


def render(report: Report, style: Style | None = None) -> str:
    style = style or _plain
    lines: list[str] = []
    if not report.sections:
        lines.append(report.empty_message)
    else:
        lines.append(f"{report.title} (environment {report.environment}):")
        lines.append("")
        for section in report.sections:
            lines.append(_header(section, style))
            for note in section.notes:
                lines.append(f"      # {note}")
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
            lines.append("")
    if report.warnings:
        lines.append(style("Warnings:", fg="yellow", bold=True))
        lines.extend(f"  - {w}" for w in report.warnings)
        lines.append("")
    lines.append(style(report.summary_line, bold=True))
    lines.extend(report.footer)
    return "\n".join(lines) + "\n"

"""Markdown for a pull-request comment or a job summary.

The summary line comes first; each campaign is a collapsible section with a field table. User
text is escaped: no HTML or links render, ``@mentions`` never ping, pipes never break a table.
The result stays under GitHub's comment limit, with a note when sections were left out.
"""

from __future__ import annotations

import html

from campaign_sync.report.model import Listing, Report, Section

LIMIT = 65_000
_MD_SPECIAL = set("\\`*_[]|~#")


def escape(text: str) -> str:
    """Escape user text for a Markdown table cell or paragraph: no HTML, links, mentions or pipes."""
    out: list[str] = []
    for char in text:
        if char == "&":
            out.append("&amp;")
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char == "@":
            out.append("&#64;")
        elif char in "\n\r\t":
            out.append(" ")
        elif char in _MD_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    # Defuse GitHub's autolinks (URLs and www. hosts) without changing what the reader sees.
    return "".join(out).replace("://", ":&#47;&#47;").replace("www.", "www&#46;")


def escape_html(text: str) -> str:
    """Escape user text placed inside the HTML of a <summary>."""
    text = html.escape(" ".join(text.split()), quote=True)
    for char, entity in (("@", "&#64;"), ("[", "&#91;"), ("]", "&#93;"), ("`", "&#96;"), ("|", "&#124;")):
        text = text.replace(char, entity)
    return text.replace("://", ":&#47;&#47;").replace("www.", "www&#46;")


def _section(report: Report, section: Section) -> str:
    label = section.label or section.kind
    ident = f" ({escape_html(section.campaign_id)})" if section.campaign_id else ""
    blocked = " — blocked" if section.blocked else ""
    summary = (
        f"{escape_html(section.glyph)} {label} <code>{escape_html(section.key)}</code>: "
        f"{escape_html(section.name)}{ident}{blocked}"
    )
    lines = [f"<details><summary>{summary}</summary>", ""]
    if section.blocked:
        lines.append(f"**Blocked:** {escape(section.blocked)}")
        lines.append("")
    for note in section.notes:
        lines.append(f"_{escape(note)}_")
        lines.append("")
    if section.rows:
        before, after_label = report.labels(section)
        lines.append(f"| field | {escape(before)} | {escape(after_label)} |")
        lines.append("|---|---|---|")
        for row in section.rows:
            after = escape(row.after) + (f" _({escape(row.note)})_" if row.note else "")
            lines.append(f"| {escape(row.path)} | {escape(row.before)} | {after} |")
        lines.append("")
    lines.append("</details>")
    lines.append("")
    return "\n".join(lines)


def render(report: Report, limit: int = LIMIT) -> str:
    head = [
        f"### {escape(report.title)} · `{escape_html(report.environment)}`",
        "",
        f"**{escape(report.summary_line)}**",
        "",
    ]
    if report.digest:
        head += [f"Plan digest: `{escape_html(report.digest)}`", ""]
    if not report.sections:
        head += [report.empty_message, ""]
    tail: list[str] = []
    if report.warnings:
        tail += ["**Warnings**", ""] + [f"- {escape(w)}" for w in report.warnings] + [""]
    tail += [escape(line) for line in report.footer]
    if report.generated_at:
        tail += ["", f"_Generated {escape(report.generated_at)} by campaign-sync._"]
    body: list[str] = []
    used = len("\n".join(head)) + len("\n".join(tail)) + 400
    left_out = 0
    for index, section in enumerate(report.sections):
        chunk = _section(report, section)
        if used + len(chunk) > limit:
            left_out = len(report.sections) - index
            break
        body.append(chunk)
        used += len(chunk) + 1
    if left_out:
        body.append(
            f"_{left_out} more campaign{'s' if left_out != 1 else ''} not shown: the comment is limited to "
            f"{limit:,} characters. The full report is in the workflow artifacts._\n"
        )
        used += 200
    for listing in report.listings:
        chunk = _listing(listing, limit - used)
        body.append(chunk)
        used += len(chunk) + 1
    return "\n".join([*head, *body, *tail]).rstrip() + "\n"


def _listing(listing: Listing, budget: int) -> str:
    """A listing as a table, cut short (with a note) when it would not fit in ``budget``."""
    lines = [
        f"**{escape(listing.title)}**",
        "",
        "| " + " | ".join(escape(c) for c in listing.columns) + " |",
        "|" + "---|" * len(listing.columns),
    ]
    used = sum(len(line) + 1 for line in lines) + 200
    for index, row in enumerate(listing.rows):
        line = "| " + " | ".join(escape(cell) for cell in row) + " |"
        if used + len(line) + 1 > budget:
            lines += ["", f"_{len(listing.rows) - index} more not shown (comment size limit)._"]
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) + "\n"

"""Markdown for a pull-request comment, an issue body or a job summary.

The summary line comes first, then what apply will refuse; each campaign is a collapsible
section with a field table. User text is escaped: no HTML or links render, ``@mentions`` never
ping, pipes never break a table.

Mentions and links are neutralised with a zero-width joiner (U+200D) inside ``@name``, ``#123``,
``://`` and ``www.``, never with HTML entities: GitHub renders the Markdown, decodes entities into text
nodes and only then runs its mention and autolink filters, so ``&#64;team`` would ping. The
joiner is campaign-sync's own character: the caller says how to spell it (``joiner``), so the
console can carry it to stdout while a joiner in user text (escaped by ``model.safe`` before
rendering) stays escaped.

The whole comment stays under GitHub's limit of 65,536 characters, counted as GitHub counts
them (UTF-16 code units: an emoji is two), leaving :data:`WRAPPER_RESERVE` (plus twice the
environment's name) for the hidden marker and the footer the workflow adds. When sections are
left out, a note says how many and names the workflow artifact that holds the full plan.
"""

from __future__ import annotations

import html
import re

from campaign_sync.report.model import Listing, Report, Section

COMMENT_LIMIT = 65_536  # GitHub's limit for a comment or issue body, in UTF-16 code units
WRAPPER_RESERVE = 400  # the workflow's marker line and footer (besides the environment's name twice)
ZWJ = "\u200d"
_MD_SPECIAL = set("\\`*_[]|~#")
_ISSUE_REF = re.compile(r"#(?=\d)")  # GitHub links #123 to an issue or pull request


def utf16_len(text: str) -> int:
    """Length as GitHub (JavaScript) counts it: UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def artifact_name(kind: str, environment: str) -> str:
    """The workflow artifact holding the full plan (``kind`` "plan") or drift reports ("drift")."""
    return f"campaign-sync-{kind}-{environment}"


def _defuse(text: str, joiner: str) -> str:
    """Break mentions, issue references (``#123``), URL schemes and www. hosts with the joiner;
    the reader sees the same text."""
    text = text.replace("@", "@" + joiner).replace("://", ":" + joiner + "//")
    return _ISSUE_REF.sub(lambda _ref: "#" + joiner, text.replace("www.", "www" + joiner + "."))


def escape(text: str, joiner: str = ZWJ) -> str:
    """Escape user text for a Markdown table cell or paragraph: no HTML, links, mentions or pipes."""
    out: list[str] = []
    for char in text:
        if char == "&":
            out.append("&amp;")
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char in "\n\r\t":
            out.append(" ")
        elif char in _MD_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return _defuse("".join(out), joiner)


def escape_html(text: str, joiner: str = ZWJ) -> str:
    """Escape user text placed inside the HTML of a <summary>."""
    text = html.escape(" ".join(text.split()), quote=True)
    for char, entity in (("[", "&#91;"), ("]", "&#93;"), ("`", "&#96;"), ("|", "&#124;")):
        text = text.replace(char, entity)
    return _defuse(text, joiner)


class _Writer:
    def __init__(self, report: Report, joiner: str) -> None:
        self.report = report
        self.joiner = joiner
        self._extra = utf16_len(joiner) - 1

    def units(self, text: str) -> int:
        """UTF-16 units of ``text`` once each joiner is the one character it stands for."""
        return utf16_len(text) - self._extra * text.count(self.joiner) if self._extra else utf16_len(text)

    def md(self, text: str) -> str:
        return escape(text, self.joiner)

    def html(self, text: str) -> str:
        return escape_html(text, self.joiner)

    def section(self, section: Section) -> str:
        label = section.label or section.kind
        ident = f" ({self.html(section.campaign_id)})" if section.campaign_id else ""
        blocked = " — blocked" if section.blocked else ""
        summary = (
            f"{self.html(section.glyph)} {label} <code>{self.html(section.key)}</code>: "
            f"{self.html(section.name)}{ident}{blocked}"
        )
        lines = [f"<details><summary>{summary}</summary>", ""]
        if section.blocked:
            lines += [f"**Blocked:** {self.md(section.blocked)}", ""]
        for note in section.notes:
            lines += [f"_{self.md(note)}_", ""]
        if section.rows:
            before, after_label = self.report.labels(section)
            lines.append(f"| field | {self.md(before)} | {self.md(after_label)} |")
            lines.append("|---|---|---|")
            for row in section.rows:
                after = self.md(row.after) + (f" _({self.md(row.note)})_" if row.note else "")
                lines.append(f"| {self.md(row.path)} | {self.md(row.before)} | {after} |")
            lines.append("")
        lines += ["</details>", ""]
        return "\n".join(lines)

    def listing(self, listing: Listing, budget: int) -> str:
        """A listing as a table, cut short (with a note) when it would not fit in ``budget``."""
        lines = [
            f"**{self.md(listing.title)}**",
            "",
            "| " + " | ".join(self.md(c) for c in listing.columns) + " |",
            "|" + "---|" * len(listing.columns),
        ]
        used = sum(self.units(line) + 1 for line in lines) + 200
        for index, row in enumerate(listing.rows):
            line = "| " + " | ".join(self.md(cell) for cell in row) + " |"
            if used + self.units(line) + 1 > budget:
                lines += ["", f"_{len(listing.rows) - index} more not shown (comment size limit)._"]
                break
            lines.append(line)
            used += self.units(line) + 1
        return "\n".join(lines) + "\n"


def left_out_note(count: int, artifact: str) -> str:
    noun = "campaign" if count == 1 else "campaigns"
    full = "full drift reports are" if artifact.startswith("campaign-sync-drift-") else "full plan is"
    return (
        f"_{count} more {noun} not shown: a comment is limited to {COMMENT_LIMIT:,} characters. "
        f"The {full} in the `{artifact}` artifact of this workflow run._\n"
    )


def _bullets(w: _Writer, title: str, items: list[str], budget: int, artifact: str) -> list[str]:
    """A titled list of escaped items, as many as fit in ``budget`` units, then how many did not."""
    if not items:
        return []
    lines = [f"**{title}**", ""]
    used = w.units(title) + 6 + 120
    for index, item in enumerate(items):
        line = f"- {item}"
        if used + w.units(line) + 1 > budget:
            lines.append(f"- _{len(items) - index} more not shown: see the `{artifact}` artifact._")
            break
        lines.append(line)
        used += w.units(line) + 1
    return [*lines, ""]


def render(
    report: Report,
    limit: int = COMMENT_LIMIT,
    *,
    joiner: str = ZWJ,
    artifact: str | None = None,
    reserve: int | None = None,
) -> str:
    """The report as Markdown within ``limit`` UTF-16 units, ``reserve`` of them kept for the wrapper.

    ``joiner`` spells the zero-width joiner (the console passes its own mark for it);
    ``artifact`` names where the full report is when anything is left out. What apply will
    refuse may take half the room, the warnings a quarter; the campaigns get what is left.
    """
    w = _Writer(report, joiner)
    artifact = artifact or artifact_name("plan", report.environment)
    if reserve is None:
        reserve = WRAPPER_RESERVE + 2 * utf16_len(report.environment)
    budget = limit - reserve - w.units(left_out_note(len(report.sections), artifact)) - 2
    head = [
        f"### {w.md(report.title)} · `{w.html(report.environment)}`",
        "",
        f"**{w.md(report.summary_line)}**",
        "",
    ]
    if report.digest:
        head += [f"Plan digest: `{w.html(report.digest)}`", ""]
    used = sum(w.units(line) + 1 for line in head)
    refusals = _bullets(
        w, "Apply will refuse", [w.md(r) for r in report.refusals], (budget - used) // 2, artifact
    )
    head += refusals
    if not report.sections:
        head += [report.empty_message, ""]
    used = sum(w.units(line) + 1 for line in head)
    tail = _bullets(w, "Warnings", [w.md(text) for text in report.warnings], (budget - used) // 4, artifact)
    tail += [w.md(line) for line in report.footer]
    if report.generated_at:
        tail += ["", f"_Generated {w.md(report.generated_at)} by campaign-sync._"]
    used += sum(w.units(line) + 1 for line in tail)
    body: list[str] = []
    left_out = 0
    for index, section in enumerate(report.sections):
        chunk = w.section(section)
        if used + w.units(chunk) + 1 > budget:
            left_out = len(report.sections) - index
            break
        body.append(chunk)
        used += w.units(chunk) + 1
    if left_out:
        body.append(left_out_note(left_out, artifact))
    for listing in report.listings:
        chunk = w.listing(listing, budget - used)
        body.append(chunk)
        used += w.units(chunk) + 1
    return "\n".join([*head, *body, *tail]).rstrip() + "\n"

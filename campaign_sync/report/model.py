"""One view model for every human-readable report (plan and drift), rendered per format.

A :class:`Report` is a summary line, counts, and one :class:`Section` per campaign holding
:class:`Row` objects (a field, its before and after), plus :class:`Listing` tables (campaigns
listed, not changed: unmanaged ones) and the campaigns found in order (``in_sync``, which only
JUnit shows one by one). Text, Markdown, HTML and JUnit renderers all read this model, so the
table logic exists once. Values are shown with :func:`show`.

Every text in a report may have come from the server or a manifest: :func:`safe` escapes each
one (``campaign_sync.sanitize.escape``) before any renderer sees it, so a control, bidi or
zero-width character, or a newline inside a value, never reaches a report raw.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from campaign_sync.core.diff import FieldChange
from campaign_sync.display import show
from campaign_sync.sanitize import escape

__all__ = ["Listing", "Report", "Row", "Section", "rows_of", "safe", "show"]


@dataclass(frozen=True)
class Row:
    path: str
    before: str
    after: str
    note: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    kind: str  # create | update | delete | changed | missing | pending | ok
    glyph: str
    campaign_type: str
    name: str
    campaign_id: str | None = None
    rows: tuple[Row, ...] = ()
    notes: tuple[str, ...] = ()
    blocked: str | None = None
    location: str | None = None
    failed: bool = False
    label: str | None = None  # shown after the glyph in text (drift: the kind)
    before_label: str | None = None  # column headings when they differ per section (drift)
    after_label: str | None = None


@dataclass(frozen=True)
class Listing:
    """A plain table of user values, e.g. the unmanaged campaigns."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Report:
    title: str
    environment: str
    summary_line: str
    counts: dict[str, int]
    sections: tuple[Section, ...]
    warnings: tuple[str, ...] = ()
    footer: tuple[str, ...] = ()
    empty_message: str = ""
    before_label: str = "before"
    after_label: str = "after"
    generated_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    listings: tuple[Listing, ...] = ()
    in_sync: tuple[Section, ...] = ()
    digest: str | None = None
    refusals: tuple[str, ...] = ()  # what apply will refuse (plans), each with what lifts it

    def labels(self, section: Section) -> tuple[str, str]:
        """The before and after column headings for one section."""
        return section.before_label or self.before_label, section.after_label or self.after_label


T = TypeVar("T")


def _escaped(value: T) -> T:
    """A report value with every string in it escaped (dataclasses and tuples walked)."""
    if isinstance(value, str):
        return escape(value)  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(_escaped(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {escape(str(k)): _escaped(v) for k, v in value.items()}  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _escaped(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def safe(report: Report) -> Report:
    """The report with every text escaped: what the renderers get."""
    return _escaped(report)


def _unverified_note(change: FieldChange) -> str:
    if not change.unverified:
        return ""
    if change.path == "experienceFlowName":
        return "cannot verify: flow id has no known name"
    return "cannot verify: the API does not show it; written on apply"


def rows_of(fields: tuple[FieldChange, ...]) -> tuple[Row, ...]:
    return tuple(Row(f.path, show(f.before), show(f.after), _unverified_note(f)) for f in fields)

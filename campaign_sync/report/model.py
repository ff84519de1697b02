"""One view model for every human-readable report (plan and drift), rendered per format.

A :class:`Report` is a summary line, counts, and one :class:`Section` per campaign holding
:class:`Row` objects (a field, its before and after), plus :class:`Listing` tables (campaigns
listed, not changed: unmanaged ones) and the campaigns found in order (``in_sync``, which only
JUnit shows one by one). Text, Markdown, HTML and JUnit renderers all read this model, so the
table logic exists once. Values are shown with :func:`show`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from campaign_sync.core.diff import FieldChange
from campaign_sync.display import show

__all__ = ["Listing", "Report", "Row", "Section", "rows_of", "show"]


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

    def labels(self, section: Section) -> tuple[str, str]:
        """The before and after column headings for one section."""
        return section.before_label or self.before_label, section.after_label or self.after_label


def _unverified_note(change: FieldChange) -> str:
    if not change.unverified:
        return ""
    if change.path == "experienceFlowName":
        return "cannot verify: flow id has no known name"
    return "cannot verify: the API does not show it; written on apply"


def rows_of(fields: tuple[FieldChange, ...]) -> tuple[Row, ...]:
    return tuple(Row(f.path, show(f.before), show(f.after), _unverified_note(f)) for f in fields)

"""The field table: what campaign-sync knows about each field of the Kore campaign document.

One row (:class:`Field`) per field, declared once: its manifest path and accepted spellings, its
API name on write and on read, its value (a :class:`Spec` from ``specs.py``: how two equal values
become identical, the JSON Schema of what a manifest may write, how it is sent and exported), its
read-back rule (:class:`ReadBack`), whether a campaign must declare it, and whether ``null``
means "not declared". :class:`Group` rows are the mappings that hold fields
(``dialingStrategy``). Rows shared by every campaign type are declared here; each type declares
its own rows in its module (``manifests/models/sms.py``, ``voice.py``) and lists, per mode, the
table of that mode in the order a person writes a manifest (:class:`Mode`,
:class:`CampaignType`). The registry of types is ``core/campaign_types.py``.

Everything that walks the document is driven by these rows: ``normalize`` (desired and live
views), ``bodies`` (create and PUT bodies), ``manifests/export.py``, the models' accepted
spellings and bounds, and the JSON Schema (``manifests/schema.py``). Adding a field is one row
(and a model field; ``tests/test_field_table.py`` holds the two together).

Pure: no I/O; standard library and the value functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from campaign_sync.core import values
from campaign_sync.core.specs import (
    Boolean,
    Choice,
    Integer,
    Message,
    Names,
    Phone,
    Priority,
    Schema,
    Spec,
    Text,
    Time,
    Windows,
    Zone,
    ci_pattern,
)
from campaign_sync.core.values import upper

if TYPE_CHECKING:
    from campaign_sync.manifests.models.common import CampaignBase

__all__ = [
    "Boolean",
    "Choice",
    "Integer",
    "Message",
    "Names",
    "Phone",
    "Priority",
    "Schema",
    "Spec",
    "Text",
    "Time",
    "Windows",
    "Zone",
    "ci_pattern",
]

Path = tuple[str, ...]
KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


# --- rows ------------------------------------------------------------------------------------


class ReadBack(StrEnum):
    """How a field's live value is known."""

    SHOWN = "shown"  # the GET document shows it
    PAIRED = "paired"  # GET shows an id (``experienceFlow``); the name comes from known pairings
    CONNECTION = "connection"  # only the voice list item's ``connection`` shows it
    NEVER = "never"  # never shown: trusted from the state (what campaign-sync last wrote)


class Role(StrEnum):
    KEY = "key"  # the manifest's identity: never sent, never compared
    TYPE = "type"  # campaignType: sent from the campaign's type, never compared
    SELECTOR = "selector"  # picks the mode: format, dialingMode
    VALUE = "value"


@dataclass(frozen=True)
class Field:
    """One field of the campaign document."""

    path: Path
    value: Spec
    spellings: tuple[str, ...] = ()  # other accepted manifest spellings of the last name
    write: Path | None = None  # the API's name on write, when it differs
    read: tuple[Path, ...] = ()  # the API's names on read (GET), first present wins
    read_back: ReadBack = ReadBack.SHOWN
    id_path: Path | None = None  # PAIRED: where GET shows the id
    connection: bool = False  # the voice list item's ``connection`` shows it too
    required: bool = True  # a campaign of the mode must declare it (inside its group)
    nullable: bool = False  # ``null`` is accepted and means "not declared"
    live_default: Any = None  # the live value when the API shows none
    role: Role = Role.VALUE
    description: str = ""

    @property
    def name(self) -> str:
        return self.path[-1]

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every spelling a manifest may use for this field."""
        return (self.name, *self.spellings)

    @cached_property
    def api_path(self) -> Path:
        return self.write or self.path

    @cached_property
    def read_paths(self) -> tuple[Path, ...]:
        return self.read or (self.api_path,)

    @property
    def set_like(self) -> bool:
        return self.value.set_like

    @property
    def sent(self) -> bool:
        return self.role is not Role.KEY


@dataclass(frozen=True)
class Group:
    """A mapping that holds fields (``dialingStrategy``, ``message``, ``dncLists``)."""

    path: Path
    required: bool = True
    nullable: bool = False
    description: str = ""


Node = Field | Group

#: Fields the server owns: never compared, never sent (SPEC 4, reference 6.6).
READ_ONLY: tuple[Path, ...] = (
    ("_id",),
    ("id",),
    ("lname",),
    ("status",),
    ("createdAt",),
    ("updatedAt",),
    ("experienceFlow",),
    ("campaignInstanceId",),
    ("campaignInstanceUpdatedAt",),
    ("campaignExecutionType",),
    ("totalMessagesSent",),
    ("totalCallsCompleted",),
    ("isImported",),
    ("isFiltersEnabled",),
    ("connection",),
    ("createdBy",),
    ("updatedBy",),
    ("dncLists", "id"),
    ("message", "templateId"),
    ("schedule", "isRecurrenceEnabled"),
    ("dialingStrategy", "useSystemMappings"),
)

#: Bookkeeping the server changes without anyone editing the campaign (content hash ignores it).
VOLATILE = frozenset(
    {
        "updatedAt",
        "status",
        "campaignInstanceId",
        "campaignInstanceUpdatedAt",
        "campaignExecutionType",
        "totalMessagesSent",
        "totalCallsCompleted",
    }
)

# Rows every campaign type shares. Types list them in their modes' tables.
KEY = Field(
    ("key",),
    Text(pattern=KEY_PATTERN),
    role=Role.KEY,
    description="Stable identity of the campaign in Git: [a-z0-9][a-z0-9._-]{0,63}, unique across manifests.",
)
NAME = Field(("name",), Text(1, 48), description="Campaign name, at most 48 characters.")
DESCRIPTION = Field(("description",), Text(0, 256), live_default="", description="At most 256 characters.")
CONTACT_LISTS = Field(
    ("contactLists",), Names(), description="1..10 contact list names, unique ignoring case; order is free."
)
DNC = Group(("dncLists",), description="The campaign's DNC list.")
DNC_OPTIONAL = Group(("dncLists",), required=False, nullable=True, description="The campaign's DNC list.")
DNC_NAME = Field(("dncLists", "name"), Text(1, 48), description="Name of the DNC list.")
PRIORITY = Field(
    ("priority",), Priority(), description="1 (lowest) .. 5; a number or a string, sent as a string."
)
STRATEGY = Group(("dialingStrategy",))
CALLER = Group(("dialingStrategy", "callerId"))
PHONE = Field(
    ("dialingStrategy", "callerId", "phoneNumber"),
    Phone(),
    description="Caller id, E.164, e.g. +14155550100 (spaces, dots, dashes, parentheses allowed).",
)
HOURS = Group(("dialingStrategy", "callingHours"))
FREQUENCY = Field(
    ("dialingStrategy", "callingHours", "frequency"),
    Choice(("WEEKLY", "DAILY", "CUSTOM"), upper),
    description="WEEKLY | DAILY | CUSTOM (any case).",
)
TIMEZONE = Field(
    ("dialingStrategy", "callingHours", "timezone"),
    Zone(),
    description="IANA time zone, e.g. Asia/Kolkata (any case).",
)
DAYS_FIELD = Field(
    ("dialingStrategy", "callingHours", "days"),
    Windows(),
    description='Windows {day: MO..SU, start: "9:00 AM", end: "6:00 PM"}; start before end, no overlaps.',
)
SCHEDULE = Group(("schedule",), required=False, nullable=True)
SCHEDULING = Field(
    ("schedule", "isSchedulingEnabled"),
    Boolean(),
    live_default=False,
    description="false: run on demand. A recurring schedule is set outside the campaign body.",
)


def campaign_type_field(name: str) -> Field:
    return Field(
        ("campaignType",), Choice((name,), values.lower), role=Role.TYPE, description=f"{name} (any case)."
    )


def head(type_name: str, dnc: Group) -> tuple[Node, ...]:
    """The rows every campaign starts with, in manifest order."""
    return (KEY, campaign_type_field(type_name), NAME, DESCRIPTION, CONTACT_LISTS, dnc, DNC_NAME, PRIORITY)


def calling_hours() -> tuple[Node, ...]:
    return (HOURS, FREQUENCY, TIMEZONE, DAYS_FIELD)


# --- the table of one mode, and campaign types -------------------------------------------------


#: A mode's compared rows as nested mappings of their paths (see ``Mode.row_tree``).
RowTree = dict[str, "Field | RowTree"]

#: How ``live_view`` reads one compared row, unpacked once per mode: ``(row, reads, read, default,
#: parent, name)``. For a row GET shows (``ReadBack.SHOWN``), ``reads`` are its read paths split
#: into ``(parent, name)``, first present wins; ``read`` is its value's reader (None when the value
#: is used as read); ``default`` its ``live_default``; and the view sets ``parent + (name,)``. Any
#: other row is ``(row, None, None, None, (), "")``: read by its own rule.
Reading = tuple[Field, tuple[tuple[Path, str], ...] | None, Callable[[Any], Any] | None, Any, Path, str]


def readings(rows: Iterable[Field]) -> tuple[Reading, ...]:
    """``rows`` as ``live_view`` reads them (``Reading``), in table order."""
    out: list[Reading] = []
    for row in rows:
        if row.read_back is ReadBack.SHOWN:
            reads = tuple((path[:-1], path[-1]) for path in row.read_paths)
            read = None if row.value.plain else row.value.read
            out.append((row, reads, read, row.live_default, row.path[:-1], row.path[-1]))
        else:
            out.append((row, None, None, None, (), ""))
    return tuple(out)


@dataclass(frozen=True)
class Mode:
    """One mode of a campaign type (an SMS format, a voice dialing mode): its model and its table."""

    name: str  # the selector's value, as the API spells it
    model: type[CampaignBase]
    nodes: tuple[Node, ...]

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Field))

    @cached_property
    def groups(self) -> tuple[Group, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Group))

    def field(self, path: Path) -> Field | None:
        return next((f for f in self.fields if f.path == path), None)

    @cached_property
    def compared_fields(self) -> tuple[Field, ...]:
        """The fields a plan compares (everything but the key and the type)."""
        return tuple(f for f in self.fields if f.role in (Role.SELECTOR, Role.VALUE))

    def compared(self) -> Iterator[Field]:
        return iter(self.compared_fields)

    @cached_property
    def reading(self) -> tuple[Reading, ...]:
        """The compared rows as ``live_view`` reads them (see ``Reading``)."""
        return readings(self.compared_fields)

    @cached_property
    def row_tree(self) -> RowTree | None:
        """The compared rows as nested mappings of their paths (a name maps to its row, or to the
        rows under it), built in table order so a walk visits keys in the order ``set_path`` row
        by row would insert them. None when a walk would order keys differently: a group's rows
        are not contiguous (``a.x, b, a.y``: a view missing ``a.x`` gets ``b`` before ``a``), or a
        path is both a row and a group.
        """
        rows = self.compared_fields
        spans: dict[Path, list[int]] = {}
        for index, row in enumerate(rows):
            for depth in range(1, len(row.path)):
                spans.setdefault(row.path[:depth], []).append(index)
        if any(seen[-1] - seen[0] + 1 != len(seen) for seen in spans.values()):
            return None
        tree: RowTree = {}
        for row in rows:
            node: Any = tree
            for part in row.path[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    return None
            if row.path[-1] in node:
                return None
            node[row.path[-1]] = row
        return tree


@dataclass(frozen=True)
class CampaignType:
    """A campaign type (``sms``, ``voice``): its modes, the field that selects one, its list type."""

    name: str  # campaignType
    selector: Field  # the row whose value picks the mode (format, dialingMode)
    modes: tuple[Mode, ...]
    list_type: str  # the ``type`` of the list call (getAllCampaignDetails)
    description: str = ""

    def mode(self, value: Any) -> Mode | None:
        """The mode a selector value names (any case), or None."""
        folded = self.selector.value.canon(value)
        return next((m for m in self.modes if m.name == folded), None)

    def mode_of(self, doc: Mapping[str, Any], item: Mapping[str, Any] | None = None) -> Mode | None:
        """The mode of a live campaign (its GET document, else its list item)."""
        for source in (doc, item or {}):
            found = get_path(source, self.selector.api_path)
            if found is not MISSING and found is not None:
                return self.mode(found)
        return None

    def choices(self) -> str:
        return " | ".join(m.name for m in self.modes)

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        """Every field of every mode, once, in table order."""
        seen: dict[Path, Field] = {}
        for mode in self.modes:
            for row in mode.fields:
                seen.setdefault(row.path, row)
        return tuple(seen.values())


# --- paths -----------------------------------------------------------------------------------


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def get_path(doc: Any, path: Path) -> Any:
    """The value at ``path`` in nested mappings, or ``MISSING``."""
    node = doc
    for part in path:
        if isinstance(node, dict):  # the common case, checked without the ABC machinery
            if part not in node:
                return MISSING
        elif not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def set_path(doc: dict[str, Any], path: Path, value: Any) -> None:
    if len(path) == 1:
        doc[path[0]] = value
        return
    node = doc
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def pop_path(doc: dict[str, Any], path: Path) -> Any:
    """Remove ``path`` (and mappings it leaves empty); the value removed, or ``MISSING``."""
    parents: list[tuple[dict[str, Any], str]] = []
    node: Any = doc
    for part in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return MISSING
        parents.append((node, part))
        node = node[part]
    if not isinstance(node, dict) or path[-1] not in node:
        return MISSING
    value = node.pop(path[-1])
    for parent, part in reversed(parents):
        if parent[part]:
            break
        del parent[part]
    return value

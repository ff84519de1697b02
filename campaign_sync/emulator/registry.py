"""Name -> id registries for the resources campaigns reference by name (reference §8).

The public API has no endpoints for experience flows, DNC lists, queues or SMS templates, and
campaigns name contact lists rather than pointing at their ``cl-`` ids. The emulator keeps one
registry per kind, shared by every account. Ids are derived from the name (uuid5), so the same
name always resolves to the same id across restarts and machines.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

_NAMESPACE = uuid.UUID("6f1c3a52-8c1e-4a4e-9b7e-2f4d1c0e5a11")

#: The registries a fresh emulator starts with (names from the documented samples, plus a few more).
DEFAULT_FLOWS = ("SMS Support Flow", "Voice Flow 2", "Voice Survey Flow", "Appointment Reminder Flow")
DEFAULT_CONTACT_LISTS = (
    "CL Only 2020 Dec 4",
    "DNC CL Dec 4",
    "testdnc",
    "Default Global DNC",
    "Renewals Q3",
    "Spring Promo Contacts",
    "Newsletter Subscribers",
)
DEFAULT_DNC_LISTS = ("DNC CL Dec 4", "testdnc", "Default Global DNC", "Internal DNC")
DEFAULT_QUEUES = ("Default Queue", "Support Queue", "Sales Queue")
DEFAULT_TEMPLATES = ("Welcome", "Appointment Reminder", "Payment Due")

KINDS = ("flows", "contactLists", "dncLists", "queues", "templates")
_PREFIX = {"flows": "cf-", "contactLists": "cl-", "dncLists": "cl-", "queues": "qu-", "templates": "cmt-"}


def derived_id(kind: str, name: str) -> str:
    """The deterministic id of a registry entry: ``cf-``/``cl-``/``qu-``/``cmt-`` + uuid5 of the name.

    Contact lists and DNC lists share one namespace (the platform keeps both in one store, §8.2).
    """
    space = "list" if kind in ("contactLists", "dncLists") else kind
    return _PREFIX[kind] + str(uuid.uuid5(_NAMESPACE, f"{space}/{name}"))


@dataclass
class Registries:
    """Name -> id for every kind. Lookups are exact-match on the name."""

    flows: dict[str, str] = field(default_factory=dict)
    contactLists: dict[str, str] = field(default_factory=dict)
    dncLists: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)

    @classmethod
    def defaults(cls) -> Registries:
        reg = cls()
        for kind, names in (
            ("flows", DEFAULT_FLOWS),
            ("contactLists", DEFAULT_CONTACT_LISTS),
            ("dncLists", DEFAULT_DNC_LISTS),
            ("queues", DEFAULT_QUEUES),
            ("templates", DEFAULT_TEMPLATES),
        ):
            reg.table(kind).update({name: derived_id(kind, name) for name in names})
        return reg

    def table(self, kind: str) -> dict[str, str]:
        table: dict[str, str] = getattr(self, kind)
        return table

    def flow_name(self, flow_id: str) -> str | None:
        return next((name for name, fid in self.flows.items() if fid == flow_id), None)

    def merge(self, seed: dict[str, Any]) -> list[str]:
        """Merge a seed's registry members; returns problems (nothing is merged when there are any).

        ``flows``/``templates`` (and optionally the others) are ``{name: id}`` objects; contact lists,
        DNC lists and queues may also be plain arrays of names (ids are then derived).
        """
        problems: list[str] = []
        staged: dict[str, dict[str, str]] = {}
        for kind in KINDS:
            if kind not in seed or seed[kind] is None:
                continue
            value = seed[kind]
            entries: dict[str, str] = {}
            if isinstance(value, list) and all(isinstance(n, str) and n for n in value):
                entries = {name: derived_id(kind, name) for name in value}
            elif isinstance(value, dict) and all(
                isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
            ):
                entries = dict(value)
            else:
                problems.append(f"{kind} must be an array of names or an object of name -> id")
                continue
            staged[kind] = entries
        if not problems:
            for kind, entries in staged.items():
                self.table(kind).update(entries)
        return problems

    def to_json(self) -> dict[str, dict[str, str]]:
        return {kind: dict(self.table(kind)) for kind in KINDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Registries:
        reg = cls()
        for kind in KINDS:
            reg.table(kind).update({str(k): str(v) for k, v in dict(data.get(kind) or {}).items()})
        return reg

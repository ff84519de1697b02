"""The values a plan is made of: actions, changes, matches, flow notes, the summary, the policy.

Pure data (no I/O); ``plan.build_plan`` makes them, reports and apply read them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from campaign_sync.core.compare import Unverified
from campaign_sync.core.diff import FieldChange
from campaign_sync.core.normalize import desired_view, recorded_view
from campaign_sync.manifests.models import Campaign


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def glyph(self) -> str:
        return {"create": "+", "update": "~", "delete": "-"}[self.value]

    @property
    def order(self) -> int:
        return {"create": 0, "update": 1, "delete": 2}[self.value]


class DesiredCampaign(Protocol):
    """What the plan needs of a manifest campaign (``manifest.ManifestCampaign``)."""

    @property
    def campaign(self) -> Campaign: ...
    @property
    def key(self) -> str: ...
    @property
    def location(self) -> Any: ...


class Record(Protocol):
    """What the plan needs of a state entry (``state.CampaignRecord``)."""

    @property
    def id(self) -> str: ...
    @property
    def campaignType(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def applied(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Policy:
    max_change_fraction: float = 0.5
    min_managed: int = 10
    rate_limit: int = 60


@dataclass(frozen=True)
class Change:
    key: str
    action: Action
    campaign_type: str
    name: str
    campaign_id: str | None = None
    fields: tuple[FieldChange, ...] = ()
    blocked: str | None = None
    adopted: bool = False
    note: str | None = None
    location: str | None = None
    body: Mapping[str, Any] | None = None
    live_updated_at: str | None = None
    live_hash: str | None = None
    live_view: Mapping[str, Any] | None = None
    recorded: Mapping[str, Any] | None = None  # what apply records as the state's ``applied``

    def to_json(self) -> dict[str, Any]:
        """The SPEC section 5 shape, plus a few added fields."""
        out: dict[str, Any] = {
            "key": self.key,
            "action": self.action.value,
            "campaignType": self.campaign_type,
            "campaignId": self.campaign_id,
            "blocked": self.blocked,
            "fields": [f.to_json() for f in self.fields],
            "name": self.name,
        }
        if self.adopted:
            out["adopted"] = True
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Match:
    """A manifest campaign tied to a live one (whether or not it changes)."""

    key: str
    campaign_id: str
    campaign_type: str
    name: str
    adopted: bool
    updated_at: str | None
    campaign: Campaign = field(repr=False, compare=False)
    applied: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)  # the state's

    @functools.cached_property
    def recorded(self) -> Mapping[str, Any]:
        """What apply records as the state's ``applied``: built when asked for (only apply asks, for
        the campaigns it records unchanged), so a plan does not hold a view per campaign."""
        return recorded_view(self.campaign, desired_view(self.campaign), self.applied)


@dataclass(frozen=True)
class FlowNote:
    """An experience flow the plan cannot verify: a note with its fix, not a change (SPEC 6)."""

    key: str
    campaign_id: str
    flow: Unverified

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "campaignId": self.campaign_id,
            "path": self.flow.path,
            "live": self.flow.live_id,
            "manifest": self.flow.wanted,
        }


@dataclass(frozen=True)
class Summary:
    create: int = 0
    update: int = 0
    delete: int = 0
    unchanged: int = 0
    unmanaged: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "create": self.create,
            "update": self.update,
            "delete": self.delete,
            "unchanged": self.unchanged,
            "unmanaged": self.unmanaged,
        }

    def line(self) -> str:
        return (
            f"Plan: {self.create} to create, {self.update} to update, {self.delete} to delete, "
            f"{self.unchanged} unchanged, {self.unmanaged} unmanaged."
        )

"""Value types and the fields every campaign shares.

Strict at the user boundary: unknown fields are errors, booleans are booleans, numbers are
numbers. Values with several spellings (priority 5 / "5", "09:00 am", "weekly") are accepted
and stored in the one canonical spelling the API uses. Bounds, lengths and accepted spellings
come from the field table (``core/fields.py``), so the models, normalisation and the JSON Schema
cannot disagree.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

import campaign_sync.core.fields as table
from campaign_sync.core.values import (
    DAYS,
    canonical_phone,
    canonical_priority,
    canonical_time,
    canonical_timezone,
    lower,
    minutes_of,
    title,
    upper,
)

KEY_PATTERN = table.KEY_PATTERN

__all__ = ["DAYS", "KEY_PATTERN", "minutes_of"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_by_name=True)


def spelled(row: table.Field, **extra: Any) -> Any:
    """A pydantic ``Field`` accepting every spelling the table gives ``row``, with its description."""
    alias = AliasChoices(*row.names) if row.spellings else None
    return Field(validation_alias=alias, description=row.description or None, **extra)


def sized(row: table.Field) -> Any:
    """The length limits the table gives a text or list field."""
    spec = row.value
    if isinstance(spec, table.Message):
        spec = spec.text
    if isinstance(spec, table.Text):
        return Field(min_length=spec.min_length or None, max_length=spec.max_length)
    if isinstance(spec, table.Names):
        return Field(min_length=spec.min_items, max_length=spec.max_items)
    if isinstance(spec, table.Windows):
        return Field(min_length=1, max_length=spec.max_items)
    raise TypeError(f"{row.path} has no length limits")


def in_range(row: table.Field) -> AfterValidator:
    """The range the table gives a whole-number field, with the message "must be LOW..HIGH"."""
    spec = row.value
    if not isinstance(spec, table.Integer):
        raise TypeError(f"{row.path} is not a whole number")
    low, high = spec.low, spec.high

    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be {low}..{high}")
        return value

    return AfterValidator(check)


def _unique_names(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value.lower() in seen:
            raise ValueError(f"lists {value!r} twice")
        seen.add(value.lower())
    return values


Key = Annotated[str, Field(pattern=KEY_PATTERN, description=table.KEY.description)]
ListName = Annotated[str, Field(min_length=1, max_length=48)]
Priority = Annotated[
    Literal["1", "2", "3", "4", "5"],
    BeforeValidator(canonical_priority),
    spelled(table.PRIORITY),
]
Time = Annotated[str, BeforeValidator(canonical_time), Field(description='h:mm AM|PM, e.g. "9:00 AM"')]
Phone = Annotated[str, BeforeValidator(canonical_phone), spelled(table.PHONE)]
TimeZone = Annotated[str, BeforeValidator(canonical_timezone), spelled(table.TIMEZONE)]
Day = Annotated[Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"], BeforeValidator(upper)]
Frequency = Annotated[Literal["WEEKLY", "DAILY", "CUSTOM"], BeforeValidator(upper), spelled(table.FREQUENCY)]
Lower = BeforeValidator(lower)
Title = BeforeValidator(title)
Upper = BeforeValidator(upper)


class CallerId(Strict):
    phoneNumber: Phone


class DayWindow(Strict):
    day: Day
    start: Time
    end: Time

    @model_validator(mode="after")
    def _start_before_end(self) -> DayWindow:
        if minutes_of(self.start) >= minutes_of(self.end):
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class CallingHours(Strict):
    frequency: Frequency
    timezone: TimeZone
    days: Annotated[list[DayWindow], sized(table.DAYS_FIELD), spelled(table.DAYS_FIELD)]

    @model_validator(mode="after")
    def _no_overlap(self) -> CallingHours:
        by_day: dict[str, list[tuple[int, int]]] = {}
        for window in self.days:
            by_day.setdefault(window.day, []).append((minutes_of(window.start), minutes_of(window.end)))
        for day, spans in by_day.items():
            spans.sort()
            for (_, end), (start, _) in pairwise(spans):
                if start < end:
                    raise ValueError(f"calling hours on {day} overlap")
        return self


class SmsDialingStrategy(Strict):
    callerId: CallerId
    callingHours: CallingHours


class DncList(Strict):
    name: Annotated[str, sized(table.DNC_NAME), spelled(table.DNC_NAME)]


class Schedule(Strict):
    isSchedulingEnabled: Annotated[bool, spelled(table.SCHEDULING)]


class CampaignBase(Strict):
    """Fields shared by every campaign. Optional fields left out are unmanaged."""

    key: Key
    campaignType: str
    name: Annotated[str, sized(table.NAME), spelled(table.NAME)]
    description: Annotated[str, sized(table.DESCRIPTION), spelled(table.DESCRIPTION)]
    contactLists: Annotated[
        list[ListName],
        sized(table.CONTACT_LISTS),
        AfterValidator(_unique_names),
        spelled(table.CONTACT_LISTS),
    ]
    dncLists: DncList | None = None
    priority: Priority
    schedule: Schedule | None = None


#: Any campaign model (every mode's model is a ``CampaignBase``).
Campaign = CampaignBase

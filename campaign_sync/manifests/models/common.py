"""Value types and the fields every campaign shares.

Strict at the user boundary: unknown fields are errors, booleans are booleans, numbers are
numbers. Values with several spellings (priority 5 / "5", "09:00 am", "weekly") are accepted
and stored in the one canonical spelling the API uses.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TIME = re.compile(r"^\s*(0?[1-9]|1[0-2]):([0-5][0-9])\s*([AaPp])\.?[Mm]\.?\s*$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_by_name=True)


def upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def title(value: Any) -> Any:
    return value.strip().capitalize() if isinstance(value, str) else value


def canonical_priority(value: Any) -> Any:
    """priority: 5 or "5" in, "5" out."""
    if isinstance(value, bool):
        raise ValueError('must be 1..5 (a number or a string such as "5")')
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        value = value.strip()
        if value in {"1", "2", "3", "4", "5"}:
            return value
    raise ValueError("must be 1..5")


def canonical_time(value: Any) -> Any:
    """ "9:00 AM", "09:00 am", "9:00am" -> "9:00 AM"."""
    if not isinstance(value, str):
        raise ValueError('must be a time like "9:00 AM" (quote it in YAML)')
    match = _TIME.match(value)
    if not match:
        raise ValueError(f'must be a time like "9:00 AM" (h:mm AM|PM), got {value!r}')
    hour, minute, half = match.groups()
    return f"{int(hour)}:{minute} {half.upper()}M"


def minutes_of(time: str) -> int:
    """Minutes after midnight of a canonical time."""
    clock, half = time.split(" ")
    hour, minute = (int(x) for x in clock.split(":"))
    return (hour % 12 + (12 if half == "PM" else 0)) * 60 + minute


def canonical_phone(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError('must be an E.164 phone number in quotes, like "+14155550100"')
    compact = _PHONE_SEPARATORS.sub("", value)
    if not _E164.match(compact):
        raise ValueError(f"must be an E.164 phone number like +14155550100, got {value!r}")
    return compact


@cache
def _zones() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def canonical_timezone(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an IANA time zone name such as Asia/Kolkata")
    zone = _zones().get(value.strip().lower())
    if zone is None:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Kolkata)")
    return zone


def _in_range(low: int, high: int) -> AfterValidator:
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


Key = Annotated[str, Field(pattern=KEY_PATTERN, description="Stable identity of the campaign in Git.")]
Name = Annotated[str, Field(min_length=1, max_length=48)]
Description = Annotated[str, Field(max_length=256)]
ListName = Annotated[str, Field(min_length=1, max_length=48)]
Priority = Annotated[
    Literal["1", "2", "3", "4", "5"],
    BeforeValidator(canonical_priority),
    Field(description="1 (lowest) .. 5; a number or a string, sent as a string."),
]
Time = Annotated[str, BeforeValidator(canonical_time), Field(description='h:mm AM|PM, e.g. "9:00 AM"')]
Phone = Annotated[str, BeforeValidator(canonical_phone), Field(description="E.164, e.g. +14155550100")]
TimeZone = Annotated[
    str, BeforeValidator(canonical_timezone), Field(description="IANA zone, e.g. Asia/Kolkata")
]
Day = Annotated[Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"], BeforeValidator(upper)]
Frequency = Annotated[Literal["WEEKLY", "DAILY", "CUSTOM"], BeforeValidator(upper)]
DialingOrder = Annotated[Literal["FIFO", "LIFO"], BeforeValidator(upper)]
Attempts = Annotated[int, _in_range(1, 100)]
RetryPeriod = Annotated[int, _in_range(1, 1440)]
RingTime = Annotated[int, _in_range(5, 120)]
Lower = BeforeValidator(lower)
Title = BeforeValidator(title)


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
    days: Annotated[list[DayWindow], Field(min_length=1, max_length=70)]

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


class VoiceDialingStrategy(SmsDialingStrategy):
    dialingOrder: DialingOrder
    maxAttemptsPerRecord: Attempts
    defaultRetryPeriod: Annotated[RetryPeriod, Field(description="minutes, 1..1440")]
    maxRingTime: Annotated[RingTime, Field(description="seconds, 5..120")]


class DncList(Strict):
    name: ListName


class Schedule(Strict):
    isSchedulingEnabled: bool


class CampaignBase(Strict):
    """Fields shared by every campaign. Optional fields left out are unmanaged."""

    key: Key
    name: Name
    description: Description
    contactLists: Annotated[list[ListName], Field(min_length=1, max_length=10), AfterValidator(_unique_names)]
    dncLists: DncList | None = None
    priority: Priority
    schedule: Schedule | None = None


def api_alias(name: str, api_name: str) -> Any:
    """Accept both our camelCase name and the API's own spelling."""
    return Field(validation_alias=AliasChoices(name, api_name))

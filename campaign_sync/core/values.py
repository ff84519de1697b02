"""Value functions: one spelling per value, shared by the models, the field table and the views.

Each ``canonical_*`` function accepts every spelling a manifest may use and returns the one the
API uses, or raises ``ValueError`` with a user-facing message; the models call them to validate,
normalisation calls them (tolerantly) on live values so two spellings of one value are identical.

Pure: standard library only.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from functools import cache, lru_cache
from typing import Any
from zoneinfo import available_timezones

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TIME_PATTERN = r"^\s*(0?[1-9]|1[0-2]):([0-5][0-9])\s*([AaPp])\.?[Mm]\.?\s*$"
_TIME = re.compile(TIME_PATTERN)
PHONE_SEPARATORS = r"\s().-"
_PHONE_SEPARATORS = re.compile(f"[{PHONE_SEPARATORS}]")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
PRIORITIES = ("1", "2", "3", "4", "5")


def upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def title(value: Any) -> Any:
    return value.strip().capitalize() if isinstance(value, str) else value


def same(value: Any) -> Any:
    return value


def canonical_priority(value: Any) -> Any:
    """priority: 5 or "5" in, "5" out."""
    if isinstance(value, bool):
        raise ValueError('must be 1..5 (a number or a string such as "5")')
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        value = value.strip()
        if value in PRIORITIES:
            return value
    raise ValueError("must be 1..5")


def canonical_time(value: Any) -> Any:
    """ "9:00 AM", "09:00 am", "9:00am" -> "9:00 AM"."""
    if not isinstance(value, str):
        raise ValueError('must be a time like "9:00 AM" (quote it in YAML)')
    return _canonical_time(value)


@lru_cache(maxsize=4096)
def _canonical_time(value: str) -> str:
    match = _TIME.match(value)
    if not match:
        raise ValueError(f'must be a time like "9:00 AM" (h:mm AM|PM), got {value!r}')
    hour, minute, half = match.groups()
    return f"{int(hour)}:{minute} {half.upper()}M"


@lru_cache(maxsize=4096)
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
def zones() -> dict[str, str]:
    """Every IANA zone this machine knows, by its lower-case name."""
    return {zone.lower(): zone for zone in available_timezones()}


def canonical_timezone(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an IANA time zone name such as Asia/Kolkata")
    zone = zones().get(value.strip().lower())
    if zone is None:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Kolkata)")
    return zone


def tolerant(func: Any, value: Any) -> Any:
    """``func(value)``, or ``value`` unchanged when it is not a valid spelling (live values)."""
    try:
        return func(value)
    except (ValueError, TypeError):
        return value


def decode_message(value: Any) -> Any:
    """The text of an SMS message as stored by the API: plain, base64 or URL-encoded base64."""
    if not isinstance(value, str):
        return value
    candidate = urllib.parse.unquote(value) if "%" in value else value
    compact = candidate.strip()
    if compact and len(compact) % 4 == 0:
        try:
            raw = base64.b64decode(compact, validate=True)
            text = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return value
        if text and (text.isprintable() or all(c.isprintable() or c in "\n\r\t" for c in text)):
            return text
    return value


def encode_message(text: str) -> str:
    """What the v2 API documents for ``message.message``: base64 of the UTF-8 text."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")

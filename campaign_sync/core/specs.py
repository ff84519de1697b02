"""Value specs of the field table: what a field's values are.

Each :class:`Spec` says how two spellings of one value become identical (``canon``, tolerant of
invalid live values), how a live value reads (``read``), how a validated manifest value is sent
(``to_api``) and exported (``to_manifest``, ``export``), and the JSON Schema of what a manifest
may write, in input form (every spelling the models accept). ``fields.py`` gives each row one.

Pure: standard library and the value functions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, ClassVar

from campaign_sync.core import values
from campaign_sync.core.values import (
    DAYS,
    PHONE_SEPARATORS,
    TIME_PATTERN,
    canonical_phone,
    canonical_priority,
    canonical_time,
    canonical_timezone,
    decode_message,
    encode_message,
    minutes_of,
    tolerant,
    upper,
)

Schema = dict[str, Any]


def ci_pattern(words: Sequence[str]) -> str:
    """A regular expression matching any of ``words`` in any letter case, spaces around allowed.

    Written with character classes (``[Ss][Mm][Ss]``), not an inline flag, so editors' ECMA-262
    engines read it as Python's ``re`` does.
    """

    def word(text: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.upper() != c.lower() else re.escape(c) for c in text)

    return r"^\s*(?:" + "|".join(word(w) for w in words) + r")\s*$"


class Spec:
    """What a field's values are: canonical form, input-form JSON Schema, request and manifest forms."""

    set_like: ClassVar[bool] = False
    plain: ClassVar[bool] = False  # a live value is canonical as it is (read is the identity)

    def canon(self, value: Any) -> Any:
        """Two spellings of one value become identical (tolerant: an invalid value is kept)."""
        return value

    def read(self, value: Any) -> Any:
        """A live value, canonical."""
        return self.canon(value)

    def to_api(self, value: Any) -> Any:
        """A validated manifest value as the API takes it on write."""
        return value

    def to_manifest(self, value: Any) -> Any:
        """A canonical value as a person writes it in a manifest (export)."""
        return value

    def export(self, raw: Any) -> Any:
        """A value the GET document shows, as a person writes it in a manifest."""
        return self.to_manifest(self.read(raw))

    def accepts(self, value: Any) -> bool:
        """Whether a live value is a real value of this field (not an echo of another kind)."""
        return value is not None

    #: A name under which the JSON Schema keeps this value's schema once (``$defs``), if any.
    definition: ClassVar[str | None] = None

    def schema(self) -> Schema:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Spec):
    plain: ClassVar[bool] = True
    min_length: int = 0
    max_length: int | None = None
    pattern: str | None = None

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value)

    def schema(self) -> Schema:
        out: Schema = {"type": "string"}
        if self.min_length:
            out["minLength"] = self.min_length
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out


@dataclass(frozen=True)
class Message(Spec):
    """SMS text: plain in manifests, base64 on write, plain, base64 or URL-encoded base64 live."""

    text: Text = field(default_factory=lambda: Text(min_length=1))

    def read(self, value: Any) -> Any:
        return decode_message(value)

    def to_api(self, value: Any) -> Any:
        return encode_message(value) if isinstance(value, str) else value

    def schema(self) -> Schema:
        return self.text.schema()


@dataclass(frozen=True)
class Integer(Spec):
    plain: ClassVar[bool] = True
    low: int
    high: int

    def schema(self) -> Schema:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True)
class Boolean(Spec):
    plain: ClassVar[bool] = True

    def schema(self) -> Schema:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice(Spec):
    """One of ``choices`` (the API's spelling), accepted in any letter case."""

    choices: tuple[str, ...]
    fold: Callable[[Any], Any] = values.same

    def canon(self, value: Any) -> Any:
        return self.fold(value)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and self.fold(value) in self.choices

    def schema(self) -> Schema:
        return {
            "anyOf": [
                {"enum": list(self.choices)},
                {"type": "string", "pattern": ci_pattern(self.choices)},
            ]
        }


@dataclass(frozen=True)
class Priority(Spec):
    """1..5, a number or a string; sent as a string, exported as a number."""

    def canon(self, value: Any) -> Any:
        return tolerant(canonical_priority, value)

    def to_manifest(self, value: Any) -> Any:
        return int(value) if value in values.PRIORITIES else value

    def schema(self) -> Schema:
        return {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 5},
                {"type": "string", "pattern": r"^\s*[1-5]\s*$"},
            ]
        }


@dataclass(frozen=True)
class Time(Spec):
    """h:mm AM|PM; "09:00 am" and "9:00am" are "9:00 AM"."""

    def canon(self, value: Any) -> Any:
        return tolerant(canonical_time, value)

    def schema(self) -> Schema:
        return {"type": "string", "pattern": TIME_PATTERN}


@dataclass(frozen=True)
class Phone(Spec):
    """E.164; spaces, dots, dashes and parentheses are dropped."""

    def canon(self, value: Any) -> Any:
        return tolerant(canonical_phone, value)

    def schema(self) -> Schema:
        sep = f"[{PHONE_SEPARATORS}]*"
        return {"type": "string", "pattern": rf"^{sep}\+{sep}[1-9](?:{sep}[0-9]){{6,14}}{sep}$"}


@dataclass(frozen=True)
class Zone(Spec):
    """An IANA time zone this machine knows, in any letter case."""

    def canon(self, value: Any) -> Any:
        return tolerant(canonical_timezone, value)

    #: The pattern is long (every zone, in any case): the JSON Schema holds it once, under this name.
    definition: ClassVar[str] = "timezone"

    def schema(self) -> Schema:
        return {"type": "string", "pattern": _zone_pattern()}


@cache
def _zone_pattern() -> str:
    return ci_pattern(sorted(values.zones().values()))


@dataclass(frozen=True)
class Names(Spec):
    """A set of names (contact lists): order-free, sorted ignoring case; unique ignoring case."""

    set_like: ClassVar[bool] = True
    item: Text = field(default_factory=lambda: Text(1, 48))
    min_items: int = 1
    max_items: int = 10

    def canon(self, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return sorted(value, key=lambda n: (str(n).lower(), str(n)))

    def export(self, raw: Any) -> Any:
        return [str(n) for n in raw] if isinstance(raw, list) else raw  # in the live order

    def schema(self) -> Schema:
        return {
            "type": "array",
            "items": self.item.schema(),
            "minItems": self.min_items,
            "maxItems": self.max_items,
            "uniqueItems": True,
        }


@dataclass(frozen=True)
class Windows(Spec):
    """Calling-hour windows ``[{day, start, end}]``: order-free, compared keyed by day (``days[FR]``)."""

    set_like: ClassVar[bool] = True
    max_items: int = 70
    day: Choice = field(default_factory=lambda: Choice(DAYS, upper))
    time: Time = field(default_factory=Time)

    def canon(self, value: Any) -> Any:
        """``[{day, start, end}, ...]`` -> ``{"MO": {"start", "end"}, "MO#2": {...}}``.

        Windows spelled with plain strings (nearly all of them) are folded once per distinct
        spelling and the keyed shape rebuilt from that (a plan folds the hours of every campaign,
        twice, and a team's campaigns share a handful of them); anything else is folded as it is.
        """
        if not isinstance(value, list):
            return value
        spelled: list[tuple[str, str, str]] = []
        for item in value:
            if item.__class__ is not dict:
                return self._canon(value)
            day, start, end = item.get("day"), item.get("start"), item.get("end")
            if day.__class__ is not str or start.__class__ is not str or end.__class__ is not str:
                return self._canon(value)
            spelled.append((day, start, end))
        return {key: {"start": start, "end": end} for key, start, end in _keyed_windows(self, tuple(spelled))}

    def _canon(self, value: list[Any]) -> dict[str, Any]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for item in value:
            if not isinstance(item, Mapping):
                continue
            day = upper(item.get("day"))
            grouped.setdefault(str(day), []).append(
                {"start": self.time.canon(item.get("start")), "end": self.time.canon(item.get("end"))}
            )
        out: dict[str, Any] = {}
        for day, windows in grouped.items():
            windows.sort(key=lambda w: (_minutes(w["start"]), str(w["end"])))
            for index, window in enumerate(windows):
                out[day if index == 0 else f"{day}#{index + 1}"] = window
        return out

    def to_manifest(self, value: Any) -> Any:
        """The keyed view back to a list, MO..SU, each day's windows by start time."""
        if not isinstance(value, Mapping):
            return value
        out = [
            {"day": key.split("#")[0], "start": w.get("start"), "end": w.get("end")}
            for key, w in value.items()
        ]

        def order(day: dict[str, Any]) -> tuple[int, int, str]:
            where = DAYS.index(day["day"]) if day["day"] in DAYS else len(DAYS)
            return where, _minutes(day["start"]), str(day["day"])

        return sorted(out, key=order)

    def schema(self) -> Schema:
        return {
            "type": "array",
            "minItems": 1,
            "maxItems": self.max_items,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["day", "start", "end"],
                "properties": {
                    "day": self.day.schema(),
                    "start": self.time.schema(),
                    "end": self.time.schema(),
                },
            },
        }


@lru_cache(maxsize=4096)
def _keyed_windows(
    spec: Windows, spelled: tuple[tuple[str, str, str], ...]
) -> tuple[tuple[str, Any, Any], ...]:
    """``Windows._canon`` of windows spelled with plain strings, as ``(key, start, end)`` rows."""
    folded = spec._canon([{"day": day, "start": start, "end": end} for day, start, end in spelled])
    return tuple((key, window["start"], window["end"]) for key, window in folded.items())


def _minutes(value: Any) -> int:
    try:
        return minutes_of(value)
    except (ValueError, AttributeError, TypeError):  # TypeError: an unhashable live value
        return -1

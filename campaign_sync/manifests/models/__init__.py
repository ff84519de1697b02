"""Campaign models (one module per campaign type) and pydantic errors as file:line issues.

Every pydantic error becomes an :class:`~campaign_sync.errors.Issue` pointing at the manifest
line of the offending value. Which model a raw campaign is validated with is decided by the
campaign-type registry (``core/campaign_types.py``) in ``manifests/parse.py``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from campaign_sync.errors import Issue
from campaign_sync.manifests.models.common import (
    DAYS,
    KEY_PATTERN,
    Campaign,
    CampaignBase,
    DayWindow,
    minutes_of,
)
from campaign_sync.manifests.models.sms import SmsAdvanced, SmsMessage, SmsSimple
from campaign_sync.manifests.models.voice import VoiceAgentless, VoicePreview, VoiceProgressive
from campaign_sync.manifests.yamlsafe import issue

__all__ = [
    "DAYS",
    "Campaign",
    "CampaignBase",
    "DayWindow",
    "SmsAdvanced",
    "SmsMessage",
    "SmsSimple",
    "VoiceAgentless",
    "VoicePreview",
    "VoiceProgressive",
    "known_fields",
    "minutes_of",
    "pydantic_issues",
]


def pydantic_issues(
    exc: ValidationError, path: str, root: Any, loc: tuple[str | int, ...], model: type[BaseModel]
) -> list[Issue]:
    """Turn pydantic's errors into file:line issues with plain messages."""
    issues = []
    for error in exc.errors(include_url=False):
        where = tuple(error["loc"])
        issues.append(issue(path, root, (*loc, *where), _message(error, model, where)))
    return issues


def _message(error: Any, model: type[BaseModel], where: Sequence[str | int]) -> str:
    error_type = error["type"]
    ctx = error.get("ctx") or {}
    if error_type == "missing":
        return "required"
    if error_type == "extra_forbidden":
        field = str(where[-1]) if where else ""
        known = _known_fields(model, where[:-1])
        hint = difflib.get_close_matches(field, known, n=1)
        if hint:
            return f"unknown field (did you mean {hint[0]!r}?)"
        return f"unknown field (allowed here: {', '.join(sorted(known))})" if known else "unknown field"
    if error_type in {"string_too_long", "too_long"}:
        unit = "characters" if error_type == "string_too_long" else "items"
        return f"must be at most {ctx.get('max_length')} {unit}"
    if error_type in {"string_too_short", "too_short"}:
        if error_type == "string_too_short" and ctx.get("min_length") == 1:
            return "must not be empty"
        unit = (
            "characters"
            if error_type == "string_too_short"
            else "item"
            if ctx.get("min_length") == 1
            else "items"
        )
        return f"must have at least {ctx.get('min_length')} {unit}"
    if error_type == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern == KEY_PATTERN:
            return "must match [a-z0-9][a-z0-9._-]{0,63} (lowercase letters, digits, '.', '_', '-')"
        return f"must match {pattern}, got {error.get('input')!r}"
    if error_type == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {error.get('input')!r}"
    if error_type in {"greater_than_equal", "less_than_equal"}:
        return (
            f"must be {'>=' if error_type == 'greater_than_equal' else '<='} {ctx.get('ge', ctx.get('le'))}"
        )
    if error_type in {"int_type", "int_parsing"}:
        return f"must be a whole number, got {error.get('input')!r}"
    if error_type == "bool_type":
        return f"must be true or false, got {error.get('input')!r}"
    if error_type == "string_type":
        return f"must be a string (quote it in YAML), got {error.get('input')!r}"
    if error_type in {"list_type", "model_type", "dict_type", "model_attributes_type"}:
        return "must be a list" if error_type == "list_type" else "must be a mapping"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def known_fields(model: type[BaseModel], where: Sequence[str | int] = ()) -> list[str]:
    """The field names (and accepted spellings) of ``model`` at ``where``."""
    return _known_fields(model, where)


def _known_fields(model: type[BaseModel], where: Sequence[str | int]) -> list[str]:
    current: Any = model
    mapping_key_next = False
    for part in where:
        if isinstance(part, int) or mapping_key_next:
            mapping_key_next = False
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        mapping_key_next = getattr(field.annotation, "__origin__", None) is dict
        current = _model_of(field.annotation)
        if current is None:
            return []
    names = []
    for name, field in current.model_fields.items():
        names.append(name)
        alias = field.validation_alias
        if alias is not None and hasattr(alias, "choices"):
            names.extend(str(c) for c in alias.choices if c != name)
    return names


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None

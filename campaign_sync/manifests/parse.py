"""One raw manifest campaign -> the model of its type and mode, or file:line issues.

The campaign type and its mode selector come from the registry (``core/campaign_types.py``): an
unknown type or mode is an issue naming the known ones, never a fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.fields import CampaignType
from campaign_sync.errors import Issue
from campaign_sync.manifests.models import Campaign, CampaignBase, known_fields, pydantic_issues
from campaign_sync.manifests.yamlsafe import issue


def parse_campaign(raw: Any, path: str, root: Any, loc: tuple[str | int, ...]) -> Campaign | list[Issue]:
    """Validate one raw campaign mapping found at ``loc`` in the document ``root`` of file ``path``."""
    if not isinstance(raw, Mapping):
        return [issue(path, root, loc, "must be a mapping of campaign fields")]
    name = raw.get("campaignType")
    if name is None:
        return [issue(path, root, (*loc,), f"campaignType: required ({REGISTRY.choices()})")]
    ctype = REGISTRY.find(name)
    if ctype is None:
        found = [issue(path, root, (*loc, "campaignType"), f"must be {REGISTRY.choices()}, got {name!r}")]
        return found + common_issues(raw, path, root, loc, tuple(REGISTRY))
    selector = ctype.selector.name
    value = raw.get(selector)
    if value is None:
        return [
            issue(path, root, loc, f"{selector}: required for a {ctype.name} campaign ({ctype.choices()})")
        ]
    mode = ctype.mode(value) if isinstance(value, str) else None
    if mode is None:
        return [issue(path, root, (*loc, selector), f"must be {ctype.choices()}, got {value!r}")]
    try:
        return mode.model.model_validate(raw)
    except ValidationError as exc:
        return pydantic_issues(exc, path, root, loc, mode.model)


def common_issues(
    raw: Mapping[str, Any], path: str, root: Any, loc: tuple[str | int, ...], types: tuple[CampaignType, ...]
) -> list[Issue]:
    """What can still be checked of a campaign whose type is unknown: the fields every campaign has
    (with their own rules) and keys that no model of ``types`` knows."""
    shared = set(known_fields(CampaignBase))
    anywhere = sorted({name for ctype in types for mode in ctype.modes for name in known_fields(mode.model)})
    found = [
        issue(path, root, (*loc, key), f"unknown field (allowed here: {', '.join(anywhere)})")
        for key in raw
        if key not in anywhere
    ]
    common = {key: value for key, value in raw.items() if key in shared}
    common["campaignType"] = str(raw.get("campaignType"))
    try:
        CampaignBase.model_validate(common)
    except ValidationError as exc:
        found.extend(pydantic_issues(exc, path, root, loc, CampaignBase))
    return found

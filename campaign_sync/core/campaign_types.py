"""The campaign-type registry: the one place that names the campaign types.

Each type is one module (``manifests/models/sms.py``, ``voice.py``) declaring its rows of the
field table, its model per mode, the field that selects the mode (``format``, ``dialingMode``)
and its list type, as a :class:`~campaign_sync.core.fields.CampaignType`. The registry below is
built once, here, and never changes; adding a type (say WhatsApp) is one such module plus one
entry in ``REGISTRY``. Nothing falls back to a type: an unknown type, or a live document that
no type (or more than one) recognises, is a :class:`~campaign_sync.errors.CampaignTypeError`.

Pure: imports only the field table, the models and errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from campaign_sync.core.fields import CampaignType, Field, Mode, Path, Role
from campaign_sync.errors import CampaignTypeError
from campaign_sync.manifests.models.common import CampaignBase
from campaign_sync.manifests.models.sms import SMS
from campaign_sync.manifests.models.voice import VOICE


@dataclass(frozen=True)
class Registry:
    """The campaign types, in a fixed order (the order lists and reports use)."""

    types: tuple[CampaignType, ...]

    def __iter__(self) -> Iterator[CampaignType]:
        return iter(self.types)

    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.types)

    def choices(self) -> str:
        return " or ".join(self.names())

    def find(self, name: Any) -> CampaignType | None:
        """The type named ``name`` (any case, spaces around allowed), or None."""
        if not isinstance(name, str):
            return None
        folded = name.strip().lower()
        return next((t for t in self.types if t.name == folded), None)

    def get(self, name: str) -> CampaignType:
        """The type named ``name``; an unknown name is an error, never a fallback."""
        found = self._by_name.get(name)
        if found is None:
            raise CampaignTypeError(f"unknown campaign type {name!r} (known: {', '.join(self.names())})")
        return found

    @cached_property
    def _by_model(self) -> dict[type[CampaignBase], tuple[CampaignType, Mode]]:
        return {mode.model: (ctype, mode) for ctype in self.types for mode in ctype.modes}

    @cached_property
    def _by_name(self) -> dict[str, CampaignType]:
        return {t.name: t for t in self.types}

    def of(self, campaign: CampaignBase) -> tuple[CampaignType, Mode]:
        """The type and mode of a validated manifest campaign."""
        found = self._by_model.get(type(campaign))
        if found is None:
            raise CampaignTypeError(f"internal: {type(campaign).__name__} is not a registered campaign model")
        return found

    def of_document(self, doc: Mapping[str, Any]) -> CampaignType:
        """The type of a live GET document: the one type whose mode selector it carries."""
        found = [t for t in self.types if t.selector.api_path[0] in doc]
        if len(found) != 1:
            shown = ", ".join(t.selector.api_path[0] for t in self.types)
            raise CampaignTypeError(
                "cannot tell the campaign type of the live document: it should carry exactly one of "
                f"{shown}, and carries {', '.join(t.selector.api_path[0] for t in found) or 'none'}"
            )
        return found[0]

    @cached_property
    def field_paths(self) -> frozenset[Path]:
        """The API paths (write and read) of every field of every type and mode (the key is not one)."""
        paths: set[Path] = set()
        for ctype in self.types:
            for row in ctype.fields:
                if row.role is Role.KEY:
                    continue
                paths.add(row.api_path)
                paths.update(row.read_paths)
        return frozenset(paths)

    def fields(self) -> tuple[Field, ...]:
        """Every row of every type, once per (type, path)."""
        return tuple(row for ctype in self.types for row in ctype.fields)


REGISTRY = Registry((SMS, VOICE))

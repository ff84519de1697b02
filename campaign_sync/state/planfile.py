"""Saved plans (``plan --out FILE``): an expectation for ``apply PLANFILE``, never an instruction.

The file holds the plan as a reviewer saw it (the SPEC section 5 JSON, with its digest), the
manifests' digest, the state's lineage and serial, the ``--target`` keys, and for every campaign
the plan updates or deletes its live ``updatedAt`` and content hash at plan time. ``apply``
recomputes the plan and compares digests; what it reads here only decides whether to refuse and
explains a refusal. No request body, no campaign document and no secret is stored.

Format 2 (format 1 carried request bodies that apply executed; it is refused with a hint).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaign_sync import __version__
from campaign_sync.core.diff import FieldChange
from campaign_sync.core.plan import Action, Plan
from campaign_sync.errors import CampaignSyncError
from campaign_sync.files import write_atomic
from campaign_sync.sanitize import dumps_json

KIND = "campaign-sync plan"
VERSION = 2
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class SavedChange:
    """One change as the saved plan shows it (for explaining a refusal only)."""

    key: str
    action: str
    campaign_type: str
    campaign_id: str | None
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Version:
    """A touched campaign's live version when the plan was made."""

    campaign_id: str | None
    updated_at: str | None
    content_hash: str | None


@dataclass(frozen=True)
class SavedPlan:
    environment: str
    digest: str
    manifests_digest: str
    lineage: str
    serial: int
    targets: tuple[str, ...]
    created_at: str
    changes: tuple[SavedChange, ...] = ()
    versions: Mapping[str, Version] = field(default_factory=dict)
    path: str = ""


def to_json(
    plan: Plan,
    *,
    manifests_digest: str,
    lineage: str,
    serial: int,
    targets: Sequence[str],
    created_at: str,
) -> dict[str, Any]:
    versions = {
        c.key: {"campaignId": c.campaign_id, "updatedAt": c.live_updated_at, "contentHash": c.live_hash}
        for c in plan.changes
        if c.action is not Action.CREATE
    }
    return {
        "kind": KIND,
        "formatVersion": VERSION,
        "toolVersion": __version__,
        "createdAt": created_at,
        "environment": plan.environment,
        "manifestsDigest": manifests_digest,
        "state": {"lineage": lineage, "serial": serial},
        "targets": list(targets),
        "plan": plan.to_json(),
        "versions": versions,
    }


def write(path: Path, data: Mapping[str, Any]) -> None:
    """Save a plan file (owner read/write only: it shows campaign values)."""
    try:
        write_atomic(path, dumps_json(data))
    except OSError as exc:
        raise CampaignSyncError(f"cannot save the plan to {path}: {exc.strerror or exc}") from None


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    return value


def _optional(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _saved_change(data: Any) -> SavedChange:
    if not isinstance(data, Mapping):
        raise ValueError("a change must be an object")
    fields = data.get("fields") or []
    if not isinstance(fields, list) or not all(isinstance(f, Mapping) for f in fields):
        raise ValueError("fields must be a list of objects")
    return SavedChange(
        key=_text(data.get("key"), "key"),
        action=_text(data.get("action"), "action"),
        campaign_type=_text(data.get("campaignType"), "campaignType"),
        campaign_id=_optional(data.get("campaignId"), "campaignId"),
        fields=tuple(
            FieldChange(_text(f.get("path"), "path"), f.get("before"), f.get("after")) for f in fields
        ),
    )


def _version(data: Any) -> Version:
    if not isinstance(data, Mapping):
        raise ValueError("a version must be an object")
    return Version(
        _optional(data.get("campaignId"), "campaignId"),
        _optional(data.get("updatedAt"), "updatedAt"),
        _optional(data.get("contentHash"), "contentHash"),
    )


def read(path: Path) -> SavedPlan:
    shown = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignSyncError(f"{shown}: plan file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CampaignSyncError(f"{shown}: not a readable plan file ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise CampaignSyncError(f"{shown}: not a campaign-sync plan file")
    if data.get("formatVersion") != VERSION:
        raise CampaignSyncError(
            f"{shown}: plan format {data.get('formatVersion')!r} is not supported by campaign-sync "
            f"{__version__}; run `campaign-sync plan --out {shown}` again"
        )
    try:
        plan = data["plan"]
        digest = _text(plan["digest"], "plan.digest")
        if not DIGEST.match(digest):
            raise ValueError("plan.digest must be sha256: and 64 hex digits")
        state = data["state"]
        targets = data.get("targets", [])
        if not isinstance(targets, list):
            raise ValueError("targets must be a list")
        versions = data.get("versions", {})
        if not isinstance(versions, Mapping):
            raise ValueError("versions must be an object")
        changes = plan.get("changes", [])
        if not isinstance(changes, list):
            raise ValueError("plan.changes must be a list")
        serial = state["serial"]
        if isinstance(serial, bool) or not isinstance(serial, int):
            raise ValueError("state.serial must be a number")
        return SavedPlan(
            environment=_text(data["environment"], "environment"),
            digest=digest,
            manifests_digest=_text(data["manifestsDigest"], "manifestsDigest"),
            lineage=_text(state["lineage"], "state.lineage"),
            serial=serial,
            targets=tuple(_text(t, "targets[]") for t in targets),
            created_at=str(data.get("createdAt", "")),
            changes=tuple(_saved_change(c) for c in changes),
            versions={_text(k, "versions key"): _version(v) for k, v in versions.items()},
            path=shown,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CampaignSyncError(f"{shown}: damaged plan file ({type(exc).__name__}: {exc})") from None

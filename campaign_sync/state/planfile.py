"""Saved plans (``plan --out FILE``): the plan plus what apply needs to prove it is not stale.

The file holds the manifests' digest, the state's lineage and serial, and for every campaign
the plan touches its live ``updatedAt``, content hash and canonical view at plan time. It holds
no secret: request bodies carry campaign fields only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign_sync import __version__
from campaign_sync.core.diff import FieldChange
from campaign_sync.core.plan import Action, Change, Match, Plan, Summary
from campaign_sync.errors import CampaignSyncError
from campaign_sync.files import write_atomic

KIND = "campaign-sync plan"
VERSION = 1


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    manifests_digest: str
    lineage: str
    serial: int
    targets: tuple[str, ...]
    created_at: str
    path: str = ""


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "key": change.key,
        "action": change.action.value,
        "campaignType": change.campaign_type,
        "name": change.name,
        "campaignId": change.campaign_id,
        "fields": [f.to_json() for f in change.fields],
        "blocked": change.blocked,
        "adopted": change.adopted,
        "note": change.note,
        "location": change.location,
        "body": change.body,
        "liveUpdatedAt": change.live_updated_at,
        "liveHash": change.live_hash,
        "liveView": change.live_view,
        "applied": change.recorded,
    }


def _change(data: Mapping[str, Any]) -> Change:
    return Change(
        key=data["key"],
        action=Action(data["action"]),
        campaign_type=data["campaignType"],
        name=data["name"],
        campaign_id=data.get("campaignId"),
        fields=tuple(
            FieldChange(f["path"], f.get("before"), f.get("after"), bool(f.get("unverified")))
            for f in data.get("fields", [])
        ),
        blocked=data.get("blocked"),
        adopted=bool(data.get("adopted")),
        note=data.get("note"),
        location=data.get("location"),
        body=data.get("body"),
        live_updated_at=data.get("liveUpdatedAt"),
        live_hash=data.get("liveHash"),
        live_view=data.get("liveView"),
        recorded=data.get("applied"),
    )


def _match_json(match: Match) -> dict[str, Any]:
    return {
        "key": match.key,
        "campaignId": match.campaign_id,
        "campaignType": match.campaign_type,
        "name": match.name,
        "adopted": match.adopted,
        "applied": match.recorded,
        "updatedAt": match.updated_at,
        "liveHash": match.live_hash,
    }


def _match(data: Mapping[str, Any]) -> Match:
    return Match(
        data["key"],
        data["campaignId"],
        data["campaignType"],
        data["name"],
        bool(data["adopted"]),
        data["applied"],
        data.get("updatedAt"),
        data.get("liveHash"),
    )


def to_json(saved: SavedPlan) -> dict[str, Any]:
    plan = saved.plan
    return {
        "kind": KIND,
        "formatVersion": VERSION,
        "toolVersion": __version__,
        "createdAt": saved.created_at,
        "environment": plan.environment,
        "manifestsDigest": saved.manifests_digest,
        "state": {"lineage": saved.lineage, "serial": saved.serial},
        "targets": list(saved.targets),
        "plan": plan.to_json(),
        "detail": {
            "changes": [_change_json(c) for c in plan.changes],
            "matches": [_match_json(m) for m in plan.matches],
            "learnedFlows": dict(plan.learned_flows),
            "forget": list(plan.forget),
            "managed": plan.managed,
            "rateLimit": plan.rate_limit,
        },
    }


def write(saved: SavedPlan, path: Path) -> None:
    text = json.dumps(to_json(saved), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise CampaignSyncError(f"cannot save the plan to {path}: {exc.strerror or exc}") from None


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
            f"{shown}: plan format {data.get('formatVersion')!r} is not supported "
            f"by campaign-sync {__version__}"
        )
    try:
        detail = data["detail"]
        summary = data["plan"]["summary"]
        plan = Plan(
            environment=data["environment"],
            changes=tuple(_change(c) for c in detail["changes"]),
            summary=Summary(
                **{k: int(summary[k]) for k in ("create", "update", "delete", "unchanged", "unmanaged")}
            ),
            matches=tuple(_match(m) for m in detail["matches"]),
            warnings=tuple(data["plan"].get("warnings", [])),
            learned_flows=dict(detail.get("learnedFlows", {})),
            forget=tuple(detail.get("forget", [])),
            managed=int(detail.get("managed", 0)),
            rate_limit=int(detail.get("rateLimit", 60)),
        )
        return SavedPlan(
            plan=plan,
            manifests_digest=data["manifestsDigest"],
            lineage=data["state"]["lineage"],
            serial=int(data["state"]["serial"]),
            targets=tuple(data.get("targets", [])),
            created_at=data.get("createdAt", ""),
            path=shown,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CampaignSyncError(f"{shown}: damaged plan file ({type(exc).__name__}: {exc})") from None

"""The plan digest (SPEC 4): what a reviewer approves, as one ``sha256:`` value."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from campaign_sync.core.changes import Action, Change


def plan_digest(environment: str, changes: Iterable[Change]) -> str:
    """``sha256:`` over the canonical JSON of what a reviewer sees (SPEC 4).

    For each change, in plan order: its action, key, campaign type, campaign id (null for creates)
    and field changes (path, before, after); plus the environment name. Canonical JSON: keys
    sorted, no whitespace, UTF-8. Values a PUT carries over unchanged from live are not part of
    it, nor are notes, names or whether a change is blocked.
    """
    payload = {
        "environment": environment,
        "changes": [
            {
                "action": change.action.value,
                "key": change.key,
                "campaignType": change.campaign_type,
                "campaignId": None if change.action is Action.CREATE else change.campaign_id,
                "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields],
            }
            for change in changes
        ],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

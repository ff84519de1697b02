"""The control API under ``/__emulator/`` (no auth, never rate limited or journaled).

Seeding, out-of-band edits (as someone in the UI would make them), run control, the request
journal, fault scripting and settings. Campaign ids are unique across accounts, so the
id-addressed endpoints find a campaign in any account; only seeding needs an account: a seeded
campaign's own ``accountId``, else the seed's ``accountId``, else the ``accountId`` query
parameter (control API), else the emulator's default account (``EmulatorApp.default_account``:
``DEFAULT_ACCOUNT_ID`` unless ``create_app(account_id=...)`` or ``campaign-sync emulator`` inside
a repository chose the environment's). Seeds are strict: an unknown key, at the top or in a
campaign, is an error naming it.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .api import start_run, stop_run
from .registry import Registries
from .store import Doc
from .validation import build_campaign, derive
from .wire import ApiError, Request, Response

if TYPE_CHECKING:
    from .app import EmulatorApp

STATUSES = ("Active", "Completed", "Ready", "Paused", "Preparing", "Stopped", "Scheduled", "Rescheduled")
#: The keys a seed may have (``--seed`` file or ``POST /__emulator/seed`` body).
SEED_KEYS = ("accountId", "flows", "contactLists", "dncLists", "queues", "templates", "campaigns")
#: The keys a seeded campaign may have: the documented create body (§5.1, §5.2) plus three of the seed's.
CAMPAIGN_KEYS = (
    "name",
    "description",
    "campaignType",
    "contactLists",
    "dncLists",
    "priority",
    "format",
    "message",
    "experienceFlowName",
    "dialingMode",
    "queue_name",
    "maxSkips",
    "enableMachineDetect",
    "dialingStrategy",
    "schedule",
    "status",
    "_id",
    "accountId",
)


class SeedError(ValueError):
    """A ``--seed`` file the emulator cannot start with; the message names the file."""


_CAMPAIGN = re.compile(r"^/__emulator/campaigns/(?P<id>[^/]+)(?P<action>/start|/stop)?/?$")


def load_seed_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A seed file: JSON when it parses as JSON, else YAML (safe loader). Must hold a mapping.

    Problems raise ``SeedError`` naming the file (and the line, for YAML syntax errors).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read the seed file: {exc}") from None
    try:
        payload = json.loads(text)
    except ValueError:
        try:
            payload = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            problem = getattr(exc, "problem", None) or "not valid YAML or JSON"
            raise SeedError(f"{where}: {problem}") from None
    if not isinstance(payload, dict):
        raise SeedError(f"{path}: a seed file must hold a mapping ({', '.join(SEED_KEYS)})")
    return payload


def seed_problems(payload: dict[str, Any]) -> list[str]:
    """Unknown keys of a seed and of its campaigns, each named (with its campaign's index)."""
    problems = [
        f"unknown seed key {key!r} (known: {', '.join(SEED_KEYS)})" for key in payload if key not in SEED_KEYS
    ]
    campaigns = payload.get("campaigns")
    for index, body in enumerate(campaigns if isinstance(campaigns, list) else []):
        if isinstance(body, dict):
            problems.extend(
                f"campaigns[{index}]: unknown key {key!r} (a seeded campaign is a v2 create body, "
                "plus status, _id and accountId)"
                for key in body
                if key not in CAMPAIGN_KEYS
            )
    return problems


def apply_seed(app: EmulatorApp, payload: Any, default_account: str) -> dict[str, str]:
    """Merge registries and insert campaigns (validated like a v2 create); all or nothing.

    Returns ``{name: id}`` for the seeded campaigns. Caller holds ``store.lock``.
    """
    if not isinstance(payload, dict):
        raise ApiError(400, "seed body must be a JSON object")
    unknown = seed_problems(payload)
    if unknown:
        raise ApiError(400, *unknown)
    store = app.store
    seed_account = payload.get("accountId") or default_account
    if not isinstance(seed_account, str):
        raise ApiError(400, "accountId must be a string")
    before = copy.deepcopy(store.registries)
    problems = store.registries.merge(payload)
    campaigns = payload.get("campaigns") or []
    if not isinstance(campaigns, list):
        problems.append("campaigns must be an array of create request bodies")
        campaigns = []
    docs: list[tuple[str, Doc]] = []
    names: set[tuple[str, str, str]] = set()
    wanted: set[str] = set()
    for index, body in enumerate(campaigns):
        label = f"campaigns[{index}]"
        try:
            doc = build_campaign(body, registries=store.registries)
        except ApiError as exc:
            problems.extend(f"{label}: {msg}" for msg in exc.messages)
            continue
        account = body.get("accountId") or seed_account
        if not isinstance(account, str):
            problems.append(f"{label}: accountId must be a string")
            continue
        status = body.get("status", "Ready")
        if status not in STATUSES:
            problems.append(f"{label}: status must be one of {', '.join(STATUSES)}")
        wanted_id = body.get("_id")
        if wanted_id is not None and (not isinstance(wanted_id, str) or not wanted_id.startswith("cd-")):
            problems.append(f"{label}: _id must be a string starting with cd-")
        elif wanted_id is not None and (store.find(wanted_id) is not None or wanted_id in wanted):
            problems.append(f"{label}: a campaign with _id {wanted_id} already exists")
        if isinstance(wanted_id, str):
            wanted.add(wanted_id)
        key = (account, doc["campaignType"], doc["lname"])
        if key in names or store.name_taken(account, doc["campaignType"], doc["name"]):
            problems.append(f'{label}: a {doc["campaignType"]} campaign named "{doc["name"]}" already exists')
        names.add(key)
        doc["_id"] = wanted_id or store.new_campaign_id(doc["campaignType"])
        doc["status"] = status
        docs.append((account, doc))
    if problems:
        store.registries = before
        raise ApiError(400, *problems)
    ids: dict[str, str] = {}
    for account, doc in docs:
        doc.update(isImported=False, isFiltersEnabled=False)
        if doc["campaignType"] == "sms":
            doc["totalMessagesSent"] = 0
        if doc["status"] == "Preparing":
            doc["readyAt"] = store.clock.now() + app.settings.preparingSeconds
        store.stamp(doc, created=True)
        if doc["status"] == "Active":
            doc["campaignInstanceId"] = store.new_instance_id()
            doc["campaignInstanceUpdatedAt"] = doc["updatedAt"]
        store.insert(account, doc)
        ids[doc["name"]] = doc["_id"]
    store.save()
    return ids


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class ControlApi:
    """Dispatches ``/__emulator/...`` requests."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.store = app.store

    def handle(self, request: Request) -> Response:
        try:
            with self.store.lock:
                return self._dispatch(request)
        except ApiError as exc:
            return exc.response()

    def _dispatch(self, req: Request) -> Response:
        method, path = req.method, req.path.rstrip("/") or "/"
        simple = {
            ("GET", "/__emulator/health"): lambda: {"ok": True},
            ("POST", "/__emulator/reset"): self._reset,
            ("POST", "/__emulator/seed"): lambda: self._seed(req),
            ("GET", "/__emulator/campaigns"): lambda: self._campaigns(req),
            ("GET", "/__emulator/journal"): lambda: {"entries": self.app.journal.entries()},
            ("DELETE", "/__emulator/journal"): self._clear_journal,
            ("GET", "/__emulator/faults"): lambda: {"faults": self.app.faults.list()},
            ("POST", "/__emulator/faults"): lambda: {"id": self.app.faults.add(req.json_object()).id},
            ("DELETE", "/__emulator/faults"): self._clear_faults,
            ("POST", "/__emulator/faults/release"): self._release,
            ("GET", "/__emulator/settings"): self.app.settings.to_json,
            ("PUT", "/__emulator/settings"): lambda: self._settings(req),
            ("GET", "/__emulator/registries"): self.store.registries.to_json,
        }
        handler = simple.get((method, path))
        if handler is not None:
            return Response.json(200, handler())
        match = _CAMPAIGN.match(path)
        if match is None:
            raise ApiError(404, f"Cannot {method} {req.path}")
        doc = self.store.find(match["id"])
        if doc is None:
            raise ApiError(404, "Campaign not found")
        action = match["action"]
        if action and method == "POST":
            (start_run if action == "/start" else stop_run)(self.store, doc)
            self.store.save()
            return Response.json(200, doc)
        if action:
            raise ApiError(404, f"Cannot {method} {req.path}")
        if method == "GET":
            return Response.json(200, doc)
        if method == "PATCH":
            return Response.json(200, self._patch(doc, req))
        if method == "DELETE":
            self.store.remove(doc["accountId"], doc["_id"])
            self.store.save()
            return Response.json(200, {"ok": True, "deleted": doc})
        raise ApiError(404, f"Cannot {method} {req.path}")

    def _reset(self) -> dict[str, Any]:
        app = self.app
        self.store.reset()
        app.journal.clear()
        app.faults.reset()
        app.limiter.reset()
        app.auth.reset()
        app.apply_settings(replace(app.defaults))
        self.store.save()
        return {"ok": True}

    def _seed(self, req: Request) -> dict[str, Any]:
        account = req.query.get("accountId") or self.app.default_account
        return {"ids": apply_seed(self.app, req.json_object(), account)}

    def _campaigns(self, req: Request) -> list[Doc]:
        account = req.query.get("accountId")
        if account:
            return self.store.campaigns(account)
        return self.store.all_campaigns()

    def _clear_journal(self) -> dict[str, Any]:
        self.app.journal.clear()
        return {"ok": True}

    def _clear_faults(self) -> dict[str, Any]:
        self.app.faults.clear()
        return {"ok": True}

    def _release(self) -> dict[str, Any]:
        self.app.faults.release_holds()
        return {"ok": True}

    def _patch(self, doc: Doc, req: Request) -> Doc:
        patch = req.json_object()
        protected = {"_id": doc["_id"], "accountId": doc["accountId"], "campaignType": doc["campaignType"]}
        merged = merge_patch(doc, patch)
        merged.update(protected)
        if "experienceFlowName" in patch and patch["experienceFlowName"] is None:
            merged.pop("experienceFlow", None)
        derive(merged, self.store.registries)
        self.store.stamp(merged)
        doc.clear()
        doc.update(merged)
        self.store.changed()  # the patch may have moved createdAt
        self.store.settle(doc)
        self.store.save()
        return doc

    def _settings(self, req: Request) -> dict[str, Any]:
        body = req.json_object()
        current = self.app.settings
        known = {f.name: f.type for f in fields(current)}
        problems = [f"unknown setting {key}" for key in body if key not in known]
        values = current.to_json()
        for key, value in body.items():
            if key not in known:
                continue
            default = values[key]
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            else:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                ok = ok and (key == "clockOffset" or value >= 0)
            if not ok:
                problems.append(f"{key} must be a {'boolean' if isinstance(default, bool) else 'number'}")
                continue
            values[key] = int(value) if key == "rateLimit" else value
        if problems:
            raise ApiError(400, *problems)
        settings = type(current)(**values)
        self.app.apply_settings(settings)
        return settings.to_json()


__all__ = [
    "ControlApi",
    "Registries",
    "SeedError",
    "apply_seed",
    "load_seed_file",
    "merge_patch",
    "seed_problems",
]

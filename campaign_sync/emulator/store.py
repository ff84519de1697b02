"""The campaign store: campaigns per account, the registries, ids, timestamps and persistence.

Documents are kept in one internal shape (see ``docs/emulator.md``): ``_id``, the campaign's
writable fields as validated, server fields (``lname``, ``status``, ``createdAt``, ...) and a few
internal ones the API never renders (``campaignType``, ``accountId``, ``queue_name``,
``experienceFlowName``, the requested ``enableMachineDetect``, ``readyAt``). ``render`` turns a
document into what each endpoint returns.

Thread safety: callers hold ``store.lock`` (re-entrant) around every read-modify-write.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from .clock import Clock, iso_ms, parse_iso_ms
from .registry import Registries

log = logging.getLogger(__name__)

Doc = dict[str, Any]

#: Campaigns seeded or created through the control API without an ``accountId`` go here.
DEFAULT_ACCOUNT_ID = "67777ce93e25326494e90000"

_FORMAT_VERSION = 1


class CampaignStore:
    """Campaign documents keyed by account then id, plus registries; optionally persisted to a file."""

    def __init__(self, clock: Clock, *, data_path: str | os.PathLike[str] | None = None) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.accounts: dict[str, dict[str, Doc]] = {}
        self.registries = Registries.defaults()
        self.data_path = Path(data_path) if data_path is not None else None
        self.loaded_from_disk = False
        self._last_created: int | None = None
        self.revision = 0
        """Bumped by every change that can add, remove or re-order campaigns (``changed``)."""
        self._orders: dict[tuple[str, str], tuple[int, list[Doc]]] = {}
        if self.data_path is not None and self.data_path.exists() and self.data_path.stat().st_size > 0:
            self._load(self.data_path)
            self.loaded_from_disk = True

    # ------------------------------------------------------------------ ids and time

    @staticmethod
    def new_campaign_id(campaign_type: str) -> str:
        """``cd-<uuid>``; voice ids have the 7-hex first group seen in the voice samples (§1.3)."""
        text = str(uuid.uuid4())
        if campaign_type == "voice":
            text = text[:7] + text[8:]
        return "cd-" + text

    @staticmethod
    def new_instance_id() -> str:
        return "cid-" + str(uuid.uuid4())

    def stamp(self, doc: Doc, *, created: bool = False) -> str:
        """Set ``updatedAt`` (and ``createdAt`` if ``created``) to now, strictly after the previous value.

        ``updatedAt`` is strictly increasing per campaign, ``createdAt`` across the store.
        """
        now = self.clock.now_ms()
        previous = self._last_created if created else parse_iso_ms(str(doc.get("updatedAt", "")))
        if previous is not None and now <= previous:
            now = previous + 1
        text = iso_ms(now)
        if created:
            self._last_created = now  # creation order is total: list's default sort follows it
            doc["createdAt"] = text
        doc["updatedAt"] = text
        return text

    def settle(self, doc: Doc) -> Doc:
        """Voice campaigns leave ``Preparing`` once ``readyAt`` has passed (``updatedAt`` is not bumped)."""
        if "readyAt" not in doc:  # most documents: nothing to settle
            return doc
        ready_at = doc.get("readyAt")
        if doc.get("status") == "Preparing" and isinstance(ready_at, int | float):
            if self.clock.now() >= ready_at:
                doc["status"] = "Ready"
                doc.pop("readyAt", None)
        elif doc.get("status") != "Preparing":
            doc.pop("readyAt", None)
        return doc

    # ------------------------------------------------------------------ access

    def campaigns(self, account: str) -> list[Doc]:
        """All campaigns of an account (settled), in insertion order."""
        return [self.settle(doc) for doc in self.accounts.get(account, {}).values()]

    def ordered(self, account: str, campaign_type: str) -> list[Doc]:
        """An account's campaigns of one type in the list's default order (``createdAt``, then id).

        Not settled; do not modify the list. The order is kept until ``changed`` is called, so
        every page of a long listing does not sort the whole account again.
        """
        key = (account, campaign_type)
        cached = self._orders.get(key)
        if cached is None or cached[0] != self.revision:
            docs = [
                d for d in self.accounts.get(account, {}).values() if d.get("campaignType") == campaign_type
            ]
            docs.sort(key=lambda d: (parse_iso_ms(str(d.get("createdAt"))) or 0, d["_id"]))
            cached = (self.revision, docs)
            self._orders[key] = cached
        return cached[1]

    def changed(self) -> None:
        """Campaigns were added, removed or rewritten in place: the kept list orders are stale."""
        self.revision += 1
        self._orders.clear()

    def all_campaigns(self) -> list[Doc]:
        return [self.settle(doc) for docs in self.accounts.values() for doc in docs.values()]

    def get(self, account: str, campaign_id: str) -> Doc | None:
        doc = self.accounts.get(account, {}).get(campaign_id)
        return self.settle(doc) if doc is not None else None

    def find(self, campaign_id: str) -> Doc | None:
        """A campaign by id in any account (ids are globally unique)."""
        for docs in self.accounts.values():
            if campaign_id in docs:
                return self.settle(docs[campaign_id])
        return None

    def name_taken(self, account: str, campaign_type: str, name: str, *, exclude: str | None = None) -> bool:
        lname = name.lower()
        return any(
            doc.get("lname") == lname and doc.get("campaignType") == campaign_type and doc["_id"] != exclude
            for doc in self.accounts.get(account, {}).values()
        )

    def insert(self, account: str, doc: Doc) -> None:
        doc["accountId"] = account
        self.accounts.setdefault(account, {})[doc["_id"]] = doc
        self.changed()

    def remove(self, account: str, campaign_id: str) -> Doc | None:
        self.changed()
        return self.accounts.get(account, {}).pop(campaign_id, None)

    def reset(self) -> None:
        self.accounts.clear()
        self.registries = Registries.defaults()
        self.changed()

    # ------------------------------------------------------------------ persistence

    def save(self) -> None:
        """Write everything to ``data_path`` atomically (temp file, fsync, rename); no-op in memory."""
        if self.data_path is None:
            return
        payload = {
            "formatVersion": _FORMAT_VERSION,
            "accounts": self.accounts,
            "registries": self.registries.to_json(),
        }
        data = json.dumps(payload, indent=1, sort_keys=True).encode("utf-8")
        directory = self.data_path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.data_path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.data_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        try:
            dir_fd = os.open(directory, os.O_RDONLY)
        except OSError:  # pragma: no cover - platforms without directory fds
            return
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _load(self, path: Path) -> None:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict) or payload.get("formatVersion") != _FORMAT_VERSION:
            raise ValueError(f"{path}: not an emulator data file (formatVersion {_FORMAT_VERSION} expected)")
        accounts = payload.get("accounts") or {}
        self.accounts = {
            str(acc): {str(cid): dict(doc) for cid, doc in docs.items()} for acc, docs in accounts.items()
        }
        self.registries = Registries.from_json(payload.get("registries") or {})
        created = [
            parse_iso_ms(str(doc.get("createdAt")))
            for docs in self.accounts.values()
            for doc in docs.values()
        ]
        self._last_created = max((c for c in created if c is not None), default=None)
        self.changed()
        log.info("loaded %d campaign(s) from %s", sum(len(d) for d in self.accounts.values()), path)

"""Reading live campaigns cheaply: one list call per 100 campaigns per type, a GET only where needed.

A managed campaign whose list ``updatedAt`` equals the document cached in state is not read
again; ``full`` reads every managed campaign. Candidates for adoption by name are read too.

A campaign the state manages but the list does not show is read by its id before anything is
concluded from its absence: a 404 means it was deleted outside campaign-sync (the plan creates
it again, saying so); a campaign that is there means the list was wrong, which is a
``ProtocolError``, never a create that would duplicate it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.compare import LiveCampaign
from campaign_sync.errors import ApiError, NotFoundError, ProtocolError
from campaign_sync.heap import long_lived
from campaign_sync.manifests.loader import DesiredState

if TYPE_CHECKING:
    from campaign_sync.kore import KoreClient
    from campaign_sync.state import State

Progress = Callable[[str], None]
GET_BATCH = 50


def campaign_id(item: Mapping[str, Any]) -> str | None:
    value = item.get("_id") or item.get("id")
    return str(value) if value else None


def read_documents(
    client: KoreClient, ids: Sequence[str], progress: Progress | None = None
) -> dict[str, Mapping[str, Any]]:
    """Full documents for ``ids``, read in parallel batches; campaigns deleted meanwhile are left out.

    Any other API error is raised. With ``progress``, long reads report how far they got.
    """
    docs: dict[str, Mapping[str, Any]] = {}
    try:
        for start in range(0, len(ids), GET_BATCH):
            client.notices.status = f"{start} of {len(ids)} campaigns read"
            for cid, result in client.get_campaigns(ids[start : start + GET_BATCH]).items():
                if isinstance(result, NotFoundError):
                    continue
                if isinstance(result, ApiError):
                    raise result
                docs[cid] = result
            if progress is not None and len(ids) > GET_BATCH:
                progress(f"  read {min(start + GET_BATCH, len(ids))}/{len(ids)}")
    finally:
        client.notices.status = ""
    return docs


def refresh(
    client: KoreClient,
    desired: DesiredState,
    state: State,
    *,
    targets: Iterable[str] = (),
    full: bool = False,
    progress: Progress = lambda _text: None,
) -> list[LiveCampaign]:
    """Read live campaigns: one list call per 100 per type, a GET only where the cache is stale.

    A managed campaign whose list ``updatedAt`` equals the copy cached in state is not read
    again; ``full`` reads every managed campaign. Candidates for adoption by name are read too.
    """
    wanted = set(targets)
    keys = [k for k in {*desired.campaigns, *state.campaigns} if not wanted or k in wanted]
    types = {
        desired.campaigns[k].campaign.campaignType
        if k in desired.campaigns
        else state.campaigns[k].campaignType
        for k in keys
    }
    if not wanted:
        types = set(REGISTRY.names())
    by_state_id = {state.campaigns[k].id: k for k in keys if k in state.campaigns}
    in_scope = set(keys)
    adopt_names = {
        (item.campaign.campaignType, item.campaign.name.lower())
        for key, item in desired.campaigns.items()
        if key in in_scope and key not in state.campaigns
    }
    items: list[tuple[str, Mapping[str, Any]]] = []
    with long_lived():  # the items live to the run's end (``heap``)
        for ctype in sorted(types):
            items.extend((ctype, item) for item in client.list_campaigns(REGISTRY.get(ctype).list_type))
    check_unlisted(client, items, state, keys, types)
    live: dict[str, LiveCampaign] = {}
    to_read: list[str] = []
    cached = 0
    for ctype, item in items:
        cid = campaign_id(item)
        if cid is None:
            continue
        name = str(item.get("name", ""))
        doc: Mapping[str, Any] | None = None
        key = by_state_id.get(cid)
        needs_doc = (key is not None and key in desired.campaigns) or (ctype, name.lower()) in adopt_names
        if key is not None and needs_doc:
            record = state.campaigns[key]
            if not full and record.cached is not None and record.updatedAt == item.get("updatedAt"):
                doc = record.cached
                cached += 1
        if needs_doc and doc is None:
            to_read.append(cid)
        live[cid] = live_from_item(ctype, cid, item, doc)
    if to_read:
        progress(
            f"Reading {len(to_read)} campaign{'s' if len(to_read) != 1 else ''} "
            "not cached in the state or changed live since the last apply..."
        )
    docs = read_documents(client, to_read, progress)
    for cid in to_read:
        if cid in docs:
            live[cid] = dataclasses.replace(live[cid], doc=docs[cid])
        else:
            live.pop(cid, None)  # deleted between the list and the read
    progress(
        f"Refreshed {len(live)} live campaign{'s' if len(live) != 1 else ''} "
        f"({', '.join(sorted(types))}): {len(to_read)} read, {cached} from the state's cache"
    )
    return sorted(live.values(), key=lambda c: c.id)


def check_unlisted(
    client: KoreClient,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    state: State,
    keys: Iterable[str],
    types: Iterable[str],
) -> None:
    """GET every campaign the state manages (of a listed type) that the list did not show.

    A 404 confirms it was deleted outside campaign-sync; finding it means the list is incomplete,
    and planning from it would create a duplicate: a ``ProtocolError`` naming the campaigns.
    """
    listed = {cid for _ctype, item in items if (cid := campaign_id(item)) is not None}
    listed_types = set(types)
    unlisted = {
        state.campaigns[k].id: k
        for k in sorted(keys)
        if k in state.campaigns
        and state.campaigns[k].id not in listed
        and state.campaigns[k].campaignType in listed_types
    }
    if not unlisted:
        return
    found = client.get_campaigns(list(unlisted))
    present: list[str] = []
    for cid, key in unlisted.items():
        result = found.get(cid)
        if isinstance(result, NotFoundError):
            continue
        if isinstance(result, ApiError):
            raise result
        present.append(f"{key} ({cid})")
    if present:
        raise ProtocolError(
            f"the campaign list did not include {', '.join(present)}, yet reading "
            f"{'it' if len(present) == 1 else 'them'} by id succeeds: the list endpoint returned an "
            "incomplete answer. Nothing was planned from it (a create would duplicate the campaign); "
            "run the command again"
        )


def live_from_item(
    ctype: str, cid: str, item: Mapping[str, Any], doc: Mapping[str, Any] | None = None
) -> LiveCampaign:
    """A live campaign as its list item shows it (and its full document when one is known)."""
    return LiveCampaign(
        id=cid,
        campaign_type=ctype,
        name=str(item.get("name", "")),
        status=item.get("status"),
        updated_at=item.get("updatedAt"),
        item=item,
        doc=doc,
    )


def read_left_manifests(
    client: KoreClient,
    live: list[LiveCampaign],
    desired: DesiredState,
    state: State,
    *,
    targets: Sequence[str],
    full: bool,
) -> list[LiveCampaign]:
    """Documents for state campaigns no manifest declares (``refresh`` reads manifest ones only)."""
    wanted = set(targets)
    records = {
        rec.id: rec
        for key, rec in state.campaigns.items()
        if key not in desired.campaigns and (not wanted or key in wanted)
    }
    out: dict[str, LiveCampaign] = {c.id: c for c in live}
    to_read: list[str] = []
    for cid, current in out.items():
        record = records.get(cid)
        if record is None or current.doc is not None:
            continue
        if not full and record.cached is not None and record.updatedAt == current.updated_at:
            out[cid] = dataclasses.replace(current, doc=record.cached)
        else:
            to_read.append(cid)
    docs = read_documents(client, to_read)
    for cid in to_read:
        if cid in docs:
            out[cid] = dataclasses.replace(out[cid], doc=docs[cid])
        else:
            out.pop(cid, None)
    return sorted(out.values(), key=lambda c: c.id)

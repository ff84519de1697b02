"""Paging ends: a server that repeats pages or lists more than it says exist cannot keep the client paging."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from kore_support import Emulator, mock_transport, sms_body

from campaign_sync.errors import ProtocolError
from campaign_sync.kore import KoreClient


def _page(ids: list[str], *, more: bool, total: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"results": [{"_id": i, "name": i} for i in ids], "hasMore": more}
    if total is not None:
        data["totalResults"] = total
    return {"status": "success", "data": data}


def test_a_list_that_repeats_the_same_page_forever_stops_on_the_second_page(
    client: KoreClient, emu: Emulator
) -> None:
    """Issue 10: a list always saying ``hasMore: true`` with the same items drew 5,011 requests in 240 s."""
    endless = json.dumps(_page(["cd-1", "cd-2"], more=True, total=1000))
    emu.fault(method="POST", path="getAllCampaignDetails", rawBody=endless, times=-1)

    with pytest.raises(ProtocolError) as caught:
        client.list_campaigns("sms")

    assert "lists no campaign the earlier pages did not, yet hasMore is true" in str(caught.value)
    assert "page 2" in str(caught.value)
    assert len(emu.journal()) == 2


def test_a_list_that_lists_more_campaigns_than_its_total_stops(
    make_client: Callable[..., KoreClient],
) -> None:
    counter = iter(range(1_000_000))

    def fresh_page(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=_page([f"cd-{next(counter)}" for _ in range(100)], more=True, total=150)
        )

    transport, seen = mock_transport(fresh_page)
    client = make_client(transport=transport)

    with pytest.raises(ProtocolError) as caught:
        client.list_campaigns("voice")

    assert "200 different voice campaigns listed in 2 pages, more than the list's totalResults (150)" in str(
        caught.value
    )
    assert len(seen) == 2


def test_a_campaign_listed_on_two_pages_is_kept_once(make_client: Callable[..., KoreClient]) -> None:
    pages = iter([_page(["cd-a", "cd-b"], more=True), _page(["cd-b", "cd-c"], more=False)])
    transport, seen = mock_transport(lambda _request: httpx.Response(200, json=next(pages)))
    client = make_client(transport=transport)

    items = client.list_campaigns("sms")

    assert [i["_id"] for i in items] == ["cd-a", "cd-b", "cd-c"]
    assert len(seen) == 2


def test_honest_paging_is_unchanged(client: KoreClient, emu: Emulator) -> None:
    emu.seed([sms_body(f"Paged {i:03d}") for i in range(205)])

    items = client.list_campaigns("sms")

    assert len({i["id"] for i in items}) == 205
    assert [e["body"]["skip"] for e in emu.journal()] == [0, 100, 200]

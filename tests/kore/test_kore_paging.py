"""Paging ends: a server that repeats pages or lists more than it says exist cannot keep the client paging."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from kore_support import Emulator, ProbeTransport, mock_transport, sms_body

from campaign_sync.errors import ApiError, ProtocolError
from campaign_sync.kore import KoreClient
from campaign_sync.kore.client import LIST_AHEAD


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
    assert sorted(e["body"]["skip"] for e in emu.journal()) == [0, 100, 200]


# -- pages requested ahead ---------------------------------------------------------------------------


def _served(
    ids: list[str],
    *,
    cap: int = 100,
    total: Callable[[int], int] | None = None,
    hold: Callable[[int], None] = lambda _skip: None,
) -> Callable[[httpx.Request], httpx.Response]:
    """A list endpoint over ``ids``: pages of at most ``cap``; ``total(skip)`` overrides totalResults."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        skip, limit = body["skip"], min(body["limit"], cap)
        hold(skip)
        window = ids[skip : skip + limit]
        count = total(skip) if total is not None else len(ids)
        page = _page(window, more=skip + len(window) < count, total=count)
        return httpx.Response(200, json=page)

    return answer


def _skips(seen: list[httpx.Request]) -> list[int]:
    return [json.loads(r.content)["skip"] for r in seen]


def test_pages_requested_ahead_are_the_pages_the_loop_reads_in_its_order(
    client: KoreClient, emu: Emulator, make_client: Callable[..., KoreClient]
) -> None:
    emu.seed([sms_body(f"Ahead {i:04d}") for i in range(1_005)])
    one_by_one = make_client(parallelism=1).list_campaigns("sms")
    emu.clear_journal()

    items = client.list_campaigns("sms")

    assert [i["id"] for i in items] == [i["id"] for i in one_by_one], "the same items, in page order"
    assert len(items) == 1_005
    assert sorted(e["body"]["skip"] for e in emu.journal()) == list(range(0, 1_001, 100)), "no extra page"


@pytest.mark.parametrize(("parallelism", "in_flight"), [(3, 3), (8, LIST_AHEAD)])
def test_pages_are_requested_ahead_in_parallel_but_never_more_than_the_setting(
    make_client: Callable[..., KoreClient], parallelism: int, in_flight: int
) -> None:
    """The first pages after the first wait (up to 5 s) until ``in_flight`` of them have arrived:
    read one by one they never would, and ``max_in_flight`` would stay 1."""
    together = threading.Barrier(in_flight, timeout=5)
    waiting = iter(range(in_flight))

    def hold(skip: int) -> None:
        if skip and next(waiting, None) is not None:
            with contextlib.suppress(threading.BrokenBarrierError):  # not in parallel: asserted below
                together.wait()

    probe = ProbeTransport(mock_transport(_served([f"cd-{i}" for i in range(1_000)], hold=hold))[0])
    client = make_client(transport=probe, parallelism=parallelism)

    items = client.list_campaigns("sms")

    assert len(items) == 1_000
    assert sorted(_skips(probe.requests)) == list(range(0, 1_000, 100))
    assert probe.max_in_flight == in_flight


def test_with_parallelism_1_pages_are_read_one_after_another(make_client: Callable[..., KoreClient]) -> None:
    probe = ProbeTransport(mock_transport(_served([f"cd-{i}" for i in range(450)]))[0])
    client = make_client(transport=probe, parallelism=1)

    assert len(client.list_campaigns("sms")) == 450
    assert _skips(probe.requests) == [0, 100, 200, 300, 400]
    assert probe.max_in_flight == 1


def test_a_server_that_caps_the_page_size_is_read_page_by_page(
    make_client: Callable[..., KoreClient],
) -> None:
    """Pages shorter than asked for: nothing is requested ahead at offsets the server would not use."""
    transport, seen = mock_transport(_served([f"cd-{i}" for i in range(230)], cap=50))
    client = make_client(transport=transport, parallelism=4)

    items = client.list_campaigns("sms")

    assert [i["_id"] for i in items] == [f"cd-{i}" for i in range(230)]
    assert _skips(seen) == [0, 50, 100, 150, 200]


def test_a_list_that_shrinks_while_it_is_read_ends_where_the_page_loop_would(
    make_client: Callable[..., KoreClient],
) -> None:
    """The third page is short and says it is the last: pages requested beyond it are not used."""
    ids = [f"cd-{i}" for i in range(1_000)]
    transport, seen = mock_transport(_served(ids[:250], total=lambda skip: 1_000 if skip < 200 else 250))
    client = make_client(transport=transport, parallelism=4)

    items = client.list_campaigns("sms")

    assert [i["_id"] for i in items] == ids[:250]
    assert sorted(_skips(seen))[:3] == [0, 100, 200]
    assert len(seen) <= 1 + 4, "at most the pages in flight beyond the first"


@pytest.mark.parametrize("promised", [1_000_000, 10**18], ids=["a million", "10**18"])
def test_a_total_that_lies_costs_at_most_the_pages_in_flight(
    make_client: Callable[..., KoreClient], promised: int
) -> None:
    """Full pages that repeat while totalResults promises far more: the loop stops at page 2, and
    the pages requested ahead are all that is spent beyond it (planning them costs no more for a
    larger promise)."""
    same = [f"cd-{i}" for i in range(100)]
    transport, seen = mock_transport(
        lambda _request: httpx.Response(200, json=_page(same, more=True, total=promised))
    )
    client = make_client(transport=transport, parallelism=4)

    with pytest.raises(ProtocolError) as caught:
        client.list_campaigns("sms")

    assert "page 2 of the sms campaigns (skip 100) lists no campaign" in str(caught.value)
    assert 2 <= len(seen) <= 1 + 4


def test_a_page_that_fails_fails_the_list_with_its_own_error(make_client: Callable[..., KoreClient]) -> None:
    pages = _served([f"cd-{i}" for i in range(500)])

    def answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["skip"] == 300:
            return httpx.Response(400, json={"errors": [{"msg": "skip 300 is refused"}]})
        return pages(request)

    transport, seen = mock_transport(answer)
    client = make_client(transport=transport, parallelism=4)

    with pytest.raises(ApiError) as caught:
        client.list_campaigns("sms")

    assert caught.value.status == 400
    assert "skip 300 is refused" in str(caught.value)
    skips = _skips(seen)
    assert sorted(skips)[:4] == [0, 100, 200, 300]
    assert set(skips) <= {0, 100, 200, 300, 400}
    assert len(skips) == len(set(skips)), "each page once: a 400 is not retried"

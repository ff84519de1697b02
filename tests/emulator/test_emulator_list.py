"""``getAllCampaignDetails``: item shapes per type, paging, filters and sorting (reference §3.2, §5.4)."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_support import (
    ACCOUNT,
    Kore,
    errors,
    sms_advanced,
    sms_simple,
    voice_agentless,
    voice_preview,
    voice_progressive,
)

from campaign_sync.emulator import EmulatorApp


def _seed(kore: Kore, *bodies: dict[str, Any]) -> dict[str, str]:
    ids: dict[str, str] = kore.control(
        "POST", "seed", params={"accountId": ACCOUNT}, json={"campaigns": list(bodies)}
    )["ids"]
    return ids


def test_sms_items_use_id_and_carry_no_dialing_strategy(kore: Kore) -> None:
    cid = kore.create_ok(sms_simple())["_id"]
    payload = kore.list(type="sms").json()
    assert payload["message"] == "Campaign  retrieved successfully"
    item = payload["data"]["results"][0]
    assert item["id"] == cid
    assert "_id" not in item
    assert "dialingStrategy" not in item
    assert "lname" not in item
    assert item["totalMessagesSent"] == 0
    assert item["campaignExecutionType"] == "NORMAL"
    assert "campaignInstanceId" not in item
    assert "campaignInstanceUpdatedAt" not in item
    assert item["message"] == {"message": "WW91ciBiaWxsIGlzIGR1ZQ%3D%3D"}
    assert item["schedule"] == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}


def test_sms_items_carry_the_instance_after_a_run(kore: Kore) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    kore.start_sms(cid)
    item = kore.list_data(type="sms")["results"][0]
    assert item["campaignInstanceId"].startswith("cid-")
    assert item["campaignInstanceUpdatedAt"]
    assert item["experienceFlow"].startswith("cf-")
    assert "message" not in item


def test_voice_items_use_underscore_id_and_show_the_connection(kore: Kore) -> None:
    agentless = kore.create_ok(voice_agentless())["id"]
    progressive = kore.create_ok(voice_progressive())["id"]
    preview = kore.create_ok(voice_preview())["id"]
    items = {item["_id"]: item for item in kore.list_data(type="voice", limit=50)["results"]}
    assert set(items) == {agentless, progressive, preview}
    assert items[agentless]["connection"] == "Voice Flow 2", "Agentless: the flow's name"
    assert items[agentless]["experienceFlow"].startswith("cf-")
    assert items[progressive]["connection"] == "Default Queue"
    assert items[preview]["connection"] == "Support Queue"
    assert "experienceFlow" not in items[progressive]
    for item in items.values():
        assert "id" not in item
        assert "queue_name" not in item
        assert item["schedule"] == {"isSchedulingEnabled": False}
        assert item["isFiltersEnabled"] is False


def test_list_only_returns_the_requested_type(kore: Kore) -> None:
    kore.create_ok(sms_advanced())
    kore.create_ok(voice_agentless())
    assert kore.list_data(type="sms")["totalResults"] == 1
    assert kore.list_data(type="voice")["totalResults"] == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [({}, "type is required"), ({"type": "email"}, "type must be one of sms, voice")],
)
def test_type_is_required(kore: Kore, body: dict[str, Any], message: str) -> None:
    response = kore.list(**body)
    assert response.status_code == 400
    assert errors(response) == [message]


def test_default_limit_is_10_with_paging_fields(kore: Kore) -> None:
    _seed(kore, *(sms_advanced(f"Campaign {i:02d}") for i in range(12)))
    data = kore.list_data(type="sms")
    assert [len(data["results"]), data["skip"], data["limit"]] == [10, 0, 10]
    assert data["hasMore"] is True
    assert data["totalPages"] == 2
    assert data["totalResults"] == 12
    last = kore.list_data(type="sms", skip=10)
    assert len(last["results"]) == 2
    assert last["hasMore"] is False


def test_skip_wins_over_page_and_page_alone_works(kore: Kore) -> None:
    _seed(kore, *(sms_advanced(f"Campaign {i:02d}") for i in range(5)))

    def names(data: dict[str, Any]) -> list[str]:
        return [r["name"] for r in data["results"]]

    assert names(kore.list_data(type="sms", skip=1, page=3, limit=2)) == ["Campaign 01", "Campaign 02"]
    assert names(kore.list_data(type="sms", page=3, limit=2)) == ["Campaign 04"]
    assert names(kore.list_data(type="sms", skip="", page="", limit=2)) == ["Campaign 00", "Campaign 01"]


def test_limit_is_capped_at_100(kore: Kore) -> None:
    assert kore.list_data(type="sms", limit=500)["limit"] == 100


def test_documented_sample_limits_of_two(kore: Kore) -> None:
    _seed(kore, *(sms_advanced(f"Campaign {i}") for i in range(8)))
    data = kore.list_data(type="sms", skip=0, page=1, limit=2)
    assert data["totalPages"] == 4
    assert data["hasMore"] is True


def test_default_order_is_creation_order_and_sort_by_applies(kore: Kore) -> None:
    for name in ("bravo", "Alpha", "charlie"):
        kore.create_ok(sms_advanced(name))

    def names(**body: Any) -> list[str]:
        return [r["name"] for r in kore.list_data(type="sms", **body)["results"]]

    assert names() == ["bravo", "Alpha", "charlie"]
    assert names(sortBy={"createdAt": "desc"}) == ["charlie", "Alpha", "bravo"]
    assert names(sortBy={"name": "asc"}) == ["Alpha", "bravo", "charlie"]
    assert names(sortBy={"name": "desc"}) == ["charlie", "bravo", "Alpha"]
    response = kore.list(type="sms", sortBy={"name": "up"})
    assert response.status_code == 400
    assert errors(response) == ["sortBy.name must be asc or desc"]


def test_updated_at_sort_follows_the_last_write(kore: Kore) -> None:
    first = sms_advanced("first")
    cid = kore.create_ok(first)["_id"]
    kore.create_ok(sms_advanced("second"))
    kore.put(cid, dict(first, description="touched"))
    results = kore.list_data(type="sms", sortBy={"updatedAt": "desc"})["results"]
    assert [r["name"] for r in results] == ["first", "second"]


def test_status_and_priority_filters(kore: Kore) -> None:
    ids = _seed(
        kore,
        dict(sms_advanced("ready five")),
        dict(sms_advanced("stopped three", priority="3"), status="Stopped"),
        dict(sms_advanced("active three", priority=3), status="Active"),
    )

    def names(**filters: Any) -> list[str]:
        return sorted(r["name"] for r in kore.list_data(type="sms", filters=filters)["results"])

    assert names(status=["Stopped", "Active"]) == ["active three", "stopped three"]
    assert names(priority=[3]) == ["active three", "stopped three"]
    assert names(priority=[5], status=["Ready"]) == ["ready five"]
    assert names(status=[]) == sorted(ids)


def test_dialing_mode_filter_applies_to_voice_and_is_ignored_for_sms(kore: Kore) -> None:
    _seed(kore, voice_agentless(), voice_progressive(), voice_preview(), sms_advanced())
    voice = kore.list_data(type="voice", filters={"dialingMode": ["Progressive", "Preview"]})
    assert sorted(r["dialingMode"] for r in voice["results"]) == ["Preview", "Progressive"]
    sms = kore.list_data(type="sms", filters={"dialingMode": ["Progressive"]})
    assert sms["totalResults"] == 1, (
        "the documented SMS sample sends dialingMode; it must not hide everything"
    )


def test_start_and_end_dates_bound_created_at(kore: Kore) -> None:
    old = kore.create_ok(sms_advanced("old"))
    kore.advance(3600)
    new = kore.create_ok(sms_advanced("new"))

    def names(**body: Any) -> list[str]:
        return [r["name"] for r in kore.list_data(type="sms", **body)["results"]]

    assert names(startDate=new["createdAt"]) == ["new"]
    assert names(endDate=old["createdAt"]) == ["old"]
    response = kore.list(type="sms", startDate="yesterday")
    assert response.status_code == 400


@pytest.mark.parametrize("body", [{"skip": -1}, {"limit": "ten"}, {"page": 0}, {"limit": 0}])
def test_bad_paging_values_are_rejected(kore: Kore, body: dict[str, Any]) -> None:
    assert kore.list(type="sms", **body).status_code == 400


def test_the_kept_order_follows_creates_deletes_and_patched_creation_times(kore: Kore) -> None:
    """Each list call reads the account's current campaigns, though the sorted order is kept between
    calls: a create, a delete and a control PATCH of ``createdAt`` between two pages all show."""
    ids = {name: kore.create_ok(sms_advanced(name))["_id"] for name in ("one", "two", "three")}

    def names() -> list[str]:
        return [r["name"] for r in kore.list_data(type="sms", limit=100)["results"]]

    assert names() == ["one", "two", "three"]
    kore.create_ok(sms_advanced("four"))
    assert names() == ["one", "two", "three", "four"]
    assert kore.delete(ids["two"]).status_code == 200
    assert names() == ["one", "three", "four"]
    kore.control("PATCH", f"campaigns/{ids['one']}", json={"createdAt": "2999-01-01T00:00:00.000Z"})
    assert names() == ["three", "four", "one"]
    first = kore.list_data(type="sms", limit=2)
    assert [r["name"] for r in first["results"]] == ["three", "four"]
    kore.create_ok(sms_advanced("five"))
    second = kore.list_data(type="sms", skip=2, limit=2)
    assert [r["name"] for r in second["results"]] == ["five", "one"]
    assert second["totalResults"] == 4


def test_a_listed_page_shows_voice_campaigns_that_became_ready_and_filters_see_them(kore: Kore) -> None:
    cid = kore.create_ok(voice_agentless())["id"]
    [item] = kore.list_data(type="voice")["results"]
    assert item["status"] == "Preparing"
    kore.advance(6)  # preparing_seconds is 5 in the fixture
    [item] = kore.list_data(type="voice")["results"]
    assert (item["_id"], item["status"]) == (cid, "Ready")
    kore.create_ok(voice_agentless("Second Voice"))
    ready = kore.list_data(type="voice", filters={"status": ["Ready"]})["results"]
    assert [r["_id"] for r in ready] == [cid]


def test_a_long_listing_sorts_the_account_once_not_once_per_page(app: EmulatorApp, inproc: Kore) -> None:
    _seed(inproc, *(sms_advanced(f"campaign {i:03d}") for i in range(250)))
    kept = app.store.ordered(ACCOUNT, "sms")
    pages = [inproc.list_data(type="sms", skip=skip, limit=100) for skip in (0, 100, 200)]
    assert [len(p["results"]) for p in pages] == [100, 100, 50]
    assert app.store.ordered(ACCOUNT, "sms") is kept, "the pages re-sorted the account"
    inproc.create_ok(sms_advanced("one more"))
    assert app.store.ordered(ACCOUNT, "sms") is not kept
    assert len(app.store.ordered(ACCOUNT, "sms")) == 251


def _containers(node: Any) -> list[Any]:
    """Every dict and list inside ``node``, itself included."""
    found: list[Any] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            found.append(current)
            stack.extend(current.values())
        elif isinstance(current, list):
            found.append(current)
            stack.extend(current)
    return found


@pytest.mark.parametrize("view", ["get", "create", "list"])
@pytest.mark.parametrize("version", [1, 2])
def test_rendered_documents_share_no_dict_or_list_with_the_store(
    app: EmulatorApp, inproc: Kore, view: str, version: int
) -> None:
    import copy

    from campaign_sync.emulator import render

    for body in (sms_simple(), sms_advanced(), voice_agentless(), voice_progressive(), voice_preview()):
        inproc.create_ok(body)
    stored = list(app.store.accounts[ACCOUNT].values())
    assert len(stored) == 5
    for doc in stored:
        before = copy.deepcopy(doc)
        shown = render.campaign(doc, view=view, version=version)
        assert shown == render.campaign(before, view=view, version=version)
        inside = {id(c) for c in _containers(doc)}
        assert not [c for c in _containers(shown) if id(c) in inside]
        for container in _containers(shown):  # what a caller does to a response leaves the store alone
            container.clear()
        assert doc == before

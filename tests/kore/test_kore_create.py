"""POST create is never retried blindly: exactly one campaign exists afterwards, whatever was lost."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from kore_support import STREAM, Emulator, Sleeps, sms_body, voice_body

from campaign_sync.errors import ConflictError, ServerError, TransportError
from campaign_sync.kore import KoreClient, campaign_id_of

V2 = f"/campaign/api/v2/public/{STREAM}/campaign"
CREATE = ("POST", V2)
LIST = ("POST", f"{V2}/getAllCampaignDetails")


def _calls(emu: Emulator) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in emu.journal()]


@pytest.mark.parametrize(
    ("ctype", "body"), [("sms", sms_body("Lost Reply")), ("voice", voice_body("Lost Reply"))]
)
def test_a_lost_create_response_is_found_by_name_not_created_again(
    client: KoreClient,
    emu: Emulator,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
    ctype: str,
    body: dict[str, object],
) -> None:
    emu.fault(method="POST", path=r"/campaign$", dropAfterApply=True)
    caplog.set_level(logging.INFO, logger="campaign_sync.kore")

    doc = client.create_campaign(ctype, body)

    (stored,) = emu.campaigns()
    assert stored["name"] == "Lost Reply"
    assert campaign_id_of(doc) == stored["_id"]
    assert doc["name"] == "Lost Reply"
    calls = _calls(emu)
    assert calls.count(CREATE) == 1, "one POST create, never a second"
    assert calls == [CREATE, LIST, ("GET", f"{V2}/{stored['_id']}")]
    assert client.counter.writes == 1
    assert client.counter.by_method() == {"GET": 1, "POST": 2}
    assert any("had in fact succeeded" in r.getMessage() for r in caplog.records)


def test_the_name_match_ignores_case(client: KoreClient, emu: Emulator) -> None:
    emu.fault(method="POST", path=r"/campaign$", dropAfterApply=True)

    client.create_campaign("sms", sms_body("MiXeD Case Name"))

    assert len(emu.campaigns()) == 1
    assert _calls(emu).count(CREATE) == 1


def test_a_create_rejected_with_5xx_is_retried_only_after_the_lookup_proves_absence(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    emu.fault(method="POST", path=r"/campaign$", statuses=[503, 502])

    doc = client.create_campaign("sms", sms_body("Second Time Lucky"))

    assert [c["name"] for c in emu.campaigns()] == ["Second Time Lucky"]
    assert doc["name"] == "Second Time Lucky"
    assert _calls(emu) == [CREATE, LIST, CREATE, LIST, CREATE]
    assert [e["status"] for e in emu.journal() if (e["method"], e["path"]) == CREATE] == [503, 502, 200]
    assert len(sleeps.calls) == 2


def test_a_rate_limited_create_is_retried_without_a_lookup(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    emu.fault(method="POST", path=r"/campaign$", statuses=[429], retryAfter="2")

    client.create_campaign("sms", sms_body("Throttled"))

    assert _calls(emu) == [CREATE, CREATE], "a 429 applied nothing: no lookup needed"
    assert sleeps.calls == [2.0]
    assert len(emu.campaigns()) == 1


def test_a_campaign_created_by_someone_else_in_between_is_still_one_campaign(
    client: KoreClient, emu: Emulator
) -> None:
    """After an uncertain attempt, a 409 'already exists' means that attempt (or a twin) made it."""
    emu.fault(method="POST", path=r"/campaign$", statuses=[500])
    # The lookup finds nothing; then the campaign appears before the retried POST, which gets 409.
    original_list = client.list_campaigns

    def list_then_create(ctype: str) -> list[dict[str, object]]:
        items = original_list(ctype)
        if not emu.campaigns():
            emu.seed([sms_body("Raced")])
        return items

    client.list_campaigns = list_then_create  # type: ignore[method-assign]

    doc = client.create_campaign("sms", sms_body("Raced"))

    assert doc["name"] == "Raced"
    assert len(emu.campaigns()) == 1
    statuses = [e["status"] for e in emu.journal() if (e["method"], e["path"]) == CREATE]
    assert statuses == [500, 409]


def test_a_409_on_the_first_attempt_is_a_conflict(client: KoreClient, emu: Emulator) -> None:
    emu.seed([sms_body("Taken")])

    with pytest.raises(ConflictError, match="already exists"):
        client.create_campaign("sms", sms_body("taken"))

    assert _calls(emu) == [CREATE]


def test_persistent_5xx_on_create_gives_up_with_one_lookup_before_each_retry(
    make_client: Callable[..., KoreClient], emu: Emulator
) -> None:
    client = make_client(max_attempts=3)
    emu.fault(method="POST", path=r"/campaign$", statuses=[500], times=-1)

    with pytest.raises(ServerError, match="gave up after 3 attempts"):
        client.create_campaign("sms", sms_body("Never"))

    assert _calls(emu) == [CREATE, LIST, CREATE, LIST, CREATE]
    assert emu.campaigns() == []


def test_a_create_without_a_name_is_not_retried_after_an_uncertain_failure(
    client: KoreClient, emu: Emulator
) -> None:
    emu.fault(method="POST", path=r"/campaign$", dropBefore=True)
    body = sms_body()
    del body["name"]

    with pytest.raises(TransportError, match="may have been created"):
        client.create_campaign("sms", body)

    assert _calls(emu) == [CREATE]


def test_a_failing_lookup_says_the_outcome_is_unknown(
    make_client: Callable[..., KoreClient], emu: Emulator
) -> None:
    client = make_client(max_attempts=2)
    emu.fault(method="POST", path=r"/campaign$", dropAfterApply=True)
    emu.fault(method="POST", path=r"/getAllCampaignDetails$", statuses=[503], times=-1)

    with pytest.raises(ServerError, match="could not check whether an earlier attempt created 'Unknown'"):
        client.create_campaign("sms", sms_body("Unknown"))

    assert _calls(emu).count(CREATE) == 1
    assert len(emu.campaigns()) == 1

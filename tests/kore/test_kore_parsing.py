"""Every way a response body can fail to parse is a ProtocolError with the status and a scrubbed hint.

Issue 10: a deeply nested JSON response ended in "unexpected RecursionError".
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from kore_support import CANARY_SECRET, Emulator, mock_transport

from campaign_sync.errors import ProtocolError, ServerError
from campaign_sync.kore import KoreClient
from campaign_sync.kore.responses import MAX_DEPTH, depth

NESTED = "[" * 100_000 + "]" * 100_000
DEEP_BUT_PARSEABLE = '{"data": ' + '{"a": ' * 60 + "1" + "}" * 60 + "}"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (NESTED, "JSON nested too deeply to parse"),
        (DEEP_BUT_PARSEABLE, f"JSON nested deeper than {MAX_DEPTH} levels"),
        ('{"data": {"n": ' + "9" * 5000 + "}}", "application/json"),
        ("{'data': 1}", "application/json"),
    ],
    ids=["recursion", "too-deep", "huge-integer", "not-json"],
)
def test_a_bad_success_body_is_a_protocol_error_with_status_and_hint(
    client: KoreClient, emu: Emulator, body: str, problem: str
) -> None:
    emu.fault(method="GET", rawBody=body)

    with pytest.raises(ProtocolError) as caught:
        client.get_campaign("cd-1")

    error = caught.value
    assert problem in str(error)
    assert error.status == 200
    assert error.method == "GET"
    assert len(str(error)) < 800, "a hint, not the body"
    assert len(emu.journal()) == 1, "not retried"


def test_a_deeply_nested_list_page_is_a_protocol_error(client: KoreClient, emu: Emulator) -> None:
    emu.fault(method="POST", path="getAllCampaignDetails", rawBody=NESTED)
    with pytest.raises(ProtocolError, match="nested too deeply"):
        client.list_campaigns("sms")


def test_a_deeply_nested_error_body_keeps_the_status(
    make_client: Callable[..., KoreClient], emu: Emulator
) -> None:
    client = make_client(max_attempts=1)
    emu.fault(method="GET", statuses=[500], rawBody=NESTED)
    with pytest.raises(ServerError) as caught:
        client.get_campaign("cd-1")
    assert caught.value.status == 500
    assert "[[[[" in str(caught.value)


def test_invalid_utf8_is_a_protocol_error(make_client: Callable[..., KoreClient]) -> None:
    transport, _ = mock_transport(
        lambda _r: httpx.Response(
            200, content=b'{"data": "\xff\xfe"}', headers={"Content-Type": "application/json"}
        )
    )
    client = make_client(transport=transport)
    with pytest.raises(ProtocolError, match="application/json"):
        client.get_campaign("cd-1")


def test_the_hint_is_scrubbed_of_secrets(make_client: Callable[..., KoreClient], emu: Emulator) -> None:
    client = make_client(
        environ={"KORE_CLIENT_ID": "campaign-sync-emulator", "KORE_CLIENT_SECRET": CANARY_SECRET}
    )
    emu.fault(method="POST", rawBody="[" * 5000 + f'"{CANARY_SECRET}"' + "]" * 5000)
    with pytest.raises(ProtocolError) as caught:
        client.list_campaigns("sms")
    assert CANARY_SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 0), ("x", 0), ([], 1), ({}, 1), ({"a": [1, {"b": 2}]}, 3), ([[[[]]]], 4)],
)
def test_depth_counts_levels(value: object, expected: int) -> None:
    assert depth(value) == expected


def test_depth_stops_past_the_limit() -> None:
    value: object = 1
    for _ in range(500):
        value = [value]
    assert depth(value, limit=10) == 11

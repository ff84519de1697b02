"""The client secret and every token stay out of errors, reprs and logs at DEBUG, whatever fails."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from kore_support import CANARY_SECRET, Emulator, RecordingRedactor, sms_body

from campaign_sync.emulator import DEFAULT_CLIENT_ID, EmulatorServer, create_app
from campaign_sync.errors import ApiError
from campaign_sync.kore import KoreClient
from campaign_sync.manifests.config import AuthSettings

CANARY_ENV = {"KORE_CLIENT_ID": DEFAULT_CLIENT_ID, "KORE_CLIENT_SECRET": CANARY_SECRET}


@pytest.fixture
def canary_server() -> Iterator[EmulatorServer]:
    app = create_app(client_secret=CANARY_SECRET, rate_limit=0, preparing_seconds=0.0)
    with EmulatorServer(app, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture
def canary_emu(canary_server: EmulatorServer) -> Iterator[Emulator]:
    control = Emulator(canary_server.url)
    yield control
    control.close()


def _texts(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error)), *map(str, error.args)]


def test_no_secret_or_token_in_any_error_repr_or_debug_log(
    canary_server: EmulatorServer,
    canary_emu: Emulator,
    make_client: Callable[..., KoreClient],
    redactor: RecordingRedactor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(base_url=canary_server.url, environ=CANARY_ENV, max_attempts=2, request_deadline=0.3)
    emu = canary_emu
    cid = client.create_campaign("sms", sms_body("Canary"))["_id"]
    errors: list[ApiError] = []

    def expect_failure(action: Callable[[], Any]) -> None:
        with pytest.raises(ApiError) as caught:
            action()
        errors.append(caught.value)

    scenarios: list[tuple[dict[str, Any], Callable[[], Any]]] = [
        ({"method": "GET", "statuses": [401], "times": -1}, lambda: client.get_campaign(cid)),
        ({"method": "GET", "statuses": [403]}, lambda: client.get_campaign(cid)),
        (
            {"method": "PUT", "statuses": [400]},
            lambda: client.update_campaign(cid, "sms", sms_body("Canary")),
        ),
        ({"method": "GET", "statuses": [500], "times": -1}, lambda: client.get_campaign(cid)),
        ({"method": "GET", "statuses": [429], "times": -1}, lambda: client.get_campaign(cid)),
        ({"method": "GET", "dropBefore": True, "times": -1}, lambda: client.get_campaign(cid)),
        ({"method": "GET", "malformed": True}, lambda: client.get_campaign(cid)),
        (
            {"method": "GET", "statuses": [307], "headers": {"Location": "http://127.0.0.2:9/"}},
            lambda: client.get_campaign(cid),
        ),
        (
            {"method": "GET", "drip": {"chunks": 3, "interval": 0.2}, "times": -1},
            lambda: client.get_campaign(cid),
        ),
        ({"method": "DELETE", "statuses": [409]}, lambda: client.delete_campaign(cid, "sms")),
    ]
    for fault, action in scenarios:
        emu.control("DELETE", "faults")
        emu.fault(**fault)
        expect_failure(action)
    emu.control("DELETE", "faults")

    tokens = set(redactor.tokens)
    assert tokens, "tokens were minted"
    assert len(errors) == len(scenarios)
    secrets = [CANARY_SECRET, *tokens]
    texts = [text for error in errors for text in _texts(error)]
    texts += [repr(client), repr(client.counter), repr(client.settings)]
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    assert any(r.name == "campaign_sync.kore" and r.levelno == logging.DEBUG for r in caplog.records)
    for text in texts:
        for secret in secrets:
            assert secret not in text
    for error in errors:
        assert error.__cause__ is None


def test_a_server_that_echoes_the_token_is_scrubbed(
    make_client: Callable[..., KoreClient], emu: Emulator, redactor: RecordingRedactor
) -> None:
    token = jwt.encode({"sub": "ci", "appId": DEFAULT_CLIENT_ID}, CANARY_SECRET, algorithm="HS256")
    client = make_client(auth=AuthSettings(tokenEnv="KORE_JWT"), environ={"KORE_JWT": token})
    emu.fault(statuses=[400], body={"errors": [{"msg": f"bad token {token} for app", "code": 400}]})

    with pytest.raises(ApiError) as caught:
        client.list_campaigns("sms")

    assert token not in str(caught.value)
    assert "bad token *** for app" in str(caught.value)
    assert caught.value.kore_message == "bad token *** for app"

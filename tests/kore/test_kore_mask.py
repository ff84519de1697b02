"""In GitHub Actions every token is announced with ``::add-mask::`` once, before its first use."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable

import httpx
import jwt
import pytest
from kore_support import Emulator, FakeClock, RecordingRedactor, fingerprint

from campaign_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from campaign_sync.kore import KoreClient
from campaign_sync.manifests.config import AuthSettings

ENVIRON = {"KORE_CLIENT_ID": DEFAULT_CLIENT_ID, "KORE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
IN_ACTIONS = {**ENVIRON, "GITHUB_ACTIONS": "true"}


class MaskCheckingTransport(httpx.HTTPTransport):
    """Records, for each request, whether its token had been announced to the runner already."""

    def __init__(self, stderr: io.StringIO) -> None:
        super().__init__()
        self.stderr = stderr
        self.announced_before_use: list[bool] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        token = request.headers["auth"]
        self.announced_before_use.append(f"::add-mask::{token}\n" in self.stderr.getvalue())
        return super().handle_request(request)


def mask_lines(text: str) -> list[str]:
    return [
        line.removeprefix("::add-mask::") for line in text.splitlines() if line.startswith("::add-mask::")
    ]


def test_each_minted_token_is_masked_once_before_it_is_sent(
    make_client: Callable[..., KoreClient], redactor: RecordingRedactor
) -> None:
    stderr = io.StringIO()
    transport = MaskCheckingTransport(stderr)
    client = make_client(environ=IN_ACTIONS, transport=transport)

    with contextlib.redirect_stderr(stderr):
        client.list_campaigns("sms")
        client.list_campaigns("voice")

    (token,) = set(redactor.tokens)
    assert mask_lines(stderr.getvalue()) == [token], "one token, announced exactly once, unscrubbed"
    assert transport.announced_before_use == [True, True]


def test_a_renewed_token_is_masked_too(
    make_client: Callable[..., KoreClient], redactor: RecordingRedactor, emu: Emulator
) -> None:
    clock = FakeClock(1000.0)
    wall = FakeClock(float(int(time.time())))
    stderr = io.StringIO()
    transport = MaskCheckingTransport(stderr)
    client = make_client(environ=IN_ACTIONS, transport=transport, clock=clock, wall_clock=wall)

    with contextlib.redirect_stderr(stderr):
        client.list_campaigns("sms")
        clock.advance(241)
        wall.advance(241)
        emu.settings(clockOffset=241)
        client.list_campaigns("sms")  # less than 60 s left: a new token

    first, second = redactor.tokens
    assert first != second
    assert mask_lines(stderr.getvalue()) == [first, second]
    assert transport.announced_before_use == [True, True]


@pytest.mark.parametrize("value", [None, "false", "1", "TRUE"])
def test_outside_github_actions_nothing_is_announced(
    make_client: Callable[..., KoreClient], redactor: RecordingRedactor, value: str | None
) -> None:
    environ = dict(ENVIRON) if value is None else {**ENVIRON, "GITHUB_ACTIONS": value}
    client = make_client(environ=environ)

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        client.list_campaigns("sms")

    assert redactor.tokens, "the token is still registered with the redactor"
    assert "::add-mask::" not in stderr.getvalue()


def test_a_ready_token_is_masked_once_in_github_actions(
    make_client: Callable[..., KoreClient], emu: Emulator
) -> None:
    token = jwt.encode({"sub": "ci", "appId": DEFAULT_CLIENT_ID}, DEFAULT_CLIENT_SECRET, algorithm="HS256")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        client = make_client(
            auth=AuthSettings(tokenEnv="KORE_JWT"), environ={"KORE_JWT": token, "GITHUB_ACTIONS": "true"}
        )
        client.list_campaigns("sms")
        client.list_campaigns("sms")

    assert mask_lines(stderr.getvalue()) == [token]
    assert [e["headers"]["auth"] for e in emu.journal()] == [fingerprint(token)] * 2

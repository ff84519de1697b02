"""Fixtures for the Kore client tests: a real emulator on 127.0.0.1, its control API, client factories.

Retry waits go through an injected ``sleep`` that records and returns at once; time for tokens
moves through injected clocks, and the emulator's through its ``clockOffset`` setting. Real time
is spent only where it is the point (the rate limiter, the deadline).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kore_support import ACCOUNT, STREAM, Emulator, RecordingRedactor, Sleeps

from campaign_sync.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorApp,
    EmulatorServer,
    create_app,
)
from campaign_sync.kore import ClientSettings, Credentials, KoreClient
from campaign_sync.manifests.config import AuthSettings

ENVIRON = {"KORE_CLIENT_ID": DEFAULT_CLIENT_ID, "KORE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}

#: Small but realistic timings: no test waits for a default 30 s timeout.
FAST: dict[str, Any] = {"connect_timeout": 2.0, "read_timeout": 5.0, "request_deadline": 10.0}


@pytest.fixture
def app() -> EmulatorApp:
    return create_app(rate_limit=0, preparing_seconds=0.0)


@pytest.fixture
def server(app: EmulatorApp) -> Iterator[EmulatorServer]:
    with EmulatorServer(app, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture
def emu(server: EmulatorServer) -> Iterator[Emulator]:
    control = Emulator(server.url)
    yield control
    control.close()


@pytest.fixture
def redactor() -> RecordingRedactor:
    return RecordingRedactor()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def settings(server: EmulatorServer) -> ClientSettings:
    return ClientSettings(base_url=server.url, stream_id=STREAM, account_id=ACCOUNT, iid=STREAM, **FAST)


@pytest.fixture
def make_client(
    settings: ClientSettings, redactor: RecordingRedactor, sleeps: Sleeps
) -> Iterator[Callable[..., KoreClient]]:
    """``make_client(environ=..., transport=..., clock=..., budget=..., limiter=..., **settings_overrides)``."""
    clients: list[KoreClient] = []

    def make(
        *,
        environ: dict[str, str] | None = None,
        auth: AuthSettings | None = None,
        **kwargs: Any,
    ) -> KoreClient:
        client_kwargs = {
            k: kwargs.pop(k)
            for k in ("transport", "clock", "wall_clock", "sleep", "budget", "notices", "limiter")
            if k in kwargs
        }
        client_kwargs.setdefault("sleep", sleeps)
        credentials = Credentials.from_environment(auth or AuthSettings(), environ or ENVIRON, redactor)
        merged = dataclasses.replace(settings, **kwargs)
        client = KoreClient(merged, credentials, redactor, **client_kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., KoreClient]) -> KoreClient:
    return make_client()

"""Fixtures for the emulator tests: an app, a real loopback server, and API clients.

Most tests talk to a real ``EmulatorServer`` on 127.0.0.1 (port 0); ``inproc`` runs the same app
through ``httpx.WSGITransport``. Time is moved with the ``clockOffset`` setting, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emulator_support import Kore

from campaign_sync.emulator import EmulatorApp, EmulatorServer, create_app


@pytest.fixture
def app() -> EmulatorApp:
    return create_app(rate_limit=0, preparing_seconds=5.0)


@pytest.fixture
def server(app: EmulatorApp) -> Iterator[EmulatorServer]:
    with EmulatorServer(app, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture
def kore(server: EmulatorServer) -> Iterator[Kore]:
    with httpx.Client(base_url=server.url, timeout=10.0) as http:
        yield Kore(http)


@pytest.fixture
def inproc(app: EmulatorApp) -> Iterator[Kore]:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator.test") as http:
        yield Kore(http)

"""Helpers for the Kore client tests: the emulator's control API, test transports, and the
documented request bodies (from ``tests/fixtures/documented.py``) under the names these tests use."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import httpx

from campaign_sync.emulator import DEFAULT_ACCOUNT_ID, ConnectionDropped
from campaign_sync.redact import Redactor
from tests.fixtures.documented import STREAM as STREAM  # re-exported for the kore tests
from tests.fixtures.documented import sms_advanced, voice_agentless

ACCOUNT = DEFAULT_ACCOUNT_ID
CANARY_SECRET = "canary-secret-0123456789abcdef0123456789"


#: The documented v2 advanced SMS and Agentless voice create bodies (reference §5.1, §5.2).
sms_body = sms_advanced
voice_body = voice_agentless


def fingerprint(token: str) -> str:
    """How the emulator journal shows a token."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def is_jwt(text: str) -> bool:
    return text.count(".") == 2 and text.startswith("eyJ")


class RecordingRedactor(Redactor):
    """A real redactor that also remembers every value registered, in order (duplicates too)."""

    def __init__(self) -> None:
        super().__init__()
        self.added: list[str] = []

    def add(self, secret: str | None) -> None:
        if secret:
            self.added.append(secret)
        super().add(secret)

    @property
    def tokens(self) -> list[str]:
        return [value for value in self.added if is_jwt(value)]


class Sleeps:
    """An injected ``sleep`` that records the requested delays and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(float(seconds))


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Timeline:
    """An injected monotonic clock and a ``sleep`` that moves it: waits take no real time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Emulator:
    """The emulator's control API (``/__emulator/``) over loopback HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10.0)

    def close(self) -> None:
        self.http.close()

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/__emulator/{path}", **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def fault(self, **spec: Any) -> str:
        fault_id: str = self.control("POST", "faults", json=spec)["id"]
        return fault_id

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control("GET", "journal")["entries"]
        return entries

    def clear_journal(self) -> None:
        self.control("DELETE", "journal")

    def seed(self, campaigns: list[dict[str, Any]], account: str = ACCOUNT) -> dict[str, str]:
        ids: dict[str, str] = self.control(
            "POST", "seed", json={"accountId": account, "campaigns": campaigns}
        )["ids"]
        return ids

    def campaigns(self, account: str = ACCOUNT) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = self.control("GET", "campaigns", params={"accountId": account})
        return docs

    def settings(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.control("PUT", "settings", json=changes)
        return result


class DroppingWSGITransport(httpx.WSGITransport):
    """In-process emulator; a scripted drop becomes what a client sees over a socket."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from None


class ProbeTransport(httpx.BaseTransport):
    """Wraps a real transport: records every request and the most requests ever in flight at once."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self.inner.handle_request(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        self.inner.close()


def mock_transport(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A MockTransport that also keeps the requests it saw."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return handler(request)

    return httpx.MockTransport(record), seen

"""What the benchmarks share: the emulator they run in-process, its control API, the credentials.

Imported by the scripts beside it (``python bench/plan_refresh.py`` puts this folder first on
``sys.path``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from campaign_sync.emulator import EmulatorServer, create_app

CLIENT_ID = "campaign-sync-bench"
CLIENT_SECRET = "campaign-sync-bench-secret-0123456789abcdef"  # noqa: S105 - the local emulator's
STREAM = "st-0603182c-7ffb-53c3-b307-47ca14b90001"
ACCOUNT = "67777ce93e25326494e90001"
ENV_NAME = "bench"
SEED_CHUNK = 500  # campaigns per seed request: stays under the control API's 1 MiB body limit


class ControlApi:
    """The emulator's control API (``/__emulator/...``): seed, journal."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=120.0)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/__emulator/{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def seed(self, bodies: list[dict[str, Any]]) -> dict[str, str]:
        """Seeds the campaigns in chunks; their ids by name."""
        ids: dict[str, str] = {}
        for start in range(0, len(bodies), SEED_CHUNK):
            chunk = bodies[start : start + SEED_CHUNK]
            ids.update(self.call("POST", "seed", {"accountId": ACCOUNT, "campaigns": chunk})["ids"])
        return ids

    def journal(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "journal")["entries"])

    def clear_journal(self) -> None:
        self.call("DELETE", "journal")


@contextmanager
def emulator() -> Iterator[tuple[EmulatorServer, ControlApi]]:
    """The emulator on 127.0.0.1 (a free port, no server rate limit, voice campaigns Ready at once)."""
    app = create_app(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limit=0, preparing_seconds=0.0)
    server = EmulatorServer(app, host="127.0.0.1", port=0)
    server.start()
    control = ControlApi(server.url)
    try:
        yield server, control
    finally:
        control.close()
        server.stop()


def child_environ() -> dict[str, str]:
    """The environment of a `campaign-sync` run against the emulator."""
    return {**os.environ, "KORE_CLIENT_ID": CLIENT_ID, "KORE_CLIENT_SECRET": CLIENT_SECRET, "NO_COLOR": "1"}

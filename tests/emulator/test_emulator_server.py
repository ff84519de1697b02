"""The threaded loopback server and the ``serve()`` entry point."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from emulator_support import Kore, sms_advanced

from campaign_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorServer, create_app
from campaign_sync.emulator.server import serve

REPO = Path(__file__).resolve().parents[2]


def test_twenty_parallel_gets_all_succeed(kore: Kore, server: EmulatorServer) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]

    def fetch(_: int) -> int:
        with httpx.Client(base_url=server.url) as http:
            return int(Kore(http).get(cid).status_code)

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(fetch, range(20))) == [200] * 20
    assert len(kore.journal()) == 21


def test_a_held_request_does_not_block_others(kore: Kore, server: EmulatorServer) -> None:
    cid = kore.create_ok(sms_advanced())["_id"]
    kore.fault(method="GET", path=cid, holdAfterApply=30)
    done = threading.Event()

    def held() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            Kore(http).get(cid)
        done.set()

    worker = threading.Thread(target=held)
    worker.start()
    deadline = time.monotonic() + 10
    while not any(e["method"] == "GET" for e in kore.journal()):  # the held GET has been applied
        assert time.monotonic() < deadline, "the held GET never arrived"
        time.sleep(0.01)
    assert kore.list(type="sms").status_code == 200, "served while another request is held"
    assert not done.is_set()
    kore.control("POST", "faults/release")
    worker.join(timeout=10)
    assert done.is_set()


def test_keep_alive_connections_are_reused(kore: Kore) -> None:
    for _ in range(3):
        assert kore.list(type="sms").status_code == 200


def test_non_loopback_hosts_are_refused_unless_allowed() -> None:
    app = create_app()
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(app, host="0.0.0.0")
    with EmulatorServer(app, host="0.0.0.0", port=0, allow_remote=True) as srv:
        assert srv.port > 0


def test_ipv6_loopback_url_has_brackets() -> None:
    try:
        server = EmulatorServer(create_app(), host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        assert server.url == f"http://[::1]:{server.port}"
        assert httpx.get(server.url + "/__emulator/health").json() == {"ok": True}


def _spawn(env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    code = "from campaign_sync.emulator.server import serve; serve(port=0)"
    return subprocess.Popen(
        [sys.executable, "-u", "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_its_url_and_stops_cleanly_on_a_signal(sig: signal.Signals) -> None:
    process = _spawn()
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        match = re.fullmatch(r"campaign-sync emulator listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        banner = [process.stdout.readline() for _ in range(6)]
        assert DEFAULT_CLIENT_ID in banner[0]
        assert DEFAULT_CLIENT_SECRET in banner[1]
        assert "accountId" in banner[2]
        assert any("Ctrl-C" in line for line in banner)
        assert httpx.get(match.group(1) + "/__emulator/health").json() == {"ok": True}
        process.send_signal(sig)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_serve_takes_credentials_from_the_environment() -> None:
    process = _spawn(
        {"KORE_CLIENT_ID": "env-app", "KORE_CLIENT_SECRET": "env-secret-env-secret-env-secret-01"}
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        assert "env-app" in process.stdout.readline()
        secret_line = process.stdout.readline()
        assert "client secret:" in secret_line
        assert "env-secret-env-secret-env-secret-01" not in secret_line  # a user's secret is never printed
        assert "$KORE_CLIENT_SECRET" in secret_line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_serve_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KORE_CLIENT_ID", "env-app")
    lines: list[str] = []
    stop = threading.Event()
    stop.set()  # return right after the banner
    serve(port=0, client_id="arg-app", echo=lines.append, stop_event=stop)
    assert lines[0].startswith("campaign-sync emulator listening on http://127.0.0.1:")
    assert "arg-app" in lines[1]


def test_serve_refuses_a_remote_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        serve(host="192.0.2.1", port=0, echo=lambda _: None)


def test_the_built_in_secret_is_printed_and_an_explicit_one_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KORE_CLIENT_SECRET", raising=False)
    stop = threading.Event()
    stop.set()
    shown: list[str] = []
    serve(port=0, echo=shown.append, stop_event=stop)
    assert any("campaign-sync-emulator-secret-do-not-use-in-production" in line for line in shown)
    hidden: list[str] = []
    serve(
        port=0, client_secret="my-own-secret-0123456789abcdef0123456789", echo=hidden.append, stop_event=stop
    )
    assert not any("my-own-secret" in line for line in hidden)
    assert any("--client-secret" in line for line in hidden)

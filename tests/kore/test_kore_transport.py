"""Timeouts, the per-attempt deadline, redirects, TLS, unreachable hosts and bodies that are not JSON."""

from __future__ import annotations

import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from kore_support import ACCOUNT, STREAM, Emulator, ProbeTransport, Sleeps, mock_transport

from campaign_sync.errors import ConfigError, ProtocolError, TransportError
from campaign_sync.kore import ClientSettings, KoreClient


def test_a_slow_drip_body_hits_the_deadline_and_is_retried(
    make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps
) -> None:
    # Each chunk arrives well within the 2 s read timeout, the whole body never within 0.3 s.
    client = make_client(request_deadline=0.3, read_timeout=2.0, max_attempts=2)
    emu.fault(method="POST", drip={"chunks": 4, "interval": 0.2}, times=-1)

    with pytest.raises(TransportError) as caught:
        client.list_campaigns("sms")

    message = str(caught.value)
    assert "deadline exceeded" in message
    assert "gave up after 2 attempts" in message
    assert len(emu.journal()) == 2
    assert len(sleeps.calls) == 1


def test_a_read_timeout_is_retried(
    make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps
) -> None:
    client = make_client(read_timeout=0.2)
    emu.fault(method="POST", delay=0.6)

    assert client.list_campaigns("sms") == []
    assert client.counter.total == 2  # the first attempt's journal entry appears only after its delay
    assert len(sleeps.calls) == 1


def test_a_redirect_is_not_followed_and_auth_goes_nowhere_else(
    make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps
) -> None:
    probe = ProbeTransport(httpx.HTTPTransport())
    client = make_client(transport=probe)
    emu.fault(method="GET", statuses=[307], headers={"Location": "http://127.0.0.2:9/steal"}, times=-1)

    with pytest.raises(ProtocolError) as caught:
        client.get_campaign("cd-1")

    assert "127.0.0.2" in str(caught.value)
    assert caught.value.status == 307
    assert [r.url.host for r in probe.requests] == ["127.0.0.1"]
    assert len(emu.journal()) == 1
    assert sleeps.calls == []


def test_an_html_page_instead_of_json_is_a_protocol_error_quoting_it(
    client: KoreClient, emu: Emulator
) -> None:
    emu.fault(method="GET", malformed=True)

    with pytest.raises(ProtocolError) as caught:
        client.get_campaign("cd-1")

    message = str(caught.value)
    assert caught.value.status == 200
    assert "text/html" in message
    assert "502 Bad Gateway" in message
    assert len(emu.journal()) == 1


def test_a_body_quote_is_at_most_200_characters_and_scrubbed(make_client: Callable[..., KoreClient]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        leaked = request.headers["auth"]
        return httpx.Response(
            200, text=f"<p>token {leaked}</p>" + "x" * 500, headers={"Content-Type": "text/html"}
        )

    transport, seen = mock_transport(answer)
    client = make_client(transport=transport)
    with pytest.raises(ProtocolError) as caught:
        client.get_campaign("cd-1")
    message = str(caught.value)
    assert seen[0].headers["auth"] not in message
    assert "<p>token ***</p>" in message
    quoted = message.split("text/html: ", 1)[1]
    assert len(quoted.split(" (GET ")[0]) <= 200


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"[1, 2]", "expected a JSON object"),
        (b"", "an empty body"),
        (b'{"status": "success"}', "no data object"),
        (b'{"status": "success", "data": "text"}', "no data object"),
    ],
)
def test_wrong_shaped_success_bodies_are_protocol_errors(
    make_client: Callable[..., KoreClient], payload: bytes, problem: str
) -> None:
    transport, _ = mock_transport(lambda request: httpx.Response(200, content=payload))
    client = make_client(transport=transport)
    with pytest.raises(ProtocolError, match=problem):
        client.get_campaign("cd-1")


def test_a_list_page_without_results_is_a_protocol_error(make_client: Callable[..., KoreClient]) -> None:
    body = {"status": "success", "data": {"results": [], "hasMore": True, "skip": 0}}
    transport, seen = mock_transport(lambda request: httpx.Response(200, json=body))
    client = make_client(transport=transport)
    with pytest.raises(ProtocolError, match="hasMore is true but the page is empty"):
        client.list_campaigns("sms")
    assert len(seen) == 1, "no endless paging"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_unreachable_host_is_retried_then_named(
    make_client: Callable[..., KoreClient], sleeps: Sleeps
) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{_free_port()}", max_attempts=3)

    with pytest.raises(TransportError) as caught:
        client.list_campaigns("sms")

    message = str(caught.value)
    assert "cannot connect to 127.0.0.1:" in message
    assert "gave up after 3 attempts" in message
    assert len(sleeps.calls) == 2


@pytest.mark.parametrize("url", ["http://platform.kore.ai", "ftp://127.0.0.1", "https://user:pw@example.com"])
def test_plain_http_is_refused_except_for_loopback(url: str) -> None:
    with pytest.raises(ConfigError):
        ClientSettings(base_url=url, stream_id=STREAM, account_id=ACCOUNT, iid=STREAM)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8787", "http://localhost:1", "http://[::1]:2", "https://kore.example"]
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert (
        ClientSettings(base_url=url + "/", stream_id=STREAM, account_id=ACCOUNT, iid=STREAM).base_url == url
    )


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on loopback with a self-signed certificate nobody trusts."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            served.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    assert served == [], "no request reached a server whose certificate did not verify"


def test_tls_verification_is_always_on(
    make_client: Callable[..., KoreClient], tls_server: str, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    client = make_client(base_url=tls_server)

    with pytest.raises(TransportError) as caught:
        client.list_campaigns("sms")

    message = str(caught.value)
    assert "TLS handshake with 127.0.0.1" in message
    assert "SSL_CERT_FILE" in message
    assert sleeps.calls == [], "a certificate problem is not retried"
    assert client.counter.total == 1

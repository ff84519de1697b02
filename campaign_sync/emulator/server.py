"""A real threaded HTTP server for the emulator, and ``serve()``, the ``campaign-sync emulator`` command.

The gateway is a small WSGI host on ``http.server`` (one daemon thread per connection, HTTP/1.1
keep-alive) rather than ``wsgiref``, because faults need control over the socket: a scripted drop
closes it with ``SO_LINGER 0`` (the peer sees a reset and no response), and a drip fault's chunks
are written and flushed one by one.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import unquote

from .app import ABORT_KEY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorApp, create_app
from .store import DEFAULT_ACCOUNT_ID
from .wire import dumps, error_body

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    """Runs the WSGI app for each request; honours the app's request to drop the connection."""

    protocol_version = "HTTP/1.1"
    server_version = "campaign-sync-emulator"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes: without this, Nagle + delayed ACK stall each response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _run(self) -> None:
        raw_path, _, query = self.path.partition("?")

        dropped = False

        def abort() -> None:
            nonlocal dropped
            dropped = True

        length = self.headers.get("Content-Length")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(raw_path, encoding="latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": length or "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": self.rfile,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            ABORT_KEY: abort,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        status_headers: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status_headers[:] = [status, headers]
            return lambda data: None

        try:
            result = self.server.app(environ, start_response)
        except Exception:
            log.exception("emulator error on %s %s", self.command, raw_path)
            body = dumps(error_body(500, "internal emulator error"))
            status_headers[:] = ["500 Internal Server Error", [("Content-Type", "application/json")]]
            result = [body]
            status_headers[1].append(("Content-Length", str(len(body))))
        if dropped:
            self._reset_connection()
            return
        if not status_headers:  # a lazy app calls start_response when its first chunk is pulled
            iterator = iter(result)
            first = next(iterator, b"")
            result = itertools.chain([first], iterator)
        self._write(status_headers[0], status_headers[1], result)

    def _write(self, status: str, headers: list[tuple[str, str]], result: Any) -> None:
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        has_length = False
        for name, value in headers:
            has_length = has_length or name.lower() == "content-length"
            self.send_header(name, value)
        if not has_length:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            for chunk in result:
                if chunk:
                    self.wfile.write(chunk)
                    self.wfile.flush()
        finally:
            close = getattr(result, "close", None)
            if callable(close):
                close()

    def _reset_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:  # pragma: no cover - peer already gone
            pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, OSError) as exc:
            log.debug("connection ended: %s", exc)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _run


class _Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: EmulatorApp, family: socket.AddressFamily) -> None:
        self.address_family = family
        self.app = app
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error while serving %s", client_address, exc_info=True)


class EmulatorServer:
    """Serves an ``EmulatorApp`` on a loopback port from a background thread.

    ``port=0`` picks a free port; ``url`` and ``port`` tell which. Use as a context manager or call
    ``start()``/``stop()``. Binding a non-loopback host needs ``allow_remote=True``.
    """

    def __init__(
        self, app: EmulatorApp, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"refusing to bind {host}: the emulator serves loopback only (allow_remote=True overrides)"
            )
        self.app = app
        self.host = host.strip("[]")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._server = _Server((self.host, port), app, family)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.5},
                name="emulator-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self.app.faults.release_holds()
        if self._thread is not None:
            stopper = threading.Thread(target=self._server.shutdown, daemon=True)
            stopper.start()
            for _ in range(100):
                self._wake()
                stopper.join(timeout=0.05)
                if not stopper.is_alive():
                    break
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def _wake(self) -> None:
        """Connect once so the serving loop wakes from its poll and sees the shutdown at once."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                pass
        except OSError:
            pass

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _shown_secret(explicit: str | None, resolved: str) -> str:
    """The built-in secret is printed so the demo can use it; a secret of the user's never is."""
    if resolved == DEFAULT_CLIENT_SECRET:
        return resolved
    return "(the one given with --client-secret)" if explicit else "(the one in $KORE_CLIENT_SECRET)"


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    data: str | os.PathLike[str] | None = None,
    seed: str | os.PathLike[str] | None = None,
    rate_limit: int = 60,
    client_id: str | None = None,
    client_secret: str | None = None,
    echo: Callable[[str], Any] = print,
    *,
    allow_remote: bool = False,
    stop_event: threading.Event | None = None,
    account_id: str | None = None,
    account_source: str = "",
) -> None:
    """Run the emulator until SIGINT/SIGTERM (or ``stop_event``), then return normally.

    Credentials: the argument, else ``KORE_CLIENT_ID``/``KORE_CLIENT_SECRET``, else the defaults.
    ``account_id`` is the default account for seeded campaigns that name none (default
    ``DEFAULT_ACCOUNT_ID``); ``account_source`` says where it came from, for the banner.
    """
    resolved_id = client_id or os.environ.get("KORE_CLIENT_ID") or DEFAULT_CLIENT_ID
    resolved_secret = client_secret or os.environ.get("KORE_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET
    account = account_id or DEFAULT_ACCOUNT_ID
    app = create_app(
        client_id=resolved_id,
        client_secret=resolved_secret,
        rate_limit=rate_limit,
        data_path=data,
        seed=seed,
        account_id=account,
    )
    done = stop_event or threading.Event()
    server = EmulatorServer(app, host, port, allow_remote=allow_remote)
    previous: dict[signal.Signals, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        with server:
            echo(f"campaign-sync emulator listening on {server.url}")
            echo(f"  client id:     {resolved_id}")
            echo(f"  client secret: {_shown_secret(client_secret, resolved_secret)}")
            echo("  any streamId and accountId are accepted")
            echo(f"  default account for seeds: {account} ({account_source or 'built-in default'})")
            echo(f"  control API: {server.url}/__emulator/health; data: {data or 'in memory'}")
            echo("  press Ctrl-C to stop")
            while not done.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    echo("campaign-sync emulator stopped")

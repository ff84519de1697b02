"""The emulator as a WSGI application: the request pipeline shared by every API endpoint.

For an API request, in order: scripted fault (delay, drop, status, malformed body), route (404),
``iid``/``accountId`` headers (400), the account's rate limit (429), the JWT (401), then the
handler under the store lock. Every API request is journaled; control calls under
``/__emulator/`` skip faults, rate limiting, auth and the journal.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from .api import Call, CampaignApi, route
from .auth import Authenticator, fingerprint, peek_claims
from .clock import Clock
from .control import ControlApi, SeedError, apply_seed, load_seed_file
from .faults import Fault, FaultBook, Journal, RateLimiter
from .store import DEFAULT_ACCOUNT_ID, CampaignStore
from .wire import JSON_TYPE, MAX_BODY_BYTES, ApiError, ConnectionDropped, Request, Response, dumps, error_body

log = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "campaign-sync-emulator"
DEFAULT_CLIENT_SECRET = "campaign-sync-emulator-secret-do-not-use-in-production"  # noqa: S105 (public test value)
#: The WSGI environ key under which a real server offers a callable that drops the connection.
ABORT_KEY = "campaign_sync.emulator.abort"
RATE_LIMIT_MESSAGE = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."
MALFORMED_BODY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

StartResponse = Callable[..., Any]


@dataclass
class Settings:
    """Run-time knobs, read and changed through ``/__emulator/settings``."""

    rateLimit: int = 60
    rateWindow: float = 60.0
    retryAfter: bool = False
    preparingSeconds: float = 1.0
    clockOffset: float = 0.0
    normalizeTimes: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class EmulatorApp:
    """The Kore.ai campaign API emulator; a WSGI callable. ``store`` is open to in-process tests."""

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        rate_limit: int = 60,
        rate_window: float = 60.0,
        data_path: str | os.PathLike[str] | None = None,
        seed: str | os.PathLike[str] | dict[str, Any] | None = None,
        preparing_seconds: float = 1.0,
        retry_after: bool = False,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        if len(client_secret.encode("utf-8")) < 32:
            raise ValueError("the emulator's client secret must be at least 32 bytes (HS256 key length)")
        if not account_id:
            raise ValueError("the emulator's default account id must not be empty")
        #: Where seeded campaigns go when neither they nor their seed name an ``accountId``.
        self.default_account = account_id
        self.clock = Clock()
        self.store = CampaignStore(self.clock, data_path=data_path)
        self.auth = Authenticator(client_id, client_secret, self.clock)
        self.faults = FaultBook()
        self.journal = Journal()
        self.defaults = Settings(
            rateLimit=rate_limit,
            rateWindow=rate_window,
            retryAfter=retry_after,
            preparingSeconds=preparing_seconds,
        )
        self.settings = replace(self.defaults)
        self.limiter = RateLimiter(rate_limit, rate_window)
        self.api = CampaignApi(self)
        self.control = ControlApi(self)
        if seed is not None and not self.store.loaded_from_disk:
            payload = seed if isinstance(seed, dict) else load_seed_file(seed)
            with self.store.lock:
                try:
                    apply_seed(self, payload, account_id)
                except ApiError as exc:
                    where = "the seed" if isinstance(seed, dict) else str(seed)
                    raise SeedError(f"{where}: " + "; ".join(exc.messages)) from None

    @property
    def client_id(self) -> str:
        return self.auth.client_id

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter.limit, self.limiter.window = settings.rateLimit, settings.rateWindow
        self.clock.offset = settings.clockOffset

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            request = read_request(environ)
        except ApiError as exc:
            return _send(exc.response(), start_response)
        if request.path == "/__emulator" or request.path.startswith("/__emulator/"):
            return _send(self.control.handle(request), start_response)
        return self._serve_api(request, start_response)

    def _serve_api(self, request: Request, start_response: StartResponse) -> Iterable[bytes]:
        arrived = self.clock.now()
        release = self.faults.release_event()
        taken = self.faults.take(request.method, request.path)
        fault, use = taken if taken is not None else (None, 0)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.dropBefore:
            self._record(request, arrived, None, fault, dropped=True)
            return _drop(request, start_response)
        status = fault.status_for(use) if fault is not None else None
        if fault is not None and status is not None and status >= 300:
            response = _fault_response(fault, status)
        elif fault is not None and fault.rawBody is not None:
            response = _fault_response(fault, status or 200)
        elif fault is not None and fault.malformed:
            response = Response(200, MALFORMED_BODY, [("Content-Type", "text/html; charset=utf-8")])
        elif fault is not None and fault.nestedBody:
            response = Response(200, nested_json(fault.nestedBody), [("Content-Type", JSON_TYPE)])
        elif fault is not None and fault.endlessPaging:
            response = self._endless_page(request)
        else:
            response = self._process(request)
            if fault is not None and fault.listOmit:
                response = _omit_from_list(response, set(fault.listOmit))
        dropped = fault is not None and fault.dropAfterApply
        self._record(request, arrived, response.status, fault, dropped=dropped)
        if fault is not None and fault.dropAfterApply:
            return _drop(request, start_response)
        if fault is not None and fault.holdAfterApply:
            self.faults.hold(fault.holdAfterApply, release)
        if fault is not None and fault.drip is not None:
            return _send_slowly(response, start_response, int(fault.drip["chunks"]), fault.drip["interval"])
        return _send(response, start_response)

    def _process(self, request: Request) -> Response:
        try:
            found = route(request.method, request.path)
            if found is None:
                raise ApiError(404, f"Cannot {request.method} {request.path}")
            op, params, version = found
            account = _account(request)
            if not request.header("iid"):
                raise ApiError(400, "iid header is required")
            if not account:
                raise ApiError(400, "accountId header is required")
            wait = self.limiter.check(account, self.clock.now())
            if wait is not None:
                headers = [("Retry-After", str(wait))] if self.settings.retryAfter else []
                raise ApiError(429, RATE_LIMIT_MESSAGE, headers=headers)
            self.auth.verify(request.header("auth"))
            with self.store.lock:
                return self.api.handlers[op](Call(request, params, version, account))
        except ApiError as exc:
            return exc.response()

    def _endless_page(self, request: Request) -> Response:
        """A list call answered with the first page whatever it asked for, and ``hasMore: true``.

        Other calls are processed normally. ``skip`` echoes what was asked, as a server that
        ignores paging would: a client trusting ``hasMore`` never stops.
        """
        found = route(request.method, request.path)
        if found is None or found[0] != "list":
            return self._process(request)
        try:
            asked = request.json_object()
        except ApiError as exc:
            return exc.response()
        first = {k: v for k, v in asked.items() if k not in ("skip", "page")}
        response = self._process(dataclasses.replace(request, raw_body=json.dumps(first).encode("utf-8")))
        data = response.payload.get("data") if isinstance(response.payload, dict) else None
        if response.status != 200 or not isinstance(data, dict):
            return response
        data["hasMore"] = True
        skip = asked.get("skip")
        if isinstance(skip, int) and not isinstance(skip, bool):
            data["skip"] = skip
        extra = [h for h in response.headers if h[0].lower() != "content-type"]
        return Response.json(200, response.payload, headers=extra)

    def _record(
        self, request: Request, arrived: float, status: int | None, fault: Fault | None, *, dropped: bool
    ) -> None:
        token = request.header("auth")
        try:
            body = json.loads(request.raw_body) if request.raw_body.strip() else None
        except (ValueError, UnicodeDecodeError):
            body = None
        self.journal.add(
            {
                "time": arrived,
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "status": status,
                "body": body,
                "account": _account(request),
                "headers": {
                    "iid": request.header("iid"),
                    "accountId": request.header("accountid"),
                    "auth": fingerprint(token) if token else None,
                },
                "jwt": peek_claims(token) if token else None,
                "fault": fault.id if fault is not None else None,
                "dropped": dropped,
            }
        )


def create_app(
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    rate_limit: int = 60,
    rate_window: float = 60.0,
    data_path: str | os.PathLike[str] | None = None,
    seed: str | os.PathLike[str] | dict[str, Any] | None = None,
    preparing_seconds: float = 1.0,
    retry_after: bool = False,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> EmulatorApp:
    """A new emulator. ``seed`` is a YAML/JSON file path (or the parsed mapping) in the seed shape.

    ``account_id`` is the default account: seeded campaigns that name no ``accountId`` go there.
    A seed the emulator cannot apply raises ``SeedError`` (a ``ValueError``) naming the file.
    """
    return EmulatorApp(
        client_id=client_id,
        client_secret=client_secret,
        rate_limit=rate_limit,
        rate_window=rate_window,
        data_path=data_path,
        seed=seed,
        preparing_seconds=preparing_seconds,
        retry_after=retry_after,
        account_id=account_id,
    )


def _account(request: Request) -> str | None:
    """The caller's account: the ``accountId`` header (any case), else the ``accountId`` query parameter."""
    return request.header("accountid") or request.query.get("accountId") or None


def read_request(environ: dict[str, Any]) -> Request:
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    path = str(environ.get("PATH_INFO", "")).encode("latin-1", "replace").decode("utf-8", "replace") or "/"
    query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        _discard(environ["wsgi.input"], min(length, 8 * MAX_BODY_BYTES))  # so the client reads the answer
        raise ApiError(
            413, f"request body larger than {MAX_BODY_BYTES} bytes", headers=[("Connection", "close")]
        )
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    return Request(method, path, query, headers, body, environ)


def _discard(stream: Any, length: int) -> None:
    while length > 0:
        chunk = stream.read(min(length, 65536))
        if not chunk:
            return
        length -= len(chunk)


def _fault_response(fault: Fault, status: int) -> Response:
    headers = [(name, value) for name, value in fault.headers.items()]
    if fault.retryAfter is not None:
        headers.append(("Retry-After", fault.retryAfter))
    if fault.rawBody is not None:
        return Response(status, fault.rawBody.encode("utf-8"), [("Content-Type", JSON_TYPE), *headers])
    if isinstance(fault.body, str):
        return Response(
            status, fault.body.encode("utf-8"), [("Content-Type", "text/plain; charset=utf-8"), *headers]
        )
    body = fault.body
    if body is None:
        body = (
            error_body(status, RATE_LIMIT_MESSAGE) if status == 429 else ApiError(status).response().payload
        )
    return Response.json(status, body, headers=headers)


def nested_json(depth: int) -> bytes:
    """A valid JSON success envelope whose ``data`` is ``depth`` nested arrays (built flat, no recursion)."""
    return b'{"status":"success","message":"deep","data":' + b"[" * depth + b"]" * depth + b"}"


def _omit_from_list(response: Response, omit: set[str]) -> Response:
    """A list response without the campaigns in ``omit`` (a list that misses campaigns GET still finds)."""
    payload = response.payload
    data = payload.get("data") if isinstance(payload, dict) else None
    if response.status != 200 or not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return response
    kept = [r for r in data["results"] if not (isinstance(r, dict) and (r.get("_id") or r.get("id")) in omit)]
    removed = len(data["results"]) - len(kept)
    total = data.get("totalResults")
    data = {**data, "results": kept, **({"totalResults": total - removed} if isinstance(total, int) else {})}
    headers = [h for h in response.headers if h[0].lower() != "content-type"]
    return Response.json(200, {**payload, "data": data}, headers=headers)


def _headers(response: Response) -> list[tuple[str, str]]:
    return [*response.headers, ("Content-Length", str(len(response.body)))]


def _send(response: Response, start_response: StartResponse) -> list[bytes]:
    start_response(response.status_line, _headers(response))
    return [response.body]


def _send_slowly(
    response: Response, start_response: StartResponse, chunks: int, interval: float
) -> Iterator[bytes]:
    start_response(response.status_line, _headers(response))
    return _drip(response.body, chunks, interval)


def _drip(body: bytes, chunks: int, interval: float) -> Iterator[bytes]:
    size = max(1, -(-len(body) // chunks))
    for index, offset in enumerate(range(0, max(len(body), 1), size)):
        if index:
            time.sleep(interval)
        yield body[offset : offset + size]


def _drop(request: Request, start_response: StartResponse) -> list[bytes]:
    abort = request.environ.get(ABORT_KEY)
    if not callable(abort):
        raise ConnectionDropped(f"{request.method} {request.path}: connection dropped by a scripted fault")
    abort()
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return []


__all__ = [
    "ABORT_KEY",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "EmulatorApp",
    "SeedError",
    "Settings",
    "create_app",
    "dumps",
]

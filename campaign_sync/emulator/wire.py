"""Request and response values passed between the WSGI layer and the handlers, and the error types."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY_BYTES = 1_048_576


class ConnectionDropped(Exception):
    """Raised in-process (no real socket) where the server would drop the connection.

    A test transport wrapping ``httpx.WSGITransport`` translates it into a transport error.
    """


class ApiError(Exception):
    """An error answered with the platform's envelope ``{"errors":[{"msg":...,"code":...}]}``."""

    def __init__(self, status: int, *messages: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages) or [HTTPStatus(status).phrase]
        self.headers = list(headers)

    def response(self) -> Response:
        return Response.json(self.status, error_body(self.status, *self.messages), headers=self.headers)


def error_body(status: int, *messages: str) -> dict[str, Any]:
    return {"errors": [{"msg": msg, "code": status} for msg in messages]}


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Response:
    """A complete response: status, body bytes, headers, and the JSON value it was made from."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload: Any = None  # the JSON value, kept for the journal and in-process tests

    @classmethod
    def json(cls, status: int, payload: Any, *, headers: Iterable[tuple[str, str]] = ()) -> Response:
        return cls(status, dumps(payload), [("Content-Type", JSON_TYPE), *headers], payload)

    @property
    def status_line(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"


@dataclass
class Request:
    """One HTTP request: ``headers`` has lower-cased names; ``query`` keeps the last value of each key."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    environ: dict[str, Any]

    def json(self) -> Any:
        """The parsed body; an empty body is None. Invalid JSON is a 400."""
        if not self.raw_body.strip():
            return None
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "request body is not valid JSON") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body counts as ``{}``."""
        value = self.json()
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ApiError(400, "request body must be a JSON object")
        return value

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

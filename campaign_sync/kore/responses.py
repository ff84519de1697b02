"""From an HTTP reply to either the parsed JSON envelope or a classified failure.

Lenient where the server may grow (any JSON object is an envelope; the endpoint picks what it
needs), strict where a wrong shape would mislead: a 2xx that is not a JSON object (an HTML
error page from a proxy, say) is a ``ProtocolError`` quoting the status and the first 200
characters of the body, scrubbed by the redactor. Error messages are built only from the
method, the path (no query string), the status and the platform's own message
(``{"errors": [{"msg": ...}]}``), never from request headers.

Every way a body can fail to parse is a ``ProtocolError``, never an "unexpected" crash: invalid
JSON or UTF-8, an integer too long for Python (``ValueError``), and JSON nested so deeply that
the decoder recurses out of stack (``RecursionError``). A body that parses but nests deeper than
``MAX_DEPTH`` levels is refused too: a campaign document is about six levels deep, and the
engine walks documents recursively (normalising, hashing, saving state), so depth is bounded
here, once, where the body enters.

Whether a failed write may have been applied: a lost response may have (``session.py``), and so
may any 5xx (a gateway or a crashed handler may answer after the backend did the work); a 429 or
another 4xx applied nothing. The client resolves a write that may have been applied by reading
before it sends anything again (``client.py``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from campaign_sync.errors import (
    ApiError,
    ApiValidationError,
    AuthError,
    ConflictError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
)
from campaign_sync.redact import Redactor

from .retry import RETRY_STATUSES, AttemptFailure

SNIPPET = 200
MAX_MESSAGE = 500
MAX_DEPTH = 32
SCOPE = '"Campaign Management"'


@dataclass(frozen=True)
class Reply:
    """A complete HTTP response: status, the headers the client reads, the body."""

    status: int
    body: bytes
    content_type: str = ""
    location: str | None = None
    retry_after: str | None = None
    paused_until: float | None = None
    """For a 429: when the account-wide pause it started ends (on the limiter's clock)."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def snippet(body: bytes, redactor: Redactor) -> str:
    """The first characters of a body, one line, scrubbed before it is cut (a cut secret would not match)."""
    text = redactor.scrub(body.decode("utf-8", errors="replace"))
    return " ".join(text.split())[:SNIPPET]


def kore_message(payload: Any, redactor: Redactor) -> str:
    """The platform's message: ``errors[].msg`` joined, else ``message``/``msg``/``error``."""
    messages: list[str] = []
    if isinstance(payload, dict):
        errors = payload.get("errors")
        if isinstance(errors, list):
            for entry in errors:
                if isinstance(entry, dict) and isinstance(entry.get("msg"), str):
                    messages.append(entry["msg"])
                elif isinstance(entry, str):
                    messages.append(entry)
        if not messages:
            for key in ("message", "msg", "error"):
                value = payload.get(key)
                if isinstance(value, str) and value:
                    messages.append(value)
                    break
    text = redactor.scrub("; ".join(m.strip() for m in messages if m.strip()))
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    return text


def parse_retry_after(value: str | None, wall_now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - wall_now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests (a scalar is 0), level by level without recursion; stops past ``limit``.

    Breadth-first over containers only, so a page of 100 campaigns costs about as much as parsing it.
    """
    level = 0
    current = [value] if value.__class__ is dict or value.__class__ is list else []
    while current:
        level += 1
        if level > limit:
            return level
        below: list[Any] = []
        for node in current:
            children = node.values() if node.__class__ is dict else node
            below += [c for c in children if c.__class__ is dict or c.__class__ is list]
        current = below
    return level


def _json(body: bytes) -> tuple[Any, str | None]:
    """The parsed body and None, or None and why it is not usable JSON."""
    if not body.strip():
        return None, "an empty body"
    try:
        payload = json.loads(body)
    except RecursionError:
        return None, "JSON nested too deeply to parse"
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError, bad UTF-8, a 5,000-digit integer
        return None, "not JSON"
    if depth(payload) > MAX_DEPTH:
        return None, f"JSON nested deeper than {MAX_DEPTH} levels"
    return payload, None


def interpret(reply: Reply, *, method: str, path: str, redactor: Redactor, wall_now: float) -> dict[str, Any]:
    """The JSON object of a 2xx reply; otherwise raise an ``AttemptFailure`` saying what went wrong."""
    status = reply.status
    where: dict[str, Any] = {"method": method, "path": path, "status": status}
    if 300 <= status < 400:
        host = urlsplit(reply.location or "").hostname or "an unnamed location"
        raise AttemptFailure(
            ProtocolError(
                f"the API answered with a redirect (HTTP {status}) to {host}; redirects are never followed, "
                "so the auth header is not sent there: check the host in campaign-sync.yaml",
                **where,
            ),
            retryable=False,
            maybe_applied=False,
        )
    payload, problem = _json(reply.body)
    parsed = problem is None
    if 200 <= status < 300:
        if isinstance(payload, dict):
            return payload
        kind = reply.content_type.split(";")[0].strip() or "no content type"
        if not reply.body.strip():
            what = "an empty body"
        elif problem is not None and problem != "not JSON":
            what = f"{problem} ({kind}): {snippet(reply.body, redactor)}"
        else:
            what = f"{kind}: {snippet(reply.body, redactor)}"
        shape = "a JSON object" if parsed else "JSON"
        raise AttemptFailure(
            ProtocolError(f"expected {shape}, got {what}", **where), retryable=False, maybe_applied=True
        )
    message = kore_message(payload, redactor) if parsed else ""
    if not message and reply.body.strip() and not parsed:
        message = snippet(reply.body, redactor)
    error = _error(status, message, where, parse_retry_after(reply.retry_after, wall_now))
    retryable = status in RETRY_STATUSES
    raise AttemptFailure(error, retryable=retryable, maybe_applied=status >= 500)


def _error(status: int, message: str, where: dict[str, Any], retry_after: float | None) -> ApiError:
    reason = _reason(status)
    if status == 401:
        return AuthError(message or "the token was rejected", kore_message=message, **where)
    if status == 403:
        return AuthError(
            f"forbidden: the JWT app needs the {SCOPE} API scope (published) for this account",
            kore_message=message,
            **where,
        )
    if status == 404:
        return NotFoundError(message or "campaign not found", kore_message=message, **where)
    if status in (400, 422):
        return ApiValidationError(message or reason, kore_message=message, **where)
    if status == 409:
        return ConflictError(message or reason, kore_message=message, **where)
    if status == 429:
        return RateLimitedError(
            message or "too many requests", kore_message=message, retry_after=retry_after, **where
        )
    if 500 <= status < 600:
        return ServerError(message or reason, kore_message=message, retry_after=retry_after, **where)
    if 400 <= status < 500:
        return ApiError(message or reason, kore_message=message, **where)
    return ProtocolError(f"unexpected HTTP status {status}", kore_message=message, **where)

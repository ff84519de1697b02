"""The ``auth`` header check (reference §2): an HS256 JWT signed with the client secret.

* Only HS256 is accepted (``none``, HS512, RS256 ... are rejected before the signature is checked).
* ``appId`` must equal the configured client id (the claim name is case-sensitive, §2.2).
* ``exp``, ``nbf`` and ``iat`` are honoured when present, with 30 s leeway, on the emulator clock;
  tokens without ``exp`` are accepted (the documented recipe has none, §2.4).
* With a ``jti``: ``exp - iat`` must be at most 3600 s and a ``jti`` is accepted once (§2.3).

Failures raise ``ApiError(401, "error verifying the jwt: <reason>")``.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import jwt

from .clock import Clock
from .wire import ApiError

LEEWAY = 30.0
JTI_MAX_LIFETIME = 3600
_PREFIX = "error verifying the jwt: "
_DECODE_OPTIONS: Any = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "require": [],
}


def fingerprint(token: str) -> str:
    """What the journal records instead of a token: ``sha256:`` + 12 hex chars of its hash."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def peek_claims(token: str) -> dict[str, Any] | None:
    """The token's claims without verifying anything (for the journal), or None if unreadable."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


def _fail(reason: str) -> ApiError:
    return ApiError(401, _PREFIX + reason)


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f'"{name}" claim must be a number')
    return float(value)


class Authenticator:
    """Verifies tokens for one client id/secret and remembers the ``jti`` values it has seen."""

    def __init__(self, client_id: str, client_secret: str, clock: Clock) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self._clock = clock
        self._seen: dict[str, float] = {}  # jti -> when it may be forgotten (after its exp)
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def verify(self, token: str | None) -> dict[str, Any]:
        if not token:
            raise _fail("no token in the auth header")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _fail("malformed token") from None
        alg = header.get("alg")
        if alg != "HS256":
            raise _fail(f"algorithm {alg!r} is not allowed (only HS256)")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=["HS256"], options=_DECODE_OPTIONS
            )
        except jwt.InvalidSignatureError:
            raise _fail("invalid signature") from None
        except jwt.PyJWTError as exc:
            raise _fail(f"malformed token ({type(exc).__name__})") from None
        if claims.get("appId") != self.client_id:
            raise _fail('"appId" claim does not match the client id of an app with this secret')
        now = self._clock.now()
        exp, nbf, iat = _number(claims, "exp"), _number(claims, "nbf"), _number(claims, "iat")
        if exp is not None and now > exp + LEEWAY:
            raise _fail("token has expired")
        if nbf is not None and now + LEEWAY < nbf:
            raise _fail("token is not yet valid (nbf)")
        if iat is not None and now + LEEWAY < iat:
            raise _fail("token is not yet valid (iat)")
        jti = claims.get("jti")
        if jti is not None:
            if exp is None or exp - (iat if iat is not None else now) > JTI_MAX_LIFETIME:
                raise _fail('if "jti" claim "exp" must be <= 1 hour(s)')
            self._remember(str(jti), exp, now)
        return claims

    def _remember(self, jti: str, exp: float, now: float) -> None:
        with self._lock:
            for old in [key for key, until in self._seen.items() if until < now]:
                del self._seen[old]
            if jti in self._seen:
                raise _fail("possibly a replay")
            self._seen[jti] = exp + LEEWAY

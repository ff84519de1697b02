"""Credentials from the environment and the JWT sent in the ``auth`` header.

The token is the documented recipe for Kore.ai public APIs (reference §2.2, §10): HS256 over
``{"appId": <client id>, "sub": ...}`` signed with the client secret, plus ``iat`` and a short
``exp`` (300 s) so a leaked token is worth little.

Why no ``jti``: the platform (and the emulator) accepts a given ``jti`` only once, so a token
carrying one would have to be minted per request; one short-lived token reused for many
requests is the documented recipe and keeps every retry and every concurrent request simple.
The short ``exp`` gives the protection a one-time ``jti`` would.

Tokens are minted lazily, renewed when less than 60 s of life remain (measured on the
monotonic ``clock``, so a wall-clock jump cannot keep a stale token alive), and minted under a
lock so concurrent requests share one token. ``iat``/``exp`` come from the wall clock. Every
token minted or read, and the client secret, are registered with the run's ``Redactor``.

In GitHub Actions (``GITHUB_ACTIONS=true`` in the environment the credentials were read from),
each token is also announced to the runner with the ``::add-mask::<token>`` workflow command,
once, before its first use, so the runner hides it in every later line of the job's log, even
output campaign-sync does not produce (a shell's ``set -x``, another step). The line is written
straight to ``sys.stderr`` on purpose: through the redactor it would read ``::add-mask::***``.
A ready token from ``tokenEnv`` is announced too, in case it did not come from a secret.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import jwt

from campaign_sync.errors import CredentialsError
from campaign_sync.redact import Redactor

log = logging.getLogger("campaign_sync.kore")

TOKEN_LIFETIME = 300
RENEW_MARGIN = 60
SUBJECT = "campaign-sync"
MIN_SECRET_BYTES = 32


class AuthSettingsLike(Protocol):
    """``config.AuthSettings``: names of environment variables, never values."""

    @property
    def clientIdEnv(self) -> str: ...
    @property
    def clientSecretEnv(self) -> str: ...
    @property
    def tokenEnv(self) -> str | None: ...


@dataclass(frozen=True)
class Credentials:
    """Either a client id and secret (tokens are minted) or a ready token (used verbatim).

    ``repr`` never shows the secret or the token. ``*_env`` name the variables they came from,
    for error messages.
    """

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    client_id_env: str = "KORE_CLIENT_ID"
    client_secret_env: str = "KORE_CLIENT_SECRET"  # noqa: S105 (a variable name)
    token_env: str | None = None
    github_actions: bool = False

    @property
    def static(self) -> bool:
        """True for a ready token from ``tokenEnv``: it is never renewed."""
        return self.token is not None

    def describe(self) -> str:
        """Where the credentials came from, naming variables only."""
        if self.static:
            return f"the token in {self.token_env or 'the configured token variable'}"
        return f"{self.client_id_env} / {self.client_secret_env}"

    @classmethod
    def from_environment(
        cls, auth: AuthSettingsLike, environ: Mapping[str, str], redactor: Redactor
    ) -> Credentials:
        """Read the variables ``auth`` names; a missing one is a ``CredentialsError`` naming it."""
        token_env = auth.tokenEnv
        in_actions = environ.get("GITHUB_ACTIONS") == "true"
        if token_env and environ.get(token_env):
            token = environ[token_env].strip()
            redactor.add(token)
            return cls(token=token, token_env=token_env, github_actions=in_actions)
        client_id = environ.get(auth.clientIdEnv, "").strip()
        secret = environ.get(auth.clientSecretEnv, "")
        redactor.add(secret)
        missing = [
            f"{name} (the {what} of your Kore.ai JWT app)"
            for name, what, value in (
                (auth.clientIdEnv, "client id", client_id),
                (auth.clientSecretEnv, "client secret", secret),
            )
            if not value
        ]
        if missing:
            alternative = f", or {token_env} with a ready JWT" if token_env else ""
            raise CredentialsError(
                f"set {' and '.join(missing)}{alternative}: campaign-sync reads credentials only from "
                "environment variables (in CI, from a secret)"
            )
        if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise CredentialsError(
                f"{auth.clientSecretEnv} is shorter than {MIN_SECRET_BYTES} bytes, too short for an HS256 "
                "key; copy the complete client secret of your Kore.ai JWT app"
            )
        return cls(
            client_id=client_id,
            client_secret=secret,
            client_id_env=auth.clientIdEnv,
            client_secret_env=auth.clientSecretEnv,
            token_env=token_env,
            github_actions=in_actions,
        )


class TokenSource:
    """The current ``auth`` token: minted lazily, renewed near expiry, thread-safe."""

    def __init__(
        self,
        credentials: Credentials,
        redactor: Redactor,
        *,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        if not credentials.static and not (credentials.client_id and credentials.client_secret):
            raise CredentialsError("credentials need a token, or a client id and a client secret")
        self._credentials = credentials
        self._redactor = redactor
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._token: str | None = credentials.token
        self._minted_at = 0.0
        if credentials.client_secret:
            redactor.add(credentials.client_secret)
        if credentials.token:
            redactor.add(credentials.token)
            if credentials.github_actions:
                mask_in_github_actions(credentials.token)

    @property
    def renewable(self) -> bool:
        return not self._credentials.static

    def describe(self) -> str:
        return self._credentials.describe()

    def current(self) -> str:
        """A token with at least ``RENEW_MARGIN`` seconds of life left (a static token as given)."""
        with self._lock:
            if self._token is None or (
                self.renewable and self._clock() >= self._minted_at + TOKEN_LIFETIME - RENEW_MARGIN
            ):
                self._token = self._mint()
            return self._token

    def renew(self, rejected: str) -> str:
        """A fresh token after ``rejected`` got a 401; threads that saw the same 401 share one re-mint."""
        with self._lock:
            if self.renewable and self._token == rejected:
                self._token = self._mint()
            assert self._token is not None
            return self._token

    def _mint(self) -> str:
        credentials = self._credentials
        assert credentials.client_id is not None
        assert credentials.client_secret is not None
        now = int(self._wall_clock())
        claims = {"appId": credentials.client_id, "sub": SUBJECT, "iat": now, "exp": now + TOKEN_LIFETIME}
        token = jwt.encode(claims, credentials.client_secret, algorithm="HS256")
        self._redactor.add(token)
        if credentials.github_actions:
            mask_in_github_actions(token)
        self._minted_at = self._clock()
        log.debug(
            "minted a new API token for client id %s, valid %d s", credentials.client_id, TOKEN_LIFETIME
        )
        return token


def mask_in_github_actions(token: str) -> None:
    """Tell the GitHub Actions runner to hide ``token`` in this job's log from now on."""
    sys.stderr.write(f"::add-mask::{token}\n")
    sys.stderr.flush()

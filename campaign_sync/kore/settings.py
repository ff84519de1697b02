"""What the client needs to know about one environment, plus its tunables.

``ClientSettings`` is a frozen dataclass: the engine builds it once from the resolved
environment (``ClientSettings.from_environment(env)``) and tests shrink the timing knobs with
``dataclasses.replace``, which re-runs the validation below. The base URL is re-checked (https
only, http only for loopback), so a client can never be pointed at a plain-http remote host,
whatever built the settings. There is deliberately no TLS switch: verification is always on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from campaign_sync.errors import ConfigError
from campaign_sync.urls import check_base_url

_COUNTS = ("rate_limit", "parallelism", "max_attempts")
_SECONDS = (
    "connect_timeout",
    "read_timeout",
    "request_deadline",
    "retry_budget_seconds",
    "retry_after_cap",
    "rate_window",
)


class EnvironmentLike(Protocol):
    """The parts of ``config.ResolvedEnvironment`` the client reads."""

    @property
    def host(self) -> str: ...
    @property
    def stream_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def iid(self) -> str: ...
    @property
    def rate_limit(self) -> int: ...
    @property
    def parallelism(self) -> int: ...


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    stream_id: str
    account_id: str
    iid: str
    rate_limit: int = 60
    """Requests per ``rate_window`` seconds (the account limit is per minute)."""
    parallelism: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    request_deadline: float = 30.0
    """Overall bound on one attempt, from sending the request to the last byte of the body."""
    retry_budget_seconds: float = 300.0
    """No retry is started that would end more than this long after the call's first attempt."""
    max_attempts: int = 6
    retry_after_cap: float = 120.0
    rate_window: float = 60.0

    def __post_init__(self) -> None:
        try:
            url = check_base_url(self.base_url)
        except ValueError as exc:
            raise ConfigError(f"host: {exc}") from None
        object.__setattr__(self, "base_url", url)
        for name in ("stream_id", "account_id", "iid"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{name} must be a non-empty string")
        for name in _COUNTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in _SECONDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
                raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")

    @classmethod
    def from_environment(cls, env: EnvironmentLike) -> ClientSettings:
        """Settings for one resolved environment of ``campaign-sync.yaml`` (rateLimit is per minute)."""
        return cls(
            base_url=env.host,
            stream_id=env.stream_id,
            account_id=env.account_id,
            iid=env.iid,
            rate_limit=env.rate_limit,
            parallelism=env.parallelism,
            rate_window=60.0,
        )

    @property
    def api_root(self) -> str:
        """``{host}/campaign/api/v2/public/{streamId}``; the stream id is one path segment, so encoded."""
        return f"{self.base_url}/campaign/api/v2/public/{quote(self.stream_id, safe='')}"

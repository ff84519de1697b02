"""Every error campaign-sync raises on purpose, and the exit codes they map to.

Only ``cli.py`` turns these into exit codes; library code raises, never exits.

    CampaignSyncError                 exit 1; ``str(e)`` is a complete, user-facing message
    ├── ConfigError                   campaign-sync.yaml: file:line and what to fix
    ├── ManifestError                 every manifest problem of a run, as Issue rows
    ├── CredentialsError              a required environment variable is unset (named, never its value)
    ├── StateError                    state corrupt, foreign lineage or identity, older serial
    │   ├── LockError                 another run holds the state lock (names the holder)
    │   └── StateConflictError        a write lost a race: the stored serial moved (names both)
    ├── PlanError                     the manifests and the state cannot make a plan (type change, --target)
    ├── CampaignTypeError             a campaign type or mode no registered type knows (never a fallback)
    ├── DriftError                    the drift check cannot run as asked (--target)
    ├── OutputError                   a report file cannot be written
    ├── PinError                      init cannot pin the campaign-sync the workflows install
    ├── StalePlanError                a saved plan no longer matches live or the manifests
    ├── SafetyError                   too many changes, or deletes without --allow-delete
    ├── ApplyFailed                   some campaigns failed during apply (the rest were applied)
    └── ApiError                      one failed API call: method, path, status, Kore message
        ├── AuthError                 401 / 403
        ├── NotFoundError             404
        ├── ApiValidationError        400 / 422 (not retried)
        ├── ConflictError             409
        ├── RateLimitedError          429 after the retry budget
        ├── ServerError               5xx after the retry budget
        ├── ProtocolError             a body that is not the JSON the API documents, a redirect, paging
        │                             that never ends, a list that misses a campaign GET still finds
        ├── TransportError            connect / read / deadline / dropped connection
        └── BudgetExceeded            the run's time budget (--timeout) would run out: the run stops
    Interrupted                       Ctrl-C or SIGTERM: exit 130 (not a CampaignSyncError)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import IntEnum

from campaign_sync.sanitize import escape


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2
    INTERRUPTED = 130


@dataclass(frozen=True, order=True)
class Location:
    """Where a value came from: a path relative to the repository, 1-based line."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in a user file: ``path:line: field.path: message``."""

    location: Location
    field: str
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.location}: {self.field}: {self.message}"
        return f"{self.location}: {self.message}"


class CampaignSyncError(Exception):
    """Base of every expected failure. The message is complete and safe to print."""

    exit_code: ExitCode = ExitCode.ERROR


class ConfigError(CampaignSyncError):
    pass


class ManifestError(CampaignSyncError):
    """All problems found in one run, reported together."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class CredentialsError(CampaignSyncError):
    pass


class StateError(CampaignSyncError):
    pass


class LockError(StateError):
    pass


class StateConflictError(StateError):
    """A compare-and-swap write found another serial stored than the one it read."""


class PlanError(CampaignSyncError):
    pass


class CampaignTypeError(CampaignSyncError):
    pass


class DriftError(CampaignSyncError):
    pass


class OutputError(CampaignSyncError):
    pass


class PinError(CampaignSyncError):
    """``init`` cannot name a pinned, hash-checked source for campaign-sync (says what to pass)."""


class StalePlanError(CampaignSyncError):
    pass


class SafetyError(CampaignSyncError):
    pass


class ApplyFailed(CampaignSyncError):
    pass


class ApiError(CampaignSyncError):
    """A failed API call. Never carries the token or the client secret."""

    category = "api error"

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        kore_message: str = "",
        retry_after: float | None = None,
        attempts: int | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.kore_message = kore_message
        self.retry_after = retry_after
        self.attempts = attempts
        self.detail = message
        super().__init__(self._render())

    def restated(self, detail: str) -> ApiError:
        """The same failed call (its type, request, status and the server's words), told with ``detail``.

        A copy, not a chain: the new error carries no ``__cause__`` or traceback of this one.
        """
        other = copy.copy(self)
        other.detail = detail
        other.args = (other._render(),)
        return other

    def _render(self) -> str:
        """One line: the server's words escaped (``sanitize``), so they cannot fake our output."""
        where = escape(f"{self.method} {self.path}".strip())
        status = f" -> HTTP {self.status}" if self.status is not None else ""
        text = f"{self.category}: {escape(self.detail)}"
        if self.kore_message and self.kore_message not in self.detail:
            text += f": {escape(self.kore_message)}"
        return f"{text} ({where}{status})" if where else text


class AuthError(ApiError):
    category = "authentication failed"


class NotFoundError(ApiError):
    category = "not found"


class ApiValidationError(ApiError):
    category = "rejected by the API"


class ConflictError(ApiError):
    category = "conflict"


class RateLimitedError(ApiError):
    category = "rate limited"


class ServerError(ApiError):
    category = "server error"


class ProtocolError(ApiError):
    category = "unexpected response"


class TransportError(ApiError):
    category = "cannot reach the API"


class BudgetExceeded(ApiError):
    """The whole run's time budget (``--timeout``) ran out, or the next wait would pass it.

    Unlike the other API errors it ends the run, not just one call: apply stops before the
    next campaign. ``write_in_doubt`` is true when the call was a write that may have been
    applied before the budget ran out (the next plan shows whether it took).
    """

    category = "run budget exhausted"

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        kore_message: str = "",
        retry_after: float | None = None,
        attempts: int | None = None,
        write_in_doubt: bool = False,
    ) -> None:
        self.write_in_doubt = write_in_doubt
        super().__init__(
            message,
            method=method,
            path=path,
            status=status,
            kore_message=kore_message,
            retry_after=retry_after,
            attempts=attempts,
        )


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: the run stopped cleanly after the request in flight."""

    exit_code = ExitCode.INTERRUPTED

"""``campaign-sync.yaml``: discovery, strict validation with file:line errors, defaults.

The directory holding the config file is the repository root: manifest paths and the state
path are relative to it, and manifests may not escape it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from campaign_sync.errors import ConfigError, Issue, Location
from campaign_sync.manifests.models import pydantic_issues
from campaign_sync.manifests.yamlsafe import YamlProblem, load
from campaign_sync.urls import check_base_url

CONFIG_NAMES = ("campaign-sync.yaml", "campaign-sync.yml")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: streamId, accountId and iid go into request paths and headers: letters, digits, '.', '_', '-'.
_API_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AuthSettings(_Strict):
    """Names of environment variables, never values."""

    clientIdEnv: Annotated[str, Field(pattern=_ENV_NAME)] = "KORE_CLIENT_ID"
    clientSecretEnv: Annotated[str, Field(pattern=_ENV_NAME)] = "KORE_CLIENT_SECRET"
    tokenEnv: Annotated[str | None, Field(pattern=_ENV_NAME)] = None


class Environment(_Strict):
    host: str
    streamId: Annotated[str, Field(min_length=1, pattern=_API_ID)]
    accountId: Annotated[str, Field(min_length=1, pattern=_API_ID)]
    iid: Annotated[str | None, Field(min_length=1, pattern=_API_ID)] = None
    auth: AuthSettings = AuthSettings()
    state: Annotated[str | None, Field(min_length=1)] = None
    rateLimit: Annotated[int, Field(ge=1, le=100_000, description="requests per minute")] = 60
    parallelism: Annotated[int, Field(ge=1, le=64)] = 4
    vars: dict[str, str | int | float | bool] = Field(default_factory=dict)
    experienceFlows: dict[str, Annotated[str, Field(pattern=r"^cf-")]] = Field(default_factory=dict)
    maxChangeFraction: Annotated[float | None, Field(gt=0, le=1)] = None

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return check_base_url(value)


class Settings(_Strict):
    version: Literal[1]
    manifests: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] = ["manifests"]
    maxChangeFraction: Annotated[float, Field(gt=0, le=1)] = 0.5
    environments: Annotated[dict[str, Environment], Field(min_length=1)]


class Config:
    """A loaded config file: settings plus where it lives."""

    def __init__(self, settings: Settings, path: Path) -> None:
        self.settings = settings
        self.path = path
        self.root = path.parent

    def environment(self, name: str | None) -> ResolvedEnvironment:
        envs = self.settings.environments
        if name is None:
            if len(envs) == 1:
                name = next(iter(envs))
            else:
                raise ConfigError(
                    f"{self.display_path}: several environments ({', '.join(sorted(envs))}); "
                    "choose one with -e/--env"
                )
        if name not in envs:
            raise ConfigError(
                f"{self.display_path}: no environment {name!r} (defined: {', '.join(sorted(envs))})"
            )
        return ResolvedEnvironment(name, envs[name], self)

    @property
    def display_path(self) -> str:
        return _display(self.path)


class ResolvedEnvironment:
    """One environment with its defaults filled in."""

    def __init__(self, name: str, env: Environment, config: Config) -> None:
        self.name = name
        self.spec = env
        self.config = config
        self.host = env.host
        self.stream_id = env.streamId
        self.account_id = env.accountId
        self.iid = env.iid or env.streamId
        self.auth = env.auth
        self.rate_limit = env.rateLimit
        self.parallelism = env.parallelism
        self.vars: dict[str, Any] = dict(env.vars)
        self.experience_flows = dict(env.experienceFlows)
        self.max_change_fraction = (
            env.maxChangeFraction if env.maxChangeFraction is not None else config.settings.maxChangeFraction
        )
        state = Path(env.state or f".campaign-sync/{name}.state.json")
        self.state_path = state if state.is_absolute() else config.root / state


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def find_config(start: Path) -> Path | None:
    """The nearest campaign-sync.yaml in ``start`` or a parent directory."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def load_config(explicit: str | Path | None = None, cwd: Path | None = None) -> Config:
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
    else:
        found = find_config((cwd or Path.cwd()).resolve())
        if found is None:
            raise ConfigError(
                "no campaign-sync.yaml in this directory or any parent; "
                "run `campaign-sync init` to create one, or pass --config PATH"
            )
        path = found
    path = path.resolve()
    shown = _display(path)
    try:
        data = load(path.read_bytes(), shown)
    except YamlProblem as exc:
        raise ConfigError(str(Issue(Location(shown, exc.line), "", exc.message))) from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}:1: must be a mapping with version, manifests and environments")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        issues = pydantic_issues(exc, shown, data, (), Settings)
        raise ConfigError("\n".join(str(i) for i in sorted(issues))) from None
    return Config(settings, path)

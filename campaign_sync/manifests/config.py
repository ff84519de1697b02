"""``campaign-sync.yaml``: discovery, strict validation with file:line errors, defaults.

The directory holding the config file is the repository root: manifest paths and the state
path are relative to it, and manifests may not escape it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from campaign_sync.errors import ConfigError, Issue, Location
from campaign_sync.manifests.models import pydantic_issues
from campaign_sync.manifests.yamlsafe import YamlProblem, load
from campaign_sync.urls import check_base_url

CONFIG_NAMES = ("campaign-sync.yaml", "campaign-sync.yml")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: streamId, accountId and iid go into request paths and headers: letters, digits, '.', '_', '-'.
_API_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_SCHEMA_NAME = r"^[a-z_][a-z0-9_]{0,62}$"
DEFAULT_DSN_ENV = "CAMPAIGN_SYNC_PG_DSN"
DEFAULT_SCHEMA = "campaign_sync"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AuthSettings(_Strict):
    """Names of environment variables, never values."""

    clientIdEnv: Annotated[str, Field(pattern=_ENV_NAME)] = "KORE_CLIENT_ID"
    clientSecretEnv: Annotated[str, Field(pattern=_ENV_NAME)] = "KORE_CLIENT_SECRET"
    tokenEnv: Annotated[str | None, Field(pattern=_ENV_NAME)] = None


class StateSettings(_Strict):
    """``state:`` as a mapping. The path form (``state: PATH``) is read as ``{backend: file, path: PATH}``."""

    backend: Literal["file", "postgres"] = "file"
    path: Annotated[str | None, Field(min_length=1)] = None
    dsnEnv: Annotated[str | None, Field(pattern=_ENV_NAME)] = None
    schema_: Annotated[str | None, Field(alias="schema", pattern=_SCHEMA_NAME)] = None

    @model_validator(mode="after")
    def _fields_of_the_backend(self) -> StateSettings:
        if self.backend == "file" and (self.dsnEnv is not None or self.schema_ is not None):
            raise ValueError("dsnEnv and schema are settings of backend: postgres, not of backend: file")
        if self.backend == "postgres" and self.path is not None:
            raise ValueError("path is a setting of backend: file; backend: postgres takes dsnEnv and schema")
        return self


class Environment(_Strict):
    host: str
    streamId: Annotated[str, Field(min_length=1, pattern=_API_ID)]
    accountId: Annotated[str, Field(min_length=1, pattern=_API_ID)]
    iid: Annotated[str | None, Field(min_length=1, pattern=_API_ID)] = None
    auth: AuthSettings = AuthSettings()
    state: StateSettings | None = None
    rateLimit: Annotated[int, Field(ge=1, le=100_000, description="requests per minute")] = 60
    parallelism: Annotated[int, Field(ge=1, le=64)] = 4
    vars: dict[str, str | int | float | bool] = Field(default_factory=dict)
    experienceFlows: dict[str, Annotated[str, Field(pattern=r"^cf-")]] = Field(default_factory=dict)
    maxChangeFraction: Annotated[float | None, Field(gt=0, le=1)] = None

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return check_base_url(value)

    @field_validator("state", mode="before")
    @classmethod
    def _state_path_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value:
                raise ValueError("must not be empty")
            return {"backend": "file", "path": value}
        return value


class Settings(_Strict):
    version: Literal[1]
    manifests: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] = ["manifests"]
    maxChangeFraction: Annotated[float, Field(gt=0, le=1)] = 0.5
    environments: Annotated[dict[str, Environment], Field(min_length=1)]


class Config:
    """A loaded config file: settings plus where it lives."""

    def __init__(self, settings: Settings, path: Path, data: Any = None) -> None:
        self.settings = settings
        self.path = path
        self.root = path.parent
        self.data = data
        """The file as loaded (``yamlsafe`` values with their lines), for messages that need a line."""

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
        self.state_backend = backend_spec(env.state, name, config.root)
        self.state_path = self.state_backend.path  # the file backend's state file, else None


@dataclass(frozen=True)
class StateBackendSpec:
    """Where an environment's state lives: a file, or a PostgreSQL schema reached through a DSN variable."""

    backend: Literal["file", "postgres"]
    path: Path | None = None
    dsn_env: str = DEFAULT_DSN_ENV
    schema: str = DEFAULT_SCHEMA

    def describe(self) -> str:
        if self.backend == "file":
            return f"file {_display(self.path) if self.path else '?'}"
        return f"postgres (DSN from ${self.dsn_env}, schema {self.schema})"

    def config_text(self, root: Path) -> str:
        """The ``state:`` line for campaign-sync.yaml that selects this backend."""
        if self.backend == "file":
            assert self.path is not None
            try:
                shown = str(self.path.relative_to(root))
            except ValueError:
                shown = str(self.path)
            return f"state: {{backend: file, path: {shown}}}"
        return f"state: {{backend: postgres, dsnEnv: {self.dsn_env}, schema: {self.schema}}}"


def backend_spec(settings: StateSettings | None, env_name: str, root: Path) -> StateBackendSpec:
    if settings is not None and settings.backend == "postgres":
        return StateBackendSpec(
            "postgres", dsn_env=settings.dsnEnv or DEFAULT_DSN_ENV, schema=settings.schema_ or DEFAULT_SCHEMA
        )
    path = Path(settings.path if settings and settings.path else f".campaign-sync/{env_name}.state.json")
    return StateBackendSpec("file", path=path if path.is_absolute() else root / path)


BACKEND_SPEC_HELP = (
    "file:PATH, or postgres:ENV_VAR[?schema=NAME] (ENV_VAR names the variable holding the DSN)"
)


def parse_backend_spec(text: str, root: Path) -> StateBackendSpec:
    """``file:PATH`` (relative to the repository root) or ``postgres:ENV_VAR[?schema=NAME]``.

    The DSN itself is never accepted on the command line (it would land in shell history and
    process listings, password included), and is never repeated in the error.
    """
    kind, sep, rest = text.partition(":")
    if (kind in {"postgres", "postgresql"} and rest.startswith("//")) or "://" in text or "=" in kind:
        raise ConfigError(
            "--to takes the name of an environment variable holding the DSN (postgres:ENV_VAR), never the "
            "DSN itself"
        )
    if not sep or not rest:
        raise ConfigError(f"--to must be {BACKEND_SPEC_HELP}")
    if kind == "file":
        path = Path(rest)
        return StateBackendSpec("file", path=path if path.is_absolute() else root / path)
    if kind in {"postgres", "pg"}:
        name, _, query = rest.partition("?")
        if not re.fullmatch(_ENV_NAME, name):
            raise ConfigError(f"--to postgres:{name}: not an environment variable name ({BACKEND_SPEC_HELP})")
        options = parse_qs(query, keep_blank_values=True, strict_parsing=False) if query else {}
        unknown = sorted(set(options) - {"schema"})
        if unknown:
            raise ConfigError(f"--to: unknown option {unknown[0]!r} (only schema=NAME)")
        schema = options.get("schema", [DEFAULT_SCHEMA])[-1]
        if not re.fullmatch(_SCHEMA_NAME, schema):
            raise ConfigError(f"--to: schema must match {_SCHEMA_NAME}, got {schema!r}")
        return StateBackendSpec("postgres", dsn_env=name, schema=schema)
    raise ConfigError(f"--to must be {BACKEND_SPEC_HELP}, not {kind}:...")


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
    return Config(settings, path, data)

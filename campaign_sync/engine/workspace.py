"""The workspace one command works on: config environment, manifests, state store, API client.

``Workspace`` loads lazily (the manifests are validated once, the client is built on first use)
and is closed by the CLI. ``validate`` is the offline check behind `campaign-sync validate`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.fields import Choice
from campaign_sync.core.normalize import FlowBook, undeclared_unshown
from campaign_sync.core.plan import Policy
from campaign_sync.errors import Issue, Location, ManifestError
from campaign_sync.manifests.config import Config, ResolvedEnvironment, StateBackendSpec
from campaign_sync.manifests.loader import PLACEHOLDER, DesiredState, load_desired
from campaign_sync.manifests.yamlsafe import field_path, line_of, load

if TYPE_CHECKING:
    from campaign_sync.kore import KoreClient
    from campaign_sync.redact import Redactor
    from campaign_sync.state import Identity, State, StateStore

Progress = Callable[[str], None]


def config_placeholders(env: ResolvedEnvironment) -> list[Issue]:
    """Config values `init` leaves for a person to fill in, each at its own line."""
    values = (("host", env.host), ("streamId", env.stream_id), ("accountId", env.account_id))
    return [
        Issue(
            Location(env.config.display_path, line_of(env.config.data, ("environments", env.name, name))),
            f"environments.{env.name}.{name}",
            f"still a placeholder ({value})",
        )
        for name, value in values
        if PLACEHOLDER in value
    ]


def placeholders(env: ResolvedEnvironment, desired: DesiredState) -> list[Issue]:
    """Values `init` and `export` leave for a person to fill in; plan and apply refuse them.

    Only files whose text holds a placeholder are looked at; each one is read again with its
    lines, so every placeholder points at the line of its own field.
    """
    found = config_placeholders(env)
    documents: dict[str, Any] = {}
    for item in desired.campaigns.values():
        rel = item.location.path
        if rel not in desired.marked:
            continue
        for parts, value in _strings(item.campaign.model_dump(exclude_unset=True)):
            if PLACEHOLDER in value:
                if rel not in documents:
                    documents[rel] = load(desired.marked[rel], rel)
                where = Location(rel, _field_line(documents[rel], item.key, parts, item.location.line))
                found.append(
                    Issue(where, f"{item.key}.{field_path(parts)}", f"still a placeholder ({value})")
                )
    return found


def _field_line(document: Any, key: str, parts: tuple[str | int, ...], fallback: int) -> int:
    """The line of field ``parts`` of campaign ``key`` in a loaded manifest (``fallback``: its own line)."""
    campaigns = document.get("campaigns") if isinstance(document, Mapping) else None
    for index, raw in enumerate(campaigns if isinstance(campaigns, list) else []):
        if isinstance(raw, Mapping) and raw.get("key") == key:
            line = line_of(document, ("campaigns", index, *parts))
            return line or fallback
    return fallback


def _strings(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], str]]:
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, Mapping):
        return [pair for key, value in node.items() for pair in _strings(value, (*path, key))]
    if isinstance(node, list):
        return [pair for index, value in enumerate(node) for pair in _strings(value, (*path, index))]
    return []


@dataclass(frozen=True)
class ValidationSummary:
    environments: tuple[str, ...]
    files: int
    counts: tuple[tuple[str, int], ...]  # campaigns per type, in registry order
    todo: tuple[Issue, ...] = ()
    advice: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()

    def line(self) -> str:
        envs = ", ".join(self.environments)
        total = sum(n for _type, n in self.counts)
        noun = "campaign" if total == 1 else "campaigns"
        files = "file" if self.files == 1 else "files"
        per_type = ", ".join(f"{n} {name}" for name, n in self.counts)
        return f"OK: {total} {noun} ({per_type}) in {self.files} manifest {files}; config valid for {envs}"


def advice(desired: DesiredState) -> list[Issue]:
    """Fields worth declaring: the API never shows them, so an update cannot carry their live value."""
    found = []
    for item in desired.campaigns.values():
        for row in undeclared_unshown(item.campaign):
            choices = f" ({' | '.join(row.value.choices)})" if isinstance(row.value, Choice) else ""
            found.append(
                Issue(
                    item.location,
                    f"{item.key}.{'.'.join(row.path)}",
                    "not declared, and the API never shows it: an update keeps its live value only if "
                    f"campaign-sync wrote it before; declare it{choices}",
                )
            )
    return found


def load_manifests(
    env: ResolvedEnvironment, cli_vars: Mapping[str, str], environ: Mapping[str, str]
) -> DesiredState:
    config = env.config
    return load_desired(config.root, config.settings.manifests, env.vars, cli_vars, environ, env.name)


def validate(
    config: Config, env_name: str | None, cli_vars: Mapping[str, str], environ: Mapping[str, str]
) -> ValidationSummary:
    """Offline check of the config and every manifest, for one environment or all of them."""
    names: Sequence[str]
    if env_name is None and len(config.settings.environments) > 1:
        names = sorted(config.settings.environments)
    else:
        names = [config.environment(env_name).name]
    issues: set[Issue] = set()
    todo: set[Issue] = set()
    recommended: set[Issue] = set()
    warnings: set[Issue] = set()
    desired: DesiredState | None = None
    for name in names:
        env = config.environment(name)
        try:
            desired = load_manifests(env, cli_vars, environ)
        except ManifestError as exc:
            issues.update(exc.issues)
            continue
        todo.update(placeholders(env, desired))
        recommended.update(advice(desired))
        warnings.update(desired.warnings)
    if issues or desired is None:
        raise ManifestError(sorted(issues))
    counts = tuple(
        (name, sum(1 for c in desired.campaigns.values() if c.campaign.campaignType == name))
        for name in REGISTRY.names()
    )
    return ValidationSummary(
        tuple(names),
        len(desired.files),
        counts,
        tuple(sorted(todo)),
        tuple(sorted(recommended)),
        tuple(sorted(warnings)),
    )


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Workspace:
    """One command's view of the workspace: environment, manifests, state store, API client."""

    config: Config
    env_name: str | None
    cli_vars: Mapping[str, str]
    environ: Mapping[str, str]
    redactor: Redactor
    progress: Progress = lambda _text: None
    transport: Any = None
    client_overrides: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    """The run's time budget in seconds (``--timeout``), counted from ``started``; None: no limit."""
    started: float = field(default_factory=time.monotonic)
    _client: KoreClient | None = None

    @cached_property
    def env(self) -> ResolvedEnvironment:
        return self.config.environment(self.env_name)

    @cached_property
    def manifests(self) -> DesiredState:
        """The manifests, valid, placeholders allowed (for export, which writes more of them)."""
        return load_manifests(self.env, self.cli_vars, self.environ)

    @cached_property
    def desired(self) -> DesiredState:
        """The manifests, valid and free of placeholders (checked before any request)."""
        desired = self.manifests
        todo = placeholders(self.env, desired)
        if todo:
            raise ManifestError(todo)
        return desired

    @cached_property
    def store(self) -> StateStore:
        """The environment's state, through its backend, checked against the environment's identity."""
        return self.store_for(self.env.state_backend)

    def store_for(self, spec: StateBackendSpec) -> StateStore:
        """A store of this environment's state in the backend ``spec`` names (``state migrate``)."""
        from campaign_sync.state import StateStore
        from campaign_sync.state.backends import open_backend

        backend = open_backend(spec, self.env.name, self.environ, self.redactor)
        return StateStore(backend, identity=self.identity)

    @property
    def identity(self) -> Identity:
        from campaign_sync.state import Identity

        env = self.env
        return Identity(environment=env.name, host=env.host, streamId=env.stream_id, accountId=env.account_id)

    def client(self) -> KoreClient:
        if self._client is None:
            from campaign_sync.kore import ClientSettings, Credentials, KoreClient
            from campaign_sync.kore.budget import RunBudget
            from campaign_sync.kore.notices import Notices

            creds = Credentials.from_environment(self.env.auth, self.environ, self.redactor)
            settings = ClientSettings.from_environment(self.env)
            if self.client_overrides:
                settings = dataclasses.replace(settings, **self.client_overrides)
            self._client = KoreClient(
                settings,
                creds,
                self.redactor,
                transport=self.transport,
                budget=RunBudget(self.timeout, started=self.started),
                notices=Notices(self.progress),
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if "store" in self.__dict__:
            self.store.close()

    def flows(self, state: State) -> FlowBook:
        """Name -> id pairings: the config's experienceFlows win over pairings learned in state."""
        return FlowBook.of(self.env.experience_flows, state.flows)

    def flow_warnings(self, state: State) -> tuple[str, ...]:
        """Config pairings the platform contradicted when campaign-sync last wrote the flow."""
        return tuple(
            f"experienceFlows in campaign-sync.yaml pairs {name!r} with {configured}, but the platform "
            f"resolved that name to {state.flows[name]} on the last apply; fix the config"
            for name, configured in sorted(self.env.experience_flows.items())
            if state.flows.get(name) not in (None, configured)
        )

    def policy(self) -> Policy:
        return Policy(max_change_fraction=self.env.max_change_fraction, rate_limit=self.env.rate_limit)

    def requests(self) -> dict[str, int]:
        return self._client.counter.by_method() if self._client is not None else {}

"""Orchestration only: load the workspace, refresh live state, plan, apply.

The pure core (normalize, diff, plan, drift, report) never sees a client, a path or a clock;
this module is where they meet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from campaign_sync.config import Config, ResolvedEnvironment
from campaign_sync.errors import Issue, ManifestError
from campaign_sync.manifest import DesiredState, load_desired


@dataclass(frozen=True)
class ValidationSummary:
    environments: tuple[str, ...]
    files: int
    sms: int
    voice: int

    def line(self) -> str:
        envs = ", ".join(self.environments)
        total = self.sms + self.voice
        noun = "campaign" if total == 1 else "campaigns"
        files = "file" if self.files == 1 else "files"
        return (
            f"OK: {total} {noun} ({self.sms} sms, {self.voice} voice) in {self.files} manifest {files}; "
            f"config valid for {envs}"
        )


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
    desired: DesiredState | None = None
    for name in names:
        try:
            desired = load_manifests(config.environment(name), cli_vars, environ)
        except ManifestError as exc:
            issues.update(exc.issues)
    if issues or desired is None:
        raise ManifestError(sorted(issues))
    sms = sum(1 for c in desired.campaigns.values() if c.campaign.campaignType == "sms")
    return ValidationSummary(tuple(names), len(desired.files), sms, len(desired.campaigns) - sms)

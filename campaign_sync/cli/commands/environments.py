"""``campaign-sync environments``: the environments of the config, for people and for CI matrices.

``--format json`` prints a JSON list of names (SPEC 3), sorted, on one line, so a workflow can
write it straight into ``$GITHUB_OUTPUT`` and expand it with ``fromJSON`` into a job matrix.
``--details`` adds what a workflow needs to know about each one without parsing the config
itself: the host and where its state is kept (a file path relative to the config's folder, or a
backend mapping such as ``{"backend": "postgres", "dsnEnv": ...}``: names of variables, never a
DSN). Offline: it reads only the config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from campaign_sync.cli.options import current, global_options

if TYPE_CHECKING:
    from campaign_sync.manifests.config import Config, ResolvedEnvironment


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--details",
    is_flag=True,
    help="With each name, the host and where its state is kept (JSON: one object per environment).",
)
@global_options
def environments(fmt: str, details: bool) -> None:
    """List the environments of the config (JSON: a list of names, ready for a CI matrix)."""
    opts = current()
    config = opts.load_config()
    names = sorted(config.settings.environments)
    if not details:
        if fmt == "json":
            opts.console.out(json.dumps(names))
        else:
            opts.console.out("\n".join(names))
        return
    rows = [describe(config, name) for name in names]
    if fmt == "json":
        opts.console.out(json.dumps(rows, sort_keys=True))
        return
    width = max(len(name) for name in names)
    for row in rows:
        opts.console.out(f"{row['name'].ljust(width)}  {row['host']}  state: {state_text(row['state'])}")


def describe(config: Config, name: str) -> dict[str, Any]:
    """One environment as ``--details`` shows it."""
    resolved = config.environment(name)
    return {"name": name, "host": resolved.host, "state": state_of(resolved)}


def state_of(resolved: ResolvedEnvironment) -> dict[str, Any]:
    """Where an environment's state is kept: ``{"backend": "file", "path": ...}``, or a backend's
    settings (the name of the variable holding a DSN, never the DSN)."""
    backend = resolved.state_backend
    if backend.path is None:
        return {"backend": str(backend.backend), "dsnEnv": backend.dsn_env, "schema": backend.schema}
    return {"backend": "file", "path": _relative(backend.path, resolved.config.root)}


def state_text(state: dict[str, Any]) -> str:
    if state["backend"] == "file":
        return f"file {state['path']}"
    rest = ", ".join(f"{k}={v}" for k, v in sorted(state.items()) if k != "backend")
    return f"{state['backend']} ({rest})" if rest else str(state["backend"])


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()

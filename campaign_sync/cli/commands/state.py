"""``campaign-sync state ...`` and ``force-unlock``: inspect, edit, copy and unlock an environment's state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from campaign_sync.cli.options import current, global_options, lock_timeout_option
from campaign_sync.cli.options import workspace as new_workspace

if TYPE_CHECKING:
    from campaign_sync import engine
    from campaign_sync.state import StateStore


@contextmanager
def _workspace() -> Iterator[engine.Workspace]:
    workspace = new_workspace(current())
    try:
        yield workspace
    finally:
        workspace.close()


@click.group("state")
@global_options
def state_group() -> None:
    """Inspect, edit, copy or list the history of the environment's state."""


@state_group.command("list")
@global_options
def state_list() -> None:
    """List managed campaigns: key, type, id, name."""
    opts = current()
    with _workspace() as workspace:
        state = workspace.store.load()
        location = workspace.store.location
    if not state.campaigns:
        opts.console.out(f"No campaigns in {location} (serial {state.serial}).")
        return
    from campaign_sync.sanitize import escape

    # One line per campaign: every value escaped whole (a newline in a name cannot start a line).
    rows = {escape(key): state.campaigns[key] for key in sorted(state.campaigns)}
    width = max(len(k) for k in rows)
    for key, record in rows.items():
        ctype, cid, name = escape(record.campaignType), escape(record.id), escape(record.name)
        opts.console.out(f"{key.ljust(width)}  {ctype:<5}  {cid}  {name}")


@state_group.command("show")
@click.argument("key")
@global_options
def state_show(key: str) -> None:
    """Show one campaign's record as JSON."""
    from campaign_sync.errors import StateError
    from campaign_sync.report import dumps

    opts = current()
    with _workspace() as workspace:
        state = workspace.store.load()
    record = state.campaigns.get(key)
    if record is None:
        raise StateError(f"no campaign {key!r} in the state (see `campaign-sync state list`)")
    opts.console.out(dumps({key: record.to_json()}), nl=False)


@state_group.command("rm")
@click.argument("keys", nargs=-1, required=True)
@lock_timeout_option
@global_options
def state_rm(keys: tuple[str, ...], lock_timeout: float) -> None:
    """Forget campaigns (nothing is deleted live; they become unmanaged)."""
    from campaign_sync import engine

    opts = current()
    with _workspace() as workspace:
        message = engine.forget(workspace, keys, lock_timeout=lock_timeout)
    opts.console.out(message)


@state_group.command("pull")
@click.option(
    "--serial", type=click.IntRange(0), default=None, help="An earlier serial (see `state history`)."
)
@global_options
def state_pull(serial: int | None) -> None:
    """Print the stored state exactly as it is kept (JSON), or an earlier serial of it."""
    from campaign_sync.errors import StateError

    opts = current()
    with _workspace() as workspace:
        store = workspace.store
        if serial is None:
            store.load()  # the rules first: identity, format, not older than last written
            raw = store.backend.read()
            if raw is None:
                raise StateError(f"{store.location} holds no state yet")
        else:
            raw = store.backend.read_serial(serial)
            if raw is None:
                kept = "its history" if store.backend.keeps_history else "the state or its backup"
                raise StateError(f"serial {serial} is not in {kept} ({store.location})")
            store.decode(raw)
    opts.console.out(raw.decode("utf-8-sig"), nl=False)


@state_group.command("history")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@global_options
def state_history(fmt: str) -> None:
    """List the stored serials of the state (backends that keep history; postgres keeps every one)."""
    import json

    opts = current()
    with _workspace() as workspace:
        store = workspace.store
        state = store.load()
        current_serial = state.serial if store.exists() else None
        entries = list(store.history())
        keeps = store.backend.keeps_history
        location = store.location
        backup = _backup_serial(store) if not keeps else None
    if fmt == "json":
        payload = {
            "environment": workspace.env.name,
            "backend": store.kind,
            "keepsHistory": keeps,
            "current": current_serial,
            "serials": [e.to_json() for e in entries],
        }
        if not keeps:
            payload["backup"] = backup
        opts.console.out(json.dumps(payload, indent=2, sort_keys=True))
        return
    if not keeps:
        now = f"serial {current_serial}" if current_serial is not None else "no state yet"
        kept = f"; {store.backup_path.name} holds serial {backup}" if backup is not None else ""
        opts.console.out(
            f"The file backend keeps no history beyond its .backup copy: {location} is at {now}{kept}. "
            "The postgres backend keeps every serial (see `campaign-sync state migrate`)."
        )
        return
    if not entries:
        opts.console.out(f"No serials stored yet in {location}.")
        return
    opts.console.out(f"Serials of {location}:")
    width = max(len(str(e.serial)) for e in entries)
    for entry in entries:
        mark = "  (current)" if entry.serial == current_serial and entry.lineage == state.lineage else ""
        opts.console.out(
            f"  {str(entry.serial).rjust(width)}  {entry.written_at}  {entry.size:>8} bytes  "
            f"lineage {entry.lineage}  by {entry.written_by}{mark}"
        )


def _backup_serial(store: StateStore) -> int | None:
    from campaign_sync.errors import StateError

    try:
        raw = store.backup_path.read_bytes()
        return store.decode(raw).serial
    except (OSError, StateError):
        return None


@state_group.command("migrate")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="BACKEND_SPEC",
    help="file:PATH, or postgres:ENV_VAR[?schema=NAME] (ENV_VAR holds the DSN, never typed here).",
)
@lock_timeout_option
@global_options
def state_migrate(to: str, lock_timeout: float) -> None:
    """Copy the state to another backend under both locks, keeping lineage and serial (byte for byte)."""
    from campaign_sync.manifests.config import parse_backend_spec
    from campaign_sync.state.migrate import migrate

    opts = current()
    with _workspace() as workspace:
        spec = parse_backend_spec(to, workspace.config.root)
        source = workspace.store
        target = workspace.store_for(spec)
        try:
            done = migrate(source, target, lock_timeout=lock_timeout, forbidden=workspace.redactor.secrets())
        finally:
            target.close()
        source_where, target_where = source.location, target.location
        snippet = spec.config_text(workspace.config.root)
        env_name = workspace.env.name
    if done.already_there:
        opts.console.out(
            f"{target_where} already holds serial {done.serial} (lineage {done.lineage}): nothing to copy."
        )
    else:
        opts.console.out(
            f"Copied serial {done.serial} (lineage {done.lineage}, {done.size} bytes) from {source_where} "
            f"to {target_where}."
        )
    opts.console.out(
        f"To use it, set this for environment {env_name} in campaign-sync.yaml:\n    {snippet}\n"
        f"The state in {source_where} was left as it was; remove it once the config points at the "
        "new backend."
    )


@click.command("force-unlock")
@click.option(
    "--terminate",
    is_flag=True,
    help="postgres: end a live holder's database sessions (it then fails at its next state write).",
)
@global_options
def force_unlock(terminate: bool) -> None:
    """Remove a stale state lock (refused while its holder is alive, unless --terminate on postgres)."""
    opts = current()
    out: Callable[[str], None] = opts.console.out
    with _workspace() as workspace:
        store = workspace.store
        info = store.lock_info()
        if info is None:
            out(f"No lock on {store.location}.")
            return
        out(f"Removing lock: {info.describe()}")
        store.force_unlock(terminate=terminate)
    out("Lock removed.")

"""What every command shares: global options (before or after the command name), the run's
console and redactor, and the engine workspace. Kept apart from ``cli.py`` so command modules can
use it without importing each other; it imports only click at module level.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from campaign_sync import engine
    from campaign_sync.cli.console import Console
    from campaign_sync.manifests.config import Config
    from campaign_sync.redact import Redactor

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Options:
    """Global options, merged from before and after the command name (later wins)."""

    config: str | None = None
    env: str | None = None
    no_color: bool = False
    verbose: int = 0
    quiet: bool = False
    timeout: float | None = None
    vars: dict[str, str] = field(default_factory=dict)
    _console: Console | None = None
    _redactor: Redactor | None = None

    @property
    def redactor(self) -> Redactor:
        if self._redactor is None:
            from campaign_sync.redact import Redactor

            self._redactor = Redactor()
        return self._redactor

    @property
    def console(self) -> Console:
        if self._console is None:
            from campaign_sync.cli.console import Console

            self._console = Console(
                self.redactor,
                color=False if self.no_color else None,
                verbosity=self.verbose,
                quiet=self.quiet,
            )
            self._console.setup_logging()
        return self._console

    @property
    def run_timeout(self) -> float | None:
        """The run's time budget in seconds: ``--timeout``, else the default; None for ``--timeout 0``."""
        if self.timeout is None:
            from campaign_sync.kore.budget import DEFAULT_TIMEOUT

            return DEFAULT_TIMEOUT
        return self.timeout or None

    def load_config(self) -> Config:
        from campaign_sync.manifests.config import load_config

        return load_config(self.config)


def _set(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        opts = ctx.ensure_object(Options)
        if name == "verbose":
            opts.verbose += value
        elif name == "vars":
            for item in value:
                key, sep, val = item.partition("=")
                if not sep or not key.strip():
                    raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", ctx=ctx)
                opts.vars[key.strip()] = val
        elif name in {"no_color", "quiet"}:
            if value:
                setattr(opts, name, True)
        elif value is not None:
            setattr(opts, name, value)
        return value

    return callback


def _complete_environment(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of ``-e``: the environment names of the config (``--config`` or found
    upward). Completion never fails loudly: a config that cannot be read completes nothing."""
    from click.shell_completion import CompletionItem

    opts = ctx.find_object(Options)
    try:
        from campaign_sync.manifests.config import load_config

        names = sorted(load_config(opts.config if opts else None).settings.environments)
    except Exception:  # noqa: BLE001 - a broken config must not break the user's shell
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def global_options(func: F) -> F:
    """--config, -e/--env, --var, --no-color, -v, -q, --timeout: defined once, stacked on every command."""
    decorators = [
        click.option(
            "--config",
            "config",
            metavar="PATH",
            expose_value=False,
            callback=_set("config"),
            help="Path to campaign-sync.yaml (default: search upward from the current directory).",
        ),
        click.option(
            "-e",
            "--env",
            "env",
            metavar="NAME",
            expose_value=False,
            callback=_set("env"),
            shell_complete=_complete_environment,
            help="Environment from the config (default: the only one).",
        ),
        click.option(
            "--var",
            "vars",
            metavar="KEY=VALUE",
            multiple=True,
            expose_value=False,
            callback=_set("vars"),
            help="Template variable for *.j2 manifests (repeatable).",
        ),
        click.option(
            "--no-color",
            "no_color",
            is_flag=True,
            expose_value=False,
            callback=_set("no_color"),
            help="Never colour the output.",
        ),
        click.option(
            "-v",
            "--verbose",
            "verbose",
            count=True,
            expose_value=False,
            callback=_set("verbose"),
            help="More detail on stderr (-vv for debug); tracebacks for unexpected errors.",
        ),
        click.option(
            "-q",
            "--quiet",
            "quiet",
            is_flag=True,
            expose_value=False,
            callback=_set("quiet"),
            help="Only the report and errors; no progress.",
        ),
        click.option(
            "--timeout",
            "timeout",
            type=click.FloatRange(min=0),
            metavar="SECONDS",
            expose_value=False,
            callback=_set("timeout"),
            help="Time budget for the whole run's API work (default 7200; 0 = none). "
            "When it would run out the run stops and says what was done.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def current() -> Options:
    return click.get_current_context().ensure_object(Options)


def environ() -> Mapping[str, str]:
    return dict(os.environ)


def workspace(opts: Options) -> engine.Workspace:
    from campaign_sync import engine, heap

    console = opts.console
    made = engine.Workspace(
        config=opts.load_config(),
        env_name=opts.env,
        cli_vars=opts.vars,
        environ=environ(),
        redactor=opts.redactor,
        progress=console.progress,
        timeout=opts.run_timeout,
    )
    heap.keep(made)  # its manifests live to the process's end (``heap``)
    return made


def report_requests(opts: Options, workspace: engine.Workspace) -> None:
    counts = workspace.requests()
    if counts:
        total = sum(counts.values())
        detail = ", ".join(f"{method} {n}" for method, n in sorted(counts.items()))
        opts.console.progress(f"API requests: {total} ({detail})")


def targeting_notice(targets: tuple[str, ...], keys: set[str], consequence: str) -> str:
    """Terraform's warning for ``--target``: how few campaigns were considered, and what that means.

    ``keys`` are every campaign key the run could consider (the manifests' and the state's).
    """
    considered = len(set(targets))
    total = len(keys | set(targets))
    return (
        f"Targeting is in effect: only {considered} of {total} campaign{'s' if total != 1 else ''} "
        f"{'was' if considered == 1 else 'were'} considered; {consequence}"
    )


PLAN_TARGETED = (
    "the plan may be incomplete: changes to the other campaigns are not shown. Use --target for "
    "exceptional cases, then run `campaign-sync plan` without it."
)
APPLY_TARGETED = (
    "changes to the other campaigns are not applied; run `campaign-sync plan` without --target to "
    "see what is left."
)
DRIFT_TARGETED = "drift of the other campaigns is not reported."


target_option = click.option(
    "--target",
    "targets",
    metavar="KEY",
    multiple=True,
    help="Only this campaign key (repeatable); narrows the refresh too.",
)


lock_timeout_option = click.option(
    "--lock-timeout",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for another run holding the state lock.",
)

refresh_option = click.option(
    "--refresh",
    type=click.Choice(["incremental", "full"]),
    default="incremental",
    show_default=True,
    help="full reads every managed campaign instead of trusting unchanged updatedAt values.",
)

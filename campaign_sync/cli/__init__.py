"""The ``campaign-sync`` command. Click commands only; the one place errors become exit codes.

Global options are accepted before the command name and after it. Heavy modules (pydantic
models, httpx, deepdiff, Jinja2) are imported inside the commands so ``--help`` and
``--version`` answer fast.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Collection
from types import FrameType
from typing import Any, NoReturn

import click

from campaign_sync import __version__, heap
from campaign_sync.cli.options import (
    APPLY_TARGETED,
    PLAN_TARGETED,
    Options,
    current,
    environ,
    global_options,
    lock_timeout_option,
    refresh_option,
    report_requests,
    target_option,
    targeting_notice,
)
from campaign_sync.cli.options import (
    workspace as new_workspace,
)
from campaign_sync.errors import CampaignSyncError, ExitCode, Interrupted


class _Group(click.Group):
    """The top-level group: maps every failure to a message and an exit code."""

    def main(  # type: ignore[override]
        self, args: list[str] | None = None, prog_name: str | None = None, **_extra: Any
    ) -> NoReturn:
        instruction = os.environ.get(COMPLETE_VAR)
        if instruction:  # the shell asks for completions (or their script): click's own machinery
            from click.shell_completion import shell_complete

            sys.exit(shell_complete(self, {}, "campaign-sync", COMPLETE_VAR, instruction))
        gc.set_threshold(*heap.THRESHOLDS)  # a run keeps a few million objects to its end (``heap``)
        code = _run(self, list(sys.argv[1:] if args is None else args))
        try:
            sys.stdout.flush()  # output still buffered must meet a closed pipe here, not at exit
        except BrokenPipeError:
            code = _reader_gone()
        sys.exit(code)


#: Shell completion: `eval "$(_CAMPAIGN_SYNC_COMPLETE=bash_source campaign-sync)"` (zsh_source, fish_source).
COMPLETE_VAR = "_CAMPAIGN_SYNC_COMPLETE"

#: Exit code when stdout's reader went away (`campaign-sync state list | head -1`): 128 + SIGPIPE,
#: what a shell reports for a command killed by SIGPIPE, so `set -o pipefail` sees it as such.
READER_GONE = 141


def _reader_gone() -> int:
    """stdout's reader is gone: stop quietly (Python's recipe: point stdout at devnull so the
    interpreter's last flush at exit cannot raise again), no message, no traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor behind stdout: nothing left to flush
        pass
    return READER_GONE


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="campaign-sync")
@global_options
def cli() -> None:
    """Kore.ai Contact Center AI campaigns as code.

    Desired campaigns live in YAML manifests; `plan` shows how live differs, `apply` makes
    live match with the fewest writes, `drift` reports changes made outside Git.

    \b
    Exit codes: 0 success, 1 error, 2 changes/drift (plan --detailed-exitcode, drift),
    130 interrupted, 141 the reader of stdout went away (a closed pipe).
    """


@cli.command()
@global_options
def validate() -> None:
    """Check the config and every manifest offline (no network). Exit 0 valid, 1 invalid."""
    from campaign_sync import engine

    opts = current()
    config = opts.load_config()
    summary = engine.validate(config, opts.env, opts.vars, environ())
    opts.console.out(summary.line())
    for issue in summary.todo:
        opts.console.err(f"warning: {issue}; fill it in before `campaign-sync plan`")
    for issue in summary.warnings:
        opts.console.err(f"warning: {issue}")
    for issue in summary.advice:
        opts.console.err(f"warning: {issue}")


@cli.command()
@global_options
def schema() -> None:
    """Print the JSON Schema of a manifest file (for editor autocompletion)."""
    import json

    from campaign_sync.manifests.schema import manifest_schema

    current().console.out(json.dumps(manifest_schema(), indent=2, sort_keys=True))


@cli.command()
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Save the plan for `apply PLANFILE`.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 without changes, 2 with changes, 1 on error.")
@target_option
@refresh_option
@global_options
def plan(out: str | None, fmt: str, detailed_exitcode: bool, targets: tuple[str, ...], refresh: str) -> None:
    """Show how live campaigns differ from the manifests (read-only)."""
    from pathlib import Path

    from campaign_sync import engine
    from campaign_sync.report import render_plan

    opts = current()
    workspace = new_workspace(opts)
    try:
        run = engine.plan(workspace, targets=targets, full=refresh == "full")
        notice = None
        if targets:
            keys = {*workspace.desired.campaigns, *run.state.campaigns}
            notice = targeting_notice(targets, keys, PLAN_TARGETED)
            opts.console.err(f"Warning: {notice}")
        rendered = render_plan(run.plan, fmt, opts.console.style, joiner=opts.console.joiner, notice=notice)
        opts.console.out(rendered, nl=False)
        if out:
            engine.save_plan(workspace, run, Path(out))
            opts.console.progress(f"Saved the plan to {out}; apply it with: campaign-sync apply {out}")
    finally:
        report_requests(opts, workspace)
        workspace.close()
    if detailed_exitcode and run.plan.has_changes:
        raise click.exceptions.Exit(ExitCode.CHANGES)


def _digest_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    import re

    if value is None:
        return None
    digest = value.strip().lower()
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise click.BadParameter("expected sha256: and 64 hex digits, as `campaign-sync plan` prints it")
    return digest


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-delete", is_flag=True, help="Delete campaigns whose keys left the manifests.")
@click.option("--force", is_flag=True, help="Apply even when more than maxChangeFraction would change.")
@click.option(
    "--expect-digest",
    "expect_digest",
    metavar="sha256:HEX",
    callback=_digest_option,
    help="Apply only if the plan computed now has this digest (the one a person approved).",
)
@click.option(
    "--write-unverified",
    is_flag=True,
    help="Write experience flows whose live id has no known name, once, to learn the pairing.",
)
@target_option
@refresh_option
@lock_timeout_option
@global_options
def apply(
    planfile: str | None,
    auto_approve: bool,
    allow_delete: bool,
    force: bool,
    expect_digest: str | None,
    write_unverified: bool,
    targets: tuple[str, ...],
    refresh: str,
    lock_timeout: float,
) -> None:
    """Make live campaigns match the manifests, as approved.

    \b
    The plan is always computed afresh. It is approved by 'yes' on a terminal, --auto-approve,
    a saved PLANFILE (applied only if the plan now is the same, digest for digest), or
    --expect-digest (applied only if the plan now has that digest).
    """
    from pathlib import Path

    from campaign_sync import engine
    from campaign_sync.engine.writes import results_table
    from campaign_sync.errors import ApplyFailed, BudgetExceeded, Interrupted
    from campaign_sync.report import render_plan

    opts = current()
    console = opts.console
    if planfile and targets:
        raise click.UsageError("--target narrows a new plan; a saved PLANFILE is applied exactly as saved")
    if planfile and write_unverified:
        raise click.UsageError(
            "--write-unverified changes what a new plan writes; a saved PLANFILE is applied exactly as "
            "saved. Run `campaign-sync apply --write-unverified` without PLANFILE"
        )
    interactive = sys.stdin.isatty()  # the question goes to stderr, so stdout may be piped
    if not planfile and not expect_digest and not auto_approve and not interactive:
        raise click.ClickException(  # not a usage mistake: no usage block, one clear message
            "apply needs approval: run it in a terminal, pass --auto-approve or --expect-digest "
            "sha256:HEX (the digest of the plan you approved), or apply a saved plan "
            "(`campaign-sync plan --out plan.json` then `campaign-sync apply plan.json`)"
        )

    def show(plan: Any, in_effect: tuple[str, ...], state_keys: Collection[str]) -> None:
        notice = None
        if in_effect:  # a saved plan's targets, or --target
            notice = targeting_notice(in_effect, {*workspace.desired.campaigns, *state_keys}, APPLY_TARGETED)
            console.err(f"Warning: {notice}")
        console.out(render_plan(plan, "text", console.style, notice=notice), nl=False)

    def approve(_plan: Any) -> bool:
        if auto_approve:
            return True
        answer = click.prompt(
            "Apply these changes? Only 'yes' is accepted", default="", show_default=False, err=True
        )
        return bool(answer.strip() == "yes")

    workspace = new_workspace(opts)
    try:
        outcome = engine.apply(
            workspace,
            planfile_path=Path(planfile) if planfile else None,
            expect_digest=expect_digest,
            targets=targets,
            allow_delete=allow_delete,
            force=force,
            write_unverified=write_unverified,
            full=refresh == "full",
            lock_timeout=lock_timeout,
            approve=approve,
            show=show,
        )
    except BudgetExceeded as exc:  # before the first write: the execute loop handles it after that
        raise BudgetExceeded(
            f"{exc.detail}; nothing was applied", method=exc.method, path=exc.path, status=exc.status
        ) from None
    finally:
        report_requests(opts, workspace)
        workspace.close()
    if outcome.cancelled:
        console.err("Apply cancelled; nothing was changed.")
        raise click.exceptions.Exit(ExitCode.ERROR)
    result = outcome.result
    if result is None or not result.outcomes:
        console.out("Apply complete: no changes were needed.")
        return
    console.out("")
    console.out(results_table(result), nl=False)
    counts = result.counts()
    if result.stopped:
        raise ApplyFailed(result.stop_summary())
    if result.interrupted:
        raise Interrupted(
            f"{counts['applied']} change(s) applied and recorded, {counts['skipped']} skipped; "
            "run `campaign-sync plan` to see what is left"
        )
    if result.failed:
        raise ApplyFailed(_failed_summary(len(result.failed), len(result.outcomes)))


@cli.command("import")
@click.argument("key")
@click.argument("campaign_id")
@lock_timeout_option
@global_options
def import_(key: str, campaign_id: str, lock_timeout: float) -> None:
    """Adopt the live campaign CAMPAIGN_ID into state under manifest KEY (nothing is written live)."""
    from campaign_sync import engine

    opts = current()
    workspace = new_workspace(opts)
    try:
        message = engine.import_campaign(workspace, key, campaign_id, lock_timeout=lock_timeout)
    finally:
        workspace.close()
    opts.console.out(message)


def _failed_summary(failed: int, total: int) -> str:
    if failed == total:
        head = "the change failed" if total == 1 else f"all {total} changes failed"
    else:
        head = f"{failed} of {total} changes failed; the others were applied and recorded"
    return f"{head}. Fix the cause and run apply again: the next plan shows exactly what is left."


def _run(group: click.Group, args: list[str]) -> int:
    holder: list[Options] = []

    def say(message: str) -> None:
        if holder:
            holder[0].console.err(message)
        else:
            click.echo(message, err=True)

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminated)  # SIGTERM ends like Ctrl-C: exit 130
    try:
        with group.make_context("campaign-sync", args) as ctx:
            holder.append(ctx.ensure_object(Options))
            group.invoke(ctx)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except BrokenPipeError:
        return _reader_gone()
    except click.exceptions.Abort:
        say("Aborted.")
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        exc.show()  # usage errors exit 1, never 2: 2 means "changes" to CI
        return ExitCode.ERROR
    except CampaignSyncError as exc:
        say(f"Error: {exc}")
        return exc.exit_code
    except (Interrupted, KeyboardInterrupt) as exc:
        say(f"Interrupted: {exc}" if str(exc) else "Interrupted.")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one broad catch: unexpected errors
        if holder and holder[0].verbose:
            say("".join(traceback.format_exception(exc)).rstrip())
        else:
            say(f"Error: unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)")
        return ExitCode.ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return ExitCode.OK


def _terminated(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt("terminated (SIGTERM)")


def main() -> NoReturn:
    """Console-script entry point: the command, then the process ends without tearing down its heap.

    A large run leaves a few million objects alive to its end; freeing them one by one, and the
    interpreter's last collection over them, took 0.15-0.5 s after a 10,000-campaign plan had
    printed everything. By then every command has released its lock, closed its clients and
    written its files (all in ``with`` blocks), so the process ends at once: the exit handlers
    run (``atexit``: logging's flush among them), output is flushed, then ``os._exit`` with the
    command's exit code. In-process callers (``cli.main``, click's test runner) never come here.
    """
    heap.keep_long_lived()  # this process ends with the command: what it loads can be frozen
    try:
        cli.main()
    except SystemExit as done:
        code = _exit_status(done.code)
    else:  # cli.main always raises SystemExit
        code = ExitCode.OK
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython's; what exiting runs first
    if callable(run_exit_handlers):
        run_exit_handlers()
    else:  # another interpreter: at least what logging would flush
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: what is lost is lost either way
            stream.flush()
    os._exit(code)


def _exit_status(code: object) -> int:
    """The process status ``sys.exit(code)`` would give (None is 0; text is printed, then 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(OSError, ValueError):
        print(code, file=sys.stderr)
    return 1


# Commands defined in their own modules register here.
from campaign_sync.cli.commands.drift import drift  # noqa: E402

cli.add_command(drift)
from campaign_sync.cli.commands.environments import environments  # noqa: E402

cli.add_command(environments)
from campaign_sync.cli.commands.emulator import emulator  # noqa: E402
from campaign_sync.cli.commands.export import export  # noqa: E402
from campaign_sync.cli.commands.init import init  # noqa: E402

cli.add_command(emulator)
cli.add_command(export)
cli.add_command(init)
from campaign_sync.cli.commands.refresh import refresh_command  # noqa: E402
from campaign_sync.cli.commands.state import force_unlock, state_group  # noqa: E402

cli.add_command(refresh_command)
cli.add_command(state_group)
cli.add_command(force_unlock)

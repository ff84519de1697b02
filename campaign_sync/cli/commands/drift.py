"""``campaign-sync drift``: what changed outside Git since the last apply (read-only).

Exit 0 when nothing is changed, missing or pending; 2 when anything is (unmanaged campaigns are
listed but are not drift); 1 on error. With ``--output FILE`` the report goes to the file and a
one-line summary to stdout, so a scheduled job can keep the HTML or JUnit file as an artifact and
still log what it found. Heavy modules are imported inside the command so ``--help`` stays fast.
"""

from __future__ import annotations

import click

from campaign_sync.cli.options import current, global_options, refresh_option, report_requests, target_option
from campaign_sync.cli.options import workspace as new_workspace
from campaign_sync.errors import ExitCode, OutputError

FORMATS = ("text", "json", "markdown", "html", "junit")


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the report to FILE; stdout gets a one-line summary.",
)
@target_option
@refresh_option
@global_options
def drift(fmt: str, output: str | None, targets: tuple[str, ...], refresh: str) -> None:
    """Report changes made outside Git: live vs. what was last applied, and unapplied manifest changes.

    \b
    changed    live differs from what campaign-sync last applied (field, applied, live)
    missing    deleted live outside campaign-sync
    pending    manifest changes not applied yet (field, applied, manifest)
    unmanaged  live campaigns not in the state (listed, not drift)

    Read-only: no API writes, no state writes. Exit 0 no drift, 2 drift, 1 error.
    """
    from pathlib import Path

    from campaign_sync import engine
    from campaign_sync.files import write_atomic
    from campaign_sync.report import render_drift

    opts = current()
    workspace = new_workspace(opts)
    try:
        run = engine.drift(workspace, targets=targets, full=refresh == "full")
    finally:
        report_requests(opts, workspace)
        workspace.close()
    result = run.drift
    style = opts.console.style if fmt == "text" and not output else None
    text = render_drift(result, fmt, style)
    if output:
        try:
            write_atomic(Path(output), opts.redactor.scrub(text))
        except OSError as exc:
            raise OutputError(f"cannot write the drift report to {output}: {exc.strerror}") from None
        opts.console.out(result.summary.line())
        opts.console.progress(f"Wrote the {fmt} drift report to {output}")
    else:
        opts.console.out(text, nl=False)
    if result.has_drift:
        raise click.exceptions.Exit(ExitCode.CHANGES)

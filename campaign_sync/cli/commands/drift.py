"""``campaign-sync drift``: what changed outside Git since the last apply (read-only).

Exit 0 when nothing is changed, missing or pending; 2 when anything is (unmanaged campaigns are
listed but are not drift); 1 on error. With ``--output FILE`` the report goes to the file and a
one-line summary to stdout, so a scheduled job can keep the HTML or JUnit file as an artifact and
still log what it found. With ``--output-dir DIR`` one read of live produces every format at
once (``OUTPUT_FILES``), so the reports of one run can never disagree; stdout still gets the
text report (``--format`` picks another, ``-q`` only the summary line). Reports are written
atomically and owner-only (0600). Heavy modules are imported inside the command so ``--help``
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from campaign_sync.cli.options import (
    DRIFT_TARGETED,
    current,
    global_options,
    refresh_option,
    report_requests,
    target_option,
    targeting_notice,
)
from campaign_sync.cli.options import workspace as new_workspace
from campaign_sync.errors import ExitCode, OutputError

if TYPE_CHECKING:
    from campaign_sync.redact import Redactor

FORMATS = ("text", "json", "markdown", "html", "junit")
#: What ``--output-dir`` writes: one file per format, from one read of live.
OUTPUT_FILES = {
    "json": "drift.json",
    "markdown": "drift.md",
    "html": "drift.html",
    "junit": "drift.junit.xml",
    "text": "drift.txt",
}
#: Reports may name campaigns and show their content: owner read/write only, like state and plans.
REPORT_MODE = 0o600


def _write(path: Path, text: str, redactor: Redactor) -> None:
    from campaign_sync.files import write_atomic

    try:
        write_atomic(path, redactor.scrub(text), mode=REPORT_MODE)
    except OSError as exc:
        raise OutputError(f"cannot write the drift report to {path}: {exc.strerror}") from None


def write_reports(directory: Path, reports: dict[str, str], redactor: Redactor) -> list[Path]:
    """Every format into ``directory`` (created if missing), each file whole or not at all."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the report folder {directory}: {exc.strerror}") from None
    written: list[Path] = []
    for fmt, name in OUTPUT_FILES.items():
        try:
            _write(directory / name, reports[fmt], redactor)
        except OutputError as exc:
            done = f"; written before it: {', '.join(p.name for p in written)}" if written else ""
            raise OutputError(f"{exc}{done}") from None
        written.append(directory / name)
    return written


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Report format on stdout (or in --output FILE)  [default: text]",
)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the report to FILE; stdout gets a one-line summary.",
)
@click.option(
    "--output-dir",
    "output_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write every format from one read of live: DIR/drift.json, drift.md, drift.html, "
    "drift.junit.xml, drift.txt.",
)
@target_option
@refresh_option
@global_options
def drift(
    fmt: str | None, output: str | None, output_dir: str | None, targets: tuple[str, ...], refresh: str
) -> None:
    """Report changes made outside Git: live vs. what was last applied, and unapplied manifest changes.

    \b
    changed    live differs from what campaign-sync last applied (field, applied, live)
    missing    deleted live outside campaign-sync
    pending    manifest changes not applied yet (field, applied, manifest)
    unmanaged  live campaigns not in the state (listed, not drift)

    Read-only: no API writes, no state writes. Exit 0 no drift, 2 drift, 1 error.
    """
    from campaign_sync import engine
    from campaign_sync.report import render_drift

    if output and output_dir:
        raise click.UsageError("use --output FILE or --output-dir DIR, not both")
    opts = current()
    workspace = new_workspace(opts)
    try:
        run = engine.drift(workspace, targets=targets, full=refresh == "full")
        if targets:
            keys = {*workspace.desired.campaigns, *workspace.store.load().campaigns}
            opts.console.err(f"Warning: {targeting_notice(targets, keys, DRIFT_TARGETED)}")
    finally:
        report_requests(opts, workspace)
        workspace.close()
    result = run.drift
    shown = fmt or "text"
    if output_dir:
        reports = {name: render_drift(result, name) for name in OUTPUT_FILES}
        written = write_reports(Path(output_dir), reports, opts.redactor)
        if opts.quiet and fmt is None:
            opts.console.out(result.summary.line())
        elif shown == "text":
            opts.console.out(render_drift(result, "text", opts.console.style), nl=False)
        else:  # rendered again for the console, which spells the Markdown's own joiners
            opts.console.out(render_drift(result, shown, joiner=opts.console.joiner), nl=False)
        opts.console.progress(
            f"Wrote {len(written)} drift reports to {output_dir}: " + ", ".join(p.name for p in written)
        )
    elif output:
        _write(Path(output), render_drift(result, shown), opts.redactor)
        opts.console.out(result.summary.line())
        opts.console.progress(f"Wrote the {shown} drift report to {output}")
    else:
        style = opts.console.style if shown == "text" else None
        opts.console.out(render_drift(result, shown, style, joiner=opts.console.joiner), nl=False)
    if result.has_drift:
        raise click.exceptions.Exit(ExitCode.CHANGES)

"""``campaign-sync refresh``: record adoptions and cache live documents in the state, read-only.

The bootstrap of a large account. Without state, every plan reads every matched campaign (a GET
each: about 17 minutes for 1,000 campaigns at 60 requests a minute), and PR plans never save
state. One ``refresh`` ties each manifest campaign to the live campaign of the same name and
caches every managed document with its ``updatedAt``; later plans then cost only list calls.
Nothing is written live; the state is saved once, at the end (an interrupted run records
nothing and can simply be run again).
"""

from __future__ import annotations

import click

from campaign_sync.cli.options import (
    current,
    global_options,
    lock_timeout_option,
    refresh_option,
    report_requests,
    target_option,
)
from campaign_sync.cli.options import workspace as new_workspace


@click.command("refresh")
@target_option
@refresh_option
@lock_timeout_option
@global_options
def refresh_command(targets: tuple[str, ...], refresh: str, lock_timeout: float) -> None:
    """Record adoptions and cache live documents in the state, so later plans need only list calls.

    \b
    Read-only to the API (list calls, plus a GET of each campaign not cached yet or changed
    live). Run it once before the first pull request on a large account. Campaigns a plan
    would create are never recorded; nothing is applied.
    """
    from campaign_sync import engine

    opts = current()
    workspace = new_workspace(opts)
    try:
        run = engine.refresh_state(
            workspace, targets=targets, full=refresh == "full", lock_timeout=lock_timeout
        )
    finally:
        report_requests(opts, workspace)
        workspace.close()
    where = f"state serial {run.serial}" if run.saved else f"state unchanged at serial {run.serial}"
    opts.console.out(
        f"Refresh: adopted {len(run.adopted)}, cached {run.cached}, unmanaged {run.unmanaged} "
        f"({run.current} already cached and current; {where})."
    )
    if run.pending:
        opts.console.out(
            f"{run.pending} change{'s' if run.pending != 1 else ''} not applied: "
            "run `campaign-sync plan` to see them."
        )

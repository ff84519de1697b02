"""``campaign-sync export``: write manifests for live campaigns.

The engine reads and renders (``engine.export``, ``export.py``); this module only checks the
output folder and writes. It refuses before writing anything when any target file exists
(without ``--force``), naming every one, so a half-written export never happens. Each file is
written to a temporary name and renamed into place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from campaign_sync.cli.options import current, global_options, report_requests
from campaign_sync.cli.options import workspace as new_workspace

if TYPE_CHECKING:
    from pathlib import Path

    from campaign_sync.engine import ExportRun, Workspace


class CampaignTypeChoice(click.ParamType[str]):
    """A campaign type of the registry, looked up when used (so ``--help`` stays fast)."""

    name = "type"

    def _names(self) -> tuple[str, ...]:
        from campaign_sync.core.campaign_types import REGISTRY

        return REGISTRY.names()

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(self._names()) + "]"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not isinstance(value, str) or value not in self._names():
            self.fail(f"{value!r} is not one of {', '.join(self._names())}", param, ctx)
        return value


@click.command()
@click.option(
    "--output-dir",
    "output_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the manifests (default: manifests/exported next to campaign-sync.yaml).",
)
@click.option("--type", "campaign_type", type=CampaignTypeChoice(), help="Only this campaign type.")
@click.option("--name-regex", metavar="RE", help="Only campaigns whose name matches (Python re.search).")
@click.option(
    "--layout",
    type=click.Choice(["per-campaign", "per-type"]),
    default="per-campaign",
    show_default=True,
    help="One file per campaign (<key>.yaml), or sms.yaml and voice.yaml.",
)
@click.option(
    "--include-managed",
    is_flag=True,
    help="Also export campaigns the manifests already declare (for a copy kept elsewhere).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@global_options
def export(
    output_dir: str | None,
    campaign_type: str | None,
    name_regex: str | None,
    layout: str,
    include_managed: bool,
    force: bool,
) -> None:
    """Write manifests for live campaigns (read-only on the live side)."""
    import re
    from pathlib import Path

    from campaign_sync import engine
    from campaign_sync.errors import CampaignSyncError
    from campaign_sync.files import SHARED, write_atomic

    if name_regex is not None:
        try:
            re.compile(name_regex)
        except re.error as exc:
            raise click.BadParameter(f"not a regular expression: {exc}", param_hint="--name-regex") from None
    opts = current()
    console = opts.console
    workspace = new_workspace(opts)
    try:
        run = engine.export(
            workspace,
            campaign_type=campaign_type,
            name_regex=name_regex,
            layout=layout,
            include_managed=include_managed,
        )
    finally:
        report_requests(opts, workspace)
        workspace.close()
    root = workspace.config.root
    folder = Path(output_dir) if output_dir else root / "manifests" / "exported"
    for warning in run.warnings:
        console.err(f"Warning: {warning}")
    if not run.files:
        console.out(_nothing(run))
        return
    targets = {name: folder / name for name in run.files}
    existing = sorted(str(_shown(path)) for path in targets.values() if path.exists())
    if existing and not force:
        raise CampaignSyncError(
            f"refusing to overwrite {len(existing)} existing file{'s' if len(existing) != 1 else ''} "
            f"(nothing was written): {', '.join(existing)}. Pass --force to overwrite, or choose "
            "another --output-dir."
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in run.files.items():
        write_atomic(targets[name], text, SHARED)
    console.out(_summary(run, [_shown(p) for p in targets.values()]))
    console.out(_next_steps(run, folder, workspace))


def _shown(path: Path) -> str:
    import os

    try:
        return os.path.relpath(str(path))
    except ValueError:
        return str(path)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _nothing(run: ExportRun) -> str:
    skipped = run.skipped
    if skipped:
        return (
            f"Nothing to export: {_plural(len(skipped), 'matching live campaign')} already in the manifests "
            "(--include-managed exports them anyway)."
        )
    return "Nothing to export: no live campaign matches."


def _summary(run: ExportRun, files: list[str]) -> str:
    from campaign_sync.core.campaign_types import REGISTRY

    per_type = ", ".join(
        f"{sum(1 for c in run.campaigns if c.campaign_type == name)} {name}" for name in REGISTRY.names()
    )
    holes = sum(len(c.placeholders) for c in run.campaigns)
    lines = [f"Wrote {_plural(len(files), 'file')}:"]
    lines.extend(f"  {name}" for name in files)
    line = (
        f"Exported {_plural(len(run.campaigns), 'campaign')} ({per_type}); "
        f"{_plural(holes, 'placeholder')} to fill in"
    )
    if run.skipped:
        line += f"; {len(run.skipped)} skipped (already in the manifests)"
    lines.append(line + ".")
    return "\n".join(lines)


def _next_steps(run: ExportRun, folder: Path, workspace: Workspace) -> str:
    root = workspace.config.root.resolve()
    where = folder.resolve()
    entries = workspace.config.settings.manifests
    covered = any(where == (root / e).resolve() or (root / e).resolve() in where.parents for e in entries)
    steps = ["", "Next steps:"]
    if not covered:
        steps.append(
            f"  - {_shown(where)} is not under the manifests paths of campaign-sync.yaml "
            f"({', '.join(entries)}): move the files there or add the folder to `manifests`."
        )
    if any(c.placeholders for c in run.campaigns):
        steps.append("  - Replace each REPLACE-WITH-... placeholder (the comment on its line says how).")
    steps.extend(
        [
            "  - Review the files, then run `campaign-sync validate` and `campaign-sync plan`.",
            "  - No `campaign-sync import` is needed: the plan adopts each live campaign by its name, "
            "and the next apply records it in the state.",
        ]
    )
    return "\n".join(steps)

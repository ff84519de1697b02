"""``campaign-sync init [DIR]``: write a starter repository.

The files are package data under ``campaign_sync/scaffold/`` (read through
``importlib.resources``, so an installed wheel works like a checkout): the config, an example
manifest, ``.gitignore``, a README and three GitHub workflows. Beside them it writes what the
workflows install, pinned and hash-checked (:mod:`campaign_sync.pinning`): ``requirements-ci.txt``
(and ``requirements-ci-source.txt`` for a git commit, or the wheel under ``wheels/``), for the
campaign-sync that is running, or for ``--install-from SPEC``.

Only the config and the README are filled in (``@ENV@``, ``@HOST@``, ``@VERSION@``); the
workflows are written byte for byte as shipped, so they are exactly the copies in this
project's ``.github/workflow-templates/`` that users can read on GitHub.

The workflows are stored as ``scaffold/github/workflows/`` and written to ``.github/workflows/``:
setuptools' package-data globs skip hidden folders, so a ``.github`` folder would be missing
from the wheel.

``init`` refuses before writing anything when a file it would write exists (without
``--force``), and lists every such file; or when it cannot pin campaign-sync (saying what to pass).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from campaign_sync.cli.options import current, global_options

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
    from pathlib import Path

SCAFFOLD = "scaffold"
#: Files whose text is filled in; every other file is copied as is.
TEMPLATED = frozenset({"campaign-sync.yaml", "README.md"})
#: Top-level scaffold folders written under a hidden name.
HIDDEN_DIRS = {"github": ".github"}
DEFAULT_HOST = "https://platform.kore.ai"
DEFAULT_ENV = "prod"
_ENV_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


def scaffold_files() -> dict[str, bytes]:
    """Relative path -> content of every file ``init`` writes (before filling in)."""
    from importlib.resources import files

    out: dict[str, bytes] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name == "__pycache__":
                continue
            name = HIDDEN_DIRS.get(child.name, child.name) if not prefix else child.name
            rel = f"{prefix}{name}"
            if child.is_dir():
                walk(child, rel + "/")
            else:
                out[rel] = child.read_bytes()

    walk(files("campaign_sync").joinpath(SCAFFOLD), "")
    return dict(sorted(out.items()))


def render(files: dict[str, bytes], env: str, host: str, version: str) -> dict[str, bytes]:
    values = {"@ENV@": env, "@HOST@": host, "@VERSION@": version}
    out: dict[str, bytes] = {}
    for rel, data in files.items():
        if rel in TEMPLATED:
            text = data.decode("utf-8")
            for token, value in values.items():
                text = text.replace(token, value)
            data = text.encode("utf-8")
        out[rel] = data
    return out


def _check_host(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from campaign_sync.urls import check_base_url

    try:
        return check_base_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--host",
    metavar="URL",
    default=DEFAULT_HOST,
    show_default=True,
    callback=_check_host,
    help="Kore.ai host.",
)
@click.option(
    "--install-from",
    "install_from",
    metavar="SPEC",
    help=(
        "What the workflows install (default: this campaign-sync, as installed): a wheel file, "
        "'git+https://HOST/ORG/REPO@COMMIT', 'https://.../campaign_sync-X.whl#sha256=HEX' or "
        "'campaign-sync==X --hash=sha256:HEX'."
    ),
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@global_options
def init(directory: str, host: str, install_from: str | None, force: bool) -> None:
    """Write a starter repository in DIRECTORY: config, example manifest, .gitignore, workflows.

    The environment is named by -e/--env (default: prod). The workflows install campaign-sync
    and its dependencies from requirements-ci.txt, pinned and hash-checked: by default the
    campaign-sync that is running (a wheel, a git commit or a URL it was installed from);
    --install-from names another source.
    """
    import re
    from pathlib import Path

    from campaign_sync import __version__, pinning
    from campaign_sync.errors import CampaignSyncError
    from campaign_sync.files import SHARED, write_atomic

    opts = current()
    console = opts.console
    env_name = opts.env or DEFAULT_ENV
    if not re.match(_ENV_NAME, env_name):
        raise click.BadParameter(
            "must be letters, digits, '_' or '-' (it names the state file)", param_hint="--env"
        )
    root = Path(directory)
    source = pinning.parse_spec(install_from) if install_from else pinning.running_source()
    pinned = pinning.pin(source, root, __version__)
    planned = {**render(scaffold_files(), env_name, host, __version__), **pinned.files}
    planned = dict(sorted(planned.items()))
    existing = sorted(rel for rel in planned if (root / rel).exists())
    if existing and not force:
        raise CampaignSyncError(
            f"refusing to overwrite {len(existing)} existing file{'s' if len(existing) != 1 else ''} in "
            f"{root} (nothing was written): {', '.join(existing)}. Pass --force to overwrite them."
        )
    for rel, data in planned.items():
        write_atomic(root / rel, data, SHARED, make_parents=True)
    console.out(f"Wrote a campaign-sync repository in {root}:")
    console.out("\n".join(f"  {rel}" for rel in planned))
    console.out(f"The workflows install campaign-sync {__version__} from {pinned.source.description}.")
    console.out(_next_steps(root, env_name))


def _next_steps(root: Path, env_name: str) -> str:
    where = "" if str(root) in {".", ""} else f"cd {root} && "
    return "\n".join(
        [
            "",
            "Next steps:",
            "  1. Replace the REPLACE-WITH-... placeholders in campaign-sync.yaml (stream id, account id).",
            f"  2. {where}campaign-sync validate",
            "  3. Set KORE_CLIENT_ID and KORE_CLIENT_SECRET in your shell, then bring in the live campaigns:",
            "     campaign-sync export --output-dir manifests",
            "  4. Commit everything, requirements-ci.txt included (and the wheel or source file it names):",
            "     the workflows install campaign-sync from it, pinned and hash-checked.",
            f"  5. On GitHub, create the Environments `{env_name}-plan` (plan, drift) and `{env_name}`",
            "     (apply: required reviewers, branch main only), each with the secrets KORE_CLIENT_ID",
            "     and KORE_CLIENT_SECRET (README.md explains the workflows and the state).",
            f"The state of environment {env_name} is kept on the campaign-sync-state branch by the apply "
            "workflow.",
        ]
    )

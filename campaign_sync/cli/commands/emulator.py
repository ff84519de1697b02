"""``campaign-sync emulator``: the local Kore.ai campaign API on loopback (see docs/emulator.md).

Seeded campaigns that name no ``accountId`` (in the ``--seed`` file or through the control API)
go to the emulator's default account. Started inside a repository, that is the ``accountId`` of
the chosen environment of ``campaign-sync.yaml`` (``-e NAME``, or the only one), so
``campaign-sync emulator --seed seed.yaml`` and then ``campaign-sync plan`` see the same
campaigns. Outside a repository it is the built-in ``DEFAULT_ACCOUNT_ID``. A config found by the
upward search that cannot be used (invalid, or several environments and no ``-e``) is a warning,
not a reason to refuse to start; a ``--config`` or ``-e`` given explicitly must work.
"""

from __future__ import annotations

import click

from campaign_sync.cli.options import Options, current, global_options
from campaign_sync.errors import CampaignSyncError, ConfigError


def seed_account(opts: Options) -> tuple[str | None, str]:
    """The default account for seeds and where it comes from; ``(None, "")`` for the built-in one."""
    from pathlib import Path

    from campaign_sync.manifests.config import find_config

    explicit = opts.config is not None or opts.env is not None
    if opts.config is None and find_config(Path.cwd().resolve()) is None:
        if opts.env is not None:
            raise ConfigError(
                f"-e {opts.env}: no campaign-sync.yaml in this directory or any parent (pass --config PATH)"
            )
        return None, ""
    try:
        config = opts.load_config()
        env = config.environment(opts.env)
    except ConfigError as exc:
        if explicit:
            raise
        opts.console.err(
            f"Warning: {exc}; seeded campaigns without an accountId go to the built-in default account"
        )
        return None, ""
    return env.account_id, f"environment {env.name} of {config.display_path}"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback).")
@click.option(
    "--port",
    default=8787,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one).",
)
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="Persist campaigns to this JSON file across restarts.",
)
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="YAML or JSON file with flows, contactLists, dncLists and campaigns to preload "
    "(into the seed's accountId, else the chosen environment's).",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(0),
    default=60,
    show_default=True,
    help="Requests per minute per account (0 = off).",
)
@click.option(
    "--client-id", default=None, help="Client id tokens must carry (default: $KORE_CLIENT_ID or built-in)."
)
@click.option(
    "--client-secret",
    default=None,
    help="Secret tokens must be signed with (default: $KORE_CLIENT_SECRET or built-in).",
)
@global_options
def emulator(
    host: str,
    port: int,
    data: str | None,
    seed: str | None,
    rate_limit: int,
    client_id: str | None,
    client_secret: str | None,
) -> None:
    """Run the local Kore.ai campaign API emulator (for demos, tests and CI dry runs).

    Inside a repository, seeded campaigns that name no accountId go to the account of the
    chosen environment (-e NAME, or the only one) of campaign-sync.yaml.
    """
    from campaign_sync.emulator.server import serve

    opts = current()
    account, source = seed_account(opts)
    try:
        serve(
            host=host,
            port=port,
            data=data,
            seed=seed,
            rate_limit=rate_limit,
            client_id=client_id,
            client_secret=client_secret,
            echo=opts.console.out,
            account_id=account,
            account_source=source,
        )
    except (ValueError, OSError) as exc:  # a short secret, a bad seed, a port in use, a non-loopback host
        raise CampaignSyncError(f"the emulator cannot start: {exc}") from None

"""Shared fixtures: a throwaway repository with a config and manifests."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fixtures.documented import ACCOUNT, STREAM

if TYPE_CHECKING:
    from tests.pgstate import PgSchema

REPO = Path(__file__).resolve().parent.parent

CONFIG = f"""\
version: 1
manifests: [manifests]
environments:
  prod:
    host: https://platform.kore.ai
    streamId: {STREAM}
    accountId: {ACCOUNT}
    vars: {{callerId: "+14155550100"}}
"""


class Repo:
    """A temporary campaign-sync repository."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path)
    r.write("campaign-sync.yaml", CONFIG)
    (tmp_path / "manifests").mkdir()
    return r


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[str], Repo]:
    def make(config: str) -> Repo:
        r = Repo(tmp_path)
        r.write("campaign-sync.yaml", config)
        (tmp_path / "manifests").mkdir(exist_ok=True)
        return r

    return make


def pytest_configure(config: pytest.Config) -> None:
    """The manifest parse cache (``manifests/parsecache.py``) of this run: a fresh directory, never
    the user's own cache, for in-process and subprocess commands alike (the harness passes it on)."""
    cache = tempfile.mkdtemp(prefix="campaign-sync-cache-")
    atexit.register(shutil.rmtree, cache, True)
    os.environ["CAMPAIGN_SYNC_CACHE_DIR"] = cache


@pytest.fixture(autouse=True)
def _restore_loggers() -> Iterator[None]:
    """A command run in-process (CliRunner) sets up its own log handlers; undo that after each test.

    ``Console.setup_logging`` stops the package's loggers from propagating, which would hide their
    records from ``caplog`` in every later test of the same worker.
    """
    names = ("campaign_sync", "httpx", "httpcore", "filelock")
    saved = {
        name: (list(logger.handlers), logger.level, logger.propagate)
        for name in names
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


# -- the PostgreSQL test server (tests/pgserver.py) -------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[tuple[str, str]]:
    """(superuser DSN, campaign_sync role DSN) of the run's server: `make test` starts one for every
    worker (tests.pgserver); a plain `pytest` run starts one for its session."""
    from tests.pgserver import ADMIN_ENV, USER_ENV, running

    admin, user = os.environ.get(ADMIN_ENV), os.environ.get(USER_ENV)
    if admin and user:
        yield admin, user
        return
    with running() as server:
        yield server.admin_dsn, server.user_dsn


@pytest.fixture
def pg(pg_server: tuple[str, str]) -> Iterator[PgSchema]:
    """A schema of its own on the test server, dropped afterwards."""
    from tests.pgstate import PgSchema, new_schema_name

    schema = PgSchema(pg_server[0], pg_server[1], new_schema_name())
    try:
        yield schema
    finally:
        schema.drop()

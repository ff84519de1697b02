"""Shared fixtures: a throwaway repository with a config and manifests."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.documented import ACCOUNT, STREAM

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

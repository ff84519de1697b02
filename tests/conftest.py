"""Shared fixtures: a throwaway repository with a config and manifests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
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

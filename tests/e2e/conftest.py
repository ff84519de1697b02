"""Fixtures for end-to-end tests: one emulator per test, one workspace per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Emulator, Workspace, start_emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    app, server = start_emulator()
    emu = Emulator(server, app)
    try:
        yield emu
    finally:
        emu.close()
        server.stop()


@pytest.fixture
def ws(tmp_path: Path, emulator: Emulator) -> Workspace:
    return Workspace(tmp_path / "repo", emulator)

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


@pytest.fixture(params=["file", "postgres"])
def state_backend(request: pytest.FixtureRequest) -> str:
    """Every end-to-end test runs once with each state backend."""
    return str(request.param)


@pytest.fixture
def ws(tmp_path: Path, emulator: Emulator, state_backend: str, request: pytest.FixtureRequest) -> Workspace:
    pg = request.getfixturevalue("pg") if state_backend == "postgres" else None
    return Workspace(tmp_path / "repo", emulator, pg=pg)

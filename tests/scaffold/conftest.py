"""Fixtures for the scaffold tests: the end-to-end emulator and workspace of ``tests/e2e``.

The scaffold tests check files `init` and `export` write, not the state: they use the file
backend only (the e2e and drift suites run against both backends).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import emulator, ws

__all__ = ["emulator", "state_backend", "ws"]


@pytest.fixture
def state_backend() -> str:
    return "file"

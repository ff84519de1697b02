"""Fixtures for the scaffold tests: the end-to-end emulator and workspace of ``tests/e2e``."""

from __future__ import annotations

from tests.e2e.conftest import emulator, ws

__all__ = ["emulator", "ws"]

"""Fixtures for drift tests: the end-to-end emulator and workspace (shared with tests/e2e), and
headless Chromium for the HTML report.

Chromium is a system package: ``make test``'s tool step (``make tools``) installs Debian's
``chromium`` when it is missing and it runs as root. No fixture installs anything; a machine
without Chromium fails the browser test with the command that fixes it (never a skip: the
check must run in CI).
"""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.conftest import emulator, state_backend, ws  # noqa: F401 - fixtures shared with the e2e suite

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path to Debian's chromium, which ``make tools`` installs."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "chromium is not installed: run `make tools` as root (it installs Debian's chromium with "
            "apt-get), or `apt-get install chromium`"
        )
    return path

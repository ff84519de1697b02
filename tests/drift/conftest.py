"""Fixtures for drift tests: the end-to-end emulator and workspace (shared with tests/e2e), and
headless Chromium for the HTML report, installed with apt-get when missing and possible."""

from __future__ import annotations

import os
import shutil
import subprocess

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


def _install_chromium() -> str:
    """Why Chromium could not be installed, or "" when it was."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not running as root"
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    )
    for step in steps:
        try:
            done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=1800, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"`{' '.join(step)}` failed: {exc}"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return f"`{' '.join(step)}` exited {done.returncode}: {' / '.join(tail)}"
    return ""


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path to Debian's chromium; installed on first use when missing (root + apt-get)."""
    path = shutil.which("chromium")
    if path is None:
        problem = _install_chromium()
        path = shutil.which("chromium")
        if path is None:
            pytest.skip(
                f"chromium is not installed and could not be installed: {problem or 'not on PATH after install'}"
            )
    return path

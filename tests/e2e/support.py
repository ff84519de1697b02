"""Shared setup for end-to-end tests: the base live seed and manifests, adopted into state."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.harness import Emulator, Workspace

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASE = SCENARIOS / "_base"
FLOWS_CONFIG = 'experienceFlows: {"SMS Support Flow": cf-dc1fdd73-fa87-5044-9742-a7a5eb76c4f3}\n'
ADVANCED = "cd-00000000-0000-4000-8000-000000000001"
BILL = "cd-00000000-0000-4000-8000-000000000002"
PREVIEW = "cd-00000000-0000-4000-8000-000000000003"
AGENTLESS = "cd-00000000-0000-4000-8000-000000000004"


def base_seed() -> dict[str, Any]:
    return dict(yaml.safe_load((BASE / "seed.yaml").read_text()))


def setup(ws: Workspace, emulator: Emulator, *, adopt: bool = True, seed: bool = True) -> None:
    """Seed the base campaigns, write the base manifests, and (by default) adopt them into state."""
    if seed:
        emulator.seed(base_seed())
    shutil.copytree(BASE / "manifests", ws.root / "manifests", dirs_exist_ok=True)
    ws.write_config(FLOWS_CONFIG)
    if adopt:
        result = ws.run("apply", "--auto-approve")
        assert result.code == 0, result.both
    emulator.clear_journal()


def edit(ws: Workspace, rel: str, old: str, new: str) -> None:
    path = ws.root / "manifests" / rel
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll until ``predicate`` holds (synchronisation, not an assertion on time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")

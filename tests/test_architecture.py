"""The lines the architecture draws, held by importing modules in a clean interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PURE = [
    "campaign_sync.manifests.models",
    "campaign_sync.core.normalize",
    "campaign_sync.core.bodies",
    "campaign_sync.core.diff",
    "campaign_sync.core.compare",
    "campaign_sync.core.plan",
    "campaign_sync.core.drift",
    "campaign_sync.report",
]
IO_MODULES = (
    "httpx",
    "click",
    "campaign_sync.kore",
    "campaign_sync.state",
    "campaign_sync.engine",
    "filelock",
)


def imported_by(module: str) -> set[str]:
    code = f"import sys, json; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", PURE)
def test_pure_core_imports_no_io(module: str) -> None:
    loaded = imported_by(module)
    assert not [m for m in IO_MODULES if m in loaded], f"{module} pulls in I/O modules"


def test_emulator_shares_no_code_with_the_client() -> None:
    loaded = imported_by("campaign_sync.emulator")
    assert "campaign_sync.kore" not in loaded
    assert "httpx" not in loaded


def test_only_the_kore_package_imports_httpx() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "campaign_sync"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "kore" not in path.parts
        and ("import httpx" in path.read_text() or "from httpx" in path.read_text())
    ]
    assert offenders == []


def test_only_diff_imports_deepdiff() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "campaign_sync"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "diff.py"
        and any(
            line.strip().startswith(("import deepdiff", "from deepdiff"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []

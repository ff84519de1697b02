"""Drift's place in the architecture: a pure core, and reports that load Jinja2 only for HTML."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

IO_MODULES = (
    "httpx",
    "click",
    "campaign_sync.kore",
    "campaign_sync.state",
    "campaign_sync.engine",
    "filelock",
)


def imported_by(code: str) -> set[str]:
    script = f"import sys, json; {code}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", ["campaign_sync.core.drift", "campaign_sync.report"])
def test_drift_core_imports_no_io(module: str) -> None:
    loaded = imported_by(f"import {module}")
    assert [m for m in IO_MODULES if m in loaded] == []


def test_jinja2_is_loaded_only_when_html_is_rendered() -> None:
    assert "jinja2" not in imported_by("import campaign_sync.report")
    assert "jinja2" in imported_by("import campaign_sync.report.html")


def test_drift_help_stays_light() -> None:
    loaded = imported_by("import campaign_sync.cli")
    assert {"campaign_sync.core.drift", "campaign_sync.report", "jinja2"}.isdisjoint(loaded)

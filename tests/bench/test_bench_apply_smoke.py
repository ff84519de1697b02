"""Smoke test of `make bench-apply`: the apply benchmark runs small and its request counts hold.

Only counts are checked, never times: throughput is measured by the benchmark, not asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "apply_throughput.py"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def applies(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench-apply") / "out.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--changes",
            "12",
            "--server-limits",
            "0",
            "--configured",
            "6000",
            "--terraform-style",
            "--json",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Terraform-style refresh for the same 12 changes" in proc.stdout
    return list(json.loads(out.read_text())["applies"])


def test_the_apply_makes_one_put_per_change_and_only_list_reads(applies: list[dict[str, Any]]) -> None:
    incremental = next(a for a in applies if a["refresh"] == "incremental")
    assert incremental["exit_code"] == 0
    assert incremental["by_method"] == {"POST": 2, "PUT": 12}  # 11 sms + 1 voice: one list page each
    assert incremental["writes_ok"] == 12
    assert incremental["answered_429"] == 0


def test_the_terraform_style_apply_reads_every_campaign_first(applies: list[dict[str, Any]]) -> None:
    full = next(a for a in applies if a["refresh"] == "full")
    assert full["by_method"] == {"GET": 12, "POST": 2, "PUT": 12}
    assert full["writes_ok"] == 12


def test_in_a_larger_account_only_the_changed_campaigns_are_written(tmp_path: Path) -> None:
    """``--account``: 150 campaigns, 4 of them changed. The apply writes those 4 and reads nothing
    but the list (two sms pages, one voice page); a Terraform-style refresh would read all 150."""
    out = tmp_path / "out.json"
    args = ["--changes", "4", "--account", "150", "--server-limits", "0", "--configured", "6000"]
    proc = subprocess.run(
        [sys.executable, str(BENCH), *args, "--json", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (apply,) = json.loads(out.read_text())["applies"]
    assert (apply["campaigns"], apply["changes"], apply["by_method"]) == (150, 4, {"POST": 3, "PUT": 4})
    assert apply["writes_ok"] == 4
    assert "for the same 4 changes at 6000/min: 157 requests (150 GET + 4 PUT + 3 list)" in proc.stdout

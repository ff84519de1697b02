"""Smoke test of `make bench`: the benchmark runs at a small size and its request counts hold.

Only counts are checked, never times: performance is measured by the benchmark, not asserted.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "plan_refresh.py"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "out.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--sizes",
            "100",
            "--full-refresh",
            "--repeats",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "100 campaigns" in proc.stdout
    payload: dict[str, Any] = json.loads(out.read_text())
    assert [s["campaigns"] for s in payload["sizes"]] == [100]
    return dict(payload["sizes"][0])


def test_plan_in_sync_makes_only_the_list_calls(figures: dict[str, Any]) -> None:
    sync = figures["in_sync"]
    assert figures["sms"] + figures["voice"] == 100
    assert figures["floor"] == 2  # one page of sms, one of voice
    assert sync["requests"] == {"POST": figures["floor"]}
    assert sync["journal"] == sync["requests"]
    assert sync["lists"] == figures["floor"]
    assert sync["gets"] == 0
    assert sync["writes"] == 0
    assert sync["summary"] == {"create": 0, "update": 0, "delete": 0, "unchanged": 100, "unmanaged": 0}


def test_one_out_of_band_edit_costs_one_get(figures: dict[str, Any]) -> None:
    after = figures["after_edit"]
    assert after["gets"] == 1
    assert after["requests"] == {"GET": 1, "POST": figures["floor"]}
    assert after["writes"] == 0
    assert after["summary"]["update"] == 1
    [change] = figures["after_edit_changes"]
    assert change["action"] == "update"
    assert change["fields"] == ["description"]


def test_adoption_reads_each_campaign_once_and_writes_nothing(figures: dict[str, Any]) -> None:
    assert figures["adopt_requests"] == {"GET": 100, "POST": figures["floor"]}
    assert figures["adopt_writes"] == 0


def test_full_refresh_reads_every_campaign(figures: dict[str, Any]) -> None:
    full = figures["full_refresh"]
    assert full["requests"] == {"GET": 100, "POST": figures["floor"]}
    assert full["writes"] == 0
    naive = figures["at_documented_rate"]["naive"]
    assert naive["requests"] == 100 + figures["floor"]
    assert figures["at_documented_rate"]["in_sync"]["requests"] == figures["floor"]


def test_the_real_cli_makes_the_same_requests(figures: dict[str, Any]) -> None:
    cli = figures["cli"]
    assert cli["exit_code"] == 0
    assert cli["journal"] == {"POST": figures["floor"]}


def test_floor_counts_pages_per_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH.parent))  # as for a script: its folder first (bench/emulated.py)
    spec = importlib.util.spec_from_file_location("bench_plan_refresh", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    floor_requests = module.floor_requests
    assert floor_requests(0, 0) == 2
    assert floor_requests(100, 0) == 2
    assert floor_requests(101, 1) == 3
    assert floor_requests(4000, 1000) == 50

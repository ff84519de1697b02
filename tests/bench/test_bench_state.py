"""Smoke test of the state benchmark (`make bench`): it runs at a small size on both backends and its
counts hold. Only counts are checked, never times: the benchmark prints figures, it asserts none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "state_save.py"

pytestmark = pytest.mark.e2e


def test_state_benchmark_saves_once_per_write_on_both_backends(
    tmp_path: Path, pg_server: tuple[str, str]
) -> None:
    out = tmp_path / "state.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--campaigns",
            "30",
            "--writes",
            "12",
            "--dsn-env",
            "BENCH_DSN",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "BENCH_DSN": pg_server[1]},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "median" in proc.stdout
    payload: dict[str, Any] = json.loads(out.read_text())
    results = {r["backend"]: r for r in payload["results"]}
    assert set(results) == {"file", "postgres"}, payload["notes"]
    for figures in results.values():
        assert figures["writes"] == 12
        assert figures["campaigns"] == 30
        assert figures["final_serial"] == 13  # the first save, then one per write
        assert figures["state_bytes"] > 0
    assert results["postgres"]["history_serials"] == 13
    assert results["file"]["history_serials"] is None
    assert "postgres" in proc.stdout

"""Golden plan scenarios: live seed + manifests (+ setup, edits) -> expected text, JSON and Markdown.

Each folder in tests/scenarios/ (except _base) has a scenario.yaml describing how it differs from
the base: live edits made out of band after a setup apply, manifest edits, extra config. The real
`campaign-sync plan` runs against the emulator for every format and must match the golden files
byte for byte. Set UPDATE_GOLDEN=1 to rewrite them (then review the diff).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.harness import Emulator, Workspace

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASE = SCENARIOS / "_base"
FLOWS_CONFIG = 'experienceFlows: {"SMS Support Flow": cf-dc1fdd73-fa87-5044-9742-a7a5eb76c4f3}\n'
FORMATS = {"text": "expected.txt", "json": "expected.json", "markdown": "expected.md"}


def scenario_dirs() -> list[Path]:
    return sorted(p for p in SCENARIOS.iterdir() if p.is_dir() and not p.name.startswith("_"))


def cid(value: str | int) -> str:
    text = str(value)
    return text if text.startswith("cd-") else f"cd-00000000-0000-4000-8000-{int(text):012d}"


def prepare(spec: dict[str, Any], ws: Workspace, emulator: Emulator) -> None:
    seed = yaml.safe_load((BASE / "seed.yaml").read_text())
    seed["campaigns"] = [
        c for c in seed["campaigns"] if c["_id"] not in {cid(x) for x in spec.get("seed_without", [])}
    ]
    seed["campaigns"] += spec.get("seed_extra", [])
    if seed["campaigns"]:
        emulator.seed(seed)
    shutil.copytree(BASE / "manifests", ws.root / "manifests", dirs_exist_ok=True)
    ws.write_config((FLOWS_CONFIG if spec.get("flows", True) else "") + spec.get("config", ""))
    if spec.get("setup", True):
        setup = ws.run("apply", "--auto-approve")
        assert setup.code == 0, setup.both
    for edit in spec.get("manifest_edits", []):
        path = ws.root / "manifests" / edit["file"]
        text = path.read_text()
        assert edit["old"] in text, edit
        path.write_text(text.replace(edit["old"], edit["new"], 1))
    for rel in spec.get("manifest_remove", []):
        ws.remove(f"manifests/{rel}")
    for rel, text in spec.get("manifest_add", {}).items():
        ws.write(f"manifests/{rel}", text)
    for edit in spec.get("live_edits", []):
        emulator.patch(cid(edit["id"]), edit["patch"])
    for value in spec.get("live_delete", []):
        emulator.delete(cid(value))
    for value in spec.get("start", []):
        emulator.start(cid(value))


@pytest.mark.e2e
@pytest.mark.parametrize("folder", scenario_dirs(), ids=lambda p: p.name)
def test_scenario(folder: Path, ws: Workspace, emulator: Emulator) -> None:
    spec = yaml.safe_load((folder / "scenario.yaml").read_text()) or {}
    prepare(spec, ws, emulator)
    args = [str(a) for a in spec.get("args", [])]
    outputs = {}
    for fmt, name in FORMATS.items():
        result = ws.run("plan", "--detailed-exitcode", "--format", fmt, *args)
        assert result.code in (0, 2), result.both
        outputs[fmt] = result
        expected = folder / name
        if os.environ.get("UPDATE_GOLDEN"):
            expected.write_text(result.out)
        assert result.out == expected.read_text(), f"{folder.name}/{name} differs:\n{result.out}"
    digest = json.loads(outputs["json"].out)["digest"]
    assert f"Plan digest: {digest}\n" in outputs["text"].out
    assert f"Plan digest: `{digest}`" in outputs["markdown"].out
    changes = "No changes." not in outputs["text"].out
    assert {r.code for r in outputs.values()} == {2 if changes else 0}
    assert spec.get("changes", True) == changes, "scenario.yaml says whether the plan has changes"
    again = ws.run("plan", "--format", "text", *args)
    assert again.out == outputs["text"].out, "identical input must give byte-identical output"

"""The lines the architecture draws, held by importing modules in a clean interpreter."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PURE = [
    "campaign_sync.manifests.models",
    "campaign_sync.manifests.schema",
    "campaign_sync.core.values",
    "campaign_sync.core.specs",
    "campaign_sync.core.fields",
    "campaign_sync.core.campaign_types",
    "campaign_sync.core.normalize",
    "campaign_sync.core.bodies",
    "campaign_sync.core.diff",
    "campaign_sync.core.compare",
    "campaign_sync.core.changes",
    "campaign_sync.core.digest",
    "campaign_sync.core.refusals",
    "campaign_sync.core.plan",
    "campaign_sync.core.drift",
    "campaign_sync.report",
    "campaign_sync.display",
]
IO_MODULES = (
    "httpx",
    "click",
    "campaign_sync.kore",
    "campaign_sync.state",
    "campaign_sync.engine",
    "campaign_sync.cli",
    "filelock",
)
ROOT = Path(__file__).resolve().parent.parent / "campaign_sync"


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


def _imports(path: Path) -> set[str]:
    """The campaign_sync modules a file imports (at any level, TYPE_CHECKING included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("campaign_sync")}


def test_core_imports_only_core_the_models_and_errors() -> None:
    allowed = ("campaign_sync.core", "campaign_sync.manifests.models", "campaign_sync.errors")
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if not m.startswith(allowed))
        for path in (ROOT / "core").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_models_import_only_the_field_table_values_errors_and_the_yaml_locations() -> None:
    allowed = (
        "campaign_sync.manifests.models",
        "campaign_sync.core.fields",
        "campaign_sync.core.values",
        "campaign_sync.errors",
        "campaign_sync.manifests.yamlsafe",
    )
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if not m.startswith(allowed))
        for path in (ROOT / "manifests" / "models").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


#: Where a campaign type may be named: the type modules, and the emulator (a fake of the remote
#: that shares no code with the client, by design).
TYPE_MODULES = {"manifests/models/sms.py", "manifests/models/voice.py"}


def test_the_registry_is_the_only_place_that_names_the_campaign_types() -> None:
    from campaign_sync.core.campaign_types import REGISTRY

    names = set(REGISTRY.names())
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel in TYPE_MODULES or rel.startswith("emulator/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in names:
                offenders.append(f"{rel}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_reading_live_and_orchestration_do_not_reach_into_the_writes_module_or_reports() -> None:
    assert "campaign_sync.engine.writes" not in _imports(ROOT / "engine" / "refresh.py")
    assert not any(m.startswith("campaign_sync.report") for m in _imports(ROOT / "engine" / "writes.py"))
    from campaign_sync.engine import writes

    assert not hasattr(writes, "kind"), "campaign types come from the registry, not from the writes module"


def test_the_registry_is_built_once_in_the_registry_module() -> None:
    builders = [
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Registry"
    ]
    assert builders == ["core/campaign_types.py"]


def test_every_api_error_names_its_own_category() -> None:
    """The message prefix comes from ``category``; a subclass spelling it otherwise would say "api error"."""
    from campaign_sync import errors

    def subclasses(cls: type) -> list[type]:
        return [sub for direct in cls.__subclasses__() for sub in (direct, *subclasses(direct))]

    found = subclasses(errors.ApiError)
    assert found
    unnamed = [cls.__name__ for cls in found if "category" not in vars(cls)]
    assert unnamed == []
    assert len({cls.category for cls in found}) == len(found)  # type: ignore[attr-defined]

"""`campaign-sync init`: the starter repository validates, ships the workflow templates, never overwrites."""

from __future__ import annotations

import glob
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from campaign_sync.cli.commands.init import scaffold_files
from campaign_sync.manifests.yamlsafe import load
from tests.e2e.harness import Result, command
from tests.scaffold.workflows import REPO, TEMPLATES, WORKFLOW_NAMES

SCAFFOLDED = {
    ".github/workflows/campaign-sync-apply.yml",
    ".github/workflows/campaign-sync-drift.yml",
    ".github/workflows/campaign-sync-plan.yml",
    ".gitignore",
    "README.md",
    "campaign-sync.yaml",
    "manifests/example.yaml",
}
EXPECTED = SCAFFOLDED | {"requirements-ci.txt", "requirements-ci-source.txt"}
#: A pinned source that needs no file: tests run from an editable install, which init refuses.
GIT = "git+https://git.example.com/acme/campaign-sync.git@0123456789abcdef0123456789abcdef01234567"


def run(cwd: Path, *args: str) -> Result:
    """The real command, with no credentials at all in its environment; `init` pins GIT."""
    if args and args[0] == "init" and "--install-from" not in args:
        args = (*args, "--install-from", GIT)
    return bare(cwd, *args)


def bare(cwd: Path, *args: str) -> Result:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    proc = subprocess.run(
        [*command(), *args],
        cwd=cwd,
        env={**env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def written(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_init_writes_a_starter_repository_that_validates_offline(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "repo")

    assert result.code == 0, result.both
    root = tmp_path / "repo"
    assert written(root) == EXPECTED
    for rel in EXPECTED:
        assert f"  {rel}\n" in result.out
    assert "Next steps" in result.out

    validated = run(root, "validate")
    assert validated.code == 0, validated.both
    assert "OK: 1 campaign (1 sms, 0 voice) in 1 manifest file; config valid for prod" in validated.out


def test_the_config_marks_its_placeholders_and_names_variables_not_values(tmp_path: Path) -> None:
    assert run(tmp_path, "init").code == 0

    text = (tmp_path / "campaign-sync.yaml").read_text()
    config = load(text, "campaign-sync.yaml")
    env = config["environments"]["prod"]
    assert env["host"] == "https://platform.kore.ai"
    assert "REPLACE-WITH" in env["streamId"]
    assert "REPLACE-WITH" in env["accountId"]
    assert env["auth"] == {"clientIdEnv": "KORE_CLIENT_ID", "clientSecretEnv": "KORE_CLIENT_SECRET"}
    assert "@ENV@" not in text
    assert "@HOST@" not in text
    comments = [line for line in text.splitlines() if line.strip().startswith("#")]
    assert len(comments) >= 15, "each key is explained"
    assert (tmp_path / "requirements-ci-source.txt").read_text().splitlines()[-1] == f"campaign-sync @ {GIT}"


def test_env_and_host_options(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "--env", "staging", "--host", "http://127.0.0.1:8787/", "repo")

    assert result.code == 0, result.both
    config = load((tmp_path / "repo" / "campaign-sync.yaml").read_text(), "c")
    assert list(config["environments"]) == ["staging"]
    assert config["environments"]["staging"]["host"] == "http://127.0.0.1:8787"
    assert run(tmp_path / "repo", "validate").code == 0
    assert "environment staging" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "bad name!"], "--env"),
        (["--host", "http://kore.example.com"], "https"),
        (["--host", "https://user:pw@kore.example.com"], "credentials"),
        (["--host", "http://127.0.0.1\t:18801"], "control characters"),
        (["--host", "http://127.0.0.1:99999"], "port must be a number from 1 to 65535"),
    ],
)
def test_bad_env_names_and_hosts_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(tmp_path, "init", *args, "repo")

    assert result.code == 1
    assert message in result.err
    assert not (tmp_path / "repo").exists()


def test_the_workflows_init_writes_are_the_templates_in_this_repository(tmp_path: Path) -> None:
    assert run(tmp_path, "init", "--env", "other", "--host", "https://kore.example.com").code == 0

    for name in WORKFLOW_NAMES:
        assert (tmp_path / ".github" / "workflows" / name).read_bytes() == (TEMPLATES / name).read_bytes(), (
            name
        )
    readme = (TEMPLATES / "README.md").read_text()
    assert "campaign-sync init" in readme


def test_gitignore_keeps_run_files_out_and_explains_the_state(tmp_path: Path) -> None:
    assert run(tmp_path, "init").code == 0

    text = (tmp_path / ".gitignore").read_text()
    patterns = [line for line in text.splitlines() if line and not line.startswith("#")]
    for pattern in (
        ".campaign-sync/*.lock",
        "*.lock.info",
        "*.tmp-*",
        "plan.json",
        "*.plan.json",
        "drift-report.*",
    ):
        assert pattern in patterns
    assert "campaign-sync-state" in text
    readme = (tmp_path / "README.md").read_text()
    assert "## Where the state lives" in readme
    assert "KORE_CLIENT_SECRET" in readme


def test_init_refuses_to_overwrite_and_lists_every_existing_file(tmp_path: Path) -> None:
    (tmp_path / "campaign-sync.yaml").write_text("mine\n")
    (tmp_path / ".gitignore").write_text("*.pyc\n")

    refused = run(tmp_path, "init")

    assert refused.code == 1
    assert "refusing to overwrite 2 existing files" in refused.err
    assert ".gitignore, campaign-sync.yaml" in refused.err
    assert "--force" in refused.err
    assert written(tmp_path) == {"campaign-sync.yaml", ".gitignore"}, "nothing was written"
    assert (tmp_path / "campaign-sync.yaml").read_text() == "mine\n"

    forced = run(tmp_path, "init", "--force")
    assert forced.code == 0, forced.both
    assert written(tmp_path) == EXPECTED
    assert (tmp_path / "campaign-sync.yaml").read_text() != "mine\n"


def test_every_scaffold_file_is_in_the_wheel() -> None:
    """pyproject's package-data globs, expanded as setuptools does (hidden folders are skipped)."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["campaign_sync"]
    package = REPO / "campaign_sync"
    packaged = {
        Path(match).as_posix()
        for pattern in patterns
        for match in glob.glob(pattern, root_dir=package, recursive=True)
        if (package / match).is_file()
    }
    on_disk = {
        p.relative_to(package).as_posix()
        for p in (package / "scaffold").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert on_disk - packaged == set()
    assert len(scaffold_files()) == len(on_disk) == len(SCAFFOLDED)
    locks = {match for pattern in patterns for match in glob.glob(pattern, root_dir=package)}
    assert {"pinning/runtime.txt", "pinning/build.txt"} <= locks


def test_from_an_editable_install_init_says_what_to_pin_and_writes_nothing(tmp_path: Path) -> None:
    result = bare(tmp_path, "init", "repo")

    assert result.code == 1
    assert "editable install" in result.err
    assert "--install-from" in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "repo").exists()

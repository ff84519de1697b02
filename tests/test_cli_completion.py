"""Shell completion through click's machinery, run as the shell runs it: the real command."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Repo
from tests.e2e.harness import command

CONFIG = """\
version: 1
environments:
  staging:
    host: http://127.0.0.1:8787
    streamId: st-staging
    accountId: acct-staging
  prod:
    host: https://platform.kore.ai
    streamId: st-prod
    accountId: acct-prod
  sandbox:
    host: http://127.0.0.1:8788
    streamId: st-sandbox
    accountId: acct-sandbox
"""


def complete(
    cwd: Path, instruction: str, words: str = "", cword: int = 0
) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}},
        "_CAMPAIGN_SYNC_COMPLETE": instruction,
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    return subprocess.run(
        command(), cwd=cwd, env=env, capture_output=True, text=True, timeout=30, check=False
    )


def bash(cwd: Path, words: str) -> list[str]:
    parts = words.split(" ")
    result = complete(cwd, "bash_complete", words, len(parts) - 1)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _campaign_sync_completion campaign-sync"),
        ("zsh", "#compdef campaign-sync"),
        ("fish", "complete --no-files --command campaign-sync"),
    ],
)
def test_the_source_script_is_produced_for_each_shell(tmp_path: Path, shell: str, marker: str) -> None:
    result = complete(tmp_path, f"{shell}_source")
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout
    assert "_CAMPAIGN_SYNC_COMPLETE" in result.stdout
    assert "Usage:" not in result.stdout


def test_command_names_complete(tmp_path: Path) -> None:
    assert bash(tmp_path, "campaign-sync pl") == ["plan"]  # click's type value "plan"
    assert bash(tmp_path, "campaign-sync ref") == ["refresh"]
    assert bash(tmp_path, "campaign-sync state l") == ["list"]


def test_environment_names_complete_from_the_config(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo(CONFIG)
    (repo.root / "manifests" / "deeper").mkdir()
    assert bash(repo.root, "campaign-sync plan -e ") == ["prod", "sandbox", "staging"]
    assert bash(repo.root, "campaign-sync apply --env s") == ["sandbox", "staging"]
    assert bash(repo.root, "campaign-sync -e p") == ["prod"]  # before the command, too
    assert bash(repo.root / "manifests" / "deeper", "campaign-sync drift -e pr") == ["prod"]  # found upward


def test_environment_names_follow_config(make_repo: Callable[[str], Repo], tmp_path: Path) -> None:
    repo = make_repo(CONFIG)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(repo.root / "campaign-sync.yaml")
    assert bash(elsewhere, f"campaign-sync plan --config {config} -e st") == ["staging"]


def test_no_config_or_a_broken_one_completes_nothing_quietly(tmp_path: Path) -> None:
    assert bash(tmp_path, "campaign-sync plan -e ") == []
    (tmp_path / "campaign-sync.yaml").write_text("version: [not, valid\n")
    assert bash(tmp_path, "campaign-sync plan -e ") == []

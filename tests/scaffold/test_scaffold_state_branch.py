"""The state in CI: the workflows' own restore and save scripts, run against a real git remote.

The scripts are taken from the workflow templates as written and run the way GitHub runs a
`run:` step (`bash --noprofile --norc -eo pipefail`), in a shallow clone of a local bare
repository standing in for GitHub.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.scaffold.workflows import TEMPLATES, parse, step_named

BRANCH = "campaign-sync-state"


def script(workflow: str, step: str) -> str:
    text = (TEMPLATES / workflow).read_text(encoding="utf-8")
    body = step_named(parse(text), step)["run"]
    assert isinstance(body, str)
    return body


APPLY_RESTORE = script("campaign-sync-apply.yml", "Restore the state")
APPLY_SAVE = script("campaign-sync-apply.yml", "Save the state to the campaign-sync-state branch")
PLAN_RESTORE = script("campaign-sync-plan.yml", "Restore the state (read-only)")
DRIFT_RESTORE = script("campaign-sync-drift.yml", "Restore the state (read-only)")


class Remote:
    """A bare repository with a main branch, and shallow clones of it (what actions/checkout makes)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        self.bare = root / "origin.git"
        self.git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare), cwd=root)
        seed = root / "seed"
        self.git("clone", "--quiet", self.url, str(seed), cwd=root)
        (seed / "campaign-sync.yaml").write_text("version: 1\n")
        self.git("add", ".", cwd=seed)
        self.git("commit", "--quiet", "-m", "init", cwd=seed)
        self.git("push", "--quiet", "origin", "HEAD:main", cwd=seed)
        self.clones = 0

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            **extra,
        }

    def git(self, *args: str, cwd: Path) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, env=self.env(), capture_output=True, text=True, check=True
        )
        return proc.stdout.strip()

    def checkout(self) -> Path:
        self.clones += 1
        work = self.root / f"run{self.clones}"
        self.git("clone", "--quiet", "--depth=1", self.url, str(work), cwd=self.root)
        return work

    def state_head(self) -> str | None:
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{BRANCH}"],
            cwd=self.bare,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stdout.strip() or None

    def state_files(self) -> dict[str, str]:
        names = self.git("ls-tree", "--name-only", BRANCH, cwd=self.bare).splitlines()
        return {name: self.git("show", f"{BRANCH}:{name}", cwd=self.bare) for name in names}


class Step:
    """One `run:` step, as GitHub runs it, with GITHUB_OUTPUT and RUNNER_TEMP."""

    def __init__(self, remote: Remote, work: Path) -> None:
        self.remote = remote
        self.work = work
        self.outputs = work.parent / f"{work.name}.outputs"
        self.temp = work.parent / f"{work.name}.temp"
        self.temp.mkdir()
        self.outputs.write_text("")

    def run(self, body: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", body],
            cwd=self.work,
            env=self.remote.env(
                STATE_BRANCH=BRANCH,
                GITHUB_OUTPUT=str(self.outputs),
                RUNNER_TEMP=str(self.temp),
                GITHUB_SHA="0123456789abcdef0123456789abcdef01234567",
                **env,
            ),
            capture_output=True,
            text=True,
            check=False,
        )

    def output(self, name: str) -> str:
        values = [
            value
            for key, _, value in (line.partition("=") for line in self.outputs.read_text().splitlines())
            if key == name
        ]
        assert values, f"no output {name}"
        return values[-1]


def state(serial: int) -> str:
    return json.dumps({"version": 1, "serial": serial}) + "\n"


def apply_run(remote: Remote, write: dict[str, str] | None) -> tuple[Step, subprocess.CompletedProcess[str]]:
    """Restore, let the "apply" write ``write`` into .campaign-sync/, then save."""
    step = Step(remote, remote.checkout())
    restored = step.run(APPLY_RESTORE)
    assert restored.returncode == 0, restored.stderr
    for name, text in (write or {}).items():
        (step.work / ".campaign-sync" / name).write_text(text)
    return step, step.run(APPLY_SAVE, BASE=step.output("commit"))


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path)


def test_the_first_apply_starts_the_state_branch_with_the_state_files_only(remote: Remote) -> None:
    step, saved = apply_run(
        remote,
        {
            "prod.state.json": state(1),
            "prod.state.json.backup": state(0),
            "prod.state.json.lock": "",
            "prod.state.json.lock.info": "{}",
        },
    )

    assert step.output("commit") == ""
    assert saved.returncode == 0, saved.stderr
    assert remote.state_files() == {
        "prod.state.json": state(1).strip(),
        "prod.state.json.backup": state(0).strip(),
    }
    parents = remote.git("rev-list", "--parents", "-n1", BRANCH, cwd=remote.bare).split()
    assert len(parents) == 1, "an orphan branch: none of main's files or history"


def test_each_apply_restores_the_state_and_commits_the_new_one_on_top(remote: Remote) -> None:
    apply_run(remote, {"prod.state.json": state(1)})
    first = remote.state_head()

    step = Step(remote, remote.checkout())
    assert step.run(APPLY_RESTORE).returncode == 0
    assert (step.work / ".campaign-sync" / "prod.state.json").read_text() == state(1)
    assert step.output("commit") == first
    (step.work / ".campaign-sync" / "prod.state.json").write_text(state(2))
    saved = step.run(APPLY_SAVE, BASE=step.output("commit"))

    assert saved.returncode == 0, saved.stderr
    second = remote.state_head()
    assert second != first
    assert remote.git("rev-parse", f"{BRANCH}^", cwd=remote.bare) == first
    assert remote.state_files()["prod.state.json"] == state(2).strip()


def test_an_unchanged_state_makes_no_commit(remote: Remote) -> None:
    apply_run(remote, {"prod.state.json": state(1)})
    first = remote.state_head()

    _step, saved = apply_run(remote, None)

    assert saved.returncode == 0, saved.stderr
    assert "did not change" in saved.stdout
    assert remote.state_head() == first


def test_a_save_never_overwrites_a_state_branch_that_moved_meanwhile(remote: Remote) -> None:
    apply_run(remote, {"prod.state.json": state(1)})
    slow = Step(remote, remote.checkout())
    assert slow.run(APPLY_RESTORE).returncode == 0
    apply_run(remote, {"prod.state.json": state(2)})  # another writer got there first
    moved = remote.state_head()

    (slow.work / ".campaign-sync" / "prod.state.json").write_text(state(3))
    saved = slow.run(APPLY_SAVE, BASE=slow.output("commit"))

    assert saved.returncode != 0, "the push must be refused (no lost update)"
    assert remote.state_head() == moved
    assert remote.state_files()["prod.state.json"] == state(2).strip()


def test_without_any_state_file_nothing_is_saved(remote: Remote) -> None:
    _step, saved = apply_run(remote, {})

    assert saved.returncode == 0, saved.stderr
    assert remote.state_head() is None


@pytest.mark.parametrize("restore", [PLAN_RESTORE, DRIFT_RESTORE], ids=["plan", "drift"])
def test_plan_and_drift_read_the_state_and_start_without_one(remote: Remote, restore: str) -> None:
    empty = Step(remote, remote.checkout())
    before = empty.run(restore)
    assert before.returncode == 0, before.stderr
    assert list((empty.work / ".campaign-sync").iterdir()) == []

    apply_run(remote, {"prod.state.json": state(4)})
    step = Step(remote, remote.checkout())
    after = step.run(restore)

    assert after.returncode == 0, after.stderr
    assert (step.work / ".campaign-sync" / "prod.state.json").read_text() == state(4)
    assert remote.git("status", "--porcelain", "--untracked-files=no", cwd=step.work) == ""


@pytest.mark.parametrize("restore", [APPLY_RESTORE, PLAN_RESTORE], ids=["apply", "plan"])
def test_an_unreachable_remote_fails_the_restore_instead_of_starting_without_state(
    remote: Remote, restore: str
) -> None:
    step = Step(remote, remote.checkout())
    remote.git("remote", "set-url", "origin", (remote.root / "nowhere.git").as_uri(), cwd=step.work)

    result = step.run(restore)

    assert result.returncode not in (0, 2)
    assert not (step.work / ".campaign-sync" / "prod.state.json").exists()

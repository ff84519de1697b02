"""Runs the workflows' own ``run:`` scripts the way a GitHub runner does, against local stand-ins.

- :class:`Remote` is a bare git repository standing in for GitHub's copy of the repository;
  :meth:`Remote.checkout` makes what ``actions/checkout`` makes (a depth-1 clone, no
  credentials kept).
- :class:`Job` is one job of one workflow in such a checkout: :meth:`Job.step` takes a step by
  name from the workflow as written, checks that the test gives it exactly the ``env:`` the
  step declares (so a test cannot drift from the workflow), and runs it with
  ``bash --noprofile --norc -eo pipefail``, with fresh ``GITHUB_OUTPUT`` and
  ``GITHUB_STEP_SUMMARY`` files, ``RUNNER_TEMP``, the job's ``env:`` and GitHub's default
  variables, and the campaign-sync of this test run first on ``PATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.scaffold.workflows import TEMPLATES, parse, steps

BRANCH = "campaign-sync-state"
SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "ghs_test-job-token"


class Remote:
    """A bare repository with a main branch, and shallow clones of it (what actions/checkout makes)."""

    def __init__(self, root: Path, files: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir(parents=True)
        self.bare = root / "origin.git"
        self.git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare), cwd=root)
        self.clones = 0
        self.push_files(files or {"campaign-sync.yaml": "version: 1\n"}, "init")

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
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

    def push_files(self, files: Mapping[str, str], message: str) -> None:
        """Commit ``files`` on main (what a merge does)."""
        seed = self.root / f"seed{self.clones}"
        self.clones += 1
        self.git("clone", "--quiet", self.url, str(seed), cwd=self.root)
        for rel, text in files.items():
            path = seed / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.git("add", "--all", ".", cwd=seed)
        self.git("commit", "--quiet", "--allow-empty", "-m", message, cwd=seed)
        self.git("push", "--quiet", "origin", "HEAD:main", cwd=seed)

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


@dataclass
class StepResult:
    code: int
    out: str
    err: str
    outputs: dict[str, str]
    summary: str

    @property
    def both(self) -> str:
        return self.out + self.err


def workflow(name: str) -> dict[str, Any]:
    return parse((TEMPLATES / name).read_text(encoding="utf-8"))


class Job:
    """One job of one workflow, run step by step in ``work`` (a checkout)."""

    def __init__(
        self,
        remote: Remote,
        workflow_name: str,
        job_id: str,
        work: Path | None = None,
        *,
        environment: str = "",
        github: Mapping[str, str] | None = None,
    ) -> None:
        self.remote = remote
        self.spec = workflow(workflow_name)["jobs"][job_id]
        self.work = work if work is not None else remote.checkout()
        self.temp = self.work.parent / f"{self.work.name}.temp"
        self.temp.mkdir(exist_ok=True)
        self.environment = environment
        self.github = dict(github or {})
        self.summary = ""
        self.steps_run = 0

    def job_env(self) -> dict[str, str]:
        values = {"${{ matrix.environment }}": self.environment, "campaign-sync-state": BRANCH}
        out = {}
        for key, value in (self.spec.get("env") or {}).items():
            assert value in values, f"job env {key}: {value!r} is not known to the test runner"
            out[key] = values[value]
        return out

    def step(self, name: str, **env: str) -> StepResult:
        found = [s for s in self.spec["steps"] if s.get("name") == name]
        assert len(found) == 1, f"no single step named {name!r}"
        spec = found[0]
        declared = set(spec.get("env") or {})
        assert set(env) == declared, (
            f"step {name!r} declares env {sorted(declared)}, the test gave {sorted(env)}"
        )
        self.steps_run += 1
        outputs = self.temp / f"output{self.steps_run}"
        summary = self.temp / f"summary{self.steps_run}"
        outputs.write_text("")
        summary.write_text("")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", spec["run"]],
            cwd=self.work,
            env=self.remote.env(
                GITHUB_ACTIONS="true",
                GITHUB_OUTPUT=str(outputs),
                GITHUB_STEP_SUMMARY=str(summary),
                RUNNER_TEMP=str(self.temp),
                GITHUB_SHA=SHA,
                GITHUB_REPOSITORY="acme/campaigns",
                GITHUB_SERVER_URL="https://github.test",
                GITHUB_RUN_ID="4242",
                NO_COLOR="1",
                **self.github,
                **self.job_env(),
                **env,
            ),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        text = summary.read_text()
        self.summary += text
        values: dict[str, str] = {}
        for line in outputs.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key] = value
        return StepResult(proc.returncode, proc.stdout, proc.stderr, values, text)


def steps_named(workflow_name: str, name: str) -> list[dict[str, Any]]:
    return [step for _job, step in steps(workflow(workflow_name)) if step.get("name") == name]

"""The state in CI: the workflows' own restore and save scripts, run against a real git remote.

The scripts are taken from the workflow templates as written and run the way GitHub runs a
`run:` step, in a shallow clone of a local bare repository standing in for GitHub. The state
branch holds one ``<environment>.state.json`` per environment.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.scaffold.runner import BRANCH, TOKEN, Job, Remote, StepResult, steps_named
from tests.scaffold.workflows import WORKFLOW_NAMES

PLAN, APPLY, DRIFT = WORKFLOW_NAMES
RESTORE = "Restore the state"
SAVE = "Save the state to the campaign-sync-state branch"
CONFIG = """\
version: 1
environments:
  prod:
    host: http://127.0.0.1:9
    streamId: st-prod
    accountId: acct-prod
  staging:
    host: http://127.0.0.1:9
    streamId: st-staging
    accountId: acct-staging
    state: states/staging.json
"""


def state(serial: int) -> str:
    return json.dumps({"version": 1, "serial": serial}) + "\n"


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path, {"campaign-sync.yaml": CONFIG})


def restore(job: Job) -> StepResult:
    result = job.step(RESTORE, GITHUB_TOKEN=TOKEN)
    assert result.code == 0, result.both
    return result


def save(job: Job, restored: StepResult) -> StepResult:
    assert restored.outputs["backend"] == "file"
    return job.step(
        SAVE, GITHUB_TOKEN=TOKEN, STATE_PATH=restored.outputs["path"], RESTORED=restored.outputs["blob"]
    )


def apply_run(remote: Remote, env: str, write: dict[str, str] | None) -> tuple[Job, StepResult]:
    """Restore, let the "apply" write ``write`` (suffix -> text) beside the state path, then save."""
    job = Job(remote, APPLY, "apply", environment=env)
    restored = restore(job)
    for suffix, text in (write or {}).items():
        path = job.work / (restored.outputs["path"] + suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return job, save(job, restored)


def test_the_restore_step_is_the_same_script_in_every_job() -> None:
    scripts = [s["run"] for name in WORKFLOW_NAMES for s in steps_named(name, RESTORE)]
    assert len(scripts) == 4  # plan (PR), plan and apply (merge), drift
    assert len(set(scripts)) == 1


def test_the_first_apply_starts_the_state_branch_with_the_state_files_only(remote: Remote) -> None:
    _job, saved = apply_run(
        remote, "prod", {"": state(1), ".backup": state(0), ".lock": "", ".lock.info": "{}"}
    )

    assert saved.code == 0, saved.both
    assert remote.state_files() == {
        "prod.state.json": state(1).strip(),
        "prod.state.json.backup": state(0).strip(),
    }
    parents = remote.git("rev-list", "--parents", "-n1", BRANCH, cwd=remote.bare).split()
    assert len(parents) == 1, "an orphan branch: none of main's files or history"
    assert "prod" in remote.git("log", "-1", "--format=%s", BRANCH, cwd=remote.bare)


def test_each_apply_restores_its_state_and_commits_the_new_one_on_top(remote: Remote) -> None:
    apply_run(remote, "prod", {"": state(1)})
    first = remote.state_head()

    job = Job(remote, APPLY, "apply", environment="prod")
    restored = restore(job)
    assert (job.work / ".campaign-sync" / "prod.state.json").read_text() == state(1)
    assert restored.outputs["commit"] == first
    (job.work / ".campaign-sync" / "prod.state.json").write_text(state(2))
    saved = save(job, restored)

    assert saved.code == 0, saved.both
    assert remote.git("rev-parse", f"{BRANCH}^", cwd=remote.bare) == first
    assert remote.state_files()["prod.state.json"] == state(2).strip()


def test_an_unchanged_state_makes_no_commit(remote: Remote) -> None:
    apply_run(remote, "prod", {"": state(1)})
    first = remote.state_head()

    _job, saved = apply_run(remote, "prod", None)

    assert saved.code == 0, saved.both
    assert "did not change" in saved.out
    assert remote.state_head() == first


def test_a_save_never_overwrites_its_environments_state_that_moved_meanwhile(remote: Remote) -> None:
    apply_run(remote, "prod", {"": state(1)})
    slow = Job(remote, APPLY, "apply", environment="prod")
    slow_restored = restore(slow)
    apply_run(remote, "prod", {"": state(2)})  # another writer of prod got there first
    moved = remote.state_head()

    (slow.work / ".campaign-sync" / "prod.state.json").write_text(state(3))
    saved = save(slow, slow_restored)

    assert saved.code == 1
    assert "changed since this run restored it" in saved.out
    assert remote.state_head() == moved
    assert remote.state_files()["prod.state.json"] == state(2).strip()


def test_two_environments_save_side_by_side_on_one_branch_each_to_its_own_file(remote: Remote) -> None:
    prod = Job(remote, APPLY, "apply", environment="prod")
    staging = Job(remote, APPLY, "apply", environment="staging")
    prod_restored, staging_restored = restore(prod), restore(staging)
    (prod.work / ".campaign-sync").mkdir(exist_ok=True)
    (prod.work / ".campaign-sync" / "prod.state.json").write_text(state(1))
    (staging.work / "states" / "staging.json").write_text(state(7))

    assert staging_restored.outputs["path"] == "states/staging.json"
    assert save(prod, prod_restored).code == 0
    saved = save(staging, staging_restored)  # restored before prod saved: still fine, not its file

    assert saved.code == 0, saved.both
    assert remote.state_files() == {
        "prod.state.json": state(1).strip(),
        "staging.state.json": state(7).strip(),
    }
    again = Job(remote, APPLY, "apply", environment="staging")
    restore(again)
    assert (again.work / "states" / "staging.json").read_text() == state(7)
    assert not (again.work / ".campaign-sync" / "prod.state.json").exists(), "only its own state"


def test_a_refused_push_is_tried_again_on_top_of_the_new_tip(remote: Remote) -> None:
    hook = remote.bare / "hooks" / "pre-receive"
    marker = remote.root / "refused-once"
    hook.write_text(
        f'#!/bin/sh\nif [ ! -e "{marker}" ]; then touch "{marker}"; echo refused >&2; exit 1; fi\n'
    )
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)

    _job, saved = apply_run(remote, "prod", {"": state(1)})

    assert saved.code == 0, saved.both
    assert "refused (attempt 1)" in saved.out
    assert remote.state_files() == {"prod.state.json": state(1).strip()}


def test_without_any_state_file_nothing_is_saved(remote: Remote) -> None:
    _job, saved = apply_run(remote, "prod", {})

    assert saved.code == 0, saved.both
    assert remote.state_head() is None


@pytest.mark.parametrize(("workflow", "job_id"), [(PLAN, "plan"), (DRIFT, "drift")])
def test_plan_and_drift_read_the_state_and_start_without_one(
    remote: Remote, workflow: str, job_id: str
) -> None:
    empty = Job(remote, workflow, job_id, environment="prod")
    restore(empty)
    assert not (empty.work / ".campaign-sync" / "prod.state.json").exists()

    apply_run(remote, "prod", {"": state(4)})
    job = Job(remote, workflow, job_id, environment="prod")
    restore(job)

    assert (job.work / ".campaign-sync" / "prod.state.json").read_text() == state(4)
    assert remote.git("status", "--porcelain", "--untracked-files=no", cwd=job.work) == ""
    assert not any(step.get("name") == SAVE for step in job.spec["steps"]), "plan and drift never write it"


def test_the_job_token_reaches_git_only_through_the_environment_and_is_masked(remote: Remote) -> None:
    job = Job(remote, APPLY, "apply", environment="prod")
    restored = restore(job)

    masks = [line for line in restored.out.splitlines() if line.startswith("::add-mask::")]
    assert len(masks) == 1
    assert TOKEN not in (job.work / ".git" / "config").read_text()
    assert masks[0].removeprefix("::add-mask::") not in (job.work / ".git" / "config").read_text()


@pytest.mark.parametrize(("workflow", "job_id"), [(APPLY, "apply"), (PLAN, "plan")])
def test_an_unreachable_remote_fails_the_restore_instead_of_starting_without_state(
    remote: Remote, workflow: str, job_id: str
) -> None:
    job = Job(remote, workflow, job_id, environment="prod")
    remote.git("remote", "set-url", "origin", (remote.root / "nowhere.git").as_uri(), cwd=job.work)

    result = job.step(RESTORE, GITHUB_TOKEN=TOKEN)

    assert result.code not in (0, 2)
    assert not (job.work / ".campaign-sync" / "prod.state.json").exists()


def test_the_save_runs_after_a_failed_apply_but_only_for_the_file_backend() -> None:
    (save_step,) = steps_named(APPLY, SAVE)
    assert save_step["if"] == (
        "${{ always() && steps.restore.outcome == 'success' && steps.restore.outputs.backend == 'file' }}"
    )


def test_an_environment_kept_in_postgres_never_touches_the_state_branch(tmp_path: Path) -> None:
    remote = Remote(
        tmp_path,
        {
            "campaign-sync.yaml": CONFIG
            + "  pg:\n    host: http://127.0.0.1:9\n    streamId: st-pg\n    accountId: acct-pg\n"
            "    state: {backend: postgres, dsnEnv: CAMPAIGN_SYNC_PG_DSN}\n"
        },
    )
    job = Job(remote, APPLY, "apply", environment="pg")
    remote.git("remote", "set-url", "origin", (remote.root / "nowhere.git").as_uri(), cwd=job.work)

    result = job.step(RESTORE, GITHUB_TOKEN=TOKEN)

    assert result.code == 0, result.both
    assert result.outputs["backend"] == "postgres"
    assert "no state branch" in result.out
    assert "::add-mask::" not in result.out, "no token handed to git: git is not used"

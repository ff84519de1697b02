"""The GitOps loop end to end: the workflows' own scripts, the real command, the emulator, GitHub.

Each job runs its steps as written in the templates (tests/scaffold/runner.py), in a shallow
clone of a local bare repository, against the emulator on 127.0.0.1 for Kore.ai and a local
stand-in for the GitHub REST endpoints the scripts call (tests/scaffold/github_api.py). What a
job's ``needs`` and ``matrix`` would carry between jobs is passed the way GitHub passes it: the
environments job's output, expanded with ``fromJSON``; the plan artifacts, downloaded into
``plans/``.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import ACCOUNT, CANARY_SECRET, CLIENT_ID, STREAM, Emulator
from tests.e2e.support import BASE, BILL, FLOWS_CONFIG, base_seed
from tests.scaffold.github_api import BOT, GitHub
from tests.scaffold.runner import TOKEN, Job, Remote, StepResult
from tests.scaffold.workflows import WORKFLOW_NAMES

pytestmark = pytest.mark.e2e
PLAN, APPLY, DRIFT = WORKFLOW_NAMES
SECRETS = {"KORE_CLIENT_ID": CLIENT_ID, "KORE_CLIENT_SECRET": CANARY_SECRET, "CAMPAIGN_SYNC_PG_DSN": ""}
HEAD = "fedcba9876543210fedcba9876543210fedcba98"


def config(emulator: Emulator, *names: str) -> str:
    out = ["version: 1", "manifests: [manifests]", "environments:"]
    for index, name in enumerate(names or ("prod",)):
        account = ACCOUNT if index == 0 else f"{ACCOUNT[:-4]}{index:04d}"
        out.append(
            textwrap.indent(
                textwrap.dedent(
                    f"""\
                    {name}:
                      host: {emulator.url}
                      streamId: {STREAM}
                      accountId: {account}
                      rateLimit: 6000
                      vars: {{callerId: "+14155550199"}}
                      {FLOWS_CONFIG.strip()}
                    """
                ),
                "  ",
            ).rstrip()
        )
    return "\n".join(out) + "\n"


def base_files(emulator: Emulator, *names: str) -> dict[str, str]:
    files = {"campaign-sync.yaml": config(emulator, *names)}
    for path in sorted((BASE / "manifests").glob("*.yaml")):
        files[f"manifests/{path.name}"] = path.read_text()
    return files


def edited(files: dict[str, str], rel: str, old: str, new: str) -> dict[str, str]:
    assert old in files[rel], old
    return {**files, rel: files[rel].replace(old, new, 1)}


@pytest.fixture
def github() -> Iterator[GitHub]:
    api = GitHub(token=TOKEN).start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    emulator.seed(base_seed())
    emulator.clear_journal()
    return emulator


def environments(remote: Remote, workflow: str) -> list[str]:
    """The matrix GitHub builds: ``fromJSON(needs.environments.outputs.names)``."""
    listed = Job(remote, workflow, "environments").step("List the environments")
    assert listed.code == 0, listed.both
    names = json.loads(listed.outputs["names"])
    assert isinstance(names, list)
    return names


def restored(job: Job, *, validate: bool = True) -> StepResult:
    result = job.step("Restore the state", GITHUB_TOKEN=TOKEN)
    assert result.code == 0, result.both
    if validate:
        valid = job.step("Validate the config and manifests (offline)")
        assert valid.code == 0, valid.both
    return result


@pytest.mark.parametrize("workflow", WORKFLOW_NAMES)
def test_a_two_environment_repository_makes_a_two_entry_matrix_in_every_workflow(
    tmp_path: Path, emulator: Emulator, workflow: str
) -> None:
    remote = Remote(tmp_path, base_files(emulator, "prod", "staging"))

    assert environments(remote, workflow) == ["prod", "staging"]
    assert emulator.journal() == [], "listing the environments reads only the config"


# --- pull request: one comment per environment ------------------------------------------------------


def comment_step(job: Job, github: GitHub, pr: int, *, outcome: str, digest: str) -> StepResult:
    result = job.step(
        "Post or update the plan comment",
        GITHUB_TOKEN=github.token,
        PR_NUMBER=str(pr),
        HEAD_SHA=HEAD,
        PLAN_OUTCOME=outcome,
        DIGEST=digest,
    )
    assert result.code == 0, result.both
    return result


def pr_plan(remote: Remote, github: GitHub, env: str, pr: int) -> tuple[Job, StepResult]:
    job = Job(remote, PLAN, "plan", environment=env, github={"GITHUB_API_URL": github.url})
    restored(job)
    plan = job.step("Plan", **SECRETS)
    comment_step(
        job,
        github,
        pr,
        outcome="success" if plan.code == 0 else "failure",
        digest=plan.outputs.get("digest", ""),
    )
    return job, plan


def test_the_comment_step_posts_once_then_edits_in_place_found_by_marker_across_pages(
    tmp_path: Path, github: GitHub
) -> None:
    remote = Remote(tmp_path, {"campaign-sync.yaml": "version: 1\n"})
    github.page_size = 2
    pr = github.pull_request()
    for index in range(3):
        github.human_comment(pr, f"looks good {index}")
    github.human_comment(pr, "<!-- campaign-sync-plan:prod -->\nquoted by a person")
    job = Job(remote, PLAN, "plan", environment="prod", github={"GITHUB_API_URL": github.url})
    plan = "### campaign-sync will make these changes · `prod`\n\nüñí " + "x" * 62_000 + "\n"
    (job.work / "plan.md").write_text(plan, encoding="utf-8")

    comment_step(job, github, pr, outcome="success", digest="sha256:" + "1" * 64)
    (first,) = [c for c in github.comments_on(pr) if c["user"] == BOT]
    (job.work / "plan.md").write_text("### campaign-sync: no changes · `prod`\n", encoding="utf-8")
    comment_step(job, github, pr, outcome="success", digest="sha256:" + "2" * 64)

    ours = [c for c in github.comments_on(pr) if c["user"] == BOT]
    assert [c["id"] for c in ours] == [first["id"]], "one comment, edited in place"
    assert ours[0]["body"].startswith("<!-- campaign-sync-plan:prod -->\n### campaign-sync: no changes")
    assert "sha256:" + "2" * 64 in ours[0]["body"]
    posted = [c.body for c in github.writes() if c.method == "POST"]
    assert posted == [{"body": posted[0]["body"]}]
    assert plan.rstrip("\n") in posted[0]["body"], "the product's text, never cut by the workflow"
    assert github.comments_on(pr)[3]["body"].endswith("quoted by a person"), (
        "a person's comment is never edited"
    )
    assert [c.method for c in github.writes()] == ["POST", "PATCH"]


def test_a_thousand_update_plan_with_emoji_is_posted_whole_under_githubs_limit(
    tmp_path: Path, github: GitHub
) -> None:
    from campaign_sync.core.diff import FieldChange
    from campaign_sync.core.plan import Action, Change, Plan, Summary
    from campaign_sync.report import render_plan
    from campaign_sync.report.markdown import COMMENT_LIMIT, utf16_len

    changes = tuple(
        Change(
            f"k{i:04d}",
            Action.UPDATE,
            "sms",
            f"@team \U0001f389 {i}",
            f"cd-{i}",
            (FieldChange("description", "old", "\U0001f680" * 60),),
        )
        for i in range(1000)
    )
    markdown = render_plan(Plan("prod", changes, Summary(update=1000)), "markdown")
    remote = Remote(tmp_path, {"campaign-sync.yaml": "version: 1\n"})
    pr = github.pull_request()
    job = Job(remote, PLAN, "plan", environment="prod", github={"GITHUB_API_URL": github.url})
    (job.work / "plan.md").write_text(markdown, encoding="utf-8")

    comment_step(job, github, pr, outcome="success", digest="sha256:" + "1" * 64)

    (comment,) = github.comments_on(pr)
    assert markdown.rstrip("\n") in comment["body"], "posted whole: the workflow never cuts it"
    assert len(comment["body"]) < utf16_len(comment["body"]) <= COMMENT_LIMIT
    assert "artifact of this workflow run" in comment["body"]


def test_a_failed_plan_replaces_the_comment_so_no_stale_plan_stays_visible(
    tmp_path: Path, github: GitHub
) -> None:
    remote = Remote(tmp_path, {"campaign-sync.yaml": "version: 1\n"})
    pr = github.pull_request()
    job = Job(remote, PLAN, "plan", environment="prod", github={"GITHUB_API_URL": github.url})
    (job.work / "plan.md").write_text("### campaign-sync will make these changes · `prod`\n")
    comment_step(job, github, pr, outcome="success", digest="sha256:" + "1" * 64)

    comment_step(job, github, pr, outcome="failure", digest="")

    (comment,) = github.comments_on(pr)
    assert "### campaign-sync plan of `prod` failed" in comment["body"]
    assert "will make these changes" not in comment["body"]
    assert "https://github.test/acme/campaigns/actions/runs/4242" in comment["body"]


def test_a_pull_request_gets_one_plan_comment_per_environment_with_its_digest(
    tmp_path: Path, seeded: Emulator, github: GitHub
) -> None:
    files = base_files(seeded, "prod", "staging")
    remote = Remote(
        tmp_path, edited(files, "manifests/sms.yaml", "Due date reminder", "Due date reminder, now")
    )
    pr = github.pull_request()

    names = environments(remote, PLAN)
    assert names == ["prod", "staging"], "a two-entry matrix"
    plans = {env: pr_plan(remote, github, env, pr) for env in names}
    for env in names:  # the next push
        pr_plan(remote, github, env, pr)

    comments = github.comments_on(pr)
    assert len(comments) == 2
    for env, (job, plan) in plans.items():
        assert plan.code == 0, plan.both
        digest = json.loads((job.work / "plan.json").read_text())["plan"]["digest"]
        assert plan.outputs["digest"] == digest
        assert digest.startswith("sha256:")
        (comment,) = [c for c in comments if c["body"].startswith(f"<!-- campaign-sync-plan:{env} -->\n")]
        assert (job.work / "plan.md").read_text().rstrip("\n") in comment["body"]
        assert f"digest `{digest}`" in comment["body"]
        assert plan.summary == (job.work / "plan.md").read_text()
    assert seeded.writes() == [], "planning never writes"
    assert all(CANARY_SECRET not in c["body"] for c in comments)


# --- merge: apply exactly the plan that was shown -----------------------------------------------------


def merge_plan(remote: Remote, env: str) -> tuple[Job, StepResult]:
    job = Job(remote, APPLY, "plan", environment=env)
    restored(job)
    plan = job.step("Plan", **SECRETS)
    assert plan.code == 0, plan.both
    return job, plan


def collect(tmp_path: Path, remote: Remote, plan_jobs: list[Job], *, refresh: str = "") -> StepResult:
    """What download-artifact puts in plans/, then the job that turns it into outputs."""
    work = tmp_path / "plans-job"
    for job in plan_jobs:
        env = job.environment
        folder = work / "plans" / f"campaign-sync-plan-{env}"
        folder.mkdir(parents=True)
        for name in ("plan.json", "plan.md"):
            shutil.copy(job.work / name, folder / name)
    work.mkdir(exist_ok=True)
    names = json.dumps(environments(remote, APPLY))
    result = Job(remote, APPLY, "plans", work=work).step("Collect the digests", NAMES=names, REFRESH=refresh)
    assert result.code == 0, result.both
    return result


def apply_job(
    remote: Remote, env: str, digests: str, *, refresh: str = ""
) -> tuple[Job, StepResult, StepResult]:
    job = Job(remote, APPLY, "apply", environment=env)
    restore = restored(job)
    applied = job.step(
        "Apply", **SECRETS, DIGESTS=digests, FORCE="false", ALLOW_DELETE="false", REFRESH=refresh
    )
    saved = job.step(
        "Save the state to the campaign-sync-state branch",
        GITHUB_TOKEN=TOKEN,
        STATE_PATH=restore.outputs["path"],
        RESTORED=restore.outputs["blob"],
    )
    assert saved.code == 0, saved.both
    return job, applied, saved


def test_merge_applies_exactly_the_digest_of_the_plan_shown_after_approval(
    tmp_path: Path, seeded: Emulator
) -> None:
    files = base_files(seeded)
    remote = Remote(tmp_path, files)
    remote.push_files(
        edited(files, "manifests/sms.yaml", "Due date reminder", "Due date reminder, now"), "merge"
    )

    (env,) = environments(remote, APPLY)
    plan_job, plan = merge_plan(remote, env)
    shown = json.loads((plan_job.work / "plan.json").read_text())["plan"]
    assert [(c["action"], c["key"]) for c in shown["changes"]] == [("update", "bill-reminder")]
    assert plan.outputs == {"digest": shown["digest"], "changes": "1"}
    assert shown["digest"] in plan.summary
    assert (plan_job.work / "plan.md").read_text() in plan.summary
    plans = collect(tmp_path, remote, [plan_job])
    assert json.loads(plans.outputs["environments"]) == ["prod"]
    assert json.loads(plans.outputs["digests"]) == {"prod": shown["digest"]}
    seeded.clear_journal()

    _job, applied, saved = apply_job(remote, env, plans.outputs["digests"])

    assert applied.code == 0, applied.both
    writes = seeded.writes()
    assert [(w["method"], w["path"].rsplit("/", 1)[-1].split("?")[0]) for w in writes] == [("PUT", BILL)]
    assert seeded.campaign(BILL)["description"] == "Due date reminder, now"
    assert "applied the approved plan" in applied.summary
    assert CANARY_SECRET not in applied.summary + applied.both + plan.summary + plan.both
    assert "saved to campaign-sync-state" in saved.out
    again_job, again = merge_plan(remote, env)
    assert again.outputs["changes"] == "0", "the next plan shows nothing left"
    assert json.loads((again_job.work / "plan.json").read_text())["plan"]["summary"]["update"] == 0


def test_a_dispatched_state_refresh_writes_nothing_to_kore_and_leaves_plans_needing_list_calls_only(
    tmp_path: Path, seeded: Emulator
) -> None:
    remote = Remote(tmp_path, base_files(seeded))
    assert remote.state_head() is None, "no state yet: every plan would read each matched campaign"

    plans = collect(tmp_path, remote, [], refresh="true")
    assert json.loads(plans.outputs["environments"]) == ["prod"], "every environment, no plan needed"
    assert json.loads(plans.outputs["digests"]) == {}
    seeded.clear_journal()
    _job, refreshed, saved = apply_job(remote, "prod", plans.outputs["digests"], refresh="true")

    assert refreshed.code == 0, refreshed.both
    assert seeded.writes() == [], "a refresh never writes to Kore"
    assert "refreshed the state of `prod` (no write to Kore)" in refreshed.summary
    assert CANARY_SECRET not in refreshed.summary + refreshed.both + saved.both
    assert "saved to campaign-sync-state" in saved.out
    state = json.loads(remote.state_files()["prod.state.json"])
    assert BILL in {record["id"] for record in state["campaigns"].values()}, "the name match is recorded"
    seeded.clear_journal()
    _plan_job, plan = merge_plan(remote, "prod")
    assert plan.outputs["changes"] == "0"
    reads = [r for r in seeded.journal() if r["method"] == "GET"]
    assert reads == [], "after the refresh a plan reads no campaign one by one"


def test_merge_refuses_with_zero_writes_and_shows_the_new_plan_when_live_moved_after_approval(
    tmp_path: Path, seeded: Emulator
) -> None:
    files = base_files(seeded)
    remote = Remote(tmp_path, files)
    remote.push_files(
        edited(files, "manifests/sms.yaml", "Due date reminder", "Due date reminder, now"), "merge"
    )
    (env,) = environments(remote, APPLY)
    plan_job, _plan = merge_plan(remote, env)
    plans = collect(tmp_path, remote, [plan_job])
    seeded.patch(BILL, {"priority": "1"})  # someone edits the campaign in the UI meanwhile
    seeded.clear_journal()

    _job, applied, _saved = apply_job(remote, env, plans.outputs["digests"])

    assert applied.code == 1
    assert seeded.writes() == [], "nothing written"
    assert seeded.campaign(BILL)["description"] == "Due date reminder"
    assert "failed" in applied.summary
    assert "priority" in applied.summary, "the new plan, with the UI edit, is in the summary"
    assert "priority" in applied.out, "and in the log"


def test_a_plan_without_changes_asks_nobody_for_approval(tmp_path: Path, seeded: Emulator) -> None:
    remote = Remote(tmp_path, base_files(seeded))
    (env,) = environments(remote, APPLY)
    plan_job, plan = merge_plan(remote, env)

    plans = collect(tmp_path, remote, [plan_job])

    assert plan.outputs["changes"] == "0"
    assert json.loads(plans.outputs["environments"]) == []
    assert "Nothing to apply" in plan.summary


# --- drift: one issue per environment ------------------------------------------------------------------


def drift_issue(remote: Remote, github: GitHub, env: str, status: str, report: str | None) -> StepResult:
    job = Job(remote, DRIFT, "drift", environment=env, github={"GITHUB_API_URL": github.url})
    if report is not None:
        (job.work / "drift-report").mkdir()
        (job.work / "drift-report" / "drift.md").write_text(report)
    result = job.step("Open, update or close the drift issue", GITHUB_TOKEN=github.token, DRIFT_STATUS=status)
    assert result.code == 0, result.both
    return result


def test_drift_opens_one_issue_per_environment_updates_it_while_it_persists_and_closes_it(
    tmp_path: Path, github: GitHub
) -> None:
    remote = Remote(tmp_path, {"campaign-sync.yaml": "version: 1\n"})
    github.pull_request()  # pull requests share the issue list; never taken for a drift issue

    drift_issue(remote, github, "prod", "2", "### Drift in `prod`: 1 changed\n")
    drift_issue(remote, github, "staging", "2", "### Drift in `staging`: 1 missing\n")
    drift_issue(remote, github, "prod", "2", "### Drift in `prod`: 2 changed\n")

    issues = {i["title"]: i for i in github.open_issues()}
    assert set(issues) == {"campaign-sync: drift in prod", "campaign-sync: drift in staging"}
    assert issues["campaign-sync: drift in prod"]["body"].startswith(
        "<!-- campaign-sync-drift:prod -->\n### Drift in `prod`: 2 changed"
    )
    assert [c.method for c in github.writes()] == ["POST", "POST", "PATCH"]

    cleared = drift_issue(remote, github, "prod", "0", None)
    quiet = drift_issue(remote, github, "prod", "0", None)

    assert [i["title"] for i in github.open_issues()] == ["campaign-sync: drift in staging"]
    closed = issues["campaign-sync: drift in prod"]
    assert (closed["state"], closed["state_reason"]) == ("closed", "completed")
    assert "No drift in `prod` any more" in github.comments_on(closed["number"])[0]["body"]
    assert "closed" in cleared.out
    assert "no drift issue open" in quiet.out
    assert len(github.writes()) == 5


def test_nightly_drift_reads_live_once_and_publishes_every_format_and_the_issue(
    tmp_path: Path, seeded: Emulator, github: GitHub
) -> None:
    remote = Remote(tmp_path, base_files(seeded))
    (env,) = environments(remote, APPLY)
    plan_job, _plan = merge_plan(remote, env)
    apply_job(
        remote,
        env,
        json.dumps({env: json.loads((plan_job.work / "plan.json").read_text())["plan"]["digest"]}),
    )
    seeded.patch(BILL, {"description": "edited in the UI"})
    seeded.clear_journal()

    job = Job(remote, DRIFT, "drift", environment=env, github={"GITHUB_API_URL": github.url})
    restored(job, validate=False)
    drift = job.step("Check for drift", **SECRETS)
    drift_issue_result = job.step(
        "Open, update or close the drift issue",
        GITHUB_TOKEN=github.token,
        DRIFT_STATUS=drift.outputs["status"],
    )

    assert drift.code == 2, drift.both
    assert drift.outputs["status"] == "2"
    report = job.work / "drift-report"
    published = {"drift.html", "drift.json", "drift.junit.xml", "drift.md"}
    assert published <= {p.name for p in report.iterdir()}
    lists = [e for e in seeded.journal() if e["path"].endswith("getAllCampaignDetails")]
    assert len(lists) == 2, "one read of live: one list call per campaign type"
    assert (report / "drift.md").read_text() in drift.summary
    assert "#### JUnit:" in drift.summary
    assert "1 with drift" in drift.summary
    assert drift_issue_result.code == 0, drift_issue_result.both
    (issue,) = github.open_issues()
    assert "edited in the UI" in issue["body"]

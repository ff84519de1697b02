"""The GitHub workflows ``campaign-sync init`` writes, and the rules every workflow here must keep.

Each rule is a function returning the violations it finds in one parsed workflow (empty when
the workflow keeps it), so the tests can show each rule passing on the real files and failing
on a broken one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from campaign_sync.manifests.yamlsafe import load

REPO = Path(__file__).resolve().parents[2]
SCAFFOLD = REPO / "campaign_sync" / "scaffold" / "github" / "workflows"
TEMPLATES = REPO / ".github" / "workflow-templates"
WORKFLOW_NAMES = ("campaign-sync-plan.yml", "campaign-sync-apply.yml", "campaign-sync-drift.yml")
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
PIN_COMMENT = re.compile(r"uses: \S+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
READ_ONLY = {"read", "none"}


def all_workflow_files() -> list[Path]:
    """The three templates and every workflow of this repository."""
    own = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
    return [*(TEMPLATES / name for name in WORKFLOW_NAMES), *own]


def parse(text: str) -> dict[str, Any]:
    """YAML 1.2 (our loader): ``on:`` stays the string "on", as GitHub reads it."""
    data = load(text, "<workflow>")
    assert isinstance(data, dict)
    return data


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every scalar with its path (list items as ``[i]``)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, f"[{index}]"))
    else:
        yield path, node


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_id, step


def triggers(workflow: dict[str, Any]) -> set[str]:
    on = workflow.get("on")
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    return set(on or {})


# --- rules -----------------------------------------------------------------------------------


def pull_request_target_problems(workflow: dict[str, Any], text: str) -> list[str]:
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # comments may name it
    found = "pull_request_target" in triggers(workflow) or "pull_request_target" in code
    return ["uses pull_request_target"] if found else []


def pin_problems(workflow: dict[str, Any], text: str) -> list[str]:
    problems = []
    uses = [v for p, v in walk(workflow) if p and p[-1] == "uses" and isinstance(v, str)]
    for value in uses:
        if value.startswith("./"):
            continue
        if not PINNED.match(value):
            problems.append(f"{value}: not pinned to a full 40-hex commit SHA")
    for line in text.splitlines():
        stripped = line.strip().removeprefix("- ")
        local = stripped.startswith("uses: ./")
        if stripped.startswith("uses:") and not local and not PIN_COMMENT.search(stripped):
            problems.append(f"{stripped}: no '# vX.Y.Z' comment naming the pinned release")
    return problems


def permission_problems(workflow: dict[str, Any], _text: str) -> list[str]:
    problems = []
    top = workflow.get("permissions")
    if top is None:
        problems.append("no top-level permissions")
    elif top not in ({}, "read-all") and not (isinstance(top, dict) and set(top.values()) <= READ_ONLY):
        problems.append(f"top-level permissions are not read-only: {top}")
    for job_id, job in workflow.get("jobs", {}).items():
        if "permissions" not in job:
            problems.append(f"job {job_id} has no permissions")
    return problems


def secret_problems(workflow: dict[str, Any], _text: str) -> list[str]:
    """Secrets may appear only as whole values under an ``env:`` mapping."""
    problems = []
    for path, value in walk(workflow):
        if not isinstance(value, str) or "secrets." not in value:
            continue
        under_env = len(path) >= 2 and path[-2] == "env"
        whole = re.fullmatch(r"\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}", value) is not None
        if not (under_env and whole):
            problems.append(f"{'.'.join(path)}: secret outside env: {value!r}")
    return problems


def script_problems(workflow: dict[str, Any], _text: str) -> list[str]:
    """No ``${{ }}`` inside a run: script or a github-script body: values come in through env."""
    problems = []
    for job_id, step in steps(workflow):
        bodies = [step.get("run"), (step.get("with") or {}).get("script")]
        for body in bodies:
            if isinstance(body, str) and "${{" in body:
                problems.append(
                    f"job {job_id}, step {step.get('name', step.get('uses'))}: ${{{{ }}}} in a script"
                )
    return problems


_PIPE = re.compile(r"(?<![|])\|(?![|])")


def pipefail_problems(workflow: dict[str, Any], _text: str) -> list[str]:
    """A script with a pipe must fail when any part fails: GitHub's default ``bash -e {0}`` has no
    pipefail (``false | tee log`` would pass); ``shell: bash`` runs ``bash -eo pipefail {0}``."""
    problems = []
    top = ((workflow.get("defaults") or {}).get("run") or {}).get("shell")
    for job_id, job in workflow.get("jobs", {}).items():
        job_shell = ((job.get("defaults") or {}).get("run") or {}).get("shell", top)
        for step in job.get("steps", []):
            script = step.get("run")
            if not isinstance(script, str) or not _PIPE.search(script):
                continue
            if step.get("shell", job_shell) != "bash" and "pipefail" not in script:
                problems.append(f"job {job_id}, step {step.get('name', '?')}: a pipe without pipefail")
    return problems


def checkout_problems(workflow: dict[str, Any], _text: str) -> list[str]:
    """``actions/checkout`` must not leave the job token in ``.git/config`` for later steps."""
    problems = []
    for job_id, step in steps(workflow):
        checkout = str(step.get("uses", "")).startswith("actions/checkout@")
        if checkout and (step.get("with") or {}).get("persist-credentials") is not False:
            problems.append(f"job {job_id}: checkout without persist-credentials: false")
    return problems


def environment_problems(workflow: dict[str, Any], _text: str) -> list[str]:
    """A job that reads a secret runs in a GitHub Environment (secrets are set only there)."""
    problems = []
    for job_id, job in workflow.get("jobs", {}).items():
        reads = any(isinstance(v, str) and "secrets." in v for _p, v in walk(job))
        if reads and not job.get("environment"):
            problems.append(f"job {job_id} reads secrets outside a GitHub Environment")
    return problems


RULES = (
    pull_request_target_problems,
    pin_problems,
    permission_problems,
    secret_problems,
    script_problems,
    pipefail_problems,
    checkout_problems,
    environment_problems,
)


def problems(text: str) -> list[str]:
    workflow = parse(text)
    return [p for rule in RULES for p in rule(workflow, text)]


def run_scripts(workflow: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for job_id, step in steps(workflow):
        if isinstance(step.get("run"), str):
            yield f"{job_id}: {step.get('name', step['run'].splitlines()[0])}", step["run"]


def step_named(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    found = [step for _job, step in steps(workflow) if step.get("name") == name]
    assert len(found) == 1, f"no single step named {name!r}"
    return found[0]

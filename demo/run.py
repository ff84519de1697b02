"""`make demo`: the whole campaign-sync workflow against the local emulator, narrated.

What it does, on loopback only and with nothing but the installed package and the standard
library:

1. makes a fresh work directory ``demo/.work/`` (the previous one is deleted; it is gitignored),
   copies the example ``manifests/`` into it and writes a ``campaign-sync.yaml`` pointing at
   the emulator's actual port;
2. starts the real emulator (``campaign-sync emulator --port 0``) as a child process and reads
   its URL from the first line it prints; it is stopped with Ctrl-C (SIGINT) at the end, and on
   any failure;
3. seeds it through the control API so that live differs from the manifests: two example
   campaigns already exist with a few fields changed (adopted by name, then updated), one
   exists exactly as written (adopted, no write), the others are missing (created), and one
   campaign that someone made in the UI is not in any manifest (unmanaged: left alone);
4. runs the real ``campaign-sync`` command, step by step: validate, plan, the Markdown plan a
   pull request gets, a saved plan, apply of that plan, a plan that shows no changes, an edit
   "in the UI" (control API), the plan that shows it, and drift (text and an HTML report);
5. checks every command's exit code against what the step expects and exits 1 at the first
   surprise, then prints a summary of what happened and where the files are.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from campaign_sync.emulator.registry import derived_id

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "demo" / ".work"
ENV_NAME = "local"
STREAM = "st-0603182c-7ffb-53c3-b307-47ca14b90001"
ACCOUNT = "67777ce93e25326494e90001"
CLIENT_ID = "campaign-sync-demo"
# The emulator's credentials for this demo: made up, valid only for the emulator on loopback.
CLIENT_SECRET = "campaign-sync-demo-secret-for-the-local-emulator-only"  # noqa: S105
EMULATOR_RATE = 600  # requests per minute: a modest limit, well above what the demo makes
STARTUP_SECONDS = 30.0
STEP_TIMEOUT = 120.0
SMS_FLOW = "SMS Support Flow"

CONFIG = """\
# campaign-sync configuration for the demo (written by demo/run.py): the example manifests,
# against the emulator the demo started on {url}.
version: 1
manifests: [manifests]
environments:
  {env}:
    host: {url}          # http is allowed only for loopback hosts
    streamId: {stream}
    accountId: {account}
    auth:                                 # names of environment variables, never values
      clientIdEnv: KORE_CLIENT_ID
      clientSecretEnv: KORE_CLIENT_SECRET
    rateLimit: 60                         # requests per minute for the account
    parallelism: 4
    vars:                                 # for manifests/sms/appointment-reminder.yaml.j2
      callerId: "+14155550199"
    experienceFlows:                      # flow name -> id; the API returns only the id
      {flow}: {flow_id}
"""

# Live campaigns before the demo starts (v2 create bodies, as the API spells them).
SEED_CAMPAIGNS: list[dict[str, Any]] = [
    {
        # In manifests/sms/interactive-support.yaml, with an older description and priority.
        "name": "Interactive Support SMS Campaign",
        "description": "Chat-enabled SMS support",
        "contactLists": ["CL Only 2020 Dec 4"],
        "dncLists": {"name": "testdnc"},
        "priority": "3",
        "format": "advanced",
        "campaignType": "sms",
        "experienceFlowName": SMS_FLOW,
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+919876543210"},
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "Asia/Kolkata",
                "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}],
            },
        },
        "schedule": {"isSchedulingEnabled": False},
    },
    {
        # In manifests/voice/collections-preview.yaml, with a shorter ring time and one day fewer.
        "name": "Collections Preview",
        "description": "Agents review the account before calling about an overdue balance",
        "contactLists": ["CL Only 2020 Dec 4"],
        "dncLists": {"name": "DNC CL Dec 4"},
        "priority": "2",
        "campaignType": "voice",
        "dialingMode": "Preview",
        "queue_name": "Support Queue",
        "maxSkips": 2,
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+14155550124"},
            "dialingOrder": "FIFO",
            "maxAttemptsPerRecord": 2,
            "defaultRetryPeriod": 120,
            "maxRingTime": 30,
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "America/Chicago",
                "days": [{"day": "TU", "start": "10:00 AM", "end": "4:00 PM"}],
            },
        },
    },
    {
        # Exactly manifests/sms/bill-reminder.yaml (the API stores the message base64-encoded).
        "name": "Bill Reminder",
        "description": "Friendly reminder three days before the bill is due",
        "contactLists": ["CL Only 2020 Dec 4"],
        "priority": "3",
        "format": "simple",
        "campaignType": "sms",
        "message": {"message": "WW91ciBiaWxsIGlzIGR1ZSBvbiBGcmlkYXkuIFJlcGx5IFNUT1AgdG8gb3B0IG91dC4="},
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+14155550100"},
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "America/Los_Angeles",
                "days": [
                    {"day": "MO", "start": "10:00 AM", "end": "5:00 PM"},
                    {"day": "WE", "start": "10:00 AM", "end": "5:00 PM"},
                    {"day": "FR", "start": "10:00 AM", "end": "3:00 PM"},
                ],
            },
        },
    },
    {
        # Made by someone in the UI; in no manifest, so campaign-sync never touches it.
        "name": "Holiday Promo (made in the UI)",
        "description": "Seasonal offer, managed by the marketing team by hand",
        "contactLists": ["Spring Promo Contacts"],
        "priority": "1",
        "format": "simple",
        "campaignType": "sms",
        "message": {"message": "SGFwcHkgaG9saWRheXMhIDIwJSBvZmYgdGhpcyB3ZWVrLg=="},
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+14155550177"},
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "America/New_York",
                "days": [{"day": "SA", "start": "10:00 AM", "end": "2:00 PM"}],
            },
        },
    },
]

# The out-of-band edit: what someone changes on "Interactive Support SMS Campaign" in the UI.
UI_EDIT: dict[str, Any] = {
    "description": "Chat-enabled SMS support, now also on Saturdays",
    "dialingStrategy": {
        "callingHours": {
            "days": [
                {"day": "MO", "start": "9:00 AM", "end": "7:00 PM"},
                {"day": "SA", "start": "10:00 AM", "end": "2:00 PM"},
            ]
        }
    },
}


class DemoFailure(Exception):
    """A step did not do what the demo expects; the message says which and why."""


# -- narration ----------------------------------------------------------------------------------------


def say(text: str = "") -> None:
    print(text, flush=True)


def note(text: str) -> None:
    """A line of narration, wrapped, before a step."""
    say()
    for line in textwrap.wrap(text, width=100):
        say(f"# {line}")


def paragraph(text: str) -> None:
    for line in textwrap.wrap(text, width=100):
        say(line)


def header(args: Sequence[str]) -> None:
    say()
    say("==> campaign-sync " + " ".join(args))


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


# -- the emulator ---------------------------------------------------------------------------------------


def command() -> list[str]:
    script = Path(sys.executable).with_name("campaign-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "campaign_sync"]


def child_env() -> dict[str, str]:
    return {
        **os.environ,
        "KORE_CLIENT_ID": CLIENT_ID,
        "KORE_CLIENT_SECRET": CLIENT_SECRET,
        "PYTHONUNBUFFERED": "1",
    }


class Emulator:
    """``campaign-sync emulator`` as a child process, and its control API."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self._log: IO[str] | None = None
        self._pump: threading.Thread | None = None
        # urllib without proxies: the emulator is on loopback, whatever http_proxy says.
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self) -> None:
        self._log = self.log_path.open("w", encoding="utf-8")
        args = [
            *command(),
            "emulator",
            "--port",
            "0",
            "--rate-limit",
            str(EMULATOR_RATE),
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=self._log, text=True, env=child_env(), cwd=WORK
        )
        lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(target=self._copy, args=(lines,), daemon=True)
        self._pump.start()
        try:
            first = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            raise DemoFailure(f"the emulator printed nothing in {STARTUP_SECONDS:.0f} s") from None
        prefix = "campaign-sync emulator listening on "
        if first is None or not first.startswith(prefix):
            raise DemoFailure(f"the emulator did not start (got {first!r}); see {rel(self.log_path)}")
        self.url = first[len(prefix) :].strip()
        self.call("GET", "health")

    def _copy(self, lines: queue.Queue[str | None]) -> None:
        """Hand the first line to ``start``, keep the rest in the log (so the pipe never fills)."""
        assert self.proc is not None
        assert self.proc.stdout is not None
        assert self._log is not None
        first = True
        for line in self.proc.stdout:
            if first:
                lines.put(line)
                first = False
            self._log.write(line)
            self._log.flush()
        if first:
            lines.put(None)

    def stop(self) -> int | None:
        """Ctrl-C, as a person would stop it; killed only if it does not stop within 10 s."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._pump is not None:
            self._pump.join(timeout=5)
        if self._log is not None:
            self._log.close()
        self.proc = None
        return proc.returncode

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1 (the emulator)
            f"{self.url}/__emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with self._http.open(request, timeout=30) as response:
                text = response.read().decode()
        except OSError as exc:
            raise DemoFailure(f"control API {method} /__emulator/{path} failed: {exc}") from None
        return json.loads(text) if text else None

    def seed(self, campaigns: list[dict[str, Any]]) -> dict[str, str]:
        return dict(self.call("POST", "seed", {"accountId": ACCOUNT, "campaigns": campaigns})["ids"])

    def campaigns(self) -> list[dict[str, Any]]:
        return list(self.call("GET", f"campaigns?accountId={ACCOUNT}"))


# -- the steps ----------------------------------------------------------------------------------------


def run(args: Sequence[str], expect: int, *, capture: bool = False) -> str:
    """Run ``campaign-sync ARGS`` in the work directory, show its output, check its exit code."""
    header(args)
    proc = subprocess.run(
        [*command(), *args],
        cwd=WORK,
        env=child_env(),
        stdout=subprocess.PIPE if capture else None,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    output = proc.stdout or ""
    if output:
        say(output.rstrip("\n"))
    if proc.returncode != expect:
        raise DemoFailure(f"`campaign-sync {' '.join(args)}` exited {proc.returncode}, expected {expect}")
    say(f"[exit {proc.returncode}]")
    return output


def prepare() -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    shutil.copytree(REPO / "manifests", WORK / "manifests")


def write_config(url: str) -> Path:
    path = WORK / "campaign-sync.yaml"
    flow_id = derived_id("flows", SMS_FLOW)
    path.write_text(
        CONFIG.format(url=url, env=ENV_NAME, stream=STREAM, account=ACCOUNT, flow=SMS_FLOW, flow_id=flow_id)
    )
    return path


def drift_steps(emulator: Emulator, results: dict[str, Any]) -> None:
    """Drift after the out-of-band edit: the text report, then the HTML one a scheduled job keeps.

    Shown only when this build has the ``drift`` command (``campaign-sync drift --help`` succeeds).
    """
    probe = subprocess.run(
        [*command(), "drift", "--help"], cwd=WORK, env=child_env(), capture_output=True, check=False
    )
    if probe.returncode != 0:
        note("This build has no `campaign-sync drift` command yet; skipping the drift steps.")
        return
    note(
        "Drift compares live with what campaign-sync last applied (the state), so the UI edit shows "
        "as `changed`, field by field, with the applied and the live value. Exit code 2 means drift."
    )
    run(["drift"], expect=2)
    report = WORK / "drift-report.html"
    note("The same report as HTML, as a scheduled job would keep it as an artifact.")
    run(["drift", "--format", "html", "--output", str(report.relative_to(WORK))], expect=2)
    if not report.is_file():
        raise DemoFailure(f"drift --output did not write {rel(report)}")
    say(f"HTML drift report: {rel(report)} ({report.stat().st_size:,} bytes)")
    results["drift_report"] = report


def story(emulator: Emulator, results: dict[str, Any]) -> None:
    note(
        f"Live before the demo: {len(SEED_CAMPAIGNS)} campaigns seeded through the emulator's control "
        "API. Two example campaigns exist with a few fields different (Interactive Support: "
        "description and priority; Collections Preview: ring time and calling days), Bill Reminder "
        "exists exactly as in its manifest, and 'Holiday Promo' was made by hand in the UI and is in "
        "no manifest. The other example campaigns do not exist yet."
    )
    ids = emulator.seed(SEED_CAMPAIGNS)
    for name, cid in ids.items():
        say(f"  seeded {cid}  {name}")
    results["ui_campaign"] = ids["Interactive Support SMS Campaign"]

    note("Offline check of the config and every manifest (no network).")
    run(["validate"], expect=0)

    note(
        "The plan: campaigns that exist with the same name are adopted (no state entry yet) and "
        "updated where they differ; missing ones are created; the UI-made campaign is unmanaged."
    )
    run(["plan"], expect=0)

    note("The same plan in Markdown, as a pull request comment (saved to demo/.work/plan.md).")
    markdown = run(["plan", "--format", "markdown"], expect=0, capture=True)
    plan_md = WORK / "plan.md"
    plan_md.write_text(markdown, encoding="utf-8")
    results["plan_md"] = plan_md

    note(
        "Save the plan for apply, as CI does on merge. --detailed-exitcode makes `plan` exit 2 "
        "when there are changes (0 when there are none)."
    )
    run(["plan", "--detailed-exitcode", "--out", "plan.json"], expect=2)
    results["plan_json"] = WORK / "plan.json"

    note(
        "Apply exactly that plan (the saved file is the approval): one POST per create, one PUT per "
        "update, nothing for the unchanged and unmanaged campaigns; state is saved after each write."
    )
    run(["apply", "plan.json"], expect=0)

    note("Plan again: live now matches the manifests.")
    run(["plan", "--detailed-exitcode"], expect=0)

    cid = results["ui_campaign"]
    note(
        f"Someone edits 'Interactive Support SMS Campaign' ({cid}) in the UI: a new description and "
        "different calling hours (Monday until 7 PM, and Saturdays). Here that is a PATCH to the "
        "emulator's control API:"
    )
    say(f"  PATCH /__emulator/campaigns/{cid}")
    for line in json.dumps(UI_EDIT, indent=2).splitlines():
        say(f"    {line}")
    emulator.call("PATCH", f"campaigns/{cid}", UI_EDIT)

    note(
        "The next plan notices the campaign's updatedAt moved, reads it, and shows the edit as an "
        "update: apply would put the manifest's values back with one PUT."
    )
    run(["plan"], expect=0)

    # -- drift: shown when the build has the command ------------------------------------------------
    drift_steps(emulator, results)


def summary(emulator: Emulator, results: Mapping[str, Any]) -> None:
    live = emulator.campaigns()
    state_path = WORK / ".campaign-sync" / f"{ENV_NAME}.state.json"
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.is_file() else {}
    managed = len(state.get("campaigns", {}))
    say()
    say("==> Summary")
    paragraph(
        f"The emulator holds {len(live)} campaigns: {managed} managed by campaign-sync "
        f"(state serial {state.get('serial', 0)}) and {len(live) - managed} unmanaged."
    )
    saved = json.loads(results["plan_json"].read_text())["plan"]
    counts = saved["summary"]
    adopted = sum(1 for c in saved["changes"] if c.get("adopted"))
    paragraph(
        f"The saved plan created {counts['create']} campaigns and updated {counts['update']} "
        f"({adopted} of them adopted by name); {counts['unchanged']} was adopted unchanged and "
        f"{counts['unmanaged']} unmanaged campaign was left alone. The out-of-band edit then showed "
        "up in plan as an update" + (" and in drift as a change." if "drift_report" in results else ".")
    )
    say("Files (the work directory is recreated on every run):")
    files = [
        ("config", WORK / "campaign-sync.yaml"),
        ("manifests", WORK / "manifests"),
        ("state", state_path),
        ("saved plan", results.get("plan_json")),
        ("PR comment", results.get("plan_md")),
        ("drift report", results.get("drift_report")),
        ("emulator log", WORK / "emulator.log"),
    ]
    for label, path in files:
        if isinstance(path, Path) and path.exists():
            say(f"  {label + ':':<14}{rel(path)}")


def main() -> int:
    started = time.monotonic()
    prepare()
    emulator = Emulator(WORK / "emulator.log")
    results: dict[str, Any] = {}
    try:
        note("Starting the Kore.ai campaign API emulator on loopback (campaign-sync emulator --port 0).")
        emulator.start()
        config = write_config(emulator.url)
        say(f"emulator: {emulator.url} (log: {rel(emulator.log_path)})")
        say(f"work directory: {rel(WORK)} (manifests copied from manifests/, config {rel(config)})")
        story(emulator, results)
        summary(emulator, results)
    except DemoFailure as exc:
        say()
        say(f"DEMO FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        say()
        say("demo interrupted")
        return 130
    finally:
        code = emulator.stop()
        if code not in (None, 0):
            say(f"note: the emulator exited {code}; see {rel(emulator.log_path)}")
    say(f"Demo finished in {time.monotonic() - started:.1f} s; the emulator was stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

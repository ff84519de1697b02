"""Benchmark: what a `plan` costs at 1,000, 5,000 and 10,000 campaigns (`make bench`).

Performance is measured here, never asserted by a timer: this script prints figures, and
``tests/bench`` checks only the request *counts* it writes with ``--json``.

For each size N the script

1. starts the emulator in this process (``EmulatorServer`` on 127.0.0.1, a free port, no server
   rate limit) and seeds N campaigns through its control API (``POST /__emulator/seed``, in
   chunks that stay under the 1 MiB body limit): 60 % simple SMS, 20 % advanced SMS and 20 %
   voice (half Progressive, half Agentless);
2. writes matching manifests (100 campaigns a file) and a ``campaign-sync.yaml`` into a temp
   workspace: ``rateLimit`` is set high so the client-side limiter does not dominate the
   timings, and the state lives in the temp dir;
3. runs an adopting apply once (every campaign is adopted by name and needs no write), so the
   state caches every live document;
4. measures a `plan` in sync and a `plan` after one campaign was edited out of band (control
   API ``PATCH``); with ``--full-refresh``, also a `plan --refresh full` (the naive refresh that
   GETs every campaign: N GETs, the slowest part of a run, so it is optional).

How it is driven, and why. The plans run **in-process** through ``campaign_sync.engine``: a
``Workspace`` with the real ``KoreClient`` speaking HTTP to the emulator over loopback. That
gives exact request counts from two independent sources (the client's ``counter`` and the
emulator's journal) and lets ``build_plan`` (normalise + diff, pure CPU) be timed on its own
with ``time.process_time()`` over the already-refreshed live data, and its allocations traced
with ``tracemalloc``. The in-sync plan is then run through the **real CLI** (``campaign-sync
plan`` as a subprocess, three times: the median is reported, the machine being shared) for the
number a user actually waits for, start-up and imports included, and for that process's peak
RSS.

The "at 60/min" columns put the request counts against the documented account limit of 60
requests per minute: every request spends one second of the account's budget. The client's
sliding-window limiter lets the first 60 requests of a minute go at once, so a plan of fewer
than 60 requests is not slowed at all; the naive refresh is, for minutes.

The goals table then puts, per size, the CLI plan's wall time and peak RSS, manifest loading
and ``build_plan`` per campaign, the plan's requests and the wall time of `campaign-sync validate`
next to the performance goals (printed, never asserted), plus the time of `campaign-sync --help`.

Usage: ``python bench/plan_refresh.py [--sizes 1000,5000,10000] [--json FILE] [--no-cli] [--full-refresh]``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from emulated import ACCOUNT, ENV_NAME, STREAM, ControlApi, child_environ, emulator

from campaign_sync import engine
from campaign_sync.core.plan import build_plan
from campaign_sync.emulator.registry import derived_id
from campaign_sync.manifests import parsecache
from campaign_sync.manifests.config import load_config
from campaign_sync.manifests.loader import load_desired
from campaign_sync.manifests.parsecache import ParseCache
from campaign_sync.redact import Redactor

PAGE = 100
DOCUMENTED_RATE = 60
CLIENT_RATE = 100_000
PARALLELISM = 8
PER_FILE = 100
DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
DEFAULT_SIZES = (1000, 5000, 10000)
HELP_RUNS = 5
#: Runs of each CLI plan: the machine is shared, so one run can land in a slow moment; the median
#: of three is reported (and the runs themselves in the details).
CLI_RUNS = 3

TIMEZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Asia/Kolkata")
CONTACT_LISTS = ("CL Only 2020 Dec 4", "Renewals Q3", "Spring Promo Contacts", "Newsletter Subscribers")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HOURS = (("9:00 AM", "5:00 PM"), ("8:30 AM", "6:00 PM"), ("10:00 AM", "4:00 PM"), ("11:00 AM", "8:00 PM"))
SMS_FLOW = "SMS Support Flow"
VOICE_FLOW = "Voice Flow 2"
QUEUES = ("Default Queue", "Support Queue", "Sales Queue")


# -- the campaigns ---------------------------------------------------------------------------------


def kind_of(index: int) -> str:
    """60 % simple SMS, 20 % advanced SMS, 10 % Progressive voice, 10 % Agentless voice."""
    slot = index % 10
    if slot < 6:
        return "sms-simple"
    if slot < 8:
        return "sms-advanced"
    return "voice-progressive" if slot == 8 else "voice-agentless"


def _hours(index: int) -> dict[str, Any]:
    start, end = HOURS[index % len(HOURS)]
    count = 1 + index % 5
    first = index % 3
    return {
        "frequency": "WEEKLY" if index % 4 else "DAILY",
        "timezone": TIMEZONES[index % len(TIMEZONES)],
        "days": [{"day": DAYS[first + d], "start": start, "end": end} for d in range(count)],
    }


def _phone(index: int) -> str:
    return f"+1415555{index % 10000:04d}"


def campaign(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One campaign as a manifest entry and as the equivalent v2 create body (the live side)."""
    kind = kind_of(index)
    lists = [CONTACT_LISTS[index % len(CONTACT_LISTS)]]
    if index % 3 == 0:
        lists.append(CONTACT_LISTS[(index + 1) % len(CONTACT_LISTS)])
    priority = 1 + index % 5
    common: dict[str, Any] = {
        "name": f"Bench {kind} {index:05d}",
        "description": f"Benchmark campaign {index}: {kind.replace('-', ' ')}",
        "contactLists": lists,
    }
    strategy: dict[str, Any] = {"callerId": {"phoneNumber": _phone(index)}, "callingHours": _hours(index)}
    manifest: dict[str, Any] = {"key": f"bench-{index:05d}", "campaignType": kind.split("-")[0], **common}
    body: dict[str, Any] = {"campaignType": manifest["campaignType"], **common, "priority": str(priority)}
    manifest["priority"] = priority
    if kind == "sms-simple":
        text = f"Reminder {index}: your bill is due on Friday. Reply STOP to opt out."
        manifest |= {"format": "simple", "message": {"message": text}, "dialingStrategy": strategy}
        encoded = base64.b64encode(text.encode()).decode()
        body |= {"format": "simple", "message": {"message": encoded}, "dialingStrategy": strategy}
    elif kind == "sms-advanced":
        extra = {
            "dncLists": {"name": "testdnc"},
            "format": "advanced",
            "experienceFlowName": SMS_FLOW,
            "dialingStrategy": strategy,
            "schedule": {"isSchedulingEnabled": False},
        }
        manifest |= extra
        body |= extra
    else:
        voice_strategy = {
            **strategy,
            "dialingOrder": "FIFO" if index % 2 else "LIFO",
            "maxAttemptsPerRecord": 1 + index % 5,
            "defaultRetryPeriod": 10 + index % 50,
            "maxRingTime": 20 + index % 20,
        }
        manifest |= {"dncLists": {"name": "DNC CL Dec 4"}, "dialingStrategy": voice_strategy}
        body |= {"dncLists": {"name": "DNC CL Dec 4"}, "dialingStrategy": voice_strategy}
        if kind == "voice-progressive":
            queue = QUEUES[index % len(QUEUES)]
            manifest |= {"dialingMode": "Progressive", "queueName": queue}
            body |= {"dialingMode": "Progressive", "queue_name": queue}
        else:
            manifest |= {"dialingMode": "Agentless", "experienceFlowName": VOICE_FLOW}
            body |= {"dialingMode": "Agentless", "experienceFlowName": VOICE_FLOW}
            manifest["schedule"] = body["schedule"] = {"isSchedulingEnabled": False}
    return manifest, body


def floor_requests(sms: int, voice: int) -> int:
    """List calls a plan cannot avoid: one per page of 100, at least one per type."""
    return max(1, math.ceil(sms / PAGE)) + max(1, math.ceil(voice / PAGE))


# -- the workspace and the emulator ----------------------------------------------------------------


def write_workspace(root: Path, url: str, manifests: list[dict[str, Any]]) -> None:
    flows = {name: derived_id("flows", name) for name in (SMS_FLOW, VOICE_FLOW)}
    config = {
        "version": 1,
        "manifests": ["manifests"],
        "environments": {
            ENV_NAME: {
                "host": url,
                "streamId": STREAM,
                "accountId": ACCOUNT,
                "state": ".campaign-sync/bench.state.json",
                "rateLimit": CLIENT_RATE,
                "parallelism": PARALLELISM,
                "experienceFlows": flows,
            }
        },
    }
    (root / "campaign-sync.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for start in range(0, len(manifests), PER_FILE):
        path = root / "manifests" / f"campaigns-{start // PER_FILE:03d}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        chunk = {"campaigns": manifests[start : start + PER_FILE]}
        path.write_text(yaml.dump(chunk, Dumper=DUMPER, sort_keys=False, width=200, allow_unicode=True))


def new_session(root: Path) -> engine.Workspace:
    return engine.Workspace(
        config=load_config(root / "campaign-sync.yaml"),
        env_name=ENV_NAME,
        cli_vars={},
        environ=child_environ(),
        redactor=Redactor(),
    )


# -- measuring -------------------------------------------------------------------------------------


def by_method(entries: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(str(e["method"]) for e in entries).items()))


def writes_in(entries: list[dict[str, Any]]) -> int:
    return sum(
        1
        for e in entries
        if e["method"] in {"PUT", "DELETE"}
        or (e["method"] == "POST" and not str(e["path"]).endswith("getAllCampaignDetails"))
    )


@dataclass
class PlanFigures:
    """One measured plan: requests seen by the client and by the emulator, what it found, wall time."""

    requests: dict[str, int]
    journal: dict[str, int]
    writes: int
    gets: int
    lists: int
    summary: dict[str, int]
    wall_seconds: float
    manifest_seconds: float
    """Of ``wall_seconds``: loading and checking the manifests (the rest is state, refresh, build_plan)."""


@dataclass
class Measured:
    figures: PlanFigures
    run: engine.PlanRun
    desired: Mapping[str, Any]


def measured_plan(root: Path, control: ControlApi, *, full: bool = False) -> Measured:
    """One plan exactly as `campaign-sync plan` makes it, on a fresh session and client."""
    control.clear_journal()
    session = new_session(root)
    try:
        started = time.perf_counter()
        desired = session.desired.campaigns
        loaded = time.perf_counter()
        run = engine.plan(session, full=full)
        wall = time.perf_counter() - started
        requests = session.requests()
    finally:
        session.close()
    entries = control.journal()
    journal = by_method(entries)
    figures = PlanFigures(
        requests=requests,
        journal=journal,
        writes=writes_in(entries),
        gets=journal.get("GET", 0),
        lists=sum(1 for e in entries if str(e["path"]).endswith("getAllCampaignDetails")),
        summary=run.plan.summary.to_json(),
        wall_seconds=wall,
        manifest_seconds=loaded - started,
    )
    if requests != journal:
        raise SystemExit(f"client counted {requests} but the emulator journal shows {journal}")
    return Measured(figures, run, desired)


def cpu_of_build_plan(root: Path, measured: Measured, repeats: int) -> tuple[float, int]:
    """Best-of-``repeats`` CPU seconds of ``build_plan`` alone, and its tracemalloc peak in bytes.

    Runs over the live data and manifests the measured plan already read: no I/O, no HTTP.
    """
    session = new_session(root)
    desired = measured.desired
    run = measured.run
    state = run.state
    flows = session.flows(state)
    policy = session.policy()
    live = list(run.live)

    def once() -> None:
        build_plan(session.env.name, desired, live, state.campaigns, flows, policy)

    best = math.inf
    for _ in range(repeats):
        started = time.process_time()
        once()
        best = min(best, time.process_time() - started)
    tracemalloc.start()
    try:
        once()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return best, peak


@dataclass
class CliFigures:
    exit_code: int
    wall_seconds: float
    """The median of ``wall_runs``."""
    max_rss_kib: int
    journal: dict[str, int]
    """The first run's requests, by method (every run makes the same)."""
    validate_seconds: float = 0.0
    """`campaign-sync validate` of the same workspace (offline), wall time."""
    cold_wall_seconds: float = 0.0
    cold_max_rss_kib: int = 0
    """The same plan with the parse cache turned off (``CAMPAIGN_SYNC_CACHE_DIR=""``): a fresh runner."""
    wall_runs: list[float] = field(default_factory=list)
    cold_wall_runs: list[float] = field(default_factory=list)


def cold_manifest_seconds(root: Path) -> float:
    """Loading and checking the workspace's manifests with every file parsed (no parse cache)."""
    started = time.perf_counter()
    load_desired(root, ["manifests"], {}, {}, {}, ENV_NAME, cache=ParseCache(None))
    return time.perf_counter() - started


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("campaign-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "campaign_sync"]


#: Runs the console script's entry point and, at exit, writes the process's own peak RSS (VmHWM,
#: KiB) to the file named by $BENCH_PEAK_FILE. A child's ``ru_maxrss`` cannot be used: Linux keeps
#: that high-water mark across exec, so a child spawned by this (large) process would report the
#: benchmark's own size.
PEAK_WRAPPER = """
import atexit, os, sys
def _peak():
    with open("/proc/self/status") as status:
        kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(kib)
atexit.register(_peak)
sys.argv[0] = "campaign-sync"
from campaign_sync.cli import main
main()
"""


def timed_cli(
    root: Path, *args: str, peak: bool = True, extra: Mapping[str, str] | None = None
) -> tuple[int, float, int, str]:
    """Exit code, wall seconds, peak RSS (KiB; 0 without ``peak``) and stderr of one `campaign-sync` run."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        peak_file = Path(tmp) / "peak"
        env = {**child_environ(), "BENCH_PEAK_FILE": str(peak_file), **(extra or {})}
        command = [sys.executable, "-c", PEAK_WRAPPER] if peak else cli_command()
        started = time.perf_counter()
        proc = subprocess.Popen([*command, *args], cwd=root, env=env, stdout=out, stderr=err)
        _pid, status, _usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        err.seek(0)
        kib = int(peak_file.read_text()) if peak_file.exists() else 0
        return os.waitstatus_to_exitcode(status), wall, kib, err.read().decode()


def help_seconds(runs: int = HELP_RUNS) -> float:
    """Best wall time of `campaign-sync --help` (start-up and imports: what every command pays)."""
    return min(timed_cli(Path.cwd(), "--help", peak=False)[1] for _ in range(runs))


def cli_plan(root: Path, control: ControlApi) -> CliFigures:
    """The in-sync plan through the real console script: what a user waits for (the manifests' parse
    cache warm, then turned off); then `validate`."""
    control.clear_journal()
    walls, rss, journal = [], 0, {}
    for run in range(CLI_RUNS):
        code, wall, kib, err = timed_cli(root, "plan", "--no-color")
        if code != 0:
            raise SystemExit(f"campaign-sync plan failed ({code}):\n{err}")
        walls.append(wall)
        rss = max(rss, kib)
        if run == 0:
            journal = by_method(control.journal())
    cold_walls, cold_rss = [], 0
    for _run in range(CLI_RUNS):
        code, wall, kib, err = timed_cli(root, "plan", "--no-color", extra={parsecache.CACHE_ENV: ""})
        if code != 0:
            raise SystemExit(f"campaign-sync plan (no parse cache) failed ({code}):\n{err}")
        cold_walls.append(wall)
        cold_rss = max(cold_rss, kib)
    code, validate_wall, _rss, err = timed_cli(root, "validate", "--no-color")
    if code != 0:
        raise SystemExit(f"campaign-sync validate failed ({code}):\n{err}")
    return CliFigures(
        0,
        statistics.median(walls),
        rss,
        journal,
        validate_wall,
        statistics.median(cold_walls),
        cold_rss,
        wall_runs=walls,
        cold_wall_runs=cold_walls,
    )


@dataclass
class SizeFigures:
    campaigns: int
    sms: int
    voice: int
    floor: int
    seed_seconds: float
    adopt_seconds: float
    adopt_requests: dict[str, int]
    adopt_writes: int
    in_sync: PlanFigures
    full_refresh: PlanFigures | None
    after_edit: PlanFigures
    after_edit_changes: list[dict[str, Any]]
    build_plan_cpu_seconds: float
    cpu_seconds_per_1000: float
    cold_manifest_seconds: float
    """Loading and checking the manifests with the parse cache turned off (every file parsed)."""
    tracemalloc_peak_bytes: int
    ru_maxrss_kib: int
    cli: CliFigures | None
    at_documented_rate: dict[str, Any] = field(default_factory=dict)


def budget(requests: int) -> dict[str, float]:
    """Seconds of the account's 60/min budget, and the least wall time the sliding window allows."""
    return {
        "requests": requests,
        "budget_seconds": requests * 60 / DOCUMENTED_RATE,
        "min_wall_seconds": max(0, math.ceil(requests / DOCUMENTED_RATE) - 1) * 60.0,
    }


@contextlib.contextmanager
def parse_cache_of_this_size() -> Iterator[None]:
    """The manifests' parse cache of one size alone (the adopting apply fills it), in-process and for
    the CLI runs (``child_environ`` passes ``os.environ`` on)."""
    saved = os.environ.get(parsecache.CACHE_ENV)
    with tempfile.TemporaryDirectory(prefix="campaign-sync-bench-cache-") as cache:
        os.environ[parsecache.CACHE_ENV] = cache
        try:
            yield
        finally:
            if saved is None:
                del os.environ[parsecache.CACHE_ENV]
            else:
                os.environ[parsecache.CACHE_ENV] = saved


def run_size(n: int, *, repeats: int, with_cli: bool, with_full: bool, log: Any) -> SizeFigures:
    pairs = [campaign(i) for i in range(n)]
    manifests = [m for m, _ in pairs]
    bodies = [b for _, b in pairs]
    sms = sum(1 for m in manifests if m["campaignType"] == "sms")
    voice = n - sms
    with (
        emulator() as (server, control),
        tempfile.TemporaryDirectory(prefix="campaign-sync-bench-") as tmp,
        parse_cache_of_this_size(),
    ):
        root = Path(tmp)
        log(f"[{n}] seeding {n} campaigns ({sms} sms, {voice} voice) through the control API")
        started = time.perf_counter()
        ids = control.seed(bodies)
        seed_seconds = time.perf_counter() - started
        write_workspace(root, server.url, manifests)

        log(f"[{n}] adopting apply (reads every campaign once, writes nothing)")
        control.clear_journal()
        session = new_session(root)
        try:
            started = time.perf_counter()
            outcome = engine.apply(session)
            adopt_seconds = time.perf_counter() - started
            adopt_requests = session.requests()
        finally:
            session.close()
        adopt_writes = writes_in(control.journal())
        if outcome.plan.has_changes:
            raise SystemExit(f"the adopting apply planned changes: {outcome.plan.summary.line()}")

        log(f"[{n}] plan in sync")
        measured = measured_plan(root, control)
        in_sync = measured.figures
        log(f"[{n}] manifests without the parse cache")
        cold_manifests = cold_manifest_seconds(root)
        log(f"[{n}] build_plan CPU and memory")
        cpu, peak = cpu_of_build_plan(root, measured, repeats)
        cli = None
        if with_cli:
            log(f"[{n}] plan in sync through the CLI")
            cli = cli_plan(root, control)
        full = None
        if with_full:  # optional: N GETs, the slowest part of a run
            log(f"[{n}] plan --refresh full (the naive refresh)")
            full = measured_plan(root, control, full=True).figures

        edited = manifests[n // 2]
        log(f"[{n}] out-of-band edit of {edited['key']}, then plan")
        control.call("PATCH", f"campaigns/{ids[edited['name']]}", {"description": "Edited in the UI"})
        edit = measured_plan(root, control)
        after = edit.figures
        changes = [
            {"key": c.key, "action": str(c.action), "fields": [f.path for f in c.fields]}
            for c in edit.run.plan.changes
        ]
    figures = SizeFigures(
        campaigns=n,
        sms=sms,
        voice=voice,
        floor=floor_requests(sms, voice),
        seed_seconds=seed_seconds,
        adopt_seconds=adopt_seconds,
        adopt_requests=adopt_requests,
        adopt_writes=adopt_writes,
        in_sync=in_sync,
        full_refresh=full,
        after_edit=after,
        after_edit_changes=changes,
        cold_manifest_seconds=cold_manifests,
        build_plan_cpu_seconds=cpu,
        cpu_seconds_per_1000=cpu * 1000 / n,
        tracemalloc_peak_bytes=peak,
        ru_maxrss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        cli=cli,
    )
    figures.at_documented_rate = {
        "in_sync": budget(sum(in_sync.requests.values())),
        "naive": budget(n + figures.floor),
    }
    return figures


# -- reporting -------------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def methods(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{m} {c}" for m, c in counts.items()) or "none"


def report(results: list[SizeFigures], help_wall: float | None = None) -> str:
    lines = ["Plan refresh benchmark: engine in-process, real KoreClient over HTTP to the emulator", ""]
    header = (
        f"{'campaigns':>9}  {'sms/voice':>10}  {'plan reqs':>9}  {'floor':>5}  {'writes':>6}  "
        f"{'GETs 1 edit':>11}  {'naive reqs':>10}  {'CPU s/1k':>8}  {'plan wall':>9}  "
        f"{'CLI wall':>8}  {'build_plan peak':>15}  {'maxrss':>8}"
    )
    lines += [header, "-" * len(header)]
    for r in results:
        cli_wall = f"{r.cli.wall_seconds:.2f} s" if r.cli else "-"
        lines.append(
            f"{r.campaigns:>9,}  {f'{r.sms}/{r.voice}':>10}  {sum(r.in_sync.requests.values()):>9}  "
            f"{r.floor:>5}  {r.in_sync.writes:>6}  {r.after_edit.gets:>11}  "
            f"{r.at_documented_rate['naive']['requests']:>10,}  "
            f"{r.cpu_seconds_per_1000:>8.3f}  {r.in_sync.wall_seconds:>7.2f} s  {cli_wall:>8}  "
            f"{r.tracemalloc_peak_bytes / 2**20:>11.1f} MiB  {r.ru_maxrss_kib / 1024:>4.0f} MiB"
        )
    lines += [
        "",
        "plan reqs: requests made by a plan in sync (all of them list calls); floor: ceil(sms/100) +",
        "ceil(voice/100), at least 1 per type; GETs 1 edit: GETs made by the plan after one UI edit;",
        "CPU s/1k: build_plan (normalise + diff) CPU seconds per 1,000 campaigns; plan wall: in-process plan",
        "(manifests + state + refresh + build_plan); CLI wall: the same plan through `campaign-sync plan`;",
        "naive reqs: requests of a refresh that GETs every campaign (N + floor; measured by --full-refresh);",
        "build_plan peak: tracemalloc peak during build_plan; maxrss: this process (emulator included).",
        "",
        "Details per size:",
    ]
    for r in results:
        sync = r.in_sync
        lines.append(f"  {r.campaigns:,} campaigns ({r.sms} sms, {r.voice} voice):")
        lines.append(
            f"    setup: seeded in {r.seed_seconds:.2f} s; adopting apply {r.adopt_seconds:.2f} s "
            f"({methods(r.adopt_requests)}, writes {r.adopt_writes})"
        )
        lines.append(
            f"    plan in sync:        {methods(sync.requests)} (journal: {methods(sync.journal)}), floor "
            f"{r.floor}; {sync.summary['unchanged']} unchanged; {sync.wall_seconds:.2f} s, of which "
            f"manifests {sync.manifest_seconds:.2f} s"
        )
        if r.full_refresh is not None:
            lines.append(
                f"    plan --refresh full: {methods(r.full_refresh.requests)}; "
                f"{r.full_refresh.wall_seconds:.2f} s"
            )
        edit = ", ".join(f"{c['action']} {c['key']} ({', '.join(c['fields'])})" for c in r.after_edit_changes)
        lines.append(
            f"    after 1 UI edit:     {methods(r.after_edit.requests)}; {edit or 'no change found'}; "
            f"{r.after_edit.wall_seconds:.2f} s"
        )
        lines.append(
            f"    build_plan (normalise + diff): {r.build_plan_cpu_seconds:.3f} s CPU "
            f"= {r.cpu_seconds_per_1000:.3f} s per 1,000 campaigns; tracemalloc peak "
            f"{r.tracemalloc_peak_bytes / 2**20:.1f} MiB"
        )
        if r.cli is not None:
            lines.append(
                f"    CLI `campaign-sync plan`: {r.cli.wall_seconds:.2f} s wall (median of "
                f"{', '.join(f'{w:.2f}' for w in r.cli.wall_runs)}; no parse cache: "
                f"{', '.join(f'{w:.2f}' for w in r.cli.cold_wall_runs)}), peak RSS "
                f"{r.cli.max_rss_kib / 1024:.0f} MiB, {methods(r.cli.journal)}"
            )
    lines += ["", *goals(results, help_wall)]
    lines += [
        "",
        f"At the documented {DOCUMENTED_RATE} requests/minute (each request spends 1 s of the budget):",
    ]
    for r in results:
        sync_cost = r.at_documented_rate["in_sync"]
        naive = r.at_documented_rate["naive"]
        note = "; under 60, so no wait" if sync_cost["requests"] <= DOCUMENTED_RATE else ""
        lines.append(
            f"  {r.campaigns:,} campaigns: {sync_cost['requests']:,} requests "
            f"(≈{duration(sync_cost['budget_seconds'])}{note}) vs {naive['requests']:,} naive "
            f"(≈{duration(naive['budget_seconds'])})"
        )
    return "\n".join(lines)


#: The performance goals (printed next to the figures, never asserted).
GOAL_PLAN_WALL_10K = 2.0
GOAL_RSS_MIB_10K = 250
GOAL_MS_PER_CAMPAIGN = 0.1
GOAL_VALIDATE_10K = 1.5
GOAL_HELP = 0.1


def goals(results: list[SizeFigures], help_wall: float | None) -> list[str]:
    """Per size: CLI plan wall and peak RSS, manifests and build_plan per campaign, requests, validate."""
    header = (
        f"{'campaigns':>9}  {'plan wall':>9}  {'peak RSS':>8}  {'manifests':>17}  {'build_plan':>17}  "
        f"{'requests':>8}  {'validate':>8}  {'no cache: plan':>14}  {'RSS':>7}  {'manifests':>17}"
    )
    lines = [
        "Goals (10,000 campaigns): "
        + (
            f"plan <= {GOAL_PLAN_WALL_10K} s and <= {GOAL_RSS_MIB_10K} MiB; manifests and build_plan <= "
            f"{GOAL_MS_PER_CAMPAIGN} ms per campaign; validate <= {GOAL_VALIDATE_10K} s; --help <= "
            f"{GOAL_HELP * 1000:.0f} ms"
        ),
        "",
        header,
        "-" * len(header),
    ]
    for r in results:
        manifests = r.in_sync.manifest_seconds
        wall = f"{r.cli.wall_seconds:.2f} s" if r.cli else "-"
        rss = f"{r.cli.max_rss_kib / 1024:.0f} MiB" if r.cli else "-"
        validate = f"{r.cli.validate_seconds:.2f} s" if r.cli else "-"
        cold_wall = f"{r.cli.cold_wall_seconds:.2f} s" if r.cli else "-"
        cold_rss = f"{r.cli.cold_max_rss_kib / 1024:.0f} MiB" if r.cli else "-"
        cold = r.cold_manifest_seconds
        lines.append(
            f"{r.campaigns:>9,}  {wall:>9}  {rss:>8}  "
            f"{manifests:>6.2f} s {manifests * 1000 / r.campaigns:.3f} ms  "
            f"{r.build_plan_cpu_seconds:>6.2f} s {r.build_plan_cpu_seconds * 1000 / r.campaigns:.3f} ms  "
            f"{sum(r.in_sync.requests.values()):>8}  {validate:>8}  {cold_wall:>14}  {cold_rss:>7}  "
            f"{cold:>6.2f} s {cold * 1000 / r.campaigns:.3f} ms"
        )
    lines += [
        "",
        f"plan wall, peak RSS: `campaign-sync plan` in sync (subprocess; median of {CLI_RUNS} runs, highest"
        " RSS); manifests: loading and checking",
        "them in-process (total, per campaign); build_plan: CPU (total, per campaign); validate: wall;",
        "no cache: the same plan and manifest loading with the parse cache turned off (every file parsed",
        'as on a fresh CI runner; CAMPAIGN_SYNC_CACHE_DIR=""). The others read unchanged files\' values',
        "from the parse cache the adopting apply filled.",
    ]
    if help_wall is not None:
        lines.append(f"`campaign-sync --help`: {help_wall * 1000:.0f} ms (best of {HELP_RUNS})")
    return lines


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "").replace(",", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 100,1000,5000, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=parse_sizes, default=list(DEFAULT_SIZES), help="comma-separated campaign counts"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many build_plan timings")
    parser.add_argument("--no-cli", action="store_true", help="skip the subprocess run of the real CLI")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="also measure `plan --refresh full`, the naive refresh (N GETs per size; slow at 5,000)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    gc.set_threshold(100_000, 50, 100)  # as `campaign-sync` runs (cli: the collector runs less often)

    def log(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    results = [
        run_size(
            n, repeats=max(1, args.repeats), with_cli=not args.no_cli, with_full=args.full_refresh, log=log
        )
        for n in args.sizes
    ]
    help_wall = help_seconds() if not args.no_cli else None
    print(report(results, help_wall))
    if args.json is not None:
        payload = {
            "formatVersion": 1,
            "documentedRatePerMinute": DOCUMENTED_RATE,
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "sizes": [asdict(r) for r in results],
            "helpSeconds": help_wall,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

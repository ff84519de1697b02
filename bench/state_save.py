"""Benchmark: what saving the state after every write costs an apply, file vs postgres (`make bench`).

An apply saves the state after each successful write (SPEC 4), so an apply of N changes makes N
saves of the whole state. This script builds a state of ``--campaigns`` campaigns shaped like
real ones (the applied spec and the cached live document of each), then plays an apply of
``--writes`` changes: each changes one campaign's record and saves through the real
``StateStore`` (serialize, self-check, the backend's compare-and-swap write; file: backup + temp
file + fsync + rename + high-water mark; postgres: one transaction updating ``states`` and adding
the serial to ``state_history``). It prints the median and 95th percentile per save, the total,
and that total against the API time of the same apply at the documented 60 requests/minute
(one write = one second of the account's budget). Figures are printed, never asserted;
``tests/bench`` checks only the counts it writes with ``--json``.

The postgres figure needs a server: ``make bench`` starts a throwaway one (tests/pgserver.py) and
passes its DSN in ``CAMPAIGN_SYNC_TEST_PG_DSN``; ``--dsn-env NAME`` reads another variable. Each
run uses a schema of its own and drops it afterwards.

Usage: ``python bench/state_save.py [--campaigns 1000] [--writes 1000] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from campaign_sync import heap
from campaign_sync.redact import Redactor
from campaign_sync.state import CampaignRecord, Identity, State, StateStore
from campaign_sync.state.backends.file import FileBackend

IDENTITY = Identity("bench", "https://platform.kore.ai", "st-bench", "acct-bench")
DOCUMENTED_RATE = 60


def record(index: int, revision: int = 0) -> CampaignRecord:
    """A campaign record of realistic size: the applied spec and a cached live document."""
    days = [{"day": d, "start": "9:00 AM", "end": "5:00 PM"} for d in ("MO", "TU", "WE", "TH", "FR")]
    applied: dict[str, Any] = {
        "campaignType": "sms",
        "name": f"Bench campaign {index:05d}",
        "description": f"Benchmark campaign {index} revision {revision}",
        "contactLists": ["CL Only 2020 Dec 4", "Renewals Q3"],
        "priority": str(1 + index % 5),
        "format": "simple",
        "message": {"message": f"Reminder {index}: your bill is due on Friday. Reply STOP to opt out."},
        "dialingStrategy": {
            "callerId": {"phoneNumber": f"+1415555{index % 10000:04d}"},
            "callingHours": {"frequency": "WEEKLY", "timezone": "America/New_York", "days": days},
        },
    }
    cid = f"cd-{uuid.UUID(int=index).hex[:8]}-0000-4000-8000-{index:012d}"
    live = {
        **applied,
        "_id": cid,
        "lname": applied["name"].lower(),
        "status": "Draft",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": f"2026-01-02T00:00:{revision % 60:02d}.000Z",
        "schedule": {"isSchedulingEnabled": False},
        "campaignInstanceId": None,
    }
    return CampaignRecord(
        id=cid,
        campaignType="sms",
        name=applied["name"],
        applied=applied,
        updatedAt=live["updatedAt"],
        cached=live,
        contentHash="sha256:" + f"{index:064x}"[-64:],
    )


def initial_state(campaigns: int) -> State:
    state = State.new(IDENTITY)
    for index in range(campaigns):
        state = state.with_campaign(f"bench-{index:05d}", record(index))
    return state


@dataclass
class Figures:
    backend: str
    campaigns: int
    writes: int
    state_bytes: int
    final_serial: int
    history_serials: int | None
    median_ms: float
    p95_ms: float
    total_seconds: float
    api_seconds_at_documented_rate: float
    overhead_percent: float


def play(
    name: str, store: StateStore, campaigns: int, writes: int, history: Callable[[], int | None]
) -> Figures:
    state = store.save(initial_state(campaigns))
    times: list[float] = []
    for n in range(writes):
        index = n % campaigns
        state = state.with_campaign(f"bench-{index:05d}", record(index, revision=n + 1))
        started = time.perf_counter()
        state = store.save(state)
        times.append(time.perf_counter() - started)
    total = sum(times)
    api = writes * 60 / DOCUMENTED_RATE
    raw = store.backend.read() or b""
    return Figures(
        backend=name,
        campaigns=campaigns,
        writes=writes,
        state_bytes=len(raw),
        final_serial=state.serial,
        history_serials=history(),
        median_ms=statistics.median(times) * 1000,
        p95_ms=sorted(times)[max(0, int(len(times) * 0.95) - 1)] * 1000,
        total_seconds=total,
        api_seconds_at_documented_rate=api,
        overhead_percent=100 * total / api if api else 0.0,
    )


def run_file(campaigns: int, writes: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="campaign-sync-bench-") as tmp:
        store = StateStore(FileBackend(Path(tmp) / "bench.state.json"), identity=IDENTITY)
        return play("file", store, campaigns, writes, lambda: None)


def run_postgres(dsn_env: str, campaigns: int, writes: int) -> Figures | str:
    dsn = os.environ.get(dsn_env)
    if not dsn:
        return f"skipped: ${dsn_env} is not set (make bench starts a server)"
    try:
        import psycopg
        from psycopg import sql

        from campaign_sync.state.backends.postgres import PostgresBackend
    except ImportError:
        return "skipped: psycopg is not installed (pip install 'campaign-sync[postgres]')"
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    backend = PostgresBackend.from_environment(dsn_env, schema, "bench", os.environ, Redactor())
    store = StateStore(backend, identity=IDENTITY)
    try:
        return play("postgres", store, campaigns, writes, lambda: len(backend.history()))
    finally:
        store.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def report(results: list[Figures], notes: list[str]) -> str:
    lines = [
        "State saves during an apply (one save after every write, the whole state each time)",
        "",
        f"{'backend':>8}  {'campaigns':>9}  {'writes':>6}  {'state':>8}  {'median':>9}  {'p95':>9}  "
        f"{'total':>8}  {'API at 60/min':>13}  {'overhead':>8}",
    ]
    lines.append("-" * len(lines[-1]))
    for r in results:
        lines.append(
            f"{r.backend:>8}  {r.campaigns:>9,}  {r.writes:>6,}  {r.state_bytes / 2**20:>6.2f} MiB  "
            f"{r.median_ms:>6.2f} ms  {r.p95_ms:>6.2f} ms  {r.total_seconds:>6.1f} s  "
            f"{r.api_seconds_at_documented_rate:>11,.0f} s  {r.overhead_percent:>7.2f}%"
        )
    lines += [f"  {note}" for note in notes]
    lines += [
        "",
        "median / p95: one save (serialize, self-check, compare-and-swap write); total: all saves of the",
        "apply; API at 60/min: the same apply's writes against the documented account limit (1 s each);",
        "overhead: total / API time. postgres keeps every serial: history rows = writes + 1",
        "(the first save).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--campaigns", type=int, default=1000, help="campaigns in the state")
    parser.add_argument("--writes", type=int, default=1000, help="writes of the apply (one save each)")
    parser.add_argument("--dsn-env", default="CAMPAIGN_SYNC_TEST_PG_DSN", help="variable holding the DSN")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.campaigns < 1 or args.writes < 1:
        parser.error("--campaigns and --writes must be positive")
    gc.set_threshold(*heap.THRESHOLDS)  # the collector as a `campaign-sync apply` runs it
    results = [run_file(args.campaigns, args.writes)]
    notes: list[str] = []
    pg = run_postgres(args.dsn_env, args.campaigns, args.writes)
    if isinstance(pg, str):
        notes.append(f"postgres: {pg}")
    else:
        results.append(pg)
    print(report(results, notes))
    if args.json is not None:
        payload = {"formatVersion": 1, "results": [asdict(r) for r in results], "notes": notes}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

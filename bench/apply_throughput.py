"""Benchmark: how close `campaign-sync apply` gets to the account's rate limit (`make bench-apply`).

Performance is measured here, never asserted by a timer: this script prints figures, and
``tests/bench`` checks only the request *counts* it writes with ``--json``.

For each server limit (default: 60 and 30 requests/minute, the client configured for 60):

1. starts the emulator in this process (``EmulatorServer`` on 127.0.0.1, a free port) and seeds
   N simple SMS campaigns and a few voice ones through its control API (``--account``: more
   campaigns, of which the first N change, as in a large account);
2. writes matching manifests and a ``campaign-sync.yaml``, and adopts every campaign with a
   first apply (the server's limiter switched off for this setup, so it takes seconds);
3. edits the description of every manifest campaign (N changes), resets the server's limiter to
   the limit under test, and runs the **real CLI** ``campaign-sync apply --auto-approve --force``
   as a subprocess, the client's ``rateLimit`` set to the configured value;
4. reads the emulator's journal: requests, how many were answered 429, the most accepted in any
   60 s window (the server's own count), the sliding-window pace achieved (``pace``, below) and
   the same pace from the first 429 on (where the adaptive limiter settles), and the wall time
   against the floor ``requests / limit``.

Beside it, the requests a Terraform-style tool makes for the same apply: it refreshes by reading
every managed campaign (a GET each) before writing, so that many GETs + N writes + list calls;
its floor at the same limit is printed, and with ``--terraform-style`` the same apply is also run with
``--refresh full`` (which reads every campaign, as such a tool does) and measured.

Usage: ``python bench/apply_throughput.py [--changes 200] [--account 10000] [--server-limits 60,30]
[--configured 60] [--terraform-style] [--quick] [--json FILE]``. ``--quick`` is 70 changes (still more than a
minute's worth at 60/minute) and one server limit per run as given. A full run takes about
fifteen minutes at the defaults; the waiting is the point.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from emulated import ACCOUNT, ENV_NAME, STREAM, child_environ, emulator

PARALLELISM = 4
SETUP_RATE = 100_000
WINDOW = 60.0
VOICE_EVERY = 10


def campaign(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One campaign as a manifest entry and as the v2 create body seeded live (simple SMS or voice)."""
    hours = {
        "frequency": "WEEKLY",
        "timezone": "America/New_York",
        "days": [{"day": "MO", "start": "9:00 AM", "end": "5:00 PM"}],
    }
    common: dict[str, Any] = {
        "name": f"Throughput {index:05d}",
        "description": f"Throughput campaign {index}",
        "contactLists": ["CL Only 2020 Dec 4"],
    }
    strategy: dict[str, Any] = {
        "callerId": {"phoneNumber": f"+1415555{index % 10000:04d}"},
        "callingHours": hours,
    }
    if index % VOICE_EVERY == VOICE_EVERY - 1:
        voice = {
            **strategy,
            "dialingOrder": "FIFO",
            "maxAttemptsPerRecord": 3,
            "defaultRetryPeriod": 10,
            "maxRingTime": 30,
        }
        extra = {"dncLists": {"name": "DNC CL Dec 4"}, "dialingStrategy": voice, "dialingMode": "Progressive"}
        manifest = {"key": f"tp-{index:05d}", "campaignType": "voice", **common, "priority": 3, **extra}
        manifest["queueName"] = "Support Queue"
        body = {"campaignType": "voice", **common, "priority": "3", **extra, "queue_name": "Support Queue"}
        return manifest, body
    text = f"Throughput {index}: your bill is due on Friday."
    manifest = {
        "key": f"tp-{index:05d}",
        "campaignType": "sms",
        **common,
        "priority": 3,
        "format": "simple",
        "message": {"message": text},
        "dialingStrategy": strategy,
    }
    body = {
        "campaignType": "sms",
        **common,
        "priority": "3",
        "format": "simple",
        "message": {"message": base64.b64encode(text.encode()).decode()},
        "dialingStrategy": strategy,
    }
    return manifest, body


def write_config(root: Path, url: str, rate: int) -> None:
    config = {
        "version": 1,
        "manifests": ["manifests"],
        "environments": {
            ENV_NAME: {
                "host": url,
                "streamId": STREAM,
                "accountId": ACCOUNT,
                "state": ".campaign-sync/bench.state.json",
                "rateLimit": rate,
                "parallelism": PARALLELISM,
            }
        },
    }
    (root / "campaign-sync.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def write_manifests(root: Path, manifests: list[dict[str, Any]]) -> None:
    folder = root / "manifests"
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(manifests), 100):
        chunk = {"campaigns": manifests[start : start + 100]}
        (folder / f"campaigns-{start // 100:03d}.yaml").write_text(yaml.safe_dump(chunk, sort_keys=False))


def command() -> list[str]:
    script = Path(sys.executable).with_name("campaign-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "campaign_sync"]


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_environ()
    return subprocess.run(
        [*command(), *args], cwd=root, env=env, capture_output=True, text=True, timeout=7200, check=False
    )


@dataclass
class ApplyFigures:
    """One measured apply, from the emulator's journal (the server's view) and the command's exit."""

    server_limit: int
    configured: int
    changes: int
    campaigns: int  # in the account (the state), changed or not
    refresh: str
    exit_code: int
    requests: int
    by_method: dict[str, int]
    answered_429: int
    writes_ok: int
    wall_seconds: float
    span_seconds: float
    accepted_per_minute: float
    """Requests the server accepted per minute, first to last request."""
    pace_per_minute: float | None
    """The sliding-window pace: ``limit`` requests per the mean time between request i and i - limit.

    A sliding window lets ``limit`` requests go at once and then paces them; a plain requests/time
    ratio over a short run overstates (the first burst) or understates (the last partial window)
    it. The time between every request and the one ``limit`` before it is what the limit bounds
    (at least the window), so ``limit * 60 / mean gap`` is the pace in requests per minute.
    """
    settled_per_minute: float | None
    """The same pace, counted only from the first 429 on (where the adaptive pace settled)."""
    busiest_window: int
    """The most requests the server accepted in any 60 s window (at most its limit)."""
    floor_seconds: float
    """``requests / limit``: the least wall time the limit allows for this many requests."""
    progress_lines: int


def pace(times: list[float], limit: int, *, since: float | None = None) -> float | None:
    if limit <= 0:
        return None
    gaps = [
        times[i] - times[i - limit]
        for i in range(limit, len(times))
        if since is None or times[i - limit] >= since
    ]
    if not gaps or sum(gaps) <= 0:
        return None
    return limit * WINDOW / (sum(gaps) / len(gaps))


def busiest(times: list[float], window: float = WINDOW) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def measure(
    entries: list[dict[str, Any]],
    *,
    limit: int,
    configured: int,
    changes: int,
    campaigns: int,
    refresh: str,
    code: int,
    wall: float,
    err: str,
) -> ApplyFigures:
    accepted = sorted(float(e["time"]) for e in entries if e["status"] != 429)
    refused = [float(e["time"]) for e in entries if e["status"] == 429]
    methods: dict[str, int] = {}
    for e in entries:
        methods[e["method"]] = methods.get(e["method"], 0) + 1
    writes_ok = sum(1 for e in entries if e["method"] == "PUT" and e["status"] == 200)
    span = (accepted[-1] - accepted[0]) if len(accepted) > 1 else 0.0
    per_minute = (len(accepted) - 1) / span * 60 if span > 0 else 0.0
    rate = limit or configured
    first_429 = refused[0] if refused else None
    steady = pace(accepted, rate)
    settled = pace(accepted, rate, since=first_429) if first_429 is not None else None
    return ApplyFigures(
        server_limit=limit,
        configured=configured,
        changes=changes,
        campaigns=campaigns,
        refresh=refresh,
        exit_code=code,
        requests=len(entries),
        by_method=dict(sorted(methods.items())),
        answered_429=len(refused),
        writes_ok=writes_ok,
        wall_seconds=wall,
        span_seconds=span,
        accepted_per_minute=per_minute,
        pace_per_minute=steady,
        settled_per_minute=settled,
        busiest_window=busiest(accepted),
        floor_seconds=len(entries) / rate * 60 if rate else 0.0,
        progress_lines=sum(1 for line in err.splitlines() if "rate limit" in line or "retrying" in line),
    )


def run_limit(
    limit: int, *, changes: int, account: int, configured: int, terraform: bool, log: Any
) -> list[ApplyFigures]:
    total = max(changes, account)
    pairs = [campaign(i) for i in range(total)]
    manifests = [m for m, _ in pairs]
    out: list[ApplyFigures] = []
    with (
        emulator() as (server, control),
        tempfile.TemporaryDirectory(prefix="campaign-sync-apply-bench-") as tmp,
    ):
        root = Path(tmp)
        url = control.http.base_url
        control.seed([b for _, b in pairs])
        write_manifests(root, manifests)
        write_config(root, str(url).rstrip("/"), SETUP_RATE)
        log(f"  adopting {total} campaigns (setup, server limit off)...")
        setup = run_cli(root, "apply", "--auto-approve")
        if setup.returncode != 0:
            raise SystemExit(f"setup apply failed:\n{setup.stdout}\n{setup.stderr}")
        write_config(root, str(url).rstrip("/"), configured)
        modes = ["incremental", "full"] if terraform else ["incremental"]
        for round_no, refresh in enumerate(modes, start=1):
            for m in manifests[:changes]:
                m["description"] = f"Throughput campaign {m['key']}, round {round_no}"
            write_manifests(root, manifests)
            control.clear_journal()
            control.call("PUT", "settings", {"rateLimit": limit})
            server.app.limiter.reset()
            log(
                f"  apply of {changes} changes to an account of {total}, --refresh {refresh}, "
                f"server {limit}/min, client {configured}/min..."
            )
            started = time.monotonic()
            result = run_cli(root, "apply", "--auto-approve", "--force", "--refresh", refresh)
            wall = time.monotonic() - started
            control.call("PUT", "settings", {"rateLimit": 0})
            figures = measure(
                control.journal(),
                limit=limit,
                configured=configured,
                changes=changes,
                campaigns=total,
                refresh=refresh,
                code=result.returncode,
                wall=wall,
                err=result.stderr,
            )
            if result.returncode != 0:
                log(f"  apply exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
            out.append(figures)
    return out


def duration(seconds: float) -> str:
    if seconds >= 90:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def report(results: list[ApplyFigures]) -> str:
    lines = [
        "| campaigns | server limit | client rateLimit | refresh | requests | 429s | PUTs ok | accepted/min "
        "| pace/min | pace after 1st 429 "
        "| busiest 60 s | wall | floor (requests / limit) | % of limit | progress lines |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        limit = r.server_limit or r.configured
        pace = r.settled_per_minute or r.pace_per_minute
        pct = f"{100 * pace / limit:.0f} %" if limit and pace else "-"
        settled = f"{r.settled_per_minute:.1f}" if r.settled_per_minute is not None else "-"
        steady = f"{r.pace_per_minute:.1f}" if r.pace_per_minute is not None else "-"
        cells = [
            f"{r.campaigns:,}",
            f"{r.server_limit or 'off'}/min",
            f"{r.configured}/min",
            r.refresh,
            str(r.requests),
            f"{r.answered_429} ({100 * r.answered_429 / max(1, r.requests):.1f} %)",
            str(r.writes_ok),
            f"{r.accepted_per_minute:.1f}",
            steady,
            settled,
            str(r.busiest_window),
            duration(r.wall_seconds),
            duration(r.floor_seconds),
            pct,
            str(r.progress_lines),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for r in results:
        if r.refresh != "incremental":
            continue
        limit = r.server_limit or r.configured
        lists = r.by_method.get("POST", 0)
        naive = r.campaigns + r.changes + lists
        lines.append(
            f"Terraform-style refresh for the same {r.changes} changes at {limit}/min: {naive} requests "
            f"({r.campaigns} GET + {r.changes} PUT + {lists} list), floor {duration(naive / limit * 60)}; "
            f"campaign-sync: {r.requests} requests, floor {duration(r.floor_seconds)}."
            if limit
            else f"Terraform-style refresh for {r.changes} changes: {naive} requests; "
            f"campaign-sync: {r.requests}."
        )
    return "\n".join(lines) + "\n"


def parse_limits(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected limits like 60,30, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(
            "limits must be non-negative integers (0 = the server's limiter off)"
        )
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--changes", type=int, default=200, help="campaigns changed by the measured apply")
    parser.add_argument(
        "--account", type=int, default=0, help="campaigns in the account (default: as many as change)"
    )
    parser.add_argument(
        "--server-limits", type=parse_limits, default=[60, 30], help="emulator limits, per minute"
    )
    parser.add_argument("--configured", type=int, default=60, help="the client's rateLimit, per minute")
    parser.add_argument(
        "--terraform-style", action="store_true", help="also run the apply with --refresh full"
    )
    parser.add_argument("--quick", action="store_true", help="70 changes instead of 200")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    changes = 70 if args.quick else args.changes

    def log(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    results: list[ApplyFigures] = []
    for limit in args.server_limits:
        log(f"server limit {limit or 'off'}/min:")
        results.extend(
            run_limit(
                limit,
                changes=changes,
                account=args.account,
                configured=args.configured,
                terraform=args.terraform_style,
                log=log,
            )
        )
    print(report(results), end="")
    if args.json:
        args.json.write_text(json.dumps({"applies": [asdict(r) for r in results]}, indent=2, sort_keys=True))
    return 0 if all(r.exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Helpers for the state tests: sample values, dead pids, and a lock holder running in another process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from campaign_sync.state import CampaignRecord, State

REPO = Path(__file__).resolve().parents[2]

# Holds the lock until a line arrives on stdin; prints its lock id once held, "released" once released.
HOLDER_SCRIPT = """
import sys
from pathlib import Path
from campaign_sync.state import StateStore
store = StateStore(Path(sys.argv[1]))
with store.lock(operation=sys.argv[2]) as info:
    sys.stdout.write(info.id + "\\n")
    sys.stdout.flush()
    sys.stdin.readline()
sys.stdout.write("released\\n")
sys.stdout.flush()
"""


def record(n: int = 1, **changes: Any) -> CampaignRecord:
    fields: dict[str, Any] = {
        "id": f"cd-{n:04d}",
        "campaignType": "sms",
        "name": f"Campaign {n}",
        "applied": {"description": f"campaign {n}", "priority": "5", "contactLists": ["CL A", "CL B"]},
        "updatedAt": "2025-01-02T03:04:05.000Z",
        "cached": {"_id": f"cd-{n:04d}", "name": f"Campaign {n}", "status": "Draft"},
        "contentHash": "sha256:" + "ab" * 32,
    }
    fields.update(changes)
    return CampaignRecord(**fields)


def sample_state(count: int = 2) -> State:
    state = State.new().with_flows({"SMS Support Flow": "cf-0001"})
    for n in range(1, count + 1):
        state = state.with_campaign(f"campaign-{n}", record(n))
    return state


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=30, check=False
    )


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


class Holder:
    """Another process holding the state lock until :meth:`release` or :meth:`kill`."""

    def __init__(self, state_path: Path, operation: str = "apply") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER_SCRIPT, str(state_path), operation],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"the lock holder did not take the lock:\n{stderr}")
        self.lock_id = line.strip()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "released"
        assert self.proc.wait(timeout=30) == 0

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

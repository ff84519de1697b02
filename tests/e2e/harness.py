"""End-to-end harness: the real `campaign-sync` command, the emulator on 127.0.0.1, a temp repo.

Every command runs as a subprocess (the installed console script), talking HTTP to an
``EmulatorServer`` on loopback. The client secret is a canary: tests assert it never appears
in any output or file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from campaign_sync.emulator import DEFAULT_ACCOUNT_ID, EmulatorApp, EmulatorServer, create_app
from tests.fixtures.documented import STREAM as STREAM  # the samples' stream id, in every e2e config
from tests.pgstate import PG_CANARY_PASSWORD, PgSchema

CLIENT_ID = "campaign-sync-e2e"
CANARY_SECRET = "canary-secret-7f3c9a1e5b2d4f6a8c0e1b3d5f7a9c2e"
ACCOUNT = DEFAULT_ACCOUNT_ID
PG_DSN_ENV = "CAMPAIGN_SYNC_PG_DSN"


def command() -> list[str]:
    script = Path(sys.executable).with_name("campaign-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "campaign_sync"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


class Emulator:
    """The emulator's control API, as a test uses it."""

    def __init__(self, server: EmulatorServer, app: EmulatorApp) -> None:
        self.server = server
        self.app = app
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, timeout=10.0)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/__emulator/{path}", params={"accountId": ACCOUNT}, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def seed(self, data: Mapping[str, Any]) -> dict[str, str]:
        return dict(self._call("POST", "seed", {"accountId": ACCOUNT, **data})["ids"])

    def campaigns(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "campaigns"))

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"campaigns/{campaign_id}"))

    def by_name(self, name: str) -> dict[str, Any]:
        return next(c for c in self.campaigns() if c["name"] == name)

    def patch(self, campaign_id: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("PATCH", f"campaigns/{campaign_id}", patch))

    def delete(self, campaign_id: str) -> None:
        self._call("DELETE", f"campaigns/{campaign_id}")

    def start(self, campaign_id: str) -> None:
        self._call("POST", f"campaigns/{campaign_id}/start")

    def journal(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "journal")["entries"])

    def clear_journal(self) -> None:
        self._call("DELETE", "journal")

    def fault(self, **spec: Any) -> str:
        return str(self._call("POST", "faults", spec)["id"])

    def release(self) -> None:
        self._call("POST", "faults/release", {})

    def settings(self, **values: Any) -> None:
        self._call("PUT", "settings", values)

    def writes(self) -> list[dict[str, Any]]:
        """Journal entries that changed something: creates, updates and deletes."""
        return [
            e
            for e in self.journal()
            if e["method"] in {"PUT", "DELETE"}
            or (e["method"] == "POST" and not e["path"].endswith("getAllCampaignDetails"))
        ]

    def count(self, method: str, suffix: str = "") -> int:
        return sum(1 for e in self.journal() if e["method"] == method and e["path"].endswith(suffix))


def start_emulator(**options: Any) -> tuple[EmulatorApp, EmulatorServer]:
    settings = {"rate_limit": 0, "preparing_seconds": 0.0, **options}
    app = create_app(client_id=CLIENT_ID, client_secret=CANARY_SECRET, **settings)
    server = EmulatorServer(app, host="127.0.0.1", port=0)
    server.start()
    return app, server


class Workspace:
    """A temporary campaign-sync repository wired to the emulator.

    With ``pg`` the environment's state lives in that PostgreSQL schema (``state: {backend:
    postgres}`` is added to every config that does not set ``state:`` itself), and the state
    helpers below read and plant it there; without, in the default state file.
    """

    def __init__(
        self, root: Path, emulator: Emulator, extra_env: str = "", pg: PgSchema | None = None
    ) -> None:
        self.root = root
        self.emulator = emulator
        self.pg = pg
        (root / "manifests").mkdir(parents=True, exist_ok=True)
        self.write_config(extra_env)

    @property
    def backend(self) -> str:
        return "postgres" if self.pg is not None else "file"

    @property
    def state_config(self) -> str:
        if self.pg is None:
            return ""
        return f"state: {{backend: postgres, dsnEnv: {PG_DSN_ENV}, schema: {self.pg.schema}}}\n"

    def write_config(self, extra_env: str = "") -> None:
        config = textwrap.dedent(
            f"""\
            version: 1
            manifests: [manifests]
            environments:
              test:
                host: {self.emulator.url}
                streamId: {STREAM}
                accountId: {ACCOUNT}
                rateLimit: 6000
                vars: {{callerId: "+14155550199"}}
            """
        )
        extra_env = textwrap.dedent(extra_env) if extra_env else ""
        if "state:" not in extra_env:
            extra_env += self.state_config
        extra = textwrap.indent(extra_env, "    ") if extra_env else ""
        (self.root / "campaign-sync.yaml").write_text(config + extra)

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    @property
    def state_path(self) -> Path:
        """The default state file (file backend)."""
        return self.root / ".campaign-sync" / "test.state.json"

    @property
    def lock_info_path(self) -> Path:
        return self.state_path.with_name("test.state.json.lock.info")

    def state_bytes(self) -> bytes | None:
        """The stored state, read from where the backend keeps it (not through campaign-sync)."""
        if self.pg is not None:
            return self.pg.state_bytes()
        return self.state_path.read_bytes() if self.state_path.exists() else None

    def state(self) -> dict[str, Any]:
        raw = self.state_bytes()
        assert raw is not None, f"no state stored ({self.backend} backend)"
        return dict(json.loads(raw))

    def put_state(self, data: bytes | str) -> None:
        """Replace the stored state behind campaign-sync's back (damage, foreign copies, old copies)."""
        raw = data.encode() if isinstance(data, str) else data
        if self.pg is not None:
            self.pg.put_state_bytes(raw)
        else:
            self.state_path.write_bytes(raw)

    def plant_lock_info(self, info: Mapping[str, Any]) -> None:
        """Record a lock holder as a run that died would have left it (its lock itself is free)."""
        if self.pg is not None:
            self.pg.execute(
                "INSERT INTO {s}.locks (environment, id, operation, username, host, pid, created, version, "
                "backend_pid, session) VALUES ('test', %s, %s, %s, %s, %s, %s, %s, 0, 'gone')",
                tuple(info[k] for k in ("id", "operation", "user", "host", "pid", "created", "version")),
            )
        else:
            self.lock_info_path.parent.mkdir(parents=True, exist_ok=True)
            self.lock_info_path.write_text(json.dumps(dict(info)))

    def lock_recorded(self) -> bool:
        """Whether a lock holder is recorded (the lock info file, or a row of the locks table)."""
        if self.pg is not None:
            return self.pg.lock_row() is not None
        return self.lock_info_path.exists()

    def env(self, **extra: str) -> dict[str, str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "CAMPAIGN_SYNC_CACHE_DIR"}
        }
        return {
            **keep,
            "KORE_CLIENT_ID": CLIENT_ID,
            "KORE_CLIENT_SECRET": CANARY_SECRET,
            "NO_COLOR": "1",
            **({PG_DSN_ENV: self.pg.user_dsn} if self.pg is not None else {}),
            **extra,
        }

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, input: str | None = None, timeout: float = 60
    ) -> Result:
        proc = subprocess.run(
            [*command(), *args],
            cwd=self.root,
            env=dict(env) if env is not None else self.env(),
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            check=False,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        assert CANARY_SECRET not in result.both, "the client secret leaked into the output"
        assert PG_CANARY_PASSWORD not in result.both, "the database password leaked into the output"
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*command(), *args],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def files_text(self) -> Iterator[tuple[Path, str]]:
        for path in self.root.rglob("*"):
            if path.is_file():
                yield path, path.read_text(errors="replace")

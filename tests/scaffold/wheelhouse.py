"""The PyPI wheels of every dependency ``init`` pins, for the offline pinned-install test.

The test installs the ``requirements-ci.txt`` that ``init`` writes into a clean virtual
environment with ``--no-index --find-links`` this folder, the way the workflows install it
(``--require-hashes``), so pip itself checks every wheel here against the hashes in
``campaign_sync/pinning/*.txt``: a wheel from anywhere else fails the test.

``make tools`` fills it once with ``pip download`` (the ordinary pip client) before the suite
runs, for this machine's platform; it is git-ignored and kept between runs, keyed by the
locks' digest, so the suite itself needs no network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from filelock import FileLock

HERE = Path(__file__).resolve().parent
ROOT = HERE / ".wheelhouse"
LOCKS = ("runtime.txt", "build.txt")


def _locks() -> dict[str, str]:
    base = resources.files("campaign_sync.pinning")
    return {name: base.joinpath(name).read_text(encoding="utf-8") for name in LOCKS}


def _key() -> str:
    digest = hashlib.sha256()
    for name, text in sorted(_locks().items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    platform = f"{sys.implementation.cache_tag}-{sys.platform}-{os.uname().machine}"
    return f"{platform}-{digest.hexdigest()[:16]}"


def ensure() -> Path:
    """The folder holding every pinned wheel for this platform, downloaded on first use."""
    target = ROOT / _key()
    ROOT.mkdir(parents=True, exist_ok=True)
    with FileLock(str(ROOT / ".lock"), timeout=600):
        if (target / ".complete").is_file():
            return target
        staging = ROOT / f".download-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            requirements = []
            for name, text in _locks().items():
                path = staging / name
                path.write_text(text, encoding="utf-8")
                requirements += ["-r", str(path)]
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--require-hashes",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                    str(staging / "wheels"),
                    *requirements,
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"pip download of the pinned wheels failed:\n{proc.stderr[-3000:]}")
            wheels = staging / "wheels"
            (wheels / ".complete").write_text("")
            shutil.rmtree(target, ignore_errors=True)
            wheels.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":
    # `make test` prepares the tools before the suite runs, so the tests need no network.
    print(f"pinned dependency wheels: {ensure()}")

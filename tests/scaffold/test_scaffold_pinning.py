"""What the workflows install: `init` pins campaign-sync and every dependency, hash-checked.

The slow tests build a wheel of this checkout, let `init --install-from` pin it, and run the
workflows' own install step in a clean virtual environment with no index at all (``--no-index``,
``--find-links`` the wheels `make tools` downloaded), so pip checks every file against the
pinned hashes, as it does on a runner.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from campaign_sync import __version__
from campaign_sync.errors import PinError
from campaign_sync.pinning import git_source, locked, parse_spec, pin, running_source
from tests.e2e.harness import command
from tests.pgstate import PgSchema
from tests.scaffold import wheelhouse
from tests.scaffold.runner import steps_named
from tests.scaffold.workflows import REPO, WORKFLOW_NAMES

COMMIT = "0123456789abcdef0123456789abcdef01234567"
HEX = "ab" * 32
INSTALL = "Install campaign-sync (pinned, hash-checked)"


def locked_names(text: str) -> dict[str, str]:
    """name -> version of every requirement in a lock that applies on this machine."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] in " #-":
            continue
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is None or requirement.marker.evaluate():
            (spec,) = requirement.specifier
            out[canonicalize_name(requirement.name)] = spec.version
    return out


# --- the lock -------------------------------------------------------------------------------------


def test_the_lock_pins_exactly_the_dependencies_campaign_sync_needs_here_each_with_hashes() -> None:
    text = locked("runtime.txt")
    names = locked_names(text)
    # campaign-sync with its postgres extra (a config may move its state to PostgreSQL without
    # another init), then what each package needs with the extras it was asked for.
    closure: set[tuple[str, str]] = set()
    todo = [("campaign-sync", "postgres"), ("campaign-sync", "")]
    while todo:
        dist, extra = todo.pop()
        if (dist, extra) in closure:
            continue
        closure.add((dist, extra))
        environment = {**default_environment(), "extra": extra}
        for line in metadata.requires(dist) or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            name = canonicalize_name(requirement.name)
            todo += [(name, ""), *((name, e) for e in requirement.extras)]
    needed = {dist for dist, _extra in closure} - {"campaign-sync"}

    assert set(names) == needed, "run `make lock` after changing [project.dependencies] or the postgres extra"
    assert {"psycopg", "psycopg-binary"} <= set(names), "the workflows can use a PostgreSQL state"
    blocks = re.split(r"\n(?=\S)", text.strip())
    assert all("--hash=sha256:" in block for block in blocks)


def test_the_locked_versions_keep_the_floors_of_pyproject() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    names = locked_names(locked("runtime.txt"))
    for line in pyproject["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in names, f"{line}: not in campaign_sync/pinning/runtime.txt; run `make lock`"
        assert requirement.specifier.contains(names[name]), f"{line}: locked {names[name]}; run `make lock`"
    build = locked_names(locked("build.txt"))
    (floor,) = pyproject["build-system"]["requires"]
    assert Requirement(floor).specifier.contains(build["setuptools"])


# --- sources ---------------------------------------------------------------------------------------


def fake_wheel(folder: Path, version: str = __version__) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"campaign_sync-{version}-py3-none-any.whl"
    path.write_bytes(b"not really a zip, but hashed all the same")
    return path


def test_a_wheel_outside_the_repository_is_copied_into_wheels_and_pinned_by_its_hash(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()

    pinned = pin(parse_spec(str(wheel)), tmp_path / "repo", __version__)

    rel = f"wheels/{wheel.name}"
    assert pinned.files[rel] == wheel.read_bytes()
    text = pinned.files["requirements-ci.txt"].decode()
    assert text.endswith(f"./{rel} \\\n    --hash=sha256:{digest}\n")
    assert "requirements-ci-source.txt" not in pinned.files


def test_a_wheel_inside_the_repository_is_pinned_where_it_is(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "repo" / "vendor")

    pinned = pin(parse_spec(str(wheel)), tmp_path / "repo", __version__)

    assert set(pinned.files) == {"requirements-ci.txt"}
    assert f"./vendor/{wheel.name} \\" in pinned.files["requirements-ci.txt"].decode()


def test_every_locked_dependency_is_in_the_requirements_and_git_adds_the_build_backend(
    tmp_path: Path,
) -> None:
    wheel = (
        pin(parse_spec(str(fake_wheel(tmp_path))), tmp_path, __version__)
        .files["requirements-ci.txt"]
        .decode()
    )
    git = pin(git_source(f"git+https://git.example.com/acme/cs.git@{COMMIT}"), tmp_path, __version__)

    assert locked("runtime.txt").rstrip("\n") in wheel
    assert locked("build.txt").rstrip("\n") not in wheel
    text = git.files["requirements-ci.txt"].decode()
    assert locked("runtime.txt").rstrip("\n") in text
    assert locked("build.txt").rstrip("\n") in text
    assert "campaign-sync @" not in text, "a git requirement cannot be hash-checked"
    source = git.files["requirements-ci-source.txt"].decode()
    assert source.splitlines()[-1] == f"campaign-sync @ git+https://git.example.com/acme/cs.git@{COMMIT}"


@pytest.mark.parametrize(
    ("spec", "line", "hashes"),
    [
        (f"campaign-sync=={__version__} --hash=sha256:{HEX}", f"campaign-sync=={__version__}", (HEX,)),
        (
            f"https://files.example.com/campaign_sync-{__version__}-py3-none-any.whl#sha256={HEX}",
            f"campaign-sync @ https://files.example.com/campaign_sync-{__version__}-py3-none-any.whl",
            (HEX,),
        ),
        (
            f"git+ssh://git@git.example.com/acme/cs.git@{COMMIT}",
            f"campaign-sync @ git+ssh://git@git.example.com/acme/cs.git@{COMMIT}",
            (),
        ),
    ],
    ids=["index", "url", "git-ssh"],
)
def test_pinned_specs(spec: str, line: str, hashes: tuple[str, ...]) -> None:
    source = parse_spec(spec)

    assert source.requirement == line
    assert source.hashes == hashes


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("git+https://git.example.com/acme/cs.git@main", "full 40-hex commit"),
        ("git+https://git.example.com/acme/cs.git", "full 40-hex commit"),
        (f"git+file:///srv/cs.git@{COMMIT}", "https:// or ssh://"),
        (f"git+http://git.example.com/acme/cs.git@{COMMIT}", "https:// or ssh://"),
        (f"git+https://user:hunter2@git.example.com/acme/cs.git@{COMMIT}", "credentials"),
        (f"https://files.example.com/campaign_sync-{__version__}-py3-none-any.whl", "#sha256=HEX"),
        (f"http://files.example.com/campaign_sync-{__version__}-py3-none-any.whl#sha256={HEX}", "only https"),
        ("https://files.example.com/other-1.0-py3-none-any.whl#sha256=" + HEX, "not a campaign-sync wheel"),
        ("campaign-sync==0.1.0", "exact version and hash"),
        ("campaign-sync==0.1.0 --hash=md5:abc", "--hash=sha256:HEX"),
        ("dist/nothing-here.whl", "not a campaign-sync wheel"),
        (f"dist/campaign_sync-{__version__}-py3-none-any.whl", "cannot read the wheel"),
    ],
)
def test_specs_that_cannot_pin_are_refused_with_what_to_pass(spec: str, message: str) -> None:
    with pytest.raises(PinError) as caught:
        parse_spec(spec)

    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_source_of_another_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PinError, match=r"is campaign-sync 9\.9\.9, but this is campaign-sync"):
        pin(parse_spec(f"campaign-sync==9.9.9 --hash=sha256:{HEX}"), tmp_path, __version__)


# --- the running installation ----------------------------------------------------------------------


def dist(tmp_path: Path, direct_url: dict[str, object] | None) -> metadata.Distribution:
    info = tmp_path / f"campaign_sync-{__version__}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.4\nName: campaign-sync\nVersion: {__version__}\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return metadata.PathDistribution(info)


def test_an_installation_from_git_is_pinned_to_its_commit(tmp_path: Path) -> None:
    source = running_source(
        dist(
            tmp_path,
            {
                "url": "https://git.example.com/acme/cs.git",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "v0.1.0"},
            },
        )
    )

    assert source.requirement == f"campaign-sync @ git+https://git.example.com/acme/cs.git@{COMMIT}"


def test_an_installation_from_a_wheel_file_is_pinned_to_that_file(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()

    source = running_source(
        dist(tmp_path, {"url": wheel.as_uri(), "archive_info": {"hashes": {"sha256": digest}}})
    )

    assert source.wheel == wheel
    assert source.hashes == (digest,)
    with pytest.raises(PinError, match="not the file campaign-sync was installed from"):
        running_source(
            dist(tmp_path / "x", {"url": wheel.as_uri(), "archive_info": {"hashes": {"sha256": HEX}}})
        )


def test_an_installation_from_a_wheel_url_is_pinned_to_its_recorded_hash(tmp_path: Path) -> None:
    url = f"https://files.example.com/campaign_sync-{__version__}-py3-none-any.whl"

    source = running_source(dist(tmp_path, {"url": url, "archive_info": {"hash": f"sha256={HEX}"}}))

    assert source.requirement == f"campaign-sync @ {url}"
    assert source.hashes == (HEX,)


@pytest.mark.parametrize(
    ("direct_url", "message"),
    [
        (None, "installed from a package index, and pip keeps no hash"),
        ({"url": "file:///home/me/campaign-sync", "dir_info": {"editable": True}}, "an editable install"),
        ({"url": "file:///home/me/campaign-sync", "dir_info": {}}, "a local folder"),
        (
            {"url": "file:///srv/cs.git", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
            "https:// or ssh://",
        ),
        ({"url": "https://hg.example.com/cs", "vcs_info": {"vcs": "hg", "commit_id": COMMIT}}, "not git"),
    ],
    ids=["index", "editable", "folder", "local-git", "hg"],
)
def test_installations_a_runner_cannot_reproduce_are_refused_with_what_to_pass(
    tmp_path: Path, direct_url: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(PinError) as caught:
        running_source(dist(tmp_path, direct_url))

    assert message in str(caught.value)
    assert "--install-from" in str(caught.value)


# --- installing it, offline, the way the workflows do ------------------------------------------------


def install_script() -> str:
    scripts = {step["run"] for name in WORKFLOW_NAMES for step in steps_named(name, INSTALL)}
    assert len(scripts) == 1, "every job installs the same way"
    return scripts.pop()


def clean_venv(root: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, capture_output=True)
    return root / "bin"


def run_install(repo: Path, venv_bin: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(repo.parent),
        "PIP_CONFIG_FILE": os.devnull,  # none of this machine's pip settings
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse.ensure()),
        "PIP_NO_CACHE_DIR": "1",
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", install_script()],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def copy_checkout(dest: Path) -> Path:
    """This checkout's tracked files (as they are now), away from the shared build/ folder."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for rel in filter(None, tracked.decode().split("\0")):
        if (REPO / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest / rel)
    return dest


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = copy_checkout(tmp_path_factory.mktemp("checkout"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )
    (wheel,) = out.glob("campaign_sync-*.whl")
    return wheel


@pytest.mark.slow
def test_the_pinned_wheel_installs_offline_into_a_clean_venv_and_runs(
    tmp_path: Path, built_wheel: Path, pg: PgSchema
) -> None:
    init = subprocess.run(
        [*command(), "init", "--install-from", str(built_wheel), str(tmp_path / "repo")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    repo = tmp_path / "repo"
    assert (repo / "wheels" / built_wheel.name).read_bytes() == built_wheel.read_bytes()
    venv = clean_venv(tmp_path / "venv")

    installed = run_install(repo, venv)

    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"campaign-sync, version {__version__}" in installed.stdout
    version = subprocess.run(
        [str(venv / "campaign-sync"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"campaign-sync, version {__version__}"
    licence = subprocess.run(
        [
            str(venv / "python"),
            "-c",
            "from importlib.metadata import metadata; print(metadata('campaign-sync')['License-Expression'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert licence.stdout.strip() == "Apache-2.0"
    backend = subprocess.run(
        [str(venv / "python"), "-c", "import psycopg; print(psycopg.pq.version())"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert backend.returncode == 0, (
        "the pinned install carries the PostgreSQL backend's driver: " + backend.stderr
    )
    assert int(backend.stdout) >= 100000, "libpq from psycopg's binary wheel"
    config = repo / "campaign-sync.yaml"
    commented = "    # state: {backend: postgres, dsnEnv: CAMPAIGN_SYNC_PG_DSN}\n"
    assert commented in config.read_text()
    config.write_text(
        config.read_text().replace(
            commented,
            f"    state: {{backend: postgres, dsnEnv: CAMPAIGN_SYNC_PG_DSN, schema: {pg.schema}}}\n",
        )
    )
    listed = subprocess.run(
        [str(venv / "campaign-sync"), "state", "list"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CAMPAIGN_SYNC_PG_DSN": pg.user_dsn},
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "states" in pg.tables(), "the installed tool reached PostgreSQL through the pinned driver"


@pytest.mark.slow
def test_a_wheel_that_is_not_the_pinned_one_is_refused(tmp_path: Path, built_wheel: Path) -> None:
    repo = tmp_path / "repo"
    init = subprocess.run(
        [*command(), "init", "--install-from", str(built_wheel), str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    with (repo / "wheels" / built_wheel.name).open("ab") as handle:
        handle.write(b"\0")  # someone swapped the committed wheel

    installed = run_install(repo, clean_venv(tmp_path / "venv"))

    assert installed.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in installed.stderr
    assert not (tmp_path / "venv" / "bin" / "campaign-sync").exists()


@pytest.mark.slow
def test_a_git_commit_installs_offline_built_with_the_pinned_setuptools(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "source")
    git = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    for args in (
        ["init", "--quiet"],
        ["add", "--all"],
        ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "--quiet", "-m", "s"],
    ):
        subprocess.run(["git", *args], cwd=source, check=True, capture_output=True, env=git)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=True, env=git
    ).stdout.strip()
    repo = tmp_path / "repo"
    repo.mkdir()
    # init refuses a local git URL (a runner cannot reach it); the test stands in for the network.
    pinned = pin(git_source(f"git+https://git.example.com/acme/cs.git@{commit}"), repo, __version__)
    for rel, data in pinned.files.items():
        text = data.decode().replace("https://git.example.com/acme/cs.git", f"file://localhost{source}")
        (repo / rel).write_text(text)
    venv = clean_venv(tmp_path / "venv")

    installed = run_install(repo, venv)

    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"campaign-sync, version {__version__}" in installed.stdout
    direct = json.loads(
        next(
            (tmp_path / "venv").glob("lib/python*/site-packages/campaign_sync-*.dist-info/direct_url.json")
        ).read_text()
    )
    assert direct["vcs_info"]["commit_id"] == commit


@pytest.mark.slow
def test_init_run_from_an_installed_wheel_pins_that_wheel_by_itself(
    tmp_path: Path, built_wheel: Path
) -> None:
    venv = clean_venv(tmp_path / "venv")
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse.ensure()),
    }
    subprocess.run(
        [str(venv / "python"), "-m", "pip", "install", "--quiet", str(built_wheel)],
        check=True,
        capture_output=True,
        env=env,
    )

    init = subprocess.run(
        [str(venv / "campaign-sync"), "init", str(tmp_path / "repo")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert init.returncode == 0, init.stderr
    assert f"from the wheel {built_wheel.name}" in init.stdout
    repo = tmp_path / "repo"
    assert (repo / "wheels" / built_wheel.name).read_bytes() == built_wheel.read_bytes()
    digest = hashlib.sha256(built_wheel.read_bytes()).hexdigest()
    text = (repo / "requirements-ci.txt").read_text()
    assert text.endswith(f"./wheels/{built_wheel.name} \\\n    --hash=sha256:{digest}\n")

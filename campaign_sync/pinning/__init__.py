"""What the GitHub workflows install: campaign-sync and every package it needs, pinned and hashed.

``init`` writes ``requirements-ci.txt``; the workflows install it with
``pip install --require-hashes --no-deps --only-binary=:all:``, so pip takes exactly these files
or fails, and never resolves a name on its own (a name nobody registered yet cannot be
squatted into a job that holds the Kore secrets).

The file has two parts:

- the runtime dependencies, each ``name==version`` with every sha256 PyPI has for that version
  (``runtime.txt`` beside this module, locked with ``make lock`` when the release was made and
  tested with it), the ``postgres`` extra's psycopg included, so a repository can move its state
  to the PostgreSQL backend without running init again;
- campaign-sync itself, pinned to a :class:`Source`: the running installation by default, read
  from its ``direct_url.json`` (PEP 610), or what ``init --install-from SPEC`` names.

Sources, and how each is pinned:

- a **wheel file** (``path/to/campaign_sync-X-py3-none-any.whl``): copied into the repository's
  ``wheels/`` folder (to be committed) unless it is already inside it, and pinned by its sha256;
- a **wheel URL** (``https://.../campaign_sync-X-py3-none-any.whl#sha256=HEX``): pinned by the hash
  in the URL;
- an **index release** (``campaign-sync==X --hash=sha256:HEX``): pinned by version and hash. pip
  records no hash when it installs from an index (``RECORD`` holds the installed files' hashes,
  not the wheel's), so an index installation needs the hash given this way;
- a **git commit** (``git+https://host/org/repo@<40-hex commit>``): pip cannot hash a git checkout,
  so the commit id is the pin. It goes to ``requirements-ci-source.txt``, which the workflows
  install after the hashed file with ``--no-deps --no-build-isolation --no-index``: the build uses
  the hash-checked setuptools pinned in ``build.txt`` and nothing else is fetched.

Anything else (an editable or folder install, a branch or tag instead of a commit, plain http,
a local git repository) cannot be reproduced on a CI runner and is refused with what to pass.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from campaign_sync.errors import PinError

DIST = "campaign-sync"
REQUIREMENTS = "requirements-ci.txt"
SOURCE_REQUIREMENTS = "requirements-ci-source.txt"
WHEELS_DIR = "wheels"
INSTALL_COMMAND = (
    "python -m pip install --require-hashes --no-deps --only-binary=:all: -r requirements-ci.txt"
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_WHEEL = re.compile(r"^campaign_sync-(?P<version>[^-]+)-.+\.whl$")
_INDEX = re.compile(r"^campaign[-_.]sync\s*==\s*(?P<version>[A-Za-z0-9.+!_-]+)(?P<rest>(\s+--hash=\S+)+)\s*$")
_HASH_OPTION = re.compile(r"^--hash=sha256:(?P<hex>[0-9a-f]{64})$")
_HELP = (
    "pass --install-from with one of: a wheel file (campaign_sync-X-py3-none-any.whl, committed "
    "to the repository), 'git+https://HOST/ORG/REPO@<40-hex commit>', "
    "'https://HOST/.../campaign_sync-X-py3-none-any.whl#sha256=HEX', or "
    "'campaign-sync==X --hash=sha256:HEX' for a release on a package index"
)


class Distribution(Protocol):
    """What :func:`running_source` reads of an installed distribution (``importlib.metadata``)."""

    @property
    def version(self) -> str: ...

    def read_text(self, filename: str) -> str | None: ...


@dataclass(frozen=True)
class Source:
    """Where the workflows get campaign-sync from, pinned."""

    kind: str  # wheel | url | index | git
    requirement: str  # the requirement line (without hashes)
    hashes: tuple[str, ...] = ()  # sha256 hex digests
    wheel: Path | None = None  # a wheel file to copy into the repository
    version: str | None = None  # when the source says it
    description: str = ""

    def line(self) -> str:
        options = "".join(f" \\\n    --hash=sha256:{h}" for h in self.hashes)
        return f"{self.requirement}{options}"


@dataclass(frozen=True)
class Pinned:
    """The files ``init`` writes for a source: relative path -> bytes."""

    source: Source
    files: dict[str, bytes] = field(default_factory=dict)


# --- where campaign-sync comes from -------------------------------------------------------------


def running_source(dist: Distribution | None = None) -> Source:
    """The pinned source of the running campaign-sync, from its ``direct_url.json``."""
    if dist is None:
        try:
            dist = metadata.distribution(DIST)
        except metadata.PackageNotFoundError:
            raise PinError(
                "campaign-sync is not installed as a package here (it runs from source), so "
                f"init cannot tell the workflows what to install: {_HELP}"
            ) from None
    raw = dist.read_text("direct_url.json")
    if raw is None:
        raise PinError(
            f"campaign-sync {dist.version} was installed from a package index, and pip keeps no hash "
            "of the file it installed, so init cannot pin it by itself: pass "
            f"--install-from 'campaign-sync=={dist.version} --hash=sha256:HEX' with the hash the "
            f"index shows for the wheel (or `pip download campaign-sync=={dist.version} --no-deps "
            "-d wheels` then `pip hash wheels/*.whl`), or the path of that wheel"
        )
    try:
        direct = json.loads(raw)
        url = str(direct["url"])
    except (ValueError, KeyError, TypeError):
        raise PinError(f"campaign-sync's direct_url.json cannot be read; {_HELP}") from None
    if "vcs_info" in direct:
        info = direct["vcs_info"]
        if info.get("vcs") != "git":
            raise PinError(f"campaign-sync was installed from {info.get('vcs')!r}, not git; {_HELP}")
        return git_source(f"git+{url}@{info.get('commit_id', '')}", subdirectory=direct.get("subdirectory"))
    if "dir_info" in direct:
        kind = "an editable install" if direct["dir_info"].get("editable") else "a local folder"
        raise PinError(
            f"campaign-sync runs from {kind} ({_shown_url(url)}), which a CI runner cannot install; {_HELP}"
        )
    if "archive_info" in direct:
        hashes = dict(direct["archive_info"].get("hashes") or {})
        legacy = str(direct["archive_info"].get("hash") or "")
        if not hashes and legacy.startswith("sha256="):
            hashes["sha256"] = legacy.removeprefix("sha256=")
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path))
            source = wheel_source(path)
            recorded = hashes.get("sha256")
            if recorded and recorded != source.hashes[0]:
                raise PinError(
                    f"{path} is not the file campaign-sync was installed from (its hash differs); {_HELP}"
                )
            return source
        if "sha256" not in hashes:
            raise PinError(f"campaign-sync was installed from {url} without a sha256 to pin; {_HELP}")
        return url_source(f"{url}#sha256={hashes['sha256']}")
    raise PinError(f"campaign-sync's direct_url.json names no known kind of source; {_HELP}")


def parse_spec(spec: str) -> Source:
    """The source ``init --install-from SPEC`` names."""
    spec = spec.strip()
    if spec.startswith("git+"):
        return git_source(spec)
    if "://" in spec:
        return url_source(spec)
    index = _INDEX.match(spec)
    if index:
        return index_source(index["version"], index["rest"].split())
    if spec.startswith(("campaign-sync", "campaign_sync")) and not spec.endswith(".whl"):
        raise PinError(
            f"{spec!r}: a release needs its exact version and hash: 'campaign-sync==X --hash=sha256:HEX'"
        )
    return wheel_source(Path(spec))


def wheel_source(path: Path) -> Source:
    match = _WHEEL.match(path.name)
    if not match:
        raise PinError(f"{path}: not a campaign-sync wheel (campaign_sync-VERSION-...whl); {_HELP}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PinError(f"{path}: cannot read the wheel: {exc.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()
    return Source(
        "wheel",
        "",  # set by pin(): the path inside the repository
        (digest,),
        wheel=path,
        version=match["version"],
        description=f"the wheel {path.name} (sha256 {digest[:12]}...)",
    )


def url_source(spec: str) -> Source:
    parts = urlsplit(spec)
    if parts.scheme != "https":
        raise PinError(f"{_shown_url(spec)}: only https wheel URLs can be pinned; {_HELP}")
    if parts.username or parts.password:
        raise PinError("the wheel URL must not carry credentials (they would be committed)")
    name = unquote(parts.path.rsplit("/", 1)[-1])
    match = _WHEEL.match(name)
    if not match:
        raise PinError(
            f"{_shown_url(spec)}: not a campaign-sync wheel URL (.../campaign_sync-VERSION-...whl)"
        )
    fragment = dict(p.partition("=")[::2] for p in parts.fragment.split("&") if p)
    digest = fragment.get("sha256", "").lower()
    if not _SHA256.match(digest):
        raise PinError(
            f"{_shown_url(spec)}: add the wheel's hash to the URL: ...whl#sha256=HEX (`pip hash` prints it)"
        )
    clean = parts._replace(fragment="").geturl()
    return Source(
        "url",
        f"{DIST} @ {clean}",
        (digest,),
        version=match["version"],
        description=f"{clean} (sha256 {digest[:12]}...)",
    )


def index_source(version: str, options: list[str]) -> Source:
    hashes = []
    for option in options:
        found = _HASH_OPTION.match(option.lower())
        if not found:
            raise PinError(f"{option!r}: expected --hash=sha256:HEX (64 hex digits)")
        hashes.append(found["hex"])
    return Source(
        "index",
        f"{DIST}=={version}",
        tuple(dict.fromkeys(hashes)),
        version=version,
        description=f"campaign-sync {version} from the package index",
    )


def git_source(spec: str, subdirectory: str | None = None) -> Source:
    url, _, commit = spec.removeprefix("git+").rpartition("@")
    parts = urlsplit(url)
    if not url or not _COMMIT.match(commit):
        raise PinError(
            f"{_shown_url(spec)}: a git source must name a full 40-hex commit (…@<commit>), "
            "never a branch or a tag, which can move"
        )
    if parts.scheme not in {"https", "ssh"}:
        raise PinError(f"{_shown_url(spec)}: a CI runner can reach only https:// or ssh:// git URLs; {_HELP}")
    if parts.password or (parts.scheme == "https" and parts.username):
        raise PinError("the git URL must not carry credentials (they would be committed)")
    requirement = f"{DIST} @ git+{url}@{commit}"
    if subdirectory:
        requirement += f"#subdirectory={subdirectory}"
    return Source("git", requirement, description=f"git commit {commit[:12]} of {url}")


def _shown_url(url: str) -> str:
    """A URL as an error may show it: without any user or password."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return parts._replace(netloc=host).geturl()
    return url


# --- the files ------------------------------------------------------------------------------------


def locked(name: str) -> str:
    """A lock shipped beside this module: ``runtime.txt`` or ``build.txt``."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def pin(source: Source, repo: Path, running_version: str) -> Pinned:
    """The requirement files (and the wheel to commit) for ``source``, for a repository at ``repo``."""
    if source.version is not None and source.version != running_version:
        raise PinError(
            f"{source.description} is campaign-sync {source.version}, but this is campaign-sync "
            f"{running_version}, whose workflows init writes: run init from {source.version}, or pin "
            f"{running_version}"
        )
    files: dict[str, bytes] = {}
    if source.kind == "wheel":
        assert source.wheel is not None
        inside = _inside(source.wheel, repo)
        rel = inside if inside is not None else f"{WHEELS_DIR}/{source.wheel.name}"
        if inside is None:
            files[rel] = source.wheel.read_bytes()
        source = Source(
            source.kind,
            f"./{rel}",
            source.hashes,
            wheel=source.wheel,
            version=source.version,
            description=source.description,
        )
    head = [
        f"# What the campaign-sync workflows install: campaign-sync {running_version} and every package",
        "# it needs, each pinned to one version and checked against its sha256 hashes. The workflows",
        "# run, before any step that holds a secret:",
        f"#   {INSTALL_COMMAND}",
        "# so pip installs exactly these files or fails; nothing is resolved by name from an index.",
        f"# Written by `campaign-sync init`; campaign-sync comes from {source.description}.",
        "# To move to another release, install it and run `campaign-sync init --force` in an empty",
        "# folder, then copy this file (and any wheel it names) here.",
        "",
    ]
    body = [locked("runtime.txt").rstrip("\n")]
    if source.kind == "git":
        body.append("# Builds campaign-sync from its git commit (requirements-ci-source.txt), offline.")
        body.append(locked("build.txt").rstrip("\n"))
    else:
        body.append(source.line())
    files[REQUIREMENTS] = ("\n".join(head + body) + "\n").encode("utf-8")
    if source.kind == "git":
        lines = [
            f"# campaign-sync {running_version} itself, pinned to one git commit: pip cannot hash",
            "# a git checkout, so the commit id is the pin. The workflows install it after",
            "# requirements-ci.txt with --no-deps --no-build-isolation --no-index: it is built",
            "# with the hash-checked setuptools from there, and nothing is fetched from an index.",
            source.requirement,
        ]
        files[SOURCE_REQUIREMENTS] = ("\n".join(lines) + "\n").encode("utf-8")
    return Pinned(source, dict(sorted(files.items())))


def _inside(path: Path, repo: Path) -> str | None:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return None

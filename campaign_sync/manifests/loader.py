"""Manifests: discover files, render ``*.j2`` (``templates``: sandbox and limits), parse safe YAML, validate.

Every problem of a run is collected and raised together as one :class:`ManifestError`, each
as ``path:line: field.path: message``. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from campaign_sync.errors import Issue, Location, ManifestError
from campaign_sync.heap import builds_long_lived
from campaign_sync.manifests import parsecache, yamlfast
from campaign_sync.manifests.models import Campaign
from campaign_sync.manifests.names import name_errors, name_warnings, skeleton
from campaign_sync.manifests.parse import parse_campaign
from campaign_sync.manifests.parsecache import ParseCache
from campaign_sync.manifests.yamlsafe import LineDict, LineList, YamlProblem, issue, load

if TYPE_CHECKING:
    from campaign_sync.manifests.templates import LimitedEnvironment, Limits

SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")
PLACEHOLDER = "REPLACE-WITH-"
"""What `init` and `export` write where a person must fill in a value."""
__all__ = ["DesiredState", "ManifestCampaign", "load_desired", "parse_file"]


@dataclass(frozen=True)
class ManifestCampaign:
    """A validated campaign and where it is declared."""

    campaign: Campaign
    location: Location

    @property
    def key(self) -> str:
        return self.campaign.key


@dataclass(frozen=True)
class DesiredState:
    """Every campaign the manifests declare, by key, plus a digest of the rendered files."""

    campaigns: dict[str, ManifestCampaign]
    files: tuple[str, ...]
    digest: str
    warnings: tuple[Issue, ...] = ()
    marked: Mapping[str, str | bytes] = field(default_factory=dict)
    """The rendered text of each file that holds a placeholder, to find its lines again."""


def is_manifest(name: str) -> bool:
    return name.endswith(SUFFIXES)


def _inside(root: Path, candidate: Path) -> bool:
    real_root = os.path.realpath(root)
    real = os.path.realpath(candidate)
    return os.path.commonpath([real_root, real]) == real_root


def discover(root: Path, entries: Iterable[str]) -> tuple[list[Path], list[Issue]]:
    """Manifest files under the configured entries, sorted, confined to ``root``."""
    found: set[Path] = set()
    issues: list[Issue] = []
    for entry in entries:
        where = Location("campaign-sync.yaml")
        pure = PurePosixPath(entry)
        if pure.is_absolute() or Path(entry).is_absolute() or ".." in pure.parts:
            issues.append(Issue(where, "manifests", f"{entry!r} must be a path inside the repository"))
            continue
        path = root / entry
        if not path.exists():
            issues.append(Issue(where, "manifests", f"{entry!r} does not exist"))
            continue
        if not _inside(root, path):
            issues.append(Issue(where, "manifests", f"{entry!r} resolves outside the repository"))
            continue
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for candidate in candidates:
            if not is_manifest(candidate.name):
                continue
            rel = candidate.relative_to(root).as_posix()
            if not _inside(root, candidate):
                issues.append(Issue(Location(rel), "", "is a symlink that points outside the repository"))
                continue
            found.add(candidate)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix()), issues


def _parse_clean(
    rel: str, text: str | bytes, cache: ParseCache | None = None, content: bytes = b""
) -> list[ManifestCampaign] | None:
    """The fast path: a file with nothing to report, read without per-key lines (None: anything else).

    Whatever this path finds (a YAML problem, an invalid campaign, a name to warn about) sends the
    file back through the precise path, which words every problem with its line. With a ``cache``
    (plain files only), the values of a clean file are read from it by ``content`` digest, or
    parsed and then remembered there.
    """
    cached = cache.get(content) if cache is not None else None
    data = cached
    if data is None:
        try:
            data = yamlfast.load(text)
        except yamlfast.Slow:
            return None
    if data is None:
        return []
    if not isinstance(data, dict) or any(key != "campaigns" for key in data):
        return None
    raw = data.get("campaigns")
    if raw is None:
        return []
    if not isinstance(raw, LineList):
        return None
    found: list[ManifestCampaign] = []
    for index, item in enumerate(raw):
        result = parse_campaign(item, rel, data, ("campaigns", index))
        if isinstance(result, list) or name_errors(result.name) or name_warnings(result.name):
            return None
        found.append(ManifestCampaign(result, Location(rel, raw.item_lines[index])))
    if cache is not None and cached is None:
        cache.put(content, data)
    return found


def parse_file(
    rel: str,
    text: str | bytes,
    warnings: list[Issue] | None = None,
    cache: ParseCache | None = None,
    content: bytes = b"",
) -> tuple[list[ManifestCampaign], list[Issue]]:
    """Parse and validate one (rendered) manifest file; look-alike names go to ``warnings``.

    ``cache`` and ``content`` (the SHA-256 of the file's bytes): see :mod:`parsecache`.
    """
    clean = _parse_clean(rel, text, cache, content)
    if clean is not None:
        return clean, []
    return parse_precise(rel, text, warnings)


def parse_precise(
    rel: str, text: str | bytes, warnings: list[Issue] | None = None
) -> tuple[list[ManifestCampaign], list[Issue]]:
    """``parse_file`` through the marking loader: every problem with its ``file:line``."""
    try:
        data = load(text, rel)
    except YamlProblem as exc:
        return [], [Issue(Location(rel, exc.line), "", exc.message)]
    if data is None:
        return [], []
    if not isinstance(data, LineDict):
        return [], [
            Issue(Location(rel, getattr(data, "line", 1)), "", "must be a mapping with a 'campaigns' list")
        ]
    issues = [
        issue(rel, data, (key,), "unknown top-level key (a manifest holds only 'campaigns')")
        for key in data
        if key != "campaigns"
    ]
    raw = data.get("campaigns")
    if raw is None:
        return [], issues
    if not isinstance(raw, list):
        return [], [*issues, issue(rel, data, ("campaigns",), "must be a list of campaigns")]
    found: list[ManifestCampaign] = []
    for index, item in enumerate(raw):
        result = parse_campaign(item, rel, data, ("campaigns", index))
        if isinstance(result, list):
            issues.extend(result)
        else:
            line = getattr(item, "line", 0)
            found.append(ManifestCampaign(result, Location(rel, line)))
            where = ("campaigns", index, "name")
            issues.extend(issue(rel, data, where, problem) for problem in name_errors(result.name))
            if warnings is not None:
                warnings.extend(issue(rel, data, where, problem) for problem in name_warnings(result.name))
    return found, issues


def lookalikes(campaigns: list[ManifestCampaign]) -> list[Issue]:
    """Warnings for names of one type that differ yet look the same (compatibility forms, case)."""
    first: dict[tuple[str, str], ManifestCampaign] = {}
    found: list[Issue] = []
    for item in campaigns:
        name = item.campaign.name
        other = first.setdefault((item.campaign.campaignType, skeleton(name)), item)
        if other.campaign.name.lower() != name.lower():
            found.append(
                Issue(
                    item.location,
                    "name",
                    f"{name!r} looks like {other.campaign.name!r} of {other.key!r} at {other.location}",
                )
            )
    return found


def cross_check(campaigns: list[ManifestCampaign]) -> list[Issue]:
    """Keys unique across all manifests; names unique per campaign type (case-insensitive)."""
    issues: list[Issue] = []
    keys: dict[str, ManifestCampaign] = {}
    names: dict[tuple[str, str], ManifestCampaign] = {}
    for item in campaigns:
        first = keys.get(item.key)
        if first is not None:
            issues.append(Issue(item.location, "key", f"{item.key!r} is also used at {first.location}"))
        else:
            keys[item.key] = item
        name_id = (item.campaign.campaignType, item.campaign.name.lower())
        other = names.get(name_id)
        if other is not None:
            issues.append(
                Issue(
                    item.location,
                    "name",
                    f"{item.campaign.campaignType} campaign name {item.campaign.name!r} is also used by "
                    f"{other.key!r} at {other.location} (names are unique per type, ignoring case)",
                )
            )
        else:
            names[name_id] = item
    return issues


@builds_long_lived
def load_desired(
    root: Path,
    entries: Iterable[str],
    variables: Mapping[str, Any],
    cli_vars: Mapping[str, str],
    environ: Mapping[str, str],
    environment: str,
    limits: Limits | None = None,
    cache: ParseCache | None = None,
) -> DesiredState:
    """Discover, render (within ``limits``), parse and validate every manifest; raise all problems.

    ``cache``: where the parsed values of plain (not templated) files are kept by content hash
    (default: the user's cache directory as ``environ`` names it, :mod:`parsecache`). The values
    and models live to the run's end: they are built as ``heap.long_lived`` says.
    """
    files, issues = discover(root, entries)
    if cache is None:
        cache = ParseCache(parsecache.directory(environ))
    templating: tuple[LimitedEnvironment, dict[str, Any]] | None = None  # made for the first template
    campaigns: list[ManifestCampaign] = []
    warnings: list[Issue] = []
    digest = hashlib.sha256()
    shown: list[str] = []
    marked: dict[str, str | bytes] = {}
    for path in files:
        rel = path.relative_to(root).as_posix()
        shown.append(rel)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            issues.append(Issue(Location(rel), "", f"cannot read: {exc.strerror}"))
            continue
        text: str | bytes = raw
        if rel.endswith(".j2"):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                issues.append(Issue(Location(rel, line), "", f"not valid UTF-8 (byte offset {exc.start})"))
                continue
            from campaign_sync.manifests import templates  # Jinja2: only a workspace with templates

            if templating is None:
                templating = (
                    templates.template_environment(root, limits),
                    templates.template_context(variables, cli_vars, environ, environment),
                )
            rendered = templates.render(templating[0], root, rel, templating[1])
            if isinstance(rendered, Issue):
                issues.append(rendered)
                continue
            text = rendered
        body = text.encode("utf-8") if isinstance(text, str) else text
        content = hashlib.sha256(body).digest()
        digest.update(rel.encode() + b"\0" + content)
        if PLACEHOLDER.encode() in body:
            marked[rel] = text
        plain = text is raw
        found, problems = parse_file(rel, text, warnings, cache if plain else None, content)
        campaigns.extend(found)
        issues.extend(problems)
    cache.prune()
    issues.extend(cross_check(campaigns))
    if issues:
        raise ManifestError(issues)
    return DesiredState(
        campaigns={c.key: c for c in sorted(campaigns, key=lambda c: c.key)},
        files=tuple(shown),
        digest="sha256:" + digest.hexdigest(),
        warnings=tuple(sorted({*warnings, *lookalikes(campaigns)})),
        marked=marked,
    )

"""The state file's format: the ``State`` and ``CampaignRecord`` values, strict parsing, and
deterministic serialization. ``state.py`` reads and writes the file; this module knows its JSON.

See ``campaign_sync.state`` for the format and the guarantees of reading and writing it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from campaign_sync import __version__
from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.errors import StateError
from campaign_sync.heap import paused
from campaign_sync.state.jsontext import Verbatim, indented, piece

FORMAT_VERSION = 1
CAMPAIGN_TYPES = frozenset(REGISTRY.names())
_UNKNOWN_VERSION = "unknown"


class Invalid(Exception):
    """One schema problem, phrased without the file name."""


@dataclass(frozen=True)
class Identity:
    """The environment a state belongs to: its name in the config, host, streamId and accountId.

    Stored in the state as ``"identity": {"environment", "host", "streamId", "accountId"}``. The
    host is compared without a trailing slash and with its scheme and name in lowercase.
    """

    environment: str
    host: str
    streamId: str
    accountId: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "host", _canonical_host(self.host))

    def to_json(self) -> dict[str, str]:
        return {
            "environment": self.environment,
            "host": self.host,
            "streamId": self.streamId,
            "accountId": self.accountId,
        }

    def differences(self, other: Identity) -> list[str]:
        """The fields that differ, as ``name: 'this' vs 'other'``."""
        return [
            f"{name} {mine!r} vs {theirs!r}"
            for name, mine, theirs in zip(
                ("environment", "host", "streamId", "accountId"),
                self.to_json().values(),
                other.to_json().values(),
                strict=True,
            )
            if mine != theirs
        ]

    def describe(self) -> str:
        return (
            f"environment {self.environment!r} (host {self.host}, streamId {self.streamId}, "
            f"accountId {self.accountId})"
        )


def _canonical_host(host: str) -> str:
    text = host.strip().rstrip("/")
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text.lower()
    name, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{name.lower()}{slash}{path}"


# -- values ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRecord:
    """One managed campaign. Only ``id``, ``campaignType`` and ``name`` mean anything to this module."""

    id: str
    campaignType: str
    name: str
    applied: dict[str, Any]
    updatedAt: str | None = None
    cached: dict[str, Any] | None = None  # the last GET document seen (JSON: "live")
    contentHash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "campaignType": self.campaignType,
            "name": self.name,
            "applied": self.applied,
            "updatedAt": self.updatedAt,
            "live": self.cached,
            "contentHash": self.contentHash,
        }

    @classmethod
    def from_json(cls, data: Any) -> CampaignRecord:
        try:
            return _parse_record(data, "campaign record")
        except Invalid as exc:
            raise StateError(f"invalid campaign record ({exc})") from None


@dataclass(frozen=True)
class State:
    """The whole state file as a value. Build one with :meth:`new` or :meth:`from_json`."""

    lineage: str
    serial: int = 0
    version: int = FORMAT_VERSION
    toolVersion: str = __version__
    campaigns: dict[str, CampaignRecord] = field(default_factory=dict)
    flows: dict[str, str] = field(default_factory=dict)
    identity: Identity | None = None
    """``None`` only in states written before identities existed (stamped on their next write)."""

    @classmethod
    def new(cls, identity: Identity | None = None) -> State:
        """An empty state: serial 0, a fresh uuid4 lineage."""
        return cls(lineage=str(uuid.uuid4()), identity=identity)

    def with_identity(self, identity: Identity) -> State:
        return replace(self, identity=identity)

    def with_campaign(self, key: str, record: CampaignRecord) -> State:
        """A copy with ``key`` set to ``record`` (added or replaced)."""
        if not isinstance(key, str) or not key:
            raise ValueError(f"a campaign key must be a non-empty string, not {key!r}")
        if not isinstance(record, CampaignRecord):
            raise TypeError(f"expected a CampaignRecord, not {type(record).__name__}")
        return replace(self, campaigns={**self.campaigns, key: record})

    def without_campaign(self, key: str) -> State:
        """A copy without ``key``; the same content when ``key`` is not there (idempotent)."""
        return replace(self, campaigns={k: v for k, v in self.campaigns.items() if k != key})

    def with_flows(self, flows: Mapping[str, str]) -> State:
        """A copy whose flow name -> id pairs are exactly ``flows`` (replaced, not merged)."""
        return replace(self, flows=dict(flows))

    def to_json(self) -> dict[str, Any]:
        return self._json({key: record.to_json() for key, record in self.campaigns.items()})

    def _json(self, campaigns: Mapping[str, Any]) -> dict[str, Any]:
        """``to_json`` with ``campaigns`` in place of the records' own JSON (a save's record texts)."""
        data: dict[str, Any] = {
            "version": self.version,
            "serial": self.serial,
            "lineage": self.lineage,
            "toolVersion": self.toolVersion,
            "flows": dict(self.flows),
            "campaigns": campaigns,
        }
        if self.identity is not None:
            data["identity"] = self.identity.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any, source: str = "<state>") -> State:
        """Strictly checked; ``StateError`` naming ``source`` on any problem."""
        try:
            return parse_state(data)
        except Invalid as exc:
            raise StateError(f"state file {source} is unreadable ({exc})") from None

    def content_equal(self, other: State) -> bool:
        """Equal in everything but ``serial`` and ``toolVersion`` (which describe a write, not content)."""
        return content_text(self) == content_text(other)


# -- parsing and serializing -----------------------------------------------------------------------------

_STATE_FIELDS = frozenset({"version", "serial", "lineage", "toolVersion", "flows", "campaigns", "identity"})
_IDENTITY_FIELDS = ("environment", "host", "streamId", "accountId")
_RECORD_FIELDS = frozenset({"id", "campaignType", "name", "applied", "updatedAt", "live", "contentHash"})


def loads(raw: bytes) -> Any:
    if not raw.strip():
        raise Invalid("the file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"not UTF-8 text: invalid byte at offset {exc.start}") from None
    # Parsing builds every container of the state at once, none of them in a cycle (``heap``).
    try:
        with paused():
            return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise Invalid(
                f"truncated JSON: the text ends at line {exc.lineno} before the document does"
            ) from None
        raise Invalid(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise Invalid("JSON nested too deeply") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = dict(pairs)
    if len(result) == len(pairs):
        return result
    result = {}
    for key, value in pairs:
        if key in result:
            raise Invalid(f"duplicate key {json.dumps(key, ensure_ascii=False)}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise Invalid(f"{name} is not a JSON value")


def parse_state(data: Any) -> State:
    if not isinstance(data, dict):
        raise Invalid(f"the top level must be a JSON object, not {_kind(data)}")
    if "version" not in data:
        raise Invalid('no "version" field')
    version = data["version"]
    if not _is_int(version):
        raise Invalid(f"version must be an integer, not {_kind(version)}")
    if version != FORMAT_VERSION:
        writer = data.get("toolVersion")
        by = f", written by campaign-sync {writer}" if isinstance(writer, str) else ""
        raise Invalid(
            f"unknown state format version {version}{by}; campaign-sync {__version__} reads "
            f"version {FORMAT_VERSION} only"
        )
    _no_unknown_fields(data, _STATE_FIELDS, "the top level")
    for name in ("serial", "lineage", "campaigns"):
        if name not in data:
            raise Invalid(f'no "{name}" field')
    serial = data["serial"]
    if not _is_int(serial) or serial < 0:
        raise Invalid(f"serial must be an integer >= 0, not {_describe(serial)}")
    lineage = _text(data["lineage"], "lineage")
    try:
        uuid.UUID(lineage)
    except ValueError:
        raise Invalid(f"lineage must be a uuid, not {_describe(lineage)}") from None
    tool_version = _text(data.get("toolVersion", _UNKNOWN_VERSION), "toolVersion")
    flows_data = _mapping(data.get("flows", {}), "flows")
    flows = {
        _key(name, "flows"): _text(value, f"flows[{_quote(name)}]") for name, value in flows_data.items()
    }
    campaigns_data = _mapping(data["campaigns"], "campaigns")
    campaigns = {
        _key(key, "campaigns"): _well_formed_record(value)
        or _parse_record(value, f"campaigns[{_quote(key)}]")
        for key, value in campaigns_data.items()
    }
    identity = _parse_identity(data["identity"]) if "identity" in data else None
    return State(
        lineage=lineage,
        serial=serial,
        version=version,
        toolVersion=tool_version,
        campaigns=campaigns,
        flows=flows,
        identity=identity,
    )


def _parse_identity(data: Any) -> Identity:
    record = _mapping(data, "identity")
    _no_unknown_fields(record, frozenset(_IDENTITY_FIELDS), "identity")
    for name in _IDENTITY_FIELDS:
        if name not in record:
            raise Invalid(f'identity: no "{name}" field')
    environment, host, stream_id, account_id = (
        _text(record[name], f"identity.{name}") for name in _IDENTITY_FIELDS
    )
    return Identity(environment=environment, host=host, streamId=stream_id, accountId=account_id)


def _well_formed_record(data: Any) -> CampaignRecord | None:
    """The record, when every check of ``_parse_record`` passes; else None (it names the problem).

    The same checks without building the names of the places a problem would be reported at
    (a state of 10,000 campaigns passes them all, and spelling each place cost a tenth of a load).
    """
    if data.__class__ is not dict or not _RECORD_FIELDS.issuperset(data):
        return None
    cid, campaign_type, name, applied = (
        data.get("id"),
        data.get("campaignType"),
        data.get("name"),
        data.get("applied"),
    )
    updated, live, content = data.get("updatedAt"), data.get("live"), data.get("contentHash")
    if not (
        isinstance(cid, str)
        and cid
        and isinstance(campaign_type, str)
        and campaign_type in CAMPAIGN_TYPES
        and isinstance(name, str)
        and isinstance(applied, dict)
        and (updated is None or isinstance(updated, str))
        and (live is None or isinstance(live, dict))
        and (content is None or isinstance(content, str))
    ):
        return None
    return CampaignRecord(
        id=cid,
        campaignType=campaign_type,
        name=name,
        applied=applied,
        updatedAt=updated,
        cached=live,
        contentHash=content,
    )


def _parse_record(data: Any, where: str) -> CampaignRecord:
    record = _mapping(data, where)
    _no_unknown_fields(record, _RECORD_FIELDS, where)
    for name in ("id", "campaignType", "name", "applied"):
        if name not in record:
            raise Invalid(f'{where}: no "{name}" field')
    campaign_type = _text(record["campaignType"], f"{where}.campaignType")
    if campaign_type not in CAMPAIGN_TYPES:
        raise Invalid(f"{where}.campaignType must be {REGISTRY.choices()}, not {_describe(campaign_type)}")
    live = record.get("live")
    return CampaignRecord(
        id=_text(record["id"], f"{where}.id"),
        campaignType=campaign_type,
        name=_text(record["name"], f"{where}.name", empty=True),
        applied=_mapping(record["applied"], f"{where}.applied"),
        updatedAt=_optional_text(record.get("updatedAt"), f"{where}.updatedAt"),
        cached=None if live is None else _mapping(live, f"{where}.live"),
        contentHash=_optional_text(record.get("contentHash"), f"{where}.contentHash"),
    )


def _no_unknown_fields(data: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        names = ", ".join(_quote(name) for name in unknown)
        raise Invalid(f"{where}: unknown field{'s' if len(unknown) > 1 else ''} {names}")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be a JSON object, not {_kind(value)}")
    return value


def _text(value: Any, where: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or not (value or empty):
        raise Invalid(f"{where} must be a {'' if empty else 'non-empty '}string, not {_describe(value)}")
    return value


def _optional_text(value: Any, where: str) -> str | None:
    """Opaque text (a live version, a hash): any string, or null."""
    if value is None or isinstance(value, str):
        return value
    raise Invalid(f"{where} must be a string or null, not {_describe(value)}")


def _key(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"{where} has an empty key")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _describe(value: Any) -> str:
    if _is_int(value):
        return str(value)
    return _quote(value) if isinstance(value, str) and len(value) <= 60 else _kind(value)


def _quote(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def serialize(state: State, texts: RecordTexts | None = None) -> str:
    """The state file's text; with ``texts``, each record written (and checked) before is copied
    from there, and ``texts.fresh`` names the records written anew (None: the plain path)."""
    if texts is not None:
        pieces = texts.pieces(state.campaigns)
        if pieces is not None:
            text = piece(state._json(pieces), "\n")
            if text is not None:
                return text + "\n"
        texts.fresh = None
    try:
        return indented(state.to_json()) + "\n"
    except (TypeError, ValueError) as exc:
        raise StateError(f"cannot save state: a value is not plain JSON ({exc})") from exc


#: Where a record's lines start in the state file: the top level's values are indented by two
#: spaces, the records (values of ``campaigns``) by four.
_RECORD_NEWLINE = "\n    "


class RecordTexts:
    """The text ``serialize`` wrote for each record, by record object, for the next save.

    An apply saves the whole state after every write, and all but the records it changed are the
    very objects saved before: their text is copied (the same bytes), not written again. Records
    are never changed in place (frozen, with values built afresh for each one), so an object's
    text holds for as long as the object does; each save keeps only the records it saved. Only
    texts that passed ``check_serialized`` are kept for copying (``commit``).
    """

    def __init__(self) -> None:
        self._by_object: dict[int, tuple[CampaignRecord, str]] = {}
        self._pending: dict[int, tuple[CampaignRecord, str]] | None = None
        self.fresh: list[tuple[str, str]] | None = None
        """The key and text of each record the last ``serialize`` wrote anew (None: it took the
        plain path, no record text was copied)."""

    def commit(self) -> None:
        """The last texts are checked: the next save copies them."""
        if self._pending is not None:
            self._by_object, self._pending = self._pending, None

    def pieces(self, campaigns: Mapping[str, CampaignRecord]) -> dict[str, Verbatim] | None:
        """Each record's text, written where it is not known (None: one that only ``json.dumps``
        may write, which the whole state then goes to)."""
        known = self._by_object
        kept: dict[int, tuple[CampaignRecord, str]] = {}
        fresh: list[tuple[str, str]] = []
        out: dict[str, Verbatim] = {}
        for key, record in campaigns.items():
            hit = known.get(id(record))
            if hit is not None and hit[0] is record:
                text = hit[1]
            else:
                written = piece(record.to_json(), _RECORD_NEWLINE)
                if written is None:
                    return None
                text = written
                fresh.append((key, text))
            kept[id(record)] = (record, text)
            out[key] = Verbatim(text)
        self._pending, self.fresh = kept, fresh
        return out


def check_serialized(state: State, text: str, texts: RecordTexts | None = None) -> None:
    """``Invalid`` unless ``text`` (what ``serialize(state, texts)`` wrote) reads back as a valid
    state: what ``parse_state(json.loads(text))`` decides, the save's self-check.

    A text put together from record texts is checked in its parts: the top level (with no
    campaigns), every key, and each record written anew; a copied record's text was checked
    when it was first written (only checked texts are copied). The parts are put together by
    ``serialize`` alone (``tests/state/test_state_save_text.py`` holds the two checks to the same
    answers). Then the texts are committed for the next save.
    """
    if texts is None or texts.fresh is None:
        parse_state(json.loads(text))
        return
    # In the order parse_state goes: the top level, each key and record in the text's (sorted)
    # order, then the identity, so the first problem found is the one it would name.
    top = state._json({})
    identity = top.pop("identity", None)
    parse_state(json.loads(indented(top)))
    fresh = dict(texts.fresh)
    for key in sorted(state.campaigns):
        _key(key, "campaigns")
        record_text = fresh.get(key)
        if record_text is not None:
            data = json.loads(record_text)
            if _well_formed_record(data) is None:
                _parse_record(data, f"campaigns[{_quote(key)}]")
    if identity is not None:
        _parse_identity(json.loads(indented(identity)))
    texts.commit()


def same_but_write_marks(new: bytes, old: bytes) -> bool:
    """Whether two texts ``serialize`` wrote hold the same content: equal but for the top-level
    ``serial`` and ``toolVersion`` lines (what ``State.content_equal`` leaves out).

    Only top-level keys start a line indented by exactly two spaces (strings never hold a raw
    newline), and they come sorted: ``campaigns`` and ``flows`` first, then ``identity``,
    ``lineage``, ``serial``, ``toolVersion``, ``version``. So the texts are compared up to the
    top-level ``lineage`` as they are (one comparison of bytes), and after it without those lines.
    """
    cut_new, cut_old = new.rfind(b'\n  "lineage": '), old.rfind(b'\n  "lineage": ')
    if cut_new < 0 or cut_old < 0 or new[:cut_new] != old[:cut_old]:
        return False
    return _WRITE_MARKS.sub(b"", new[cut_new:]) == _WRITE_MARKS.sub(b"", old[cut_old:])


_WRITE_MARKS = re.compile(rb'\n  "(?:serial|toolVersion)": [^\n]*')


def content_text(state: State) -> str:
    content = state.to_json()
    del content["serial"], content["toolVersion"]
    try:
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StateError(f"state holds a value that is not plain JSON ({exc})") from exc


def refuse_forbidden(state: State, text: str, forbidden: Iterable[str]) -> None:
    for index, value in enumerate(v for v in forbidden if v):
        escaped = json.dumps(value, ensure_ascii=False)[1:-1]
        if value in text or escaped in text:
            where = _locate(state.to_json(), value, "") or "the state"
            raise StateError(
                f"refusing to save state: {where} contains a secret value (forbidden value #{index + 1}); "
                "secrets never go into state. Nothing was written"
            )


def _locate(node: Any, needle: str, path: str) -> str | None:
    if isinstance(node, str):
        return (path or "the state") if needle in node else None
    children: Iterator[tuple[str, Any]]
    if isinstance(node, dict):
        for key in node:
            if needle in key:
                return f"a key of {path or 'the state'}"
        children = ((f"{path}.{key}" if path else key, value) for key, value in node.items())
    elif isinstance(node, list):
        children = ((f"{path}[{i}]", value) for i, value in enumerate(node))
    else:
        return None
    for child_path, child in children:
        found = _locate(child, needle, child_path)
        if found is not None:
            return found
    return None

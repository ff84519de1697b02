"""Safe YAML that remembers where every value came from.

* A SafeLoader subclass: no Python tags, ever (``!!python/object`` is a constructor error).
* YAML 1.2 core-schema scalars: ``true``/``false`` are booleans, but ``yes``/``no``/``on``/``off``
  stay strings, and ``10:00`` stays the string ``"10:00"`` (no YAML 1.1 sexagesimal integers).
* Duplicate keys are errors naming both lines.
* Caps on bytes, nesting depth and alias use (alias bombs are refused before they expand).
* Mappings load as :class:`LineDict` and sequences as :class:`LineList`, which carry the
  1-based line of the node and of each key / item, so a validation error can point at
  ``file:line``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from campaign_sync.errors import Issue, Location

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 50
MAX_ALIASES = 100
MAX_ALIAS_EXPANSION = 10_000


class LineDict(dict[str, Any]):
    """A mapping that knows its own line and the line of each of its keys."""

    line: int
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A sequence that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]


class YamlProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema (plus merge keys)."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def _bool(loader: _Constructor, node: ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


def _int(loader: _Constructor, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


_Constructor.add_constructor("tag:yaml.org,2002:bool", _bool)  # type: ignore[type-var]
_Constructor.add_constructor("tag:yaml.org,2002:int", _int)  # type: ignore[type-var]


class _PyLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Constructor,
    _Resolver,
):
    """The pure-Python parser, used when PyYAML was built without libyaml."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _CLoader(CParser, _Constructor, _Resolver):
        """libyaml's parser (about five times faster); it refuses nesting past 1,000 levels itself."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

    def _loader(text: str) -> Any:
        return _CLoader(text)

else:  # pragma: no cover - PyYAML wheels ship libyaml

    def _loader(text: str) -> Any:
        return _PyLoader(text)


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


class _Budget:
    """Counts values built by expanding aliases, so a few aliases cannot fan out into millions."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.aliases = 0
        self.expanded = 0
        self.inside_alias = 0


def _build(loader: Any, node: Node, depth: int = 0, budget: _Budget | None = None) -> Any:
    budget = budget or _Budget()
    repeat = id(node) in budget.seen
    budget.seen.add(id(node))
    if repeat:
        budget.aliases += 1
        if budget.aliases > MAX_ALIASES:
            raise YamlProblem(
                node.start_mark.line + 1,
                f"too many aliases (more than {MAX_ALIASES}); refusing to expand",
            )
    if repeat or budget.inside_alias:
        budget.expanded += 1
        if budget.expanded > MAX_ALIAS_EXPANSION:
            raise YamlProblem(
                node.start_mark.line + 1,
                f"aliases expand to more than {MAX_ALIAS_EXPANSION} values; refusing to expand",
            )
    budget.inside_alias += repeat
    try:
        return _build_node(loader, node, depth, budget)
    finally:
        budget.inside_alias -= repeat


def _build_node(loader: Any, node: Node, depth: int, budget: _Budget) -> Any:
    if depth > MAX_DEPTH:
        raise YamlProblem(node.start_mark.line + 1, f"nesting deeper than {MAX_DEPTH} levels")
    if isinstance(node, MappingNode | SequenceNode) and node.tag not in _PLAIN_TAGS:
        raise YamlProblem(
            node.start_mark.line + 1, f"unsupported tag {node.tag!r} (only plain YAML is accepted)"
        )
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                if isinstance(key, bool | int | float) or key is None:
                    key = str(key).lower() if isinstance(key, bool) or key is None else str(key)
                else:
                    raise YamlProblem(line, "mapping keys must be plain strings")
            if key in result:
                first = result.key_lines[key]
                raise YamlProblem(line, f"duplicate key {key!r} (first defined on line {first})")
            result[key] = _build(loader, value_node, depth + 1, budget)
            result.key_lines[key] = line
        return result
    if isinstance(node, SequenceNode):
        items = LineList()
        items.line = node.start_mark.line + 1
        items.item_lines = []
        for child in node.value:
            items.append(_build(loader, child, depth + 1, budget))
            items.item_lines.append(child.start_mark.line + 1)
        return items
    return loader.construct_object(node, deep=True)


def _decoded(text: str | bytes) -> str:
    """The document as text: size capped, UTF-8 checked (with the line of a bad byte), BOM dropped."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise YamlProblem(0, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        raw = text.removeprefix(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise YamlProblem(line, f"not valid UTF-8 (byte offset {exc.start})") from None
    if len(text) > MAX_BYTES:
        raise YamlProblem(0, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    return text.lstrip("\ufeff")


def load(text: str | bytes, path: str) -> Any:
    """Parse one YAML document. Raises :class:`ManifestError`-ready :class:`YamlProblem`."""
    loader = _loader(_decoded(text))
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(loader, node)
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        message = exc.problem or str(exc)
        if exc.context and "could not determine a constructor" in (exc.problem or ""):
            message = exc.problem or message
        if "could not determine a constructor" in message:
            message = message.replace("could not determine a constructor for the tag", "unsupported tag")
            message += " (only plain YAML is accepted)"
        raise YamlProblem(line, f"invalid YAML: {message}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(0, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem(0, f"nesting deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def line_of(data: Any, loc: Sequence[str | int]) -> int:
    """The line of the deepest value along ``loc`` that exists in ``data`` (0 when unknown)."""
    line = getattr(data, "line", 0)
    node = data
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str):
            if part not in node:
                break
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int):
            if not 0 <= part < len(node):
                break
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line


def issue(path: str, data: Any, loc: Sequence[str | int], message: str, prefix: str = "") -> Issue:
    """An :class:`Issue` for the value at ``loc`` (``campaigns[2].priority`` style field path)."""
    return Issue(Location(path, line_of(data, loc)), field_path(loc, prefix), message)


def field_path(loc: Sequence[str | int], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out

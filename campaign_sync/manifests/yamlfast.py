"""The fast path of the YAML loader: libyaml, plain values, no per-key lines.

``yamlsafe.load`` remembers the line of every key, which is what an error needs but costs most of
a clean load. Most manifests are clean, so ``loader.parse_file`` tries this first: the same
libyaml parser, the same YAML 1.2 core schema (with a memoised resolver), the same caps on
depth, aliases and size, but mappings are plain ``dict`` values and only sequences keep their
items' lines (a campaign's own line is an item line of ``campaigns``).

It never reports anything itself: any problem at all (a duplicate key, a tag, a cap, a syntax
error) is :class:`Slow`, and the caller parses the file again with ``yamlsafe.load``, which
finds and words the problem with its ``file:line``. So this path only has to refuse at least
whatever the precise path refuses, and to build the same values for everything else
(``tests/test_yaml_fast.py`` holds both).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from campaign_sync.manifests import yamlsafe
from campaign_sync.manifests.yamlsafe import MAX_ALIAS_EXPANSION, MAX_ALIASES, MAX_DEPTH, LineList

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class Slow(Exception):
    """This document needs the precise loader (it has a problem, or something unusual)."""


class _Resolver(yamlsafe._Resolver):
    """The precise loader's resolver, short-cut for scalars (it has no path or wildcard resolvers)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR
            for tag, regexp in _IMPLICIT.get(value[:1], ()):
                if regexp.match(value):
                    return tag
            return _STR
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


_IMPLICIT: dict[str, list[tuple[str, Any]]] = yamlsafe._Resolver.yaml_implicit_resolvers


_Loader: Any = None
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _CLoader(CParser, yamlsafe._Constructor, _Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yamlsafe._Constructor.__init__(self)
            _Resolver.__init__(self)

    _Loader = _CLoader


class _Walk:
    """One document's build: the alias budget and the loader, as ``yamlsafe._build`` keeps them."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.seen: set[int] = set()
        self.aliases = 0
        self.expanded = 0
        self.inside_alias = 0

    def build(self, node: Node, depth: int) -> Any:
        repeat = id(node) in self.seen
        if repeat:
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise Slow
        else:
            self.seen.add(id(node))
        if repeat or self.inside_alias:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise Slow
        if depth > MAX_DEPTH:
            raise Slow
        if repeat:
            self.inside_alias += 1
            try:
                return self.node(node, depth)
            finally:
                self.inside_alias -= 1
        return self.node(node, depth)

    def node(self, node: Node, depth: int) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if node.tag == _MAP and isinstance(node, MappingNode):
            return self.mapping(node, depth)
        if node.tag == _SEQ and isinstance(node, SequenceNode):
            items = LineList()
            items.line = node.start_mark.line + 1
            items.item_lines = []
            for child in node.value:
                items.append(self.build(child, depth + 1))
                items.item_lines.append(child.start_mark.line + 1)
            return items
        raise Slow

    def mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        for key_node, _value in node.value:
            if key_node.tag == _MERGE:
                self.loader.flatten_mapping(node)
                break
        result: dict[str, Any] = {}
        seen = self.seen
        # a plain string value seen for the first time, outside any alias, within the depth cap:
        # what ``build`` would do for it, without the calls (the common case by far)
        inline = not self.inside_alias and depth + 1 <= MAX_DEPTH
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise Slow
            key = key_node.value if key_node.tag == _STR else self.scalar(key_node)
            if not isinstance(key, str):
                if isinstance(key, bool) or key is None:
                    key = str(key).lower()
                elif isinstance(key, int | float):
                    key = str(key)
                else:
                    raise Slow
            if key in result:
                raise Slow
            if (
                inline
                and value_node.tag == _STR
                and type(value_node) is ScalarNode
                and id(value_node) not in seen
            ):
                seen.add(id(value_node))
                result[key] = value_node.value
            else:
                result[key] = self.build(value_node, depth + 1)
        return result

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return node.value.lower() == "true"
        if tag == _INT:
            return yamlsafe._int(self.loader, node)
        if tag == _FLOAT:
            return self.loader.construct_yaml_float(node)
        raise Slow  # any other tag: the precise loader decides (and words a refusal)


def load(text: str | bytes) -> Any:
    """The document's values (mappings as ``dict``, sequences as :class:`LineList`), or :class:`Slow`."""
    if _Loader is None:  # pragma: no cover - PyYAML wheels ship libyaml
        raise Slow
    try:
        loader = _Loader(yamlsafe._decoded(text))
    except yamlsafe.YamlProblem:
        raise Slow from None
    try:
        node = loader.get_single_node()
        return None if node is None else _Walk(loader).build(node, 0)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        raise Slow from None
    finally:
        loader.dispose()

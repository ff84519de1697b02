"""The only deepdiff user: canonical views in, readable field changes out.

deepdiff's types never leave this module. Paths read like the manifest
(``dialingStrategy.callingHours.days[FR].end``), never ``root['dialingStrategy']...[4]``; a
change inside a list is reported as the whole list, before and after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Mappings whose keys are data (day names), shown in brackets: ``days[FR]``.
_KEYED = frozenset({"days"})


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: ``before`` is live, ``after`` is what the manifest wants."""

    path: str
    before: Any
    after: Any
    unverified: bool = False

    def to_json(self) -> dict[str, Any]:
        out = {"path": self.path, "before": self.before, "after": self.after}
        if self.unverified:
            out["unverified"] = True
        return out


def format_path(parts: list[str | int]) -> str:
    out = ""
    keyed = False
    for part in parts:
        if isinstance(part, int) or keyed:
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        keyed = part in _KEYED
    return out


def _lookup(view: Any, parts: list[str | int]) -> Any:
    node = view
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _text(view: Any) -> str:
    """The JSON that decides sameness (``_same`` walks the values instead of writing this out)."""
    return json.dumps(view, sort_keys=True, separators=(",", ":"), default=repr)


def _same(live: Any, desired: Any) -> bool:
    """Type-strict equality (``True`` is not ``1``, ``"5"`` is not ``5``, ``1`` is not ``1.0``), like
    deepdiff's: exactly ``_text(live) == _text(desired)`` (``tests/test_diff_same.py``), without
    writing either out."""
    if live is desired:
        return True
    kind = type(live)
    if kind is type(desired):  # the common case, by exact type (no abstract isinstance checks)
        if kind is str or kind is int:
            return bool(live == desired)
        if kind is dict:
            return _same_dict(live, desired)
        if kind is list:
            return _same_items(live, desired)
        if kind is bool:
            return False  # not the same object: True and False
    return _same_any(live, desired)


def _same_items(live: list[Any] | tuple[Any, ...], desired: list[Any] | tuple[Any, ...]) -> bool:
    return len(live) == len(desired) and all(map(_same, live, desired))


def _same_dict(live: dict[Any, Any], desired: dict[Any, Any]) -> bool:
    if len(live) != len(desired):
        return False
    for key, value in live.items():
        if type(key) is not str or key not in desired:
            return _text(live) == _text(desired)  # keys JSON would convert: let it decide
        if not _same(value, desired[key]):
            return False
    return True  # as many keys, each of them in ``desired``: the same keys


def _same_any(live: Any, desired: Any) -> bool:
    """``_same`` for values of different types, or of types other than the common ones."""
    if isinstance(live, dict):
        return isinstance(desired, dict) and _same_dict(live, desired)
    if isinstance(live, list | tuple):
        return isinstance(desired, list | tuple) and _same_items(live, desired)
    if isinstance(live, str):
        return isinstance(desired, str) and str.__eq__(live, desired) is True
    if live is None or isinstance(live, bool) or desired is None or isinstance(desired, bool):
        return live is desired
    if isinstance(live, int) and isinstance(desired, int):
        return int(live) == int(desired)
    if isinstance(live, float) and isinstance(desired, float):
        return float.__repr__(live) == float.__repr__(desired)
    return _text(live) == _text(desired)  # anything else: what JSON makes of it decides


def unchanged(live: Any, desired: Any) -> bool:
    """Type-strict sameness (``_same``), the check ``compare`` starts with: True means no changes."""
    return _same(live, desired)


def compare(live: Mapping[str, Any], desired: Mapping[str, Any]) -> list[FieldChange]:
    """Field changes that turn ``live`` into ``desired`` (both canonical and projected)."""
    if _same(live, desired):
        return []  # the common case (in sync): skip deepdiff's tree walk
    from deepdiff import DeepDiff  # imported by the first real difference: in-sync plans never need it

    diff = DeepDiff(dict(live), dict(desired), view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    paths: dict[str, list[str | int]] = {}
    for levels in diff.values():
        for level in levels:
            parts: list[str | int] = list(level.path(output_format="list"))
            for index, part in enumerate(parts):
                if isinstance(part, int):
                    parts = parts[:index]
                    break
            paths.setdefault(format_path(parts), parts)
    changes = [
        FieldChange(path, _lookup(live, parts), _lookup(desired, parts)) for path, parts in paths.items()
    ]
    return sorted(changes, key=lambda c: c.path)


def additions(desired: Mapping[str, Any]) -> list[FieldChange]:
    """Every field of a new campaign, as leaf paths (a calling-hours window stays whole)."""
    out: list[FieldChange] = []

    def walk(node: Any, parts: list[str | int]) -> None:
        if isinstance(node, Mapping) and node and not (parts and parts[-2:-1] == ["days"]):
            for key in node:
                walk(node[key], [*parts, key])
        else:
            out.append(FieldChange(format_path(parts), None, node))

    walk(desired, [])
    return sorted(out, key=lambda c: c.path)

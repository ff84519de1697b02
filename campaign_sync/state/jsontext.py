"""The state's indented JSON, written several times faster than ``json.dumps(indent=2)``.

``json.dumps`` falls back to its pure-Python encoder (a generator per container) whenever
``indent`` is given, and an apply serializes the whole state after every write. This builds the
very same text (``indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False``) with one list
of pieces and the C string encoder; anything unusual (a key that is not a string, a float that
is not finite, a type JSON does not know, a cycle) is left to ``json.dumps``, which writes it or
raises exactly as before. ``tests/state/test_state_jsontext.py`` holds the two to the same bytes.
"""

from __future__ import annotations

import json
import math
from typing import Any

_encode: Any = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring


class _Unusual(Exception):
    pass


class Verbatim:
    """Text ``piece`` wrote for a value at the place it is put again: copied as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def indented(value: Any) -> str:
    """``json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)``."""
    text = piece(value, "\n")
    if text is None:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return text


def piece(value: Any, newline: str) -> str | None:
    """What ``indented`` writes for ``value`` found where lines start with ``newline`` (None:
    something unusual, which only ``json.dumps`` may write; ``Verbatim`` values are copied)."""
    out: list[str] = []
    try:
        _emit(value, newline, out)
    except (_Unusual, RecursionError, TypeError):
        return None
    return "".join(out)


def _emit(value: Any, newline: str, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Unusual
        out.append(float.__repr__(value))
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _emit(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in sorted(value.items()):
            if not isinstance(key, str):
                raise _Unusual
            out.append(separator)
            out.append(_encode(key))
            out.append(": ")
            _emit(item, inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif value.__class__ is Verbatim:
        out.append(value.text)
    else:
        raise _Unusual

"""Text that came from outside, made safe to show: the one sanitiser for terminal, logs and reports.

Names, ids and error messages come from the server and from manifests. Shown raw, they could
clear the screen, retitle the window, hide or reorder text, or fake a line of campaign-sync's own
output. Every character that is not visible text is shown escaped instead, the way JSON and
Python spell it (``\\u001b``, ``\\u202e``):

* C0 and C1 controls and DEL (ESC, so no CSI/OSC sequence survives; BEL; CR; ...);
* Unicode format characters (category Cf): bidirectional controls U+202A-202E, U+2066-2069,
  U+200E/F, U+061C, zero-width characters U+200B-200D, U+2060, U+FEFF, tag characters, ...;
* line and paragraph separators (U+2028, U+2029) and lone surrogates.

``escape`` is for one value inside a line (a newline is escaped too, so it cannot start a line
of its own); ``for_terminal`` is for whole output, where the newlines and tabs are ours. The
escaped form holds only printable ASCII, so escaping twice changes nothing. ``dumps_json`` writes
JSON whose strings carry such characters as JSON escapes: the same values, no raw controls.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

#: Unicode categories never shown raw.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# Candidates: anything but printable ASCII (the callback decides; ASCII text is a fast path).
_CANDIDATE = re.compile(r"[^\x20-\x7e]")


def is_hidden(char: str) -> bool:
    """Whether a character is a control, format (bidi, zero-width) or separator character."""
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _escape(text: str, keep: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep or not is_hidden(char):
            return char
        return _escaped(char)

    return _CANDIDATE.sub(replace, text)


def escape(text: str) -> str:
    """One value shown inside a line: every control, bidi, zero-width character and newline escaped."""
    return _escape(text, "")


def for_terminal(text: str) -> str:
    """Whole output: like :func:`escape`, but the newlines and tabs (campaign-sync's own) stay."""
    return _escape(text, "\n\t")


def hidden_characters(text: str) -> list[str]:
    """The hidden characters in ``text``, each once, as ``U+202E RIGHT-TO-LEFT OVERRIDE``."""
    seen: dict[str, None] = {}
    for match in _CANDIDATE.finditer(text):  # printable ASCII is never hidden: most names skip the loop
        char = match.group()
        if is_hidden(char):
            seen.setdefault(char)
    return [f"U+{ord(c):04X} {unicodedata.name(c, 'control character')}" for c in seen]


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n" or not is_hidden(char):  # raw newlines are the indentation's; strings escape theirs
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def dumps_json(data: Any) -> str:
    """Deterministic JSON (sorted keys, indented, UTF-8) with hidden characters as JSON escapes.

    Outside strings JSON is ASCII, so each replacement lands inside a string, where ``\\uXXXX``
    decodes to the very same character: readers get the same values, terminals no raw controls.
    """
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    return _CANDIDATE.sub(_json_escape, text) + "\n"

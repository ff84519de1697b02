"""Campaign names a person can tell apart (``validate``).

Campaigns are adopted and matched by name, and people review plans by name, so two names must
never look identical:

* **errors**: a name holding an invisible or control character: bidirectional controls
  (U+202A-202E, U+2066-2069, U+200E/F, ...), zero-width characters (U+200B-200D, U+2060, U+FEFF),
  any other format, control or separator character (``sanitize.is_hidden``);
* **warnings**: a name that mixes scripts with look-alike letters (Latin with a Cyrillic ``а``:
  UTS #39's "highly restrictive" level, so Latin with Han/Kana, Han/Bopomofo or Han/Hangul is
  fine; the look-alike data comes from ``confusable-homoglyphs``), one written with compatibility
  characters (fullwidth ``Ｓ``, mathematical ``𝐒``: not its NFKC form), and two names that are the
  same once folded that way.
"""

from __future__ import annotations

import unicodedata

from campaign_sync.sanitize import hidden_characters

#: Script sets a single name may combine (UTS #39 "highly restrictive").
_ALLOWED = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_NEUTRAL = frozenset({"COMMON", "INHERITED", "Unknown"})


def name_errors(name: str) -> list[str]:
    """Why a name is refused: invisible or control characters in it."""
    hidden = hidden_characters(name)
    if not hidden:
        return []
    return [
        f"contains invisible or control characters ({', '.join(hidden)}); a name must look like what it "
        "is, so remove them"
    ]


def _describe(char: str) -> str:
    return f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, '?')})"


def name_warnings(name: str) -> list[str]:
    """Why a name could be mistaken for another: mixed-script look-alikes, compatibility forms."""
    if name.isascii():
        return []
    from confusable_homoglyphs import categories, confusables

    found: list[str] = []
    folded = unicodedata.normalize("NFKC", name)
    if folded != name:
        odd = [c for c in dict.fromkeys(name) if unicodedata.normalize("NFKC", c) != c]
        found.append(
            "uses compatibility characters that look like ordinary ones ("
            + ", ".join(f"{_describe(c)} looks like {unicodedata.normalize('NFKC', c)!r}" for c in odd[:3])
            + "); write the ordinary letters"
        )
    letters = [c for c in name if categories.alias(c) not in _NEUTRAL]
    scripts = {categories.alias(c) for c in letters}
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _ALLOWED):
        counts = {script: sum(1 for c in letters if categories.alias(c) == script) for script in scripts}
        main = max(sorted(counts), key=lambda s: counts[s])
        lookalikes = confusables.is_confusable(name, greedy=True, preferred_aliases=[main]) or []
        if lookalikes:
            shown = ", ".join(
                f"{_describe(item['character'])} looks like {item['homoglyphs'][0]['c']!r}"
                for item in lookalikes[:3]
            )
            mixed = " and ".join(sorted(s.title() for s in scripts))
            found.append(
                f"mixes {mixed} letters with look-alikes ({shown}), so it can look identical to another name"
            )
    return found


def skeleton(name: str) -> str:
    """The form two names share when they look alike after compatibility folding and case."""
    return unicodedata.normalize("NFKC", name).casefold()

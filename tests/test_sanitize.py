"""The one sanitiser: hidden characters escaped wherever text leaves the process (SPEC 7)."""

from __future__ import annotations

import io
import json
import logging
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_sync.cli.console import Console
from campaign_sync.errors import ApiValidationError
from campaign_sync.redact import Redactor
from campaign_sync.sanitize import dumps_json, escape, for_terminal, hidden_characters, is_hidden


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text, é and 日本", "plain text, é and 日本"),
        ("\x1b[2J", "\\u001b[2J"),  # CSI: clear screen
        ("\x1b]0;title\x07", "\\u001b]0;title\\u0007"),  # OSC window title, BEL
        ("\x9b31m", "\\u009b31m"),  # C1 CSI
        ("a\rb", "a\\u000db"),
        ("a\nb\tc", "a\\u000ab\\u0009c"),
        ("\x7f\x00", "\\u007f\\u0000"),
        ("abc\u202edef", "abc\\u202edef"),  # RIGHT-TO-LEFT OVERRIDE
        ("\u2066\u2069\u200e\u200f\u061c", "\\u2066\\u2069\\u200e\\u200f\\u061c"),
        ("zero\u200bwidth\u200c\u200d\u2060\ufeff", "zero\\u200bwidth\\u200c\\u200d\\u2060\\ufeff"),
        ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("lone \ud800", "lone \\ud800"),
    ],
)
def test_escape_shows_every_hidden_character_escaped(raw: str, shown: str) -> None:
    assert escape(raw) == shown
    assert escape(shown) == shown  # the escaped form is printable ASCII: escaping again changes nothing


def test_for_terminal_keeps_our_newlines_and_tabs_only() -> None:
    assert for_terminal("a\n\tb\r\x1b[1A") == "a\n\tb\\u000d\\u001b[1A"


def test_dumps_json_keeps_the_values_without_raw_controls() -> None:
    data = {"name": "x\x1b[2J\u202e\x9b\U000e0041é", "n": [1, 2]}
    text = dumps_json(data)
    assert json.loads(text) == data
    assert all(c in "\n" or (c >= " " and c not in "\x7f\x9b\u202e") for c in text)
    assert "\\u202e" in text
    assert "\\udb40\\udc41" in text  # a JSON escape of a character past the BMP


def test_hidden_characters_are_named() -> None:
    assert hidden_characters("Pay\u202eme\u200b\u202e") == [
        "U+202E RIGHT-TO-LEFT OVERRIDE",
        "U+200B ZERO WIDTH SPACE",
    ]


def test_an_api_error_is_one_line_with_the_server_words_escaped() -> None:
    error = ApiValidationError(
        "bad", method="PUT", path="/campaign/cd-1", status=400, kore_message="no\n\x1b[32mApply complete!"
    )
    assert str(error) == (
        "rejected by the API: bad: no\\u000a\\u001b[32mApply complete! (PUT /campaign/cd-1 -> HTTP 400)"
    )
    assert error.kore_message == "no\n\x1b[32mApply complete!"  # the raw value stays for code to read


def console(color: bool) -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    redactor = Redactor()
    redactor.add("canary-secret-value")
    return Console(redactor, color=color, stdout=out, stderr=err), out, err


def test_the_console_keeps_its_own_colours_and_escapes_everything_else() -> None:
    shell, out, _ = console(color=True)
    shell.out(shell.style("ok", fg="green") + " name: \x1b[31mred\x1b[0m canary-secret-value")
    assert out.getvalue() == "\x1b[32mok\x1b[0m name: \\u001b[31mred\\u001b[0m ***\n"


def test_without_colour_no_escape_sequence_is_written_at_all() -> None:
    shell, out, err = console(color=False)
    shell.out(shell.style("ok", fg="green", bold=True))
    shell.err("\x1b]0;t\x07")
    assert out.getvalue() == "ok\n"
    assert err.getvalue() == "\\u001b]0;t\\u0007\n"


def test_a_log_record_is_one_line_scrubbed_and_escaped() -> None:
    shell, _, err = console(color=False)
    shell.verbosity = 2
    shell.setup_logging()
    logging.getLogger("campaign_sync.test").debug("got %s", "x\n\x1b[2Jcanary-secret-value\u202e")
    assert err.getvalue() == "DEBUG campaign_sync.test: got x\\u000a\\u001b[2J***\\u202e\n"


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.characters(codec="utf-8") | st.sampled_from("\u202e\u200b\x1b\t\n\u2028é"), max_size=20
    )
)
def test_hidden_characters_skips_only_printable_ascii(text: str) -> None:
    naive: dict[str, None] = {c: None for c in text if is_hidden(c)}
    assert hidden_characters(text) == [
        f"U+{ord(c):04X} {unicodedata.name(c, 'control character')}" for c in naive
    ]

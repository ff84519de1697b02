"""Where text leaves the process: reports to stdout, logs and progress to stderr, all scrubbed.

Scrubbed twice over: secrets by value (``redact``), then every control, escape, bidi and
zero-width character escaped (``sanitize``), in every line printed and every log record. The
colours are campaign-sync's own: :meth:`Console.style` marks them with a per-run random token
that no server or manifest text can know, and only those marks become escape sequences. The
Markdown renderer's own zero-width joiners (what keeps GitHub from seeing mentions and links)
are spelled with :attr:`Console.joiner`, another such mark, so they reach stdout as the real
character while a joiner in user text stays escaped.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from typing import TextIO

import click

from campaign_sync.redact import Redactor
from campaign_sync.sanitize import escape, for_terminal


class Console:
    def __init__(
        self,
        redactor: Redactor,
        *,
        color: bool | None = None,
        verbosity: int = 0,
        quiet: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.redactor = redactor
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        if color is None:
            color = "NO_COLOR" not in os.environ and self.stdout.isatty()
        self.color = color
        self.verbosity = verbosity
        self.quiet = quiet
        self._esc = f"\ue000{secrets.token_hex(8)}\ue001"  # stands for ESC in our own styling
        self.joiner = f"\ue000{secrets.token_hex(8)}\ue002"  # stands for our own U+200D (Markdown)

    def safe(self, text: str) -> str:
        """Secrets scrubbed, hidden characters escaped, our own colours kept."""
        text = for_terminal(self.redactor.scrub(text))
        return text.replace(self._esc, "\x1b" if self.color else "").replace(self.joiner, "\u200d")

    def out(self, text: str = "", nl: bool = True) -> None:
        """A report line (stdout)."""
        click.echo(self.safe(text), file=self.stdout, nl=nl, color=self.color)

    def err(self, text: str = "", nl: bool = True) -> None:
        """A message for the person running the command (stderr)."""
        click.echo(self.safe(text), file=self.stderr, nl=nl, color=self.color)

    def progress(self, text: str) -> None:
        """Progress on stderr; silenced by -q."""
        if not self.quiet:
            self.err(text)

    def style(self, text: str, **styles: object) -> str:
        if not self.color:
            return text
        return click.style(text, **styles).replace("\x1b", self._esc)  # type: ignore[arg-type]

    def setup_logging(self) -> None:
        level = logging.WARNING
        if self.verbosity == 1:
            level = logging.INFO
        elif self.verbosity >= 2:
            level = logging.DEBUG
        if self.quiet:
            level = logging.ERROR
        handler = logging.StreamHandler(self.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(self.redactor.logging_filter())
        handler.addFilter(_EscapeFilter())
        root = logging.getLogger("campaign_sync")
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(handler)
        root.setLevel(level)
        root.propagate = False
        # Third-party loggers stay quiet unless -vv: httpx logs every request URL at INFO.
        for name in ("httpx", "httpcore", "filelock", "psycopg"):
            third = logging.getLogger(name)
            third.setLevel(logging.DEBUG if self.verbosity >= 3 else logging.WARNING)
            for old in list(third.handlers):
                third.removeHandler(old)
            third.addHandler(handler)
            third.propagate = False


class _EscapeFilter(logging.Filter):
    """One record, one line: the message escaped whole (newlines too), a traceback line by line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = escape(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = for_terminal(record.exc_text)
        if record.stack_info:
            record.stack_info = for_terminal(record.stack_info)
        return True

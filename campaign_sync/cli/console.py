"""Where text leaves the process: reports to stdout, logs and progress to stderr, all scrubbed."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

import click

from campaign_sync.redact import Redactor


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

    def out(self, text: str = "", nl: bool = True) -> None:
        """A report line (stdout)."""
        click.echo(self.redactor.scrub(text), file=self.stdout, nl=nl, color=self.color)

    def err(self, text: str = "", nl: bool = True) -> None:
        """A message for the person running the command (stderr)."""
        click.echo(self.redactor.scrub(text), file=self.stderr, nl=nl, color=self.color)

    def progress(self, text: str) -> None:
        """Progress on stderr; silenced by -q."""
        if not self.quiet:
            self.err(text)

    def style(self, text: str, **styles: object) -> str:
        return click.style(text, **styles) if self.color else text  # type: ignore[arg-type]

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

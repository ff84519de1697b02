"""Scrubbing secrets by value at the one place where text leaves the process.

A :class:`Redactor` learns every secret the run touches (the client secret, every JWT it
mints or reads) and replaces each occurrence in outgoing text. The CLI routes stdout, stderr,
logging and files it writes through one instance.
"""

from __future__ import annotations

import logging
import threading

MASK = "***"
_MIN_SECRET = 6


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        """Remember a secret. Very short values are not scrubbed (they would mangle text)."""
        if secret and len(secret) >= _MIN_SECRET:
            with self._lock:
                self._secrets.add(secret)

    def secrets(self) -> list[str]:
        """Every secret known so far (for refusing to persist them)."""
        with self._lock:
            return sorted(self._secrets)

    def scrub(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def logging_filter(self) -> logging.Filter:
        redactor = self

        class _Filter(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                message = record.getMessage()
                record.msg = redactor.scrub(message)
                record.args = None
                if record.exc_info and record.exc_info[1] is not None:
                    record.exc_text = redactor.scrub(logging.Formatter().formatException(record.exc_info))
                    record.exc_info = None
                return True

        return _Filter()

"""Keeping secrets out of text: exception messages, log lines, files.

Every secret the package handles (client secret, access and refresh tokens, webhook key) is
registered here the moment it is known; :func:`redact` replaces each with ``[redacted]``.
:class:`XeroError` redacts its own message, and :class:`RedactingFilter` can sit on any logger or
handler as a last line of defence. Registration is process-wide and thread-safe.
"""

from __future__ import annotations

import logging
import threading

__all__ = ["RedactingFilter", "redact", "register_secret"]

_MIN_LENGTH = 6  # shorter values would redact ordinary words; no real secret is that short
_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()


def register_secret(value: object) -> None:
    """Remember ``value`` so :func:`redact` hides it from now on (non-strings and short values
    are ignored: this runs on answers from outside, before they are checked)."""
    global _ordered
    if not isinstance(value, str) or len(value) < _MIN_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a secret containing another is replaced whole.
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        if _ordered:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg = cleaned
                record.args = None
        return True

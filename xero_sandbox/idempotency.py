"""Xero's `Idempotency-Key`: replay the stored response of a write retried within the window.

Xero keeps a key and its response for 6 minutes (``SandboxConfig.idempotency_window_s``, shrunk
by ``--time-scale``). Within the window the same key with the same request gets the stored
status and body back byte for byte, errors included; the same key with a different method, path,
query or body gets a 400. Keys are scoped per app and tenant and live in SQLite, so a restarted
sandbox on the same ``--db`` still honours them.

Hand-written: no library models Xero's replay-or-reject rule over a persistent store.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from xero_sandbox.clock import Clock
from xero_sandbox.store import Store

__all__ = [
    "MAX_KEY_LENGTH",
    "IdempotencyStore",
    "KeyMismatch",
    "StoredResponse",
    "fingerprint",
    "key_too_long_message",
    "mismatch_message",
]

MAX_KEY_LENGTH = 128

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    stored_at REAL NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (scope, key)
)
"""


@dataclass(frozen=True)
class StoredResponse:
    """A response kept for replay."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class KeyMismatch:
    """The key is live but was first used with a different request."""

    key: str


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same" for Xero: method, path, query string and body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode()):
        digest.update(part)
        digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def mismatch_message(key: str) -> str:
    """Message of the 400 for a key reused with another request (Xero's wording)."""
    return f"Idempotency key '{key}' is used with a different request"


def key_too_long_message() -> str:
    """Message of the 400 for a key over Xero's 128-character limit."""
    return f"The Idempotency-Key header must not exceed {MAX_KEY_LENGTH} characters"


class IdempotencyStore:
    """Keys and their responses in SQLite, expiring after the (scaled) window.

    Keys live in the sandbox store's database file, written under its transaction lock; the
    write endpoints look a key up, run and save under the tenant's write turn, so a retry sent
    while the first request runs waits for its answer.
    Expiry is measured on the wall clock (``window_s`` sandbox seconds last
    ``clock.real_seconds(window_s)`` real ones), so a restart with another ``--time-scale``
    cannot resurrect or kill keys by changing units.
    """

    def __init__(self, store: Store, clock: Clock, window_s: float) -> None:
        self._store = store
        with store.transaction():
            store.conn.execute(_SCHEMA)
        self._clock = clock
        self._window_s = window_s

    def _live_after(self) -> float:
        return time.time() - self._clock.real_seconds(self._window_s)

    def lookup(
        self, scope: str, key: str, request_fingerprint: str
    ) -> StoredResponse | KeyMismatch | None:
        """The stored response to replay, a mismatch, or None when the key is new or expired."""
        row = self._store.conn.execute(
            "SELECT fingerprint, stored_at, status, content_type, body FROM idempotency_keys"
            " WHERE scope = ? AND key = ?",
            (scope, key),
        ).fetchone()
        if row is None or row[1] <= self._live_after():
            return None
        if row[0] != request_fingerprint:
            return KeyMismatch(key)
        return StoredResponse(status=int(row[2]), content_type=str(row[3]), body=bytes(row[4]))

    def save(
        self, scope: str, key: str, request_fingerprint: str, response: StoredResponse
    ) -> None:
        """Keep a response for replay; an expired entry under the same key is replaced."""
        with self._store.transaction():
            db = self._store.conn
            db.execute(
                "INSERT OR REPLACE INTO idempotency_keys"
                " (scope, key, fingerprint, stored_at, status, content_type, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    scope,
                    key,
                    request_fingerprint,
                    time.time(),
                    response.status,
                    response.content_type,
                    response.body,
                ),
            )
            db.execute("DELETE FROM idempotency_keys WHERE stored_at <= ?", (self._live_after(),))

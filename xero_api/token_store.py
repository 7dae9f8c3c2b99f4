"""The token store: where rotated refresh tokens survive between runs.

Xero refresh tokens are single-use: every refresh returns a new one and the old one works only
for a 30-minute grace period. Meltano deletes the config file it generates after each run, so
the rotated token cannot live there. It lives in one JSON file per client ID (default
``~/.config/singer-xero/tokens/<client_id>.json``)::

    {"version": 1, "client_id": "...", "refresh_token": "...", "access_token": "...",
     "expires_at": 1767225600.0, "scope": "...", "previous_refresh_token": "...",
     "rotated_at": 1767223800.0, "lineage": ["<sha256 of tokens this set descends from>", ...],
     "generation": 12, "updated_at": "2026-01-01T00:00:00.000000+00:00"}

Rules (hand-written: no library models Xero's rotation):

* Writes are atomic (temporary file in the same directory, fsync, ``os.replace``) and the file
  is created mode 0600 in a directory created 0700.
* ``<store>.lock`` (a :mod:`filelock` lock) is held by callers across read -> refresh -> write,
  so two processes never spend the same refresh token; the second one re-reads the store after
  the lock and finds the fresh tokens.
* ``lineage`` holds SHA-256 hashes of every refresh token the current one descends from, so a
  configured token that has already been rotated is recognised and the stored one used instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import msgspec

from .dates import format_utc
from .errors import XeroConfigError
from .redact import register_secret

__all__ = ["TokenSet", "TokenStore", "token_hash"]

_LINEAGE_KEEP = 200


def token_hash(token: str) -> str:
    """SHA-256 hex of a token: how the store remembers tokens it no longer needs."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class TokenSet:
    """What the store holds for one client ID (secrets excluded from ``repr``)."""

    client_id: str
    refresh_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at: float = 0.0
    scope: str = ""
    previous_refresh_token: str | None = field(default=None, repr=False)
    rotated_at: float | None = None
    lineage: list[str] = field(default_factory=list)
    generation: int = 0
    updated_at: str = ""
    version: int = 1

    def knows(self, refresh_token: str) -> bool:
        """True when ``refresh_token`` is this set's token or one it was rotated from."""
        return refresh_token == self.refresh_token or token_hash(refresh_token) in self.lineage

    def rotated(
        self, spent: str, refresh_token: str, access_token: str, expires_at: float, scope: str
    ) -> TokenSet:
        """The set after spending ``spent`` and receiving a new token pair."""
        lineage = [*self.lineage, token_hash(spent)]
        if spent != self.refresh_token and self.refresh_token:
            lineage.append(token_hash(self.refresh_token))
        return TokenSet(
            client_id=self.client_id,
            refresh_token=refresh_token,
            access_token=access_token,
            expires_at=expires_at,
            scope=scope or self.scope,
            previous_refresh_token=spent,
            rotated_at=time.time(),
            lineage=_trim(list(dict.fromkeys(lineage))),
            generation=self.generation + 1,
        )


def _trim(lineage: list[str]) -> list[str]:
    # The first entry is the token the chain started from: the one a config (say Meltano's,
    # regenerated every run) keeps carrying. Forgetting it would make that spent token look like
    # a fresh authorisation and fork the store every _LINEAGE_KEEP rotations.
    if len(lineage) <= _LINEAGE_KEEP:
        return lineage
    return [lineage[0], *lineage[-(_LINEAGE_KEEP - 1) :]]


class TokenStore:
    """One token-store file and its lock."""

    def __init__(self, path: Path, *, lock_timeout_seconds: float = 300.0) -> None:
        self.path = path.expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock_timeout = lock_timeout_seconds

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process lock (re-entrant within a thread)."""
        self._ensure_dir()
        lock = filelock.FileLock(self.lock_path, timeout=self._lock_timeout, mode=0o600)
        try:
            # Refreshes take milliseconds; filelock's default 50 ms polling would dominate.
            with lock.acquire(poll_interval=0.005):
                yield
        except filelock.Timeout:
            raise XeroConfigError(
                "token_store_path",
                f"could not lock {self.lock_path} within {self._lock_timeout:.0f}s "
                "(another run holds it)",
            ) from None

    def read(self) -> TokenSet | None:
        """The stored set, or None when there is no store yet."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise XeroConfigError(
                "token_store_path", f"cannot read {self.path}: {exc.strerror}"
            ) from None
        try:
            data: Any = msgspec.json.decode(raw)
            tokens = TokenSet(**{k: v for k, v in data.items() if k in _FIELDS})
        except (msgspec.DecodeError, TypeError, AttributeError):
            raise XeroConfigError(
                "token_store_path",
                f"{self.path} is not a valid token store; delete it and run xero-auth",
            ) from None
        for secret in (tokens.refresh_token, tokens.access_token, tokens.previous_refresh_token):
            register_secret(secret)
        return tokens

    def write(self, tokens: TokenSet) -> None:
        """Atomically replace the store with ``tokens`` (fsync'd, mode 0600)."""
        self._ensure_dir()
        tokens.updated_at = format_utc(datetime.now(UTC))
        payload = msgspec.json.format(msgspec.json.encode(asdict(tokens)), indent=2)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def _ensure_dir(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise XeroConfigError(
                    "token_store_path", f"cannot create {directory}: {exc.strerror}"
                ) from None


_FIELDS = frozenset(TokenSet.__dataclass_fields__)

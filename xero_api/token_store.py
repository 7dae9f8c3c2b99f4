"""The token store: where rotated refresh tokens survive between runs, one JSON file per client
ID (default ``~/.config/singer-xero/tokens/<client_id>.json``). Xero's refresh tokens are
single-use, and Meltano deletes the config file it generates after each run, so the rotated
token cannot live there."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, Protocol

import msgspec

from .dates import format_utc
from .errors import XeroConfigError
from .redact import register_secret

__all__ = [
    "PendingWrite",
    "TokenSet",
    "TokenStorage",
    "TokenStore",
    "decode_tokens",
    "encode_tokens",
    "token_hash",
]

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
    generation: Annotated[int, msgspec.Meta(ge=0)] = 0
    updated_at: str = ""
    version: Literal[1] = 1

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


DAMAGED_ADVICE = (
    "run `xero-auth --client-id <id>` to authorise again, or restore a copy of the file (its "
    "refresh token still works if it is the newest one or was rotated less than 30 minutes ago)"
)


def decode_tokens(raw: bytes, where: str, setting: str = "token_store_path") -> TokenSet:
    """``raw`` as a :class:`TokenSet`, every field type-checked; a damaged store raises a one-line
    :class:`XeroConfigError` naming ``setting``, ``where`` and the field (never a value: it may be
    a token)."""
    try:
        tokens = msgspec.json.decode(raw, type=TokenSet)
    except msgspec.ValidationError as exc:
        what, _, at = str(exc).partition(" - at `$")
        problem = f"field `{at.lstrip('.')}: {what[:1].lower()}{what[1:]}" if at else str(exc)
        raise XeroConfigError(
            setting, f"{where} is damaged ({problem}); {DAMAGED_ADVICE}"
        ) from None
    except msgspec.DecodeError:
        raise XeroConfigError(
            setting, f"{where} is not a valid token store (not JSON); {DAMAGED_ADVICE}"
        ) from None
    for secret in (tokens.refresh_token, tokens.access_token, tokens.previous_refresh_token):
        register_secret(secret)
    return tokens


def encode_tokens(tokens: TokenSet) -> bytes:
    """``tokens`` as the store's JSON (indented: people read these files)."""
    return msgspec.json.format(msgspec.json.encode(tokens), indent=2)


class PendingWrite(Protocol):
    """Room for the next token set, made before Xero is asked to rotate."""

    def commit(self, tokens: TokenSet) -> None:
        """Store ``tokens`` durably."""
        ...


class TokenStorage(Protocol):
    """What :class:`~xero_api.auth.RefreshTokenAuth` needs from a token store.

    ``locked`` is held across read -> refresh -> commit; ``pending`` is entered before the
    refresh, so everything that can fail for want of space or permission fails while the old
    token is still the current one.
    """

    setting: str
    """The setting that names the store, for messages that say what to fix."""

    @property
    def location(self) -> str:
        """Where the tokens live, for messages."""
        ...

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the cross-process lock."""
        ...

    def read(self) -> TokenSet | None:
        """The stored, validated set, or None when there is none yet."""
        ...

    def pending(self) -> contextlib.AbstractContextManager[PendingWrite]:
        """Room for one write, released unused when the block exits without a commit."""
        ...


# Room made on disk before a refresh: a store holds at most _LINEAGE_KEEP hashes (~15 KB) and
# tokens of a few KB, so a commit never needs a block the filesystem has not given already.
_RESERVE_BYTES = 64 * 1024


class _FileWrite:
    """A temporary file beside the store, already holding ``_RESERVE_BYTES`` of disk."""

    def __init__(self, store: TokenStore) -> None:
        self._store = store
        target = store.file
        fd, name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        self.tmp = Path(name)
        self._handle = os.fdopen(fd, "r+b")
        try:
            os.fchmod(fd, 0o600)
            self._handle.write(b" " * _RESERVE_BYTES)
            self._handle.flush()
            os.fsync(fd)
        except BaseException:
            self.discard()
            raise
        self.committed = False

    def commit(self, tokens: TokenSet) -> None:
        """Overwrite the reserved bytes, fsync, rename over the store, fsync the directory."""
        tokens.updated_at = format_utc(datetime.now(UTC))
        payload = encode_tokens(tokens)
        handle = self._handle
        handle.seek(0)
        handle.write(payload)
        handle.truncate(len(payload))
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.replace(self.tmp, self._store.file)
        self.committed = True
        with contextlib.suppress(OSError):
            dir_fd = os.open(self._store.file.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def discard(self) -> None:
        """Close and remove the temporary file (nothing was committed)."""
        self._handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


class TokenStore:
    """One token-store file and its lock.

    * Every field is type-checked on read (:func:`decode_tokens`): a damaged store stops the run
      with one line naming the file, the field and how to recover, before any token is spent.
    * Writes are atomic (temporary file in the same directory, fsync, ``os.replace``); the file
      is created 0600 in a directory created 0700. The temporary file, its room on disk already
      claimed, is made *before* a refresh (:meth:`pending`), so once Xero has rotated the token
      only the commit remains.
    * ``<store>.lock`` (:mod:`filelock`) is held by callers across read -> refresh -> write, so
      two processes never spend the same refresh token: the second re-reads the store after the
      lock and finds the fresh tokens. A lock that is a symlink is refused.
    * A symlinked store is written through: the link is resolved once, and the temporary file
      and the lock live beside the file it points to, so the link survives and every process
      that reaches the same file by any path shares one lock.
    * A store file open to group or others is tightened to 0600 with a warning; a directory
      others can write to is refused (they could swap the file), one they can only read is
      accepted (ssh's rule for ``~/.ssh``).
    * ``lineage`` holds SHA-256 hashes of every refresh token the current one descends from, so
      a configured token that was already rotated is recognised and the stored one used.
    """

    setting = "token_store_path"

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout_seconds: float = 300.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.path = path.expanduser()
        self.file = Path(os.path.realpath(self.path))
        self.lock_path = self.file.with_name(self.file.name + ".lock")
        self._lock_timeout = lock_timeout_seconds
        self._logger = logger or logging.getLogger("xero_api")

    @property
    def location(self) -> str:
        """The configured path, and the file it links to when it is a symlink."""
        if self.file == Path(os.path.abspath(self.path)):
            return str(self.path)
        return f"{self.path} (-> {self.file})"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process lock (re-entrant within a thread)."""
        self._ensure_dir()
        if self.lock_path.is_symlink():
            # Following it would let whoever planted the link choose a file we create or open.
            raise XeroConfigError(
                "token_store_path",
                f"the lock {self.lock_path} is a symbolic link; remove it (it is recreated as a "
                "private regular file)",
            )
        import filelock  # a token store file's lock only: --about never takes it

        lock = filelock.FileLock(self.lock_path, timeout=self._lock_timeout, mode=0o600)
        try:
            # Refreshes take milliseconds; filelock's default 50 ms polling would dominate.
            lock.acquire(poll_interval=0.005)
        except filelock.Timeout:
            raise XeroConfigError(
                "token_store_path",
                f"could not lock {self.lock_path} within {self._lock_timeout:.0f}s "
                "(another run holds it)",
            ) from None
        except OSError as exc:
            raise XeroConfigError(
                "token_store_path", f"cannot lock {self.lock_path}: {exc.strerror or exc}"
            ) from None
        try:
            self._remove_stale_writes()
            yield
        finally:
            lock.release()

    def read(self) -> TokenSet | None:
        """The stored set, or None when there is no store yet."""
        self._check_private()
        try:
            raw = self.file.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise XeroConfigError(
                "token_store_path", f"cannot read {self.location}: {exc.strerror}"
            ) from None
        return decode_tokens(raw, self.location)

    @contextlib.contextmanager
    def pending(self) -> Iterator[PendingWrite]:
        """A temporary file with room for the next set; removed unless committed."""
        self._ensure_dir()
        self._check_private()
        try:
            write = _FileWrite(self)
        except OSError as exc:
            raise XeroConfigError(
                "token_store_path",
                f"cannot write beside {self.location}: {exc.strerror or exc}",
            ) from None
        try:
            yield write
        finally:
            if not write.committed:
                write.discard()

    def write(self, tokens: TokenSet) -> None:
        """Atomically replace the store with ``tokens`` (fsync'd, mode 0600)."""
        with self.pending() as write:
            write.commit(tokens)

    def _remove_stale_writes(self) -> None:
        # Writes happen only under the lock, so a temporary file seen while holding it was left
        # by a process that died between reserving room and committing.
        for stale in self.file.parent.glob(f"{glob.escape(self.file.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    def _ensure_dir(self) -> None:
        directory = self.file.parent
        if not directory.exists():
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise XeroConfigError(
                    "token_store_path", f"cannot create {directory}: {exc.strerror}"
                ) from None

    def _check_private(self) -> None:
        if os.name != "posix":
            return  # no POSIX modes to check
        directory = self.file.parent
        try:
            mode = stat.S_IMODE(directory.stat().st_mode)
        except OSError as exc:
            raise XeroConfigError(
                "token_store_path", f"cannot inspect {directory}: {exc.strerror}"
            ) from None
        if mode & 0o022:
            # Whoever can write the directory can swap the store or plant a link in it; a mode
            # change now would not undo that, so the owner must look.
            raise XeroConfigError(
                "token_store_path",
                f"the token store directory {directory} is mode {mode:04o}: other users can "
                f"write to it; run `chmod go-w {directory}` or use a directory only you can "
                "write to",
            )
        try:
            mode = stat.S_IMODE(self.file.stat().st_mode)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise XeroConfigError(
                "token_store_path", f"cannot inspect {self.location}: {exc.strerror}"
            ) from None
        if not mode & 0o077:
            return
        try:
            os.chmod(self.file, 0o600)
        except OSError as exc:
            raise XeroConfigError(
                "token_store_path",
                f"the token store {self.location} is mode {mode:04o}, open to other users, and "
                f"cannot be made private ({exc.strerror}); run `chmod 600 {self.file}`",
            ) from None
        self._logger.warning(
            "the token store %s was mode %04o, open to other users; tightened to 0600 (if "
            "someone may have copied it, re-authorise with xero-auth)",
            self.location,
            mode,
        )

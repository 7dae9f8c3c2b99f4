"""What many hosts share in PostgreSQL, where they have no common file system: the token store
(``token_store_dsn``, :class:`PostgresTokenStore`) and the app-wide call budget
(``app_budget_dsn``, :class:`SharedAppBudget`). Tables are created on first use."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from .dates import format_utc
from .errors import XeroConfigError
from .settings import XeroSettings
from .token_store import PendingWrite, TokenSet, decode_tokens, encode_tokens

__all__ = ["PostgresTokenStore", "SharedAppBudget", "connect", "dsn_location", "shared_app_budget"]


def dsn_location(dsn: str) -> str:
    """The DSN without user and password, for messages."""
    scheme, _, rest = dsn.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect(dsn: str, setting: str, *, autocommit: bool = False) -> Any:
    """A psycopg connection; a failure is one line naming ``setting`` (never the password)."""
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=30)
    except psycopg.Error as exc:
        raise XeroConfigError(
            setting, f"cannot connect to {dsn_location(dsn)}: {_first_line(exc)}"
        ) from None


_STORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS xero_token_store (
    client_id TEXT PRIMARY KEY,
    tokens TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class _RowWrite:
    """The locked row, proved writable; ``commit`` stores the set and ends the transaction."""

    def __init__(self, store: PostgresTokenStore, conn: Any) -> None:
        self._store = store
        self._conn = conn
        self.committed = False

    def commit(self, tokens: TokenSet) -> None:
        """UPDATE the row and COMMIT: durable before the caller uses the new tokens."""
        import psycopg

        tokens.updated_at = format_utc(datetime.now(UTC))
        try:
            self._conn.execute(
                "UPDATE xero_token_store SET tokens = %s, updated_at = now() WHERE client_id = %s",
                (encode_tokens(tokens).decode(), self._store.client_id),
            )
            self._conn.commit()
        except psycopg.Error as exc:
            raise OSError(f"PostgreSQL: {_first_line(exc)}") from None
        self.committed = True


class PostgresTokenStore:
    """The token set of one client ID in a row of ``xero_token_store``.

    The file store's rules (:class:`~xero_api.token_store.TokenStore`) hold, with a row lock
    (``SELECT ... FOR UPDATE``) in place of the file lock: the row is locked across read ->
    refresh -> write; it is proved writable (a no-op ``UPDATE``) before Xero is asked to
    rotate, and the rotated set is committed before it is used. A process that dies holding the
    lock loses its connection, so PostgreSQL ends its transaction and releases the lock; the
    row still holds the last committed set, whose refresh token Xero accepts within its
    30-minute grace.
    """

    setting = "token_store_dsn"

    def __init__(
        self,
        dsn: str,
        client_id: str,
        *,
        lock_timeout_seconds: float = 300.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self._dsn = dsn
        self.client_id = client_id
        self._lock_timeout = lock_timeout_seconds
        self._logger = logger or logging.getLogger("xero_api")
        self._conn: Any = None
        self._depth = 0

    @property
    def location(self) -> str:
        """Table, row and server, for messages (no credentials)."""
        return f"xero_token_store[{self.client_id}] in {dsn_location(self._dsn)}"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the row lock: one transaction on a connection of its own (re-entrant)."""
        if self._conn is not None:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        import psycopg

        conn = connect(self._dsn, self.setting)
        try:
            try:
                conn.execute(_STORE_SCHEMA)
                conn.execute(
                    "INSERT INTO xero_token_store (client_id) VALUES (%s) "
                    "ON CONFLICT (client_id) DO NOTHING",
                    (self.client_id,),
                )
                conn.commit()
                conn.execute(f"SET lock_timeout = '{int(self._lock_timeout * 1000)}ms'")
                conn.execute(
                    "SELECT 1 FROM xero_token_store WHERE client_id = %s FOR UPDATE",
                    (self.client_id,),
                )
            except psycopg.errors.LockNotAvailable:
                raise XeroConfigError(
                    self.setting,
                    f"could not lock {self.location} within {self._lock_timeout:.0f}s "
                    "(another run holds it)",
                ) from None
            except psycopg.Error as exc:
                raise XeroConfigError(
                    self.setting, f"cannot lock {self.location}: {_first_line(exc)}"
                ) from None
            self._conn = conn
            yield
        finally:
            self._conn = None
            with contextlib.suppress(Exception):
                conn.rollback()  # nothing committed: the old set stays, the lock is released
            conn.close()

    def read(self) -> TokenSet | None:
        """The row's set, validated as the file store's; None when it holds none yet."""
        with self.locked():
            row = self._conn.execute(
                "SELECT tokens FROM xero_token_store WHERE client_id = %s", (self.client_id,)
            ).fetchone()
        if row is None or row[0] is None:
            return None
        return decode_tokens(str(row[0]).encode(), self.location, self.setting)

    @contextlib.contextmanager
    def pending(self) -> Iterator[PendingWrite]:
        """The locked row, proved writable before a refresh spends the current token."""
        import psycopg

        with self.locked():
            conn = self._conn
            try:
                conn.execute(
                    "UPDATE xero_token_store SET tokens = tokens WHERE client_id = %s",
                    (self.client_id,),
                )
            except psycopg.Error as exc:
                raise XeroConfigError(
                    self.setting, f"cannot write {self.location}: {_first_line(exc)}"
                ) from None
            yield _RowWrite(self, conn)

    def write(self, tokens: TokenSet) -> None:
        """Store ``tokens`` (under the lock)."""
        with self.pending() as write:
            write.commit(tokens)


_BUDGET_SCHEMA = """
CREATE TABLE IF NOT EXISTS xero_app_budget (
    app TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    refreshed DOUBLE PRECISION NOT NULL
)
"""

# One statement, one round trip: refill by the time passed on the server's clock, take one call
# if there is one, and say how many there were. FOR UPDATE makes concurrent draws queue on the
# row; the refill never runs the clock backwards for a draw that waited for the lock.
_DRAW = """
WITH now AS (SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS t),
cur AS (
    SELECT LEAST(%(cap)s, b.tokens + %(rate)s * GREATEST(0, now.t - b.refreshed)) AS avail,
           GREATEST(now.t, b.refreshed) AS t
    FROM xero_app_budget b, now WHERE b.app = %(app)s FOR UPDATE OF b
)
UPDATE xero_app_budget SET
    tokens = cur.avail - CASE WHEN cur.avail >= 1 THEN 1 ELSE 0 END,
    refreshed = cur.t
FROM cur WHERE app = %(app)s
RETURNING cur.avail
"""


class SharedAppBudget:
    """Calls of one app (client ID) across every process, from a bucket in PostgreSQL.

    A token bucket per client ID in ``xero_app_budget``; every process draws one call before
    each request. It holds at most a tenth of ``app_calls_per_minute`` and refills at the rest
    per window, so no window of ``app_budget_window_seconds`` (wherever it starts) holds more
    than ``app_calls_per_minute`` calls. Time is the database server's clock, so hosts need
    not agree.
    """

    setting = "app_budget_dsn"

    def __init__(
        self,
        dsn: str,
        app: str,
        calls_per_window: int,
        window_seconds: float = 60.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls_per_window < 1:
            raise XeroConfigError("app_calls_per_minute", "must be at least 1")
        self._dsn = dsn
        self.app = app
        self.capacity = max(1.0, calls_per_window / 10)
        self.rate = (calls_per_window - self.capacity) / window_seconds
        if self.rate <= 0:
            raise XeroConfigError("app_calls_per_minute", "must be at least 2")
        self._sleep = sleep
        self._mutex = threading.Lock()
        self._conn: Any = None
        self.waited_s = 0.0

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            conn = connect(self._dsn, self.setting, autocommit=True)
            conn.execute(_BUDGET_SCHEMA)
            conn.execute(
                "INSERT INTO xero_app_budget (app, tokens, refreshed) "
                "VALUES (%s, %s, EXTRACT(EPOCH FROM clock_timestamp())) "
                "ON CONFLICT (app) DO NOTHING",
                (self.app, self.capacity),
            )
            self._conn = conn
        return self._conn

    def draw(self) -> None:
        """Take one call from the app's budget, waiting for the bucket to refill if empty."""
        import psycopg

        while True:
            with self._mutex:
                try:
                    row = (
                        self._connection()
                        .execute(_DRAW, {"cap": self.capacity, "rate": self.rate, "app": self.app})
                        .fetchone()
                    )
                except psycopg.Error as exc:
                    self._conn = None
                    raise XeroConfigError(
                        self.setting,
                        f"the app budget in {dsn_location(self._dsn)} failed: {_first_line(exc)}",
                    ) from None
            if row is None:  # the row was deleted: make it again on a new connection
                self.close()
                continue
            available = float(row[0])
            if available >= 1:
                return
            wait = max(0.005, (1 - available) / self.rate)
            self.waited_s += wait
            self._sleep(wait)

    def close(self) -> None:
        """Close the connection."""
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def shared_app_budget(settings: XeroSettings) -> SharedAppBudget | None:
    """The budget ``app_budget_dsn`` names, keyed by client ID; None when it is not set."""
    if not settings.app_budget_dsn:
        return None
    return SharedAppBudget(
        settings.app_budget_dsn,
        settings.client_id or "access-token",
        settings.app_calls_per_minute,
        settings.app_budget_window_seconds,
    )

"""The durable queue of Xero webhook events, shared by the receiver and the tap.

``xero-webhooks serve`` appends verified events; tap-xero (``webhook_queue`` setting) reads the
IDs that changed since its bookmark and acknowledges what the target durably took. One DSN
chooses the store: a path or ``sqlite:///path`` for SQLite (the default), or
``postgresql://...`` for PostgreSQL (needs ``psycopg``: ``pip install 'singer-xero[webhooks]'``).

Every event gets a *position*, increasing in commit order, so "after position p" never skips
an event that commits later. Events are deduplicated on their identity (tenant, category,
resource, event time, event type): Xero delivers at least once and retries a batch whose answer
it did not see, so a repeat is dropped without a second position.

Tables (created on first use): ``xero_webhook_events`` (position, identity, received time),
``xero_webhook_consumed`` (position acknowledged per tenant and category) and
``xero_webhook_misses`` (changes the tap's reconciliation sweep found that no event announced).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .settings import is_postgres_url

__all__ = [
    "CATEGORY_STREAMS",
    "Event",
    "EventQueue",
    "QueueStats",
    "QueuedEvent",
    "open_queue",
]

# Xero's webhook categories and the tap stream each one announces changes for.
CATEGORY_STREAMS: Mapping[str, str] = {
    "CONTACT": "contacts",
    "INVOICE": "invoices",
    "CREDITNOTE": "credit_notes",
}

# pg_advisory_xact_lock key (any constant): serializes appends so positions commit in order.
_PG_APPEND_LOCK = 0x58E60


@dataclass(frozen=True)
class Event:
    """One webhook event's identity, as Xero sends it."""

    tenant_id: str
    category: str
    event_type: str
    resource_id: str
    event_date: str

    @classmethod
    def from_payload(cls, item: Mapping[str, Any]) -> Event:
        """An event from one element of a payload's ``events``; ValueError names what is wrong."""
        fields = {
            "tenant_id": "tenantId",
            "category": "eventCategory",
            "event_type": "eventType",
            "resource_id": "resourceId",
            "event_date": "eventDateUtc",
        }
        values: dict[str, str] = {}
        for name, key in fields.items():
            value = item.get(key)
            if not isinstance(value, str) or not value or len(value) > 200:
                raise ValueError(f"event field {key} must be a non-empty string")
            values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class QueuedEvent:
    """An event with its queue position."""

    position: int
    category: str
    resource_id: str
    event_date: str = ""


@dataclass(frozen=True)
class QueueStats:
    """What ``/metrics`` reports about the queue."""

    depth: int
    oldest_unconsumed_age_s: float | None
    misses: Mapping[tuple[str, str], int]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS xero_webhook_events (
    position {position},
    tenant_id TEXT NOT NULL,
    category TEXT NOT NULL,
    event_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    event_date TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    UNIQUE (tenant_id, category, resource_id, event_date, event_type)
);
CREATE INDEX IF NOT EXISTS xero_webhook_events_tenant
    ON xero_webhook_events (tenant_id, category, position);
CREATE TABLE IF NOT EXISTS xero_webhook_consumed (
    tenant_id TEXT NOT NULL,
    category TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, category)
);
CREATE TABLE IF NOT EXISTS xero_webhook_misses (
    tenant_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    misses BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, stream)
);
"""

_UNCONSUMED = """
FROM xero_webhook_events e
LEFT JOIN xero_webhook_consumed c ON c.tenant_id = e.tenant_id AND c.category = e.category
WHERE e.position > COALESCE(c.position, 0)
"""


class EventQueue:
    """A queue of webhook events in SQLite or PostgreSQL (thread-safe; one connection)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._lock = threading.Lock()
        self.is_postgres = is_postgres_url(dsn)
        if self.is_postgres:
            try:
                import psycopg  # noqa: F401  (present? postgres.connect imports it too)
            except ImportError:
                raise RuntimeError(
                    "a postgresql:// webhook queue needs psycopg: "
                    "pip install 'singer-xero[webhooks]'"
                ) from None
            from .postgres import connect

            self._conn: Any = connect(dsn, "webhook_queue")
            position = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        else:
            import sqlite3  # here, not at module level: the tap imports this module at start-up

            path = dsn.removeprefix("sqlite:///") if dsn.startswith("sqlite:///") else dsn
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before the receiver answers 200.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            position = "INTEGER PRIMARY KEY AUTOINCREMENT"
        with self._transaction() as cur:
            for statement in _SCHEMA.format(position=position).split(";"):
                if statement.strip():
                    cur.execute(statement)

    # ------------------------------------------------------------------ plumbing
    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.is_postgres else text

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            if not self.is_postgres:
                cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                if self.is_postgres:
                    self._conn.rollback()
                else:
                    cur.execute("ROLLBACK")
                raise
            else:
                if self.is_postgres:
                    self._conn.commit()
                else:
                    cur.execute("COMMIT")
            finally:
                cur.close()

    def _query(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._transaction() as cur:
            cur.execute(self._sql(text), tuple(params))
            return list(cur.fetchall())

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> EventQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ receiver
    def append(self, events: Iterable[Event]) -> int:
        """Commit ``events`` (all or none); returns how many were new (not repeats)."""
        now = time.time()
        added = 0
        insert = self._sql(
            "INSERT INTO xero_webhook_events (tenant_id, category, event_type, resource_id, "
            "event_date, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        )
        with self._transaction() as cur:
            if self.is_postgres:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_APPEND_LOCK,))
            for event in events:
                cur.execute(
                    insert,
                    (
                        event.tenant_id,
                        event.category,
                        event.event_type,
                        event.resource_id,
                        event.event_date,
                        now,
                    ),
                )
                added += max(cur.rowcount, 0)
        return added

    def ping(self) -> None:
        """Raise unless the store answers."""
        self._query("SELECT 1")

    def stats(self) -> QueueStats:
        """Unconsumed events, the age of the oldest, and sweep misses per tenant and stream."""
        (depth, oldest), *_ = self._query(f"SELECT COUNT(*), MIN(e.received_at) {_UNCONSUMED}")
        misses = self._query("SELECT tenant_id, stream, misses FROM xero_webhook_misses")
        return QueueStats(
            depth=int(depth),
            oldest_unconsumed_age_s=max(0.0, time.time() - float(oldest)) if oldest else None,
            misses={(tenant, stream): int(count) for tenant, stream, count in misses},
        )

    def all_events(self) -> list[tuple[int, Event]]:
        """Every stored event with its position (tests and inspection)."""
        rows = self._query(
            "SELECT position, tenant_id, category, event_type, resource_id, event_date "
            "FROM xero_webhook_events ORDER BY position"
        )
        return [(int(row[0]), Event(*row[1:])) for row in rows]

    # ------------------------------------------------------------------ consumers
    def last_positions(self) -> dict[str, int]:
        """The newest position per tenant (what an orchestrator compares with its cursor)."""
        rows = self._query(
            "SELECT tenant_id, MAX(position) FROM xero_webhook_events GROUP BY tenant_id"
        )
        return {tenant: int(position) for tenant, position in rows}

    def read(
        self, tenant_id: str, category: str, after: int, limit: int = 100_000
    ) -> list[QueuedEvent]:
        """Events of one tenant and category after position ``after``, oldest first."""
        rows = self._query(
            "SELECT position, category, resource_id, event_date FROM xero_webhook_events "
            "WHERE tenant_id = ? AND category = ? AND position > ? ORDER BY position LIMIT ?",
            (tenant_id, category, after, limit),
        )
        return [QueuedEvent(int(p), c, r, d) for p, c, r, d in rows]

    def last_position(self) -> int:
        """The newest position in the whole queue (0 when empty)."""
        ((position,),) = self._query("SELECT COALESCE(MAX(position), 0) FROM xero_webhook_events")
        return int(position)

    def acknowledge(self, tenant_id: str, category: str, position: int) -> None:
        """Mark events up to ``position`` consumed (never moves backwards)."""
        self._query(
            "INSERT INTO xero_webhook_consumed (tenant_id, category, position) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant_id, category) DO UPDATE SET position = CASE WHEN "
            "excluded.position > xero_webhook_consumed.position THEN excluded.position "
            "ELSE xero_webhook_consumed.position END",
            (tenant_id, category, position),
        )

    def record_misses(self, tenant_id: str, stream: str, count: int) -> None:
        """Add ``count`` changes found by a reconciliation sweep that no event announced."""
        self._query(
            "INSERT INTO xero_webhook_misses (tenant_id, stream, misses) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant_id, stream) DO UPDATE SET "
            "misses = xero_webhook_misses.misses + excluded.misses",
            (tenant_id, stream, count),
        )

    def prune(self, older_than_s: float) -> int:
        """Delete consumed events received more than ``older_than_s`` ago; returns how many.

        Kept that long so a late retry of an already consumed event is still recognised.
        """
        cutoff = time.time() - older_than_s
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "DELETE FROM xero_webhook_events WHERE received_at < ? AND position <= "
                    "(SELECT c.position FROM xero_webhook_consumed c WHERE c.tenant_id = "
                    "xero_webhook_events.tenant_id AND c.category = xero_webhook_events.category)"
                ),
                (cutoff,),
            )
            return max(int(cur.rowcount), 0)


def open_queue(dsn: str) -> EventQueue:
    """Open (creating if need be) the queue at ``dsn``: a path, ``sqlite:///path`` or
    ``postgresql://...``."""
    if not dsn:
        raise ValueError("the webhook queue DSN is empty")
    return EventQueue(dsn)

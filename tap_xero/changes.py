"""Reading by change: contacts, invoices and credit notes by the IDs in new webhook events (with
a reconciliation sweep every ``reconcile_hours``), and refresh intervals for everything else.
docs/webhooks.md (The tap reads the queue) says what a run reads and when STATE moves."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from xero_api.dates import format_utc, parse_datetime
from xero_api.event_queue import CATEGORY_STREAMS, EventQueue, QueuedEvent
from xero_api.id_lists import GUID, ID_LIST_CHUNK

__all__ = [
    "QUEUE_POSITION",
    "RECONCILED_AT",
    "RECONCILED_POSITION",
    "REFRESHED_AT",
    "STREAM_CATEGORIES",
    "ChangeFeed",
    "refresh_due",
    "refresh_interval",
]

QUEUE_POSITION = "queue_position"
RECONCILED_AT = "reconciled_at"
RECONCILED_POSITION = "reconciled_position"
REFRESHED_AT = "refreshed_at"
STREAM_CATEGORIES = {stream: category for category, stream in CATEGORY_STREAMS.items()}
MAX_EVENTS_PER_RUN = 20_000  # the rest is read by the next run
# A document's UpdatedDateUTC is before its event's eventDateUtc; this covers clock drift too.
EVENT_CLOCK_MARGIN = timedelta(minutes=5)

Pages = Iterator[list[dict[str, Any]]]


class ChangeStream(Protocol):
    """What a stream read by change offers (``XeroStream`` for contacts, invoices and credit
    notes)."""

    name: str

    @property
    def key_field(self) -> str:
        """The record field holding the Xero ID."""
        ...

    def sweep_pages(self, tenant: str) -> Pages:
        """The If-Modified-Since read from the partition's bookmark."""
        ...

    def pages_by_id(self, tenant: str, ids: list[str]) -> Pages:
        """The documents with these IDs, as many per call as Xero takes."""
        ...

    def changed_since(self, tenant: str, since: str) -> Pages:
        """Every document updated since ``since`` (If-Modified-Since, largest pages)."""
        ...

    def settle_after(self, tenant: str, values: dict[str, Any]) -> None:
        """Put ``values`` in the partition's STATE once its last record is emitted."""
        ...

    def hold_bookmark(self, tenant: str) -> None:
        """Keep the partition's ``UpdatedDateUTC`` bookmark where it is during this read."""
        ...


def _now() -> datetime:
    return datetime.now(UTC)


def _age_hours(saved: Mapping[str, Any], key: str, now: datetime) -> float | None:
    value = saved.get(key)
    if not isinstance(value, str):
        return None
    try:
        return (now - parse_datetime(value)) / timedelta(hours=1)
    except ValueError:
        return None


# Defaults with webhook_queue set, chosen so an idle day of hourly runs over every stream stays
# far under Xero's 1,000 calls: reference data once a day, streams Xero sends no events for
# every 3 hours (docs/webhooks.md, "What an idle day costs"). Without a queue every stream is
# read on every run, as a polling tap always has.
EVENT_MODE_REFRESH_HOURS = {"reference_refresh_hours": 24.0, "poll_hours": 3.0}


def refresh_interval(config: Mapping[str, Any], setting: str) -> float:
    """``reference_refresh_hours`` or ``poll_hours`` as set, else its default for the mode."""
    value = config.get(setting)
    if value is not None:
        return float(value)
    return EVENT_MODE_REFRESH_HOURS[setting] if config.get("webhook_queue") else 0.0


def refresh_due(saved: Mapping[str, Any], hours: float, now: datetime | None = None) -> bool:
    """Whether a partition last fully read at ``saved[refreshed_at]`` is due again."""
    if hours <= 0:
        return True
    age = _age_hours(saved, REFRESHED_AT, now or _now())
    return age is None or age < 0 or age >= hours


class ChangeFeed:
    """The event queue as the tap reads it (one per run; the queue is thread-safe)."""

    def __init__(self, queue: EventQueue, reconcile_hours: float, logger: logging.Logger):
        self.queue = queue
        self.reconcile_hours = reconcile_hours
        self.logger = logger
        # Partitions read in this run: a later read (following the queue) starts from a
        # position this run emitted, which no target has confirmed yet.
        self._read: set[tuple[str, str]] = set()

    def pages(self, stream: ChangeStream, tenant: str, saved: Mapping[str, Any]) -> Pages:
        """One partition's pages: a sweep or the documents of new events (see module doc);
        ``saved`` is the partition's STATE entry as the run received it."""
        category = STREAM_CATEGORIES[stream.name]
        raw = saved.get(QUEUE_POSITION)
        position = raw if isinstance(raw, int) and raw >= 0 else None
        if position is not None and (tenant, category) not in self._read:
            # This STATE came back through the target: everything up to here is safe.
            self.queue.acknowledge(tenant, category, position)
        self._read.add((tenant, category))
        now = _now()
        age = _age_hours(saved, RECONCILED_AT, now)
        if position is None or age is None or age < 0 or age >= self.reconcile_hours:
            yield from self._sweep(stream, tenant, category, saved, position, now)
            return
        events = self.queue.read(tenant, category, position, MAX_EVENTS_PER_RUN)
        if not events:
            return
        stream.hold_bookmark(tenant)
        ids: dict[str, None] = {}
        for event in events:
            if GUID.match(event.resource_id):
                ids[event.resource_id.lower()] = None
            else:
                self.logger.warning(
                    "Ignoring a %s event for tenant %s: resourceId is not a GUID",
                    category,
                    tenant,
                )
        self.logger.info(
            "%s for tenant %s: %d event(s), %d document(s) to read",
            stream.name,
            tenant,
            len(events),
            len(ids),
        )
        if len(ids) > ID_LIST_CHUNK:
            yield from self._since_oldest(stream, tenant, events, ids)
        elif ids:
            yield from stream.pages_by_id(tenant, list(ids))
        stream.settle_after(tenant, {QUEUE_POSITION: events[-1].position})

    def _since_oldest(
        self, stream: ChangeStream, tenant: str, events: list[QueuedEvent], ids: dict[str, None]
    ) -> Pages:
        """More IDs than one call takes: one If-Modified-Since read from the oldest event
        (less a margin for clocks) returns them 1,000 a call; any ID it did not return is then
        read by ID. It may also return documents read before (rows are keyed: replaced)."""
        dates = []
        for event in events:
            try:
                dates.append(parse_datetime(event.event_date))
            except ValueError:
                continue
        if not dates:
            yield from stream.pages_by_id(tenant, list(ids))
            return
        seen: set[str] = set()
        for page in stream.changed_since(tenant, format_utc(min(dates) - EVENT_CLOCK_MARGIN)):
            seen.update(str(record.get(stream.key_field) or "").lower() for record in page)
            yield page
        rest = [i for i in ids if i not in seen]
        if rest:
            yield from stream.pages_by_id(tenant, rest)

    def _sweep(
        self,
        stream: ChangeStream,
        tenant: str,
        category: str,
        saved: Mapping[str, Any],
        position: int | None,
        now: datetime,
    ) -> Pages:
        # Events up to here describe changes made before the sweep starts, which it reads.
        head = self.queue.last_position()
        seen: list[str] = []
        for page in stream.sweep_pages(tenant):
            seen.extend(str(record.get(stream.key_field) or "").lower() for record in page)
            yield page
        if position is not None:
            since = saved.get(RECONCILED_POSITION)
            after = int(since) if isinstance(since, int) else position
            announced = {
                event.resource_id.lower()
                for event in self.queue.read(tenant, category, after, 10 * MAX_EVENTS_PER_RUN)
            }
            missed = sorted({i for i in seen if i and i not in announced})
            if missed:
                self.logger.warning(
                    "Reconciliation sweep of %s for tenant %s: %d change(s) no webhook "
                    "announced (first: %s)",
                    stream.name,
                    tenant,
                    len(missed),
                    missed[0],
                )
                self.queue.record_misses(tenant, stream.name, len(missed))
        stream.settle_after(
            tenant,
            {
                QUEUE_POSITION: max(head, position or 0),
                RECONCILED_AT: format_utc(now),
                RECONCILED_POSITION: head,
            },
        )

"""Following the webhook queue (``webhook_follow_seconds``): after its sync the tap stays up and
reads each new batch of events as it is committed, so one warm pipeline loads every batch.

Once a second it asks the queue for its newest position (one local query; no API call). When
that moved, it looks for events after each event-driven partition's ``queue_position`` and
syncs the partitions that have some, as a run would (their IDs, then a STATE with the new
position), and writes them out at once. It stops after ``webhook_follow_seconds`` without a new
event, or after ``FOLLOW_AT_MOST_SECONDS`` in all. docs/webhooks.md (A pipeline that stays
warm) says how the target and Meltano take it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from .changes import QUEUE_POSITION, STREAM_CATEGORIES, ChangeFeed
from .session import ReadSession
from .streams import TENANT_KEY, TenantStream

__all__ = ["LOOK_SECONDS", "follow_queue"]

LOOK_SECONDS = 1.0
# A follow ends after this long even while events keep coming: targets pass a STATE on to
# Meltano at the end of a run (singer-sdk targets also every 5 minutes of records), and only
# the next run confirms the positions to the queue, so its depth and oldest-event age alerts
# see a busy queue confirmed at least this often.
FOLLOW_AT_MOST_SECONDS = 3600.0
# The last line of a follow, which an orchestrator reads (orchestrate/dagster/definitions.py).
LOADED_LINE = "Followed the webhook queue: every event up to position %d of these tenants is read"


def _position(stream: TenantStream, tenant: str) -> int | None:
    raw = stream.saved_state({TENANT_KEY: tenant}).get(QUEUE_POSITION)
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _due(
    feed: ChangeFeed, session: ReadSession, streams: Sequence[TenantStream]
) -> tuple[list[tuple[TenantStream, str]], bool]:
    """The partitions with events after their position, and whether every partition is
    followed (has a position, and its tenant's day limit is not used up)."""
    due, whole = [], True
    for stream in streams:
        category = STREAM_CATEGORIES[stream.name]
        for tenant in session.tenant_ids:
            position = _position(stream, tenant)
            if position is None or tenant in session.exhausted:
                whole = False  # never read by a sweep, or stopped: the next run reads it
                continue
            if feed.queue.read(tenant, category, position, 1):
                due.append((stream, tenant))
    return due, whole


def follow_queue(
    session: ReadSession,
    streams: Sequence[TenantStream],
    seconds: float,
    flush: Callable[[], None],
    logger: logging.Logger,
    look_seconds: float = LOOK_SECONDS,
) -> None:
    """Sync each new batch of events of ``streams`` (selected, event-driven) and ``flush``
    it out, until ``seconds`` pass without one; then log the position read up to (not after
    ``FOLLOW_AT_MOST_SECONDS``: events may be arriving)."""
    feed = session.change_feed
    if feed is None or not streams or seconds <= 0:
        return
    session.begin_sync(())  # nothing more to read ahead: each partition is read when due
    logger.info("Following the webhook queue until %g s pass without a new event", seconds)
    began = quiet_since = time.monotonic()
    looked_at = -1  # the queue's newest position when every partition was last looked at
    read_up_to: int | None = None
    while time.monotonic() - quiet_since < seconds:
        if time.monotonic() - began >= FOLLOW_AT_MOST_SECONDS:
            logger.info("Stopped following the webhook queue after %g s", FOLLOW_AT_MOST_SECONDS)
            return
        newest = feed.queue.last_position()
        if newest == looked_at:
            time.sleep(look_seconds)
            continue
        due, whole = _due(feed, session, streams)
        if not due:
            looked_at = newest
            read_up_to = newest if whole else None
            continue
        for stream, tenant in due:
            stream.sync({TENANT_KEY: tenant})
        flush()  # the records and their STATE go to the target now, not at the run's end
        looked_at, read_up_to = -1, None  # look again: a batch reads at most so many events
        quiet_since = time.monotonic()
    if read_up_to is not None:
        logger.info(LOADED_LINE, read_up_to)

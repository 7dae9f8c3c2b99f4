"""The read session: one run's Xero client, tenants, webhook queue and read-ahead.

Streams read through the session and tell it what stopped them (a tenant's day limit, a
refused stream); the tap only creates it from the config and closes it at the end of a run.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from singer_sdk import metrics

from xero_api.errors import XeroConfigError, XeroError, XeroRateLimitExhausted
from xero_api.event_queue import open_queue
from xero_api.resources import Record
from xero_api.settings import XeroSettings

from .changes import ChangeFeed
from .fetch import Key, PageProducer, ReadAhead

if TYPE_CHECKING:
    from xero_api.client import XeroClient

__all__ = ["PlannedStream", "ReadSession", "XeroMetric"]


class PlannedStream(Protocol):
    """A stream as the session plans its reads: whether it is selected, and its partitions'
    reads in the order the SDK will emit them."""

    @property
    def selected(self) -> bool:
        """Whether the catalog selects the stream."""
        ...

    def planned_reads(self) -> list[tuple[Key, PageProducer]]:
        """One read-ahead job per partition."""
        ...


class XeroMetric(enum.StrEnum):
    """Usage metrics of the Xero client (singer-sdk only names its own)."""

    CALLS = "xero_api_calls"
    RETRIES = "xero_api_retries"
    RATE_LIMITED = "xero_api_429s"
    DAY_QUOTA_LEFT = "xero_day_quota_left"


class ReadSession:
    """What every stream of one run shares: created on first use, closed by :meth:`close`."""

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.exhausted: dict[str, XeroRateLimitExhausted] = {}  # tenant -> why it stopped
        self.refused: list[str] = []  # 401/403 answers for one stream and tenant
        self._lock = threading.Lock()
        self._client: XeroClient | None = None
        self._tenant_ids: list[str] | None = None
        self._change_feed: ChangeFeed | None = None
        self._streams: tuple[PlannedStream, ...] = ()
        self._reads: ReadAhead | None = None
        self._regions: dict[str, str] = {}  # tenant -> Organisation.Version
        self._regions_lock = threading.Lock()

    # -- Xero -----------------------------------------------------------------------------

    @property
    def client(self) -> XeroClient:
        """The shared Xero client (auth, limits, retries)."""
        with self._lock:
            if self._client is None:
                # Here, not at module import: --about and --discover never load httpx.
                from xero_api.client import XeroClient

                self._client = XeroClient(XeroSettings.from_config(self.config), self.logger)
            return self._client

    @property
    def tenant_ids(self) -> list[str]:
        """The configured tenants, or every tenant of the connection (GET /connections)."""
        if self._tenant_ids is None:
            self._tenant_ids = self.client.tenant_ids()
            if not self._tenant_ids:
                raise XeroError("the Xero connection has no tenants (GET /connections)")
            self.logger.info("Tenants: %s", ", ".join(self._tenant_ids))
        return self._tenant_ids

    @property
    def change_feed(self) -> ChangeFeed | None:
        """The webhook event queue (``webhook_queue``); None without one."""
        dsn = self.config.get("webhook_queue")
        if not dsn:
            return None
        with self._lock:
            if self._change_feed is None:
                try:
                    queue = open_queue(str(dsn))
                except Exception as error:
                    raise XeroConfigError(
                        "webhook_queue", f"cannot open the queue: {type(error).__name__}"
                    ) from None
                hours = float(self.config.get("reconcile_hours") or 24)
                self._change_feed = ChangeFeed(queue, hours, self.logger)
            return self._change_feed

    def get(
        self,
        tenant: str,
        path: str,
        params: dict[str, str],
        *,
        if_modified_since: str | None = None,
        priority: float | None = None,
    ) -> Any:
        """GET any JSON answer (object or list) of any Xero API for a tenant; errors are the
        client's ``XeroError``s. ``priority``: calls the read still needs (the rate limiter
        serves the longest first)."""
        return self.client.get(
            path, tenant, params, if_modified_since=if_modified_since, priority=priority
        ).data

    def region(self, tenant: str) -> str:
        """The organisation's region (``Version`` of GET /Organisation: AU, NZ, UK, US...),
        asked once a run; "" when Xero does not say. The spec's ONRAMP versions (``AUONRAMP``)
        count as their country's: such an organisation is asked, and skipped on a 403 if it
        lacks the API, rather than skipped unasked."""
        with self._regions_lock:
            if tenant not in self._regions:
                body = self.get(tenant, "Organisation", {})
                found = body.get("Organisations") if isinstance(body, dict) else None
                first = found[0] if isinstance(found, list) and found else {}
                version = str(first.get("Version") or "")
                self._regions[tenant] = version.removesuffix("ONRAMP")
            return self._regions[tenant]

    # -- reading ahead ---------------------------------------------------------------------

    def begin_sync(self, streams: Iterable[PlannedStream]) -> None:
        """Read ahead, in a sync, every partition of the selected ``streams`` (in the order
        they will be emitted). The plan is made on the first :meth:`pages`, once the SDK has
        set up the sync's state, so bookmarks are those of the input state."""
        self._close_reads()  # a dry run's reads, if any, were not planned for this sync
        self._streams = tuple(streams)

    def pages(
        self, key: Key, produce: PageProducer, money_as_text: bool
    ) -> Generator[list[Record], None, None]:
        """One partition's pages, read in the background (alone, outside a sync)."""
        if self._reads is None:
            planned = [read for s in self._streams if s.selected for read in s.planned_reads()]
            self._reads = ReadAhead(planned, workers=min(32, 3 * len(self.tenant_ids) + 2))
        return self._reads.pages(key, produce, money_as_text)

    def stop_tenant(self, tenant: str, error: XeroRateLimitExhausted) -> None:
        """The tenant's day limit is used up: read nothing more of it in this run."""
        self.exhausted[tenant] = error
        if self._reads is not None:
            self._reads.cancel(lambda key: key[1] == tenant)

    def refuse(self, message: str) -> None:
        """A stream could not be read for a tenant: the run goes on, then fails."""
        self.refused.append(message)

    def _close_reads(self) -> None:
        if self._reads is not None:
            self._reads.close()
            self._reads = None

    # -- the end of a run ------------------------------------------------------------------

    def close(self) -> None:
        """Stop every read, report API usage, close the client and the webhook queue."""
        self._streams = ()
        self._close_reads()
        if self._client is not None:
            self._report_usage(self._client)
            self._client.close()
        if self._change_feed is not None:
            self._change_feed.queue.close()
            self._change_feed = None

    def _report_usage(self, client: XeroClient) -> None:
        """Per-tenant calls, retries, 429s and day quota left, as log lines and metrics."""
        usage = client.usage
        for line in usage.summary_lines():
            self.logger.info("Xero API usage: %s", line)
        logger = metrics.get_metrics_logger()
        for tenant, counters in usage.as_dict().items():
            values = {
                XeroMetric.CALLS: counters["calls"],
                XeroMetric.RETRIES: counters["retries"],
                XeroMetric.RATE_LIMITED: counters["rate_limited"],
                XeroMetric.DAY_QUOTA_LEFT: counters["day_quota_left"],
            }
            for metric, value in values.items():
                if value is not None:
                    point = metrics.Point("counter", cast(Any, metric), value, {"tenant": tenant})
                    metrics.log(logger, point)

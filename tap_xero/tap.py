"""tap-xero: every Xero Accounting stream, incremental, multi-tenant."""

from __future__ import annotations

import enum
import gc
import logging
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, cast

from singer_sdk import Stream, Tap, metrics
from singer_sdk import typing as th
from singer_sdk.singerlib import StateMessage

from xero_api.client import XeroClient
from xero_api.dates import parse_datetime
from xero_api.errors import XeroConfigError, XeroError, XeroRateLimitExhausted
from xero_api.event_queue import open_queue
from xero_api.resources import RESOURCES
from xero_api.settings import SETTINGS, Setting, XeroSettings

from .attachments import AttachmentsStream
from .changes import ChangeFeed
from .fetch import PageProducer, ReadAhead
from .output import XeroMessageWriter
from .streams import REPORTS, TENANT_KEY, Record, ReportStream, TenantStream, XeroStream

__all__ = ["TapXero"]

_TYPES: dict[str, Any] = {
    "string": th.StringType,
    "integer": th.IntegerType,
    "number": th.NumberType,
    "boolean": th.BooleanType,
}


def _property(setting: Setting) -> th.Property[Any]:
    kind = th.ArrayType(th.StringType) if setting.type == "array" else _TYPES[setting.type]
    extra: dict[str, Any] = {}
    if setting.allowed:
        extra["allowed_values"] = list(setting.allowed)
    return th.Property(
        setting.name,
        kind,
        required=setting.required,
        secret=setting.secret,
        default=setting.default if setting.default is not None else None,
        description=setting.description,
        **extra,
    )


TAP_SETTINGS = th.PropertiesList(
    th.Property(
        "start_date",
        th.DateTimeType,
        required=True,
        description="Earliest UpdatedDateUTC (CreatedDateUTC for BankTransfers, journals created "
        "since) to read on a first run, and the first month of the report streams.",
    ),
    th.Property(
        "report_start_date",
        th.DateTimeType,
        description="First month of the report streams (one API call per month, report and "
        "tenant); defaults to start_date.",
    ),
    th.Property(
        "webhook_queue",
        th.StringType,
        secret=True,  # a PostgreSQL DSN may carry a password
        description="The queue `xero-webhooks serve` fills (a SQLite path or postgresql://...). "
        "When set, contacts, invoices and credit_notes are read by the IDs in new webhook "
        "events instead of polled (docs/webhooks.md).",
    ),
    th.Property(
        "reconcile_hours",
        th.NumberType(exclusive_minimum=0),
        default=24,
        description="With webhook_queue: hours between reconciliation sweeps, which read the "
        "event-driven streams by If-Modified-Since and count what no event announced.",
    ),
    th.Property(
        "reference_refresh_hours",
        th.NumberType(minimum=0),
        default=0,
        description="Re-read reference data (the Accounting API's full-table streams, accounts, "
        "items, users and the reports) at most this often; 0 reads them on every run.",
    ),
    th.Property(
        "poll_hours",
        th.NumberType(minimum=0),
        default=0,
        description="Re-read every other stream (neither reference data nor read by webhook "
        "events) at most this often; 0 reads them on every run.",
    ),
    th.Property(
        "attachments_path",
        th.StringType,
        description="Where the attachments stream saves each file's content: a local folder, "
        "or an fsspec URL (s3://…, gs://…; needs fsspec and that filesystem installed). Files "
        "already there are not downloaded again. Unset: content is only hashed (SHA256).",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=1000),
        default=1000,
        description="Records per page where Xero takes `pageSize` (1 to 1000; Xero's maximum "
        "1000 spends the fewest API calls).",
    ),
)


def config_schema() -> dict[str, Any]:
    """The shared connection settings followed by the tap's own."""
    shared = th.PropertiesList(*(_property(s) for s in SETTINGS)).to_dict()
    own = TAP_SETTINGS.to_dict()
    shared["properties"].update(own["properties"])
    shared["required"] = sorted({*shared.get("required", []), *own.get("required", [])})
    return shared


class XeroMetric(enum.StrEnum):
    """Usage metrics of the Xero client (singer-sdk only names its own)."""

    CALLS = "xero_api_calls"
    RETRIES = "xero_api_retries"
    RATE_LIMITED = "xero_api_429s"
    DAY_QUOTA_LEFT = "xero_day_quota_left"


@contextmanager
def _collect_rarely() -> Iterator[None]:
    """Run a sync with the cyclic garbage collector mostly out of the way.

    A page decodes to about 10,000 container objects that all live until they are emitted;
    at CPython's default thresholds (700, 10, 10) the collector rescans them, and the whole
    start-up heap, dozens of times per sync: about a quarter of the tap's CPU. Records hold
    no reference cycles, so collecting less often frees the same memory, just later.
    """
    thresholds = gc.get_threshold()
    gc.freeze()  # the start-up heap (SDK, schemas, catalog) is never scanned again
    gc.set_threshold(10_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class TapXero(Tap):
    """Singer tap for the Xero Accounting API."""

    name = "tap-xero"
    package_name = "singer-xero"  # the distribution; `tap-xero` on PyPI is another project
    message_writer_class = XeroMessageWriter
    config_jsonschema = config_schema()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.exhausted: dict[str, XeroRateLimitExhausted] = {}
        self.refused: list[str] = []  # 401/403 answers for one stream and tenant
        self._client: XeroClient | None = None
        self._tenant_ids: list[str] | None = None
        self._lock = threading.Lock()
        self._syncing = False
        self._reads: ReadAhead | None = None
        self._change_feed: ChangeFeed | None = None
        super().__init__(*args, **kwargs)
        # One INFO line per HTTP request drowns the log; the usage report sums them up.
        logging.getLogger("httpx").setLevel(logging.WARNING)

    # -- the Xero side ---------------------------------------------------------------------

    @property
    def client(self) -> XeroClient:
        """The shared Xero client (auth, limits, retries), created on first use."""
        with self._lock:
            if self._client is None:
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
        """The webhook event queue (``webhook_queue``), opened on first use; None without."""
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

    def get_body(
        self,
        tenant: str,
        path: str,
        params: dict[str, str],
        if_modified_since: str | None = None,
        priority: float | None = None,
    ) -> Any:
        """GET any JSON answer (object or list) of any Xero API for a tenant; errors are the
        client's ``XeroError``s.

        ``priority``: calls the read still needs (the rate limiter serves the longest first).
        """
        return self.client.get(
            path, tenant, params, if_modified_since=if_modified_since, priority=priority
        ).data

    # -- reading ahead ---------------------------------------------------------------------

    def partition_pages(
        self, stream: TenantStream, tenant: str
    ) -> Generator[list[Record], None, None]:
        """One partition's pages, read in the background.

        In a sync, the first call plans every selected stream and tenant in the SDK's order,
        bookmarks as given in the input state; outside one (the SDK's dry run) each partition
        is read on its own.
        """
        if self._reads is None:
            plan = self._read_plan() if self._syncing else []
            self._reads = ReadAhead(plan, workers=min(32, 3 * len(self.tenant_ids) + 2))
        return self._reads.pages(
            (stream.name, tenant), self._producer(stream, tenant), stream.numbers_pass_through
        )

    def cancel_reads(self, tenant: str) -> None:
        """Stop reading ahead for a tenant (its day limit is used up)."""
        if self._reads is not None:
            self._reads.cancel(lambda key: key[1] == tenant)

    def _close_reads(self) -> None:
        if self._reads is not None:
            self._reads.close()
            self._reads = None

    def _producer(self, stream: TenantStream, tenant: str) -> PageProducer:
        start = stream.partition_start({TENANT_KEY: tenant})
        return lambda: stream.read(tenant, start)

    def _read_plan(self) -> list[tuple[tuple[str, str], PageProducer]]:
        # Tap.sync_all's order: selected streams as listed, partitions as listed.
        return [
            ((stream.name, partition[TENANT_KEY]), self._producer(stream, partition[TENANT_KEY]))
            for stream in self.streams.values()
            if isinstance(stream, TenantStream) and stream.selected
            for partition in stream.partitions or ()
        ]

    # -- singer ----------------------------------------------------------------------------

    def discover_streams(self) -> list[Stream]:
        """One stream per resource row, the three report streams and attachments."""
        streams: list[Stream] = [XeroStream(self, resource) for resource in RESOURCES]
        streams += [ReportStream(self, name, report) for name, report in REPORTS.items()]
        streams.append(AttachmentsStream(self))
        return streams

    # singer-sdk marks sync_all final for typing only; it is the one place that wraps a run.
    def sync_all(self) -> None:  # type: ignore[misc]
        """Sync, then report API usage; Xero errors end the run with one clear line."""
        try:
            self._check_dates()
            self._close_reads()  # a dry run's reads, if any, were not planned for this sync
            self._syncing = True
            with _collect_rarely():
                super().sync_all()
        except XeroError as error:
            self.write_message(StateMessage(value=self.state))
            self.logger.error("%s", error.message)
            raise SystemExit(1) from None
        finally:
            self._syncing = False
            self._close_reads()
            self.report_usage()
            if self._client is not None:
                self._client.close()
            if self._change_feed is not None:
                self._change_feed.queue.close()
                self._change_feed = None
        for tenant, exhausted in self.exhausted.items():
            self.logger.warning("Tenant %s: %s", tenant, exhausted.message)
        if self.refused:
            for message in self.refused:
                self.logger.error("%s", message)
            self.logger.error(
                "%d stream(s) could not be read (above); everything else was synced",
                len(self.refused),
            )
            raise SystemExit(1)

    def _check_dates(self) -> None:
        # JSON Schema's date-time format is not enforced by the SDK's validator.
        for name in ("start_date", "report_start_date"):
            value = self.config.get(name)
            if value is None:
                continue
            try:
                parse_datetime(str(value))
            except ValueError as exc:
                raise XeroConfigError(name, str(exc)) from None

    def report_usage(self) -> None:
        """Per-tenant calls, retries, 429s and day quota left, as log lines and metrics."""
        if self._client is None:
            return
        usage = self._client.usage
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


if __name__ == "__main__":
    TapXero.cli()

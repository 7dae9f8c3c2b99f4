"""tap-xero: the settings, and the wiring of config to read session to streams."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.singerlib import StateMessage
from typing_extensions import override

from xero_api.dates import parse_datetime
from xero_api.errors import XeroConfigError, XeroError
from xero_api.resources import ATTACHMENT_PARENTS, REPORTS, RESOURCES
from xero_api.settings import SETTINGS, Setting

from .attachments import AttachmentsStream
from .changes import STREAM_CATEGORIES
from .follow import follow_queue
from .reports import ReportStream
from .sdk_hooks import SdkTap
from .session import ReadSession
from .streams import TenantStream, XeroStream

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
        "webhook_follow_seconds",
        th.NumberType(minimum=0),
        default=0,
        description="With webhook_queue: after its sync, keep following the queue (one local "
        "query a second, no API call while nothing is new) and read each new batch of events "
        "as it comes, until this many seconds pass without one; 0 ends with the sync. For a "
        "pipeline that stays warm between event batches (docs/webhooks.md).",
    ),
    th.Property(
        "reference_refresh_hours",
        th.NumberType(minimum=0),
        description="Re-read reference data (the Accounting API's full-table streams, accounts, "
        "items, users and the reports) at most this often; 0 reads them on every run. "
        "Default: 24 with webhook_queue, else 0.",
    ),
    th.Property(
        "poll_hours",
        th.NumberType(minimum=0),
        description="Re-read every other stream (neither reference data nor read by webhook "
        "events) at most this often; 0 reads them on every run. Default: 3 with "
        "webhook_queue, else 0.",
    ),
    th.Property(
        "attachments_path",
        th.StringType,
        description="Where the attachments stream saves each file's content: a local folder, "
        "or an fsspec URL (s3://…, gs://…; needs fsspec and that filesystem installed). Files "
        "already there are not downloaded again. Unset: content is only hashed (SHA256).",
    ),
    th.Property(
        "files_path",
        th.StringType,
        description="Where the files stream (Files API) saves each file's content: a local "
        "folder, or an fsspec URL, as attachments_path. Files already there are not downloaded "
        "again. Unset: files' content is not downloaded.",
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


@contextmanager
def _collect_rarely() -> Iterator[None]:
    """Run a sync with the cyclic garbage collector mostly out of the way.

    A page decodes to about 10,000 container objects that all live until they are emitted;
    at CPython's default thresholds (700, 10, 10) the collector rescans them, and the whole
    start-up heap, dozens of times per sync: about a quarter of the tap's CPU. Records hold
    no reference cycles, nor do the client's answers (the transport cuts httpx's), so
    collecting less often frees the same memory, just later.
    """
    thresholds = gc.get_threshold()
    gc.freeze()  # the start-up heap (SDK, schemas, catalog) is never scanned again
    gc.set_threshold(100_000, 100, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class TapXero(SdkTap):
    """Singer tap for the Xero Accounting API: the config, one read session, the streams."""

    name = "tap-xero"
    package_name = "singer-xero"  # the distribution; `tap-xero` on PyPI is another project
    config_jsonschema = config_schema()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._session: ReadSession | None = None
        super().__init__(*args, **kwargs)
        # One INFO line per HTTP request drowns the log; the usage report sums them up.
        logging.getLogger("httpx").setLevel(logging.WARNING)

    @property
    def session(self) -> ReadSession:
        """The run's read session, made from the config on first use."""
        if self._session is None:
            self._session = ReadSession(self.config, self.logger)
        return self._session

    @override
    def discover_streams(self) -> list[Stream]:
        """One stream per resource row, the three report streams and attachments."""
        session = self.session
        rows = {row.stream: XeroStream(self, session, row) for row in RESOURCES}
        parents = [rows[name] for name in ATTACHMENT_PARENTS]
        return [
            *rows.values(),
            *(ReportStream(self, session, name, report) for name, report in REPORTS.items()),
            AttachmentsStream(self, session, parents),
        ]

    @override
    @contextmanager
    def sync_run(self) -> Iterator[None]:
        """Sync, then report API usage; Xero errors end the run with one clear line."""
        session = self.session
        try:
            self._check_dates()
            # Tap.sync_all's order: selected streams as listed, partitions as listed.
            session.begin_sync(s for s in self.streams.values() if isinstance(s, TenantStream))
            with _collect_rarely():
                yield
                self._follow_queue()
        except XeroError as error:
            self.write_message(StateMessage(value=self.state))
            self.logger.error("%s", error.message)
            raise SystemExit(1) from None
        finally:
            session.close()
        for tenant, exhausted in session.exhausted.items():
            self.logger.warning("Tenant %s: %s", tenant, exhausted.message)
        if session.refused:
            for message in session.refused:
                self.logger.error("%s", message)
            self.logger.error(
                "%d stream(s) could not be read (above); everything else was synced",
                len(session.refused),
            )
            raise SystemExit(1)

    def _follow_queue(self) -> None:
        """Follow the webhook queue after the sync, for ``webhook_follow_seconds``."""
        streams = [
            stream
            for stream in self.streams.values()
            if isinstance(stream, TenantStream)
            and stream.selected
            and stream.name in STREAM_CATEGORIES
        ]
        seconds = float(self.config.get("webhook_follow_seconds") or 0)
        follow_queue(self.session, streams, seconds, self._flush_state, self.logger)

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


if __name__ == "__main__":
    TapXero.cli()

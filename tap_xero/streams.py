"""Streams made from the resource table: one generic class, plus Xero's real special cases.

Every stream is partitioned by tenant (context ``{"TenantID": ...}``), so each tenant keeps its
own bookmark and every record carries its ``TenantID``. During a sync every selected stream
and tenant is read ahead in the background (:class:`~tap_xero.fetch.ReadAhead`, planned by
:meth:`TapXero.partition_pages`), so tenants and streams are read in parallel (the client keeps
each tenant within Xero's limits) while memory stays bounded; pages are emitted in the SDK's
order.

Reading plans, chosen from the resource row:

* **If-Modified-Since** rows read by *time cursor*: every request carries
  ``If-Modified-Since`` = the latest ``UpdatedDateUTC`` emitted so far, floored to the second,
  with ``order=<field> ASC``. Xero compares to the second and includes that second, so the
  records of the cursor's own second come back again; those already emitted (same timestamp
  and ID, remembered in STATE as ``boundary_ids``) are skipped. Nothing at the boundary is
  lost or doubled, and a record updated during the sync moves to the end of the order instead
  of shifting an unread record onto a page that was already read (which page-number paging
  over a changing order would do).
* **Journals**: ``offset`` = last JournalNumber, 100 per call, integer bookmark.
* **LinkedTransactions** (no If-Modified-Since): a full scan of every page, filtered on
  ``UpdatedDateUTC`` client-side; the scan ends on a short page, not on a short filtered page.
* Everything else: full table, every page; a row with ``each`` (Assets by ``status``) once per
  value, and a child collection (a project's tasks or time) once per parent record, the
  parents listed by reading the parent's collection.
* APIs beside Accounting that an organisation may lack (Projects, Fixed Assets): a 403 for a
  tenant means its region or subscription has no such API, and the stream skips that tenant
  with one log line.
* **Reports**: month by month from ``start_date``, flattened to one row per tenant, report,
  month and row.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._state import get_state_if_exists, increment_state
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import DefaultStreamMap
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from xero_api.codec import numbers_as_text
from xero_api.dates import convert_msdates, format_utc, if_modified_since_header, parse_datetime
from xero_api.errors import XeroAuthError, XeroError, XeroRateLimitExhausted, XeroTokenError
from xero_api.id_lists import ID_LIST_CHUNK, fitting
from xero_api.resources import (
    ACCOUNTING,
    REPORTS,
    Paging,
    Replication,
    Resource,
    resource_for_stream,
)
from xero_api.schema_files import load_schema
from xero_api.scopes import selected_by_default

from .changes import REFRESHED_AT, STREAM_CATEGORIES, refresh_due
from .convert import date_converter
from .output import XeroMessageWriter

if TYPE_CHECKING:
    from .tap import TapXero

__all__ = ["REPORTS", "ReportStream", "XeroStream"]

Record = dict[str, Any]
TENANT_KEY = "TenantID"
FIXED_PAGE_SIZE = 100  # Xero's size where it takes `page` but no `pageSize`, and for Journals
BOUNDARY_VALUE = "boundary_value"
BOUNDARY_IDS = "boundary_ids"
_NO_CONTEXT = object()


@dataclass(frozen=True)
class PartitionStart:
    """Where one partition's read begins: the bookmark, the IDs emitted exactly at it, and
    the partition's STATE entry as the run received it."""

    value: Any
    boundary_ids: frozenset[str] = frozenset()
    saved: Mapping[str, Any] = field(default_factory=dict)


class TenantStream(Stream):
    """A stream with one partition per tenant, read ahead in the background."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # records are converted while fetched

    def __init__(self, tap: TapXero, name: str, schema: dict[str, Any]) -> None:
        super().__init__(tap, schema=schema, name=name)
        self.xero_tap = tap
        self._prune_deselected: bool | None = None
        self._numbers_pass_through: bool | None = None
        self._settle: dict[str, dict[str, Any]] = {}  # tenant -> STATE keys due after its read
        self._held: set[str] = set()  # tenants whose bookmark this run's read must not move

    @property
    def partitions(self) -> list[dict[str, Any]] | None:
        """One partition per tenant."""
        return [{TENANT_KEY: tenant} for tenant in self.xero_tap.tenant_ids]

    def get_replication_key_signpost(self, context: Mapping[str, Any] | None = None) -> Any:
        """Keep the SDK's cap (tap start time) only for unsorted streams; sorted reads never
        skip a record updated during the run, so their bookmark may pass the start time."""
        if self.is_sorted:
            return None
        return super().get_replication_key_signpost(context)

    def _write_record_message(self, record: Record) -> None:
        """The SDK's RECORD output without its per-record costs that do nothing here: pruning
        walks every field even when all are selected, conformance is off, and the line is
        written without a message object (:meth:`XeroMessageWriter.write_record`)."""
        if self._prune_deselected is None:
            self._prune_deselected = not all(self.mask.values())
        if self._prune_deselected:
            pop_deselected_record_properties(record, self.schema, self.mask)
        extracted = datetime.now(UTC)
        writer = self._tap.message_writer
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is None:
                continue
            if isinstance(writer, XeroMessageWriter):
                writer.write_record(
                    stream_map.stream_alias, mapped, self._stream_version, extracted
                )
            else:
                self._tap.write_message(
                    RecordMessage(
                        stream=stream_map.stream_alias,
                        record=mapped,
                        version=self._stream_version,
                        time_extracted=extracted,
                    )
                )
        self.state_manager.is_flushed = False

    def generate_child_contexts(
        self, record: Record, context: Mapping[str, Any] | None
    ) -> Iterable[Mapping[str, Any] | None]:
        """None without child streams (there are none here): the SDK would still copy the
        context and look for children once per record."""
        if not self.child_streams:
            return ()
        return super().generate_child_contexts(record, context)

    @property
    def numbers_pass_through(self) -> bool:
        """Whether records may carry money as its JSON text (``msgspec.Raw``).

        Only when every record goes straight to our RECORD lines: batch files, flattening and
        stream maps other than "as is" / "drop" compute with values and need ``Decimal``.
        """
        if self._numbers_pass_through is None:
            self._numbers_pass_through = (
                isinstance(self._tap.message_writer, XeroMessageWriter)
                and not self.get_batch_config(self.config)
                and all(
                    isinstance(m, DefaultStreamMap) and not m.flattening_enabled
                    for m in self.stream_maps
                )
            )
        return self._numbers_pass_through

    # -- where each partition starts ------------------------------------------------------

    def _start_date(self) -> str | None:
        value = self.config.get("start_date")
        return format_utc(parse_datetime(value)) if value else None

    def partition_start(self, context: Mapping[str, Any]) -> PartitionStart:
        """Bookmark of a partition (the later of STATE and ``start_date`` for timestamps)."""
        # Read-only: the read-ahead plans every partition before the SDK starts its state entry.
        manager = self.state_manager
        state = (
            get_state_if_exists(
                manager.tap_state,
                manager.stream_name,
                state_partition_context=manager.get_state_partition_context(dict(context)),
            )
            or {}
        )
        value = state.get("replication_key_value")
        if state.get("replication_key") not in (None, self.replication_key):
            value = None
        ids: frozenset[str] = frozenset()
        if value is not None and state.get(BOUNDARY_VALUE) == value:
            ids = frozenset(str(i) for i in state.get(BOUNDARY_IDS) or ())
        if self.is_timestamp_replication_key:
            start = self._start_date()
            if value is not None:
                value = format_utc(parse_datetime(value))
            if start is not None and (value is None or value < start):
                return PartitionStart(start, saved=dict(state))
        return PartitionStart(value, ids, dict(state))

    # -- reading by change ----------------------------------------------------------------

    @property
    def refresh_hours(self) -> float:
        """Hours a partition's full read stays fresh (0: read on every run)."""
        return 0.0

    def read(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """:meth:`produce`, unless the partition was read within :attr:`refresh_hours`."""
        hours = self.refresh_hours
        if hours <= 0:
            return self.produce(tenant, start)
        if not refresh_due(start.saved, hours):
            self.logger.info(
                "%s for tenant %s: read within %g hour(s), skipped", self.name, tenant, hours
            )
            return iter(())
        return self._refreshed(tenant, start)

    def _refreshed(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        began = format_utc(datetime.now(UTC))
        yield from self.produce(tenant, start)
        self.settle_after(tenant, {REFRESHED_AT: began})

    def settle_after(self, tenant: str, values: dict[str, Any]) -> None:
        """Put ``values`` in the partition's STATE once its last record has been emitted."""
        self._settle.setdefault(tenant, {}).update(values)

    def hold_bookmark(self, tenant: str) -> None:
        """Keep the partition's replication bookmark where it is during this run's read."""
        self._held.add(tenant)

    # -- reading ---------------------------------------------------------------------------

    def produce(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """Pages of ready-to-emit records of one tenant (runs in a background thread)."""
        raise NotImplementedError

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[Record]:
        """Records of one tenant, in the order Xero returned them."""
        if not context:
            raise RuntimeError(f"stream {self.name} is read per tenant; it needs a partition")
        tenant = str(context[TENANT_KEY])
        if tenant in self.xero_tap.exhausted:
            self.logger.warning(
                "Skipping %s for tenant %s: its daily API limit is used up", self.name, tenant
            )
            return
        # In BATCH mode records reach the output only when their batch file is announced, so a
        # STATE after a page would run ahead of them.
        bookmark_pages = not self.get_batch_config(self.config)
        pages = self.xero_tap.partition_pages(self, tenant)
        try:
            for page in pages:
                yield from page
                if bookmark_pages:
                    # The SDK has emitted the page's records: bookmark here, so a run killed
                    # later resumes after this page.
                    self._write_state_message()
            settled = self._settle.pop(tenant, None)
            if settled:  # every record of the read is out: now the STATE may say so
                self.get_context_state(dict(context)).update(settled)
        except XeroRateLimitExhausted as error:
            self.xero_tap.exhausted[tenant] = error
            self.xero_tap.cancel_reads(tenant)
            self.logger.warning("Stopping %s for tenant %s: %s", self.name, tenant, error.message)
            self._keep_bookmark(context)
        except XeroAuthError as error:
            if isinstance(error, XeroTokenError):
                raise  # the connection itself is refused: nothing else can be read either
            if error.status == 403 and self.optional_api is not None:
                self.logger.warning(
                    "Skipping %s for tenant %s: the organisation does not offer the %s API "
                    "(its region or subscription; Xero answered 403)",
                    self.name,
                    tenant,
                    self.optional_api,
                )
                self._keep_bookmark(context)
                return
            # This stream is not permitted for this tenant (scope, plan, role): read the rest,
            # and fail the run at its end (TapXero.sync_all).
            self.xero_tap.refused.append(error.message)
            self.logger.error("Skipping %s for tenant %s: %s", self.name, tenant, error.message)
            self._keep_bookmark(context)
        finally:
            pages.close()  # a consumer that stops early stops its read

    @property
    def optional_api(self) -> str | None:
        """The title of the API this stream reads when organisations may lack it, else None."""
        return None

    def _keep_bookmark(self, context: Mapping[str, Any]) -> None:
        if not self.is_sorted:
            # An unsorted read that stopped half-way must not move its bookmark.
            self.get_context_state(dict(context)).pop("progress_markers", None)

    def get_json(
        self,
        tenant: str,
        path: str,
        params: dict[str, str],
        if_modified_since: str | None = None,
        priority: float | None = None,
    ) -> dict[str, Any]:
        """GET one JSON object (an Accounting API document) for a tenant."""
        body = self.get_body(tenant, path, params, priority, if_modified_since=if_modified_since)
        if not isinstance(body, dict):
            raise XeroError(f"GET {path} for tenant {tenant}: expected a JSON object")
        return body

    def get_body(
        self,
        tenant: str,
        path: str,
        params: dict[str, str],
        priority: float | None = None,
        *,
        if_modified_since: str | None = None,
    ) -> Any:
        """GET any JSON answer (a list, a settings object...) for a tenant through the shared
        client."""
        with numbers_as_text(self.numbers_pass_through):
            return self.xero_tap.get_body(tenant, path, params, if_modified_since, priority)


class XeroStream(TenantStream):
    """Any row of the resource table."""

    def __init__(self, tap: TapXero, resource: Resource) -> None:
        self.resource = resource
        # Selected without a catalog only when xero-auth's default scopes cover it.
        self.selected_by_default = selected_by_default(resource.scope)
        schema = load_schema(resource.stream)
        super().__init__(tap, resource.stream, schema)
        self._convert_dates = date_converter(schema)
        self._state_context: Mapping[str, Any] | object | None = _NO_CONTEXT
        self._partition_state: dict[str, Any] = {}
        self._incremental = False
        self._treat_as_sorted = False
        self._holding = False
        self._starts: dict[str, PartitionStart] = {}
        # A settings object (no key of its own) is one record per tenant; "A+B" joins fields.
        keys = resource.primary_key.split("+") if resource.primary_key else []
        self.primary_keys = [TENANT_KEY, *keys]
        self.replication_key = resource.replication_key

    @property
    def optional_api(self) -> str | None:
        """The API's title when organisations may lack it (Projects, Fixed Assets)."""
        return self.resource.api.title if self.resource.api.optional else None

    @property
    def is_sorted(self) -> bool:
        """Sorted where Xero returns records in bookmark order (If-Modified-Since rows are
        ordered ascending, Journals by number); resumable after an interruption."""
        row = self.resource
        return row.replication_key is not None and (
            row.modified_since or row.paging is Paging.OFFSET
        )

    @property
    def page_size(self) -> int:
        """Records per page of this stream's collection (see :meth:`page_size_of`)."""
        return self.page_size_of(self.resource)

    def page_size_of(self, row: Resource) -> int:
        """Records per page of ``row`` where Xero takes a page size (at most the API's
        maximum), else Xero's fixed 100."""
        if row.paging is Paging.PAGE:
            return min(int(self.config.get("page_size") or 1000), row.max_page_size)
        return FIXED_PAGE_SIZE

    def _increment_stream_state(
        self, latest_record: Record, *, context: Mapping[str, Any] | None = None
    ) -> None:
        """The SDK's bookmark step, then the IDs emitted at the bookmark's exact value.

        The partition's state entry is looked up once per partition: the SDK would look it up
        per record, scanning every tenant's entry, and this step runs for every record.
        """
        field = self.replication_key
        if context is not self._state_context:
            self._state_context = context  # one context object for all of a partition's records
            self._partition_state = self.get_context_state(dict(context) if context else None)
            self._incremental = self.replication_method == REPLICATION_INCREMENTAL
            if self._incremental and not field:
                raise ValueError(f"stream {self.name} is INCREMENTAL without a replication key")
            self._treat_as_sorted = self.is_sorted and self.state_partitioning_keys is None
            self._holding = context is not None and str(context[TENANT_KEY]) in self._held
        if self._holding:
            return
        state = self._partition_state
        if latest_record and self._incremental and field:
            increment_state(
                state,
                latest_record=latest_record,
                replication_key=field,
                is_sorted=self._treat_as_sorted,
                check_sorted=self.check_sorted,
            )
        if not field or self.resource.paging is Paging.OFFSET:
            return
        value = latest_record.get(field)
        if value is None:
            return
        key = str(latest_record.get(self.resource.primary_key))
        current = state.get(BOUNDARY_VALUE)
        if current == value:
            state.setdefault(BOUNDARY_IDS, []).append(key)
        elif current is None or value > current:
            state[BOUNDARY_VALUE] = value
            state[BOUNDARY_IDS] = [key]

    def _prepare(self, records: list[Record]) -> list[Record]:
        self._convert_dates(records)
        return records

    def _base_params(self) -> dict[str, str]:
        return dict(self.resource.params)

    def _records(self, body: Any) -> list[Record]:
        return self._prepare(_listed(self.resource, body))

    @property
    def is_reference(self) -> bool:
        """Settings-like data: the Accounting API's full-table rows (tax rates, currencies,
        themes, ...) and the rest of its settings scope (accounts, items, users)."""
        row = self.resource
        full_table = row.replication is Replication.FULL_TABLE and row.api is ACCOUNTING
        return full_table or row.scope == "accounting.settings.read"

    @property
    def refresh_hours(self) -> float:
        """``reference_refresh_hours`` for reference data, ``poll_hours`` for other polled
        streams; streams read by webhook events are never skipped."""
        if self.xero_tap.change_feed is not None and self.name in STREAM_CATEGORIES:
            return 0.0
        setting = "reference_refresh_hours" if self.is_reference else "poll_hours"
        return float(self.config.get(setting) or 0)

    @property
    def key_field(self) -> str:
        """The record field holding the Xero ID."""
        return self.resource.primary_key

    def produce(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """Choose the reading plan from the resource row (or the webhook events)."""
        feed = self.xero_tap.change_feed
        if feed is not None and self.name in STREAM_CATEGORIES:
            self._starts[tenant] = start
            return feed.pages(self, tenant, start.saved)
        return self._planned(tenant, start)

    def sweep_pages(self, tenant: str) -> Iterator[list[Record]]:
        """The ordinary read of an event-driven stream, from its bookmark."""
        return self._planned(tenant, self._starts[tenant])

    def pages_by_id(self, tenant: str, ids: list[str]) -> Iterator[list[Record]]:
        """The documents with these IDs: ``IDs=`` lists where the resource row says Xero takes
        them, else a ``where`` of ``Guid`` alternatives, each as long as Xero's URLs take."""
        row = self.resource
        key = row.primary_key
        how = dict(row.write.lookups).get(key, "where") if row.write else "where"
        # Paged GETs return whole documents (line items); no page number returns summaries.
        params = {**self._base_params(), "page": "1"}
        if how.startswith("param:"):
            queries = [{how[6:]: chunk} for chunk in fitting(ids, ",", ID_LIST_CHUNK)]
        else:
            alternatives = [f'{key}==Guid("{i}")' for i in ids]
            queries = [{"where": w} for w in fitting(alternatives, " OR ", len(alternatives))]
        for query in queries:
            yield self._records(self.get_json(tenant, row.path, {**params, **query}))

    def changed_since(self, tenant: str, since: str) -> Iterator[list[Record]]:
        """Every document updated since ``since``: the ordinary If-Modified-Since read."""
        return self._planned(tenant, PartitionStart(since))

    def _planned(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        row = self.resource
        if row.paging is Paging.OFFSET:
            return self._offset_pages(tenant, start)
        if row.modified_since:
            return self._cursor_pages(tenant, start)
        if row.replication_key:
            return self._filtered_scan(tenant, start)
        if row.parent:
            return self._child_pages(tenant)
        return self._full_table(tenant)

    def _cursor_pages(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        row = self.resource
        field, pk = row.replication_key or "", row.primary_key
        last: str | None = start.value
        seen: set[str] = set(start.boundary_ids)
        ims = if_modified_since_header(last) if last else None
        page = 1
        calls_left: float | None = None  # unknown until the first answer: ranks first
        while True:
            params = self._base_params()
            if row.order:
                params["order"] = row.order
            if row.paging is not Paging.NONE:
                params["page"] = str(page)
            if row.paging is Paging.PAGE:
                params[row.page_size_param] = str(self.page_size)
            body = self.get_json(tenant, row.request_path(), params, ims, calls_left)
            calls_left = _calls_left(body)
            records = self._records(body)
            fresh = []
            for record in records:
                value = record.get(field)
                if value is not None and last is not None:
                    if value < last:
                        continue
                    key = str(record.get(pk))
                    if value == last:
                        if key in seen:
                            continue
                        seen.add(key)
                    else:
                        last, seen = value, {key}
                elif value is not None:
                    last, seen = value, {str(record.get(pk))}
                fresh.append(record)
            if fresh:
                yield fresh
            if row.paging is Paging.NONE or len(records) < self.page_size or last is None:
                return
            next_ims = if_modified_since_header(last)
            if next_ims == ims:
                page += 1  # a whole page within one second: move on by position
            else:
                ims, page = next_ims, 1

    def _offset_pages(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        row = self.resource
        offset = int(start.value) if start.value is not None else 0
        # Journals filter If-Modified-Since on CreatedDateUTC: honour start_date on a first run.
        first_start = self._start_date() if start.value is None else None
        ims = if_modified_since_header(first_start) if first_start else None
        while True:
            params = {**self._base_params(), "offset": str(offset)}
            records = self._records(self.get_json(tenant, row.request_path(), params, ims))
            if records:
                yield records
                offset = max(int(r[row.replication_key or "JournalNumber"]) for r in records)
            if len(records) < FIXED_PAGE_SIZE:
                return

    def _filtered_scan(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        row = self.resource
        field, pk = row.replication_key or "", row.primary_key
        last: str | None = start.value
        page = 1
        calls_left: float | None = None
        while True:
            body = self.get_json(
                tenant, row.request_path(), self._page_params(row, page), None, calls_left
            )
            calls_left = _calls_left(body)
            records = self._records(body)
            fresh = [
                r
                for r in records
                if last is None
                or r.get(field) is None
                or r[field] > last
                or (r[field] == last and str(r.get(pk)) not in start.boundary_ids)
            ]
            if fresh:
                yield fresh
            if len(records) < self.page_size:
                return
            page += 1

    def _full_table(self, tenant: str) -> Iterator[list[Record]]:
        row = self.resource
        if row.each is None or row.paging is Paging.NONE:
            yield from self._collection(tenant, row.request_path())
            return
        name, values = row.each
        for value in values:
            yield from self._paged_full_table(tenant, row, row.request_path(), {name: value})

    def _collection(self, tenant: str, path: str) -> Iterator[list[Record]]:
        """Every record of one of this stream's collections: one GET where Xero does not page
        it, else every page."""
        if self.resource.paging is Paging.NONE:
            yield self._records(self.get_body(tenant, path, self._base_params()))
        else:
            yield from self._paged_full_table(tenant, self.resource, path)

    def _page_params(
        self, row: Resource, page: int, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """One page's query of ``row`` (this stream's, or its parent's): the row's own
        parameters, the page and, where the API takes one, the page size."""
        params = {**dict(row.params), **(extra or {}), "page": str(page)}
        if row.paging is Paging.PAGE:
            params[row.page_size_param] = str(self.page_size_of(row))
        return params

    def _paged_full_table(
        self, tenant: str, row: Resource, path: str, extra: Mapping[str, str] | None = None
    ) -> Iterator[list[Record]]:
        """Every page of one collection (this stream's, or a parent's read for its IDs)."""
        page = 1
        calls_left: float | None = None
        while True:
            body = self.get_body(tenant, path, self._page_params(row, page, extra), calls_left)
            calls_left = _calls_left(body)
            records = _listed(row, body)
            yield self._prepare(records) if row is self.resource else records
            if len(records) < self.page_size_of(row):
                return
            page += 1

    def _child_pages(self, tenant: str) -> Iterator[list[Record]]:
        """A child collection, read for each record of its parent's collection in turn."""
        row = self.resource
        assert row.parent is not None
        parent_stream, field = row.parent
        parent = resource_for_stream(parent_stream)
        ids = [
            str(record[field])
            for page in self._paged_full_table(tenant, parent, parent.request_path())
            for record in page
            if record.get(field)
        ]
        for parent_id in ids:
            for page in self._collection(tenant, row.request_path(parent_id)):
                if row.nested:  # records taken from inside the parent: say which
                    for record in page:
                        record.setdefault(field, parent_id)
                if page:
                    yield page


def _listed(row: Resource, body: Any) -> list[Record]:
    """The records of one answer: under the row's envelope key, or the answer itself (a list,
    or a single settings object), and inside each element's ``nested`` list if the row says."""
    if row.envelope:
        body = body.get(row.envelope) if isinstance(body, dict) else None
        body = body if body is not None else []
    records = body if isinstance(body, list) else [body] if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise TypeError(f"{row.path}: the answer holds no list of records")
    if row.nested:
        records = [item for element in records for item in element.get(row.nested) or ()]
    return records


def _calls_left(body: Any) -> float | None:
    """Calls a paged read still needs after this answer (its ``pagination``), if told."""
    pagination = body.get("pagination") if isinstance(body, dict) else None
    if isinstance(pagination, dict):
        count, page = pagination.get("pageCount"), pagination.get("page")
        if isinstance(count, int) and isinstance(page, int):
            return float(max(0, count - page))
    return None


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class ReportStream(TenantStream):
    """TrialBalance, ProfitAndLoss or BalanceSheet, month by month, one record per row."""

    def __init__(self, tap: TapXero, name: str, report: str) -> None:
        self.report = report
        super().__init__(tap, name, load_schema(name))
        self.primary_keys = [TENANT_KEY, "RowKey"]
        self.replication_key = "PeriodStart"

    @property
    def is_sorted(self) -> bool:
        """Months are read in order, so an interrupted run resumes at its last month."""
        return True

    @property
    def refresh_hours(self) -> float:
        """Reports are reference data: ``reference_refresh_hours``."""
        return float(self.config.get("reference_refresh_hours") or 0)

    def _start_date(self) -> str | None:
        value = self.config.get("report_start_date") or self.config.get("start_date")
        return format_utc(parse_datetime(value)) if value else None

    def produce(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """One page per month, from the bookmarked month (re-read: it may have changed)."""
        first = parse_datetime(start.value).date() if start.value else date.today()
        month = first.replace(day=1)
        today = datetime.now(UTC).date()
        while month <= today:
            end = _month_end(month)
            if self.report == "ProfitAndLoss":
                params = {"fromDate": month.isoformat(), "toDate": end.isoformat()}
            else:
                params = {"date": end.isoformat()}
            body = self.get_json(tenant, f"Reports/{self.report}", params)
            yield flatten_report(body, tenant, self.report, month, end)
            month = _next_month(month)


def flatten_report(
    body: dict[str, Any], tenant: str, report: str, month: date, end: date
) -> list[Record]:
    """One record per data row of a report: section title, cells and cells keyed by column."""
    reports = body.get("Reports") or []
    if not reports:
        return []
    document = convert_msdates(reports[0])
    start_iso = format_utc(datetime(month.year, month.month, 1, tzinfo=UTC))
    end_iso = format_utc(datetime(end.year, end.month, end.day, tzinfo=UTC))
    common = {
        TENANT_KEY: tenant,
        "Report": report,
        "PeriodStart": start_iso,
        "PeriodEnd": end_iso,
        "ReportID": document.get("ReportID"),
        "ReportName": document.get("ReportName"),
        "ReportTitles": document.get("ReportTitles"),
        "ReportDate": document.get("ReportDate"),
        "UpdatedDateUTC": document.get("UpdatedDateUTC"),
    }
    columns: list[str] = []
    rows: list[Record] = []

    def add(row: dict[str, Any], section: str | None) -> None:
        cells = row.get("Cells") or []
        account = next(
            (
                attribute.get("Value")
                for cell in cells
                for attribute in cell.get("Attributes") or ()
                if attribute.get("Id") == "account"
            ),
            None,
        )
        number = len(rows) + 1
        rows.append(
            {
                **common,
                "RowKey": f"{report}|{month:%Y-%m}|{number:05d}",
                "RowNumber": number,
                "Section": section,
                "RowType": row.get("RowType"),
                "RowTitle": cells[0].get("Value") if cells else row.get("Title"),
                "AccountID": account,
                "Cells": cells,
                "Values": {
                    name: cell.get("Value") for name, cell in zip(columns, cells, strict=False)
                },
            }
        )

    for row in document.get("Rows") or ():
        kind = row.get("RowType")
        if kind == "Header":
            columns = [
                str(cell.get("Value") or f"Column{index + 1}")
                for index, cell in enumerate(row.get("Cells") or ())
            ]
        elif kind == "Section":
            for inner in row.get("Rows") or ():
                add(inner, row.get("Title"))
        else:
            add(row, None)
    return rows

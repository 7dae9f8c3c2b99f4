"""Streams made from the resource table: one class reads any row, by the plan the row gives
(If-Modified-Since cursor, Journals' offset, a filtered scan, full table, child collections),
one partition per tenant. docs/tap.md (Bookmarks) says what each plan guarantees."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from singer_sdk import Tap
from typing_extensions import override

from xero_api.codec import numbers_as_text
from xero_api.dates import EPOCH, format_utc, if_modified_since_header, parse_datetime
from xero_api.errors import XeroAuthError, XeroError, XeroRateLimitExhausted, XeroTokenError
from xero_api.id_lists import ID_LIST_CHUNK, fitting
from xero_api.paging import (
    PAGE_SIZE,
    is_last_page,
    next_offset,
    offset_query,
    page_query,
    page_size,
)
from xero_api.resources import (
    Content,
    Paging,
    Record,
    Resource,
    Via,
    bookmarked_on_parent,
    lineage,
    resource_for_stream,
    settled_root,
)
from xero_api.schema_files import load_schema
from xero_api.scopes import selected_by_default

from .changes import REFRESHED_AT, STREAM_CATEGORIES, refresh_due, refresh_interval
from .convert import date_converter
from .downloads import Downloader
from .fetch import Key as ReadKey
from .fetch import Page, PageProducer
from .sdk_hooks import BOUNDARY_IDS, BOUNDARY_VALUE, SdkStream
from .session import ReadSession

__all__ = ["RESUME", "TENANT_KEY", "Frontier", "PartitionStart", "TenantStream", "XeroStream"]

TENANT_KEY = "TenantID"
# STATE: the pass in flight of a read by page number, for a run killed half-way to resume it.
RESUME = "resume"
# A pass's change dates are compared with when it began by Xero's clock: the answer's time is
# stamped after its records were read, and by other servers than the change dates.
PASS_CLOCK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class PartitionStart:
    """Where one partition's read begins: the bookmark, the IDs emitted exactly at it, and
    the partition's STATE entry as the run received it."""

    value: Any
    boundary_ids: frozenset[str] = frozenset()
    saved: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)


class Frontier:
    """The latest bookmark value a read has passed and the keys done at exactly it: the STATE a
    read whose bookmark is held moves it to, after a page or at its end."""

    def __init__(self, start: PartitionStart) -> None:
        self.value: Any = start.value
        self.keys: set[str] = set(start.boundary_ids)

    def passed(self, value: Any, key: str) -> None:
        """A record (or document) with bookmark ``value`` and ``key`` is done."""
        if value is None:
            return
        if self.value is None or value > self.value:
            self.value, self.keys = value, {key}
        elif value == self.value:
            self.keys.add(key)

    def state(self, replication_key: str) -> dict[str, Any]:
        """The partition's bookmark entries (what a held read's :class:`Page` puts in STATE)."""
        return {
            "replication_key": replication_key,
            "replication_key_value": self.value,
            BOUNDARY_VALUE: self.value,
            BOUNDARY_IDS: sorted(self.keys),
        }


@dataclass(frozen=True)
class _Asked:
    """A parent a read asks for its children: its change date and ID (the bookmark's value and
    boundary key), whether it is settled (its children no longer change without it), itself."""

    changed: str | None
    key: str
    settled: bool
    record: Record


@dataclass
class _Pass:
    """One pass of a read by page number over what changed since ``since``: when it began by
    Xero's clock (:func:`_began`), the last page whose records are out (0: not begun), and the
    change date the read goes back to once the pass ends (None: the read ends with it)."""

    since: str
    began: str | None = None
    page: int = 0
    back: str | None = None

    def changed_after_it_began(self, value: Any) -> bool:
        """Whether change date ``value`` is after the pass began (when unknown: assume so)."""
        return value is not None and (self.began is None or value >= self.began)

    def go_back(self, value: str, start: PartitionStart) -> None:
        """Once this pass ends, read again from ``value`` (never from before ``start``)."""
        if start.value is not None and value < start.value:
            value = start.value
        if self.back is None or value < self.back:
            self.back = value

    def marker(self) -> dict[str, Any]:
        """The pass as STATE keeps it (:data:`RESUME`)."""
        return {"since": self.since, "began": self.began, "page": self.page, "back": self.back}


class TenantStream(SdkStream):
    """A stream with one partition per tenant, read ahead in the background by the session."""

    def __init__(self, tap: Tap, session: ReadSession, name: str, schema: dict[str, Any]) -> None:
        super().__init__(tap, name, schema)
        self.session = session
        self._settle: dict[ReadKey, dict[str, Any]] = {}  # partition -> STATE due after its read
        self._held: set[str] = set()  # tenants whose bookmark this run's read must not move

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        """One partition per tenant."""
        return [{TENANT_KEY: tenant} for tenant in self.session.tenant_ids]

    def read_key(self, context: Mapping[str, Any]) -> ReadKey:
        """A partition's read-ahead job: (the stream, and the partition's other fields if it
        has any; the tenant)."""
        parts = [self.name, *(str(v) for k, v in context.items() if k != TENANT_KEY)]
        return "/".join(parts), str(context[TENANT_KEY])

    # -- where each partition starts ------------------------------------------------------

    def _start_date(self) -> str | None:
        value = self.config.get("start_date")
        return format_utc(parse_datetime(value)) if value else None

    def partition_start(self, context: Mapping[str, Any]) -> PartitionStart:
        """Bookmark of a partition (the later of STATE and ``start_date`` for timestamps)."""
        state = self.saved_state(context)
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
                return PartitionStart(start, saved=state, context=context)
        return PartitionStart(value, ids, state, context)

    def planned_reads(self) -> list[tuple[ReadKey, PageProducer]]:
        """This stream's partitions as read-ahead jobs, in the order the SDK emits them."""
        return [
            (self.read_key(partition), self._producer(partition))
            for partition in self.partitions or ()
        ]

    def _producer(self, context: Mapping[str, Any]) -> PageProducer:
        start = self.partition_start(context)
        tenant = str(context[TENANT_KEY])
        return lambda: self.read(tenant, start)

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
        self.settle_after(tenant, {REFRESHED_AT: began}, start.context)

    def settle_after(
        self, tenant: str, values: dict[str, Any], context: Mapping[str, Any] | None = None
    ) -> None:
        """Put ``values`` in the partition's STATE once its last record has been emitted
        (the tenant's partition, or ``context``'s where a tenant has several)."""
        key = self.read_key(context or {TENANT_KEY: tenant})
        self._settle.setdefault(key, {}).update(values)

    def hold_bookmark(self, tenant: str) -> None:
        """Keep the partition's replication bookmark where it is during this run's read."""
        self._held.add(tenant)

    @override
    def bookmark_held(self, context: Mapping[str, Any] | None) -> bool:
        """Whether :meth:`hold_bookmark` was called for the partition's tenant."""
        return context is not None and str(context[TENANT_KEY]) in self._held

    # -- reading ---------------------------------------------------------------------------

    def produce(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """Pages of ready-to-emit records of one tenant (runs in a background thread)."""
        raise NotImplementedError

    @override
    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[Record]:
        """Records of one tenant, in the order Xero returned them."""
        if not context:
            raise RuntimeError(f"stream {self.name} is read per tenant; it needs a partition")
        tenant = str(context[TENANT_KEY])
        if tenant in self.session.exhausted:
            self.logger.warning(
                "Skipping %s for tenant %s: its daily API limit is used up", self.name, tenant
            )
            return
        # In BATCH mode records reach the output only when their batch file is announced, so a
        # STATE after a page would run ahead of them.
        bookmark_pages = not self.get_batch_config(self.config)
        key = self.read_key(context)
        pages = self.session.pages(key, self._producer(context), self.numbers_pass_through)
        due: dict[str, Any] = {}  # what the pages out so far say of STATE, not yet in it
        try:
            for page in pages:
                yield from page
                if isinstance(page, Page):
                    due.update(page.state)
                if bookmark_pages:
                    # The SDK has emitted the page's records: bookmark here, so a run killed
                    # later resumes after this page.
                    if due:
                        self.update_partition_state(context, due)
                        due.clear()
                    self.write_state_now()
            due.update(self._settle.pop(key, {}))
            if due:  # every record of the read is out: now the STATE may say so
                self.update_partition_state(context, due)
        except XeroRateLimitExhausted as error:
            self.session.stop_tenant(tenant, error)
            self.logger.warning("Stopping %s for tenant %s: %s", self.name, tenant, error.message)
            self._keep_bookmark(context)
        except XeroAuthError as error:
            self._refused(context, tenant, error)
        finally:
            pages.close()  # a consumer that stops early stops its read

    def _refused(self, context: Mapping[str, Any], tenant: str, error: XeroAuthError) -> None:
        if isinstance(error, XeroTokenError):
            raise error  # the connection itself is refused: nothing else can be read either
        if error.status == 403 and self.optional_api is not None:
            self.logger.warning(
                "Skipping %s for tenant %s: the organisation does not offer the %s API "
                "(its region or subscription; Xero answered 403)",
                self.name,
                tenant,
                self.optional_api,
            )
        else:
            # This stream is not permitted for this tenant (scope, plan, role): read the rest,
            # and fail the run at its end.
            self.session.refuse(error.message)
            self.logger.error("Skipping %s for tenant %s: %s", self.name, tenant, error.message)
        self._keep_bookmark(context)

    @property
    def optional_api(self) -> str | None:
        """The title of the API this stream reads when organisations may lack it, else None."""
        return None

    def _keep_bookmark(self, context: Mapping[str, Any]) -> None:
        if not self.is_sorted:
            # An unsorted read that stopped half-way must not move its bookmark.
            self.discard_progress(context)

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
        """GET any JSON answer (a list, a settings object...) for a tenant; money stays JSON
        text where :attr:`numbers_pass_through` allows."""
        with numbers_as_text(self.numbers_pass_through):
            return self.session.get(
                tenant, path, params, if_modified_since=if_modified_since, priority=priority
            )


class XeroStream(TenantStream):
    """Any row of the resource table."""

    def __init__(self, tap: Tap, session: ReadSession, resource: Resource) -> None:
        self.resource = resource
        # Selected without a catalog only when xero-auth's default scopes cover it.
        self.selected_by_default = selected_by_default(resource.scope)
        schema = load_schema(resource.stream)
        super().__init__(tap, session, resource.stream, schema)
        self._convert_dates = date_converter(schema)
        self._starts: dict[str, PartitionStart] = {}
        # A settings object (no key of its own) is one record per tenant.
        keys = resource.key.fields if resource.key else ()
        self.primary_keys = [TENANT_KEY, *keys]
        self.replication_key = resource.read.replication_key
        # Files' content is downloaded when ``<stream>_path`` (files_path) says where to.
        setting = f"{resource.stream}_path"
        self.downloads = (
            Downloader(session, self.config, setting)
            if resource.read.content and self.config.get(setting)
            else None
        )
        if resource.read.replication_key and resource.read.paging is not Paging.OFFSET:
            self.boundary_key = resource.id_field

    @property
    @override
    def optional_api(self) -> str | None:
        """The API's title when organisations may lack it (Projects, Fixed Assets)."""
        return self.resource.api.title if self.resource.api.optional else None

    @property
    @override
    def is_sorted(self) -> bool:
        """Sorted where Xero returns records in bookmark order (If-Modified-Since rows are
        ordered ascending, Journals by number); resumable after an interruption."""
        row = self.resource
        return row.read.replication_key is not None and (
            row.read.modified_since or row.read.paging is Paging.OFFSET
        )

    @property
    def page_size(self) -> int:
        """Records per page of this stream's collection (see :meth:`page_size_of`)."""
        return self.page_size_of(self.resource)

    def page_size_of(self, row: Resource) -> int:
        """Records per page of ``row`` where Xero takes a page size (at most the API's
        maximum), else Xero's fixed 100."""
        return page_size(row.read, int(self.config.get("page_size") or PAGE_SIZE))

    def _prepare(self, records: list[Record]) -> list[Record]:
        self._convert_dates(records)
        return records

    def _base_params(self) -> dict[str, str]:
        return dict(self.resource.read.params)

    def _records(self, body: Any) -> list[Record]:
        return self._prepare(_listed(self.resource, body))

    @property
    @override
    def refresh_hours(self) -> float:
        """``reference_refresh_hours`` for reference data, ``poll_hours`` for other polled
        streams; streams read by webhook events are never skipped."""
        if self.session.change_feed is not None and self.name in STREAM_CATEGORIES:
            return 0.0
        setting = "reference_refresh_hours" if self.resource.reference_data else "poll_hours"
        return refresh_interval(self.config, setting)

    @property
    def key_field(self) -> str:
        """The record field holding the Xero ID."""
        return self.resource.id_field

    @override
    def produce(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """Choose the reading plan from the resource row (or the webhook events)."""
        api = self.resource.api
        if api.regional and self.session.region(tenant) not in api.regions:
            self.logger.warning(
                "Skipping %s for tenant %s: the organisation's region is %s; the %s API serves %s",
                self.name,
                tenant,
                self.session.region(tenant) or "unknown",
                api.title,
                ", ".join(api.regions),
            )
            return iter(())
        feed = self.session.change_feed
        if feed is not None and self.name in STREAM_CATEGORIES:
            self._starts[tenant] = start
            return feed.pages(self, tenant, start.saved)
        return self.planned_pages(tenant, start)

    def sweep_pages(self, tenant: str) -> Iterator[list[Record]]:
        """The ordinary read of an event-driven stream, from its bookmark."""
        return self.planned_pages(tenant, self._starts[tenant])

    def pages_by_id(self, tenant: str, ids: list[str]) -> Iterator[list[Record]]:
        """The documents with these IDs: ``IDs=`` lists where the resource row says Xero takes
        them, else a ``where`` of ``Guid`` alternatives, each as long as Xero's URLs take."""
        row = self.resource
        key = row.id_field
        lookup = row.write.lookup(key) if row.write else None
        # Paged GETs return whole documents (line items); no page number returns summaries.
        params = {**self._base_params(), "page": "1"}
        if lookup is not None and lookup.via is Via.ID_LIST:
            queries = [{lookup.param: chunk} for chunk in fitting(ids, ",", ID_LIST_CHUNK)]
        else:
            alternatives = [f'{key}==Guid("{i}")' for i in ids]
            queries = [{"where": w} for w in fitting(alternatives, " OR ", len(alternatives))]
        for query in queries:
            yield self._records(self.get_json(tenant, row.path, {**params, **query}))

    def changed_since(self, tenant: str, since: str) -> Iterator[list[Record]]:
        """Every document updated since ``since``: the ordinary If-Modified-Since read."""
        return self.planned_pages(tenant, PartitionStart(since))

    def planned_pages(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """The read the resource row plans, from ``start`` (never by webhook events), each
        record's content downloaded where the row has content and its setting is set."""
        pages = self._plan_pages(tenant, start)
        content = self.resource.read.content
        if self.downloads is None or content is None:
            return pages
        return self._with_content(tenant, pages, self.downloads, content)

    def _with_content(
        self, tenant: str, pages: Iterator[list[Record]], downloads: Downloader, content: Content
    ) -> Iterator[list[Record]]:
        """Each record's content saved (a file of the Files API), its SHA-256 and path added."""
        api = self.resource.api.base_path
        for page in pages:
            for record in page:
                name = str(record.get(content.name_field) or "file")
                record["Path"], record["SHA256"] = downloads.fetch(
                    tenant,
                    f"{api}/{content.path.format_map(record)}",
                    int(record.get(content.size_field) or 0),
                    (str(record[self.key_field]), name),
                    f"{self.resource.noun} {record[self.key_field]} ({name})",
                )
            yield page

    def _plan_pages(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        row = self.resource
        if row.read.paging is Paging.OFFSET:
            return self._offset_pages(tenant, start)
        if row.read.by_page_number:
            return self._numbered_pages(tenant, start)
        if row.read.modified_since:
            return self._cursor_pages(tenant, start)
        if row.read.parent and row.read.replication_key:
            if settled_root(row) is not None:
                return self._bookmarked_children(tenant, start)
            if bookmarked_on_parent(row):
                return self._children_of_changed(tenant, start)
            return self._changed_children(tenant, start)  # a change date of its own
        if row.read.replication_key:
            return self._filtered_scan(tenant, start)
        if row.read.parent:
            return self._child_pages(tenant)
        return self._collection(tenant, row.request_path())

    def _cursor_pages(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        row = self.resource
        field, pk = row.read.replication_key or "", row.id_field
        last: str | None = start.value
        seen: set[str] = set(start.boundary_ids)
        ims = if_modified_since_header(last) if last else None
        page = 1
        calls_left: float | None = None  # unknown until the first answer: ranks first
        while True:
            records, body = self._changes_page(tenant, page, ims, calls_left)
            calls_left = _calls_left(body)
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
            if is_last_page(row.read, len(records), self.page_size) or last is None:
                return
            next_ims = if_modified_since_header(last)
            if next_ims == ims:
                page += 1  # a whole page within one second: move on by position
            else:
                ims, page = next_ims, 1

    def _changes_page(
        self, tenant: str, page: int, ims: str | None, calls_left: float | None
    ) -> tuple[list[Record], dict[str, Any]]:
        """One page, in the row's order, of what changed since ``ims``; with its answer."""
        row = self.resource
        params = self._base_params()
        if row.read.order:
            params["order"] = row.read.order
        params.update(page_query(row.read, page, self.page_size))
        body = self.get_json(tenant, row.request_path(), params, ims, calls_left)
        return self._records(body), body

    def _numbered_pages(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """Every record changed since ``start``: one If-Modified-Since, pages by number, so
        records sharing a second cost no re-read. The bookmark is held where it was until the
        last page is out, then moves to the latest record read.

        A record changed during the read moves to the end and shifts later records back a
        place, so one may slide onto a page already read; the moved record comes again with a
        later change date, and then, once the pass ends, the read goes back to its old date
        and reads on from there, emitting only what it has not. Each page tells STATE where its
        pass is (:data:`RESUME`): a run killed half-way is resumed at the next page, and goes
        back over the whole pass if a record it reads changed after the pass began (it cannot
        know whether that record was on a page read before the kill)."""
        row = self.resource
        field, pk = row.read.replication_key or "", row.id_field
        self.hold_bookmark(tenant)
        frontier = Frontier(start)
        seen: dict[str, Any] = {}  # ID -> the change date this run read it at
        current = _resumed_pass(start) or _Pass(
            start.value if start.value is not None else format_utc(EPOCH)
        )
        inherited = current.page > 0  # an earlier run read the pass's first pages
        calls_left: float | None = None
        while True:
            page = current.page + 1
            ims = if_modified_since_header(current.since)
            records, body = self._changes_page(tenant, page, ims, calls_left)
            calls_left = _calls_left(body)
            if page == 1:
                current.began = _began(body)
            fresh = []
            for record in records:
                value, key = record.get(field), str(record.get(pk))
                if inherited and current.changed_after_it_began(value):
                    current.go_back(current.since, start)
                if key in seen:
                    before = seen[key]
                    if before == value:
                        continue  # read again after a shift: already out
                    if before is not None:
                        current.go_back(before, start)
                seen[key] = value
                if _changed_since(start, value, key) and not _before(value, current.since):
                    frontier.passed(value, key)
                    fresh.append(record)
            current.page = page
            if is_last_page(row.read, len(records), self.page_size):
                if current.back is None:  # the read is whole: the bookmark may move
                    settled = frontier.state(field) if frontier.value is not None else {}
                    yield Page(fresh, {**settled, RESUME: None})
                    return
                current, inherited, calls_left = _Pass(current.back), False, None
            yield Page(fresh, {RESUME: current.marker()})

    def _offset_pages(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        row = self.resource
        offset = int(start.value) if start.value is not None else 0
        # Journals filter If-Modified-Since on CreatedDateUTC: honour start_date on a first run.
        first_start = self._start_date() if start.value is None else None
        ims = if_modified_since_header(first_start) if first_start else None
        while True:
            params = {**self._base_params(), **offset_query(offset)}
            records = self._records(self.get_json(tenant, row.request_path(), params, ims))
            if records:
                yield records
                offset = next_offset(records, row.read.offset_field)
            if is_last_page(row.read, len(records), page_size(row.read)):
                return

    def _filtered_scan(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        row = self.resource
        field, pk = row.read.replication_key or "", row.id_field
        page = 1
        calls_left: float | None = None
        while True:
            body = self.get_json(
                tenant, row.request_path(), self._page_params(row, page), None, calls_left
            )
            calls_left = _calls_left(body)
            records = self._records(body)
            fresh = [r for r in records if _changed_since(start, r.get(field), str(r.get(pk)))]
            if fresh:
                yield fresh
            if is_last_page(row.read, len(records), self.page_size):
                return
            page += 1

    def _collection(
        self,
        tenant: str,
        path: str,
        row: Resource | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Iterator[list[Record]]:
        """Every record of one collection of this stream's (or of ``row``, an ancestor's):
        every page (one GET where Xero does not page it), once per value of the parameter the
        row reads ``each`` of, each record carrying the value where Xero leaves it out;
        ``extra`` joins the row's query (a parent's dates)."""
        row = row or self.resource
        each = row.read.each
        if each is None:
            yield from self._paged_full_table(tenant, row, path, extra)
            return
        for value in each.values:
            query = {**(extra or {}), each.param: value}
            for page in self._paged_full_table(tenant, row, path, query):
                for record in page:
                    if each.field and record.get(each.field) is None:
                        record[each.field] = value
                yield page

    def _page_params(
        self, row: Resource, page: int, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """One page's query of ``row`` (this stream's, or its parent's): the row's own
        parameters, the page and, where the API takes one, the page size."""
        return {
            **dict(row.read.params),
            **(extra or {}),
            **page_query(row.read, page, self.page_size_of(row)),
        }

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
            if is_last_page(row.read, len(records), self.page_size_of(row)):
                return
            page += 1

    def _child_pages(self, tenant: str, row: Resource | None = None) -> Iterator[list[Record]]:
        """A child collection (this stream's, or ``row``, an ancestor's), read for each record
        of its parent's collection in turn; a parent that is a child itself is read the same
        way (a payslip's details: the pay runs, each one's payslips, then each payslip)."""
        row = row or self.resource
        link = row.read.parent
        assert link is not None
        pages = self._parent_pages(tenant, resource_for_stream(link.stream))
        parents = [r for page in pages for r in page if link.has_children(r)]
        for parent in parents:
            yield from self._under(tenant, row, parent)

    def _parent_pages(self, tenant: str, parent: Resource) -> Iterator[list[Record]]:
        """Every record of a parent's collection, read per its own parent where it has one."""
        if parent.read.parent:
            return self._child_pages(tenant, parent)
        return self._collection(tenant, parent.request_path(), parent)

    def _under(self, tenant: str, row: Resource, parent: Record) -> Iterator[list[Record]]:
        """The pages of ``row``'s collection under one parent record (its query parameters
        taken from the parent where the link says), each record carrying the parent's ID and
        the fields the link carries, where Xero leaves them out."""
        link = row.read.parent
        assert link is not None
        path = row.child_path(parent)
        for page in self._collection(tenant, path, row, link.query(parent)):
            for record in page:
                link.carry(parent, record)
            if page:
                yield page

    def _bookmarked_children(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """A child collection bookmarked on its root ancestor (a pay run's payslips, and their
        details): every root record is listed, and only those changed since the bookmark, or
        not settled yet (a draft pay run), are asked for their children (and theirs), each
        carrying the root's ID and change date (:meth:`_asked_oldest_first`)."""
        row = self.resource
        chain = [row, *lineage(row)]  # this row, its parent, ..., the root
        root = chain[-1]
        settled = settled_root(row)
        assert settled is not None
        asked: list[_Asked] = []
        for roots in self._paged_full_table(tenant, root, root.request_path()):
            for record in roots:
                root_id, changed = str(record[root.id_field]), record.get(settled.changed)
                changed = format_utc(parse_datetime(changed)) if changed else None
                final = record.get(settled.field) in settled.values
                if not final or _changed_since(start, changed, root_id):
                    asked.append(_Asked(changed, root_id, final, record))

        def descendants(record: Record) -> list[Record]:
            level = [record]
            for child_row in reversed(chain[:-1]):  # from the root's children down
                level = self._children_of(tenant, child_row, level)
            for child in level:
                child.setdefault(root.id_field, str(record[root.id_field]))
            return level

        yield from self._asked_oldest_first(tenant, start, asked, descendants)

    def _changed_children(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """A child collection with a change date of its own: every parent's, those changed
        since ``start`` kept (an employee's leave)."""
        field, pk = self.resource.read.replication_key or "", self.key_field
        for page in self._child_pages(tenant):
            fresh = [r for r in page if _changed_since(start, r.get(field), str(r.get(pk)))]
            if fresh:
                yield fresh

    def _children_of_changed(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """A child collection bookmarked on its parent's own change date, which each child
        carries (a leave's periods): every parent is listed, and only those changed since the
        bookmark are asked for their children (:meth:`_asked_oldest_first`)."""
        row = self.resource
        link = row.read.parent
        assert link is not None
        parent_row = resource_for_stream(link.stream)
        field = row.read.replication_key or ""
        asked: list[_Asked] = []
        for parents in self._parent_pages(tenant, parent_row):
            for parent in parents:
                parent_id, changed = str(parent.get(parent_row.id_field)), parent.get(field)
                changed = format_utc(parse_datetime(changed)) if changed else None
                if link.has_children(parent) and _changed_since(start, changed, parent_id):
                    asked.append(_Asked(changed, parent_id, True, parent))
        yield from self._asked_oldest_first(
            tenant, start, asked, lambda parent: self._children_of(tenant, row, [parent])
        )

    def _asked_oldest_first(
        self,
        tenant: str,
        start: PartitionStart,
        asked: list[_Asked],
        children: Callable[[Record], list[Record]],
    ) -> Iterator[list[Record]]:
        """The ``children`` of each parent ``asked``, oldest change first, a page each, every
        child carrying its parent's change date. Xero lists the parents in any order, so the
        bookmark is held, and each page moves it past its parent where that parent is settled:
        a run killed half-way asks only the parents it had not done (and those not settled)."""
        field = self.resource.read.replication_key or ""
        self.hold_bookmark(tenant)
        frontier = Frontier(start)
        for parent in sorted(asked, key=lambda a: (a.changed or "", a.key)):
            found = children(parent.record)
            for child in found:
                child[field] = parent.changed
            if parent.settled:
                frontier.passed(parent.changed, parent.key)
            yield Page(found, frontier.state(field) if frontier.value is not None else {})

    def _children_of(self, tenant: str, row: Resource, parents: list[Record]) -> list[Record]:
        """Every record of ``row``'s collection under each of ``parents``, carrying its ID."""
        assert row.read.parent is not None
        link = row.read.parent
        return [
            record
            for parent in parents
            if link.has_children(parent)
            for page in self._under(tenant, row, parent)
            for record in page
        ]


def _changed_since(start: PartitionStart, value: Any, key: str) -> bool:
    """Whether a record with bookmark ``value`` and ``key`` is new to a read from ``start``."""
    if start.value is None or value is None:
        return True
    return value > start.value or (value == start.value and key not in start.boundary_ids)


def _listed(row: Resource, body: Any) -> list[Record]:
    """The records of one answer (:meth:`Resource.records_in`)."""
    return row.records_in(body)


def _calls_left(body: Any) -> float | None:
    """Calls a paged read still needs after this answer (its ``pagination``), if told."""
    pagination = body.get("pagination") if isinstance(body, dict) else None
    if isinstance(pagination, dict):
        count, page = pagination.get("pageCount"), pagination.get("page")
        if isinstance(count, int) and isinstance(page, int):
            return float(max(0, count - page))
    return None


def _resumed_pass(start: PartitionStart) -> _Pass | None:
    """The pass a killed run left in the partition's STATE, if this read can continue it (it
    begins at or after the read's start); None otherwise, and the read begins anew."""
    saved = start.saved.get(RESUME)
    if not isinstance(saved, Mapping):
        return None
    page = saved.get("page")
    try:
        since, began, back = (_utc(saved.get(name)) for name in ("since", "began", "back"))
    except ValueError:
        return None
    if not isinstance(page, int) or page < 0 or since is None:
        return None
    if start.value is not None and since < start.value:
        return None
    return _Pass(since, began, page, back)


def _utc(value: Any) -> str | None:
    """A date of STATE in the bookmarks' form; None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    return format_utc(parse_datetime(value))


def _began(body: Mapping[str, Any]) -> str | None:
    """When a pass began by Xero's clock, less :data:`PASS_CLOCK_MARGIN`: its first answer's
    ``DateTimeUTC`` (None where the answer has none)."""
    stamp = body.get("DateTimeUTC")
    if not isinstance(stamp, str):
        return None
    try:
        return format_utc(parse_datetime(stamp) - PASS_CLOCK_MARGIN)
    except ValueError:
        return None


def _before(value: Any, since: str) -> bool:
    """Whether change date ``value`` is before ``since``."""
    return value is not None and value < since

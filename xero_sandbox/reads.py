"""The Accounting API's read side: every GET collection and single record, driven by ``catalog``.

A page without ``where``/``order``/record-level filters is served straight from SQLite: the
stored wire JSON texts of the page are joined into the envelope with no decoding. Anything
that must look inside records (``where``, ``order``, ContactIDs, searchTerm, summaries) decodes
the candidate rows, filters and sorts them in Python, and encodes the page: at most the
high-volume threshold's rows, and a bounded amount of where/order work (else Xero's 400
HighVolumeException). Collection GETs run in a worker thread on its own read-only connection,
so a long scan never holds up the event loop.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.catalog import Filter, Paging, Record, ResourceSpec, spec_for
from xero_sandbox.context import SandboxContext
from xero_sandbox.reports import report_response
from xero_sandbox.store import NAME_FIELDS, decode, encode, ms_of, unit_2dp
from xero_sandbox.where import (
    QueryError,
    canonical_guid,
    order_key,
    parse_order,
    parse_where,
    required_equalities,
)

__all__ = [
    "API",
    "envelope",
    "error_response",
    "not_found",
    "parse_if_modified_since",
    "routes",
    "serve_collection",
    "served",
    "tenant_of",
]

API = "/api.xro/2.0"
PROVIDER = "Xero Sandbox"
MAX_PAGE_SIZE = 1000
# A where/order may scan the high-volume threshold's records (Xero's 100,000;
# ``--high-volume-threshold``), and evaluate this many times as many where conditions and order
# fields in all.
WHERE_WORK_PER_ROW = 100
DEFAULT_PAGE_SIZE = 100
JSON = "application/json; charset=utf-8"

RecordTest = Callable[[Record], bool]

# Un-paged multi-record GETs of these return summaries without LineItems, as at Xero.
_UNPAGED_SUMMARY = {"Invoices": ("LineItems",), "CreditNotes": ("LineItems",)}
_PAYMENT_SOURCES = ("ACCRECPAYMENT", "ACCPAYPAYMENT", "ARCREDITPAYMENT", "APCREDITPAYMENT")


def envelope(collection: str, items: bytes, pagination: dict[str, int] | None = None) -> Response:
    """Xero's success envelope around already-encoded items (``b"[...]"`` contents)."""
    correlation = str(uuid.uuid4())
    now = datetime.now(UTC)
    head = (
        f'{{"Id":"{correlation}","Status":"OK","ProviderName":"{PROVIDER}",'
        f'"DateTimeUTC":"/Date({int(now.timestamp() * 1000)})/"'
    ).encode()
    if pagination is not None:
        head += b',"pagination":' + encode(pagination)
    body = head + b',"' + collection.encode() + b'":[' + items + b"]}"
    return Response(body, media_type=JSON, headers={"Xero-Correlation-Id": correlation})


def error_response(status: int, body: Record) -> Response:
    """A JSON error answer."""
    return Response(encode(body), status_code=status, media_type=JSON)


class HighVolume(Exception):
    """A where/order that would scan more records than the high-volume guard allows."""

    def __init__(self, collection: str) -> None:
        super().__init__(collection)
        self.collection = collection


def high_volume_error(collection: str) -> Response:
    """400 HighVolumeException (ErrorNumber 51), as Xero refuses an inefficient filter."""
    return error_response(
        400,
        {
            "ErrorNumber": 51,
            "Type": "HighVolumeException",
            "Message": f"Your request is not filtering {collection.lower()} efficiently, given "
            "the extremely high volume for this organisation. Please check the documentation "
            "on efficient data retrieval.",
        },
    )


def query_error(message: str) -> Response:
    """400 QueryParseException, as Xero answers a bad where/order."""
    return error_response(
        400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}
    )


def not_found(detail: str = "The resource you're looking for cannot be found") -> Response:
    """404 in the problem shape Xero uses for its other 4xx answers."""
    return error_response(
        404,
        {
            "Type": None,
            "Title": "NotFound",
            "Status": 404,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
    )


def _forbidden() -> Response:
    return error_response(
        403,
        {
            "Type": None,
            "Title": "Forbidden",
            "Status": 403,
            "Detail": "AuthenticationUnsuccessful",
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
    )


def tenant_of(request: Request) -> str | None:
    """The tenant the gate resolved for this call (None when there is none)."""
    state = request.scope.get("state") or {}
    tenant = state.get("tenant_id")
    return str(tenant) if tenant else None


def parse_if_modified_since(value: str | None) -> int | None:
    """Epoch ms (whole seconds, UTC) of an If-Modified-Since value, or None if absent/invalid.

    Accepts ``yyyy-mm-ddThh:mm:ss`` with optional fraction and offset (no offset = UTC), and
    RFC 7231 HTTP-dates. Xero compares to the second, so the fraction is dropped.
    """
    if not value:
        return None
    text = value.strip().strip('"')  # pyxero quotes a date it was given as text
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1000


def _params(request: Request) -> dict[str, str]:
    return {key.lower(): value for key, value in request.query_params.multi_items()}


# Xero's page/offset parameters are 32-bit integers; larger values are clamped (a page beyond
# the data is empty either way) so they never overflow SQLite's 64-bit arithmetic.
_INT_MAX = 2**31 - 1


def _int(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return max(-_INT_MAX, min(_INT_MAX, number))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _day_ms(text: str) -> int | None:
    try:
        day = datetime.fromisoformat(text.strip()[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(day.timestamp()) * 1000


def _field_value(record: Record, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _record_test(spec: ResourceSpec, flt: Filter, raw: str) -> RecordTest | None:
    """A Python test for a filter that SQL columns cannot answer (None: ignore the filter)."""
    if flt.kind == "search":
        needle = raw.lower()
        fields = flt.field.split(",")
        return lambda r: any(needle in str(r.get(f) or "").lower() for f in fields)
    if flt.kind in ("date_from", "date_to"):
        bound = _day_ms(raw)
        if bound is None:
            return None
        upper = flt.kind == "date_to"

        def in_range(record: Record) -> bool:
            ms = ms_of(_field_value(record, flt.field))
            if ms is None:
                return False
            return ms <= bound if upper else ms >= bound

        return in_range
    if flt.kind in ("budget_from", "budget_to"):
        return None  # budgets carry their periods inside; Xero narrows the periods, not rows
    field = flt.field or spec.key
    values = _split(raw) if flt.kind == "list" else [raw.strip()]
    if field.endswith("ID"):
        values = [canonical_guid(v) or v for v in values]
    wanted = {v.lower() for v in values}
    return lambda r: str(_field_value(r, field) or "").lower() in wanted


class _Query:
    """One collection GET, parsed."""

    def __init__(self, ctx: SandboxContext, spec: ResourceSpec, request: Request, tenant: str):
        self.ctx, self.spec, self.tenant = ctx, spec, tenant
        self.conn = ctx.store.reader()  # this thread's read connection
        q = _params(request)
        self.q = q
        self.unitdp4 = spec.unitdp and q.get("unitdp") == "4"
        self.ims = (
            parse_if_modified_since(request.headers.get("if-modified-since"))
            if spec.ims_field
            else None
        )
        self.where = parse_where(q["where"]) if spec.where and q.get("where") else None
        self.sql_where: list[str] = []
        self.selective = False  # an ID, number or name condition picks a few rows by index
        self.sql_args: list[Any] = []
        if self.where is not None:
            self._narrow(required_equalities(q["where"]))
        self.order = parse_order(q["order"]) if spec.order and q.get("order") else None
        if self.order is not None and self._order_is_ims_asc(spec):
            # SQL already returns rows by (ims_ms, id), which is what a stable sort on the
            # If-Modified-Since field gives: skip decoding and sorting every row per page.
            self.order = None
        reveal = spec.reveal_param and q.get(spec.reveal_param.lower(), "").lower() == "true"
        self.hidden = None if reveal else spec.hidden_status
        self.summary = q.get("summaryonly", "").lower() == "true" and spec.name in (
            "Contacts",
            "Invoices",
        )
        self.tests: list[RecordTest] = []
        self._add_filters(q)
        self.drop: tuple[str, ...] = ()
        self.page: int | None = None
        self.page_size = DEFAULT_PAGE_SIZE
        self._choose_page(q)

    def _add_filters(self, q: dict[str, str]) -> None:
        """The query's filters, as SQL conditions where a column serves, else record tests."""
        spec = self.spec
        for flt in spec.filters:
            raw = q.get(flt.param.lower())
            if raw is None or raw == "":
                continue
            self._add_filter(flt, raw)
        if spec.name == "Journals" and q.get("paymentsonly", "").lower() == "true":
            self.tests.append(lambda r: r.get("SourceType") in _PAYMENT_SOURCES)
        if self.where is not None:
            self.tests.append(self.where)

    def _choose_page(self, q: dict[str, str]) -> None:
        """The page and page size asked for, and the fields an unpaged or summary read drops."""
        spec = self.spec
        if spec.paged:
            asks_paging = "page" in q or ("pagesize" in q and spec.paging is Paging.PAGE)
            if asks_paging or self.summary:
                self.page = max(1, _int(q.get("page"), 1))
                if spec.paging is Paging.PAGE:
                    self.page_size = min(
                        MAX_PAGE_SIZE, max(1, _int(q.get("pagesize"), DEFAULT_PAGE_SIZE))
                    )
            else:
                self.drop = _UNPAGED_SUMMARY.get(spec.name, ())
        if self.summary:
            self.drop = spec.summary_drop

    def _narrow(self, equalities: list[tuple[str, list[str]]]) -> None:
        """Use indexed columns for ``Field == "text"`` terms of the where (a pre-filter only)."""
        spec = self.spec
        name_field = NAME_FIELDS.get(spec.name)
        for path, values in equalities:
            field = path.lower()
            if field == spec.key.lower():
                column, wanted = "id", {v for x in values for v in (x, x.lower())}
            elif spec.number_field and field == spec.number_field.lower():
                column, wanted = "number", {v for x in values for v in (x, x.upper(), x.lower())}
            elif spec.status_field and field == spec.status_field.lower():
                column, wanted = "status", {x.upper() for x in values}
            elif name_field and field == name_field.lower():
                column, wanted = "name", {x.lower() for x in values}
            else:
                continue
            self.selective = self.selective or column != "status"
            self.sql_where.append(f"{column} IN ({','.join('?' * len(wanted))})")
            self.sql_args += sorted(wanted)

    def _add_filter(self, flt: Filter, raw: str) -> None:
        values = _split(raw) if flt.kind == "list" else [raw.strip()]
        column = None
        if flt.field in ("", self.spec.key) and flt.kind in ("list", "eq"):
            column, values = "id", [(canonical_guid(v) or v).lower() for v in values]
        elif flt.field == self.spec.status_field and flt.kind in ("list", "eq"):
            column, values = "status", [v.upper() for v in values]
        elif flt.field == self.spec.number_field and flt.kind in ("list", "eq"):
            column = "number"
        if column is not None and values:
            self.selective = self.selective or column != "status"
            self.sql_where.append(f"{column} IN ({','.join('?' * len(values))})")
            self.sql_args.extend(values)
            return
        test = _record_test(self.spec, flt, raw)
        if test is not None:
            self.tests.append(test)

    # ----------------------------------------------------------------- SQL
    def _from(self) -> tuple[str, list[Any]]:
        sql = " FROM records WHERE t = ? AND resource = ?"
        args: list[Any] = [self.ctx.store.tenant_key(self.tenant), self.spec.name]
        if self.ims is not None:
            sql += " AND ims_ms >= ?"
            args.append(self.ims)
        if self.hidden is not None:
            sql += " AND (status IS NULL OR status != ?)"
            args.append(self.hidden)
        for clause in self.sql_where:
            sql += " AND " + clause
        args.extend(self.sql_args)
        return sql, args

    def _order_is_ims_asc(self, spec: ResourceSpec) -> bool:
        """True when ``order`` is just the If-Modified-Since field, ascending."""
        if self.order is None or len(self.order) != 1 or spec.paging is Paging.OFFSET:
            return False
        field, descending = self.order[0]
        ims = spec.ims_field
        return (
            not descending
            and ims is not None
            and tuple(p.lower() for p in field.path) == (ims.lower(),)
        )

    def _order_sql(self) -> str:
        if self.spec.paging is Paging.OFFSET:
            return " ORDER BY num"
        # With a selective condition, "+" keeps SQLite from walking the whole ordering index
        # when the ID/number/name index finds the few rows at once.
        plus = "+" if self.selective else ""
        if self.spec.ims_field:
            return f" ORDER BY {plus}ims_ms, id"
        return f" ORDER BY {plus}rowid"

    @property
    def _column(self) -> str:
        return "body" if self.unitdp4 or not self.spec.unitdp else "coalesce(body2, body)"

    @property
    def _fast(self) -> bool:
        return not self.tests and self.order is None and not self.drop

    def run(self) -> tuple[Response, int]:
        """The response and the number of records in it."""
        spec, conn = self.spec, self.conn
        sql, args = self._from()
        if spec.paging is Paging.OFFSET:
            sql += " AND num > ?"
            args.append(max(0, _int(self.q.get("offset"), 0)))
        select = f"SELECT {self._column}{sql}{self._order_sql()}"
        pagination: dict[str, int] | None = None
        if self._fast:
            texts = self._page_texts(sql, args)
            if spec.paging is Paging.PAGE and self.page is not None:
                total = self._count(sql, args)
                pagination = self._pagination(total)
            return envelope(spec.envelope, b",".join(texts), pagination), len(texts)
        matches = self._matches(conn.execute(select, args))
        if self.order is not None:
            for field, descending in reversed(self.order):
                matches.sort(key=functools.partial(order_key, field), reverse=descending)
        limit, offset = self._window()
        if spec.paging is Paging.PAGE and self.page is not None:
            pagination = self._pagination(len(matches))
        page = matches[offset : offset + limit] if limit >= 0 else matches[offset:]
        if self.drop:
            page = [{k: v for k, v in r.items() if k not in self.drop} for r in page]
        return envelope(spec.envelope, b",".join(encode(r) for r in page), pagination), len(page)

    def _page_texts(self, sql: str, args: list[Any]) -> list[bytes]:
        """The stored JSON texts of the requested page, straight from SQLite.

        Pages in the default (If-Modified-Since field) order continue from where the previous
        page of the same query ended (a keyset seek), when that page was served since the last
        write: clients read pages in sequence, and OFFSET would walk the index from the start.
        """
        conn, store = self.conn, self.ctx.store
        limit, offset = self._window()
        order = self._order_sql()
        if not (self.spec.ims_field and self.page and self.spec.paging is not Paging.OFFSET):
            rows = conn.execute(
                f"SELECT {self._column}{sql}{order} LIMIT ? OFFSET ?", [*args, limit, offset]
            ).fetchall()
            return [row[0] for row in rows]
        cursors: dict[tuple[Any, ...], tuple[int, str]] = self.ctx.extras.setdefault(
            "reads.cursors", {}
        )
        base = (store.version, sql, *args, limit)
        after = cursors.get((*base, self.page - 1)) if self.page > 1 else None
        select = f"SELECT {self._column}, ims_ms, id{sql}"
        if after is not None:
            rows = conn.execute(
                f"{select} AND (ims_ms, id) > (?, ?){order} LIMIT ?", [*args, *after, limit]
            ).fetchall()
        else:
            rows = conn.execute(
                f"{select}{order} LIMIT ? OFFSET ?", [*args, limit, offset]
            ).fetchall()
        if rows and rows[-1][1] is not None:
            if len(cursors) > 4096:
                cursors.clear()
            cursors[(*base, self.page)] = (rows[-1][1], rows[-1][2])
        return [row[0] for row in rows]

    def _count(self, sql: str, args: list[Any]) -> int:
        """Rows matching a query; cached until the store's next write (pages repeat it)."""
        store = self.ctx.store
        cache: dict[tuple[Any, ...], int] = self.ctx.extras.setdefault("reads.counts", {})
        key = (store.version, sql, *args)
        if key not in cache:
            if len(cache) > 256:
                cache.clear()
            cache[key] = int(self.conn.execute(f"SELECT count(*){sql}", args).fetchone()[0])
        return cache[key]

    def _matches(self, rows: Iterator[tuple[bytes]]) -> list[Record]:
        found: list[Record] = []
        stop_at = 100 if self.spec.paging is Paging.OFFSET and self.order is None else None
        # Xero's high-volume guard: a where/order it cannot answer from an index may look at
        # no more than the threshold's records; the sandbox also bounds rows x conditions.
        guarded = self.where is not None or self.order is not None
        row_limit = self.ctx.config.high_volume_threshold
        work = (self.where.conditions if self.where is not None else 0) + len(self.order or ())
        if work:
            row_limit = min(row_limit, WHERE_WORK_PER_ROW * row_limit // work)
        for scanned, (body,) in enumerate(rows, 1):
            if guarded and scanned > row_limit:
                raise HighVolume(self.spec.name)
            record = decode(body)
            if all(test(record) for test in self.tests):
                found.append(record)
                if stop_at is not None and len(found) >= stop_at:
                    break
        return found

    def _window(self) -> tuple[int, int]:
        """(limit, offset) of the rows to serve; limit -1 means all."""
        if self.spec.paging is Paging.OFFSET:
            return 100, 0
        if self.page is None:
            return -1, 0
        return self.page_size, (self.page - 1) * self.page_size

    def _pagination(self, total: int) -> dict[str, int]:
        assert self.page is not None
        return {
            "page": self.page,
            "pageSize": self.page_size,
            "pageCount": -(-total // self.page_size),
            "itemCount": total,
        }


def served(request: Request, records: int) -> None:
    """Tell the gate how many records went out (it adds the per-record latency)."""
    request.scope.setdefault("state", {})["record_count"] = records


def _context(request: Request) -> tuple[SandboxContext, str | None]:
    ctx: SandboxContext = request.app.state.ctx
    tenant = tenant_of(request)
    if tenant is None or not ctx.store.has_tenant(tenant):
        return ctx, None
    return ctx, tenant


async def get_collection(request: Request) -> Response:
    """GET /api.xro/2.0/{Collection}."""
    spec = spec_for(request.path_params["resource"])
    if spec is None:
        return not_found()
    _, tenant = _context(request)
    if tenant is None:
        return _forbidden()
    return await serve_collection(request, spec, tenant)


async def serve_collection(
    request: Request, spec: ResourceSpec, tenant: str, keep: RecordTest | None = None
) -> Response:
    """One collection GET of ``spec`` for ``tenant`` (Accounting's, or another API's that is
    served the Accounting way: Payroll AU); ``keep``: only the records it passes, as if no
    other were stored (paging included)."""
    # A worker thread with its own read connection: a long scan does not hold up the event
    # loop (other requests), and WAL lets it read while a write is under way.
    ctx: SandboxContext = request.app.state.ctx
    response, count = await run_in_threadpool(_collection, ctx, spec, request, tenant, keep)
    served(request, count)
    return response


def _collection(
    ctx: SandboxContext,
    spec: ResourceSpec,
    request: Request,
    tenant: str,
    keep: RecordTest | None = None,
) -> tuple[Response, int]:
    try:
        query = _Query(ctx, spec, request, tenant)
        if keep is not None:
            query.tests.append(keep)
        return query.run()
    except QueryError as exc:
        return query_error(str(exc)), 0
    except HighVolume as exc:
        return high_volume_error(exc.collection), 0


def find_record(ctx: SandboxContext, tenant: str, spec: ResourceSpec, ident: str) -> Record | None:
    """A record by primary key, or by its number field where Xero allows that."""
    record = ctx.store.get(tenant, spec.name, ident)
    if record is None and spec.number_field:
        record = ctx.store.get_by_number(tenant, spec.name, ident)
    return record


def get_one(request: Request) -> Response:
    """GET /api.xro/2.0/{Collection}/{ID or number} (sync: Starlette runs it in a worker
    thread, off the event loop)."""
    spec = spec_for(request.path_params["resource"])
    if spec is None or not spec.singular:
        return not_found()
    ctx, tenant = _context(request)
    if tenant is None:
        return _forbidden()
    record = find_record(ctx, tenant, spec, request.path_params["ident"])
    if record is None:
        return not_found()
    if spec.unitdp and _params(request).get("unitdp") != "4":
        record = unit_2dp(record) or record
    served(request, 1)
    return envelope(spec.envelope, encode(record))


def get_report(request: Request) -> Response:
    """GET /api.xro/2.0/Reports/{ReportName} (in a worker thread, as :func:`get_one`)."""
    ctx, tenant = _context(request)
    if tenant is None:
        return _forbidden()
    name = request.path_params["name"]
    report = report_response(ctx, tenant, name, _params(request))
    if report is None:
        return not_found()
    if isinstance(report, str):
        return error_response(
            400, {"ErrorNumber": 10, "Type": "ValidationException", "Message": report}
        )
    return envelope("Reports", encode(report))


routes: list[BaseRoute] = [
    Route(API + "/Reports/{name}", get_report, methods=["GET"]),
    Route(API + "/reports/{name}", get_report, methods=["GET"]),
    Route(API + "/{resource}", get_collection, methods=["GET"]),
    Route(API + "/{resource}/{ident}", get_one, methods=["GET"]),
]

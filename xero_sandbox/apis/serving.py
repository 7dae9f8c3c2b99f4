"""What every API beside Accounting shares: who may call (an organisation outside the API's
regions or without it in its subscription is answered 403 ``AuthenticationUnsuccessful``, as Xero
answers a Projects call for an organisation without Projects, pyxero issue 295), records in the
order they were written, ``page``/``pageSize`` paging, and Xero's answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from xero_sandbox.api_collections import stored_name
from xero_sandbox.catalog import Record
from xero_sandbox.context import SandboxContext
from xero_sandbox.identity import problem_body
from xero_sandbox.reads import JSON, error_response, not_found, served, tenant_of
from xero_sandbox.regions import region_of
from xero_sandbox.store import decode, encode
from xero_sandbox.writes import idempotent

__all__ = [
    "ApiRequest",
    "json_answer",
    "json_object",
    "no_content",
    "paged",
    "split_list",
    "utc_text",
    "write",
    "write_raw",
]

RecordTest = Callable[[Record], bool]


def json_answer(body: Any, status: int = 200) -> Response:
    """A JSON answer with Xero's correlation header."""
    return Response(
        encode(body),
        status_code=status,
        media_type=JSON,
        headers={"Xero-Correlation-Id": str(uuid.uuid4())},
    )


def no_content() -> Response:
    """204: what these APIs answer an update or a delete."""
    return Response(status_code=204, headers={"Xero-Correlation-Id": str(uuid.uuid4())})


def json_object(body: bytes) -> Record | None:
    """A write's body as a JSON object, or None when it is not one."""
    try:
        value = decode(body) if body.strip() else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def utc_text(raw: Any) -> str | None:
    """A date or date-time as these APIs store it (``YYYY-MM-DDThh:mm:ssZ``, UTC), or None when
    ``raw`` is not one (a date alone is its midnight; an offset is converted)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


WriteHandler = Callable[["ApiRequest", Record | None], Response]
RawWriteHandler = Callable[["ApiRequest", bytes], Response]


async def write(request: Request, api: str, handle: WriteHandler) -> Response:
    """One write to an API: refused as any call of it would be, else its body read and
    ``handle`` run (in a worker thread, with the body as a JSON object or None) under
    ``Idempotency-Key``'s rules, as Accounting writes are."""
    return await write_raw(request, api, lambda call, raw: handle(call, json_object(raw)))


async def write_raw(
    request: Request, api: str, handle: RawWriteHandler, regions: tuple[str, ...] = ()
) -> Response:
    """:func:`write` for APIs whose bodies are not one object: ``handle`` gets the raw body;
    ``regions`` limit the organisations served, as reads are limited."""
    call = ApiRequest(request, api, regions)
    if call.refusal:
        return call.refusal
    raw = await request.body()
    return await idempotent(request, raw, lambda: handle(call, raw))


def split_list(raw: str) -> list[str]:
    """A comma list's values, lower case."""
    return [part.strip().lower() for part in raw.split(",") if part.strip()]


class ApiRequest:
    """One call to an API beside Accounting: its tenant, query and stored collections."""

    def __init__(self, request: Request, api: str, regions: tuple[str, ...] = ()) -> None:
        self.request = request
        self.api = api
        self.ctx: SandboxContext = request.app.state.ctx
        self.query = {k.lower(): v for k, v in request.query_params.multi_items()}
        tenant = tenant_of(request)
        self.tenant = tenant if tenant and self.ctx.store.has_tenant(tenant) else None
        self.refusal: Response | None = None
        self.region = ""  # the tenant's (Organisation.Version), once it is known
        if self.tenant is None or not self._offered(self.tenant, regions):
            self.refusal = error_response(403, problem_body(403, "AuthenticationUnsuccessful"))

    def _offered(self, tenant: str, regions: tuple[str, ...]) -> bool:
        cache: dict[str, tuple[bool, str]] = self.ctx.extras.setdefault("apis.tenants", {})
        if tenant not in cache:
            found = self.ctx.store.tenant(tenant)
            cache[tenant] = (bool(found and found.empty), region_of(self.ctx.store, tenant))
        empty, region = cache[tenant]
        self.region = region
        return not empty and (not regions or region in regions)

    @property
    def tenant_id(self) -> str:
        """The tenant (only read after checking :attr:`refusal`)."""
        assert self.tenant is not None
        return self.tenant

    def records(self, name: str, parent: str | None = None) -> list[Record]:
        """A collection's records in written order (a parent's children only, if given)."""
        return self.ctx.store.in_written_order(
            self.tenant_id, stored_name(self.api, name), number=parent
        )

    def record(self, name: str, key: str) -> Record | None:
        """One record by its key (case-insensitive, as GUIDs are), or None."""
        return self.ctx.store.get(self.tenant_id, stored_name(self.api, name), key.lower())

    def found(self, name: str, key: str) -> Record | Response:
        """The path's record of ``name`` by ``key``, or the answer refusing it: the 403 of an
        organisation without the API (:attr:`refusal`), or 404."""
        if self.refusal:
            return self.refusal
        record = self.record(name, key)
        return not_found() if record is None else record

    def save(self, name: str, record: Record) -> None:
        """Insert or replace one record of a collection."""
        self.ctx.store.put(self.tenant_id, stored_name(self.api, name), record)

    def remove(self, name: str, key: str) -> None:
        """Delete one record of a collection."""
        self.ctx.store.delete(self.tenant_id, stored_name(self.api, name), key.lower())

    def one_at(self, name: str, param: str) -> Response:
        """A single-record GET of the path's ``param``: the record of ``name``, 404, or the
        :attr:`refusal`."""
        return self.refusal or self.one(self.record(name, self.request.path_params[param]))

    def one(self, record: Record | None) -> Response:
        """A single-record GET's answer: the record itself, or 404."""
        if record is None:
            return not_found()
        self.served(1)
        return json_answer(record)

    def served(self, count: int) -> None:
        """Tell the gate how many records went out (it adds the per-record latency)."""
        served(self.request, count)

    def int_param(self, name: str, default: int) -> int | None:
        """An integer query parameter (``default`` when absent), None when not a number."""
        raw = self.query.get(name.lower())
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            return None


def paged(
    call: ApiRequest,
    records: list[Record],
    *,
    default_size: int,
    max_size: int | None,
    bad_request: Callable[[str], Response],
    key: str = "items",
    envelope: Record | None = None,
) -> Response:
    """The ``{"pagination": ..., "items": [...]}`` answer of one page of ``records`` (the list
    under ``key``, after the ``envelope`` fields where the API sends some)."""
    page = call.int_param("page", 1)
    size = call.int_param("pageSize", default_size)
    if page is None or page < 1:
        return bad_request("page must be a number greater than 0")
    if size is None or size < 1 or (max_size is not None and size > max_size):
        limit = f"between 1 and {max_size}" if max_size else "greater than 0"
        return bad_request(f"pageSize must be a number {limit}")
    items = records[(page - 1) * size : page * size]
    call.served(len(items))
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": -(-len(records) // size),
        "itemCount": len(records),
    }
    return json_answer({**(envelope or {}), "pagination": pagination, key: items})

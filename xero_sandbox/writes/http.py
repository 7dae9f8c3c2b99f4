"""PUT (create) and POST (create or update) under /api.xro/2.0, as Xero runs them.

1. The body is read (a bare object or the plural envelope). Anything that cannot be converted to
   Xero's types fails the whole request: 400 ``PostDataInvalidException`` (ErrorNumber 14); an
   empty body gives ``NoDataProcessedException`` (17).
2. Each element is validated and computed in order, and saved at once when it has no errors, so
   later elements see earlier ones (a second contact with the same Name fails).
3. Default mode: if any element failed, 400 ``ValidationException`` listing the failed elements;
   elements that passed stay saved, as at Xero. ``summarizeErrors=false``: 200 with every
   element in order, each with ``StatusAttributeString`` OK/WARNING/ERROR.
4. Webhooks (CONTACT, INVOICE, CREDITNOTE) are notified once the request's writes are saved.

``Idempotency-Key`` wraps all of this, in a worker thread holding the tenant's write turn.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import localcontext
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.catalog import Record
from xero_sandbox.context import SandboxContext
from xero_sandbox.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyStore,
    KeyMismatch,
    StoredResponse,
    fingerprint,
    key_too_long_message,
    mismatch_message,
)
from xero_sandbox.reads import not_found
from xero_sandbox.store import decode, encode
from xero_sandbox.validation import (
    ZERO_GUID,
    Messages,
    NoDataProcessed,
    PostDataInvalid,
    as_guid,
    check_lengths,
)
from xero_sandbox.writes.common import Element, Writer
from xero_sandbox.writes.table import WRITE_RESOURCES, WriteResource

API = "/api.xro/2.0"


JSON = "application/json; charset=utf-8"


def _error_body(
    number: int, kind: str, message: str, elements: list[Record] | None = None
) -> Record:
    body: Record = {"ErrorNumber": number, "Type": kind, "Message": message}
    if elements is not None:
        body["Elements"] = elements
    return body


def _json(status: int, body: Any) -> Response:
    return Response(encode(body), status_code=status, media_type=JSON)


def _elements(spec: WriteResource, body: bytes) -> list[tuple[Record, str]]:
    """The request's elements with their JSON paths (a bare object or the plural envelope)."""
    return read_elements(body, spec.collection, _no_data(spec))


def read_elements(
    body: bytes, collection: str, no_data: NoDataProcessed
) -> list[tuple[Record, str]]:
    """A write's elements with their JSON paths: a bare object, a bare list or the plural
    envelope ``{collection: [...]}``; ``no_data`` is raised when it holds none."""
    if not body.strip():
        raise no_data
    try:
        parsed = decode(body)
    except (msgspec.DecodeError, ValueError) as exc:
        raise PostDataInvalid(f"JSON request body could not be read, Error {exc}") from None
    except RecursionError:
        raise PostDataInvalid(_too_deep()) from None
    _check_depth(parsed)
    if isinstance(parsed, list):
        items, prefix = parsed, ""
    elif isinstance(parsed, dict):
        envelope = next((k for k in parsed if k.lower() == collection.lower()), None)
        if envelope is not None:
            items, prefix = parsed[envelope], f"{envelope}"
            if isinstance(items, dict):
                items, prefix = [items], ""
            elif not isinstance(items, list):
                raise PostDataInvalid(
                    f"Unexpected character encountered while parsing value. Path '{envelope}'."
                )
        else:
            items, prefix = [parsed] if parsed else [], ""
    else:
        raise PostDataInvalid("JSON request body could not be read, Error unexpected JSON value")
    if not items:
        raise no_data
    out = []
    for index, item in enumerate(items):
        path = f"{prefix}[{index}]" if prefix else ""
        if not isinstance(item, dict):
            raise PostDataInvalid(
                f"Unexpected character encountered while parsing value. Path '{path}'."
            )
        out.append((_without_nulls(item), path))
    return out


# Json.NET, which reads Xero's request bodies, refuses JSON nested deeper than 64 (its default
# MaxDepth); the sandbox does the same rather than recurse without bound.
MAX_JSON_DEPTH = 64


def _too_deep() -> str:
    return (
        "JSON request body could not be read, Error "
        f"The reader's MaxDepth of {MAX_JSON_DEPTH} has been exceeded."
    )


def _check_depth(parsed: Any) -> None:
    """PostDataInvalid when objects/arrays nest deeper than :data:`MAX_JSON_DEPTH`."""
    level: list[Any] = [parsed]
    depth = 0
    while level:
        containers = [v for v in level if isinstance(v, dict | list)]
        if not containers:
            return
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise PostDataInvalid(_too_deep())
        level = [
            child
            for value in containers
            for child in (value.values() if isinstance(value, dict) else value)
        ]


def _without_nulls(value: Any) -> Any:
    """JSON nulls count as "not sent" (Json.NET leaves the property unset), at any depth."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _no_data(spec: WriteResource) -> NoDataProcessed:
    if spec.collection == "Quotes":
        return NoDataProcessed(spec.entity, Messages.NO_QUOTES)
    return NoDataProcessed(spec.entity)


def _path(path: str, field_name: str) -> str:
    return f"{path}.{field_name}" if path else field_name


def _find_existing(
    w: Writer, spec: WriteResource, sent: Record, path: str, url_id: str | None
) -> tuple[Record | None, str | None]:
    """The stored record an element updates, or an error message when the ID is unknown."""
    if spec.parent is not None:
        return None, None  # sub-collection members are only added
    if url_id is not None:
        found = w.by_url_id(spec.collection, url_id)
        if found is None and spec.number_field:
            found = w.by_number(spec.collection, url_id)
        return (found, None) if found is not None else (None, spec.not_found or _not_found(spec))
    if sent.get(spec.id_field) not in (None, ""):
        record_id = as_guid(sent[spec.id_field], _path(path, spec.id_field))
        found = w.get(spec.collection, record_id)
        return (found, None) if found is not None else (None, spec.not_found or _not_found(spec))
    if w.method == "POST" and spec.match is not None:
        return spec.match(w, sent, path), None
    return None, None


def _not_found(spec: WriteResource) -> str:
    return f"An existing {spec.entity} with the specified {spec.id_field} could not be found"


@dataclass
class _Result:
    echo: Record
    failed: bool


def _process(
    w: Writer, spec: WriteResource, sent: Record, path: str, url_id: str | None
) -> _Result:
    """Validate one element and, when it passes, save it with its side effects."""
    existing, missing = _find_existing(w, spec, sent, path, url_id)
    if missing is not None:
        return _failed(spec, dict(sent), [missing])
    known = {k: v for k, v in sent.items() if k in spec.fields}
    element = Element(known, path, existing)
    record = spec.build(w, element)
    issues = element.issues
    check_lengths(spec.collection, record, issues)
    if element.new_contact is not None:  # a contact the document creates is held to its limits
        check_lengths("Contacts", element.new_contact, issues)
    echo_warnings = [{"Message": m} for m in issues.warnings]
    if issues.errors:
        echo = dict(record)
        echo[spec.id_field] = (existing or {}).get(spec.id_field, ZERO_GUID)
        if isinstance(echo.get("LineItems"), list):  # Xero lists each line's (empty) errors
            echo["LineItems"] = [{**item, "ValidationErrors": []} for item in echo["LineItems"]]
        return _failed(spec, echo, issues.errors, echo_warnings)
    _save(w, spec, element, record)
    echo = dict(record)
    if echo_warnings:
        echo["Warnings"] = echo_warnings
    if spec.status_attribute:
        echo["StatusAttributeString"] = "WARNING" if echo_warnings else "OK"
    if spec.error_flag:
        echo["ValidationErrors"] = []
    return _Result(echo, False)


def _failed(
    spec: WriteResource, echo: Record, errors: list[str], warnings: list[Record] | None = None
) -> _Result:
    """An element echoed back with its errors (and warnings), flagged as Xero flags it."""
    echo["ValidationErrors"] = [{"Message": m} for m in errors]
    if warnings:
        echo["Warnings"] = warnings
    if spec.error_flag:
        echo[spec.error_flag] = True
    if spec.status_attribute:
        echo["StatusAttributeString"] = "ERROR"
    return _Result(echo, True)


def _save(w: Writer, spec: WriteResource, element: Element, record: Record) -> None:
    """Give a valid element its ID and stamp, save it with its journals and side effects, and
    queue its webhook event."""
    existing = element.existing
    record_id = (existing or {}).get(spec.id_field) or str(uuid.uuid4())
    record[spec.id_field] = record_id
    if spec.stamped:
        w.stamp(record, with_string=spec.with_updated_string)
    for step in element.before_save:
        step()
    if spec.parent is not None and w.parent is not None:
        w.parent[spec.collection] = [*(w.parent.get(spec.collection) or []), record]
        w.save(spec.parent, w.parent)
    else:
        w.save(spec.collection, record)
    if spec.journals:
        w.post_journals(spec.collection, record)
    for step in element.after_save:
        step()
    w.notify(spec.webhook, "UPDATE" if existing is not None else "CREATE", record_id, record)


def _run(
    ctx: SandboxContext,
    spec: WriteResource,
    request_method: str,
    tenant_id: str,
    query: Mapping[str, str],
    body: bytes,
    url_id: str | None,
    parent_id: str | None = None,
) -> Response:
    """One write request, start to finish (everything but idempotency)."""
    unit_dp = 4 if spec.unitdp and query.get("unitdp") == "4" else 2
    w = Writer(ctx, tenant_id, request_method, unit_dp)
    if spec.parent is not None:
        w.parent = w.by_url_id(spec.parent, parent_id or "")
        if w.parent is None:
            return not_found()
    one_only = spec.single or url_id is not None
    try:
        elements = _elements(spec, body)
        if one_only or (spec.collection == "Payments" and request_method == "POST"):
            elements = elements[:1]
        # Other writers may take their turn between elements (a long request holds no one
        # up); a conversion error anywhere (ErrorNumber 14) still undoes the whole request, as
        # Xero rejects the body before it processes any element.
        with ctx.store.undoable(), ctx.store.transaction(), localcontext() as exact:
            exact.prec = 80  # Qty x Unit of two .NET-maximum decimals still rounds exactly
            results = []
            for sent, path in elements:
                results.append(_process(w, spec, sent, path, url_id))
                ctx.store.let_others_write()
    except PostDataInvalid as exc:
        ctx.ledger.forget(tenant_id)
        return _json(400, _error_body(14, "PostDataInvalidException", exc.message))
    except NoDataProcessed as exc:
        return _json(400, _error_body(17, "NoDataProcessedException", exc.message))
    if spec.collection == "Accounts":  # a report running meanwhile may have cached the old ones
        ctx.ledger.forget(tenant_id)
    for category, event_type, resource_id, data in w.events:
        ctx.webhooks.notify(tenant_id, category, event_type, resource_id, data=data)
    return _answer(w, spec, query, results)


def _answer(
    w: Writer, spec: WriteResource, query: Mapping[str, str], results: list[_Result]
) -> Response:
    """400 listing the failed elements, or (``summarizeErrors=false``, or none failed) 200 with
    every element in order."""
    summarize = query.get("summarizeErrors", "true").lower() != "false" or not spec.summarize_param
    if summarize and any(r.failed for r in results):
        failed = [r.echo for r in results if r.failed]
        return _json(
            400, _error_body(10, "ValidationException", "A validation exception occurred", failed)
        )
    envelope: Record = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "xero-sandbox",
        "DateTimeUTC": f"/Date({w.now_ms})/",
        spec.collection: [r.echo for r in results],
    }
    return _json(200, envelope)


def _app_scope(request: Request, ctx: SandboxContext, tenant_id: str) -> str:
    app = getattr(request.state, "client_id", None) or ctx.config.client_id
    return f"{app}|{tenant_id}"


def _idempotency(ctx: SandboxContext) -> IdempotencyStore:
    store = ctx.extras.get("idempotency")
    if not isinstance(store, IdempotencyStore):
        store = IdempotencyStore(ctx.store, ctx.clock, ctx.config.idempotency_window_s)
        ctx.extras["idempotency"] = store
    return store


def _write_turn(ctx: SandboxContext, tenant_id: str) -> threading.Lock:
    """The lock one tenant's writes take in turn (lookup, write and save of a key included)."""
    turns: dict[str, threading.Lock] = ctx.extras.setdefault("writes.turns", {})
    return turns.setdefault(tenant_id, threading.Lock())


async def idempotent(request: Request, body: bytes, run: Callable[[], Response]) -> Response:
    """Answer a write through Xero's ``Idempotency-Key`` rules; ``run`` does the write.

    Without a key ``run`` simply runs. With one, a live key replays its stored answer (or refuses
    a different request) and a new key stores what ``run`` answered. All of it runs in a worker
    thread, holding the tenant's write turn: the event loop keeps serving other requests, and a
    concurrent retry of the same key waits for the saved answer. Any write endpoint of the
    sandbox can use this.
    """
    ctx: SandboxContext = request.app.state.ctx
    tenant_id = str(getattr(request.state, "tenant_id", "") or "")
    key = request.headers.get("Idempotency-Key")
    if key is not None and len(key) > MAX_KEY_LENGTH:
        return _json(400, _error_body(10, "ValidationException", key_too_long_message()))
    scope = _app_scope(request, ctx, tenant_id)
    request_print = fingerprint(request.method, request.url.path, request.url.query, body)

    def in_turn() -> Response:
        with _write_turn(ctx, tenant_id):
            if key is None:
                return run()
            return _replayed_or_run(ctx, (scope, key, request_print), run)

    return await run_in_threadpool(in_turn)


def _replayed_or_run(
    ctx: SandboxContext, keyed: tuple[str, str, str], run: Callable[[], Response]
) -> Response:
    scope, key, request_print = keyed
    store = _idempotency(ctx)
    found = store.lookup(scope, key, request_print)
    if isinstance(found, StoredResponse):
        return Response(found.body, status_code=found.status, media_type=found.content_type)
    if isinstance(found, KeyMismatch):
        return _json(400, _error_body(10, "ValidationException", mismatch_message(key)))
    response = run()
    store.save(
        scope, key, request_print, StoredResponse(response.status_code, JSON, bytes(response.body))
    )
    return response


def _handler(spec: WriteResource, with_id: bool) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        ctx: SandboxContext = request.app.state.ctx
        tenant_id = str(getattr(request.state, "tenant_id", "") or "")
        body = await request.body()
        url_id = request.path_params.get("record_id") if with_id else None
        parent_id = request.path_params.get("parent_id")
        query = dict(request.query_params)
        return await idempotent(
            request,
            body,
            lambda: _run(ctx, spec, request.method, tenant_id, query, body, url_id, parent_id),
        )

    return handle


def _routes() -> Iterator[BaseRoute]:
    for spec in WRITE_RESOURCES:
        if spec.parent is not None:
            path = f"{API}/{spec.parent}/{{parent_id}}/{spec.collection}"
            yield Route(path, _handler(spec, with_id=False), methods=["PUT"])
            continue
        methods = ["PUT"] + (["POST"] if spec.post else [])
        yield Route(f"{API}/{spec.collection}", _handler(spec, with_id=False), methods=methods)
        yield Route(
            f"{API}/{spec.collection}/{{record_id}}", _handler(spec, with_id=True), methods=["POST"]
        )


routes: list[BaseRoute] = list(_routes())

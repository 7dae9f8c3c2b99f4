"""Writes of TrackingCategories and their options (xero-api-facts §3: single object per request).

``PUT /TrackingCategories`` creates one category (``Name``, optional ``Status``);
``POST /TrackingCategories/{id}`` renames it or changes its ``Status`` (``ACTIVE``/``ARCHIVED``);
``PUT /TrackingCategories/{id}/Options`` adds options by ``Name``. Names are unique within
their parent, compared case-insensitively. Idempotency-Key handling is the same store and
rules as the other writes. Validation wording marked "sandbox" is ours: Xero's texts for these
refusals were not found (xero-write-rules §16).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.context import SandboxContext
from xero_sandbox.idempotency import (
    MAX_KEY_LENGTH,
    KeyMismatch,
    StoredResponse,
    fingerprint,
    key_too_long_message,
    mismatch_message,
)
from xero_sandbox.store import decode, encode
from xero_sandbox.writes import _app_scope, _idempotency

__all__ = ["routes"]

API = "/api.xro/2.0"
RESOURCE = "TrackingCategories"
JSON = "application/json"
STATUSES = ("ACTIVE", "ARCHIVED")
NAME_LIMIT = 100  # sandbox: Xero's category and option names are short labels

Record = dict[str, Any]


class _Refused(Exception):
    def __init__(self, status: int, body: Record) -> None:
        super().__init__(body.get("Message"))
        self.status = status
        self.body = body


def _validation(message: str, element: Record) -> _Refused:
    return _Refused(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{**element, "ValidationErrors": [{"Message": message}]}],
        },
    )


def _one_element(body: bytes, envelope: str) -> Record:
    try:
        parsed = decode(body) if body.strip() else None
    except (msgspec.DecodeError, ValueError) as exc:
        raise _Refused(
            400,
            {
                "ErrorNumber": 14,
                "Type": "PostDataInvalidException",
                "Message": f"JSON request body could not be read, Error {exc}",
            },
        ) from None
    if isinstance(parsed, dict):
        key = next((k for k in parsed if k.lower() == envelope.lower()), None)
        items = parsed[key] if key is not None else [parsed]
        if isinstance(items, dict):
            items = [items]
        if isinstance(items, list) and items and isinstance(items[0], dict):
            return {k: v for k, v in items[0].items() if v is not None}
    raise _Refused(
        400,
        {
            "ErrorNumber": 17,
            "Type": "NoDataProcessedException",
            "Message": "No data has been processed for this endpoint. This endpoint is expecting "
            f"{envelope[:-1] if envelope.endswith('s') else envelope} data to be specifed in the "
            "request body.",
        },
    )


def _name(element: Record, what: str) -> str:
    name = element.get("Name")
    if not isinstance(name, str) or not name.strip():
        raise _validation(f"{what} Name must be specified", element)  # sandbox wording
    if len(name.strip()) > NAME_LIMIT:
        raise _validation(f"{what} Name must be {NAME_LIMIT} characters or fewer", element)
    return name.strip()


def _categories(ctx: SandboxContext, tenant_id: str) -> list[Record]:
    return list(ctx.store.iter_records(tenant_id, RESOURCE))


def _create(ctx: SandboxContext, tenant_id: str, body: bytes) -> Record:
    element = _one_element(body, RESOURCE)
    name = _name(element, "Tracking Category")
    if any(c["Name"].casefold() == name.casefold() for c in _categories(ctx, tenant_id)):
        raise _validation(f"The tracking category name {name} is already in use", element)
    status = element.get("Status") or "ACTIVE"
    if status not in STATUSES:
        raise _validation(f"The status '{status}' cannot be applied to the document", element)
    category: Record = {
        "TrackingCategoryID": str(uuid.uuid4()),
        "Name": name,
        "Status": status,
        "Options": [],
    }
    ctx.store.put(tenant_id, RESOURCE, category)
    return {RESOURCE: [category]}


def _update(ctx: SandboxContext, tenant_id: str, category_id: str, body: bytes) -> Record:
    category = ctx.store.get(tenant_id, RESOURCE, category_id)
    if category is None:
        raise _Refused(404, {"Message": "The resource you're looking for cannot be found"})
    element = _one_element(body, RESOURCE)
    if "Name" in element:
        name = _name(element, "Tracking Category")
        if any(
            c["Name"].casefold() == name.casefold() and c["TrackingCategoryID"] != category_id
            for c in _categories(ctx, tenant_id)
        ):
            raise _validation(f"The tracking category name {name} is already in use", element)
        category["Name"] = name
    if "Status" in element:
        if element["Status"] not in STATUSES:
            raise _validation(
                f"The status '{element['Status']}' cannot be applied to the document", element
            )
        category["Status"] = element["Status"]
    ctx.store.put(tenant_id, RESOURCE, category)
    return {RESOURCE: [category]}


def _add_options(ctx: SandboxContext, tenant_id: str, category_id: str, body: bytes) -> Record:
    category = ctx.store.get(tenant_id, RESOURCE, category_id)
    if category is None:
        raise _Refused(404, {"Message": "The resource you're looking for cannot be found"})
    try:
        parsed = decode(body) if body.strip() else {}
    except (msgspec.DecodeError, ValueError) as exc:
        raise _Refused(
            400,
            {
                "ErrorNumber": 14,
                "Type": "PostDataInvalidException",
                "Message": f"JSON request body could not be read, Error {exc}",
            },
        ) from None
    items = parsed.get("Options") if isinstance(parsed, dict) else parsed
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise _Refused(
            400,
            {
                "ErrorNumber": 17,
                "Type": "NoDataProcessedException",
                "Message": "No data has been processed for this endpoint. This endpoint is "
                "expecting Option data to be specifed in the request body.",
            },
        )
    options: list[Record] = list(category.get("Options") or [])
    added = []
    for item in items:
        element = item if isinstance(item, dict) else {}
        name = _name(element, "Tracking Option")
        if any(o["Name"].casefold() == name.casefold() for o in options):
            raise _validation(f"The tracking option name {name} is already in use", element)
        option = {
            "TrackingOptionID": str(uuid.uuid4()),
            "Name": name,
            "Status": element.get("Status") or "ACTIVE",
        }
        options.append(option)
        added.append(option)
    category["Options"] = options
    ctx.store.put(tenant_id, RESOURCE, category)
    return {"Options": added}


async def _handle(request: Request) -> Response:
    ctx: SandboxContext = request.app.state.ctx
    tenant_id = str(getattr(request.state, "tenant_id", "") or "")
    body = await request.body()
    category_id = request.path_params.get("category_id")
    options = request.url.path.endswith("/Options")

    def run() -> Response:
        try:
            with ctx.store.transaction():
                if options and category_id:
                    result = _add_options(ctx, tenant_id, category_id, body)
                elif category_id:
                    result = _update(ctx, tenant_id, category_id, body)
                else:
                    result = _create(ctx, tenant_id, body)
        except _Refused as refused:
            return Response(encode(refused.body), status_code=refused.status, media_type=JSON)
        return Response(encode(result), status_code=200, media_type=JSON)

    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    if len(key) > MAX_KEY_LENGTH:
        error = {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": key_too_long_message(),
        }
        return Response(encode(error), status_code=400, media_type=JSON)
    store = _idempotency(ctx)
    scope = _app_scope(request, ctx, tenant_id)
    request_print = fingerprint(request.method, request.url.path, request.url.query, body)
    found = store.lookup(scope, key, request_print)
    if isinstance(found, StoredResponse):
        return Response(found.body, status_code=found.status, media_type=found.content_type)
    if isinstance(found, KeyMismatch):
        error = {"ErrorNumber": 10, "Type": "ValidationException", "Message": mismatch_message(key)}
        return Response(encode(error), status_code=400, media_type=JSON)
    response = run()
    store.save(
        scope, key, request_print, StoredResponse(response.status_code, JSON, bytes(response.body))
    )
    return response


routes: list[BaseRoute] = [
    Route(f"{API}/{RESOURCE}", _handle, methods=["PUT"]),
    Route(f"{API}/{RESOURCE}/{{category_id}}", _handle, methods=["POST"]),
    Route(f"{API}/{RESOURCE}/{{category_id}}/Options", _handle, methods=["PUT"]),
]

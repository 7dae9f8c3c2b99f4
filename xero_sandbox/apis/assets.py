"""The Fixed Assets API (``assets.xro/1.0``): assets by status, asset types, settings.

``GET /Assets`` needs ``status`` (DRAFT, REGISTERED or DISPOSED; 400 without it) and pages with
``page``/``pageSize`` (default 10); ``orderBy`` (AssetType, AssetName, AssetNumber, PurchaseDate,
PurchasePrice, and DisposalDate/DisposalPrice for disposed assets) with ``sortDirection``, and
``filterBy`` (text in the name, number, description or type name). ``/Assets/{id}`` answers the
asset itself; ``/AssetTypes`` a bare list; ``/Settings`` one object. No If-Modified-Since.
Errors are the spec's ``Error`` (``title``, ``detail``, ``fieldValidationErrors``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.apis.serving import ApiRequest, Record, json_answer, paged
from xero_sandbox.apis.table import API_PREFIXES

__all__ = ["routes"]

PREFIX = API_PREFIXES["assets"]
DEFAULT_PAGE_SIZE = 10
STATUSES = ("DRAFT", "REGISTERED", "DISPOSED")
# orderBy value -> field of an asset (the type orders by its name)
_ORDER_FIELDS = {
    "assettype": "assetTypeName",
    "assetname": "assetName",
    "assetnumber": "assetNumber",
    "purchasedate": "purchaseDate",
    "purchaseprice": "purchasePrice",
    "disposaldate": "disposalDate",
    "disposalprice": "disposalPrice",
}


def _bad_request(detail: str, field: str = "") -> Response:
    body: dict[str, Any] = {
        "type": "ValidationError",
        "title": "Validation error",
        "detail": detail,
    }
    if field:
        body["fieldValidationErrors"] = [
            {"fieldName": field, "localisedMessage": detail, "title": "Invalid value"}
        ]
    return json_answer(body, 400)


def _call(request: Request) -> ApiRequest:
    return ApiRequest(request, "assets")


def _sort_key(field: str) -> Any:
    def key(record: Record) -> tuple[bool, Any]:
        value = record.get(field)
        if isinstance(value, Decimal | int):
            return (value is None, value)
        return (value is None, str(value or "").lower())

    return key


async def get_assets(request: Request) -> Response:
    """GET /Assets?status=..."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    q = call.query
    status = q.get("status", "").upper()
    if status not in STATUSES:
        return _bad_request(
            f"status is required and must be one of {', '.join(STATUSES)}", "status"
        )
    types = {t["assetTypeId"]: t["assetTypeName"] for t in call.records("AssetTypes")}
    found = [a for a in call.records("Assets") if str(a.get("assetStatus")).upper() == status]
    text = q.get("filterby", "").strip().lower()
    if text:
        fields = ("assetName", "assetNumber", "description")
        found = [
            a
            for a in found
            if any(text in str(a.get(f) or "").lower() for f in fields)
            or text in types.get(str(a.get("assetTypeId")), "").lower()
        ]
    order = q.get("orderby", "").lower()
    if order:
        field = _ORDER_FIELDS.get(order)
        if field is None or (field.startswith("disposal") and status != "DISPOSED"):
            return _bad_request(f"orderBy {q['orderby']!r} is not allowed here", "orderBy")
        descending = q.get("sortdirection", "asc").lower() == "desc"
        rows = [{**a, "assetTypeName": types.get(str(a.get("assetTypeId")), "")} for a in found]
        rows.sort(key=_sort_key(field), reverse=descending)
        by_id = {a["assetId"]: a for a in found}
        found = [by_id[r["assetId"]] for r in rows]
    return paged(
        call, found, default_size=DEFAULT_PAGE_SIZE, max_size=None, bad_request=_bad_request
    )


async def get_asset(request: Request) -> Response:
    """GET /Assets/{id}: the asset itself."""
    call = _call(request)
    return call.refusal or call.one(call.record("Assets", request.path_params["asset_id"]))


async def get_asset_types(request: Request) -> Response:
    """GET /AssetTypes: every asset type, a bare list."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    types = call.records("AssetTypes")
    call.served(len(types))
    return json_answer(types)


async def get_settings(request: Request) -> Response:
    """GET /Settings: the organisation's fixed-asset settings."""
    call = _call(request)
    return call.refusal or call.one(next(iter(call.records("Settings")), None))


routes: list[BaseRoute] = [
    Route(PREFIX + "/Assets", get_assets, methods=["GET"]),
    Route(PREFIX + "/Assets/{asset_id}", get_asset, methods=["GET"]),
    Route(PREFIX + "/AssetTypes", get_asset_types, methods=["GET"]),
    Route(PREFIX + "/Settings", get_settings, methods=["GET"]),
]

"""The Fixed Assets API (``assets.xro/1.0``): assets by status, asset types and settings, and
the writes that create assets and asset types. What each route answers is in docs/apis.md and
docs/sandbox-writes.md; Xero documents no error messages for this API, so the sandbox's are its
own."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import API_PREFIXES
from xero_sandbox.apis.serving import ApiRequest, WriteHandler, json_answer, paged, write
from xero_sandbox.catalog import Record

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


def _bad_request(detail: str, field: str = "", problems: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": "ValidationError",
        "title": "Validation error",
        "detail": detail,
    }
    problems = {field: detail} if field else (problems or {})
    if problems:
        body["fieldValidationErrors"] = [
            {"fieldName": name, "localisedMessage": text, "title": "Invalid value"}
            for name, text in problems.items()
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
    return _call(request).one_at("Assets", "asset_id")


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


# -- writes ----------------------------------------------------------------------------------

WRITABLE_STATUSES = ("Draft", "Registered")
DEPRECIATION_METHODS = (
    "NoDepreciation",
    "StraightLine",
    "DiminishingValue100",
    "DiminishingValue150",
    "DiminishingValue200",
    "FullDepreciation",
)
_ASSET_FIELDS = (
    "assetName",
    "assetTypeId",
    "assetNumber",
    "purchaseDate",
    "purchasePrice",
    "warrantyExpiryDate",
    "serialNumber",
)

# An asset type's accounts (each must be an account of the organisation).
_TYPE_ACCOUNTS = (
    "fixedAssetAccountId",
    "depreciationExpenseAccountId",
    "accumulatedDepreciationAccountId",
)


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(str(value)[:10])
    except ValueError:
        return False
    return isinstance(value, str)


def _money(value: Any) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool) and value >= 0


def _setting_problems(setting: Any, problems: dict[str, str]) -> None:
    if not isinstance(setting, dict):
        problems["bookDepreciationSetting"] = "bookDepreciationSetting must be an object"
        return
    method = setting.get("depreciationMethod")
    if method is not None and method not in DEPRECIATION_METHODS:
        problems["depreciationMethod"] = f"depreciationMethod {method!r} is not a method"


def _asset_problems(call: ApiRequest, body: Record, held_by: Record | None) -> dict[str, str]:
    """Problems of an asset to create or update (``assetName`` required; a registered asset
    needs its type, purchase date and price)."""
    problems: dict[str, str] = {}
    if not str(body.get("assetName") or "").strip():
        problems["assetName"] = "Asset name is required"
    status = body.get("assetStatus") or "Draft"
    if status not in WRITABLE_STATUSES:
        problems["assetStatus"] = (
            f"Asset status {status!r} cannot be set through the API (Draft or Registered)"
        )
    type_id = body.get("assetTypeId")
    if type_id is not None and call.record("AssetTypes", str(type_id)) is None:
        problems["assetTypeId"] = f"Asset type {type_id} could not be found"
    for name in ("purchaseDate", "warrantyExpiryDate"):
        if body.get(name) not in (None, "") and not _is_date(body[name]):
            problems[name] = f"{name} must be a date (YYYY-MM-DD)"
    if body.get("purchasePrice") is not None and not _money(body["purchasePrice"]):
        problems["purchasePrice"] = "purchasePrice must be a number of at least 0"
    if held_by is not None:
        problems["assetNumber"] = f"Asset number {body['assetNumber']} is already in use"
    if status == "Registered":
        for name, what in (
            ("assetTypeId", "an asset type"),
            ("purchaseDate", "a purchase date"),
            ("purchasePrice", "a purchase price"),
        ):
            if body.get(name) in (None, "") and name not in problems:
                problems[name] = f"A registered asset needs {what}"
    if body.get("bookDepreciationSetting") is not None:
        _setting_problems(body["bookDepreciationSetting"], problems)
    return problems


def _next_number(call: ApiRequest) -> str:
    """The next free asset number from the settings' prefix and sequence (which moves on)."""
    settings = next(iter(call.records("Settings")), None) or {}
    prefix = str(settings.get("assetNumberPrefix") or "FA-")
    sequence = int(str(settings.get("assetNumberSequence") or "1"))
    taken = {str(a.get("assetNumber") or "").lower() for a in call.records("Assets")}
    while f"{prefix}{sequence:04d}".lower() in taken:
        sequence += 1
    if settings:
        call.save("Settings", {**settings, "assetNumberSequence": f"{sequence + 1:04d}"})
    return f"{prefix}{sequence:04d}"


def _save_asset(call: ApiRequest, body: Record | None) -> Response:
    if body is None:
        return _bad_request("The request body must be a JSON object")
    asset: Record | None = None
    if body.get("assetId"):
        asset = call.record("Assets", str(body["assetId"]))
        if asset is None:
            return _bad_request(f"Asset {body['assetId']} could not be found", "assetId")
        if asset.get("assetStatus") != "Draft":
            return _bad_request(
                f"Only draft assets can be changed; this one is {asset.get('assetStatus')}",
                "assetStatus",
            )
    number = str(body.get("assetNumber") or "").strip()
    problems = _asset_problems(call, body, _number_holder(call, number, asset))
    if problems:
        return _bad_request("Validation failed", problems=problems)
    if asset is None:
        asset = {
            "assetId": str(uuid.uuid4()),
            "purchasePrice": Decimal("0.00"),
            "disposalPrice": Decimal("0.00"),
            "accountingBookValue": Decimal("0.00"),
            "canRollback": False,
            "isDeleteEnabledForDate": True,
        }
    for name in _ASSET_FIELDS:
        if body.get(name) is not None:
            asset[name] = body[name]
    asset["assetName"] = str(body["assetName"]).strip()
    asset["assetNumber"] = number or asset.get("assetNumber") or _next_number(call)
    asset["purchasePrice"] = Decimal(str(asset["purchasePrice"])).quantize(Decimal("0.01"))
    asset["assetStatus"] = body.get("assetStatus") or "Draft"
    _set_depreciation(call, asset, body)
    call.save("Assets", asset)
    return json_answer(asset)


def _number_holder(call: ApiRequest, number: str, asset: Record | None) -> Record | None:
    """Another asset already numbered ``number`` (case-insensitive), if any."""
    if not number:
        return None
    return next(
        (
            a
            for a in call.records("Assets")
            if str(a.get("assetNumber") or "").lower() == number.lower()
            and (asset is None or a["assetId"] != asset["assetId"])
        ),
        None,
    )


def _set_depreciation(call: ApiRequest, asset: Record, body: Record) -> None:
    """An asset's depreciation setting (the body's, else its type's or its own) and what
    its status implies: rollback, deletion and book value."""
    kind = call.record("AssetTypes", str(asset.get("assetTypeId") or ""))
    setting = dict(body.get("bookDepreciationSetting") or {}) or dict(
        (kind or {}).get("bookDepreciationSetting") or asset.get("bookDepreciationSetting") or {}
    )
    if setting:
        setting.update(depreciableObjectId=asset["assetId"], depreciableObjectType="Asset")
        asset["bookDepreciationSetting"] = setting
    registered = asset["assetStatus"] == "Registered"
    asset["canRollback"] = registered
    asset["isDeleteEnabledForDate"] = not registered
    # Registered today: nothing depreciated yet, so the book value is the price.
    asset["accountingBookValue"] = asset["purchasePrice"] if registered else Decimal("0.00")
    asset["bookDepreciationDetail"] = {
        **({"depreciationStartDate": asset["purchaseDate"]} if asset.get("purchaseDate") else {}),
        "priorAccumDepreciationAmount": Decimal("0.00"),
        "currentAccumDepreciationAmount": Decimal("0.00"),
        "currentCapitalGain": Decimal("0.00"),
        "currentGainLoss": Decimal("0.00"),
    }


def _save_asset_type(call: ApiRequest, body: Record | None) -> Response:
    if body is None:
        return _bad_request("The request body must be a JSON object")
    name = str(body.get("assetTypeName") or "").strip()
    problems: dict[str, str] = {}
    if not name:
        problems["assetTypeName"] = "Asset type name is required"
    if body.get("bookDepreciationSetting") is None:
        problems["bookDepreciationSetting"] = "bookDepreciationSetting is required"
    else:
        _setting_problems(body["bookDepreciationSetting"], problems)
    for field in _TYPE_ACCOUNTS:
        account = body.get(field)
        if (
            account is not None
            and call.ctx.store.get(call.tenant_id, "Accounts", str(account)) is None
        ):
            problems[field] = f"Account {account} could not be found"
    if problems:
        return _bad_request("Validation failed", problems=problems)
    if any(t["assetTypeName"].lower() == name.lower() for t in call.records("AssetTypes")):
        return json_answer(
            {
                "type": "Conflict",
                "title": "Conflict",
                "detail": f"Asset type {name!r} already exists",
            },
            409,
        )
    type_id = str(uuid.uuid4())
    kind: Record = {
        "assetTypeId": type_id,
        "assetTypeName": name,
        "locks": 0,
        **{f: str(body[f]).lower() for f in _TYPE_ACCOUNTS if body.get(f)},
        "bookDepreciationSetting": {
            **body["bookDepreciationSetting"],
            "depreciableObjectId": type_id,
            "depreciableObjectType": "AssetType",
        },
    }
    call.save("AssetTypes", kind)
    return json_answer(kind)


def _writer(save: WriteHandler) -> Callable[[Request], Any]:
    async def route(request: Request) -> Response:
        return await write(request, "assets", save)

    return route


routes: list[BaseRoute] = [
    Route(PREFIX + "/Assets", _writer(_save_asset), methods=["POST"]),
    Route(PREFIX + "/AssetTypes", _writer(_save_asset_type), methods=["POST"]),
    Route(PREFIX + "/Assets", get_assets, methods=["GET"]),
    Route(PREFIX + "/Assets/{asset_id}", get_asset, methods=["GET"]),
    Route(PREFIX + "/AssetTypes", get_asset_types, methods=["GET"]),
    Route(PREFIX + "/Settings", get_settings, methods=["GET"]),
]

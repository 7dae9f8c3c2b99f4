"""Payroll AU (``payroll.xro/1.0``) for Australian organisations. It follows the Accounting API's
conventions, so its collections are served by the Accounting read side; here are its single
records, its one-object settings and the super fund product lookup. What each route answers is in
docs/apis.md."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import API_PREFIXES, PAYROLL_AU, stored_name
from xero_sandbox.apis.serving import ApiRequest, json_answer
from xero_sandbox.catalog import Record, ResourceSpec
from xero_sandbox.reads import PROVIDER, RecordTest, envelope, not_found, serve_collection
from xero_sandbox.store import encode

__all__ = ["SUPERFUND_PRODUCTS", "routes"]

PREFIX = API_PREFIXES["payroll-au"]
REGIONS = ("AU",)
_SPECS = {spec.name.split("/", 1)[1].lower(): spec for spec in PAYROLL_AU}
# A few APRA-regulated funds' products, as GET /SuperfundProducts lists them (by ABN or USI).
SUPERFUND_PRODUCTS: tuple[dict[str, str], ...] = (
    {"ABN": "65714394898", "USI": "STA0100AU", "SPIN": "", "ProductName": "Australian Super"},
    {"ABN": "76641658449", "USI": "HOS0100AU", "SPIN": "", "ProductName": "HESTA"},
    {"ABN": "88010720840", "USI": "UNI0100AU", "SPIN": "", "ProductName": "UniSuper"},
)


def _call(request: Request) -> ApiRequest:
    return ApiRequest(request, "payroll-au", REGIONS)


def _object(key: str, value: Any) -> Response:
    """Xero's envelope around one object (``{"Payslip": {...}}``)."""
    now = int(datetime.now(UTC).timestamp() * 1000)
    return json_answer(
        {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": PROVIDER,
            "DateTimeUTC": f"/Date({now})/",
            key: value,
        }
    )


def _collection(name: str, keep: RecordTest | None = None) -> Any:
    spec = _SPECS[name.lower()]

    async def handler(request: Request) -> Response:
        call = _call(request)
        return call.refusal or await serve_collection(request, spec, call.tenant_id, keep)

    return handler


def _approved(leave: Record) -> bool:
    """Leave ``/LeaveApplications`` lists: none of its periods an employee's request still
    waiting (REQUESTED) or refused (REJECTED); ``/LeaveApplications/v2`` lists those too."""
    return not any(
        period.get("LeavePeriodStatus") in ("REQUESTED", "REJECTED")
        for period in leave.get("LeavePeriods") or ()
    )


def _one(name: str, param: str, single_key: str | None = None) -> Any:
    spec: ResourceSpec = _SPECS[name.lower()]

    async def handler(request: Request) -> Response:
        call = _call(request)
        if call.refusal:
            return call.refusal
        record = call.ctx.store.get(call.tenant_id, spec.name, request.path_params[param])
        if record is None:
            return not_found()
        call.served(1)
        if single_key:
            return _object(single_key, record)
        return envelope(spec.envelope, encode(record))

    return handler


def _settings_object(name: str) -> Any:
    async def handler(request: Request) -> Response:
        call = _call(request)
        if call.refusal:
            return call.refusal
        found = call.ctx.store.get(call.tenant_id, stored_name("payroll-au", name), name)
        if found is None:
            return not_found()
        call.served(1)
        return _object(name, {k: v for k, v in found.items() if k != "Key"})

    return handler


async def get_superfund_products(request: Request) -> Response:
    """GET /SuperfundProducts?ABN=...|USI=..."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    abn, usi = call.query.get("abn", "").strip(), call.query.get("usi", "").strip().upper()
    found = [
        p
        for p in SUPERFUND_PRODUCTS
        if (not abn or p["ABN"] == abn) and (not usi or p["USI"] == usi)
    ]
    call.served(len(found))
    return _object("SuperFundProducts", found)


def _listed(path: str, name: str, single_key: str | None = None) -> list[BaseRoute]:
    """A collection's route and its one-record route (``/{path}/{ident}``)."""
    return [
        Route(PREFIX + path, _collection(name), methods=["GET"]),
        Route(PREFIX + path + "/{ident}", _one(name, "ident", single_key), methods=["GET"]),
    ]


routes: list[BaseRoute] = [
    *_listed("/Employees", "Employees"),
    Route(PREFIX + "/LeaveApplications/v2", _collection("LeaveApplications"), methods=["GET"]),
    Route(
        PREFIX + "/LeaveApplications", _collection("LeaveApplications", _approved), methods=["GET"]
    ),
    Route(
        PREFIX + "/LeaveApplications/{ident}", _one("LeaveApplications", "ident"), methods=["GET"]
    ),
    Route(PREFIX + "/PayItems", _settings_object("PayItems"), methods=["GET"]),
    *_listed("/PayrollCalendars", "PayrollCalendars"),
    *_listed("/PayRuns", "PayRuns"),
    Route(PREFIX + "/Payslip/{ident}", _one("Payslips", "ident", "Payslip"), methods=["GET"]),
    Route(PREFIX + "/Settings", _settings_object("Settings"), methods=["GET"]),
    *_listed("/Superfunds", "Superfunds"),
    Route(PREFIX + "/SuperfundProducts", get_superfund_products, methods=["GET"]),
    *_listed("/Timesheets", "Timesheets", "Timesheet"),
]

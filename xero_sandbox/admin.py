"""Sandbox-only admin endpoints under ``/_sandbox/`` (not part of Xero)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import COLLECTIONS, PAYROLL_AU
from xero_sandbox.catalog import CATALOG
from xero_sandbox.context import SandboxContext
from xero_sandbox.stats import stats_route

__all__ = ["counts", "routes"]


def counts(ctx: SandboxContext) -> dict[str, dict[str, int]]:
    """Records per tenant and collection, as a default GET serves them.

    "Served" means what a GET without includeArchived/includeDeleted returns: archived contacts
    and tracking categories and deleted bank transfers are left out; voided and deleted
    documents (which Xero does return) are counted. Collections of the other APIs are named
    ``<api>/<Name>`` (``projects/Tasks``: every project's tasks; ``payroll-au/Payslips``).
    """
    result: dict[str, dict[str, int]] = {}
    for tenant in ctx.store.tenants():
        tid = tenant.tenant_id
        result[tid] = {
            spec.name: ctx.store.count(tid, spec.name, spec.hidden_status) for spec in CATALOG
        }
        result[tid].update({c.stored: ctx.store.count(tid, c.stored) for c in COLLECTIONS})
        result[tid].update({spec.name: ctx.store.count(tid, spec.name) for spec in PAYROLL_AU})
    return result


def _counts(request: Request) -> JSONResponse:
    return JSONResponse(counts(request.app.state.ctx))


def _tenants(request: Request) -> JSONResponse:
    ctx: SandboxContext = request.app.state.ctx
    return JSONResponse(
        [
            {
                "tenantId": t.tenant_id,
                "tenantName": t.name,
                "shortCode": t.short_code,
                "empty": t.empty,
            }
            for t in ctx.store.tenants()
        ]
    )


routes: list[BaseRoute] = [
    Route("/_sandbox/counts", _counts, methods=["GET"]),
    Route("/_sandbox/tenants", _tenants, methods=["GET"]),
    stats_route,
]

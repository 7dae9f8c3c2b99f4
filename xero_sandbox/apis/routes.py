"""Every route of the APIs beside Accounting, and of Accounting attachments."""

from __future__ import annotations

from starlette.routing import BaseRoute

from xero_sandbox.apis import (
    assets,
    attachments,
    files,
    files_writes,
    payroll_au,
    payroll_au_writes,
    payroll_v2,
    payroll_v2_writes,
    projects,
)

__all__ = ["routes"]

routes: list[BaseRoute] = [
    *projects.routes,
    *assets.routes,
    *attachments.routes,
    *payroll_au.routes,
    *payroll_au_writes.routes,
    *payroll_v2.routes,
    *payroll_v2_writes.routes,
    *files.routes,
    *files_writes.routes,
]

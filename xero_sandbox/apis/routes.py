"""Every route of the APIs beside Accounting."""

from __future__ import annotations

from starlette.routing import BaseRoute

from xero_sandbox.apis import assets, projects

__all__ = ["routes"]

routes: list[BaseRoute] = [*projects.routes, *assets.routes]

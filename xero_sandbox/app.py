"""Assembly of the sandbox's ASGI app: one origin for identity, the APIs and admin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from xero_sandbox import admin, gate, guard, identity, reads, writes
from xero_sandbox.apis import routes as other_apis
from xero_sandbox.clock import Clock
from xero_sandbox.config import SandboxConfig
from xero_sandbox.context import SandboxContext
from xero_sandbox.ledger import Ledger
from xero_sandbox.seed import seed_if_empty
from xero_sandbox.stats import Stats
from xero_sandbox.store import Store
from xero_sandbox.webhooks import Webhooks

__all__ = ["build_app", "build_context"]


def build_context(config: SandboxConfig) -> SandboxContext:
    """Open (and seed on first use) the store and build the shared state of a server."""
    store = Store(config.db)
    seed_if_empty(store, config)
    clock = Clock(config.time_scale)
    stats = Stats()
    webhooks = Webhooks(config, clock, stats)
    return SandboxContext(
        config=config,
        store=store,
        clock=clock,
        webhooks=webhooks,
        stats=stats,
        ledger=Ledger(store),
    )


def build_app(config: SandboxConfig) -> Starlette:
    """The whole sandbox as a Starlette app (``app.state.ctx`` holds the SandboxContext)."""
    ctx = build_context(config)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await ctx.webhooks.aclose()
            ctx.store.close()

    # Writes come before reads so PUT/POST on a collection path never meet a GET-only route.
    routes = [
        *identity.routes,
        *admin.routes,
        *writes.routes,
        *reads.routes,
        *other_apis.routes,
    ]
    # The guard is outermost: Xero's size and URL bounds apply before authentication.
    middleware = [
        Middleware(guard.Guard, log_requests=config.log_requests),
        Middleware(gate.Gate, ctx),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: guard.http_exception_response},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app

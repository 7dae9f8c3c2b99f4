"""What the sandbox's edge saw: calls, 429s and faults per tenant, refreshes, webhook deliveries.

Served at ``GET /_sandbox/stats`` (sandbox-only, not Xero) so tests and benchmarks can check
what a client actually caused. Counters live in memory and start from zero on each run.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["APP_SCOPE", "Stats", "WebhookReport", "stats_route"]

APP_SCOPE = "_app"  # the key for calls that carry no tenant (``/connections``)


class WebhookReport(Protocol):
    """Anything that can describe its webhook deliveries as JSON (``Webhooks`` does)."""

    def snapshot(self) -> dict[str, Any]:
        """Delivery results as a JSON-ready dict."""
        ...


class Stats:
    """Thread-safe counters of one running sandbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._rate_limited: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._faults: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._tokens: Counter[str] = Counter()

    def count_call(self, tenant_id: str | None) -> None:
        """One API call let through the limits (``tenant_id`` None: a tenantless call)."""
        with self._lock:
            self._calls[tenant_id or APP_SCOPE] += 1

    def count_rate_limited(self, tenant_id: str | None, problem: str) -> None:
        """One 429 answered for ``problem`` (``minute``, ``day``, ``concurrent``, ``appminute``)."""
        with self._lock:
            self._rate_limited[tenant_id or APP_SCOPE][problem] += 1

    def count_fault(self, tenant_id: str | None, kind: str) -> None:
        """One injected fault of ``kind``."""
        with self._lock:
            self._faults[tenant_id or APP_SCOPE][kind] += 1

    def count_token(self, grant_type: str) -> None:
        """One token set issued by ``/connect/token`` for ``grant_type``."""
        with self._lock:
            self._tokens[grant_type] += 1

    @property
    def refreshes(self) -> int:
        """Token sets issued by the refresh_token grant."""
        with self._lock:
            return self._tokens["refresh_token"]

    def snapshot(self) -> dict[str, Any]:
        """All counters as a JSON-ready dict."""
        with self._lock:
            tenants = sorted(set(self._calls) | set(self._rate_limited) | set(self._faults))
            per_tenant = {
                tenant: {
                    "calls": self._calls[tenant],
                    "rate_limited": dict(self._rate_limited[tenant]),
                    "faults": dict(self._faults[tenant]),
                }
                for tenant in tenants
            }
            faults_total: Counter[str] = Counter()
            limited_total: Counter[str] = Counter()
            for counter in self._faults.values():
                faults_total.update(counter)
            for counter in self._rate_limited.values():
                limited_total.update(counter)
            return {
                "tenants": per_tenant,
                "calls": sum(self._calls.values()),
                "rate_limited": dict(limited_total),
                "faults": dict(faults_total),
                "tokens_issued": dict(self._tokens),
                "refreshes": self._tokens["refresh_token"],
            }


async def _stats(request: Request) -> JSONResponse:
    ctx = request.app.state.ctx
    body = ctx.stats.snapshot()
    webhooks: WebhookReport | None = getattr(ctx, "webhooks", None)
    body["webhooks"] = webhooks.snapshot() if webhooks is not None else None
    return JSONResponse(body)


stats_route = Route("/_sandbox/stats", _stats, methods=["GET"])

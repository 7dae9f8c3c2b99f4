"""Per-tenant usage counters for the end-of-run report.

The client counts every call it makes; the tap and the target print :meth:`Usage.summary_lines`
at the end of a run and emit :meth:`Usage.as_dict` as singer-sdk metrics. Tenantless calls
(``/connections``, custom connections) are counted under ``"-"``.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TenantUsage", "Usage"]

NO_TENANT = "-"


@dataclass
class TenantUsage:
    """Counters of one tenant."""

    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    day_quota_left: int | None = None
    waited_seconds: float = 0.0
    # Disjoint (start, end) monotonic intervals spent waiting, sorted: threads of one tenant
    # often wait at once, and the wall-clock time waited is their union, not their sum.
    waiting: list[tuple[float, float]] = field(default_factory=list, repr=False)

    def add_wait(self, start: float, end: float) -> None:
        """Merge one waiting interval into ``waiting`` and recompute ``waited_seconds``."""
        spans = self.waiting
        first = bisect.bisect_left(spans, (start, start))
        if first and spans[first - 1][1] >= start:
            first -= 1
        last = first
        merged = 0.0
        while last < len(spans) and spans[last][0] <= end:
            merged += spans[last][1] - spans[last][0]
            start, end = min(start, spans[last][0]), max(end, spans[last][1])
            last += 1
        spans[first:last] = [(start, end)]
        self.waited_seconds += end - start - merged

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form (for metrics and JSON)."""
        return {
            "calls": self.calls,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "faults": dict(sorted(self.faults.items())),
            "day_quota_left": self.day_quota_left,
            "waited_seconds": round(self.waited_seconds, 3),
        }


class Usage:
    """Thread-safe usage counters keyed by tenant ID."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tenants: dict[str, TenantUsage] = {}

    def _get(self, tenant_id: str | None) -> TenantUsage:
        key = tenant_id or NO_TENANT
        usage = self._tenants.get(key)
        if usage is None:
            usage = self._tenants[key] = TenantUsage()
        return usage

    def call(self, tenant_id: str | None) -> None:
        """One HTTP request was sent (retries included)."""
        with self._lock:
            self._get(tenant_id).calls += 1

    def retry(self, tenant_id: str | None, fault: str) -> None:
        """A request is being retried after ``fault`` (e.g. ``http_503``, ``timeout``)."""
        with self._lock:
            usage = self._get(tenant_id)
            usage.retries += 1
            usage.faults[fault] += 1

    def fault(self, tenant_id: str | None, fault: str) -> None:
        """A fault that was not retried (it ended the request)."""
        with self._lock:
            self._get(tenant_id).faults[fault] += 1

    def rate_limited(self, tenant_id: str | None, problem: str) -> None:
        """Xero answered 429 (``problem`` from X-Rate-Limit-Problem)."""
        with self._lock:
            usage = self._get(tenant_id)
            usage.rate_limited += 1
            usage.faults[f"429_{problem or 'unknown'}"] += 1

    def waited(self, tenant_id: str | None, start: float, end: float) -> None:
        """Waiting for rate limits or backoff from ``start`` to ``end`` (monotonic seconds)."""
        if end > start:
            with self._lock:
                self._get(tenant_id).add_wait(start, end)

    def day_quota(self, tenant_id: str | None, remaining: int) -> None:
        """Last seen X-DayLimit-Remaining."""
        with self._lock:
            self._get(tenant_id).day_quota_left = remaining

    def tenant(self, tenant_id: str | None) -> TenantUsage:
        """A copy of one tenant's counters."""
        with self._lock:
            usage = self._get(tenant_id)
            return TenantUsage(
                usage.calls,
                usage.retries,
                usage.rate_limited,
                Counter(usage.faults),
                usage.day_quota_left,
                usage.waited_seconds,
                list(usage.waiting),
            )

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Counters by tenant (calls, retries, rate_limited, faults, day_quota_left, waited_s:
        the wall-clock seconds during which at least one of the tenant's calls was waiting)."""
        with self._lock:
            return {tenant: u.as_dict() for tenant, u in sorted(self._tenants.items())}

    def summary_lines(self) -> list[str]:
        """One line per tenant.

        ``tenant=<id> calls=.. retries=.. rate_limited=.. day_quota_left=.. faults=.. waited_s=..``
        """
        lines = []
        for tenant, usage in self.as_dict().items():
            faults = ",".join(f"{k}:{v}" for k, v in usage["faults"].items()) or "none"
            left = usage["day_quota_left"]
            lines.append(
                f"tenant={tenant} calls={usage['calls']} retries={usage['retries']} "
                f"rate_limited={usage['rate_limited']} "
                f"day_quota_left={'unknown' if left is None else left} faults={faults} "
                f"waited_s={usage['waited_seconds']}"
            )
        return lines

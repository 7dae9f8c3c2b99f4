"""Client-side pacing within Xero's rate limits: :class:`RateLimiter`, shared by every thread of
one client."""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["CONCURRENCY_PER_TENANT", "AppBudget", "RateLimiter"]

CONCURRENCY_PER_TENANT = 5
_APP = "\x00app"
_RESOLUTION = 1.0


@dataclass
class _Budget:
    remaining: int | None = None  # last reported by Xero
    limit: int = 0  # the window's size as far as seen: the highest report, plus its own call
    reported_at_send: float = float("-inf")  # send time of the request that reported it
    sends: list[float] = field(default_factory=list)  # send times after that request
    in_flight: list[float] = field(default_factory=list)  # send times of unanswered calls
    blocked_until: float = 0.0  # from Retry-After
    probing: bool = False
    boundary: float | None = None  # a window reset moment revealed by Retry-After
    window: float | None = None  # window length learned from successive boundaries
    _gap_total: float = 0.0
    _periods: int = 0

    def delay(self, now: float) -> float | None:
        """0 to go now, seconds to wait, None to wait for a running probe, -1 to go as probe."""
        if self.blocked_until > now:
            return self.blocked_until - now
        if self.remaining is None or self.available() > 0:
            return 0.0
        if self.boundary is not None and self.window is not None:
            # Fixed windows: the one the last report was made in ends at the next boundary.
            periods = math.floor((self.reported_at_send - self.boundary) / self.window) + 1
            # Retry-After comes in whole seconds, so boundaries and length are known to +-1 s.
            ends = self.boundary + periods * self.window + _RESOLUTION
            if now < ends:
                return ends - now
            self.remaining = None  # a fresh window has begun
            self.sends.clear()
            return 0.0
        # Unanswered calls will bring fresher figures; probe only when none are out.
        return None if self.probing or self.in_flight else -1.0

    def available(self) -> int:
        """Calls left: the report, less calls sent after it and calls still unanswered that
        Xero may or may not have counted in it (conservative: they answer soon anyway)."""
        assert self.remaining is not None
        earlier = sum(1 for t in self.in_flight if t <= self.reported_at_send)
        return self.remaining - len(self.sends) - earlier

    def answered(self, sent_at: float) -> None:
        with contextlib.suppress(ValueError):
            self.in_flight.remove(sent_at)

    def learn_boundary(self, boundary: float) -> None:
        """Remember a reset moment; successive ones give the window length.

        Each boundary is late by up to a second (Retry-After is rounded up), so the length is
        the mean over every gap, each gap counted as the whole number of windows it spans.
        """
        if self.boundary is not None:
            gap = boundary - self.boundary
            if gap >= 0.5:
                if self.window is None or gap < 0.75 * self.window:
                    self._gap_total, self._periods = gap, 1
                else:
                    self._gap_total += gap
                    self._periods += max(1, round(gap / self.window))
                self.window = self._gap_total / self._periods
        self.boundary = boundary

    def observe(self, remaining: int, sent_at: float) -> None:
        if sent_at < self.reported_at_send:
            # An older request answered late. Xero may have counted it after newer ones, so a
            # lower figure still tells something; a higher one is stale.
            if self.remaining is not None and remaining < self.remaining:
                self.remaining = remaining
            return
        self.remaining = remaining
        self.limit = max(self.limit, remaining + 1)
        self.reported_at_send = sent_at
        # Calls sent after this one may not be counted in its header yet.
        self.sends = [t for t in self.sends if t > sent_at]
        self.probing = False


class AppBudget(Protocol):
    """Calls shared by every process of one app (across hosts)."""

    def draw(self) -> None:
        """Take one call, waiting until there is one."""
        ...


Ticket = tuple[float, int]  # (-priority, arrival): the smallest is served first


@dataclass
class _Lane:
    """One caller thread's chain of calls to a tenant."""

    priority: float
    holding: int = 0  # slots held now
    since: float = 0.0  # when its last call was sent
    until: float = math.inf  # counts as active until then (one round trip after its call)


@dataclass
class _Tenant:
    in_use: int = 0  # slots held
    for_slot: list[Ticket] = field(default_factory=list)
    for_budget: list[Ticket] = field(default_factory=list)
    lanes: dict[int, _Lane] = field(default_factory=dict)

    def ranked_above(self, priority: float, now: float) -> int:
        """Chains of this tenant, active now, with a higher priority than ``priority``."""
        for ident in [i for i, lane in self.lanes.items() if lane.until <= now]:
            del self.lanes[ident]
        return sum(1 for lane in self.lanes.values() if lane.priority > priority)


class RateLimiter:
    """Thread-safe pacing for all tenants of one client.

    Xero allows, per tenant, 5 calls in flight, 60 a minute and 5,000 (1,000 on Starter) a day,
    and per app 10,000 a minute; every answer reports what is left (``X-MinLimit-Remaining``,
    ``X-DayLimit-Remaining``, ``X-AppMinLimit-Remaining``). Windows are fixed and reset at a
    moment, different for each tenant, that the client cannot see. So:

    * a semaphore of 5 per tenant caps calls in flight;
    * each budget (tenant minute, tenant day, app minute) is the last remaining value reported,
      less the calls sent since; a call goes out only while every budget is positive;
    * a spent budget lets a single probe through (Xero does not count refused calls) until an
      answer shows a fresh window or brings ``Retry-After``;
    * after a 429 the breached budget is blocked for ``Retry-After``. Each one reveals a reset
      moment of that fixed window, and two of them its length, so later windows are waited out
      ahead of time;
    * within a tenant the call of highest ``priority`` (work its caller still has to do; None
      ranks first) goes first, and the minute budget keeps ``limit // 5`` calls in reserve for
      each chain of calls ranked above, so the longest read is not starved;
    * with an ``app_budget`` (:class:`~xero_api.postgres.SharedAppBudget`) every call also
      draws from one budget shared by every process of the app.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        concurrency: int = CONCURRENCY_PER_TENANT,
        app_budget: AppBudget | None = None,
    ) -> None:
        self._clock = clock
        self._app_budget = app_budget
        self._concurrency = concurrency
        self._cond = threading.Condition()
        self._tenants: dict[str, _Tenant] = {}
        self._budgets: dict[tuple[str, str], _Budget] = {}
        self._arrivals = itertools.count()

    def _budget(self, key: str, kind: str) -> _Budget:
        budget = self._budgets.get((key, kind))
        if budget is None:
            budget = self._budgets[(key, kind)] = _Budget()
        return budget

    def _tenant(self, key: str) -> _Tenant:
        tenant = self._tenants.get(key)
        if tenant is None:
            tenant = self._tenants[key] = _Tenant()
        return tenant

    @contextlib.contextmanager
    def slot(
        self, tenant_id: str | None, priority: float | None = None
    ) -> Iterator[Callable[[], float]]:
        """Hold one of the tenant's 5 slots; yields a function that waits for budget and
        returns the send time to pass to :meth:`observe` (call it right before sending).

        ``priority``: the caller's work still to do (higher goes first; None ranks first).
        """
        key = tenant_id or "-"
        rank = math.inf if priority is None else float(priority)
        ticket: Ticket = (-rank, next(self._arrivals))
        with self._cond:
            tenant = self._tenant(key)
            tenant.for_slot.append(ticket)
            try:
                while tenant.in_use >= self._concurrency or min(tenant.for_slot) != ticket:
                    self._cond.wait()
            finally:
                tenant.for_slot.remove(ticket)  # also when interrupted: never block the queue
                self._cond.notify_all()  # the next in line may find a slot too
            tenant.in_use += 1
            ident = threading.get_ident()
            lane = tenant.lanes.get(ident)
            if lane is None or lane.until <= self._clock():
                lane = tenant.lanes[ident] = _Lane(rank)
            lane.priority, lane.holding, lane.since = rank, lane.holding + 1, self._clock()
            lane.until = math.inf
        try:
            yield lambda: self._go(key, ticket)
        finally:
            with self._cond:
                tenant.in_use -= 1
                lane.holding -= 1
                if not lane.holding:
                    now = self._clock()
                    lane.until = now + (now - lane.since)
                self._cond.notify_all()

    def _go(self, key: str, ticket: Ticket) -> float:
        sent_at = self._wait_for_budget(key, ticket)
        if self._app_budget is not None:
            # Outside the condition: other tenants' calls go on while this one waits its turn.
            self._app_budget.draw()
        return sent_at

    def _budgets_for(self, key: str) -> list[_Budget]:
        # "-" (no tenant header) is a custom connection's one tenant, or /connections.
        return [self._budget(_APP, "minute"), self._budget(key, "minute"), self._budget(key, "day")]

    def _wait_for_budget(self, key: str, ticket: Ticket) -> float:
        with self._cond:
            tenant = self._tenant(key)
            tenant.for_budget.append(ticket)
            try:
                while True:
                    if min(tenant.for_budget) != ticket:
                        self._cond.wait(timeout=1.0)  # a call ranked above goes first
                        continue
                    now = self._clock()
                    budgets = self._budgets_for(key)
                    delays = [b.delay(now) for b in budgets]
                    positive = [d for d in delays if d is not None and d > 0]
                    if positive:
                        self._cond.wait(timeout=max(positive))
                        continue
                    if any(d is None for d in delays):
                        self._cond.wait(timeout=1.0)
                        continue
                    kept_back = self._kept_back(tenant, key, ticket, now)
                    if kept_back is not None:
                        self._cond.wait(timeout=kept_back)
                        continue
                    for budget, delay in zip(budgets, delays, strict=True):
                        budget.sends.append(now)
                        budget.in_flight.append(now)
                        if len(budget.sends) > 1000:  # no headers seen for a long time
                            del budget.sends[:500]
                        if delay is not None and delay < 0:
                            budget.probing = True
                    lane = tenant.lanes.get(threading.get_ident())
                    if lane is not None:
                        lane.since = now
                    return now
            finally:
                tenant.for_budget.remove(ticket)
                self._cond.notify_all()

    def _kept_back(self, tenant: _Tenant, key: str, ticket: Ticket, now: float) -> float | None:
        """None when the call may use the tenant minute budget; else how long to wait at
        most, because what is left is the reserve of chains ranked above it."""
        budget = self._budget(key, "minute")
        if budget.remaining is None:
            return None
        above = tenant.ranked_above(-ticket[0], now)
        if not above or budget.available() > above * max(1, budget.limit // self._concurrency):
            return None
        ends = [lane.until - now for lane in tenant.lanes.values() if lane.until < math.inf]
        return min([1.0, *ends])

    def observe(
        self,
        tenant_id: str | None,
        sent_at: float,
        minute_remaining: int | None,
        day_remaining: int | None,
        app_remaining: int | None,
    ) -> None:
        """Record the limit headers of a response to a request sent at ``sent_at``."""
        key = tenant_id or "-"
        with self._cond:
            for budget in self._budgets_for(key):
                budget.answered(sent_at)
            if app_remaining is not None:
                self._budget(_APP, "minute").observe(app_remaining, sent_at)
            if minute_remaining is not None:
                self._budget(key, "minute").observe(minute_remaining, sent_at)
            if day_remaining is not None:
                self._budget(key, "day").observe(day_remaining, sent_at)
            self._end_probes(key)
            self._cond.notify_all()

    def _end_probes(self, key: str) -> None:
        for budget in self._budgets_for(key):
            budget.probing = False

    def block(self, tenant_id: str | None, problem: str, seconds: float) -> None:
        """After a 429: hold the breached budget for ``seconds`` (Retry-After)."""
        key = tenant_id or "-"
        with self._cond:
            until = self._clock() + seconds
            if problem in ("appminute", "app"):
                budgets = [self._budget(_APP, "minute")]
            elif problem in ("day", "daily"):
                budgets = [self._budget(key, "day")]
            else:  # minute, concurrent or unknown
                budgets = [self._budget(key, "minute")]
            for budget in budgets:
                if problem in ("minute", "appminute", "app", "day", "daily"):
                    budget.learn_boundary(until)
                budget.blocked_until = max(budget.blocked_until, until)
                budget.remaining = None  # the window after the wait is fresh
                budget.sends.clear()
            self._end_probes(key)
            self._cond.notify_all()

    def abandon(self, tenant_id: str | None, sent_at: float) -> None:
        """A request ended without limit headers (fault): forget it, let another call probe."""
        key = tenant_id or "-"
        with self._cond:
            for budget in self._budgets_for(key):
                budget.answered(sent_at)
            self._end_probes(key)
            self._cond.notify_all()

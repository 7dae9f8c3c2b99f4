"""Xero's documented rate limits: per tenant 60/minute, 5,000/day, 5 at once; per app 10,000/minute.

Windows are fixed and, as at Xero, reset at a different moment for each tenant (an offset taken
from the tenant id). Every window is in sandbox seconds, so ``--time-scale`` shrinks it. A call
that is refused is not counted. ``Retry-After`` is the wall-clock time until the breached window
resets, in whole seconds rounded up and at least 1, because a client sleeps in real seconds.
Day counters are written to SQLite so a restarted sandbox on the same ``--db`` remembers them.

Hand-written: the fixed, per-tenant-offset windows and Xero's headers are what is being emulated.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass, field

from xero_sandbox.clock import Clock
from xero_sandbox.config import SandboxConfig
from xero_sandbox.store import side_connection, write_lock

__all__ = ["DAY", "MINUTE", "Admission", "Limits"]

MINUTE = 60.0
DAY = 86_400.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS edge_day_usage (
    tenant_id TEXT PRIMARY KEY,
    day_index INTEGER NOT NULL,
    calls INTEGER NOT NULL
)
"""


@dataclass
class Admission:
    """The limits' answer to one call: let it through, or refuse it with a 429."""

    allowed: bool
    headers: dict[str, str]
    problem: str | None = None  # X-Rate-Limit-Problem when refused
    retry_after: int | None = None  # whole wall-clock seconds when refused


@dataclass
class _Window:
    length: float
    offset: float
    index: int = -1
    used: int = 0

    def roll(self, now: float) -> bool:
        """Move to the window holding ``now``; True when a new window started."""
        index = math.floor((now - self.offset) / self.length)
        if index != self.index:
            self.index, self.used = index, 0
            return True
        return False

    def resets_at(self) -> float:
        return (self.index + 1) * self.length + self.offset


@dataclass
class _Tenant:
    minute: _Window
    day: _Window
    in_flight: int = 0
    loaded: bool = field(default=False)


def _offset(tenant_id: str, length: float) -> float:
    digest = hashlib.sha256(tenant_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % int(length)


class Limits:
    """Counts calls per tenant and per app and decides who gets a 429."""

    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._apps: dict[str, _Window] = {}  # by client ID: each app has its own minute
        self._tenants: dict[str, _Tenant] = {}
        self._db = side_connection(config.db)
        self._write_turn = write_lock(config.db)
        with self._write_turn:
            self._db.execute(_SCHEMA)

    def close(self) -> None:
        """Close the day-counter database connection."""
        self._db.close()

    def _tenant(self, tenant_id: str) -> _Tenant:
        state = self._tenants.get(tenant_id)
        if state is None:
            state = _Tenant(
                minute=_Window(MINUTE, _offset(tenant_id, MINUTE)),
                day=_Window(DAY, _offset(tenant_id, DAY)),
            )
            self._tenants[tenant_id] = state
        return state

    def _roll_day(self, tenant_id: str, state: _Tenant, now: float) -> None:
        state.day.roll(now)
        if not state.loaded:
            state.loaded = True
            row = self._db.execute(
                "SELECT day_index, calls FROM edge_day_usage WHERE tenant_id = ?", (tenant_id,)
            ).fetchone()
            if row is not None and row[0] == state.day.index:
                state.day.used = int(row[1])

    def _retry_after(self, resets_at: float, now: float) -> int:
        return max(1, math.ceil(self._clock.real_seconds(resets_at - now)))

    def _app(self, client_id: str, now: float) -> _Window:
        window = self._apps.get(client_id)
        if window is None:
            window = self._apps[client_id] = _Window(MINUTE, 0.0)
        window.roll(now)
        return window

    def _headers(self, app: _Window, state: _Tenant | None) -> dict[str, str]:
        config = self._config
        headers = {"X-AppMinLimit-Remaining": str(max(0, config.app_minute_limit - app.used))}
        if state is not None:
            headers["X-MinLimit-Remaining"] = str(max(0, config.minute_limit - state.minute.used))
            headers["X-DayLimit-Remaining"] = str(max(0, config.day_limit - state.day.used))
        return headers

    def admit(self, tenant_id: str | None, client_id: str = "") -> Admission:
        """Count a call of app ``client_id`` and hold a concurrency slot, or refuse it (not
        counted) with a 429. Every admitted call must be paired with ``release(tenant_id)``
        when its response ends.
        """
        config = self._config
        with self._lock:
            now = self._clock.now()
            app = self._app(client_id, now)
            state = None
            refusal: tuple[str, float] | None = None
            if tenant_id is not None:
                state = self._tenant(tenant_id)
                state.minute.roll(now)
                self._roll_day(tenant_id, state, now)
                if state.day.used >= config.day_limit:
                    refusal = ("day", state.day.resets_at())
                elif state.minute.used >= config.minute_limit:
                    refusal = ("minute", state.minute.resets_at())
            if refusal is None and app.used >= config.app_minute_limit:
                refusal = ("appminute", app.resets_at())
            if refusal is None and state is not None and state.in_flight >= config.concurrent_limit:
                refusal = ("concurrent", now)
            if refusal is not None:
                problem, resets_at = refusal
                return Admission(
                    allowed=False,
                    headers=self._headers(app, state),
                    problem=problem,
                    retry_after=self._retry_after(resets_at, now),
                )
            app.used += 1
            if state is not None and tenant_id is not None:
                state.minute.used += 1
                state.day.used += 1
                state.in_flight += 1
                self._save_day(tenant_id, state.day)
            return Admission(allowed=True, headers=self._headers(app, state))

    def _save_day(self, tenant_id: str, day: _Window) -> None:
        with self._write_turn:
            self._db.execute(
                "INSERT INTO edge_day_usage (tenant_id, day_index, calls) VALUES (?, ?, ?) "
                "ON CONFLICT (tenant_id) DO UPDATE SET "
                "day_index = excluded.day_index, calls = excluded.calls",
                (tenant_id, day.index, day.used),
            )

    def minute_breach(self, tenant_id: str, client_id: str = "") -> Admission:
        """A refusal as if the tenant's minute limit were spent (the ``rate_limit`` fault)."""
        with self._lock:
            now = self._clock.now()
            state = self._tenant(tenant_id)
            state.minute.roll(now)
            self._roll_day(tenant_id, state, now)
            headers = self._headers(self._app(client_id, now), state)
            headers["X-MinLimit-Remaining"] = "0"
            return Admission(
                allowed=False,
                headers=headers,
                problem="minute",
                retry_after=self._retry_after(state.minute.resets_at(), now),
            )

    def release(self, tenant_id: str | None) -> None:
        """Give back the concurrency slot of an admitted call."""
        if tenant_id is None:
            return
        with self._lock:
            state = self._tenants.get(tenant_id)
            if state is not None and state.in_flight > 0:
                state.in_flight -= 1

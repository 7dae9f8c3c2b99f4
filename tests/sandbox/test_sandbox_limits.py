"""Rate limits over real HTTP: headers, minute/day/concurrent/app-minute 429s, Retry-After."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import httpx

from xero_sandbox.clock import Clock
from xero_sandbox.config import SandboxConfig
from xero_sandbox.launcher import Sandbox
from xero_sandbox.limits import Limits


def organisation(sb: Sandbox, tenant: str) -> httpx.Response:
    return httpx.get(f"{sb.url}/api.xro/2.0/Organisation", headers=sb.headers(tenant), timeout=60)


def spend_until_429(sb: Sandbox, tenants: list[str], header: str, limit: int) -> httpx.Response:
    """Call round-robin until a 429; assert exactly ``limit`` calls fitted in the window.

    Windows are fixed and may reset while we count: a rise in ``header`` means a new window
    started, so counting starts again.
    """
    used_in_window = 0
    previous: int | None = None
    for attempt in range(limit * 5):
        answer = organisation(sb, tenants[attempt % len(tenants)])
        if answer.status_code == 429:
            assert used_in_window == limit
            return answer
        assert answer.status_code == 200, answer.text
        remaining = int(answer.headers[header])
        if previous is not None and remaining > previous:
            used_in_window = 0
        used_in_window += 1
        assert remaining == limit - used_in_window
        previous = remaining
    raise AssertionError("never rate limited")


def test_headers_with_xero_defaults() -> None:
    with Sandbox(tenants=2, scale=2) as sb:
        tenant = sb.tenant_ids()[0]
        first = organisation(sb, tenant)
        assert first.status_code == 200
        assert first.headers["x-minlimit-remaining"] == "59"
        assert first.headers["x-daylimit-remaining"] == "4999"
        assert first.headers["x-appminlimit-remaining"] == "9999"
        # Tenantless calls carry only the app header.
        tenantless = httpx.get(f"{sb.url}/connections", headers=sb.headers())
        assert tenantless.status_code == 200
        assert "x-appminlimit-remaining" in tenantless.headers
        assert "x-minlimit-remaining" not in tenantless.headers
        assert "x-daylimit-remaining" not in tenantless.headers
        # The other tenant has windows of its own.
        other = organisation(sb, sb.tenant_ids()[1])
        assert other.headers["x-daylimit-remaining"] == "4999"


def test_minute_limit_429_is_not_counted() -> None:
    with Sandbox(tenants=1, scale=2, minute_limit=10) as sb:
        tenant = sb.tenant_ids()[0]
        refused = spend_until_429(sb, [tenant], "x-minlimit-remaining", 10)
        assert refused.headers["x-rate-limit-problem"] == "minute"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["x-minlimit-remaining"] == "0"
        day_left = int(refused.headers["x-daylimit-remaining"])
        again = organisation(sb, tenant)
        if again.status_code == 429:  # still the same window: the refusals were not counted
            assert int(again.headers["x-daylimit-remaining"]) == day_left
        stats = sb.stats()
        assert stats["tenants"][tenant]["rate_limited"]["minute"] >= 1
        assert stats["rate_limited"]["minute"] >= 1


def test_retry_after_is_in_wall_clock_seconds_under_time_scale() -> None:
    # 60x: the minute window lasts one real second.
    with Sandbox(tenants=1, scale=2, minute_limit=3, time_scale=60) as sb:
        tenant = sb.tenant_ids()[0]
        answer = None
        for _ in range(40):
            answer = organisation(sb, tenant)
            if answer.status_code == 429:
                break
        assert answer is not None
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "1"
        time.sleep(int(answer.headers["retry-after"]))
        assert organisation(sb, tenant).status_code == 200


def test_day_limit_survives_a_restart() -> None:
    with Sandbox(tenants=1, scale=2, day_limit=5) as sb:
        tenant = sb.tenant_ids()[0]
        lefts = [organisation(sb, tenant).headers["x-daylimit-remaining"] for _ in range(5)]
        assert lefts == ["4", "3", "2", "1", "0"]
        refused = organisation(sb, tenant)
        assert refused.status_code == 429
        assert refused.headers["x-rate-limit-problem"] == "day"
        assert 1 <= int(refused.headers["retry-after"]) <= 86_400
        sb.restart()
        after = organisation(sb, tenant)
        assert after.status_code == 429
        assert after.headers["x-rate-limit-problem"] == "day"


def test_concurrent_limit() -> None:
    with Sandbox(tenants=1, scale=2, concurrent_limit=2, latency_ms=2000) as sb:
        tenant = sb.tenant_ids()[0]
        headers = sb.headers(tenant)
        barrier = threading.Barrier(5)
        answers: list[httpx.Response] = []
        lock = threading.Lock()

        def call() -> None:
            barrier.wait()
            answer = httpx.get(f"{sb.url}/api.xro/2.0/Organisation", headers=headers, timeout=60)
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=call) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ok = [a for a in answers if a.status_code == 200]
        refused = [a for a in answers if a.status_code == 429]
        assert 1 <= len(ok) <= 2
        assert len(ok) + len(refused) == 5
        assert {a.headers["x-rate-limit-problem"] for a in refused} == {"concurrent"}
        assert {a.headers["retry-after"] for a in refused} == {"1"}
        assert sb.stats()["rate_limited"]["concurrent"] == len(refused)


def test_app_minute_limit_spans_tenants() -> None:
    with Sandbox(tenants=2, scale=2, app_minute_limit=4) as sb:
        sb.headers()  # authorize before counting
        refused = spend_until_429(sb, sb.tenant_ids(), "x-appminlimit-remaining", 4)
        assert refused.headers["x-rate-limit-problem"] == "appminute"
        assert refused.headers["x-appminlimit-remaining"] == "0"
        assert 1 <= int(refused.headers["retry-after"]) <= 60


# ----------------------------------------------------------------- unit: windows and rounding


class FrozenClock(Clock):
    """A clock the test moves by hand (sandbox seconds)."""

    def __init__(self, time_scale: float, start: float) -> None:
        super().__init__(time_scale)
        self.at = start

    def now(self) -> float:
        return self.at


def test_fixed_windows_retry_after_rounding_and_release(tmp_path: Path) -> None:
    config = SandboxConfig(db=tmp_path / "limits.db", minute_limit=2, concurrent_limit=1)
    clock = FrozenClock(time_scale=7.0, start=1_000_000.0)
    limits = Limits(config, clock)
    tenant = "11111111-1111-1111-1111-111111111111"
    assert limits.admit(tenant).allowed
    busy = limits.admit(tenant)
    assert busy.problem == "concurrent"
    assert busy.retry_after == 1
    limits.release(tenant)
    assert limits.admit(tenant).allowed
    limits.release(tenant)
    spent = limits.admit(tenant)
    assert spent.problem == "minute"
    assert spent.headers["X-MinLimit-Remaining"] == "0"
    # Sandbox seconds to the reset, shown in wall-clock seconds (divided by 7), rounded up.
    assert spent.retry_after is not None
    assert 1 <= spent.retry_after <= math.ceil(60 / 7)
    clock.at += 60  # one whole window later the tenant may call again
    assert limits.admit(tenant).allowed
    limits.close()

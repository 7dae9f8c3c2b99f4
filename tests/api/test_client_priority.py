"""The rate limiter serves a tenant's longest work first (xero_api/limits.py, priority)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from xero_api.limits import RateLimiter

TENANT = "tenant-a"
OTHER = "tenant-b"


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _hold_a_slot(
    limiter: RateLimiter, tenant: str, priority: float
) -> tuple[threading.Thread, threading.Event]:
    """A read of ``priority`` that sends one call and holds its slot until the event is set."""
    sent, release = threading.Event(), threading.Event()

    def read() -> None:
        with limiter.slot(tenant, priority) as wait:
            wait()
            sent.set()
            release.wait(10)

    thread = threading.Thread(target=read)
    thread.start()
    sent.wait(10)
    return thread, release


def _waiting(limiter: RateLimiter, tenant: str, stage: str) -> int:
    with limiter._cond:
        state = limiter._tenants.get(tenant)
        if state is None:
            return 0
        return len(state.for_slot if stage == "slot" else state.for_budget)


def _waiting_is(limiter: RateLimiter, stage: str, count: int) -> Callable[[], bool]:
    return lambda: _waiting(limiter, TENANT, stage) == count


def _call(
    limiter: RateLimiter, tenant: str, priority: float | None, log: list[str], name: str
) -> threading.Thread:
    def run() -> None:
        with limiter.slot(tenant, priority) as wait:
            sent = wait()
            log.append(name)
            limiter.observe(tenant, sent, None, None, None)

    return threading.Thread(target=run, name=name)


def test_a_free_slot_goes_to_the_longest_work_first() -> None:
    limiter = RateLimiter(clock=FakeClock(), concurrency=1)
    order: list[str] = []
    with limiter.slot(TENANT) as wait:
        wait()
        threads = []
        for name, priority in (("short", 2.0), ("long", 90.0), ("unknown", None), ("mid", 40.0)):
            thread = _call(limiter, TENANT, priority, order, name)
            thread.start()
            threads.append(thread)
            _wait_until(_waiting_is(limiter, "slot", len(threads)))
    for thread in threads:
        thread.join(10)
    # Unknown work (a read's first call) ranks first; equal ranks keep their arrival order.
    assert order == ["unknown", "long", "mid", "short"]


def test_spent_budget_goes_to_the_longest_work_when_the_window_resets() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    with limiter.slot(TENANT) as wait:
        sent = wait()
    limiter.block(TENANT, "minute", 30.0)  # a 429: nothing goes for 30 s
    order: list[str] = []
    threads = [
        _call(limiter, TENANT, priority, order, name)
        for name, priority in (("short", 3.0), ("long", 80.0), ("mid", 20.0))
    ]
    for count, thread in enumerate(threads, start=1):
        thread.start()
        _wait_until(_waiting_is(limiter, "budget", count))
    assert order == []
    clock.now += 31.0
    with limiter._cond:
        limiter._cond.notify_all()  # the waits' own timeouts are in real seconds
    for thread in threads:
        thread.join(10)
    assert order == ["long", "mid", "short"]
    assert sent < clock.now


def test_shorter_reads_leave_a_reserve_of_the_minute_budget_to_longer_ones() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    with limiter.slot(TENANT, 100.0) as wait:  # learn the window: 60 calls, 59 left
        first = wait()
    limiter.observe(TENANT, first, minute_remaining=59, day_remaining=4999, app_remaining=9999)
    clock.now += 1.0  # sent after the report (the report counts calls up to its own)
    long_thread, long_read_done = _hold_a_slot(limiter, TENANT, 100.0)
    # 59 left, one of them taken by the long read in flight: the short read may use all but
    # the long read's reserve of 60 // 5 = 12.

    def short_read(finished: threading.Event) -> threading.Thread:
        def run() -> None:
            with limiter.slot(TENANT, 5.0) as wait:
                wait()
            finished.set()

        clock.now += 0.01
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    for _ in range(58 - 12):
        done = threading.Event()
        short_read(done).join(10)
        assert done.is_set()
    done = threading.Event()
    thread = short_read(done)
    # The long read is still under way: the next short call waits, the reserve untouched ...
    assert not done.wait(0.3)
    # ... and once the long read has gone (and its round trip has passed), the rest is free.
    long_read_done.set()
    long_thread.join(10)
    clock.now += 60.0
    with limiter._cond:
        limiter._cond.notify_all()
    assert done.wait(10)
    thread.join(10)


def test_calls_without_priority_and_other_tenants_are_not_held_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    for tenant in (TENANT, OTHER):
        with limiter.slot(tenant) as wait:
            sent = wait()
        limiter.observe(tenant, sent, minute_remaining=2, day_remaining=100, app_remaining=9999)
    thread, release = _hold_a_slot(limiter, TENANT, 1000.0)
    try:
        # Another tenant's budget is its own: no reserve for this tenant's long read.
        with limiter.slot(OTHER, 1.0) as wait:
            wait()
        # Equal (unknown) ranks share the budget first come, first served, as before.
        plain = RateLimiter(clock=clock)
        with plain.slot(TENANT) as wait:
            sent = wait()
        plain.observe(TENANT, sent, minute_remaining=1, day_remaining=100, app_remaining=9999)
        with plain.slot(TENANT) as wait:
            wait()
    finally:
        release.set()
        thread.join(10)

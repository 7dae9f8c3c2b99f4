"""Shared fixtures: real xero-sandbox servers on loopback (see xero_sandbox.launcher)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from xero_sandbox.launcher import Sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A small world shared by a whole test session: 2 Demo Companies, 40 invoices each.

    Rate limits are raised so that many tests can share it; limit tests start their own.
    """
    with Sandbox(
        tenants=2,
        scale=40,
        seed=7,
        minute_limit=100_000,
        day_limit=1_000_000,
        app_minute_limit=1_000_000,
    ) as sb:
        yield sb


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with custom serve flags; all are stopped when the test ends."""
    started: list[Sandbox] = []

    def make(**flags: Any) -> Sandbox:
        sb = Sandbox(**flags).start()
        started.append(sb)
        return sb

    yield make
    for sb in reversed(started):
        sb.stop()

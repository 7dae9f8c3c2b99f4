"""The tap tells the rate limiter how much of each paged read is left (over HTTP, sandbox)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

from tap_xero.streams import TENANT_KEY
from tap_xero.tap import TapXero
from tests._tap_support import client_credentials_config
from xero_sandbox.launcher import Sandbox


def test_cursor_reads_pass_the_calls_they_still_need(sandbox: Sandbox) -> None:
    tap = TapXero(config=client_credentials_config(sandbox, page_size=10), parse_env_config=False)
    tenant = tap.session.tenant_ids[0]
    limiter = tap.session.client.limiter
    given: list[float | None] = []
    slot = limiter.slot

    @contextlib.contextmanager
    def recording(
        tenant_id: str | None, priority: float | None = None
    ) -> Iterator[Callable[[], float]]:
        given.append(priority)
        with slot(tenant_id, priority) as wait:
            yield wait

    limiter.slot = recording  # type: ignore[method-assign]
    stream = tap.streams["invoices"]
    pages: list[list[dict[str, Any]]] = list(
        stream.produce(tenant, stream.partition_start({TENANT_KEY: tenant}))  # type: ignore[attr-defined]
    )
    invoices = sum(len(page) for page in pages)
    assert invoices >= 20
    # The first call's work is unknown (it ranks first); then each answer's pagination tells
    # how many pages the read still needs, counting down to the last.
    assert given[0] is None
    assert given[1] == math.ceil(invoices / 10) - 1
    known = [p for p in given[1:] if p is not None]
    assert len(known) == len(given) - 1
    assert known == sorted(known, reverse=True)
    assert known[-1] <= 1

"""Read-ahead: a backlog of spilled pages never holds up the read (tap_xero/fetch.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from tap_xero.fetch import LEAD_PAGES, ReadAhead

Page = list[dict[str, Any]]


def _wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_read_goes_on_while_its_consumer_catches_up_on_spilled_pages() -> None:
    produced: list[int] = []
    gate = threading.Event()

    def produce() -> Iterator[Page]:
        for number in range(25):
            if number == 5:
                gate.wait(10)
            produced.append(number)
            yield [{"n": number}]

    reads = ReadAhead([(("a", "t1"), produce)], workers=1)
    try:
        _wait_until(lambda: len(produced) == 5)  # nobody reads yet: five pages on disk
        pages = reads.pages(("a", "t1"), lambda: iter(()))
        assert next(pages)[0]["n"] == 0
        gate.set()
        # Four spilled pages wait for the consumer, who has stopped: the read still goes on
        # to the end (the next request of a chain must not wait for a consumer that is
        # reading older pages), past the in-memory lead, by spilling.
        _wait_until(lambda: len(produced) == 25)
        assert LEAD_PAGES < 25 - 5
        assert [page[0]["n"] for page in pages] == list(range(1, 25))
    finally:
        reads.close()

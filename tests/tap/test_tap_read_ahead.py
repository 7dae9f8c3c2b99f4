"""The tap's read-ahead (tap_xero/fetch.py): order, spilling, errors and early stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from tap_xero.fetch import LEAD_PAGES, ReadAhead
from tap_xero.fetch import Page as StatePage

Page = list[dict[str, Any]]


def _pages(count: int, produced: list[int] | None = None) -> Iterator[Page]:
    for number in range(count):
        if produced is not None:
            produced.append(number)
        yield [
            {
                "n": number,
                "Total": Decimal("10.10"),
                "Rate": Decimal("-0.000001234567890123456789"),
                "Name": 'Ōtaki "Café"',
                "Lines": [{"x": None, "ok": True}],
            }
        ]


def _wait_until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_jobs_run_ahead_in_plan_order_and_pages_come_back_intact() -> None:
    produced: dict[str, list[int]] = {"a": [], "b": []}
    reads = ReadAhead(
        [
            (("a", "t1"), lambda: _pages(40, produced["a"])),
            (("b", "t1"), lambda: _pages(30, produced["b"])),
        ],
        workers=2,
    )
    try:
        # Nobody consumes yet: both jobs read to the end (spilled to disk, not held back).
        _wait_until(lambda: len(produced["a"]) == 40 and len(produced["b"]) == 30)
        first = list(reads.pages(("a", "t1"), lambda: iter(())))
        second = list(reads.pages(("b", "t1"), lambda: iter(())))
    finally:
        reads.close()
    assert [p[0]["n"] for p in first] == list(range(40))
    assert [p[0]["n"] for p in second] == list(range(30))
    # Spilled and read back: the same types and the same digits.
    assert str(first[7][0]["Total"]) == "10.10"
    assert str(first[7][0]["Rate"]) == "-0.000001234567890123456789"
    assert first[7][0]["Name"] == 'Ōtaki "Café"'
    assert first[7][0]["Lines"] == [{"x": None, "ok": True}]


def test_the_partition_being_emitted_is_not_read_far_ahead() -> None:
    produced: list[int] = []
    reads = ReadAhead([], workers=1)
    pages = reads.pages(("a", "t1"), lambda: _pages(100, produced))
    assert next(pages)[0]["n"] == 0
    time.sleep(0.2)
    # the consumer holds one page; the producer waits after its lead (plus the page in hand)
    assert len(produced) <= LEAD_PAGES + 2
    pages.close()


def test_the_error_comes_after_the_pages_before_it() -> None:
    def failing() -> Iterator[Page]:
        yield from _pages(3)
        raise ValueError("page 4 failed")

    reads = ReadAhead([(("a", "t1"), failing)], workers=1)
    pages = reads.pages(("a", "t1"), lambda: iter(()))
    assert [next(pages)[0]["n"] for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="page 4 failed"):
        next(pages)


def test_a_consumer_that_stops_stops_its_job_and_close_stops_the_rest() -> None:
    stopped = threading.Event()

    def endless() -> Iterator[Page]:
        try:
            number = 0
            while True:
                yield [{"n": number}]
                number += 1
        finally:
            stopped.set()

    reads = ReadAhead([(("a", "t1"), endless), (("b", "t1"), endless)], workers=1)
    pages = reads.pages(("a", "t1"), endless)
    assert next(pages) == [{"n": 0}]
    pages.close()
    _wait_until(stopped.is_set)
    stopped.clear()
    # ("b", "t1") starts once the first job ended; closing stops it although nobody read it.
    _wait_until(lambda: any(t.name == "xero-read:b:t1" for t in threading.enumerate()))
    reads.close()
    _wait_until(stopped.is_set)
    _wait_until(lambda: not any(t.name.startswith("xero-read:") for t in threading.enumerate()))


def test_spilled_pages_keep_money_as_text_when_the_stream_does() -> None:
    produced: list[int] = []
    reads = ReadAhead([(("a", "t1"), lambda: _pages(5, produced))], workers=1)
    try:
        _wait_until(lambda: len(produced) == 5)  # all spilled: nobody consumed yet
        pages = list(reads.pages(("a", "t1"), lambda: iter(()), money_as_text=True))
    finally:
        reads.close()
    rate = pages[3][0]["Rate"]
    assert isinstance(rate, msgspec.Raw)
    assert bytes(rate) == b"-0.000001234567890123456789"
    assert pages[3][0]["n"] == 3  # integers stay int


def test_a_page_keeps_its_state_spilled_or_not() -> None:
    count = 2 * LEAD_PAGES + 2
    produced: list[int] = []
    claimed = threading.Event()

    def pages() -> Iterator[Page]:
        for number in range(count):
            if number == 2:
                claimed.wait(10)  # the first two spilled; the rest wait in memory
            produced.append(number)
            yield StatePage([{"n": number}], {"page": number, "gone": None})

    reads = ReadAhead([(("a", "t1"), pages)], workers=1)
    try:
        _wait_until(lambda: len(produced) == 2)
        consumed = reads.pages(("a", "t1"), lambda: iter(()))
        claimed.set()
        got = list(consumed)
    finally:
        reads.close()
    assert [p[0]["n"] for p in got] == list(range(count))
    assert [p.state if isinstance(p, StatePage) else None for p in got] == [
        {"page": n, "gone": None} for n in range(count)
    ]

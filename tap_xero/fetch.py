"""Background fetching: each partition's pages are read ahead of the SDK emitting them.

A :class:`Prefetcher` runs one page producer (a generator of record lists) in a daemon thread and
hands its pages over through a bounded queue, so the next page is on its way while the current
one is emitted, and every tenant of a stream downloads while another tenant's records are being
written. Errors raised by the producer are re-raised in the consuming thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

__all__ = ["Prefetcher"]

Record = dict[str, Any]
PageProducer = Callable[[], Iterator[list[Record]]]

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Prefetcher:
    """Runs ``produce()`` in a thread, at most ``depth`` pages ahead of the consumer."""

    def __init__(self, produce: PageProducer, *, depth: int = 2, name: str = "xero-fetch") -> None:
        self._produce = produce
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def start(self) -> None:
        """Start reading (idempotent)."""
        if not self._started:
            self._started = True
            self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False

    def _run(self) -> None:
        try:
            for page in self._produce():
                if not self._put(page):
                    return
        except BaseException as error:  # handed to the consumer, who decides
            self._put(_Failure(error))
            return
        self._put(_DONE)

    def pages(self) -> Iterator[list[Record]]:
        """The producer's pages, in order; re-raises its error."""
        self.start()
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield cast(list[Record], item)
        finally:
            self.stop()

    def stop(self) -> None:
        """Ask the producer to stop after its current page (used when the consumer gives up)."""
        self._stop.set()

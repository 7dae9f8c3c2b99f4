"""Read-ahead: every partition of a sync is read in the background, in the order it is emitted.

Only the partition being emitted keeps pages in memory (a short lead); every other job spills its
pages to an anonymous temporary file (JSON through the client's exact codec), so memory stays
bounded however far ahead the reads run.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import IO, Any

from xero_api.codec import decode_json, encode_json, numbers_as_text
from xero_api.resources import Record

__all__ = ["Page", "ReadAhead", "Spool"]

PageProducer = Callable[[], Iterator[list[Record]]]
Key = tuple[str, str]  # (stream name, with any sub-partition; tenant)

LEAD_PAGES = 2  # pages of the partition being emitted held in memory ahead of the consumer


class Page(list[Record]):
    """A page that also carries what its partition's STATE may say once the page's records are
    emitted (``state``: entries to set; a None value removes its entry). It travels with the
    page, spilled or not, so a read running ahead never marks progress its consumer has not
    made."""

    def __init__(self, records: Iterable[Record], state: Mapping[str, Any]) -> None:
        super().__init__(records)
        self.state = dict(state)


class Spool:
    """The pages of one job: in memory while it is being emitted, otherwise in a temp file."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        # Pages in order: a page held in memory, or the (offset, length, Page.state) of a
        # spilled one.
        self._queue: deque[list[Record] | tuple[int, int, dict[str, Any] | None]] = deque()
        self._in_memory = 0
        self._on_disk = 0
        self._file: IO[bytes] | None = None
        self._end = 0
        self._consumed = False  # the consumer reads this spool now: keep pages in memory
        self._finished = False
        self._error: BaseException | None = None
        self._closed = False

    def put(self, page: list[Record]) -> bool:
        """Add the next page; False once the consumer has gone (the producer should stop)."""
        with self._cond:
            if self._consumed:
                # Wait only for a consumer that is slower than the read. One still reading
                # pages spilled before it came is catching up: spill rather than hold up the
                # next request (for the longest read, the end of the run).
                while not self._closed and self._in_memory >= LEAD_PAGES and not self._on_disk:
                    self._cond.wait()
                if self._closed:
                    return False
                if self._in_memory < LEAD_PAGES:
                    self._queue.append(page)
                    self._in_memory += 1
                    self._cond.notify_all()
                    return True
            if self._closed:
                return False
        data = encode_json(page)  # outside the lock
        with self._cond:
            if self._closed:
                return False
            if self._file is None:
                # Lives as long as the spool; close() closes it (anonymous: gone even if killed).
                self._file = tempfile.TemporaryFile(prefix="tap-xero-")  # noqa: SIM115
            os.pwrite(self._file.fileno(), data, self._end)
            state = page.state if isinstance(page, Page) else None
            self._queue.append((self._end, len(data), state))
            self._on_disk += 1
            self._end += len(data)
            self._cond.notify_all()
        return True

    def finish(self, error: BaseException | None = None) -> None:
        """The producer is done, cleanly or with ``error``."""
        with self._cond:
            self._finished = True
            self._error = error
            self._cond.notify_all()

    def claim(self) -> None:
        """The consumer is here: from now on pages wait in memory instead of spilling."""
        with self._cond:
            self._consumed = True
            self._cond.notify_all()

    def pages(self, money_as_text: bool = False) -> Generator[list[Record], None, None]:
        """The pages in order, blocking until each is there; re-raises the producer's error.

        ``money_as_text``: spilled pages decode their money as the producer's did (see
        :func:`xero_api.codec.numbers_as_text`).
        """
        self.claim()
        try:
            while True:
                data: bytes | None = None
                state: dict[str, Any] | None = None
                with self._cond:
                    while not (self._queue or self._finished or self._closed):
                        self._cond.wait()
                    if self._queue:
                        entry = self._queue.popleft()
                        if isinstance(entry, list):
                            page = entry
                            self._in_memory -= 1
                        else:
                            assert self._file is not None
                            offset, length, state = entry
                            data = os.pread(self._file.fileno(), length, offset)
                            self._on_disk -= 1
                            if not self._on_disk:  # all read: reuse the file from its start
                                os.ftruncate(self._file.fileno(), 0)
                                self._end = 0
                        self._cond.notify_all()
                    elif self._error is not None:
                        raise self._error
                    else:
                        return
                if data is not None:
                    # Our own pages, written by this process to its own unnamed file.
                    with numbers_as_text(money_as_text):
                        page = decode_json(data)
                    if state is not None:
                        page = Page(page, state)
                yield page
        finally:
            self.close()

    def close(self) -> None:
        """Drop every page and the temp file; the producer stops at its next page."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._in_memory = self._on_disk = 0
            if self._file is not None:
                self._file.close()
                self._file = None
            self._cond.notify_all()


class _Job:
    def __init__(self, key: Key, produce: PageProducer) -> None:
        self.key = key
        self.produce = produce
        self.spool = Spool()
        self.started = False


class ReadAhead:
    """Runs planned read jobs, at most ``workers`` at once, started in the given order."""

    def __init__(self, plan: Iterable[tuple[Key, PageProducer]], *, workers: int) -> None:
        self._lock = threading.Lock()
        self._workers = max(1, workers)
        self._running = 0
        self._closed = False
        self._jobs: dict[Key, _Job] = {}
        self._pending: deque[_Job] = deque()
        for key, produce in plan:
            job = self._jobs[key] = _Job(key, produce)
            self._pending.append(job)
        with self._lock:
            self._start_pending()

    def pages(
        self, key: Key, produce: PageProducer, money_as_text: bool = False
    ) -> Generator[list[Record], None, None]:
        """The pages of ``key``'s job (``produce`` makes one if it was not planned)."""
        with self._lock:
            job = self._jobs.pop(key, None) or _Job(key, produce)
            job.spool.claim()
            if not job.started:
                # The partition being emitted must not wait for a free worker.
                if job in self._pending:
                    self._pending.remove(job)
                self._start(job)
        return job.spool.pages(money_as_text)

    def cancel(self, matches: Callable[[Key], bool]) -> None:
        """Stop and drop the jobs whose key ``matches`` (their pages will not be read)."""
        with self._lock:
            doomed = [job for key, job in self._jobs.items() if matches(key)]
            for job in doomed:
                del self._jobs[job.key]
                if job in self._pending:
                    self._pending.remove(job)
        for job in doomed:
            job.spool.close()

    def close(self) -> None:
        """Stop every job and delete every spool (end of sync, error or interrupt)."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs.values())
            self._jobs.clear()
            self._pending.clear()
        for job in jobs:
            job.spool.close()

    def _start_pending(self) -> None:
        while self._pending and self._running < self._workers and not self._closed:
            self._start(self._pending.popleft())

    def _start(self, job: _Job) -> None:
        job.started = True
        self._running += 1
        name = f"xero-read:{job.key[0]}:{job.key[1]}"
        threading.Thread(target=self._run, args=(job,), name=name, daemon=True).start()

    def _run(self, job: _Job) -> None:
        try:
            pages = job.produce()
            try:
                for page in pages:
                    if not job.spool.put(page):
                        break
            finally:
                if isinstance(pages, Generator):
                    pages.close()
        except BaseException as error:  # handed to the consumer, who decides
            job.spool.finish(error)
        else:
            job.spool.finish()
        finally:
            with self._lock:
                self._running -= 1
                self._start_pending()

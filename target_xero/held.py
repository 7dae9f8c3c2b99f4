"""Records held back until the documents they refer to are written (or the input ends)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from xero_api.codec import decode_json, encode_json
from xero_api.resources import Resource, resource_for_stream

from .content import Refused

if TYPE_CHECKING:
    from .session import WriteSession

__all__ = ["HeldRecords", "HeldStream", "dependency_order"]


class HeldRecords:
    """Held records of one input stream in a temporary file, read back in arrival order (a tap
    that emits invoices before the items they use may hold nearly the whole input)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the records
        self.count = 0

    def add(self, records: list[dict[str, Any]]) -> None:
        """Append records."""
        self._file.writelines(encode_json(record) + b"\n" for record in records)
        self.count += len(records)

    def chunks(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """The records in lists of up to ``size``; the file is closed after the last."""
        self._file.seek(0)
        chunk: list[dict[str, Any]] = []
        for line in self._file:
            chunk.append(decode_json(line))
            if len(chunk) >= size:
                yield chunk
                chunk = []
        self._file.close()
        if chunk:
            yield chunk


def dependency_order(resources: Iterable[Resource]) -> list[Resource]:
    """The given resources, each after every one it depends on (directly or not)."""
    given = list(resources)
    ordered: list[Resource] = []

    def visit(resource: Resource, seen: frozenset[str]) -> None:
        if resource in ordered or resource.stream in seen:
            return
        for dependency in resource.write.depends_on if resource.write else ():
            visit(resource_for_stream(dependency), seen | {resource.stream})
        ordered.append(resource)

    for resource in given:
        visit(resource, frozenset())
    return [r for r in ordered if r in given]


class HeldStream:
    """A stream object whose records may name what is still to arrive (a document, a folder,
    a file): such a record is held, and written one last time at the end of input, when what
    it names still missing rejects it."""

    depends_on: tuple[str, ...] = ()  # streams whose buffered records are written first

    def __init__(self, session: WriteSession, stream_name: str) -> None:
        """Bind the stream to the run's session; nothing connects yet."""
        self._session = session
        self.name = stream_name
        self._held: list[dict[str, Any]] = []

    @property
    def pending(self) -> int:
        """Records waiting for the end of input."""
        return len(self._held)

    def write(self, records: list[dict[str, Any]]) -> None:
        """Write a batch after the buffered records it may name."""
        self._session.drain_streams(self.depends_on)
        for record in records:
            self._write(record, last_chance=False)

    def finish(self) -> None:
        """At end of input: the held records, one last time."""
        held, self._held = self._held, []
        for record in held:
            self._write(record, last_chance=True)

    def _write(self, record: dict[str, Any], *, last_chance: bool) -> None:
        try:
            missing = self.write_one(record)
            if missing is not None:
                if not last_chance:
                    self._held.append(record)
                    return
                if self._session.dry_run:
                    missing += " (in a dry run, what the run would create does not exist yet)"
                raise Refused(missing)
        except Refused as exc:
            self._session.reject(self.name, record, [str(exc)])

    def write_one(self, record: dict[str, Any]) -> str | None:
        """Write (or account for) one record; what it names that does not exist, if so."""
        raise NotImplementedError

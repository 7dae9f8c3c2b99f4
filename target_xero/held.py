"""Records held back until the documents they refer to are written (or the input ends)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from xero_api.codec import decode_json, encode_json
from xero_api.resources import Resource, resource_for_stream

__all__ = ["HeldRecords", "dependency_order"]


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

"""The one sink class: every writable resource is a row of the resource table, not a class."""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from .records import RecordChecker
from .sdk_hooks import SessionSink, SessionTarget

__all__ = ["XeroSink"]


class XeroSink(SessionSink):
    """Buffers one stream's valid records and hands them to the session as its resource's
    upserts; a bad record is rejected with its reasons and the run goes on."""

    def __init__(
        self,
        target: SessionTarget,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
    ) -> None:
        """Find the resource the stream lands on (once) and compile its checks."""
        super().__init__(target, stream_name, schema, key_properties)
        self.resource = self.session.resource_for(stream_name)
        self._checker: RecordChecker | None = None
        self._schema_problem: str | None = None
        convert = None
        if self.resource is not None:
            try:
                self._checker = RecordChecker(self.schema)
            except Exception as exc:  # fastjsonschema raises several kinds for bad schemas
                self._schema_problem = f"stream schema cannot be compiled: {exc}"
            else:
                convert = self._checker.convert
        self.session.shape_stream(stream_name, self.key_properties, convert)

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Buffer a valid record; reject any other with its reasons."""
        if self.resource is None:
            self.session.reject(
                self.stream_name, record, [self.session.unmapped_reason(self.stream_name)]
            )
            return
        if self._schema_problem or self._checker is None:
            self.session.reject(self.stream_name, record, [self._schema_problem or "no checker"])
            return
        problems = self._checker.problems(record)
        missing = [key for key in self.key_properties or [] if key not in record]
        if missing:
            problems = [
                f"missing key properties {', '.join(missing)} (declared by the stream's SCHEMA)",
                *problems,
            ]
        if problems:
            self.session.reject(self.stream_name, record, problems)
            return
        context.setdefault("records", []).append(record)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        """Write the buffered records, after every buffered record they may refer to."""
        records = context.get("records") or []
        if not records or self.resource is None:
            return
        held = self.session.write(self.stream_name, self.resource, records)
        self.tally_record_written(len(records) - held)

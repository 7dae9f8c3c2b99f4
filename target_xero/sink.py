"""The one sink class: every writable resource is a row of the resource table, not a class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import BatchSink

from .records import RecordChecker

if TYPE_CHECKING:
    from .target import TargetXero

__all__ = ["XeroSink", "buffer_size"]

BUFFERED_REQUESTS = 40


def buffer_size(config: Mapping[str, Any]) -> int:
    """Records written as one batch: ``batch_size_rows`` when set, else
    :data:`BUFFERED_REQUESTS` full requests, so memory is bounded by a batch, never by the
    input, and the status steps of a batch still share their requests."""
    rows = config.get("batch_size_rows")
    return int(rows) if rows else BUFFERED_REQUESTS * int(config.get("batch_size") or 50)


class XeroSink(BatchSink):  # type: ignore[misc]
    """Buffers one stream's valid records and writes them as its resource's upserts.

    Records are checked here (compiled validator, dates) instead of by singer-sdk's jsonschema
    validation, which would cost most of the target's time and stop the run at the first bad
    record; a bad record is rejected with its reasons and the run goes on.
    """

    def __init__(
        self,
        target: TargetXero,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
    ) -> None:
        """Find the resource the stream lands on and compile its checks."""
        self._xero_target = target
        self.resource_stream = target.resource_for(stream_name)
        super().__init__(target, stream_name, schema, key_properties)
        self._checker: RecordChecker | None = None
        self._schema_problem: str | None = None
        if self.resource_stream is not None:
            try:
                self._checker = RecordChecker(self.schema)
            except Exception as exc:  # fastjsonschema raises several kinds for bad schemas
                self._schema_problem = f"stream schema cannot be compiled: {exc}"
            else:
                target.converters[stream_name] = self._checker.convert
        target.stream_keys[stream_name] = list(self.key_properties or [])

    @property
    def max_size(self) -> int:
        """Records buffered before they are written (:func:`buffer_size`)."""
        return buffer_size(self.config)

    def get_validator(self) -> None:
        """No singer-sdk validation: records are checked in :meth:`process_record`."""
        return

    def _singer_validate_message(self, record: dict[str, Any]) -> None:
        # singer-sdk raises (ending the run) on a record without its key properties; such a
        # record is rejected in process_record instead, and the run goes on.
        return

    def _validate_and_parse(self, record: dict[str, Any]) -> dict[str, Any]:
        # singer-sdk would turn date strings into datetime objects here; Xero wants strings.
        return record

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Buffer a valid record; reject any other with its reasons."""
        journal = self._xero_target.journal
        if self.resource_stream is None:
            journal.rejected(
                self.stream_name, record, [self._xero_target.unmapped_reason(self.stream_name)]
            )
            return
        if self._schema_problem or self._checker is None:
            journal.rejected(self.stream_name, record, [self._schema_problem or "no checker"])
            return
        problems = self._checker.problems(record)
        missing = [key for key in self.key_properties or [] if key not in record]
        if missing:
            problems = [
                f"missing key properties {', '.join(missing)} (declared by the stream's SCHEMA)",
                *problems,
            ]
        if problems:
            journal.rejected(self.stream_name, record, problems)
            return
        context.setdefault("records", []).append(record)

    def process_batch(self, context: dict[str, Any]) -> None:
        """Write the buffered records, after every buffered record they may refer to."""
        records = context.get("records") or []
        if not records or self.resource_stream is None:
            return
        self._xero_target.drain_dependencies(self.resource_stream)
        held = self._xero_target.load(self.stream_name, self.resource_stream, records)
        self.tally_record_written(len(records) - held)

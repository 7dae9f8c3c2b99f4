"""Every singer-sdk hook the target overrides, in one place; ``tests/target/test_sdk_hooks.py``
pins the SDK behaviour each relies on, so an SDK upgrade that changes it fails loudly."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Protocol, TypeVar

import msgspec
from singer_sdk import Target
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.exceptions import RecordsWithoutSchemaException
from singer_sdk.singerlib.exceptions import InvalidInputLine, SingerReadError
from singer_sdk.sinks import BatchSink, Sink
from typing_extensions import override

from xero_api.codec import decode_json
from xero_api.errors import XeroError
from xero_api.resources import Resource

from .session import Finisher, WriteSession

__all__ = [
    "BatchStream",
    "LineReader",
    "RecordSink",
    "SessionSink",
    "SessionTarget",
    "StreamSink",
]


class LineReader(MsgSpecReader):  # type: ignore[misc]
    """The SDK's msgspec reader, naming a bad line by its number instead of logging a traceback."""

    _line_number = 0

    @override
    def deserialize_json(self, line: str) -> dict[str, Any]:
        """One input line as a message; InvalidInputLine when it is not a JSON object."""
        self._line_number += 1
        try:
            message = decode_json(line)
        except msgspec.DecodeError as exc:
            raise InvalidInputLine(
                f"line {self._line_number} is not valid JSON ({exc}): {shorten(line, 120)}"
            ) from None
        if not isinstance(message, dict):
            raise InvalidInputLine(
                f"line {self._line_number} is not a JSON object: {shorten(line, 120)}"
            )
        return message


class SessionTarget(Target):  # type: ignore[misc]
    """The SDK's target with a :class:`WriteSession`: STATE waits for held records, the end of
    input settles them, and a Xero or input problem ends the run in one line."""

    message_reader_class = LineReader
    session: WriteSession
    # Input streams with a sink class of their own (the others take ``default_sink_class``).
    sink_classes: ClassVar[dict[str, type[SessionSink]]] = {}

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """The sink class of the stream ``stream_resource_map`` maps it to, else of the stream
        itself, else the default one."""
        own = self.sink_classes.get(self.session.mapped(stream_name))
        own = own or self.sink_classes.get(stream_name)
        return own or super().get_sink_class(stream_name)

    @override
    def _write_state_message(self, state: dict[str, Any]) -> None:
        # The SDK writes STATE at the end of drain_all: the records before it must be written
        # or rejected first, so a STATE while some are still held waits for a later one.
        if self.session.state_may_be_written():
            super()._write_state_message(state)

    @override
    def process_endofpipe(self) -> None:
        """Flush everything, then report and apply ``fail_on_reject``."""
        self.session.end_input()
        super().process_endofpipe()
        self.session.finish_input()  # when no STATE was seen, drain_all did not
        rejected = self.session.report()
        if self.config.get("fail_on_reject") and rejected:
            self.session.close()
            raise SystemExit(
                f"target-xero: {rejected} record(s) rejected and fail_on_reject is set; "
                "see the rejects file"
            )

    @classmethod
    @override
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """Run the target; a Xero or config problem ends the run with one line, no traceback."""
        try:
            super().invoke(*args, **kwargs)
        except XeroError as exc:
            cls.logger.error("target-xero stopped: %s", exc.message)
            raise SystemExit(f"target-xero: {exc.message}") from None
        except (SingerReadError, RecordsWithoutSchemaException) as exc:
            # Input that is not Singer at all: nothing after it can be trusted, so stop here.
            message = shorten(str(exc))
            cls.logger.error("target-xero stopped on bad input: %s", message)
            raise SystemExit(f"target-xero: bad input: {message}") from None


class SessionSink(BatchSink):  # type: ignore[misc]
    """The SDK's batch sink writing through the target's session. Records are checked by the
    sink (compiled validator, dates) instead of by the SDK's jsonschema validation, which
    would cost most of the target's time and stop the run at the first bad record."""

    resource: Resource | None = None  # what the sink's records are written as

    def __init__(
        self,
        target: SessionTarget,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
    ) -> None:
        """Join the target's session, which drains this sink before batches that need it."""
        self.session = target.session
        super().__init__(target, stream_name, schema, key_properties)
        self.session.add_buffer(self)

    @property
    @override
    def max_size(self) -> int:
        """Records buffered before they are written (the session's batch)."""
        return self.session.batch_records

    @override
    def get_validator(self) -> None:
        """No SDK validation: records are checked in ``process_record``."""
        return

    @override
    def _singer_validate_message(self, record: dict[str, Any]) -> None:
        # The SDK raises (ending the run) on a record without its key properties; such a
        # record is rejected in process_record instead, and the run goes on.
        return

    @override
    def _validate_and_parse(self, record: dict[str, Any]) -> dict[str, Any]:
        # The SDK would turn date strings into datetime objects here; Xero wants strings.
        return record


_S = TypeVar("_S", bound=Finisher)


class StreamSink(SessionSink, Generic[_S]):
    """A sink handing one input stream's records to its run-wide stream object
    (:meth:`open_stream`: attachments, files, row and day streams), made once a run so a SCHEMA
    that changes (a new sink) keeps writing into it, and finished at the end of input before
    the held records are settled, or after them when ``last_finisher`` (its records wait for
    documents that may be held)."""

    last_finisher: ClassVar[bool] = False
    stream: _S

    @override
    def setup(self) -> None:
        """Join the run's stream object (the SDK calls this once, right after ``__init__``)."""
        super().setup()
        session = self.session
        name = self.stream_name
        make = lambda: self.open_stream(session, name)  # noqa: E731 - made once a run
        self.stream = session.finisher(name, make, last=self.last_finisher)
        resource = getattr(self.stream, "resource", None)
        if isinstance(resource, Resource):
            self.resource = resource  # drained before the batches that depend on it

    def open_stream(self, session: WriteSession, stream_name: str) -> _S:
        """The run's stream object for ``stream_name`` (records are read by it, not checked
        against a Xero schema)."""
        raise NotImplementedError


class BatchStream(Finisher, Protocol):
    """A stream object that takes its records a batch at a time."""

    def write(self, records: list[dict[str, Any]]) -> None:
        """Write (or hold, or reject) a batch of records."""
        ...


_B = TypeVar("_B", bound=BatchStream)


class RecordSink(StreamSink[_B]):
    """A :class:`StreamSink` whose records are buffered as they are and handed to the stream
    object a batch at a time (attachments, files, associations: their files are read then)."""

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Buffer the record."""
        context.setdefault("records", []).append(record)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        """Write the buffered records (the stream object drains what they depend on first)."""
        self.stream.write(list(context.get("records") or []))


def shorten(text: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters (a bad input line can be megabytes long)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

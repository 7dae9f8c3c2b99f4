"""The sink of an input stream that a run-wide stream object writes (attachments, files, row
and day streams): the object is made once a run, so a SCHEMA that changes (a new sink) keeps
writing into it, and the session finishes it at the end of input."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Protocol, TypeVar

from typing_extensions import override

from xero_api.resources import Resource

from .sdk_hooks import SessionSink, SessionTarget
from .session import Finisher, WriteSession

__all__ = ["BatchStream", "RecordSink", "StreamSink"]

_S = TypeVar("_S", bound=Finisher)


class BatchStream(Finisher, Protocol):
    """A stream object that takes its records a batch at a time."""

    def write(self, records: list[dict[str, Any]]) -> None:
        """Write (or hold, or reject) a batch of records."""
        ...


_B = TypeVar("_B", bound=BatchStream)


class StreamSink(SessionSink, Generic[_S]):
    """Hands one input stream's records to its run-wide stream object (:meth:`open_stream`),
    finished at the end of input before the held records are settled, or after them when
    ``last_finisher`` (its records wait for documents that may be held)."""

    last_finisher: ClassVar[bool] = False

    def __init__(
        self,
        target: SessionTarget,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
    ) -> None:
        """Records are read by the stream object, not checked against a Xero schema."""
        super().__init__(target, stream_name, schema, key_properties)
        session = self.session
        self.stream: _S = session.finisher(
            stream_name, lambda: self.open_stream(session, stream_name), last=self.last_finisher
        )
        resource = getattr(self.stream, "resource", None)
        if isinstance(resource, Resource):
            self.resource = resource  # drained before the batches that depend on it

    def open_stream(self, session: WriteSession, stream_name: str) -> _S:
        """The run's stream object for ``stream_name`` (made once a run)."""
        raise NotImplementedError


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

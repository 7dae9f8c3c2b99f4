"""Where tap-xero bends singer-sdk: every SDK hook the tap overrides and every use of the SDK's
private helpers and state, in one module. ``tests/tap/test_sdk_hooks.py`` pins what each one
relies on, so an SDK upgrade that changes them fails there."""

from __future__ import annotations

import atexit
import sys
from collections.abc import Generator, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any, cast

from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.contrib.msgspec import encoder as sdk_encoder
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._state import StateWriter, get_state_if_exists, increment_state
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import DefaultStreamMap, SameRecordTransform, StreamMap
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL, MetadataMapping
from typing_extensions import override

from xero_api.resources import Record

__all__ = [
    "BOUNDARY_IDS",
    "BOUNDARY_VALUE",
    "SdkStream",
    "SdkTap",
    "XeroMessageWriter",
    "XeroStateWriter",
    "outline_deselected",
]

BOUNDARY_VALUE = "boundary_value"
BOUNDARY_IDS = "boundary_ids"
_PROGRESS_MARKERS = "progress_markers"  # the SDK's entry for an unsorted read's bookmark
_NO_CONTEXT = object()


class XeroMessageWriter(MsgSpecWriter):
    """msgspec writer: Decimal (and ``msgspec.Raw`` number text) is written as a JSON number
    with Xero's exact digits.

    RECORD lines are collected and written in blocks; every other message (STATE above all)
    writes out everything before it and flushes, so a STATE line never precedes its records.
    ``data_bytes`` counts the bytes of other lines since the last STATE.
    """

    BLOCK = 256 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = bytearray()
        self.data_bytes = 0
        atexit.register(self.flush)

    @override
    def write_message(self, message: Any) -> None:
        """Queue one message; write out the block unless it is a RECORD in a small block."""
        line = self.format_message(message)
        self._pending += line
        self.data_bytes = 0 if isinstance(message, StateMessage) else self.data_bytes + len(line)
        if not isinstance(message, RecordMessage) or len(self._pending) >= self.BLOCK:
            self.flush()

    def write_record(
        self, stream: str, record: Record, version: int | None, extracted: datetime
    ) -> None:
        """Queue the RECORD line a ``RecordMessage`` would make, without making one.

        The per-record message object and its dict conversion cost as much as encoding the
        record; the line is byte for byte the same (same encoder, same keys and order).
        """
        message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = extracted
        pending = self._pending
        before = len(pending)
        sdk_encoder.encode_into(message, pending, -1)
        pending += b"\n"
        self.data_bytes += len(pending) - before
        if len(pending) >= self.BLOCK:
            self.flush()

    def state_line(self, state: Mapping[str, Any]) -> bytes:
        """The STATE line a ``StateMessage`` would make, without its dict conversion."""
        return sdk_encoder.encode({"type": "STATE", "value": state}) + b"\n"

    def write_state_line(self, line: bytes) -> None:
        """Write out everything queued, then the STATE ``line``, and flush."""
        self._pending += line
        self.data_bytes = 0
        self.flush()

    def flush(self) -> None:
        """Write out and flush everything queued."""
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()
        sys.stdout.flush()


class XeroStateWriter(StateWriter):
    """The SDK's STATE writer (a STATE line only when the state moved), with two changes.

    * It compares encoded lines. The SDK's writer deep-copies the whole state, and its message
      converts it to a dict again, for every STATE: one tap process over 40 organisations (1,120
      partitions, each in every STATE) spent 98% of its time there.
    * A STATE line waits until at least as many bytes of other lines precede it (or the run
      ends: :meth:`flush`). STATE lines carry every partition's bookmark, so each grows with the
      organisations of the run; written after every page they were 22 times the records' bytes
      over 40 organisations, all for the target to read. A small state still follows each page.
    """

    def __init__(self, message_writer: XeroMessageWriter) -> None:
        super().__init__(message_writer)
        self._writer = message_writer
        self._last_line = b""
        self._held: Any = None
        atexit.register(self.flush)  # runs before the message writer's (registered earlier)

    @override
    def write_state(self, state: Any) -> None:
        """Write a STATE line if the state moved and enough other lines precede it."""
        line = self._writer.state_line(state)
        if line == self._last_line:
            self._held = None
        elif len(line) > self._writer.data_bytes:
            self._held = state
        else:
            self._write(line)

    def flush(self) -> None:
        """Write the STATE held back, if any, and everything queued before it."""
        if self._held is not None:
            line = self._writer.state_line(self._held)
            if line != self._last_line:
                self._write(line)
            self._held = None
        self._writer.flush()

    def _write(self, line: bytes) -> None:
        self._writer.write_state_line(line)
        self._last_line = line
        self._held = None


class SdkTap(Tap):
    """A tap writing through :class:`XeroMessageWriter`, whose sync runs inside
    :meth:`sync_run`, and which hands the SDK deselected streams in outline."""

    message_writer_class = XeroMessageWriter

    @override
    def __init__(self, *args: Any, catalog: Any = None, **kwargs: Any) -> None:
        if isinstance(catalog, Mapping):
            catalog = outline_deselected(catalog)
        super().__init__(*args, catalog=catalog, **kwargs)
        if isinstance(self.message_writer, XeroMessageWriter):
            self._state_writer = XeroStateWriter(self.message_writer)

    # singer-sdk marks sync_all final for typing only; it is the one place that wraps a run.
    @override  # type: ignore[misc]
    def sync_all(self) -> None:
        """The SDK's sync of every selected stream, inside :meth:`sync_run`."""
        with self.sync_run():
            try:
                super().sync_all()
            finally:
                self._flush_state()

    # Final for typing only, like sync_all: the other entry point that syncs streams.
    @override  # type: ignore[misc]
    def run_sync_dry_run(
        self, dry_run_record_limit: int | None = 1, streams: Iterable[Stream] | None = None
    ) -> bool:
        """The SDK's dry run (``--test``), with what it leaves queued written out."""
        try:
            return super().run_sync_dry_run(dry_run_record_limit, streams)
        finally:
            self._flush_state()

    def _flush_state(self) -> None:
        if isinstance(self.state_writer, XeroStateWriter):
            self.state_writer.flush()

    def sync_run(self) -> AbstractContextManager[None]:
        """What surrounds a sync (nothing here)."""
        return nullcontext()


def outline_deselected(catalog: Mapping[str, Any]) -> dict[str, Any]:
    """An input catalog whose deselected streams keep only their key properties' schemas.

    The SDK converts every entry's schema at start-up (parsing the catalog, registering
    stream maps, applying it to the stream): for a sync of one stream out of fifty, a
    quarter of its CPU. A deselected stream emits nothing, so its schema is never used; its
    key properties stay, as a stream map on it checks them. Selection is the SDK's own rule.
    """
    streams = []
    for entry in catalog.get("streams") or ():
        if isinstance(entry, Mapping) and not _selected(entry):
            schema = entry.get("schema") or {}
            properties = schema.get("properties") or {}
            keys = entry.get("key_properties") or ()
            kept = {name: properties[name] for name in keys if name in properties}
            entry = {**entry, "schema": {"type": "object", "properties": kept}}
        streams.append(entry)
    return {**catalog, "streams": streams}


def _selected(entry: Mapping[str, Any]) -> bool:
    """Whether the SDK selects a catalog entry's stream (its root metadata decides)."""
    root = [m for m in entry.get("metadata") or () if not m.get("breadcrumb")]
    return bool(MetadataMapping.from_iterable(root).resolve_selection().get((), True))


class SdkStream(Stream):
    """A stream whose records are emitted and bookmarked without the SDK's per-record costs
    that do nothing here, and whose STATE also remembers the keys emitted at the bookmark."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # records are converted while fetched

    #: The record field whose values at the bookmark's exact value are kept in STATE
    #: (``boundary_ids``); None keeps none.
    boundary_key: str | None = None

    def __init__(self, tap: Tap, name: str, schema: dict[str, Any]) -> None:
        super().__init__(tap, schema=schema, name=name)
        self._prune_deselected: bool | None = None
        self._outputs: list[tuple[str, StreamMap | None]] | None = None
        self._numbers_pass_through: bool | None = None
        # The partition being bookmarked, and what its records' bookmark step needs.
        self._state_context: Mapping[str, Any] | object | None = _NO_CONTEXT
        self._partition_state: dict[str, Any] = {}
        self._incremental = False
        self._treat_as_sorted = False
        self._holding = False

    # -- hooks -----------------------------------------------------------------------------

    @override
    def get_replication_key_signpost(self, context: Mapping[str, Any] | None = None) -> Any:
        """Keep the SDK's cap (tap start time) only for unsorted streams; sorted reads never
        skip a record updated during the run, so their bookmark may pass the start time."""
        if self.is_sorted:
            return None
        return super().get_replication_key_signpost(context)

    @override
    def generate_child_contexts(
        self, record: Record, context: Mapping[str, Any] | None
    ) -> Iterable[Mapping[str, Any] | None]:
        """None without child streams (there are none here): the SDK would still copy the
        context and look for children once per record."""
        if not self.child_streams:
            return ()
        return super().generate_child_contexts(record, context)

    @override
    def _sync_records(
        self, context: Mapping[str, Any] | None = None, *, write_messages: bool = True
    ) -> Generator[Record, Any, Any]:
        """The SDK's record loop, without its per-record steps that do nothing here.

        Where a stream writes its records and has no dry-run limit, no ``post_process`` and
        no child streams, the SDK's loop per record checks the limit, post-processes,
        generates no child contexts and fills in the partition's keys: only the last does
        anything. Every other stream (and the ``BATCH`` and dry-run paths) gets the SDK's loop.
        """
        if not (write_messages and self._plain_records()):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        counter, timer = self.get_record_counter(), self.get_sync_timer()
        every = self.STATE_MSG_FREQUENCY
        index = 0
        with counter, timer:
            for element in ([context] if context is not None else self.partitions) or [{}]:
                counter.with_context(element)
                timer.with_context(element)
                current = element or None
                partition = self._get_state_partition_context(current)
                self._write_starting_replication_value(current)
                keys = tuple((partition or {}).items())
                # Records, not the deprecated (record, child context) pairs: no stream here
                # yields those.
                records = cast(Iterable[Record], self.get_records(current))
                for record in records:
                    for key, value in keys:
                        if key not in record:
                            record[key] = value
                    self._write_record_message(record)
                    self._increment_stream_state(record, context=current)
                    index += 1
                    if index % every == 0:
                        self._write_state_message()
                    counter.increment()
                    yield record
                if current == partition:
                    self._finalize_state(self.get_context_state(current))
        if not context:
            self._finalize_state(self.stream_state)
        self._write_state_message()

    def _plain_records(self) -> bool:
        """Whether the SDK's record loop would only fill in partition keys, write, bookmark."""
        cls = type(self)
        return (
            self.selected
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.child_streams
            and cls.post_process is Stream.post_process
            and cls.generate_child_contexts is SdkStream.generate_child_contexts
        )

    @override
    def _write_record_message(self, record: Record) -> None:
        """The SDK's RECORD output without its per-record costs that do nothing here: pruning
        walks every field even when all are selected, conformance is off, and the line is
        written without a message object (:meth:`XeroMessageWriter.write_record`)."""
        if self._prune_deselected is None:
            self._prune_deselected = not all(self.mask.values())
        if self._prune_deselected:
            pop_deselected_record_properties(record, self.schema, self.mask)
        extracted = datetime.now(UTC)
        writer = self._tap.message_writer
        if self._outputs is None:
            self._outputs = [(m.stream_alias, _transforming(m)) for m in self.stream_maps]
        for alias, stream_map in self._outputs:
            mapped = record if stream_map is None else stream_map.transform(record)
            if mapped is None:
                continue
            if isinstance(writer, XeroMessageWriter):
                writer.write_record(alias, mapped, self._stream_version, extracted)
            else:
                self._tap.write_message(
                    RecordMessage(
                        stream=alias,
                        record=mapped,
                        version=self._stream_version,
                        time_extracted=extracted,
                    )
                )
        self.state_manager.is_flushed = False

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Mapping[str, Any] | None = None
    ) -> None:
        """The SDK's bookmark step, then the keys emitted at the bookmark's exact value.

        The partition's state entry is looked up once per partition (the SDK would look it up
        per record, scanning every tenant's entry). A record without a bookmark value moves
        nothing; a partition whose bookmark is held (:meth:`bookmark_held`) moves nothing.
        """
        if context is not self._state_context:
            self._enter_partition(context)
        field = self.replication_key
        if self._holding or not field:
            return
        value = latest_record.get(field)
        if value is None:
            return
        state = self._partition_state
        if self._incremental and not _moved_in_order(state, field, value, self._treat_as_sorted):
            increment_state(
                state,
                latest_record=latest_record,
                replication_key=field,
                is_sorted=self._treat_as_sorted,
                check_sorted=self.check_sorted,
            )
        key_field = self.boundary_key
        if key_field is None:
            return
        key = str(latest_record.get(key_field))
        current = state.get(BOUNDARY_VALUE)
        if current == value:
            ids = state.setdefault(BOUNDARY_IDS, [])
            if not ids or ids[-1] != key:  # a document's several attachments: its ID once
                ids.append(key)
        elif current is None or value > current:
            state[BOUNDARY_VALUE] = value
            state[BOUNDARY_IDS] = [key]

    def _enter_partition(self, context: Mapping[str, Any] | None) -> None:
        self._state_context = context  # one context object for all of a partition's records
        self._partition_state = self.get_context_state(dict(context) if context else None)
        self._incremental = self.replication_method == REPLICATION_INCREMENTAL
        if self._incremental and not self.replication_key:
            raise ValueError(f"stream {self.name} is INCREMENTAL without a replication key")
        self._treat_as_sorted = self.is_sorted and self.state_partitioning_keys is None
        self._holding = self.bookmark_held(context)

    # -- what the streams ask of the SDK ---------------------------------------------------

    def bookmark_held(self, context: Mapping[str, Any] | None) -> bool:
        """Whether this run's read of the partition must leave its bookmark where it is."""
        return False

    def saved_state(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """A partition's STATE entry as the run received it, without creating one (the
        read-ahead looks before the SDK starts the entry)."""
        manager = self.state_manager
        saved = get_state_if_exists(
            manager.tap_state,
            manager.stream_name,
            state_partition_context=manager.get_state_partition_context(dict(context)),
        )
        return dict(saved or {})

    def write_state_now(self) -> None:
        """Write a STATE message if anything moved since the last one."""
        self._write_state_message()

    def update_partition_state(self, context: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Set ``values`` in a partition's STATE entry (a None value removes its entry); the
        next STATE message says so."""
        state = self.get_context_state(dict(context))
        for key, value in values.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        self.state_manager.is_flushed = False

    def discard_progress(self, context: Mapping[str, Any]) -> None:
        """Forget an unsorted read's progress, so a read that stopped half-way does not move
        its bookmark."""
        self.get_context_state(dict(context)).pop(_PROGRESS_MARKERS, None)

    @property
    def numbers_pass_through(self) -> bool:
        """Whether records may carry money as its JSON text (``msgspec.Raw``).

        Only when every record goes straight to our RECORD lines: batch files, flattening and
        stream maps other than "as is" / "drop" compute with values and need ``Decimal``.
        """
        if self._numbers_pass_through is None:
            self._numbers_pass_through = (
                isinstance(self._tap.message_writer, XeroMessageWriter)
                and not self.get_batch_config(self.config)
                and all(
                    isinstance(m, DefaultStreamMap) and not m.flattening_enabled
                    for m in self.stream_maps
                )
            )
        return self._numbers_pass_through


def _transforming(stream_map: StreamMap) -> StreamMap | None:
    """The map, or None where its transform returns the record itself: the SDK's "as is" map
    without flattening (the usual case, asked once per record otherwise)."""
    if type(stream_map) is SameRecordTransform and not stream_map.flattening_enabled:
        return None
    return stream_map


def _moved_in_order(state: dict[str, Any], field: str, value: Any, in_order: bool) -> bool:
    """The SDK's bookmark step (``increment_state``) for the usual case of a sorted read whose
    record's text value is at or past the bookmark: both keys set, nothing else to do. False
    leaves every other case (unsorted, non-text, out of order) to the SDK."""
    if not in_order or value.__class__ is not str:
        return False
    current = state.get("replication_key_value")
    if current is not None and (current.__class__ is not str or value < current):
        return False
    state["replication_key"] = field
    state["replication_key_value"] = value
    return True

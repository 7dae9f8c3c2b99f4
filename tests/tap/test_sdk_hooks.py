"""What tap_xero.sdk_hooks relies on in singer-sdk, one test per hook or private helper: the
hook exists with the signature we override, the SDK calls it where we expect, and the private
helper still does what we assume. An SDK upgrade that changes any of it fails here."""

from __future__ import annotations

import inspect
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, datetime
from typing import Any

import pytest
from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import InvalidStreamSortException
from singer_sdk.helpers import _state as sdk_state
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._flattening import FlatteningOptions
from singer_sdk.helpers._state import get_state_if_exists, increment_state
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import Catalog, RecordMessage, StateMessage
from typing_extensions import override

from tap_xero import sdk_hooks
from tap_xero.sdk_hooks import (
    BOUNDARY_IDS,
    BOUNDARY_VALUE,
    SdkStream,
    SdkTap,
    XeroMessageWriter,
    XeroStateWriter,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ID": {"type": "string"},
        "Updated": {"type": "string", "format": "date-time"},
        "Name": {"type": "string"},
        "TenantID": {"type": "string"},
    },
}
RECORDS = [
    {"ID": "a", "Updated": "2026-01-01T00:00:00Z", "Name": "A"},
    {"ID": "b", "Updated": "2026-01-02T00:00:00Z", "Name": "B"},
    {"ID": "c", "Updated": "2026-01-02T00:00:00Z", "Name": "C"},
]
TENANTS = ["t1", "t2"]


class Things(SdkStream):
    """Two tenants' partitions of RECORDS, recording what the SDK asks of it."""

    def __init__(self, tap: Tap, *, sorted_: bool = True) -> None:
        super().__init__(tap, "things", SCHEMA)
        self.primary_keys = ["TenantID", "ID"]
        self.replication_key = "Updated"
        self.boundary_key = "ID"
        self._sorted = sorted_
        self.calls: dict[str, list[Any]] = {
            "write": [],
            "increment": [],
            "signpost": [],
            "children": [],
        }
        self.state_seen: list[dict[str, Any]] = []

    @property
    @override
    def is_sorted(self) -> bool:
        return self._sorted

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return [{"TenantID": tenant} for tenant in TENANTS]

    @override
    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        self.state_seen.append(json.loads(json.dumps(self.stream_state)))
        for record in RECORDS:
            yield {**record, "TenantID": context["TenantID"]}

    @override
    def _write_record_message(self, record: dict[str, Any]) -> None:
        self.calls["write"].append(record["ID"])
        super()._write_record_message(record)

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Mapping[str, Any] | None = None
    ) -> None:
        self.calls["increment"].append(context)
        super()._increment_stream_state(latest_record, context=context)

    @override
    def get_replication_key_signpost(self, context: Mapping[str, Any] | None = None) -> Any:
        self.calls["signpost"].append(context)
        return super().get_replication_key_signpost(context)

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Mapping[str, Any] | None
    ) -> Iterable[Mapping[str, Any] | None]:
        self.calls["children"].append(record["ID"])
        return super().generate_child_contexts(record, context)


class HookTap(SdkTap):
    """A tap of one :class:`Things` stream, recording when its sync runs."""

    name = "tap-sdk-hooks"
    config_jsonschema = {"type": "object", "properties": {}}
    sorted_ = True

    def __init__(self, **kwargs: Any) -> None:
        self.events: list[str] = []
        super().__init__(config={}, parse_env_config=False, **kwargs)

    @override
    def discover_streams(self) -> list[Stream]:
        return [Things(self, sorted_=self.sorted_)]

    @override
    @contextmanager
    def sync_run(self) -> Iterator[None]:
        self.events.append("before")
        yield
        self.events.append("after")

    @property
    def things(self) -> Things:
        stream = self.streams["things"]
        assert isinstance(stream, Things)
        return stream


def _sync(tap: HookTap) -> list[dict[str, Any]]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        tap.sync_all()
        tap.message_writer.flush()  # type: ignore[attr-defined]
    raw = out.buffer.getvalue()
    return [json.loads(line) for line in raw.decode().splitlines()]


def _params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_sync_all_is_the_one_place_that_wraps_a_run() -> None:
    assert _params(Tap.sync_all) == ["self"]
    tap = HookTap()
    tap.things.get_records = _noting(tap, tap.things.get_records)  # type: ignore[method-assign]
    _sync(tap)
    # The SDK's sync of every stream runs inside sync_run.
    assert tap.events == ["before", "records", "records", "after"]


def _noting(tap: HookTap, get_records: Any) -> Any:
    def wrapped(context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        tap.events.append("records")
        return get_records(context)  # type: ignore[no-any-return]

    return wrapped


def test_write_record_message_is_called_per_record_and_writes_the_sdks_line() -> None:
    assert _params(Stream._write_record_message) == ["self", "record"]
    tap = HookTap()
    messages = _sync(tap)
    assert tap.things.calls["write"] == ["a", "b", "c"] * len(TENANTS)
    records = [m for m in messages if m["type"] == "RECORD"]
    assert [r["record"]["ID"] for r in records] == ["a", "b", "c"] * len(TENANTS)
    # The SDK's state manager and stream attributes the hook touches are still there.
    assert tap.things.state_manager.is_flushed in (True, False)
    assert hasattr(tap.things, "_stream_version")
    assert tap.things._tap is tap
    assert isinstance(tap.message_writer, XeroMessageWriter)


def test_our_record_line_is_the_sdk_writers_line() -> None:
    assert issubclass(XeroMessageWriter, MsgSpecWriter)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    record = {"ID": "a", "Name": "Å", "Nested": {"List": [1, 2.5, None]}}
    writer = XeroMessageWriter()
    writer.write_record("things", record, 7, when)
    ours = bytes(writer._pending)
    writer._pending.clear()
    sdk = writer.format_message(
        RecordMessage(stream="things", record=record, version=7, time_extracted=when)
    )
    assert ours == sdk


def test_pop_deselected_record_properties_prunes_in_place() -> None:
    assert _params(pop_deselected_record_properties)[:3] == ["record", "schema", "mask"]
    record = {"ID": "a", "Name": "A"}
    mask = {(): True, ("properties", "ID"): True, ("properties", "Name"): False}
    pop_deselected_record_properties(record, SCHEMA, mask)  # type: ignore[arg-type]
    assert record == {"ID": "a"}


def test_increment_stream_state_gets_one_context_object_per_partition() -> None:
    assert _params(Stream._increment_stream_state) == ["self", "latest_record", "context"]
    tap = HookTap()
    _sync(tap)
    contexts = tap.things.calls["increment"]
    assert len(contexts) == len(RECORDS) * len(TENANTS)
    # The partition's state entry is looked up once per context object: it must be the same
    # object for every record of a partition, and another one for the next partition.
    first, second = contexts[: len(RECORDS)], contexts[len(RECORDS) :]
    assert all(c is first[0] for c in first)
    assert all(c is second[0] for c in second)
    assert first[0] is not second[0]
    partitions = tap.state["bookmarks"]["things"]["partitions"]
    for partition in partitions:
        assert partition["replication_key"] == "Updated"
        assert partition["replication_key_value"] == "2026-01-02T00:00:00Z"
        assert partition[BOUNDARY_VALUE] == "2026-01-02T00:00:00Z"
        assert partition[BOUNDARY_IDS] == ["b", "c"]


def test_increment_state_moves_the_bookmark_and_checks_the_order() -> None:
    assert _params(increment_state) == [
        "stream_or_partition_state",
        "latest_record",
        "replication_key",
        "is_sorted",
        "check_sorted",
    ]
    state: dict[str, Any] = {}
    for value in ("2026-01-01", "2026-01-02"):
        increment_state(
            state,
            latest_record={"U": value},
            replication_key="U",
            is_sorted=True,
            check_sorted=True,
        )
    assert state == {"replication_key": "U", "replication_key_value": "2026-01-02"}
    with pytest.raises(InvalidStreamSortException):
        increment_state(
            state,
            latest_record={"U": "2025-12-31"},
            replication_key="U",
            is_sorted=True,
            check_sorted=True,
        )
    unsorted: dict[str, Any] = {}
    increment_state(
        unsorted,
        latest_record={"U": "2026-01-01"},
        replication_key="U",
        is_sorted=False,
        check_sorted=True,
    )
    # An unsorted read keeps its bookmark under the key discard_progress drops.
    assert sdk_state.PROGRESS_MARKERS == sdk_hooks._PROGRESS_MARKERS
    assert unsorted[sdk_state.PROGRESS_MARKERS]["replication_key_value"] == "2026-01-01"


def test_our_bookmark_step_is_increment_states_for_an_ordered_text_value() -> None:
    # Where it answers True it leaves the state as the SDK's step would; elsewhere it leaves
    # the state alone, for the SDK's step.
    cases: list[tuple[dict[str, Any], Any, bool]] = [
        ({}, "2026-01-02", True),
        ({"replication_key": "U", "replication_key_value": "2026-01-01"}, "2026-01-02", True),
        ({"replication_key": "U", "replication_key_value": "2026-01-02"}, "2026-01-02", True),
        ({"replication_key": "U", "replication_key_value": "2026-01-03"}, "2026-01-02", False),
        ({"replication_key_value": 5}, "2026-01-02", False),
        ({}, 7, False),
    ]
    for before, value, in_order in cases:
        for sorted_ in (True, False):
            ours, sdk = dict(before), dict(before)
            moved = sdk_hooks._moved_in_order(ours, "U", value, sorted_)
            assert moved is (in_order and sorted_)
            if moved:
                increment_state(
                    sdk,
                    latest_record={"U": value},
                    replication_key="U",
                    is_sorted=True,
                    check_sorted=True,
                )
                assert ours == sdk
                assert list(ours) == list(sdk)  # same keys in the same order (STATE lines)
            else:
                assert ours == before


def test_the_as_is_map_returns_the_record_itself_unless_it_flattens() -> None:
    # _write_record_message skips the transform of such a map (_transforming).
    plain = SameRecordTransform("things", SCHEMA, ["ID"], None)
    record = {"ID": "a", "Nested": {"x": 1}}
    assert plain.transform(record) is record
    assert sdk_hooks._transforming(plain) is None
    flat = SameRecordTransform(
        "things", SCHEMA, ["ID"], FlatteningOptions(enabled=True, max_level=1)
    )
    assert flat.flattening_enabled
    assert sdk_hooks._transforming(flat) is flat
    tap = HookTap()
    assert [type(m) for m in tap.things.stream_maps] == [SameRecordTransform]
    _sync(tap)
    assert tap.things._outputs == [("things", None)]


def test_get_replication_key_signpost_caps_only_unsorted_reads() -> None:
    assert _params(Stream.get_replication_key_signpost) == ["self", "context"]
    sorted_tap = HookTap()
    _sync(sorted_tap)
    # Asked once per sync of the stream, with the sync's context (None: every partition).
    assert sorted_tap.things.calls["signpost"] == [None]
    seen = sorted_tap.things.state_seen
    assert seen
    assert not any(sdk_state.SIGNPOST_MARKER in entry for entry in seen)

    class UnsortedTap(HookTap):
        sorted_ = False

    unsorted_tap = UnsortedTap()
    _sync(unsorted_tap)
    # For an unsorted stream the SDK's own signpost is kept, written before the first read.
    assert all(sdk_state.SIGNPOST_MARKER in entry for entry in unsorted_tap.things.state_seen)


def test_generate_child_contexts_is_asked_per_record() -> None:
    assert _params(Stream.generate_child_contexts) == ["self", "record", "context"]
    tap = HookTap()
    _sync(tap)
    assert tap.things.calls["children"] == ["a", "b", "c"] * len(TENANTS)
    assert list(tap.things.generate_child_contexts(RECORDS[0], {"TenantID": "t1"})) == []


def test_get_state_if_exists_reads_a_partition_without_creating_one() -> None:
    assert _params(get_state_if_exists) == [
        "tap_state",
        "tap_stream_id",
        "state_partition_context",
        "key",
    ]
    entry = {"context": {"TenantID": "t1"}, "replication_key_value": "x"}
    state: Any = {"bookmarks": {"things": {"partitions": [entry]}}}
    assert get_state_if_exists(state, "things", state_partition_context={"TenantID": "t1"}) == (
        entry
    )
    assert get_state_if_exists(state, "things", state_partition_context={"TenantID": "t2"}) is None
    assert get_state_if_exists(state, "other", state_partition_context={"TenantID": "t1"}) is None
    assert state == {"bookmarks": {"things": {"partitions": [entry]}}}  # nothing created
    tap = HookTap(state=state)
    assert tap.things.saved_state({"TenantID": "t1"}) == entry
    assert tap.things.saved_state({"TenantID": "t2"}) == {}


def test_write_state_message_writes_only_what_moved() -> None:
    assert _params(Stream._write_state_message) == ["self"]
    tap = HookTap()
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        stream = tap.things
        stream.state_manager.is_flushed = False
        stream.write_state_now()
        stream.write_state_now()  # nothing moved since: no second STATE
        tap._state_writer.flush()  # type: ignore[attr-defined]
        tap.message_writer.flush()  # type: ignore[attr-defined]
    lines = out.buffer.getvalue().decode().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["STATE"]


def _entry(root: dict[str, Any] | None) -> dict[str, Any]:
    metadata = [] if root is None else [{"breadcrumb": [], "metadata": root}]
    return {
        "tap_stream_id": "things",
        "stream": "things",
        "schema": SCHEMA,
        "key_properties": ["TenantID", "ID"],
        "metadata": metadata,
    }


def test_a_deselected_stream_reaches_the_sdk_in_outline() -> None:
    assert "catalog" in _params(Tap.__init__)
    entries = [
        _entry({"selected": False}),
        _entry({"selected": False, "inclusion": "automatic"}),  # the SDK selects it anyway
        _entry({"selected-by-default": True}),
        _entry({"selected": True}),
        _entry(None),  # no metadata: selected
    ]
    outlined = sdk_hooks.outline_deselected({"streams": entries})["streams"]
    for entry, out in zip(entries, outlined, strict=True):
        sdk_selects = Catalog.from_dict({"streams": [entry]})["things"].metadata.resolve_selection()
        if sdk_selects.get((), True):
            assert out == entry
        else:  # only the key properties' schemas are left
            keys = {name: SCHEMA["properties"][name] for name in ("TenantID", "ID")}
            assert out == {**entry, "schema": {"type": "object", "properties": keys}}
    assert outlined[0] != entries[0]
    # The SDK gets the outline; the stream is deselected, emits nothing, and its stream map
    # (which checks the key properties) still registers.
    tap = HookTap(catalog={"streams": [entries[0]]})
    assert not tap.things.selected
    assert tap.input_catalog is not None
    assert tap.input_catalog["things"].schema.to_dict()["properties"].keys() == {"TenantID", "ID"}
    assert tap.mapper.stream_maps["things"]
    assert [m["type"] for m in _sync(tap)] == []
    selected = HookTap(catalog={"streams": [entries[3]]})
    assert selected.input_catalog is not None
    assert selected.input_catalog["things"].schema.to_dict() == SCHEMA
    assert [m["type"] for m in _sync(selected)].count("RECORD") == 6


def test_the_state_writer_is_the_taps_to_replace() -> None:
    assert _params(sdk_state.StateWriter.write_state) == ["self", "state"]
    tap = HookTap()
    writer = tap._state_writer
    assert isinstance(writer, XeroStateWriter)
    assert tap.state_writer is writer  # the SDK's streams write through it
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    partition: dict[str, Any] = {"context": {"TenantID": "t1"}}
    state = {"bookmarks": {"things": {"partitions": [partition]}}}
    record = {"ID": "a", "Name": "x" * 200}
    when = datetime(2026, 1, 2, tzinfo=UTC)
    with redirect_stdout(out):
        writer.write_state(state)  # no line before it yet: held back
        tap.message_writer.write_record("things", record, None, when)  # type: ignore[attr-defined]
        writer.write_state(state)  # now as many bytes of records precede it: written
        writer.write_state(state)  # unchanged: no second line
        partition["replication_key_value"] = "2026"  # changed in place, as the SDK does
        writer.write_state(state)  # no record since: held back
        writer.flush()  # the end of the run writes it
        writer.flush()
    lines = out.buffer.getvalue().decode().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["RECORD", "STATE", "STATE"]
    assert json.loads(lines[-1])["value"] == state
    sdk = tap.message_writer.format_message(StateMessage(value=state))
    assert lines[-1].encode() + b"\n" == sdk  # byte for byte the SDK writer's line


class PlainThings(Things):
    """Things without a child-context hook of its own, so its records take our record loop;
    the second tenant's records come without their partition key."""

    STATE_MSG_FREQUENCY = 2
    generate_child_contexts = SdkStream.generate_child_contexts

    @override
    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        for record in RECORDS:
            yield {**record, "TenantID": "t1"} if context["TenantID"] == "t1" else dict(record)


class PlainTap(HookTap):
    @override
    def discover_streams(self) -> list[Stream]:
        return [PlainThings(self)]


def _without_times(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k != "time_extracted"} for m in messages]


def test_our_record_loop_is_the_sdks_where_it_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _params(Stream._sync_records) == ["self", "context", "write_messages"]
    processed: list[str] = []
    sdk_process = Stream._process_record

    def noting(self: Stream, record: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        processed.append(record["ID"])
        sdk_process(self, record, *args, **kwargs)

    monkeypatch.setattr(Stream, "_process_record", noting)
    ours = PlainTap()
    stream = ours.streams["things"]
    assert isinstance(stream, SdkStream)
    assert stream._plain_records()
    ours_out = _sync(ours)
    assert processed == []  # our loop ran
    sdk = PlainTap()
    monkeypatch.setattr(PlainThings, "_plain_records", lambda self: False)
    sdk_out = _sync(sdk)
    assert processed == ["a", "b", "c"] * len(TENANTS)  # the SDK's loop ran
    assert _without_times(ours_out) == _without_times(sdk_out)
    assert [m["type"] for m in ours_out].count("STATE") >= 3  # every STATE_MSG_FREQUENCY
    assert {m["record"]["TenantID"] for m in ours_out if m["type"] == "RECORD"} == set(TENANTS)
    assert ours.state == sdk.state
    # The SDK's loop stays for streams with a child-context hook, a dry-run limit, or a
    # post_process of their own.
    assert not HookTap().things._plain_records()
    limited = PlainTap().streams["things"]
    limited.ABORT_AT_RECORD_COUNT = 1
    assert isinstance(limited, SdkStream)
    assert not limited._plain_records()

    class Processed(PlainThings):
        @override
        def post_process(
            self, row: dict[str, Any], context: Mapping[str, Any] | None = None
        ) -> dict[str, Any] | None:
            return row

    assert not Processed(PlainTap())._plain_records()

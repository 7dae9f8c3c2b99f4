"""One test per singer-sdk hook target-xero overrides (``target_xero/sdk_hooks.py``), each
pinning the SDK behaviour the override relies on, so an SDK upgrade that changes it fails
here, loudly, instead of quietly in a run. No test here reaches Xero: the records are caught
by a sink that only counts, or rejected before anything connects."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from singer_sdk import Target
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.singerlib.exceptions import SingerReadError
from singer_sdk.sinks import BatchSink, Sink

from target_xero.attachments import AttachmentSink
from target_xero.files import AssociationSink, FileSink
from target_xero.row_sink import RowSink
from target_xero.sdk_hooks import LineReader, SessionSink, SessionTarget, StreamSink
from target_xero.sink import XeroSink
from target_xero.target import TargetXero

_SCHEMA = {
    "type": "object",
    "properties": {"ContactID": {"type": "string"}, "Date": {"type": "string", "format": "date"}},
}


class _Caught(XeroSink):
    """A sink that buffers what the SDK hands it and writes nothing."""

    seen: list[dict[str, Any]] = []
    batches: list[int] = []

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        type(self).seen.append(record)
        context.setdefault("records", []).append(record)

    def process_batch(self, context: dict[str, Any]) -> None:
        type(self).batches.append(len(context.get("records") or []))


class _CatchingTarget(TargetXero):
    default_sink_class = _Caught


def _lines(*messages: dict[str, Any]) -> io.StringIO:
    return io.StringIO("".join(json.dumps(m) + "\n" for m in messages))


def _schema(stream: str = "contacts", keys: list[str] | None = None) -> dict[str, Any]:
    return {"type": "SCHEMA", "stream": stream, "schema": _SCHEMA, "key_properties": keys or []}


def _record(record: dict[str, Any], stream: str = "contacts") -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": record}


@pytest.fixture(autouse=True)
def _fresh_catch() -> None:
    _Caught.seen = []
    _Caught.batches = []


@pytest.mark.parametrize(
    ("base", "name"),
    [
        (MsgSpecReader, "deserialize_json"),
        (Target, "get_sink_class"),
        (Target, "_write_state_message"),
        (Target, "process_endofpipe"),
        (Target, "invoke"),
        (BatchSink, "max_size"),
        (Sink, "get_validator"),
        (Sink, "_singer_validate_message"),
        (Sink, "_validate_and_parse"),
        (Sink, "setup"),
    ],
)
def test_every_overridden_hook_is_still_an_sdk_hook(base: type, name: str) -> None:
    """An override of a name the SDK no longer has would silently do nothing."""
    assert name in dir(base)
    ours = (LineReader, SessionTarget, SessionSink, StreamSink)
    owner = next(cls for cls in ours if issubclass(cls, base) and name in vars(cls))
    assert getattr(owner, name) is not getattr(base, name)


def test_deserialize_json_is_called_for_every_input_line() -> None:
    """The SDK's reader parses each line with ``deserialize_json``; ours names the line."""
    target = TargetXero(config={}, validate_config=False)
    bad = io.StringIO(json.dumps(_schema()) + "\n{not json\n")
    with pytest.raises(SingerReadError, match=r"^line 2 is not valid JSON"):
        target.listen(bad)


def test_get_sink_class_picks_each_streams_sink() -> None:
    """The SDK asks ``get_sink_class`` for the class of each stream's sink on its SCHEMA."""
    target = TargetXero(config={}, validate_config=False)
    target.listen(_lines(_schema("contact_rows"), _schema("contacts")))
    assert type(target.get_sink("contact_rows")) is RowSink
    assert type(target.get_sink("contacts")) is XeroSink


def test_get_sink_class_follows_stream_resource_map_to_a_sink_of_its_own() -> None:
    """A stream mapped to ``attachments`` or a Files stream gets that stream's sink."""
    mapped = {"receipts": "attachments", "scans": "files", "links": "file_associations"}
    target = TargetXero(config={"stream_resource_map": mapped}, validate_config=False)
    target.listen(_lines(*(_schema(stream) for stream in mapped)))
    assert type(target.get_sink("receipts")) is AttachmentSink
    assert type(target.get_sink("scans")) is FileSink
    assert type(target.get_sink("links")) is AssociationSink


def test_setup_is_called_once_after_init_so_a_sink_joins_its_stream() -> None:
    """The SDK calls ``setup`` right after making a sink; a stream sink joins its run-wide
    stream object there, and a new SCHEMA (a new sink) joins the same one."""
    target = TargetXero(config={}, validate_config=False)
    target.listen(_lines(_schema("contact_rows")))
    first = target.get_sink("contact_rows")
    assert isinstance(first, RowSink)
    target.listen(_lines(_schema("contact_rows", keys=["ContactName"])))
    second = target.get_sink("contact_rows")
    assert second is not first
    assert second.stream is first.stream


def test_write_state_message_carries_every_state(capsys: pytest.CaptureFixture[str]) -> None:
    """The SDK writes STATE only through ``_write_state_message``, so holding it back there
    holds it back."""
    state = {"type": "STATE", "value": {"bookmarks": {"contacts": 1}}}
    target = TargetXero(config={}, validate_config=False)
    target.listen(_lines(_schema(), state))
    assert json.loads(capsys.readouterr().out) == state["value"]
    target = TargetXero(config={}, validate_config=False)
    target.session.state_may_be_written = lambda: False  # type: ignore[method-assign]
    target.listen(_lines(_schema(), state))
    assert capsys.readouterr().out == ""


def test_process_endofpipe_runs_after_the_last_line(tmp_path: Path) -> None:
    """The SDK calls ``process_endofpipe`` once the input ends; ours settles and reports."""
    rejects = tmp_path / "rejects.jsonl"
    config = {"fail_on_reject": True, "rejects_file": str(rejects)}
    target = TargetXero(config=config, validate_config=False)
    with pytest.raises(SystemExit, match="1 record"):
        target.listen(_lines(_schema("unknown"), _record({"ContactID": "x"}, "unknown")))
    assert json.loads(rejects.read_text())["stream"] == "unknown"


def test_invoke_is_what_the_command_line_runs(tmp_path: Path) -> None:
    """The SDK's command line builds the target inside ``invoke``: a bad setting ends the
    run there, in one line."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auth_mode": "access_token", "natural_keys": {"nope": ["x"]}}))
    with pytest.raises(SystemExit, match=r"^target-xero: config setting 'natural_keys'"):
        TargetXero.cli.main(["--config", str(config)], standalone_mode=False)


def test_max_size_decides_when_a_sink_is_drained() -> None:
    """The SDK drains a sink whenever it holds ``max_size`` records."""
    target = _CatchingTarget(config={"batch_size_rows": 2}, validate_config=False)
    target.listen(_lines(_schema(), *[_record({"ContactID": str(n)}) for n in range(5)]))
    assert _Caught.batches == [2, 2, 1]


def test_get_validator_none_leaves_records_unvalidated() -> None:
    """Without a validator the SDK hands on a record its schema refuses (ours rejects it)."""
    target = _CatchingTarget(config={}, validate_config=False)
    target.listen(_lines(_schema(), _record({"ContactID": 5})))
    assert _Caught.seen == [{"ContactID": 5}]


def test_singer_validate_message_is_where_key_properties_are_checked() -> None:
    """The SDK checks a record's key properties in ``_singer_validate_message``; ours lets
    the record through to be rejected with its reasons."""
    target = _CatchingTarget(config={}, validate_config=False)
    target.listen(_lines(_schema(keys=["ContactID"]), _record({"Date": "2024-01-02"})))
    assert _Caught.seen == [{"Date": "2024-01-02"}]


def test_validate_and_parse_is_where_dates_would_be_parsed() -> None:
    """The SDK would turn a date string into a date in ``_validate_and_parse``; ours keeps it."""
    target = _CatchingTarget(config={}, validate_config=False)
    target.listen(_lines(_schema(), _record({"ContactID": "a", "Date": "2024-01-02"})))
    assert _Caught.seen == [{"ContactID": "a", "Date": "2024-01-02"}]

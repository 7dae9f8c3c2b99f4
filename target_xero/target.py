"""target-xero: batched, idempotent upserts of Singer records into one Xero organisation."""

from __future__ import annotations

import decimal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec
from singer_sdk import Target
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.exceptions import RecordsWithoutSchemaException
from singer_sdk.singerlib.exceptions import InvalidInputLine, SingerReadError

from xero_api.client import XeroClient
from xero_api.codec import encode_json
from xero_api.errors import (
    XeroAuthError,
    XeroError,
    XeroHTTPError,
    XeroNotFound,
    XeroValidationError,
)
from xero_api.resources import RESOURCES, resource_for_stream
from xero_api.settings import SETTINGS, XeroSettings

from .directory import Directory
from .journal import Journal
from .loader import WRITE_MODES, Loader, RequestRejected
from .row_sink import RowSink, RowStream
from .rows import ROW_SETTINGS, ROW_STREAMS, OrganisationFacts
from .sink import XeroSink, buffer_size

__all__ = ["TargetXero"]

_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)
WRITABLE = tuple(r.stream for r in RESOURCES if r.write is not None)

_OWN_SETTINGS: dict[str, dict[str, Any]] = {
    "tenant_id": {
        "type": "string",
        "description": "The Xero organisation (tenant ID) to write into. Optional when the "
        "connection reaches exactly one organisation (or `tenant_ids` lists one).",
    },
    "stream_resource_map": {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": list(WRITABLE)},
        "default": {},
        "description": "Input stream name -> Xero resource stream (one of "
        + ", ".join(WRITABLE)
        + "), for streams not named after a resource. Reshape fields with `stream_maps`.",
    },
    "batch_size": {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 50,
        "description": "Elements per write request (Accounts and TrackingCategories always 1).",
    },
    "write_mode": {
        "type": "string",
        "enum": list(WRITE_MODES),
        "default": "upsert",
        "description": "upsert: update the document a record matches, create the others; "
        "create_only: create records that match nothing, report matches as `exists` and leave "
        "them untouched; update_only: update matches, reject records that match nothing.",
    },
    "natural_keys": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": {},
        "description": "Resource stream -> the natural keys its records are matched by, "
        'tried in order, replacing the built-in ones (e.g. {"contacts": ["Name"]}); `A+B` is '
        "a compound key, dotted paths reach nested fields (`Contact.ContactID`).",
    },
    "dry_run": {
        "type": "boolean",
        "default": False,
        "description": "Validate and resolve everything and report what would be created, "
        "updated or rejected, with GET requests only; nothing is written.",
    },
    "audit_file": {
        "type": "string",
        "description": "JSONL file (appended) with one line per written record: stream, action, "
        "xero_id, idempotency_key, source_id.",
    },
    "rejects_file": {
        "type": "string",
        "description": "JSONL file (appended) with one line per rejected record: stream, record, "
        "reasons (Xero's validation messages or ours).",
    },
    "fail_on_reject": {
        "type": "boolean",
        "default": False,
        "description": "Exit non-zero (after everything is flushed) when any record was rejected.",
    },
}


def config_schema() -> dict[str, Any]:
    """The shared connection settings (``xero_api.settings``) followed by the target's own."""
    properties: dict[str, Any] = {}
    required = []
    for setting in SETTINGS:
        prop: dict[str, Any] = {"description": setting.description}
        if setting.type == "array":
            prop["type"] = ["array", "null"]
            prop["items"] = {"type": "string"}
        else:
            prop["type"] = [setting.type, "null"]
        if setting.allowed:
            prop["enum"] = list(setting.allowed)
        if setting.secret:
            prop["secret"] = True
            prop["writeOnly"] = True
        if setting.default is not None:
            prop["default"] = setting.default
        if setting.required:
            required.append(setting.name)
        properties[setting.name] = prop
    properties.update(_OWN_SETTINGS)
    properties.update(ROW_SETTINGS)
    return {"type": "object", "properties": properties, "required": required}


class _Organisation:
    """The shared Xero client bound to the organisation being written (adapter for the loader)."""

    def __init__(self, client: XeroClient, tenant_id: str) -> None:
        self._client = client
        self.tenant_id = tenant_id

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        try:
            data = self._client.get(path, self.tenant_id, params).data
        except XeroNotFound:
            return None
        if isinstance(data, list):
            # A collection answered as a bare list (asset types): under the table's empty
            # envelope, where the directory reads it.
            return {"": data}
        return data if isinstance(data, Mapping) else None

    def write(
        self, method: str, path: str, params: Mapping[str, str], body: Any, idempotency_key: str
    ) -> Mapping[str, Any]:
        try:
            data = self._client.request(
                method,
                path,
                self.tenant_id,
                params=params,
                json=body,
                idempotency_key=idempotency_key,
            ).data
        except XeroValidationError as exc:
            raise RequestRejected(exc.messages, exc.elements) from exc
        except XeroAuthError:
            raise
        except XeroHTTPError as exc:
            if 400 <= exc.status < 500:
                raise RequestRejected([exc.message]) from exc
            raise
        return data if isinstance(data, Mapping) else {}


class _LineReader(MsgSpecReader):  # type: ignore[misc]
    """The SDK's msgspec reader, naming a bad line by its number instead of logging a traceback."""

    _line_number = 0

    def deserialize_json(self, line: str) -> dict[str, Any]:
        """One input line as a message; InvalidInputLine when it is not a JSON object."""
        self._line_number += 1
        try:
            message = _DECODER.decode(line)
        except msgspec.DecodeError as exc:
            raise InvalidInputLine(
                f"line {self._line_number} is not valid JSON ({exc}): {_shorten(line, 120)}"
            ) from None
        if not isinstance(message, dict):
            raise InvalidInputLine(
                f"line {self._line_number} is not a JSON object: {_shorten(line, 120)}"
            )
        return message


class TargetXero(Target):  # type: ignore[misc]
    """Singer target that upserts records into a Xero organisation."""

    name = "target-xero"
    package_name = "singer-xero"  # the distribution, so --about and the log show its version
    message_reader_class = _LineReader
    default_sink_class = XeroSink
    config_jsonschema = config_schema()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Set up lazily: the Xero client is created on the first write or lookup."""
        self._lock = threading.RLock()
        self._client: XeroClient | None = None
        self._loader: Loader | None = None
        self._journal: Journal | None = None
        # Records waiting for a reference that a later record may create: resource stream ->
        # input stream -> spool, in arrival order (on disk: a tap that emits invoices before
        # the items they use may hold nearly the whole input).
        self._held: dict[str, dict[str, _HeldSpool]] = {}
        self._rows: dict[str, RowStream] = {}  # invoice_rows, bill_rows, contact_rows
        self._organisation: _Organisation | None = None
        self._directory: Directory | None = None
        self._facts: OrganisationFacts | None = None
        self._input_ended = False
        # Per input stream: the SCHEMA's key properties and the date conversion of its records.
        self.stream_keys: dict[str, list[str]] = {}
        self.converters: dict[str, Callable[[dict[str, Any]], None]] = {}
        super().__init__(*args, **kwargs)
        self.max_parallelism = 1  # one organisation, written in dependency order
        self.write_mode = write_mode_setting(self.config)
        self.natural_keys = natural_keys_setting(self.config)
        if self.config.get("auth_mode"):
            # A bad connection setting stops the run before any input is read.
            self._settings: XeroSettings | None = XeroSettings.from_config(self.config)
        else:
            self._settings = None

    # -- pieces --------------------------------------------------------------------------

    @property
    def journal(self) -> Journal:
        """Audit file, rejects file and counters of this run."""
        with self._lock:
            if self._journal is None:
                self._journal = Journal(
                    self.config.get("audit_file"), self.config.get("rejects_file"), self.logger
                )
            return self._journal

    @property
    def loader(self) -> Loader:
        """The upsert machinery, bound to the target organisation (connects on first use)."""
        with self._lock:
            if self._loader is None:
                settings = self._settings or XeroSettings.from_config(self.config)
                self._client = XeroClient(settings, self.logger)
                organisation = _Organisation(self._client, self._tenant(self._client))
                self._organisation = organisation
                self._directory = Directory(organisation, self.natural_keys)
                self._loader = Loader(
                    organisation,
                    self.journal,
                    self._directory,
                    batch_size=int(self.config.get("batch_size") or 50),
                    dry_run=bool(self.config.get("dry_run")),
                    logger=self.logger,
                    write_mode=self.write_mode,
                )
                if self.config.get("dry_run"):
                    self.logger.info("dry run: only GET requests are sent; nothing is written")
            return self._loader

    @property
    def directory(self) -> Directory:
        """What the target knows of the organisation's documents (the loader's cache)."""
        _ = self.loader
        assert self._directory is not None
        return self._directory

    @property
    def organisation_facts(self) -> OrganisationFacts:
        """Country, tax rates and branding themes of the organisation, for row streams."""
        with self._lock:
            if self._facts is None:
                _ = self.loader
                assert self._organisation is not None
                self._facts = OrganisationFacts(
                    self._organisation, self.config.get("row_date_order")
                )
            return self._facts

    def _tenant(self, client: XeroClient) -> str:
        configured = self.config.get("tenant_id")
        if configured:
            return str(configured)
        tenants = client.tenant_ids()
        if len(tenants) != 1:
            raise XeroError(
                f"config setting 'tenant_id': the connection reaches {len(tenants)} organisations; "
                "set tenant_id to the one to write into"
            )
        return tenants[0]

    # -- streams -------------------------------------------------------------------------

    def get_sink_class(self, stream_name: str) -> type[XeroSink]:
        """:class:`RowSink` for the row streams, :class:`XeroSink` for every other."""
        return RowSink if stream_name in ROW_STREAMS else XeroSink

    def row_stream(self, stream_name: str) -> RowStream:
        """The run's state of one row stream (rows spooled, columns warned about)."""
        if stream_name not in self._rows:
            self._rows[stream_name] = RowStream(self, stream_name)
        return self._rows[stream_name]

    def resource_for(self, stream_name: str) -> str | None:
        """The resource stream a stream lands on, or None when it is not mapped."""
        mapped = (self.config.get("stream_resource_map") or {}).get(stream_name)
        name = mapped or stream_name
        if name in WRITABLE:
            return name
        return None

    def unmapped_reason(self, stream_name: str) -> str:
        """Why records of an unknown stream are rejected."""
        mapped = (self.config.get("stream_resource_map") or {}).get(stream_name)
        if mapped:
            return f"stream_resource_map maps {stream_name!r} to {mapped!r}, which is not writable"
        return (
            f"stream {stream_name!r} is not a Xero resource ({', '.join(WRITABLE)}); "
            "map it with the stream_resource_map setting"
        )

    def drain_dependencies(self, resource_stream: str) -> None:
        """Write every buffered record of the resources ``resource_stream`` depends on."""
        rule = resource_for_stream(resource_stream).write
        if rule is None:
            return
        for sink in [*self._sinks_to_clear, *self._sinks_active.values()]:
            if (
                isinstance(sink, XeroSink)
                and sink.resource_stream in rule.depends_on
                and sink.current_size
            ):
                self.drain_one(sink)

    def load(self, stream_name: str, resource_stream: str, records: list[dict[str, Any]]) -> int:
        """Write or reject a batch; hold back records whose references may still arrive (how
        many were held), then retry the records held for this resource."""
        rule = resource_for_stream(resource_stream).write
        assert rule is not None
        held = self._load(stream_name, resource_stream, records, waiting=rule.depends_on)
        if held:
            spools = self._held.setdefault(resource_stream, {})
            spools.setdefault(stream_name, _HeldSpool()).add(held)
            self.logger.info(
                "%s: %d record(s) refer to something not written yet; held until it arrives "
                "or the input ends",
                stream_name,
                len(held),
            )
        self._retry_held(resource_stream)
        return len(held)

    def _load(
        self,
        stream_name: str,
        resource_stream: str,
        records: list[dict[str, Any]],
        waiting: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        return self.loader.load(
            stream_name,
            resource_stream,
            records,
            waiting=waiting,
            key_properties=self.stream_keys.get(stream_name, ()),
            convert=self.converters.get(stream_name),
        )

    def _retry_held(self, written_stream: str) -> None:
        """Load again the held records of every resource that depends on ``written_stream``."""
        for resource_stream in list(self._held):
            rule = resource_for_stream(resource_stream).write
            if rule is None or written_stream not in rule.depends_on:
                continue
            for stream_name, spool in self._held.pop(resource_stream, {}).items():
                for records in spool.chunks(buffer_size(self.config)):
                    self.load(stream_name, resource_stream, records)

    def _settle_held(self) -> None:
        """At end of input: load every held record one last time, dependencies first; what
        still resolves to nothing is rejected with its reasons."""
        for resource_stream in _dependency_order(list(self._held)):
            for stream_name, spool in self._held.pop(resource_stream, {}).items():
                self.logger.info(
                    "%s: loading %d held record(s) at end of input", stream_name, spool.count
                )
                for records in spool.chunks(buffer_size(self.config)):
                    self._load(stream_name, resource_stream, records)

    def _finish_input(self) -> None:
        """At end of input: the documents of the row streams, then every held record."""
        for rows in self._rows.values():
            rows.load_documents()
        self._settle_held()

    def _write_state_message(self, state: dict[str, Any]) -> None:
        # singer-sdk writes STATE at the end of drain_all: records held from before it must be
        # written or rejected first, so a STATE while some are still held waits for a later one.
        if self._input_ended:
            self._finish_input()
        if self._held or any(rows.pending for rows in self._rows.values()):
            self.logger.info("STATE held back: records before it wait for their references")
            return
        super()._write_state_message(state)

    # -- end of run ----------------------------------------------------------------------

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """Run the target; a Xero or config problem ends the run with one line, no traceback."""
        try:
            super().invoke(*args, **kwargs)
        except XeroError as exc:
            cls.logger.error("target-xero stopped: %s", exc.message)
            raise SystemExit(f"target-xero: {exc.message}") from None
        except (SingerReadError, RecordsWithoutSchemaException) as exc:
            # Input that is not Singer at all: nothing after it can be trusted, so stop here.
            message = _shorten(str(exc))
            cls.logger.error("target-xero stopped on bad input: %s", message)
            raise SystemExit(f"target-xero: bad input: {message}") from None

    def process_endofpipe(self) -> None:
        """Flush everything, then report and apply ``fail_on_reject``."""
        self._input_ended = True
        super().process_endofpipe()
        self._finish_input()  # when no STATE was seen, drain_all did not
        if self._loader is not None:
            self._loader.close()
        journal = self.journal
        for line in journal.summary_lines():
            self.logger.info(line)
        if self._client is not None:
            for line in self._client.usage.summary_lines():
                self.logger.info("usage %s", line)
        if self.config.get("fail_on_reject") and journal.rejected_total:
            self._close()
            raise SystemExit(
                f"target-xero: {journal.rejected_total} record(s) rejected and fail_on_reject is "
                "set; see the rejects file"
            )

    def _close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        if self._client is not None:
            self._client.close()


class _HeldSpool:
    """Held records of one input stream in a temporary file, read back in arrival order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the spool
        self.count = 0

    def add(self, records: list[dict[str, Any]]) -> None:
        self._file.writelines(encode_json(record) + b"\n" for record in records)
        self.count += len(records)

    def chunks(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """The records in lists of up to ``size``; the file is closed after the last."""
        self._file.seek(0)
        chunk: list[dict[str, Any]] = []
        for line in self._file:
            chunk.append(_DECODER.decode(line))
            if len(chunk) >= size:
                yield chunk
                chunk = []
        self._file.close()
        if chunk:
            yield chunk


def write_mode_setting(config: Mapping[str, Any]) -> str:
    """The ``write_mode`` setting; XeroError in one line when it is not one of the modes."""
    mode = config.get("write_mode") or "upsert"
    if mode not in WRITE_MODES:
        raise XeroError(
            f"config setting 'write_mode': {mode!r} is not one of {', '.join(WRITE_MODES)}"
        )
    return str(mode)


def natural_keys_setting(config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The ``natural_keys`` setting, checked: writable streams to non-empty lists of keys."""
    setting = config.get("natural_keys") or {}
    name = "config setting 'natural_keys'"
    if not isinstance(setting, Mapping):
        raise XeroError(f'{name}: expected an object such as {{"contacts": ["Name"]}}')
    keys: dict[str, tuple[str, ...]] = {}
    for stream, specs in setting.items():
        if stream not in WRITABLE:
            raise XeroError(
                f"{name}: {stream!r} is not a writable stream (one of {', '.join(WRITABLE)})"
            )
        if (
            not isinstance(specs, list)
            or not specs
            or not all(isinstance(k, str) and k and "" not in k.split("+") for k in specs)
        ):
            raise XeroError(
                f"{name}: {stream!r} needs a non-empty list of field names "
                f'(e.g. ["Name"] or ["InvoiceNumber+Type+Contact.ContactID"]), got {specs!r}'
            )
        keys[stream] = tuple(specs)
    return keys


def _dependency_order(resource_streams: list[str]) -> list[str]:
    """The given resource streams, each after every one it depends on (directly or not)."""
    ordered: list[str] = []

    def visit(stream: str, seen: frozenset[str]) -> None:
        if stream in ordered or stream in seen:
            return
        rule = resource_for_stream(stream).write
        for dependency in rule.depends_on if rule else ():
            visit(dependency, seen | {stream})
        ordered.append(stream)

    for stream in resource_streams:
        visit(stream, frozenset())
    return [s for s in ordered if s in resource_streams]


def _shorten(text: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters (a bad input line can be megabytes long)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

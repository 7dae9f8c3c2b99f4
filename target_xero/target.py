"""target-xero: batched, idempotent upserts of Singer records into one Xero organisation.

The target is configuration and wiring: it checks the settings and hands a
:class:`~target_xero.session.WriteSession` to the sinks, which write through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xero_api.errors import XeroError
from xero_api.resources import Key
from xero_api.settings import SETTINGS, XeroSettings

from .attachments import ATTACHMENTS, AttachmentSink
from .files import FILE_ASSOCIATIONS, FILES, AssociationSink, FileSink
from .loader import WRITE_MODES
from .row_sink import RowSink
from .rows import ROW_SETTINGS, ROW_STREAMS
from .sdk_hooks import SessionTarget
from .session import WRITABLE, WriteSession
from .sink import XeroSink
from .timesheet_days import DAY_STREAM, TimesheetDaySink

__all__ = ["TargetXero"]

# What stream_resource_map may map a stream to: the table's writable resources and the
# streams with a sink of their own that take any input stream's records.
MAPPABLE = (*WRITABLE, ATTACHMENTS, FILE_ASSOCIATIONS)

_OWN_SETTINGS: dict[str, dict[str, Any]] = {
    "tenant_id": {
        "type": "string",
        "description": "The Xero organisation (tenant ID) to write into. Optional when the "
        "connection reaches exactly one organisation (or `tenant_ids` lists one).",
    },
    "stream_resource_map": {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": list(MAPPABLE)},
        "default": {},
        "description": "Input stream name -> Xero resource stream (one of "
        + ", ".join(MAPPABLE)
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


class TargetXero(SessionTarget):
    """Singer target that upserts records into a Xero organisation."""

    name = "target-xero"
    package_name = "singer-xero"  # the distribution, so --about and the log show its version
    default_sink_class = XeroSink
    sink_classes = {
        **dict.fromkeys(ROW_STREAMS, RowSink),
        ATTACHMENTS: AttachmentSink,
        DAY_STREAM: TimesheetDaySink,
        FILES: FileSink,
        FILE_ASSOCIATIONS: AssociationSink,
    }
    config_jsonschema = config_schema()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Check the settings; the Xero client is created on the first write or lookup."""
        super().__init__(*args, **kwargs)
        self.max_parallelism = 1  # one organisation, written in dependency order
        write_mode = write_mode_setting(self.config)
        natural_keys = natural_keys_setting(self.config)
        # A bad connection setting stops the run before any input is read.
        settings = XeroSettings.from_config(self.config) if self.config.get("auth_mode") else None
        self.session = WriteSession(
            self.config,
            self.logger,
            settings=settings,
            write_mode=write_mode,
            natural_keys=natural_keys,
            drain=self.drain_one,
        )


def write_mode_setting(config: Mapping[str, Any]) -> str:
    """The ``write_mode`` setting; XeroError in one line when it is not one of the modes."""
    mode = config.get("write_mode") or "upsert"
    if mode not in WRITE_MODES:
        raise XeroError(
            f"config setting 'write_mode': {mode!r} is not one of {', '.join(WRITE_MODES)}"
        )
    return str(mode)


def natural_keys_setting(config: Mapping[str, Any]) -> dict[str, tuple[Key, ...]]:
    """The ``natural_keys`` setting, checked: writable streams to non-empty lists of keys."""
    setting = config.get("natural_keys") or {}
    name = "config setting 'natural_keys'"
    if not isinstance(setting, Mapping):
        raise XeroError(f'{name}: expected an object such as {{"contacts": ["Name"]}}')
    keys: dict[str, tuple[Key, ...]] = {}
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
        keys[stream] = tuple(Key.parse(spec) for spec in specs)
    return keys

"""Record checks and payload shaping: from a record in the tap's shape to a Xero request element.

Validation is a compiled ``fastjsonschema`` validator (formats off: Xero's timestamps carry no
offset, which the format checker refuses) plus our own date check, so a bad record is rejected
with a reason instead of stopping the run. Dates are sent the way Xero's write side accepts
them: ``YYYY-MM-DD`` for a midnight value, else ``YYYY-MM-DDThh:mm:ss`` in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import fastjsonschema

from xero_api.dates import parse_datetime, to_xero_date, to_xero_datetime

__all__ = [
    "RecordChecker",
    "drop_fields",
    "get_path",
    "xero_date",
]

# Echoed response fields that never belong in a request, wherever they appear.
_ALWAYS_DROPPED = ("ValidationErrors", "Warnings", "StatusAttributeString", "HasValidationErrors")


def xero_date(value: str) -> str:
    """An ISO (or ``/Date(ms)/``) date or timestamp as Xero's write side takes it: a midnight
    value as ``YYYY-MM-DD``, anything else as ``YYYY-MM-DDThh:mm:ss`` UTC.

    Raises ValueError naming the value when it is not a date.
    """
    when = parse_datetime(value)
    if (when.hour, when.minute, when.second, when.microsecond) == (0, 0, 0, 0):
        return to_xero_date(when)
    return to_xero_datetime(when)


def _date_paths(schema: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths (``*`` for array elements) of every date or date-time property in a schema."""
    found: list[tuple[str, ...]] = []
    fmt = schema.get("format")
    if fmt in ("date", "date-time") and prefix:
        found.append(prefix)
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, Mapping):
            found.extend(_date_paths(sub, (*prefix, name)))
    items = schema.get("items")
    if isinstance(items, Mapping):
        found.extend(_date_paths(items, (*prefix, "*")))
    return found


def _visit(node: Any, path: tuple[str, ...], fn: Callable[[dict[str, Any], str], None]) -> None:
    """Call ``fn(parent, key)`` for every value reached by ``path`` under ``node``."""
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list):
            for element in node:
                _visit(element, rest, fn)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if rest:
        _visit(node[head], rest, fn)
    else:
        fn(node, head)


class RecordChecker:
    """Validates one stream's records and converts their dates, built once per schema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        """Compile the stream's schema (formats off) and find its date fields."""
        self._validate: Callable[[Any], Any] = fastjsonschema.compile(
            dict(schema), use_formats=False
        )
        self._dates = _date_paths(schema)

    def problems(self, record: dict[str, Any]) -> list[str]:
        """Why a record cannot be written (the record is left as it is)."""
        try:
            self._validate(record)
        except fastjsonschema.JsonSchemaException as exc:
            return [f"schema: {str(exc).replace('data.', '', 1)}"]
        reasons: list[str] = []

        def check(parent: dict[str, Any], key: str) -> None:
            value = parent[key]
            if isinstance(value, str):
                try:
                    parse_datetime(value)
                except ValueError as exc:
                    reasons.append(f"{key}: {exc}")

        for path in self._dates:
            _visit(record, path, check)
        return reasons

    def convert(self, payload: dict[str, Any]) -> None:
        """Dates of a checked record's copy as Xero takes them, in place (:func:`xero_date`)."""

        def convert(parent: dict[str, Any], key: str) -> None:
            value = parent[key]
            if isinstance(value, str):
                parent[key] = xero_date(value)

        for path in self._dates:
            _visit(payload, path, convert)


def drop_fields(payload: dict[str, Any], read_only: Iterable[str], lines: str = "") -> None:
    """Remove read-only and echo-only fields (``a.b``: ``b`` of the object ``a``, or of each
    element of the list ``a``), top level and on the lines of the list ``lines``, in place."""
    for name in (*read_only, *_ALWAYS_DROPPED):
        head, _, rest = name.partition(".")
        if rest and isinstance(payload.get(head), dict):
            payload[head].pop(rest, None)  # a nested field (``bookDepreciationSetting.…``)
        elif rest and isinstance(payload.get(head), list):
            for element in payload[head]:  # a field of each line (``TimesheetLines.…``)
                if isinstance(element, dict):
                    element.pop(rest, None)
        else:
            payload.pop(name, None)
    for line in payload.get(lines) or () if lines else ():
        if isinstance(line, dict):
            for name in _ALWAYS_DROPPED:
                line.pop(name, None)


def get_path(record: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path (``Invoice.InvoiceNumber``), or None."""
    node: Any = record
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node

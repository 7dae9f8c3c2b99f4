"""Schema-driven conversion of Xero's ``/Date(ms)/`` values to ISO 8601 UTC strings.

Timestamps without a zone (the Files API's ``2021-02-10T16:02:54.9930000``, UTC) are written
the same canonical way, so bookmarks compare alike whatever API a date came from.

Walking every value of every record costs more than decoding the JSON; the schema already says
where the dates are. :func:`date_converter` compiles, once per stream, the paths of the schema's
``date-time`` properties and converts only those (through objects and lists of objects).
Objects the schema leaves open (cut recursion, new Xero fields) are passed on unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from xero_api.dates import format_utc, msdate_to_iso, parse_datetime
from xero_api.resources import Record

__all__ = ["date_converter"]


class Plan(NamedTuple):
    """Where the dates of one object are: its own date fields, then objects and lists of
    objects that hold dates further down."""

    dates: tuple[str, ...]
    objects: tuple[tuple[str, Plan], ...]
    lists: tuple[tuple[str, Plan], ...]


def _plan(schema: dict[str, Any]) -> Plan | None:
    dates: list[str] = []
    objects: list[tuple[str, Plan]] = []
    lists: list[tuple[str, Plan]] = []
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("format") == "date-time":
            dates.append(name)
        elif "properties" in prop:
            if inner := _plan(prop):
                objects.append((name, inner))
        elif (
            isinstance(prop.get("items"), dict)
            and "properties" in prop["items"]
            and (inner := _plan(prop["items"]))
        ):
            lists.append((name, inner))
    if not (dates or objects or lists):
        return None
    return Plan(tuple(dates), tuple(objects), tuple(lists))


# Documents share dates (issue, due, payment): each value seen is remembered with what it is
# written as, so most dates cost one dictionary lookup. Cleared when full.
_WRITTEN: dict[str, str] = {}
_WRITTEN_MAX = 65536


def _written(value: str) -> str:
    """The canonical form of a date string (itself when it needs no conversion), remembered."""
    if value.startswith("/Date("):
        out = msdate_to_iso(value)
    elif _converted(value):
        out = format_utc(parse_datetime(value))
    else:
        out = value
    if len(_WRITTEN) >= _WRITTEN_MAX:
        _WRITTEN.clear()
    _WRITTEN[value] = out
    return out


def _converted(value: str) -> bool:
    """Whether a date string needs converting: ``/Date(ms)/``, or a date and time with no
    ``Z`` and no offset (``YYYY-MM-DDThh:mm:ss[.f]``)."""
    if value.startswith("/Date("):
        return True
    tail = value[19:]
    return (
        len(value) >= 19
        and value[10] == "T"
        and not tail.endswith("Z")
        and "+" not in tail
        and "-" not in tail
    )


def _apply(record: Record, plan: Plan) -> None:
    # Runs for every record: exact type checks and no dispatch on a kind keep it cheap.
    dates, objects, lists = plan
    for name in dates:
        value = record.get(name)
        if type(value) is str:
            record[name] = _WRITTEN.get(value) or _written(value)
    for name, inner in objects:
        value = record.get(name)
        if type(value) is dict:
            _apply(value, inner)
    for name, inner in lists:
        value = record.get(name)
        if value and type(value) is list:
            for item in value:
                if type(item) is dict:
                    _apply(item, inner)


def date_converter(schema: dict[str, Any]) -> Callable[[list[Record]], None]:
    """A function converting, in place, the date fields of a list of records of ``schema``."""
    plan = _plan(schema)

    def convert(records: list[Record]) -> None:
        if plan is not None:
            for record in records:
                _apply(record, plan)

    return convert

"""Schema-driven conversion of Xero's ``/Date(ms)/`` values to ISO 8601 UTC strings.

Every other timestamp (the Files API's zoneless ``2021-02-10T16:02:54.9930000``, UTC; a
``...Z`` or ``+13:00`` one) is written the same canonical way, so bookmarks, compared as strings,
order alike whatever API a date came from: ``54.5+00:00`` sorts before ``54.500000+00:00``, and
a record would be taken for older than a bookmark it follows.

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
    """The canonical form of a date string (itself when it is one, or is not a date at all),
    remembered."""
    if value.startswith("/Date("):
        out = msdate_to_iso(value)
    elif _canonical(value):
        out = value
    else:
        try:
            out = format_utc(parse_datetime(value))
        except ValueError:  # not a timestamp: passed on as Xero gave it
            out = value
    if len(_WRITTEN) >= _WRITTEN_MAX:
        _WRITTEN.clear()
    _WRITTEN[value] = out
    return out


def _canonical(value: str) -> bool:
    """Whether a date string is already as :func:`format_utc` writes it
    (``YYYY-MM-DDThh:mm:ss.ffffff+00:00``)."""
    return len(value) == 32 and value[10] == "T" and value[19] == "." and value[26:] == "+00:00"


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

"""Schema-driven conversion of Xero's ``/Date(ms)/`` values to ISO 8601 UTC strings.

Walking every value of every record costs more than decoding the JSON; the schema already says
where the dates are. :func:`date_converter` compiles, once per stream, the paths of the schema's
``date-time`` properties and converts only those (through objects and lists of objects).
Objects the schema leaves open (cut recursion, new Xero fields) are passed on unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from xero_api.dates import msdate_to_iso

__all__ = ["date_converter"]

Record = dict[str, Any]
# (field, kind, nested plan): kind 0 = a date, 1 = an object, 2 = a list of objects
Plan = list[tuple[str, int, "Plan | None"]]

_DATE, _OBJECT, _LIST = 0, 1, 2


def _plan(schema: dict[str, Any]) -> Plan:
    plan: Plan = []
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("format") == "date-time":
            plan.append((name, _DATE, None))
        elif "properties" in prop:
            if inner := _plan(prop):
                plan.append((name, _OBJECT, inner))
        elif (
            isinstance(prop.get("items"), dict)
            and "properties" in prop["items"]
            and (inner := _plan(prop["items"]))
        ):
            plan.append((name, _LIST, inner))
    return plan


@lru_cache(maxsize=65536)
def _iso(value: str) -> str:
    # Documents share dates (issue, due, payment), so the cache saves most conversions.
    return msdate_to_iso(value)


def _apply(record: Record, plan: Plan) -> None:
    for name, kind, inner in plan:
        value = record.get(name)
        if value is None:
            continue
        if kind == _DATE:
            if type(value) is str and value.startswith("/Date("):
                record[name] = _iso(value)
        elif kind == _OBJECT:
            if type(value) is dict and inner:
                _apply(value, inner)
        elif type(value) is list and inner:
            for item in value:
                if type(item) is dict:
                    _apply(item, inner)


def date_converter(schema: dict[str, Any]) -> Callable[[list[Record]], None]:
    """A function converting, in place, the date fields of a list of records of ``schema``."""
    plan = _plan(schema)

    def convert(records: list[Record]) -> None:
        for record in records:
            _apply(record, plan)

    return convert

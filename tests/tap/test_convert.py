"""The tap writes every timestamp one canonical way, so bookmarks compare as instants do."""

from __future__ import annotations

from typing import Any

from tap_xero.convert import date_converter

SCHEMA: dict[str, Any] = {
    "properties": {
        "updated": {"type": ["string", "null"], "format": "date-time"},
        "name": {"type": ["string", "null"]},
        "lines": {
            "type": "array",
            "items": {"properties": {"at": {"type": "string", "format": "date-time"}}},
        },
    }
}

# One instant (and its neighbours) in every form Xero's APIs write timestamps.
SAME_INSTANT = [
    "/Date(1612972974500+0000)/",  # Accounting, Payroll AU
    "2021-02-10T16:02:54.5000000",  # Files, Payroll UK/NZ: zoneless UTC
    "2021-02-10T16:02:54.5Z",
    "2021-02-10T16:02:54.500+00:00",
    "2021-02-11T05:02:54.5+13:00",
]


def _converted(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    date_converter(SCHEMA)(records)
    return records


def test_every_form_of_one_instant_is_written_alike() -> None:
    records = _converted([{"updated": v, "lines": [{"at": v}]} for v in SAME_INSTANT])
    assert {r["updated"] for r in records} == {"2021-02-10T16:02:54.500000+00:00"}
    assert {r["lines"][0]["at"] for r in records} == {"2021-02-10T16:02:54.500000+00:00"}


def test_written_timestamps_sort_as_their_instants() -> None:
    # As Xero wrote them, "54.5+00:00" sorts before "54.25+00:00" and "54Z" after "54.9Z".
    given = ["2021-02-10T16:02:54.25+00:00", "2021-02-10T16:02:54.5+00:00", "2021-02-10T16:02:54Z"]
    given += ["2021-02-10T16:02:54.9Z", "2021-02-10T16:02:55.0000001"]
    written = [r["updated"] for r in _converted([{"updated": v} for v in given])]
    instants = ["54.000000", "54.250000", "54.500000", "54.900000", "55.000000"]
    assert sorted(written) == [f"2021-02-10T16:02:{i}+00:00" for i in instants]


def test_what_is_not_a_timestamp_is_passed_on_unchanged() -> None:
    records = _converted([{"updated": "soon", "name": "2021-02-10T16:02:54Z"}, {"updated": None}])
    assert records == [{"updated": "soon", "name": "2021-02-10T16:02:54Z"}, {"updated": None}]

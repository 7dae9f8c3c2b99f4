"""target-xero on Payroll AU: employees, timesheets and leave applications copied from one
Australian Demo Company into another, populated, one (tap-xero -> target-xero over the sandbox,
real processes).

* The copy reads back equal: every source employee (by e-mail) is in the target with what a
  client writes of it, its payroll calendar and ordinary earnings rate by name; every timesheet
  a client may write (draft or approved) by employee and period, its lines' rates by name; every
  leave application by employee, leave type and dates. Processed timesheets (a pay run's) are
  rejected with Xero's reason.
* It changes only what the documented keys matched: every new record is one the audit says
  ``created``, every changed one an audited ``updated``; nothing disappears.
* A replay changes nothing.
* A request Xero refuses whole is sent again without the refused elements; a dry run writes
  nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._target_support import (
    SANDBOX_FLAGS,
    Org,
    OrgPool,
    copy_into,
    singer_file,
    tap_records,
)
from xero_api.codec import encode_json
from xero_api.dates import parse_datetime
from xero_sandbox.api_collections import stored_name
from xero_sandbox.launcher import ALL_SCOPES, Sandbox
from xero_sandbox.store import Store

SCOPES = f"{ALL_SCOPES} payroll.employees payroll.timesheets payroll.settings"
STREAMS = [
    "payroll_calendars",
    "payroll_earnings_rates",
    "payroll_leave_types",
    "payroll_employees",
    "payroll_timesheets",
    "payroll_leave_applications",
]
PAYROLL = "/payroll.xro/1.0"
FIRST_PERIOD = date(2025, 7, 1)  # the seeded fortnightly calendar's start
PROCESSED = "Timesheet status PROCESSED cannot be set through the API"
REQUESTS = ("REQUESTED", "REJECTED")
REQUEST = (
    "An employee's leave request (REQUESTED or REJECTED) cannot be made through the API, "
    "which would save it as scheduled leave"
)
EMPLOYEES = "payroll_employees"
# (stream, ID) -> the record as Payroll AU answers it
Snapshot = dict[tuple[str, str], dict[str, Any]]
ENVELOPES = {
    "payroll_employees": ("Employees", "EmployeeID"),
    "payroll_timesheets": ("Timesheets", "TimesheetID"),
    "payroll_leave_applications": ("LeaveApplications", "LeaveApplicationID"),
}


@dataclass
class World:
    pool: OrgPool
    records: dict[str, list[dict[str, Any]]]
    singer: Path
    targets: list[str]


def _all(org: Org, path: str, envelope: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = org.api(f"{PAYROLL}/{path}", page=str(page))[envelope]
        docs += batch
        if len(batch) < 100:
            return docs
        page += 1


def _snapshot(org: Org) -> Snapshot:
    return {
        (stream, doc[id_field]): doc
        for stream, (envelope, id_field) in ENVELOPES.items()
        for doc in _all(org, envelope, envelope)
    }


def _day(value: str) -> str:
    return parse_datetime(value).date().isoformat()


def _period(index: int) -> tuple[str, str]:
    start = FIRST_PERIOD + timedelta(days=14 * index)
    return start.isoformat(), (start + timedelta(days=13)).isoformat()


def _names(org: Org) -> dict[str, str]:
    """Calendar, earnings rate and leave type IDs -> names."""
    items = org.api(f"{PAYROLL}/PayItems")["PayItems"]
    names = {r["EarningsRateID"]: r["Name"] for r in items["EarningsRates"]}
    names |= {t["LeaveTypeID"]: t["Name"] for t in items["LeaveTypes"]}
    calendars = _all(org, "PayrollCalendars", "PayrollCalendars")
    return names | {c["PayrollCalendarID"]: c["Name"] for c in calendars}


def _content(snap: Snapshot, names: dict[str, str]) -> dict[Any, Any]:
    """What a client writes of each record, keyed by its natural key, IDs replaced by what
    they name (employees by e-mail)."""
    emails = {d["EmployeeID"]: d.get("Email") for (s, _), d in snap.items() if s == EMPLOYEES}
    out: dict[Any, Any] = {}
    for (stream, _), doc in snap.items():
        if stream == EMPLOYEES:
            out[("employee", doc.get("Email"))] = (
                doc["FirstName"],
                doc["LastName"],
                _day(doc["DateOfBirth"]),
                doc.get("JobTitle"),
                doc.get("Gender"),
                tuple(sorted((doc.get("HomeAddress") or {}).items())),
                names.get(doc.get("PayrollCalendarID") or ""),
                names.get(doc.get("OrdinaryEarningsRateID") or ""),
                doc.get("Status"),
            )
        elif stream == "payroll_timesheets" and doc["Status"] != "PROCESSED":
            key = ("timesheet", emails[doc["EmployeeID"]], _day(doc["StartDate"]))
            lines = tuple(
                (names[line["EarningsRateID"]], tuple(float(u) for u in line["NumberOfUnits"]))
                for line in doc.get("TimesheetLines") or ()
            )
            out[key] = (_day(doc["EndDate"]), doc["Status"], lines, float(doc["Hours"]))
        elif stream == "payroll_leave_applications":
            key = (
                "leave",
                emails[doc["EmployeeID"]],
                names[doc["LeaveTypeID"]],
                _day(doc["StartDate"]),
                _day(doc["EndDate"]),
            )
            out[key] = (doc.get("Title"), doc.get("Description"), doc.get("PayOutType"))
    return out


def _post(org: Org, path: str, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
    headers = {**org.headers, "Content-Type": "application/json"}
    answer = httpx.post(
        org.sandbox.url + f"{PAYROLL}/{path}", content=encode_json(body), headers=headers
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()[path])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("payroll")
    with Sandbox(tenants=3, scale=20, regions="AU", **SANDBOX_FLAGS) as sb:
        pool = OrgPool(sb)
        pool.token = str(sb.authorize(SCOPES)["access_token"])
        first, *others = sb.tenant_ids()
        source = Org(sb, first, pool.token)
        # Timesheets a client may write (the seeded ones are a pay run's), and new leave.
        employees = _all(source, "Employees", "Employees")[:2]
        items = source.api(f"{PAYROLL}/PayItems")["PayItems"]
        rate, leave_type = items["EarningsRates"][0], items["LeaveTypes"][0]
        sheets = []
        for number, (employee, status) in enumerate(
            zip(employees, ("DRAFT", "APPROVED"), strict=True)
        ):
            start, end = _period(40 + number)
            units = [8, 8, 8, 8, 8, 0, 0, 8, 8, 8, 8, 7.5, 0, 0]
            sheets.append(
                {
                    "EmployeeID": employee["EmployeeID"],
                    "StartDate": start,
                    "EndDate": end,
                    "Status": status,
                    "TimesheetLines": [
                        {"EarningsRateID": rate["EarningsRateID"], "NumberOfUnits": units}
                    ],
                }
            )
        _post(source, "Timesheets", sheets)
        leave = {
            "EmployeeID": employees[0]["EmployeeID"],
            "LeaveTypeID": leave_type["LeaveTypeID"],
            "Title": "Summer break",
            "Description": "Beach",
            "StartDate": "2026-12-21",
            "EndDate": "2027-01-08",
        }
        (posted,) = _post(source, "LeaveApplications", [leave])
        # Employees' own requests (Xero Me's; no API makes one), one waiting, one refused:
        # read (LeaveApplications/v2) but never written.
        with closing(Store(sb.db)) as store:
            # The same days as the leave: a request is not the leave its key names.
            for status in REQUESTS:
                periods = [{**p, "LeavePeriodStatus": status} for p in posted["LeavePeriods"]]
                request = {**posted, "LeaveApplicationID": str(uuid.uuid4()), "Title": status}
                store.put(
                    first,
                    stored_name("payroll-au", "LeaveApplications"),
                    {**request, "LeavePeriods": periods},
                )
        records = tap_records(pool, tmp, "source", first, STREAMS)
        yield World(pool, records, tmp / "source.singer", others)


def test_copy_reads_back_equal_changes_only_matches_and_replays_to_nothing(
    world: World, tmp_path: Path
) -> None:
    sb = world.pool.sandbox
    source = Org(sb, sb.tenant_ids()[0], world.pool.token)
    target = Org(sb, world.targets[0], world.pool.token)
    assert all(world.records[s] for s in STREAMS), {s: len(r) for s, r in world.records.items()}
    before = _snapshot(target)
    assert any(k[0] == "payroll_employees" for k in before), "the target has employees"

    run = copy_into(target, tmp_path, world.singer)
    after = _snapshot(target)

    # A pay run's timesheets and employees' leave requests cannot be written: each is rejected
    # with the reason, and only they.
    processed = [t for t in world.records["payroll_timesheets"] if t["Status"] == "PROCESSED"]
    assert processed
    sheets = [r for r in run.rejects if r["stream"] == "payroll_timesheets"]
    assert len(sheets) == len(processed)
    for reject in sheets:
        assert reject["record"]["Status"] == "PROCESSED"
        assert reject["reasons"] in ([PROCESSED], ["The timesheet is not a draft timesheet"])
    requests = [r for r in run.rejects if r["stream"] == "payroll_leave_applications"]
    assert sorted(r["record"]["Title"] for r in requests) == sorted(REQUESTS)
    assert all(r["reasons"] == [REQUEST] for r in requests)
    assert len(run.rejects) == len(processed) + len(REQUESTS)

    # Nothing disappears; new records are exactly the audited creates; changes audited updates.
    created = {(a["stream"], a["xero_id"]) for a in run.audit if a["action"] == "created"}
    updated = {(a["stream"], a["xero_id"]) for a in run.audit if a["action"] == "updated"}
    assert before.keys() - after.keys() == set()
    assert after.keys() - before.keys() == created
    assert {k for k in before.keys() & after.keys() if before[k] != after[k]} <= updated
    assert {k[0] for k in created} == set(ENVELOPES)

    # Every source record is in the target as it was written.
    copied = _content(after, _names(target))
    expected = _content(_snapshot(source), _names(source))
    for key, value in expected.items():
        assert copied.get(key) == value, key
    assert sum(1 for k in expected if k[0] == "timesheet") == 2

    # A replay changes nothing (the pay run's timesheets are refused again).
    again = copy_into(target, tmp_path / "again", world.singer)
    assert {a["action"] for a in again.audit} == {"unchanged"}
    assert len(again.rejects) == len(processed) + len(REQUESTS)
    assert _snapshot(target) == after


def test_a_refused_request_is_sent_again_without_the_refused_elements(
    world: World, tmp_path: Path
) -> None:
    """Timesheets naming employees by e-mail and rates by name, in one request: one for a day
    that is no pay period's start, which Xero refuses, the rest written."""
    sb = world.pool.sandbox
    target = Org(sb, world.targets[1], world.pool.token)
    employees = _all(target, "Employees", "Employees")[:3]
    rate = target.api(f"{PAYROLL}/PayItems")["PayItems"]["EarningsRates"][0]["Name"]
    options = [
        option
        for category in target.get("TrackingCategories")["TrackingCategories"]
        for option in category["Options"]
    ]
    option = next(o for o in options if [p["Name"] for p in options].count(o["Name"]) == 1)
    schema = {"type": "object", "properties": {}}
    records = []
    for number, employee in enumerate(employees):
        start, end = _period(50)
        if number == 1:
            start = (date.fromisoformat(start) + timedelta(days=1)).isoformat()
            end = (date.fromisoformat(end) + timedelta(days=1)).isoformat()
        line = {"EarningsRateName": rate, "NumberOfUnits": [7.6] * 14}
        records.append(
            {
                "EmployeeEmail": employee["Email"],
                "StartDate": start,
                "EndDate": end,
                # A line's tracking by the option's name.
                "TimesheetLines": [{**line, "TrackingItemName": option["Name"]}],
            }
        )
    start, end = _period(51)
    records.append(
        {
            "EmployeeEmail": employees[0]["Email"],
            "StartDate": start,
            "EndDate": end,
            "TimesheetLines": [{"EarningsRateName": rate, "TrackingItemName": "Nowhere"}],
        }
    )
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "payroll_timesheets", "schema": schema, "key_properties": []},
        *({"type": "RECORD", "stream": "payroll_timesheets", "record": r} for r in records),
    ]
    singer = singer_file(tmp_path, "sheets", messages)
    before = _all(target, "Timesheets", "Timesheets")

    unknown_option = (
        "TrackingItemName 'Nowhere' matches no tracking option in the target organisation"
    )
    dry = copy_into(target, tmp_path / "dry", singer, dry_run=True)
    assert [a["action"] for a in dry.audit] == ["would_create"] * 3
    assert [r["reasons"] for r in dry.rejects] == [[unknown_option]]
    assert _all(target, "Timesheets", "Timesheets") == before

    run = copy_into(target, tmp_path, singer)
    # (The unknown option is rejected last: a tracking option may still arrive until the end.)
    assert [r["reasons"] for r in run.rejects] == [
        ["Provided period doesn't correspond with a pay period"],
        [unknown_option],
    ]
    assert run.rejects[0]["record"]["EmployeeEmail"] == employees[1]["Email"]
    assert [a["action"] for a in run.audit] == ["created", "created"]
    written = {t["TimesheetID"]: t for t in _all(target, "Timesheets", "Timesheets")}
    for audit, employee in zip(run.audit, employees[::2], strict=True):
        sheet = written[audit["xero_id"]]
        assert (sheet["EmployeeID"], float(sheet["Hours"])) == (employee["EmployeeID"], 106.4)
        assert sheet["TimesheetLines"][0]["TrackingItemID"] == option["TrackingOptionID"]

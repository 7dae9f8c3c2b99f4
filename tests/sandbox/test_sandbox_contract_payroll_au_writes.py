"""Contract tests for Payroll AU's writes: employees, timesheets and leave applications created
and updated through the sandbox, answers validated against the official spec
(``openapi/xero-payroll-au.json``), every refusal the sandbox makes with its message, a batch
that fails whole, the write scope, an organisation outside Australia, and ``Idempotency-Key``
as on Accounting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from openapi_core.testing import MockRequest, MockResponse

from tests._tap_support import RELAXED
from tests.sandbox.test_sandbox_contract_other_apis import _spec
from xero_api.codec import encode_json
from xero_sandbox.api_collections import stored_name
from xero_sandbox.launcher import ALL_SCOPES, Sandbox
from xero_sandbox.store import Store

BASE = "/payroll.xro/1.0"
NOBODY = "00000000-0000-4000-8000-000000000000"
SCOPES = f"{ALL_SCOPES} payroll.employees payroll.timesheets payroll.settings"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=20, seed=29, regions="AU", **RELAXED) as running:
        running._tokens = running.authorize(SCOPES)
        yield running


def _post(
    sb: Sandbox, path: str, body: Any = None, *, key: str | None = None, raw: bytes | None = None
) -> httpx.Response:
    """One write; a 200 answer validated against the spec."""
    content = raw if raw is not None else encode_json(body)
    headers = {**sb.headers(sb.tenant_ids()[0]), "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    answer = httpx.post(sb.url + BASE + path, content=content, headers=headers, timeout=30)
    if answer.status_code == 200:
        request = MockRequest(
            "https://api.xero.com",
            "post",
            BASE + path,
            headers={"xero-tenant-id": sb.tenant_ids()[0]},
            data=content,
        )
        response = MockResponse(answer.content, status_code=200, content_type="application/json")
        _spec("xero-payroll-au").validate_response(request, response)
    return answer


def _get(sb: Sandbox, path: str) -> Any:
    answer = httpx.get(sb.url + BASE + path, headers=sb.headers(sb.tenant_ids()[0]), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _requested(sb: Sandbox, path: str) -> set[str]:
    """The IDs of the leave titled "Requested" (this file's) the collection at ``path`` lists."""
    listed = _get(sb, path)["LeaveApplications"]
    return {leave["LeaveApplicationID"] for leave in listed if leave["Title"] == "Requested"}


def _refused(answer: httpx.Response) -> list[list[str]]:
    """A ValidationException's messages, element by element."""
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    assert body["Message"] == "A validation exception occurred"
    return [[m["Message"] for m in e["ValidationErrors"]] for e in body["Elements"]]


def _ms(day: date) -> str:
    from datetime import UTC, datetime

    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


@pytest.fixture(scope="module")
def payroll(sb: Sandbox) -> dict[str, Any]:
    """The tenant's calendar, pay items and one employee on the calendar."""
    items = _get(sb, "/PayItems")["PayItems"]
    calendar = _get(sb, "/PayrollCalendars")["PayrollCalendars"][0]
    return {
        "calendar": calendar,
        "rate": items["EarningsRates"][0]["EarningsRateID"],
        "leave_type": items["LeaveTypes"][0]["LeaveTypeID"],
        "employee": _get(sb, "/Employees")["Employees"][0],
    }


def _new_employee(**fields: Any) -> dict[str, Any]:
    return {
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "DateOfBirth": "1990-12-10",
        "Email": "ada.lovelace@example.com.au",
        "HomeAddress": {"AddressLine1": "1 Pitt St", "City": "Sydney", "Region": "NSW"},
        **fields,
    }


def _period(payroll: dict[str, Any], index: int) -> tuple[date, date]:
    """The calendar's pay period number ``index`` (fortnights from its start)."""
    first = date.fromisoformat("2025-07-01")
    start = first + timedelta(days=14 * index)
    return start, start + timedelta(days=13)


def test_employee_create_read_and_update(sb: Sandbox, payroll: dict[str, Any]) -> None:
    body = [_new_employee(PayrollCalendarID=payroll["calendar"]["PayrollCalendarID"])]
    answer = _post(sb, "/Employees", body)
    assert answer.status_code == 200, answer.text
    created = answer.json()["Employees"][0]
    assert created["Status"] == "ACTIVE"
    assert created["DateOfBirth"] == _ms(date(1990, 12, 10))
    employee_id = created["EmployeeID"]
    read = _get(sb, f"/Employees/{employee_id}")["Employees"][0]
    assert read["Email"] == "ada.lovelace@example.com.au"
    # POST /Employees/{id}: only what is sent changes.
    answer = _post(sb, f"/Employees/{employee_id}", [{"MiddleNames": "Augusta"}])
    assert answer.status_code == 200, answer.text
    updated = answer.json()["Employees"][0]
    assert (updated["MiddleNames"], updated["FirstName"]) == ("Augusta", "Ada")
    # An element carrying its EmployeeID on the collection updates too.
    answer = _post(sb, "/Employees", [{"EmployeeID": employee_id, "JobTitle": "Analyst"}])
    assert answer.json()["Employees"][0]["JobTitle"] == "Analyst"
    assert _get(sb, f"/Employees/{employee_id}")["Employees"][0]["MiddleNames"] == "Augusta"


def test_employee_refusals(sb: Sandbox) -> None:
    bad = [
        {"LastName": "Only"},
        _new_employee(Email="not-an-email", DateOfBirth="2999-01-01"),
        _new_employee(OrdinaryEarningsRateID=NOBODY, PayrollCalendarID=NOBODY),
        _new_employee(Status="TERMINATED", HomeAddress={"City": "Perth"}),
    ]
    before = len(_get(sb, "/Employees")["Employees"])
    assert _refused(_post(sb, "/Employees", bad)) == [
        ["FirstName is required", "DateOfBirth is required"],
        ["DateOfBirth must be in the past", "Email address must be valid."],
        [
            f"Ordinary earnings rate {NOBODY} does not exist",
            f"Payroll calendar {NOBODY} does not exist",
        ],
        [
            "HomeAddress.AddressLine1 is required",
            "TerminationDate is required for a terminated employee",
        ],
    ]
    # One good element among bad ones: nothing is saved, and the good one is echoed clean.
    answer = _post(sb, "/Employees", [_new_employee(), {"LastName": "Only"}])
    assert _refused(answer)[0] == []
    assert answer.json()["Elements"][0]["EmployeeID"] == "00000000-0000-0000-0000-000000000000"
    assert len(_get(sb, "/Employees")["Employees"]) == before
    assert _refused(_post(sb, f"/Employees/{NOBODY}", [{"FirstName": "X"}])) == [
        ["An existing Employee with the specified EmployeeID could not be found"]
    ]


def test_conversion_and_empty_bodies(sb: Sandbox) -> None:
    answer = _post(sb, "/Employees", [_new_employee(Gender="X")])
    assert answer.status_code == 400
    assert answer.json() == {
        "ErrorNumber": 14,
        "Type": "PostDataInvalidException",
        "Message": (
            "Error converting value \"X\" to type 'Xero.API.Library..Gender'. Path 'Gender'."
        ),
    }
    answer = _post(sb, "/Timesheets", [{"EmployeeID": "nope"}])
    assert answer.json()["ErrorNumber"] == 14
    assert "System.Guid" in answer.json()["Message"]
    answer = _post(sb, "/LeaveApplications", raw=b"")
    assert answer.status_code == 400
    assert answer.json()["Message"] == (
        "No data has been processed for this endpoint. This endpoint is expecting "
        "LeaveApplication data to be specifed in the request body."
    )
    assert _post(sb, "/Employees", raw=b"{not json").json()["ErrorNumber"] == 14


def test_timesheet_create_update_approve(sb: Sandbox, payroll: dict[str, Any]) -> None:
    employee = payroll["employee"]["EmployeeID"]
    start, end = _period(payroll, 40)  # after the seeded pay runs
    units = [8, 8, 8, 8, 8, 0, 0, 7.5, 8, 8, 8, 8, 0, 0]
    sheet = {
        "EmployeeID": employee,
        "StartDate": start.isoformat(),
        "EndDate": end.isoformat(),
        "TimesheetLines": [{"EarningsRateID": payroll["rate"], "NumberOfUnits": units}],
    }
    answer = _post(sb, "/Timesheets", [sheet])
    assert answer.status_code == 200, answer.text
    created = answer.json()["Timesheets"][0]
    assert (created["Status"], created["Hours"]) == ("DRAFT", 79.5)
    sheet_id = created["TimesheetID"]
    assert _get(sb, f"/Timesheets/{sheet_id}")["Timesheet"]["Hours"] == 79.5
    # Lines replaced, then approved.
    lines = [{"EarningsRateID": payroll["rate"], "NumberOfUnits": [1] * 14}]
    answer = _post(sb, f"/Timesheets/{sheet_id}", [{"TimesheetLines": lines}])
    assert answer.json()["Timesheets"][0]["Hours"] == 14
    answer = _post(sb, "/Timesheets", [{"TimesheetID": sheet_id, "Status": "APPROVED"}])
    assert answer.json()["Timesheets"][0]["Status"] == "APPROVED"
    assert _refused(_post(sb, f"/Timesheets/{sheet_id}", [{"TimesheetLines": lines}])) == [
        ["The timesheet is not a draft timesheet"]
    ]
    # The same employee and period again.
    assert _refused(_post(sb, "/Timesheets", [sheet])) == [
        ["Timesheet already exists for this employee and period"]
    ]


def test_timesheet_refusals(sb: Sandbox, payroll: dict[str, Any]) -> None:
    employee = payroll["employee"]["EmployeeID"]
    start, end = _period(payroll, 41)
    good = {"EmployeeID": employee, "StartDate": start.isoformat(), "EndDate": end.isoformat()}
    answer = _post(
        sb,
        "/Timesheets",
        [
            {**good, "EmployeeID": NOBODY},
            {**good, "StartDate": (start + timedelta(days=1)).isoformat()},
            {**good, "EndDate": (start - timedelta(days=1)).isoformat()},
            {**good, "Status": "PROCESSED"},
            {
                **good,
                "TimesheetLines": [
                    {"EarningsRateID": NOBODY, "TrackingItemID": NOBODY, "NumberOfUnits": [-1]}
                ],
            },
            good,
            good,
        ],
    )
    assert _refused(answer) == [
        [f"Invalid EmployeeID {NOBODY}"],
        ["Provided period doesn't correspond with a pay period"],
        ["The EndDate must not be before the StartDate"],
        ["Timesheet status PROCESSED cannot be set through the API"],
        [
            f"Earnings Rate {NOBODY} does not exist or is not valid for timesheets.",
            f"Tracking Option {NOBODY} does not exist",
            "NumberOfUnits must list one value for each of the period's 14 days",
            "NumberOfUnits must not be negative",
        ],
        [],
        ["Timesheet already exists for this employee and period"],
    ]
    seeded = _get(sb, "/Timesheets")["Timesheets"][0]
    assert seeded["Status"] == "PROCESSED"
    assert _refused(_post(sb, f"/Timesheets/{seeded['TimesheetID']}", [{"Status": "DRAFT"}])) == [
        ["The timesheet is not a draft timesheet"]
    ]


def test_leave_application_create_and_update(sb: Sandbox, payroll: dict[str, Any]) -> None:
    employee = payroll["employee"]["EmployeeID"]
    start = date(2026, 12, 7)  # a Monday in the fortnight from Tuesday 2026-12-01
    leave = {
        "EmployeeID": employee,
        "LeaveTypeID": payroll["leave_type"],
        "Title": "Holiday",
        "StartDate": start.isoformat(),
        "EndDate": (start + timedelta(days=8)).isoformat(),
    }
    answer = _post(sb, "/LeaveApplications", [leave])
    assert answer.status_code == 200, answer.text
    created = answer.json()["LeaveApplications"][0]
    assert created["PayOutType"] == "DEFAULT"
    assert [(p["PayPeriodStartDate"], p["NumberOfUnits"]) for p in created["LeavePeriods"]] == [
        (_ms(date(2026, 12, 1)), 45.6),  # six weekdays at 7.6 hours
        (_ms(date(2026, 12, 15)), 7.6),
    ]
    leave_id = created["LeaveApplicationID"]
    answer = _post(sb, f"/LeaveApplications/{leave_id}", [{"Description": "Beach"}])
    assert answer.json()["LeaveApplications"][0]["Description"] == "Beach"
    read = _get(sb, f"/LeaveApplications/{leave_id}")["LeaveApplications"][0]
    assert (read["Title"], read["Description"]) == ("Holiday", "Beach")


def test_leave_application_refusals(sb: Sandbox, payroll: dict[str, Any]) -> None:
    employee = payroll["employee"]["EmployeeID"]
    answer = _post(
        sb,
        "/LeaveApplications",
        [{"EmployeeID": employee, "LeaveTypeID": NOBODY, "StartDate": "2026-12-01"}],
    )
    assert _refused(answer) == [
        [f"Leave type {NOBODY} does not exist", "Title is required", "EndDate is required"]
    ]
    processed = next(
        leave
        for leave in _get(sb, "/LeaveApplications")["LeaveApplications"]
        if leave["LeavePeriods"][0]["LeavePeriodStatus"] == "PROCESSED"
    )
    path = f"/LeaveApplications/{processed['LeaveApplicationID']}"
    assert _refused(_post(sb, path, [{"Title": "Changed"}])) == [
        ["Leave that has been processed in a pay run cannot be changed"]
    ]


def test_idempotency_key(sb: Sandbox) -> None:
    body = [_new_employee(FirstName="Grace", Email="grace@example.com.au")]
    first = _post(sb, "/Employees", body, key="payroll-au-employee-1")
    again = _post(sb, "/Employees", body, key="payroll-au-employee-1")
    assert first.status_code == again.status_code == 200
    assert first.json()["Employees"][0]["EmployeeID"] == again.json()["Employees"][0]["EmployeeID"]
    graces = [e for e in _get(sb, "/Employees")["Employees"] if e["FirstName"] == "Grace"]
    assert len(graces) == 1
    other = _post(sb, "/Employees", [_new_employee(FirstName="Other")], key="payroll-au-employee-1")
    assert other.status_code == 400
    assert "is used with a different request" in other.json()["Message"]


def test_write_scope_and_region(sb: Sandbox) -> None:
    read_only = sb.authorize(f"{ALL_SCOPES} payroll.employees.read")
    headers = {
        **sb.headers(sb.tenant_ids()[0]),
        "Authorization": f"Bearer {read_only['access_token']}",
    }
    answer = httpx.post(
        sb.url + BASE + "/Employees", content=encode_json([_new_employee()]), headers=headers
    )
    assert answer.status_code == 401
    assert answer.json()["Detail"] == "AuthorizationUnsuccessful"
    with Sandbox(tenants=1, scale=20, seed=3, regions="NZ", **RELAXED) as nz:
        nz._tokens = nz.authorize(SCOPES)
        answer = httpx.post(
            nz.url + BASE + "/Employees",
            content=encode_json([_new_employee()]),
            headers=nz.headers(nz.tenant_ids()[0]),
        )
        assert answer.status_code == 403


def test_leave_application_approve_and_reject(sb: Sandbox, payroll: dict[str, Any]) -> None:
    """Approving takes a requested leave's periods to SCHEDULED, rejecting makes them all
    REJECTED; leave a pay run processed is refused both, leave nobody requested approving."""
    leave = {
        "EmployeeID": payroll["employee"]["EmployeeID"],
        "LeaveTypeID": payroll["leave_type"],
        "Title": "Requested",
        "StartDate": "2027-02-01",
        "EndDate": "2027-02-03",
    }
    created = _post(sb, "/LeaveApplications", [leave]).json()["LeaveApplications"][0]
    at = f"/LeaveApplications/{created['LeaveApplicationID']}"
    assert _refused(_post(sb, f"{at}/approve")) == [
        ["Only leave that has been requested can be approved"]
    ]
    # An employee's own request (Xero's app; no API makes one), put straight into the database.
    store = Store(sb.db)
    requested = [{**p, "LeavePeriodStatus": "REQUESTED"} for p in created["LeavePeriods"]]
    store.put(
        sb.tenant_ids()[0],
        stored_name("payroll-au", "LeaveApplications"),
        {**_get(sb, at)["LeaveApplications"][0], "LeavePeriods": requested},
    )
    # A request is listed by LeaveApplications/v2 only, a refused one too; approved, by both.
    ident = created["LeaveApplicationID"]
    assert _requested(sb, "/LeaveApplications") == set()
    assert _requested(sb, "/LeaveApplications/v2") == {ident}
    answer = _post(sb, f"{at}/approve", key="payroll-au-approve-1")
    assert answer.status_code == 200, answer.text
    assert (
        _requested(sb, "/LeaveApplications") == _requested(sb, "/LeaveApplications/v2") == {ident}
    )
    approved = answer.json()["LeaveApplications"][0]
    assert {p["LeavePeriodStatus"] for p in approved["LeavePeriods"]} == {"SCHEDULED"}
    again = _post(sb, f"{at}/approve", key="payroll-au-approve-1")  # a retry: the same answer
    assert again.json()["LeaveApplications"] == answer.json()["LeaveApplications"]
    rejected = _post(sb, f"{at}/reject").json()["LeaveApplications"][0]
    assert {p["LeavePeriodStatus"] for p in rejected["LeavePeriods"]} == {"REJECTED"}
    assert _get(sb, at)["LeaveApplications"][0]["LeavePeriods"] == rejected["LeavePeriods"]
    assert _requested(sb, "/LeaveApplications") == set()
    assert _requested(sb, "/LeaveApplications/v2") == {ident}
    processed = next(
        leave
        for leave in _get(sb, "/LeaveApplications")["LeaveApplications"]
        if leave["LeavePeriods"][0]["LeavePeriodStatus"] == "PROCESSED"
    )
    for action in ("approve", "reject"):
        answer = _post(sb, f"/LeaveApplications/{processed['LeaveApplicationID']}/{action}")
        assert _refused(answer) == [
            ["Leave that has been processed in a pay run cannot be changed"]
        ]
    assert _post(sb, f"/LeaveApplications/{NOBODY}/reject").status_code == 404

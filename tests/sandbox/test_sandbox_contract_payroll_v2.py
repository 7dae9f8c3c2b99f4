"""Contract tests for Payroll UK and Payroll NZ (``payroll.xro/2.0``): every GET of both official
specs (``openapi/xero-payroll-uk.json``, ``openapi/xero-payroll-nz.json``), their paging, filters
and errors, answered by the sandbox for a British and a New Zealand organisation and validated
with openapi-core against the spec of the organisation's region; an Australian organisation is
refused, and a path of the other region's API is not found. 404s are not in these specs: their
status is checked, not their body.

One defect of both specs is read as their examples mean it: ``updatedDateUTC`` and
``createdDateUTC`` are declared ``format: date-time`` (RFC 3339, which needs a zone), yet every
example, and Xero, sends them without one (``2019-09-24T05:08:45``, UTC); they are checked
against that form.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests._openapi import UNCHECKED, spec_document
from tests._tap_support import RELAXED
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

SCOPES = (
    f"{ALL_SCOPES} payroll.employees.read payroll.payruns.read payroll.payslip.read "
    "payroll.settings.read payroll.timesheets.read"
)
BASE = "/payroll.xro/2.0"
SPECS = {"UK": "xero-payroll-uk", "NZ": "xero-payroll-nz"}
TENANT = {"UK": 0, "NZ": 1, "AU": 2}
NOBODY = "00000000-0000-4000-8000-000000000000"


ZONELESS = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$"}


def _zoneless_date_times(node: Any) -> Any:
    """The document with its ``date-time`` strings as the examples send them (module doc)."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            return dict(ZONELESS)
        return {key: _zoneless_date_times(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_zoneless_date_times(value) for value in node]
    return node


@cache
def _spec(name: str) -> OpenAPI:
    return OpenAPI.from_dict(_zoneless_date_times(spec_document(name)), config=UNCHECKED)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=3, scale=100, seed=21, regions="UK,NZ,AU", **RELAXED) as running:
        running._tokens = running.authorize(SCOPES)
        yield running


def _call(sb: Sandbox, region: str, path: str, params: dict[str, str] | None = None) -> Any:
    """GET through the sandbox as the region's organisation; the answer is validated against
    that region's spec unless it is a 404 (or the Australian organisation's 403)."""
    tenant = sb.tenant_ids()[TENANT[region]]
    answer = httpx.get(
        sb.url + BASE + path, params=params or {}, headers=sb.headers(tenant), timeout=30
    )
    if answer.status_code not in (403, 404):
        request = MockRequest(
            "https://api.xero.com",
            "get",
            BASE + path,
            args=params or {},
            headers={"xero-tenant-id": tenant, "Accept": "application/json"},
        )
        kind = answer.headers.get("content-type", "").split(";")[0]
        response = MockResponse(answer.content, status_code=answer.status_code, content_type=kind)
        _spec(SPECS[region]).validate_response(request, response)
    return answer


def _ok(sb: Sandbox, region: str, path: str, params: dict[str, str] | None = None) -> Any:
    answer = _call(sb, region, path, params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _concrete_paths(sb: Sandbox, region: str) -> dict[str, str]:
    """Templated path -> a real path (with its query) for every GET of the region's spec."""

    def first(path: str, key: str, field: str) -> str:
        return str(_ok(sb, region, path)[key][0][field])

    employee = next(
        e["employeeID"]
        for e in _ok(sb, region, "/Employees")["employees"]
        if _ok(sb, region, f"/Employees/{e['employeeID']}/Leave")["leave"]
    )
    at = f"/Employees/{employee}"
    run = first("/PayRuns", "payRuns", "payRunID")
    slips = "/Payslips" if region == "UK" else "/PaySlips"
    slip = _ok(sb, region, slips, {"PayRunID": run})["paySlips"][0]["paySlipID"]
    salary = first(f"{at}/SalaryAndWages", "salaryAndWages", "salaryAndWagesID")
    paths = {
        "/Employees": "/Employees?page=1",
        "/Employees/{EmployeeID}": at,
        "/Employees/{EmployeeID}/Tax": f"{at}/Tax",
        "/Employees/{EmployeeID}/Leave": f"{at}/Leave",
        "/Employees/{EmployeeID}/LeaveBalances": f"{at}/LeaveBalances",
        "/Employees/{EmployeeID}/LeavePeriods": (
            f"{at}/LeavePeriods?startDate=2025-04-01&endDate=2026-09-30"
        ),
        "/Employees/{EmployeeID}/LeaveTypes": f"{at}/LeaveTypes",
        "/Employees/{EmployeeID}/PaymentMethods": f"{at}/PaymentMethods",
        "/Employees/{EmployeeID}/PayTemplates": f"{at}/PayTemplates",
        "/Employees/{EmployeeID}/SalaryAndWages": f"{at}/SalaryAndWages?page=1",
        "/Employees/{EmployeeID}/SalaryAndWages/{SalaryAndWagesID}": (
            f"{at}/SalaryAndWages/{salary}"
        ),
        "/Deductions": "/Deductions",
        "/Deductions/{deductionId}": "/Deductions/"
        + first("/Deductions", "deductions", "deductionId"),
        "/EarningsRates": "/EarningsRates?page=1",
        "/EarningsRates/{EarningsRateID}": "/EarningsRates/"
        + first("/EarningsRates", "earningsRates", "earningsRateID"),
        "/LeaveTypes": "/LeaveTypes?ActiveOnly=true",
        "/LeaveTypes/{LeaveTypeID}": "/LeaveTypes/"
        + first("/LeaveTypes", "leaveTypes", "leaveTypeID"),
        "/Reimbursements": "/Reimbursements",
        "/Reimbursements/{ReimbursementID}": "/Reimbursements/"
        + first("/Reimbursements", "reimbursements", "reimbursementID"),
        "/Timesheets": "/Timesheets?status=Approved",
        "/Timesheets/{TimesheetID}": "/Timesheets/"
        + first("/Timesheets", "timesheets", "timesheetID"),
        "/PayRunCalendars": "/PayRunCalendars",
        "/PayRuns": "/PayRuns?status=Posted",
        "/PayRuns/{PayRunID}": f"/PayRuns/{run}",
        f"{slips}": f"{slips}?PayRunID={run}",
        f"{slips}/{{{'PayslipID' if region == 'UK' else 'PaySlipID'}}}": f"{slips}/{slip}",
        "/Settings": "/Settings",
    }
    calendar = first("/PayRunCalendars", "payRunCalendars", "payrollCalendarID")
    if region == "UK":
        leave = first(f"{at}/Leave", "leave", "leaveID")
        sick = _ok(sb, region, "/Employees")["employees"][0]["employeeID"]
        summary = _ok(sb, region, f"/StatutoryLeaves/Summary/{sick}")["statutoryLeaves"]
        paths.update(
            {
                "/Employees/{EmployeeID}/ukopeningbalances": f"{at}/ukopeningbalances",
                "/Employees/{EmployeeID}/Leave/{LeaveID}": f"{at}/Leave/{leave}",
                "/Employees/{EmployeeID}/StatutoryLeaveBalance": (
                    f"{at}/StatutoryLeaveBalance?LeaveType=Sick&AsOfDate=2026-01-01"
                ),
                "/StatutoryLeaves/Summary/{EmployeeID}": f"/StatutoryLeaves/Summary/{sick}",
                "/StatutoryLeaves/Sick/{StatutorySickLeaveID}": (
                    f"/StatutoryLeaves/Sick/{summary[0]['statutoryLeaveID']}"
                ),
                "/Benefits": "/Benefits",
                "/Benefits/{id}": "/Benefits/" + first("/Benefits", "benefits", "id"),
                "/EarningsOrders": "/EarningsOrders",
                "/EarningsOrders/{id}": "/EarningsOrders/"
                + first("/EarningsOrders", "statutoryDeductions", "id"),
                "/PayRunCalendars/{PayRunCalendarID}": f"/PayRunCalendars/{calendar}",
                "/Settings/trackingCategories": "/Settings/trackingCategories",
            }
        )
    else:
        pattern = _ok(sb, region, f"{at}/Working-Patterns")["payeeWorkingPatterns"][0]
        paths.update(
            {
                "/Employees/{EmployeeID}/OpeningBalances": f"{at}/OpeningBalances",
                "/Employees/{EmployeeID}/Working-Patterns": f"{at}/Working-Patterns",
                "/Employees/{EmployeeID}/Working-Patterns/{EmployeeWorkingPatternID}": (
                    f"{at}/Working-Patterns/{pattern['payeeWorkingPatternID']}"
                ),
                "/StatutoryDeductions": "/StatutoryDeductions",
                "/StatutoryDeductions/{id}": "/StatutoryDeductions/"
                + first("/StatutoryDeductions", "statutoryDeductions", "id"),
                "/Superannuations": "/Superannuations",
                "/Superannuations/{SuperannuationID}": "/Superannuations/"
                + first("/Superannuations", "benefits", "id"),
                "/PayRunCalendars/{PayrollCalendarID}": f"/PayRunCalendars/{calendar}",
                "/Settings/TrackingCategories": "/Settings/TrackingCategories",
            }
        )
    return paths


@pytest.mark.parametrize("region", ["UK", "NZ"])
def test_every_get_of_the_spec_is_served_as_specified(sb: Sandbox, region: str) -> None:
    concrete = _concrete_paths(sb, region)
    in_spec = {path for path, ops in spec_document(SPECS[region])["paths"].items() if "get" in ops}
    assert set(concrete) == in_spec  # a new GET in a spec fails here until it is served
    for path in concrete.values():
        url = urlsplit(path)
        body = _ok(sb, region, url.path, dict(httpx.QueryParams(url.query)))
        records = [value for key, value in body.items() if key not in _ENVELOPE]
        assert records, path
        assert all(records), path


_ENVELOPE = {"id", "providerName", "dateTimeUTC", "httpStatusCode", "pagination"}


@pytest.mark.parametrize("region", ["UK", "NZ"])
def test_pages_hold_100_and_say_how_many(sb: Sandbox, region: str) -> None:
    runs = _ok(sb, region, "/PayRuns")["payRuns"]
    slips = "/Payslips" if region == "UK" else "/PaySlips"
    sheets = _ok(sb, region, "/Timesheets")
    count = sheets["pagination"]["itemCount"]
    assert count > 100  # more than a page: the second one is the rest
    assert len(sheets["timesheets"]) == 100
    assert sheets["pagination"] == {
        "page": 1,
        "pageSize": 100,
        "pageCount": -(-count // 100),
        "itemCount": count,
    }
    second = _ok(sb, region, "/Timesheets", {"page": "2"})["timesheets"]
    assert len(second) == min(100, count - 100)
    ids = {t["timesheetID"] for t in sheets["timesheets"]} | {t["timesheetID"] for t in second}
    assert len(ids) == len(sheets["timesheets"]) + len(second)
    assert _ok(sb, region, "/Timesheets", {"page": "99"})["timesheets"] == []
    for run in runs[:2]:
        listed = _ok(sb, region, slips, {"PayRunID": run["payRunID"]})["paySlips"]
        assert listed
        assert {s["payRunID"] for s in listed} == {run["payRunID"]}
        whole = _ok(sb, region, f"/PayRuns/{run['payRunID']}")["payRun"]
        assert [s["paySlipID"] for s in whole["paySlips"]] == [s["paySlipID"] for s in listed]


@pytest.mark.parametrize("region", ["UK", "NZ"])
def test_filters_keep_what_they_name(sb: Sandbox, region: str) -> None:
    employees = _ok(sb, region, "/Employees")["employees"]
    one = employees[0]
    named = _ok(
        sb,
        region,
        "/Employees",
        {"filter": f"firstName=={one['firstName']},lastName=={one['lastName']}"},
    )["employees"]
    assert one in named
    assert all(e["lastName"] == one["lastName"] for e in named)
    sheets = _ok(sb, region, "/Timesheets", {"filter": f"employeeId=={one['employeeID']}"})
    assert all(t["employeeID"] == one["employeeID"] for t in sheets["timesheets"])
    dated = _ok(sb, region, "/Timesheets", {"startDate": "2026-01-01", "endDate": "2026-03-31"})
    assert dated["timesheets"]
    for sheet in dated["timesheets"]:
        assert sheet["startDate"] >= "2026-01-01"
        assert sheet["endDate"] <= "2026-03-31"
    newest = _ok(sb, region, "/Timesheets", {"sort": "startDate"})["timesheets"]
    assert newest[0]["startDate"] >= newest[-1]["startDate"]
    assert _ok(sb, region, "/Timesheets", {"status": "Draft"})["timesheets"] == []
    assert _ok(sb, region, "/PayRuns", {"status": "Draft"})["payRuns"] == []
    every = _ok(sb, region, "/LeaveTypes")["leaveTypes"]
    active = _ok(sb, region, "/LeaveTypes", {"ActiveOnly": "true"})["leaveTypes"]
    assert len(active) == len(every) - 1
    assert all(t["isActive"] for t in active)
    at = f"/Employees/{employees[0]['employeeID']}/LeavePeriods"
    assert _ok(sb, region, at, {"startDate": "2030-01-01"})["periods"] == []


# A range from a Wednesday to the next Sunday week (the specs' example): each pay period it
# touches once, with the hours of its weekdays there. UK: monthly from the 1st, 7.5 hours a
# day; NZ: fortnightly from 2025-04-01 (a Tuesday), 8 hours a day, and the weeks taken.
CALCULATED = {
    "UK": [
        {
            "periodStartDate": "2026-02-01",
            "periodEndDate": "2026-02-28",
            "numberOfUnits": 3 * 7.5,
        },
        {
            "periodStartDate": "2026-03-01",
            "periodEndDate": "2026-03-31",
            "numberOfUnits": 5 * 7.5,
        },
    ],
    "NZ": [
        {
            "periodStartDate": "2026-02-17",
            "periodEndDate": "2026-03-02",
            "numberOfUnits": 4 * 8.0,
            "periodStatus": "Estimated",
            "typeOfUnits": "Hours",
            "numberOfUnitsTaken": 0.8,
            "typeOfUnitsTaken": "Weeks",
        },
        {
            "periodStartDate": "2026-03-03",
            "periodEndDate": "2026-03-16",
            "numberOfUnits": 4 * 8.0,
            "periodStatus": "Estimated",
            "typeOfUnits": "Hours",
            "numberOfUnitsTaken": 0.8,
            "typeOfUnitsTaken": "Weeks",
        },
    ],
}


@pytest.mark.parametrize("region", ["UK", "NZ"])
def test_leave_periods_are_each_pay_period_of_the_range_once(sb: Sandbox, region: str) -> None:
    employees = [e["employeeID"] for e in _ok(sb, region, "/Employees")["employees"]]
    leave = {e: _ok(sb, region, f"/Employees/{e}/Leave")["leave"] for e in employees}
    free = next(e for e in employees if not leave[e])
    at = f"/Employees/{free}/LeavePeriods"
    asked = {"startDate": "2026-02-25", "endDate": "2026-03-08"}
    assert _ok(sb, region, at, asked)["periods"] == CALCULATED[region]
    # A year: every pay period once, in order, each starting the day after the last ended.
    year = _ok(sb, region, at, {"startDate": "2025-04-01", "endDate": "2026-03-31"})["periods"]
    assert len(year) == (12 if region == "UK" else 27)
    starts = [p["periodStartDate"] for p in year]
    assert starts == sorted(set(starts))
    for before, after in pairwise(year):
        following = date.fromisoformat(before["periodEndDate"]) + timedelta(days=1)
        assert after["periodStartDate"] == following.isoformat()
    # A range one leave covers exactly answers that leave's periods.
    employee, taken = next((e, leave[e][0]) for e in employees if leave[e])
    exact = {"startDate": taken["startDate"], "endDate": taken["endDate"]}
    assert (
        _ok(sb, region, f"/Employees/{employee}/LeavePeriods", exact)["periods"]
        == (taken["periods"])
    )


def test_uk_only_filters(sb: Sandbox) -> None:
    off = _ok(sb, "UK", "/Employees", {"filter": "isOffPayrollWorker==true"})["employees"]
    assert off
    assert all(e["isOffPayrollWorker"] for e in off)
    sick = _ok(sb, "UK", "/Employees")["employees"][0]["employeeID"]
    summary = f"/StatutoryLeaves/Summary/{sick}"
    assert _ok(sb, "UK", summary)["statutoryLeaves"]
    assert _ok(sb, "UK", summary, {"activeOnly": "true"})["statutoryLeaves"] == []
    balance = _ok(sb, "UK", f"/Employees/{sick}/StatutoryLeaveBalance")["leaveBalance"]
    assert balance == {"leaveType": "Sick", "balanceRemaining": 27 * 37.5, "units": "Hours"}


def _enum(model: str, field: str) -> list[str]:
    schema = spec_document(SPECS["UK"])["components"]["schemas"][model]["properties"][field]
    values: list[str] = schema["enum"]
    return values


def test_uk_statutory_leave_balance_of_every_type(sb: Sandbox) -> None:
    """Each of the spec's statutory leave types (``EmployeeStatutoryLeaveSummary.type``) has a
    balance, under the type asked for: the full entitlement, less the weeks of the employee's
    leave of that type. The balance's own ``leaveType`` enum lacks ``BereavementNire``, which
    the summary's has: that answer is checked without the spec."""
    balance_types = _enum("EmployeeStatutoryLeaveBalance", "leaveType")
    headers = sb.headers(sb.tenant_ids()[TENANT["UK"]])
    employees = [e["employeeID"] for e in _ok(sb, "UK", "/Employees")["employees"]]
    leaves = {
        employee: _ok(sb, "UK", f"/StatutoryLeaves/Summary/{employee}")["statutoryLeaves"]
        for employee in employees
    }
    assert {leave["type"] for taken in leaves.values() for leave in taken} == {
        "Sick",
        "Paternity",
    }
    for kind in _enum("EmployeeStatutoryLeaveSummary", "type"):
        balances = {}
        for employee in employees:
            at = f"/Employees/{employee}/StatutoryLeaveBalance"
            if kind in balance_types:
                answer = _ok(sb, "UK", at, {"LeaveType": kind})
            else:
                raw = httpx.get(sb.url + BASE + at, params={"LeaveType": kind}, headers=headers)
                assert raw.status_code == 200, raw.text
                answer = raw.json()
            balance = answer["leaveBalance"]
            assert balance["leaveType"] == kind
            assert balance["units"] == "Hours"
            balances[employee] = balance["balanceRemaining"]
        full = max(balances.values())
        assert full > 0, kind
        for employee, left in balances.items():
            weeks = sum(1 for leave in leaves[employee] if leave["type"] == kind)
            assert left == full - weeks * 37.5, (kind, employee)  # the seed's leave: a week
    paternity = next(e for e, taken in leaves.items() if taken and taken[0]["type"] == "Paternity")
    start = next(leave["startDate"] for leave in leaves[paternity])
    before = f"{int(start[:4]) - 1}{start[4:10]}"
    at = f"/Employees/{paternity}/StatutoryLeaveBalance"
    early = _ok(sb, "UK", at, {"LeaveType": "paternity", "AsOfDate": before})["leaveBalance"]
    late = _ok(sb, "UK", at, {"LeaveType": "Paternity"})["leaveBalance"]
    assert early["leaveType"] == "Paternity"
    assert early["balanceRemaining"] == late["balanceRemaining"] + 37.5
    refused = httpx.get(sb.url + BASE + at, params={"LeaveType": "Sabbatical"}, headers=headers)
    assert refused.status_code == 400  # not declared by the spec: its Problem body
    assert refused.json()["title"] == "BadRequest"
    not_sick = leaves[paternity][0]["statutoryLeaveID"]
    assert _call(sb, "UK", f"/StatutoryLeaves/Sick/{not_sick}").status_code == 404


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/Employees", {"page": "0"}),
        ("/Employees", {"filter": "shoeSize==9"}),
        ("/Employees/{employee}/LeavePeriods", {"startDate": "soon"}),
        (
            "/Employees/{employee}/LeavePeriods",
            {"startDate": "2026-03-08", "endDate": "2026-01-01"},
        ),
        ("/Employees/{employee}/SalaryAndWages", {"page": "x"}),
    ],
)
@pytest.mark.parametrize("region", ["UK", "NZ"])
def test_errors_have_the_specs_problem_body(
    sb: Sandbox, region: str, path: str, params: dict[str, str]
) -> None:
    employee = _ok(sb, region, "/Employees")["employees"][0]["employeeID"]
    answer = _call(sb, region, path.format(employee=employee), params)
    assert answer.status_code == 400
    assert answer.json()["title"] == "BadRequest"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/Payslips", {}),
        ("/PayRuns", {"status": "Sideways"}),
        ("/Timesheets", {"startDate": "tuesday"}),
        ("/Timesheets", {"sort": "colour"}),
    ],
)
def test_errors_the_specs_do_not_declare_have_the_problem_body(
    sb: Sandbox, path: str, params: dict[str, str]
) -> None:
    tenant = sb.tenant_ids()[TENANT["NZ"]]
    answer = httpx.get(sb.url + BASE + path, params=params, headers=sb.headers(tenant))
    assert answer.status_code == 400
    assert answer.json()["title"] == "BadRequest"
    assert answer.json()["detail"]


@pytest.mark.parametrize("region", ["UK", "NZ"])
def test_unknown_ids_are_not_found(sb: Sandbox, region: str) -> None:
    employee = _ok(sb, region, "/Employees")["employees"][0]["employeeID"]
    for path in (
        f"/Employees/{NOBODY}",
        f"/Employees/{NOBODY}/Tax",
        f"/Employees/{NOBODY}/Leave",
        f"/Employees/{employee}/SalaryAndWages/{NOBODY}",
        f"/PayRuns/{NOBODY}",
        f"/Timesheets/{NOBODY}",
        f"/Payslips/{NOBODY}",
    ):
        assert _call(sb, region, path).status_code == 404, path


def test_each_region_has_its_own_api(sb: Sandbox) -> None:
    """A path of the other region's API is not found; an Australian organisation has neither
    (403, as an organisation without an API is answered)."""
    employee = _ok(sb, "UK", "/Employees")["employees"][0]["employeeID"]
    for path in (
        "/Superannuations",
        "/StatutoryDeductions",
        f"/Employees/{employee}/Working-Patterns",
    ):
        assert _call(sb, "UK", path).status_code == 404
    employee = _ok(sb, "NZ", "/Employees")["employees"][0]["employeeID"]
    for path in ("/Benefits", "/EarningsOrders", f"/StatutoryLeaves/Summary/{employee}"):
        assert _call(sb, "NZ", path).status_code == 404
    assert _call(sb, "AU", "/Employees").status_code == 403
    uk = _ok(sb, "UK", "/Employees")["employees"][0]
    nz = _ok(sb, "NZ", "/Employees")["employees"][0]
    assert "niCategory" in uk
    assert "jobTitle" not in uk
    assert "jobTitle" in nz
    assert "niCategory" not in nz


def test_each_endpoint_needs_its_scope(sb: Sandbox) -> None:
    tenant = sb.tenant_ids()[TENANT["UK"]]
    tokens = sb.authorize(f"{ALL_SCOPES} payroll.employees.read")
    headers = {**sb.headers(tenant), "Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(sb.url + BASE + "/Employees", headers=headers).status_code == 200
    for path in ("/PayRuns", "/Timesheets", "/Settings", "/Payslips/" + NOBODY):
        assert httpx.get(sb.url + BASE + path, headers=headers).status_code == 401, path

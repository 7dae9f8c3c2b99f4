"""Payroll UK and Payroll NZ (``payroll.xro/2.0``): one base path, the models of the
organisation's region (British organisations get the UK API, New Zealand ones the NZ API;
others are refused as organisations without the API). Collections page by ``page``, 100 a page,
in a ``pagination`` object beside the list; each route's filters and errors are in docs/apis.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import API_PREFIXES, PAYROLL_V2
from xero_sandbox.apis.payroll_v2_periods import PeriodHours, hours_by_pay_period
from xero_sandbox.apis.serving import ApiRequest, json_answer, paged
from xero_sandbox.catalog import Record
from xero_sandbox.reads import PROVIDER, not_found

__all__ = ["routes"]

PREFIX = API_PREFIXES[PAYROLL_V2]
BOTH = ("UK", "NZ")
PAGE_SIZE = 100  # the specs: "By default the number of the records per set is 100"
Filter = Callable[["_Call", list[Record]], list[Record] | Response]
Handler = Callable[[Request], Any]


class _Call(ApiRequest):
    """A Payroll UK/NZ call: refused outside Britain and New Zealand, 404 for a path of the
    other region's API."""

    def __init__(self, request: Request, regions: tuple[str, ...]) -> None:
        super().__init__(request, PAYROLL_V2, BOTH)
        if not self.refusal and self.region not in regions:
            self.refusal = not_found()

    def envelope(self) -> Record:
        """What every answer carries before its records (the specs' examples)."""
        return {
            "id": str(uuid.uuid4()),
            "providerName": PROVIDER,
            "dateTimeUTC": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "httpStatusCode": "OK",
        }

    def answer(self, key: str, value: Any) -> Response:
        """One object (or a list the API does not page) under ``key``."""
        self.served(len(value) if isinstance(value, list) else 1)
        return json_answer({**self.envelope(), key: value})

    def page(self, key: str, records: list[Record]) -> Response:
        """One page of ``records`` under ``key``."""
        return paged(
            self,
            records,
            default_size=PAGE_SIZE,
            max_size=PAGE_SIZE,
            bad_request=bad_request,
            key=key,
            envelope=self.envelope(),
        )

    def employee(self) -> Record | Response:
        """The path's employee, or the refusal, or 404."""
        return self.found("Employees", self.request.path_params["EmployeeID"])

    def detail(self, field: str) -> Any:
        """One of the one-object answers about the path's employee, or 404."""
        employee = self.employee()
        if isinstance(employee, Response):
            return employee
        details = self.record("EmployeeDetails", employee["employeeID"]) or {}
        return details.get(field, not_found())

    def date_param(self, name: str) -> date | Response | None:
        """A ``YYYY-MM-DD`` query parameter, None when absent, 400 when not a date."""
        raw = self.query.get(name.lower(), "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            return bad_request(f"{name} must be a date (YYYY-MM-DD)")


def bad_request(detail: str) -> Response:
    """400 with the specs' ``Problem`` (its ``status`` a string, as the specs declare it)."""
    problem = {"type": "application/problem+json", "title": "BadRequest", "status": "400"}
    return json_answer({**problem, "detail": detail}, status=400)


def _fields_equal(allowed: tuple[str, ...]) -> Filter:
    """``filter=field==value,field==value`` on the named fields (case-insensitive)."""
    lookup = {name.lower(): name for name in allowed}

    def apply(call: _Call, records: list[Record]) -> list[Record] | Response:
        raw = call.query.get("filter", "")
        for part in (p for p in raw.split(",") if p.strip()):
            name, equals, value = part.partition("==")
            field = lookup.get(name.strip().lower())
            if not equals or field is None:
                return bad_request(f"filter: {part.strip()!r} is not one of {', '.join(allowed)}")
            wanted = value.strip().lower()
            records = [r for r in records if str(r.get(field, "")).lower() == wanted]
        return records

    return apply


def _timesheet_filters(call: _Call, records: list[Record]) -> list[Record] | Response:
    found = _fields_equal(("employeeId", "payrollCalendarId"))(call, _lower_ids(records))
    if isinstance(found, Response):
        return found
    records = [r for r in records if r["timesheetID"] in {f["timesheetID"] for f in found}]
    status = call.query.get("status", "").strip().lower()
    if status:
        records = [r for r in records if str(r.get("status", "")).lower() == status]
    first, last = call.date_param("startDate"), call.date_param("endDate")
    for bound in (first, last):
        if isinstance(bound, Response):
            return bound
    if isinstance(first, date):
        records = [r for r in records if r["startDate"] >= first.isoformat()]
    if isinstance(last, date):
        records = [r for r in records if r["endDate"] <= last.isoformat()]
    sort = call.query.get("sort", "").strip()
    if sort and sort.lower() != "startdate":
        return bad_request("sort: the only option is startDate")
    if sort:
        records = sorted(records, key=lambda r: str(r["startDate"]), reverse=True)
    return records


def _lower_ids(records: list[Record]) -> list[Record]:
    """Timesheets as their filter names their fields (``employeeId``)."""
    return [
        {**r, "employeeId": r["employeeID"], "payrollCalendarId": r["payrollCalendarID"]}
        for r in records
    ]


def _status(call: _Call, records: list[Record]) -> list[Record] | Response:
    status = call.query.get("status", "").strip()
    if status and status not in ("Draft", "Posted"):
        return bad_request("status must be Draft or Posted")
    return [r for r in records if not status or r.get("payRunStatus") == status]


def _active_only(call: _Call, records: list[Record]) -> list[Record] | Response:
    if call.query.get("activeonly", "").strip().lower() == "true":
        return [r for r in records if r.get("isActive")]
    return records


def _collection(stored: str, key: str, regions: tuple[str, ...], keep: Filter | None) -> Handler:
    async def handler(request: Request) -> Response:
        call = _Call(request, regions)
        if call.refusal:
            return call.refusal
        records = call.records(stored)
        kept = keep(call, records) if keep else records
        return kept if isinstance(kept, Response) else call.page(key, kept)

    return handler


def _single(stored: str, key: str, param: str, regions: tuple[str, ...]) -> Handler:
    async def handler(request: Request) -> Response:
        call = _Call(request, regions)
        found = call.found(stored, request.path_params[param])
        return found if isinstance(found, Response) else call.answer(key, found)

    return handler


def _listed(
    path: str,
    stored: str,
    keys: tuple[str, str],
    param: str,
    regions: tuple[str, ...] = BOTH,
    keep: Filter | None = None,
) -> list[BaseRoute]:
    """A collection's route (``keys[0]`` its list) and its one-record route (``keys[1]``)."""
    many, one = keys
    return [
        Route(PREFIX + path, _collection(stored, many, regions, keep), methods=["GET"]),
        Route(
            PREFIX + path + "/{" + param + "}",
            _single(stored, one, param, regions),
            methods=["GET"],
        ),
    ]


def _object(stored: str, key: str, *spellings: str) -> list[BaseRoute]:
    """A one-object answer of the organisation (settings), at each spelling of its path."""

    async def handler(request: Request) -> Response:
        call = _Call(request, BOTH)
        found = call.found(stored, stored)
        if isinstance(found, Response):
            return found
        return call.answer(key, {k: v for k, v in found.items() if k != "Key"})

    return [Route(PREFIX + path, handler, methods=["GET"]) for path in spellings]


def _detail(path: str, field: str, key: str, regions: tuple[str, ...] = BOTH) -> BaseRoute:
    """One of the employee's one-object (or unpaged list) answers."""

    async def handler(request: Request) -> Response:
        call = _Call(request, regions)
        if call.refusal:
            return call.refusal
        found = call.detail(field)
        return found if isinstance(found, Response) else call.answer(key, found)

    return Route(PREFIX + "/Employees/{EmployeeID}" + path, handler, methods=["GET"])


def _employee_children(path: str, stored: str, key: str, *, pages: bool) -> BaseRoute:
    """An employee's records of a child collection (404 for an unknown employee)."""

    async def handler(request: Request) -> Response:
        call = _Call(request, BOTH)
        employee = call.employee()
        if isinstance(employee, Response):
            return employee
        records = call.records(stored, employee["employeeID"])
        return call.page(key, records) if pages else call.answer(key, records)

    return Route(PREFIX + "/Employees/{EmployeeID}" + path, handler, methods=["GET"])


async def get_employee_leave(request: Request) -> Response:
    """UK: GET /Employees/{EmployeeID}/Leave/{LeaveID}, one of the employee's leave."""
    call = _Call(request, ("UK",))
    employee = call.employee()
    if isinstance(employee, Response):
        return employee
    leave = call.record("Leave", request.path_params["LeaveID"])
    if leave is None or leave["employeeID"] != employee["employeeID"]:
        return not_found()
    return call.answer("leave", leave)


async def get_salary_and_wage(request: Request) -> Response:
    """GET /Employees/{EmployeeID}/SalaryAndWages/{SalaryAndWagesID}: a list of that one."""
    call = _Call(request, BOTH)
    employee = call.employee()
    if isinstance(employee, Response):
        return employee
    found = call.record("SalaryAndWages", request.path_params["SalaryAndWagesID"])
    if found is None or found["employeeID"] != employee["employeeID"]:
        return not_found()
    return call.page("salaryAndWages", [found])


async def get_leave_periods(request: Request) -> Response:
    """Xero's calculator of a leave's pay periods: for ``startDate``-``endDate``, each pay
    period of the employee's calendar that the range touches, once, with the hours of the
    range's weekdays in it (NZ: also in weeks taken), as an estimate. A range an existing
    leave of the employee covers exactly answers that leave's stored periods; without both
    dates there is no range to calculate: an empty list."""
    call = _Call(request, BOTH)
    employee = call.employee()
    if isinstance(employee, Response):
        return employee
    first, last = call.date_param("startDate"), call.date_param("endDate")
    for bound in (first, last):
        if isinstance(bound, Response):
            return bound
    if not isinstance(first, date) or not isinstance(last, date):
        return call.answer("periods", [])
    if last < first:
        return bad_request("endDate must not be before startDate")
    asked = (first.isoformat(), last.isoformat())
    for leave in call.records("Leave", employee["employeeID"]):
        if (leave["startDate"][:10], leave["endDate"][:10]) == asked:
            return call.answer("periods", leave.get("periods") or [])
    calendar = call.record("PayRunCalendars", str(employee.get("payrollCalendarID")))
    periods = hours_by_pay_period(calendar, call.region, first, last)
    return call.answer("periods", [_estimated(call.region, period) for period in periods])


def _estimated(region: str, period: PeriodHours) -> Record:
    """One pay period of the calculator's answer, as each region's spec example shows it
    (the UK example's ``periodStatus`` is null, which its schema does not allow: left out)."""
    answer: Record = {
        "periodStartDate": period.start.isoformat(),
        "periodEndDate": period.end.isoformat(),
        "numberOfUnits": float(period.hours),
    }
    if region == "NZ":
        answer.update(
            periodStatus="Estimated",
            typeOfUnits="Hours",
            numberOfUnitsTaken=period.days / 5,
            typeOfUnitsTaken="Weeks",
        )
    return answer


_SUMMARY = ("statutoryLeaveID", "employeeID", "type", "startDate", "endDate", "isEntitled")


async def get_statutory_summary(request: Request) -> Response:
    """UK: the employee's statutory leave (``activeOnly``: not yet completed)."""
    call = _Call(request, ("UK",))
    employee = call.employee()
    if isinstance(employee, Response):
        return employee
    leaves = call.records("StatutoryLeaves", employee["employeeID"])
    if call.query.get("activeonly", "").strip().lower() == "true":
        leaves = [leave for leave in leaves if leave.get("status") != "Completed"]
    summaries = [
        {**{k: leave[k] for k in _SUMMARY if k in leave}, "status": leave["status"]}
        for leave in leaves
    ]
    return call.answer("statutoryLeaves", summaries)


# Weeks of statutory pay each type of statutory leave gives (the Payroll UK spec's types):
# SSP 28, SMP and SAP 39, SPP 2, ShPP 37, parental bereavement 2 (Northern Ireland's too),
# neonatal care up to 12.
STATUTORY_WEEKS = {
    "Sick": 28.0,
    "Adoption": 39.0,
    "Maternity": 39.0,
    "Paternity": 2.0,
    "Sharedparental": 37.0,
    "Bereavement": 2.0,
    "NeonatalCare": 12.0,
    "BereavementNire": 2.0,
}
HOURS_A_WEEK = 37.5


async def get_statutory_balance(request: Request) -> Response:
    """UK: the employee's statutory leave balance of ``LeaveType`` (default Sick, any case):
    the weeks of the type's entitlement not taken by the employee's leave of that type (up
    to ``AsOfDate``), in hours of a 37.5-hour week, under the type's own spelling."""
    call = _Call(request, ("UK",))
    employee = call.employee()
    if isinstance(employee, Response):
        return employee
    as_of = call.date_param("AsOfDate")
    if isinstance(as_of, Response):
        return as_of
    asked = call.query.get("leavetype", "").strip() or "Sick"
    kind = next((k for k in STATUTORY_WEEKS if k.lower() == asked.lower()), None)
    if kind is None:
        return bad_request(f"LeaveType must be one of {', '.join(STATUTORY_WEEKS)}")
    taken = sum(
        (date.fromisoformat(leave["endDate"]) - date.fromisoformat(leave["startDate"])).days + 1
        for leave in call.records("StatutoryLeaves", employee["employeeID"])
        if leave["type"] == kind
        and (not isinstance(as_of, date) or leave["startDate"] <= as_of.isoformat())
    )
    weeks = max(0.0, STATUTORY_WEEKS[kind] - taken / 7)
    balance = {"leaveType": kind, "balanceRemaining": weeks * HOURS_A_WEEK, "units": "Hours"}
    return call.answer("leaveBalance", balance)


async def get_statutory_sick_leave(request: Request) -> Response:
    """UK: one statutory sick leave in full; 404 for another type's leave."""
    call = _Call(request, ("UK",))
    found = call.found("StatutoryLeaves", request.path_params["LeaveID"])
    if isinstance(found, Response):
        return found
    return call.answer("statutorySickLeave", found) if found["type"] == "Sick" else not_found()


async def get_working_pattern(request: Request) -> Response:
    """NZ: one of the employee's working patterns, with its weeks."""
    call = _Call(request, ("NZ",))
    if call.refusal:
        return call.refusal
    pattern = call.detail("workingPattern")
    if isinstance(pattern, Response):
        return pattern
    if pattern["payeeWorkingPatternID"] != request.path_params["PatternID"].lower():
        return not_found()
    return call.answer("payeeWorkingPattern", pattern)


async def get_working_patterns(request: Request) -> Response:
    """NZ: the employee's working patterns, without their weeks."""
    call = _Call(request, ("NZ",))
    if call.refusal:
        return call.refusal
    pattern = call.detail("workingPattern")
    if isinstance(pattern, Response):
        return pattern
    listed = [{k: v for k, v in pattern.items() if k != "workingWeeks"}]
    return call.answer("payeeWorkingPatterns", listed)


async def get_payslips(request: Request) -> Response:
    """GET /Payslips?PayRunID=...: the pay run's payslips (PayRunID is required)."""
    call = _Call(request, BOTH)
    if call.refusal:
        return call.refusal
    run_id = call.query.get("payrunid", "").strip()
    if not run_id:
        return bad_request("PayRunID is required")
    return call.page("paySlips", call.records("Payslips", run_id))


async def get_pay_run(request: Request) -> Response:
    """GET /PayRuns/{PayRunID}: the pay run with its payslips."""
    call = _Call(request, BOTH)
    found = call.found("PayRuns", request.path_params["PayRunID"])
    if isinstance(found, Response):
        return found
    slips = call.records("Payslips", found["payRunID"])
    return call.answer("payRun", {**found, "paySlips": slips})


routes: list[BaseRoute] = [
    *_listed(
        "/Employees",
        "Employees",
        ("employees", "employee"),
        "EmployeeID",
        keep=_fields_equal(("firstName", "lastName", "isOffPayrollWorker")),
    ),
    _detail("/Tax", "tax", "employeeTax"),
    _detail("/ukopeningbalances", "openingBalances", "openingBalances", ("UK",)),
    _detail("/OpeningBalances", "openingBalances", "openingBalances", ("NZ",)),
    _employee_children("/Leave", "Leave", "leave", pages=False),
    Route(PREFIX + "/Employees/{EmployeeID}/Leave/{LeaveID}", get_employee_leave, methods=["GET"]),
    _detail("/LeaveBalances", "leaveBalances", "leaveBalances"),
    Route(
        PREFIX + "/Employees/{EmployeeID}/StatutoryLeaveBalance",
        get_statutory_balance,
        methods=["GET"],
    ),
    Route(PREFIX + "/Employees/{EmployeeID}/LeavePeriods", get_leave_periods, methods=["GET"]),
    _detail("/LeaveTypes", "leaveTypes", "leaveTypes"),
    _detail("/PaymentMethods", "paymentMethod", "paymentMethod"),
    _detail("/PayTemplates", "payTemplate", "payTemplate"),
    _employee_children("/SalaryAndWages", "SalaryAndWages", "salaryAndWages", pages=True),
    Route(
        PREFIX + "/Employees/{EmployeeID}/SalaryAndWages/{SalaryAndWagesID}",
        get_salary_and_wage,
        methods=["GET"],
    ),
    Route(
        PREFIX + "/Employees/{EmployeeID}/Working-Patterns", get_working_patterns, methods=["GET"]
    ),
    Route(
        PREFIX + "/Employees/{EmployeeID}/Working-Patterns/{PatternID}",
        get_working_pattern,
        methods=["GET"],
    ),
    Route(PREFIX + "/StatutoryLeaves/Summary/{EmployeeID}", get_statutory_summary, methods=["GET"]),
    Route(PREFIX + "/StatutoryLeaves/Sick/{LeaveID}", get_statutory_sick_leave, methods=["GET"]),
    *_listed("/Benefits", "Benefits", ("benefits", "benefit"), "id", ("UK",)),
    *_listed("/Superannuations", "Superannuations", ("benefits", "benefit"), "id", ("NZ",)),
    *_listed("/Deductions", "Deductions", ("deductions", "deduction"), "deductionId"),
    *_listed(
        "/EarningsOrders",
        "EarningsOrders",
        ("statutoryDeductions", "statutoryDeduction"),
        "id",
        ("UK",),
    ),
    *_listed(
        "/StatutoryDeductions",
        "StatutoryDeductions",
        ("statutoryDeductions", "statutoryDeduction"),
        "id",
        ("NZ",),
    ),
    *_listed("/EarningsRates", "EarningsRates", ("earningsRates", "earningsRate"), "id"),
    *_listed("/LeaveTypes", "LeaveTypes", ("leaveTypes", "leaveType"), "id", keep=_active_only),
    *_listed("/Reimbursements", "Reimbursements", ("reimbursements", "reimbursement"), "id"),
    *_listed(
        "/Timesheets", "Timesheets", ("timesheets", "timesheet"), "id", keep=_timesheet_filters
    ),
    *_listed("/PayRunCalendars", "PayRunCalendars", ("payRunCalendars", "payRunCalendar"), "id"),
    Route(PREFIX + "/PayRuns", _collection("PayRuns", "payRuns", BOTH, _status), methods=["GET"]),
    Route(PREFIX + "/PayRuns/{PayRunID}", get_pay_run, methods=["GET"]),
    # The UK spec spells it /Payslips, the NZ spec /PaySlips: both answer either.
    *(Route(PREFIX + path, get_payslips, methods=["GET"]) for path in ("/Payslips", "/PaySlips")),
    *(
        Route(PREFIX + path + "/{id}", _single("Payslips", "paySlip", "id", BOTH), methods=["GET"])
        for path in ("/Payslips", "/PaySlips")
    ),
    *_object("Settings", "settings", "/Settings"),
    *_object(
        "TrackingCategories",
        "trackingCategories",
        "/Settings/trackingCategories",
        "/Settings/TrackingCategories",
    ),
]

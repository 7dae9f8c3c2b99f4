"""Payroll AU writes: ``POST /Employees``, ``/Timesheets`` and ``/LeaveApplications`` create
(or, for an element carrying its ID, update) a list of elements; ``POST /{collection}/{id}``
updates one. Bodies, envelopes and errors are Accounting's (Payroll AU 1.0 shares its
framework): a bare list, a bare object or the plural envelope; 400 ``ValidationException``
with ``Elements``; 14 ``PostDataInvalidException`` and 17 ``NoDataProcessedException``. What
each route checks, and which messages are Xero's and which the sandbox's, is in
docs/sandbox-writes.md."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import API_PREFIXES, stored_name
from xero_sandbox.apis.serving import ApiRequest, json_answer, write_raw
from xero_sandbox.catalog import Record
from xero_sandbox.reads import PROVIDER, not_found
from xero_sandbox.validation import (
    ZERO_GUID,
    Messages,
    NoDataProcessed,
    PostDataInvalid,
    as_bool,
    as_date,
    as_decimal,
    as_enum,
    as_guid,
    as_text,
    valid_email,
)
from xero_sandbox.writes import read_elements

__all__ = ["routes"]

PREFIX = API_PREFIXES["payroll-au"]
REGIONS = ("AU",)
GENDERS = ("N", "M", "F", "I")
EMPLOYEE_STATUSES = ("ACTIVE", "TERMINATED")
TERMINATION_REASONS = ("V", "I", "D", "R", "F", "C", "T")
STATES = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")
# Timesheets a client may write: PROCESSED comes from a posted pay run, REQUESTED and REJECTED
# from the employee's own requests in Xero.
WRITABLE_TIMESHEET_STATUSES = ("DRAFT", "APPROVED")
TIMESHEET_STATUSES = ("DRAFT", "PROCESSED", "APPROVED", "REJECTED", "REQUESTED")
PAY_OUT_TYPES = ("DEFAULT", "CASHED_OUT")
# Days in a pay period of the calendar types with a fixed length.
PERIOD_DAYS = {"WEEKLY": 7, "FORTNIGHTLY": 14, "FOURWEEKLY": 28}
HOURS_A_DAY = Decimal("7.6")  # an Australian full-time day (38 hours a week)

EMPLOYEE_TEXT = (
    "Title",
    "MiddleNames",
    "Phone",
    "Mobile",
    "TwitterUserName",
    "JobTitle",
    "Classification",
    "EmployeeGroupName",
    "IncomeType",
    "EmploymentType",
    "CountryOfResidence",
)
EMPLOYEE_FLAGS = (
    "IsAuthorisedToApproveLeave",
    "IsAuthorisedToApproveTimesheets",
    "IsSTP2Qualified",
)
# Kept as sent: the sandbox does not check these parts of an employee.
EMPLOYEE_AS_SENT = (
    "BankAccounts",
    "PayTemplate",
    "OpeningBalances",
    "TaxDeclaration",
    "SuperMemberships",
    "LeaveBalances",
)


class PayrollMessages:
    """Payroll AU's validation texts: the first three as integrators quote Xero's answers,
    the rest the sandbox's own (Xero publishes none)."""

    INVALID_EMPLOYEE = "Invalid EmployeeID {id}"
    EARNINGS_RATE = "Earnings Rate {id} does not exist or is not valid for timesheets."
    PERIOD = "Provided period doesn't correspond with a pay period"
    NOT_DRAFT = "The timesheet is not a draft timesheet"
    TIMESHEET_EXISTS = "Timesheet already exists for this employee and period"
    TRACKING_OPTION = "Tracking Option {id} does not exist"
    REQUIRED = "{field} is required"
    END_BEFORE_START = "The EndDate must not be before the StartDate"
    UNITS_PER_DAY = "NumberOfUnits must list one value for each of the period's {days} days"
    NEGATIVE_UNITS = "NumberOfUnits must not be negative"
    STATUS_NOT_WRITABLE = "Timesheet status {status} cannot be set through the API"
    ORDINARY_RATE = "Ordinary earnings rate {id} does not exist"
    CALENDAR = "Payroll calendar {id} does not exist"
    TERMINATION_DATE = "TerminationDate is required for a terminated employee"
    BORN_LATER = "DateOfBirth must be in the past"
    LEAVE_TYPE = "Leave type {id} does not exist"
    LEAVE_PROCESSED = "Leave that has been processed in a pay run cannot be changed"
    NOT_FOUND = "An existing {entity} with the specified {id_field} could not be found"
    NOT_REQUESTED = "Only leave that has been requested can be approved"


M = PayrollMessages


def _ms(day: date | datetime) -> str:
    if not isinstance(day, datetime):
        day = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return f"/Date({int(day.timestamp() * 1000)}+0000)/"


def _day(value: Any) -> date | None:
    """A stored ``/Date()/`` (or any date the sandbox takes) as a date, None when absent."""
    return None if value in (None, "") else as_date(value, "")


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _unparsable(path: str) -> PostDataInvalid:
    """Accounting's error for a value of the wrong JSON type at ``path``."""
    return PostDataInvalid(f"Unexpected character encountered while parsing value. Path '{path}'.")


@dataclass
class _Batch:
    """One request's writes: the tenant's payroll as the elements are checked, and what the
    request itself adds (a timesheet checked against the ones before it in the request)."""

    call: ApiRequest
    now_ms: int
    written: list[Record]

    @property
    def today(self) -> date:
        return datetime.fromtimestamp(self.now_ms / 1000, tz=UTC).date()

    @property
    def stamp(self) -> str:
        return f"/Date({self.now_ms}+0000)/"

    def collection(self, name: str) -> list[Record]:
        return self.call.records(name)

    def settings_list(self, name: str, item: str) -> list[Record]:
        found = self.call.ctx.store.get(self.call.tenant_id, stored_name("payroll-au", name), name)
        return [r for r in (found or {}).get(item) or () if isinstance(r, dict)]

    def earnings_rate(self, rate_id: str) -> Record | None:
        return next(
            (
                r
                for r in self.settings_list("PayItems", "EarningsRates")
                if str(r.get("EarningsRateID")).lower() == rate_id
            ),
            None,
        )


Builder = Callable[[_Batch, Record, str, Record, Record | None, list[str]], None]


@dataclass(frozen=True)
class _Kind:
    """A writable collection: its names and how an element becomes its record."""

    collection: str
    entity: str
    id_field: str
    build: Builder


# -- employees -------------------------------------------------------------------------------


def _build_employee(
    batch: _Batch,
    sent: Record,
    path: str,
    record: Record,
    existing: Record | None,
    errors: list[str],
) -> None:
    _employee_fields(sent, path, record)
    new = existing is None
    for name in ("FirstName", "LastName"):
        if new and not record.get(name):
            errors.append(M.REQUIRED.format(field=name))
    born = _day(record.get("DateOfBirth"))
    if born is None and new:
        errors.append(M.REQUIRED.format(field="DateOfBirth"))
    elif born is not None and born >= batch.today:
        errors.append(M.BORN_LATER)
    if record.get("Email") and "Email" in sent and not valid_email(record["Email"]):
        errors.append(Messages.EMAIL_INVALID)
    if "HomeAddress" in sent:
        record["HomeAddress"] = _address(sent["HomeAddress"], _at(path, "HomeAddress"), errors)
    _employee_links(batch, sent, path, record, errors)
    _employee_status(sent, path, record, errors)


def _employee_fields(sent: Record, path: str, record: Record) -> None:
    """The employee's own fields as sent, converted (PostDataInvalid when one cannot be)."""
    for name in ("FirstName", "LastName", "Email"):
        if name in sent:
            record[name] = as_text(sent[name], _at(path, name)).strip()
    for name in EMPLOYEE_TEXT:
        if name in sent:
            record[name] = as_text(sent[name], _at(path, name))
    for name in EMPLOYEE_FLAGS:
        if name in sent:
            record[name] = as_bool(sent[name], _at(path, name))
    for name in EMPLOYEE_AS_SENT:
        if name in sent:
            record[name] = sent[name]
    for name in ("DateOfBirth", "StartDate", "TerminationDate"):
        if name in sent:
            record[name] = _ms(as_date(sent[name], _at(path, name)))
    for name, values, enum in (
        ("Gender", GENDERS, "Gender"),
        ("TerminationReason", TERMINATION_REASONS, "TerminationReason"),
    ):
        if name in sent:
            record[name] = as_enum(sent[name], values, enum, _at(path, name))


def _employee_links(
    batch: _Batch, sent: Record, path: str, record: Record, errors: list[str]
) -> None:
    """The employee's ordinary earnings rate and payroll calendar: each must exist."""
    if "OrdinaryEarningsRateID" in sent:
        rate = as_guid(sent["OrdinaryEarningsRateID"], _at(path, "OrdinaryEarningsRateID"))
        record["OrdinaryEarningsRateID"] = rate
        if batch.earnings_rate(rate) is None:
            errors.append(M.ORDINARY_RATE.format(id=rate))
    if "PayrollCalendarID" in sent:
        calendar = as_guid(sent["PayrollCalendarID"], _at(path, "PayrollCalendarID"))
        record["PayrollCalendarID"] = calendar
        if batch.call.record("PayrollCalendars", calendar) is None:
            errors.append(M.CALENDAR.format(id=calendar))


def _employee_status(sent: Record, path: str, record: Record, errors: list[str]) -> None:
    """ACTIVE, or TERMINATED (sent, or implied by a termination date) with its date."""
    status = record.get("Status") or "ACTIVE"
    if "Status" in sent:
        status = as_enum(sent["Status"], EMPLOYEE_STATUSES, "EmployeeStatus", _at(path, "Status"))
    elif record.get("TerminationDate"):
        status = "TERMINATED"
    record["Status"] = status
    if status == "TERMINATED" and not record.get("TerminationDate"):
        errors.append(M.TERMINATION_DATE)


def _address(sent: Any, path: str, errors: list[str]) -> Record:
    if not isinstance(sent, dict):
        raise _unparsable(path)
    address: Record = {}
    for name in ("AddressLine1", "AddressLine2", "City", "PostalCode", "Country"):
        if name in sent:
            address[name] = as_text(sent[name], _at(path, name))
    if "Region" in sent:
        address["Region"] = as_enum(sent["Region"], STATES, "State", _at(path, "Region"))
    if not str(address.get("AddressLine1") or "").strip():
        errors.append(M.REQUIRED.format(field="HomeAddress.AddressLine1"))
    return address


# -- timesheets ------------------------------------------------------------------------------


def _employee(
    batch: _Batch, sent: Record, path: str, record: Record, errors: list[str]
) -> Record | None:
    """The element's employee (sent, or the record's), an error when unknown."""
    if "EmployeeID" in sent:
        record["EmployeeID"] = as_guid(sent["EmployeeID"], _at(path, "EmployeeID"))
    employee_id = record.get("EmployeeID")
    if not employee_id:
        errors.append(M.REQUIRED.format(field="EmployeeID"))
        return None
    employee = batch.call.record("Employees", employee_id)
    if employee is None:
        errors.append(M.INVALID_EMPLOYEE.format(id=employee_id))
    return employee


def _period(sent: Record, path: str, record: Record, errors: list[str]) -> tuple[date, date] | None:
    for name in ("StartDate", "EndDate"):
        if name in sent:
            record[name] = _ms(as_date(sent[name], _at(path, name)))
    start, end = _day(record.get("StartDate")), _day(record.get("EndDate"))
    for name, day in (("StartDate", start), ("EndDate", end)):
        if day is None:
            errors.append(M.REQUIRED.format(field=name))
    if start is None or end is None:
        return None
    if end < start:
        errors.append(M.END_BEFORE_START)
        return None
    return start, end


def _pay_period(batch: _Batch, employee: Record, start: date, end: date) -> bool:
    """Whether start..end is one pay period of the employee's calendar (calendars of months
    or quarters take any period: the sandbox does not model their dates)."""
    calendar = batch.call.record("PayrollCalendars", str(employee.get("PayrollCalendarID") or ""))
    if calendar is None:
        return False
    days = PERIOD_DAYS.get(str(calendar.get("CalendarType")))
    first = _day(calendar.get("StartDate"))
    if days is None or first is None:
        return True
    return (start - first).days % days == 0 and (end - start).days == days - 1


def _build_timesheet(
    batch: _Batch,
    sent: Record,
    path: str,
    record: Record,
    existing: Record | None,
    errors: list[str],
) -> None:
    if existing is not None and existing.get("Status") != "DRAFT":
        errors.append(M.NOT_DRAFT)
        return
    employee = _employee(batch, sent, path, record, errors)
    period = _period(sent, path, record, errors)
    status = record.get("Status") or "DRAFT"
    if "Status" in sent:
        status = as_enum(sent["Status"], TIMESHEET_STATUSES, "TimesheetStatus", _at(path, "Status"))
        if status not in WRITABLE_TIMESHEET_STATUSES:
            errors.append(M.STATUS_NOT_WRITABLE.format(status=status))
    record["Status"] = status
    if employee is None or period is None:
        return
    start, end = period
    if not _pay_period(batch, employee, start, end):
        errors.append(M.PERIOD)
    starts = record["StartDate"]
    for other in [*batch.collection("Timesheets"), *batch.written]:
        if (
            other.get("TimesheetID") != record.get("TimesheetID")
            and other.get("EmployeeID") == record["EmployeeID"]
            and other.get("StartDate") == starts
        ):
            errors.append(M.TIMESHEET_EXISTS)
            break
    if "TimesheetLines" in sent:
        record["TimesheetLines"] = _lines(
            batch, sent["TimesheetLines"], path, (end - start).days + 1, errors
        )
    record["Hours"] = sum(
        (
            Decimal(str(u))
            for line in record.get("TimesheetLines") or ()
            for u in line["NumberOfUnits"]
        ),
        Decimal(0),
    )


def _lines(batch: _Batch, sent: Any, path: str, days: int, errors: list[str]) -> list[Record]:
    lines_path = _at(path, "TimesheetLines")
    if not isinstance(sent, list):
        raise _unparsable(lines_path)
    options = _timesheet_options(batch)
    lines = []
    for index, line in enumerate(sent):
        at = f"{lines_path}[{index}]"
        if not isinstance(line, dict):
            raise _unparsable(at)
        out: Record = {}
        rate = line.get("EarningsRateID")
        if rate is None:
            errors.append(M.REQUIRED.format(field="EarningsRateID"))
        else:
            out["EarningsRateID"] = as_guid(rate, _at(at, "EarningsRateID"))
            if batch.earnings_rate(out["EarningsRateID"]) is None:
                errors.append(M.EARNINGS_RATE.format(id=out["EarningsRateID"]))
        if line.get("TrackingItemID") is not None:
            out["TrackingItemID"] = as_guid(line["TrackingItemID"], _at(at, "TrackingItemID"))
            if out["TrackingItemID"] not in options:
                errors.append(M.TRACKING_OPTION.format(id=out["TrackingItemID"]))
        units = line.get("NumberOfUnits") or []
        if not isinstance(units, list):
            raise _unparsable(f"{at}.NumberOfUnits")
        out["NumberOfUnits"] = [
            as_decimal(u, f"{at}.NumberOfUnits[{i}]") for i, u in enumerate(units)
        ]
        if len(units) != days:
            errors.append(M.UNITS_PER_DAY.format(days=days))
        if any(u < 0 for u in out["NumberOfUnits"]):
            errors.append(M.NEGATIVE_UNITS)
        out["UpdatedDateUTC"] = batch.stamp
        lines.append(out)
    return lines


def _timesheet_options(batch: _Batch) -> set[str]:
    """The tracking options a timesheet line may name: the options of the category the
    payroll settings choose for timesheets, else of every tracking category."""
    settings = (
        batch.call.ctx.store.get(
            batch.call.tenant_id, stored_name("payroll-au", "Settings"), "Settings"
        )
        or {}
    )
    chosen = (settings.get("TrackingCategories") or {}).get("TimesheetCategories") or {}
    wanted = str(chosen.get("TrackingCategoryID") or "").lower()
    return {
        str(option.get("TrackingOptionID")).lower()
        for category in batch.call.ctx.store.iter_records(
            batch.call.tenant_id, "TrackingCategories"
        )
        if not wanted or str(category.get("TrackingCategoryID")).lower() == wanted
        for option in category.get("Options") or ()
    }


# -- leave applications ----------------------------------------------------------------------


def _build_leave(
    batch: _Batch,
    sent: Record,
    path: str,
    record: Record,
    existing: Record | None,
    errors: list[str],
) -> None:
    if existing is not None and any(
        p.get("LeavePeriodStatus") == "PROCESSED" for p in existing.get("LeavePeriods") or ()
    ):
        errors.append(M.LEAVE_PROCESSED)
        return
    employee = _employee(batch, sent, path, record, errors)
    if "LeaveTypeID" in sent:
        record["LeaveTypeID"] = as_guid(sent["LeaveTypeID"], _at(path, "LeaveTypeID"))
    leave_type = record.get("LeaveTypeID")
    if not leave_type:
        errors.append(M.REQUIRED.format(field="LeaveTypeID"))
    elif not any(
        str(t.get("LeaveTypeID")).lower() == leave_type
        for t in batch.settings_list("PayItems", "LeaveTypes")
    ):
        errors.append(M.LEAVE_TYPE.format(id=leave_type))
    for name in ("Title", "Description"):
        if name in sent:
            record[name] = as_text(sent[name], _at(path, name))
    if not str(record.get("Title") or "").strip():
        errors.append(M.REQUIRED.format(field="Title"))
    if "PayOutType" in sent:
        record["PayOutType"] = as_enum(
            sent["PayOutType"], PAY_OUT_TYPES, "PayOutType", _at(path, "PayOutType")
        )
    record.setdefault("PayOutType", "DEFAULT")
    period = _period(sent, path, record, errors)
    if employee is not None and period is not None:
        record["LeavePeriods"] = _leave_periods(batch, employee, *period)


def _leave_periods(batch: _Batch, employee: Record, start: date, end: date) -> list[Record]:
    """The leave's units in each pay period it falls in (7.6 hours a weekday), scheduled."""
    calendar = batch.call.record("PayrollCalendars", str(employee.get("PayrollCalendarID") or ""))
    days = PERIOD_DAYS.get(str((calendar or {}).get("CalendarType")))
    first = _day((calendar or {}).get("StartDate"))
    periods: dict[date, Decimal] = {}
    day = start
    while day <= end:
        if day.weekday() < 5:
            opens = (
                day
                if days is None or first is None
                else day - timedelta(days=(day - first).days % days)
            )
            periods[opens] = periods.get(opens, Decimal(0)) + HOURS_A_DAY
        day += timedelta(days=1)
    return [
        {
            "PayPeriodStartDate": _ms(opens),
            "PayPeriodEndDate": _ms(opens + timedelta(days=(days or 1) - 1)),
            "LeavePeriodStatus": "SCHEDULED",
            "NumberOfUnits": units,
        }
        for opens, units in sorted(periods.items())
    ]


# -- requests --------------------------------------------------------------------------------

EMPLOYEES = _Kind("Employees", "Employee", "EmployeeID", _build_employee)
TIMESHEETS = _Kind("Timesheets", "Timesheet", "TimesheetID", _build_timesheet)
LEAVE = _Kind("LeaveApplications", "LeaveApplication", "LeaveApplicationID", _build_leave)


def _error(
    status: int, number: int, kind: str, message: str, elements: list[Record] | None = None
) -> Response:
    body: Record = {"ErrorNumber": number, "Type": kind, "Message": message}
    if elements is not None:
        body["Elements"] = elements
    return json_answer(body, status)


def _post(kind: _Kind, call: ApiRequest, raw: bytes, url_id: str | None) -> Response:
    """Check every element; save them all when none failed, else none (400 listing every
    element, each failed one with its ``ValidationErrors``)."""
    batch = _Batch(call, call.ctx.clock.utc_ms(), [])
    try:
        checked = _checked(kind, batch, raw, url_id)
    except PostDataInvalid as exc:
        return _error(400, 14, "PostDataInvalidException", exc.message)
    except NoDataProcessed as exc:
        return _error(400, 17, "NoDataProcessedException", exc.message)
    if any(errors for _, errors in checked):
        echoed = [
            {**record, "ValidationErrors": [{"Message": m} for m in errors]}
            for record, errors in checked
        ]
        return _error(400, 10, "ValidationException", "A validation exception occurred", echoed)
    return _saved(kind, batch, [record for record, _ in checked])


def _checked(
    kind: _Kind, batch: _Batch, raw: bytes, url_id: str | None
) -> list[tuple[Record, list[str]]]:
    """Each element of the body as its record would be, with what is wrong with it (the URL's
    record takes the body's first element)."""
    if url_id is not None:
        url_id = as_guid(url_id, kind.id_field)
    elements = read_elements(raw, kind.collection, NoDataProcessed(kind.entity))
    checked: list[tuple[Record, list[str]]] = []
    for sent, path in elements[:1] if url_id else elements:
        errors: list[str] = []
        ident = url_id or sent.get(kind.id_field)
        existing = None
        if ident:
            ident = as_guid(ident, _at(path, kind.id_field))
            existing = batch.call.record(kind.collection, ident)
            if existing is None:
                errors.append(M.NOT_FOUND.format(entity=kind.entity, id_field=kind.id_field))
        record: Record = dict(existing or {})
        if not errors:
            kind.build(batch, sent, path, record, existing, errors)
        record.setdefault(kind.id_field, ident if existing else ZERO_GUID)
        if not errors:  # later elements of the request see it
            batch.written.append(record)
        checked.append((record, errors))
    return checked


def _saved(kind: _Kind, batch: _Batch, records: list[Record]) -> Response:
    """Store the checked records (new ones get their IDs) and answer them."""
    call = batch.call
    with call.ctx.store.transaction():
        for record in records:
            if record[kind.id_field] == ZERO_GUID:
                record[kind.id_field] = str(uuid.uuid4())
            record["UpdatedDateUTC"] = batch.stamp
            call.save(kind.collection, record)
    call.served(len(records))
    return json_answer(
        {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": PROVIDER,
            "DateTimeUTC": f"/Date({batch.now_ms})/",
            kind.collection: records,
        }
    )


def _decide(call: ApiRequest, ident: str, to: str) -> Response:
    """``/LeaveApplications/{id}/approve`` (requested periods become ``SCHEDULED``) or
    ``/reject`` (every period ``REJECTED``); refused for leave a pay run processed, and
    approving for leave nobody requested. The body is ignored."""
    batch = _Batch(call, call.ctx.clock.utc_ms(), [])
    try:
        leave_id = as_guid(ident, LEAVE.id_field)
    except PostDataInvalid as exc:
        return _error(400, 14, "PostDataInvalidException", exc.message)
    leave = call.record(LEAVE.collection, leave_id)
    if leave is None:
        return not_found()
    periods = [dict(p) for p in leave.get("LeavePeriods") or ()]
    statuses = {p.get("LeavePeriodStatus") for p in periods}
    error = None
    if "PROCESSED" in statuses:
        error = M.LEAVE_PROCESSED
    elif to == "SCHEDULED" and "REQUESTED" not in statuses:
        error = M.NOT_REQUESTED
    if error:
        echoed = [{**leave, "ValidationErrors": [{"Message": error}]}]
        return _error(400, 10, "ValidationException", "A validation exception occurred", echoed)
    for period in periods:
        if to == "REJECTED" or period.get("LeavePeriodStatus") == "REQUESTED":
            period["LeavePeriodStatus"] = to
    return _saved(LEAVE, batch, [{**leave, "LeavePeriods": periods}])


def _routes(kind: _Kind, path: str) -> list[BaseRoute]:
    async def collection(request: Request) -> Response:
        return await write_raw(
            request, "payroll-au", lambda call, raw: _post(kind, call, raw, None), REGIONS
        )

    async def one(request: Request) -> Response:
        ident = request.path_params["ident"]
        return await write_raw(
            request, "payroll-au", lambda call, raw: _post(kind, call, raw, ident), REGIONS
        )

    return [
        Route(PREFIX + path, collection, methods=["POST"]),
        Route(PREFIX + path + "/{ident}", one, methods=["POST"]),
    ]


def _decision(to: str) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        ident = request.path_params["ident"]
        return await write_raw(
            request, "payroll-au", lambda call, _: _decide(call, ident, to), REGIONS
        )

    return endpoint


routes: list[BaseRoute] = [
    *_routes(EMPLOYEES, "/Employees"),
    *_routes(TIMESHEETS, "/Timesheets"),
    *_routes(LEAVE, "/LeaveApplications"),
    Route(PREFIX + "/LeaveApplications/{ident}/approve", _decision("SCHEDULED"), methods=["POST"]),
    Route(PREFIX + "/LeaveApplications/{ident}/reject", _decision("REJECTED"), methods=["POST"]),
]

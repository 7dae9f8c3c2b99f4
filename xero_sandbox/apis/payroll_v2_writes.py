"""Payroll UK and NZ writes (``payroll.xro/2.0``): employees (``POST /Employees``,
``PUT /Employees/{id}``), timesheets (``POST /Timesheets``, its lines added, changed and
deleted, ``Approve`` and ``RevertToDraft``) and an employee's leave (``POST``, ``PUT`` and
``DELETE`` under ``/Employees/{id}/Leave``). One object a request, answered in the specs'
envelope under the object's name; a refusal is the specs' 400 ``Problem`` with
``invalidFields``. The two regions share the routes; what differs (required fields, fields of
one region only) is the :data:`REGIONS` table. What each route checks is in
docs/sandbox-writes.md."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import API_PREFIXES, PAYROLL_V2
from xero_sandbox.apis.payroll_v2 import bad_request
from xero_sandbox.apis.payroll_v2_periods import hours_by_pay_period, pay_period
from xero_sandbox.apis.serving import ApiRequest, json_answer, json_object
from xero_sandbox.catalog import Record
from xero_sandbox.reads import PROVIDER, not_found
from xero_sandbox.validation import valid_email
from xero_sandbox.writes import idempotent

__all__ = ["REGIONS", "routes"]

PREFIX = API_PREFIXES[PAYROLL_V2]
NI_CATEGORIES = tuple("ABCFHIJLMSVXZ")


@dataclass(frozen=True)
class Region:
    """What one region's employees and leave take beyond the fields both have."""

    required: tuple[str, ...]
    fields: dict[str, str]  # field -> kind (text, date, guid, bool, or an enum's values)
    address: tuple[str, ...]


_COMMON = {
    "title": "text",
    "firstName": "text",
    "lastName": "text",
    "dateOfBirth": "date",
    "email": "text",
    "gender": "M|F",
    "phoneNumber": "text",
    "startDate": "date",
    "endDate": "date",
    "payrollCalendarID": "guid",
}
_ADDRESS = ("addressLine1", "addressLine2", "city", "postCode", "countryName")
REGIONS = {
    "UK": Region(
        required=("title", "firstName", "lastName", "dateOfBirth", "gender", "address"),
        fields={
            **_COMMON,
            "niCategory": "|".join(NI_CATEGORIES),
            "nationalInsuranceNumber": "text",
            "isOffPayrollWorker": "bool",
        },
        address=_ADDRESS,
    ),
    "NZ": Region(
        required=("firstName", "lastName", "dateOfBirth", "address"),
        fields={
            **_COMMON,
            "jobTitle": "text",
            "engagementType": "Permanent|FixedTerm|Casual",
            "fixedTermEndDate": "date",
        },
        address=(*_ADDRESS, "suburb"),
    ),
}
ADDRESS_REQUIRED = ("addressLine1", "city", "postCode")
TIMESHEET_FIELDS = {
    "payrollCalendarID": "guid",
    "employeeID": "guid",
    "startDate": "date",
    "endDate": "date",
}
LINE_FIELDS = {"date": "date", "earningsRateID": "guid", "trackingItemID": "guid"}
LEAVE_FIELDS = {
    "leaveTypeID": "guid",
    "description": "text",
    "startDate": "date",
    "endDate": "date",
}


class Reasons:
    """The sandbox's texts for a refused field (the specs give one example, "The Date of Birth
    is required.", which these follow)."""

    REQUIRED = "The {label} is required."
    INVALID = "The {label} is not valid."
    NOT_FOUND = "The {label} does not exist."
    BORN_LATER = "The Date of Birth must be in the past."
    END_BEFORE_START = "The End Date must not be before the Start Date."
    PERIOD = "The Start Date and End Date must be one pay period of the payroll calendar."
    TIMESHEET_EXISTS = "A timesheet already exists for this employee and period."
    LINE_DATE = "The Date must be within the timesheet's period."
    NEGATIVE = "The Number Of Units must not be negative."
    NOT_DRAFT = "Only a draft timesheet can be changed."
    NOT_APPROVED = "Only an approved timesheet can be reverted to draft."
    LEAVE_COMPLETED = "Leave that has been processed in a pay run cannot be changed."
    INACTIVE_LEAVE = "The Leave Type is not active."


def _label(name: str) -> str:
    """``dateOfBirth`` -> ``Date Of Birth``; IDs keep their capitals (``Employee ID``)."""
    words, word = [], ""
    for char in name[0].upper() + name[1:]:
        if char.isupper() and word and not word.isupper():
            words.append(word)
            word = ""
        word += char
    return " ".join([*words, word])


class Problems:
    """The fields a write refuses, as the Problem's ``invalidFields``."""

    def __init__(self) -> None:
        self.fields: list[Record] = []

    def add(self, name: str, reason: str) -> None:
        self.fields.append({"name": name, "reason": reason.format(label=_label(name))})

    def answer(self) -> Response:
        """400: the specs' Problem listing every refused field."""
        body = {
            "type": "application/problem+json",
            "title": "Validation error",
            "status": "400",
            "detail": "Validation error occurred.",
            "invalidFields": self.fields,
        }
        return json_answer(body, 400)


def _value(kind: str, raw: Any) -> Any:
    """A sent value as stored (dates ``YYYY-MM-DD``, GUIDs lower case); ValueError if not one."""
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ValueError
        return raw
    if not isinstance(raw, str):
        raise ValueError
    if kind == "date":
        return date.fromisoformat(raw.strip()[:10]).isoformat()
    if kind == "guid":
        return str(uuid.UUID(raw.strip())).lower()
    if kind != "text" and raw not in kind.split("|"):
        raise ValueError
    return raw


def _take(sent: Record, fields: dict[str, str], record: Record, problems: Problems) -> None:
    """Copy the sent ``fields`` into ``record``, each refused that is not of its kind."""
    for name, kind in fields.items():
        if name not in sent:
            continue
        if sent[name] is None:
            record.pop(name, None)
            continue
        try:
            record[name] = _value(kind, sent[name])
        except ValueError:
            record[name] = sent[name]  # refused: kept only so it is not also "required"
            problems.add(name, Reasons.INVALID)


def _required(record: Record, names: tuple[str, ...], problems: Problems) -> None:
    for name in names:
        if record.get(name) in (None, "", {}):
            problems.add(name, Reasons.REQUIRED)


def _dates(record: Record, problems: Problems) -> tuple[date, date] | None:
    """The record's start and end dates, a problem when the end comes first."""
    start, end = record.get("startDate"), record.get("endDate")
    if not start or not end:
        return None
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    if last < first:
        problems.add("endDate", Reasons.END_BEFORE_START)
        return None
    return first, last


class _Write:
    """One write to Payroll UK or NZ: the organisation's region, its records, the moment."""

    def __init__(self, call: ApiRequest) -> None:
        self.call = call
        self.region = REGIONS[call.region]
        self.now = datetime.fromtimestamp(call.ctx.clock.utc_ms() / 1000, tz=UTC)

    @property
    def stamp(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%S")

    def answer(self, key: str, record: Record) -> Response:
        """The specs' envelope with the written object under ``key``."""
        self.call.served(1)
        envelope = {
            "id": str(uuid.uuid4()),
            "providerName": PROVIDER,
            "dateTimeUTC": self.now.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "httpStatusCode": "OK",
        }
        return json_answer({**envelope, key: record})

    def exists(self, name: str, value: Any) -> bool:
        return isinstance(value, str) and self.call.record(name, value) is not None

    def settings(self, name: str) -> Record:
        return self.call.record(name, name.lower()) or {}

    def tracking_options(self) -> set[str]:
        """The options of the category the payroll settings choose for timesheets."""
        wanted = str(self.settings("TrackingCategories").get("timesheetTrackingCategoryID"))
        return {
            str(option.get("TrackingOptionID")).lower()
            for category in self.call.ctx.store.iter_records(
                self.call.tenant_id, "TrackingCategories"
            )
            if str(category.get("TrackingCategoryID")).lower() == wanted.lower()
            for option in category.get("Options") or ()
        }


# -- employees -------------------------------------------------------------------------------


def _employee_fields(write: _Write, sent: Record, record: Record, problems: Problems) -> None:
    _take(sent, write.region.fields, record, problems)
    if "address" in sent:
        address = sent["address"]
        if not isinstance(address, dict):
            problems.add("address", Reasons.INVALID)
        else:
            kept = {name: address[name] for name in write.region.address if name in address}
            record["address"] = kept
            for name in ADDRESS_REQUIRED:
                if not str(kept.get(name) or "").strip():
                    problems.add(f"address.{name}", Reasons.REQUIRED)
    _required(record, write.region.required, problems)
    born = record.get("dateOfBirth")
    if born and date.fromisoformat(born) >= write.now.date():
        problems.add("dateOfBirth", Reasons.BORN_LATER)
    if record.get("email") and not valid_email(str(record["email"])):
        problems.add("email", Reasons.INVALID)
    calendar = record.get("payrollCalendarID")
    if calendar and not write.exists("PayRunCalendars", calendar):
        problems.add("payrollCalendarID", Reasons.NOT_FOUND)
    _dates(record, problems)


def _save_employee(write: _Write, sent: Record, existing: Record | None) -> Response:
    problems = Problems()
    record: Record = dict(existing or {})
    _employee_fields(write, sent, record, problems)
    if problems.fields:
        return problems.answer()
    record.setdefault("employeeID", str(uuid.uuid4()))
    record.setdefault("createdDateUTC", write.stamp)
    record["updatedDateUTC"] = write.stamp
    write.call.save("Employees", record)
    return write.answer("employee", record)


# -- timesheets ------------------------------------------------------------------------------


def _line(write: _Write, sheet: Record, sent: Record, line: Record, problems: Problems) -> None:
    """Check one line (sent anew, or changing ``line``) against its timesheet."""
    _take(sent, LINE_FIELDS, line, problems)
    if "numberOfUnits" in sent:
        try:
            line["numberOfUnits"] = float(Decimal(str(sent["numberOfUnits"])))
        except InvalidOperation:
            problems.add("numberOfUnits", Reasons.INVALID)
    _required(line, ("date", "earningsRateID", "numberOfUnits"), problems)
    if line.get("date") and not sheet["startDate"] <= line["date"] <= sheet["endDate"]:
        problems.add("date", Reasons.LINE_DATE)
    rate = line.get("earningsRateID")
    if rate and not write.exists("EarningsRates", rate):
        problems.add("earningsRateID", Reasons.NOT_FOUND)
    tracking = line.get("trackingItemID")
    if tracking and tracking not in write.tracking_options():
        problems.add("trackingItemID", Reasons.NOT_FOUND)
    if float(line.get("numberOfUnits") or 0) < 0:
        problems.add("numberOfUnits", Reasons.NEGATIVE)
    line.setdefault("timesheetLineID", str(uuid.uuid4()))


def _timesheet_fields(write: _Write, sent: Record, sheet: Record, problems: Problems) -> None:
    _take(sent, TIMESHEET_FIELDS, sheet, problems)
    _required(sheet, tuple(TIMESHEET_FIELDS), problems)
    for name, stored in (("employeeID", "Employees"), ("payrollCalendarID", "PayRunCalendars")):
        if sheet.get(name) and not write.exists(stored, sheet[name]):
            problems.add(name, Reasons.NOT_FOUND)
    period = _dates(sheet, problems)
    calendar = write.call.record("PayRunCalendars", str(sheet.get("payrollCalendarID")))
    if period is None or calendar is None:
        return
    found = pay_period(calendar, period[0])
    if found is not None and found != period:
        problems.add("startDate", Reasons.PERIOD)
    if any(
        other["employeeID"] == sheet.get("employeeID") and other["startDate"] == sheet["startDate"]
        for other in write.call.records("Timesheets")
    ):
        problems.add("startDate", Reasons.TIMESHEET_EXISTS)


def _new_timesheet(write: _Write, sent: Record) -> Response:
    problems = Problems()
    sheet: Record = {"timesheetID": str(uuid.uuid4()), "status": "Draft"}
    _timesheet_fields(write, sent, sheet, problems)
    lines = sent.get("timesheetLines") or []
    if not isinstance(lines, list):
        problems.add("timesheetLines", Reasons.INVALID)
        lines = []
    sheet["timesheetLines"] = []
    for index, line in enumerate(lines):
        at, kept = Problems(), Record()
        _line(write, sheet, line if isinstance(line, dict) else {}, kept, at)
        problems.fields += [
            {**p, "name": f"timesheetLines[{index}].{p['name']}"} for p in at.fields
        ]
        sheet["timesheetLines"].append(kept)
    if problems.fields:
        return problems.answer()
    return _save_timesheet(write, sheet, "timesheet", sheet)


def _save_timesheet(write: _Write, sheet: Record, key: str, answered: Record) -> Response:
    """Store the timesheet with its total, and answer ``answered`` under ``key``."""
    sheet["totalHours"] = float(
        sum((Decimal(str(line["numberOfUnits"])) for line in sheet["timesheetLines"]), Decimal(0))
    )
    sheet["updatedDateUTC"] = write.stamp
    write.call.save("Timesheets", sheet)
    return write.answer(key, answered)


def _draft(write: _Write, timesheet_id: str) -> Record | Response:
    """The path's timesheet when it is a draft: 404 if unknown, 400 if not a draft."""
    sheet = write.call.record("Timesheets", timesheet_id)
    if sheet is None:
        return not_found()
    if sheet.get("status") != "Draft":
        problems = Problems()
        problems.add("status", Reasons.NOT_DRAFT)
        return problems.answer()
    return sheet


def _line_index(lines: list[Record], line_id: str) -> int:
    """Where the line of ``line_id`` is in ``lines``; -1 when it is not there."""
    wanted = line_id.lower()
    return next((i for i, line in enumerate(lines) if line["timesheetLineID"] == wanted), -1)


def _line_write(write: _Write, sent: Record, timesheet_id: str, line_id: str | None) -> Response:
    """Add a line (``line_id`` None) or change one of a draft timesheet."""
    sheet = _draft(write, timesheet_id)
    if isinstance(sheet, Response):
        return sheet
    lines: list[Record] = sheet["timesheetLines"]
    index = len(lines) if line_id is None else _line_index(lines, line_id)
    if index < 0:
        return not_found()
    problems = Problems()
    line = dict(lines[index]) if line_id else {}
    _line(write, sheet, sent, line, problems)
    if problems.fields:
        return problems.answer()
    sheet["timesheetLines"] = [*lines[:index], line, *lines[index + 1 :]]
    return _save_timesheet(write, sheet, "timesheetLine", line)


def _line_delete(write: _Write, timesheet_id: str, line_id: str) -> Response:
    sheet = _draft(write, timesheet_id)
    if isinstance(sheet, Response):
        return sheet
    index = _line_index(sheet["timesheetLines"], line_id)
    if index < 0:
        return not_found()
    line = sheet["timesheetLines"].pop(index)
    _save_timesheet(write, sheet, "timesheetLine", line)
    return json_answer(line)  # the specs answer a deleted line bare, without the envelope


def _move(write: _Write, timesheet_id: str, to: str) -> Response:
    """Approve a draft, or revert an approved timesheet to draft."""
    sheet = write.call.record("Timesheets", timesheet_id)
    if sheet is None:
        return not_found()
    wanted, reason = (
        ("Draft", Reasons.NOT_DRAFT) if to == "Approved" else ("Approved", Reasons.NOT_APPROVED)
    )
    if sheet.get("status") != wanted:
        problems = Problems()
        problems.add("status", reason)
        return problems.answer()
    sheet["status"] = to
    return _save_timesheet(write, sheet, "timesheet", sheet)


# -- leave -----------------------------------------------------------------------------------


def _leave_periods(write: _Write, employee: Record, start: date, end: date) -> list[Record]:
    """The leave's hours (the region's day on every weekday) in each pay period it touches."""
    calendar = write.call.record("PayRunCalendars", str(employee.get("payrollCalendarID")))
    return [
        {
            "periodStartDate": period.start.isoformat(),
            "periodEndDate": period.end.isoformat(),
            "numberOfUnits": float(period.hours),
            "periodStatus": "Approved",
        }
        for period in hours_by_pay_period(calendar, write.call.region, start, end)
    ]


def _completed(leave: Record | None) -> Response | None:
    """The refusal of a change to leave a pay run paid (a ``Completed`` period), if it is."""
    if leave is None or all(p.get("periodStatus") != "Completed" for p in leave["periods"]):
        return None
    problems = Problems()
    problems.add("periods", Reasons.LEAVE_COMPLETED)
    return problems.answer()


def _save_leave(write: _Write, sent: Record, employee: Record, existing: Record | None) -> Response:
    refused = _completed(existing)
    if refused is not None:
        return refused
    problems = Problems()
    leave: Record = dict(existing or {})
    _take(sent, LEAVE_FIELDS, leave, problems)
    _required(leave, tuple(LEAVE_FIELDS), problems)
    leave_type = write.call.record("LeaveTypes", str(leave.get("leaveTypeID") or ""))
    if leave.get("leaveTypeID") and leave_type is None:
        problems.add("leaveTypeID", Reasons.NOT_FOUND)
    elif leave_type is not None and not leave_type.get("isActive", True):
        problems.add("leaveTypeID", Reasons.INACTIVE_LEAVE)
    period = _dates(leave, problems)
    if problems.fields:
        return problems.answer()
    assert period is not None
    leave.setdefault("leaveID", str(uuid.uuid4()))
    leave["employeeID"] = employee["employeeID"]
    leave["periods"] = _leave_periods(write, employee, *period)
    leave["updatedDateUTC"] = write.stamp
    write.call.save("Leave", leave)
    return write.answer("leave", leave)


# -- routes ----------------------------------------------------------------------------------

Handle = Callable[[_Write, Record, dict[str, str]], Response]


def _route(path: str, method: str, handle: Handle) -> BaseRoute:
    """A write route: refused outside Britain and New Zealand as the reads are, its body one
    JSON object (``{}`` for the bodiless ones), run under ``Idempotency-Key``'s rules."""

    async def endpoint(request: Request) -> Response:
        call = ApiRequest(request, PAYROLL_V2, tuple(REGIONS))
        if call.refusal:
            return call.refusal
        raw = await request.body()
        params = dict(request.path_params)

        def run() -> Response:
            sent = json_object(raw) if raw.strip() else {}
            if sent is None:
                return bad_request("The request body must be a JSON object.")
            return handle(_Write(call), sent, params)

        return await idempotent(request, raw, run)

    return Route(PREFIX + path, endpoint, methods=[method])


def _employee_update(write: _Write, sent: Record, ids: dict[str, str]) -> Response:
    existing = write.call.record("Employees", ids["EmployeeID"])
    return not_found() if existing is None else _save_employee(write, sent, existing)


def _employee_leave(write: _Write, ids: dict[str, str]) -> tuple[Record, Record | None] | None:
    """The path's employee and (when the path names one) that employee's leave; None when
    either is unknown."""
    employee = write.call.record("Employees", ids["EmployeeID"])
    if employee is None:
        return None
    if "LeaveID" not in ids:
        return employee, None
    leave = write.call.record("Leave", ids["LeaveID"])
    if leave is None or leave["employeeID"] != employee["employeeID"]:
        return None
    return employee, leave


def _leave(write: _Write, sent: Record, ids: dict[str, str]) -> Response:
    found = _employee_leave(write, ids)
    return not_found() if found is None else _save_leave(write, sent, *found)


def _leave_delete(write: _Write, _: Record, ids: dict[str, str]) -> Response:
    found = _employee_leave(write, ids)
    if found is None or found[1] is None:
        return not_found()
    leave = found[1]
    refused = _completed(leave)
    if refused is not None:
        return refused
    write.call.remove("Leave", leave["leaveID"])
    return write.answer("leave", leave)


_SHEET = "/Timesheets/{TimesheetID}"
routes: list[BaseRoute] = [
    _route("/Employees", "POST", lambda w, sent, _: _save_employee(w, sent, None)),
    _route("/Employees/{EmployeeID}", "PUT", _employee_update),
    _route("/Employees/{EmployeeID}/Leave", "POST", _leave),
    _route("/Employees/{EmployeeID}/Leave/{LeaveID}", "PUT", _leave),
    _route("/Employees/{EmployeeID}/Leave/{LeaveID}", "DELETE", _leave_delete),
    _route("/Timesheets", "POST", lambda w, sent, _: _new_timesheet(w, sent)),
    _route(
        _SHEET + "/Lines",
        "POST",
        lambda w, sent, ids: _line_write(w, sent, ids["TimesheetID"], None),
    ),
    _route(
        _SHEET + "/Lines/{LineID}",
        "PUT",
        lambda w, sent, ids: _line_write(w, sent, ids["TimesheetID"], ids["LineID"]),
    ),
    _route(
        _SHEET + "/Lines/{LineID}",
        "DELETE",
        lambda w, _, ids: _line_delete(w, ids["TimesheetID"], ids["LineID"]),
    ),
    _route(_SHEET + "/Approve", "POST", lambda w, _, ids: _move(w, ids["TimesheetID"], "Approved")),
    _route(
        _SHEET + "/RevertToDraft", "POST", lambda w, _, ids: _move(w, ids["TimesheetID"], "Draft")
    ),
]

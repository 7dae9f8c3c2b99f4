"""The ``payroll_timesheet_days`` stream: one record a day of one employee's hours at one
earnings rate (a time tracker's export), written as Payroll AU timesheets.

Payroll AU keeps one timesheet an employee and pay period, with a line per earnings rate
listing the units of each day. The day records wait for the end of input; then each is placed
in the pay period of its employee's payroll calendar, and each period's days are laid over the
timesheet the organisation already has for it (a day and rate the records name takes their
hours; every other day and rate keeps its units). The timesheets go through the
``payroll_timesheets`` write path: matched by employee and period, created, updated or left
unchanged, audited and rejected as any record is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from typing_extensions import override

from xero_api.dates import parse_datetime
from xero_api.resources import Key, resource_for_stream

from .directory import norm
from .sdk_hooks import StreamSink
from .session import WriteSession

__all__ = ["DAY_STREAM", "TimesheetDaySink", "TimesheetDays"]

DAY_STREAM = "payroll_timesheet_days"
# Days in one pay period of the calendar types with a fixed length.
PERIOD_DAYS = {"WEEKLY": 7, "FORTNIGHTLY": 14, "FOURWEEKLY": 28}
_EMPLOYEES = resource_for_stream("payroll_employees")
_TIMESHEETS = resource_for_stream("payroll_timesheets")
_RATES = resource_for_stream("payroll_earnings_rates")
_CALENDARS = resource_for_stream("payroll_calendars")
_PERIOD_KEY = Key("EmployeeID", "StartDate", "EndDate")
# A day's place: (employee, period start) -> the period's days and its records.
_Period = tuple[str, date]


def _day(value: Any) -> date | None:
    try:
        return parse_datetime(str(value)).date() if value not in (None, "") else None
    except ValueError:
        return None


def _hours(value: Any) -> Decimal | None:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return hours if hours.is_finite() and hours >= 0 else None


class TimesheetDays:
    """One run's day records, turned into timesheets at the end of input."""

    def __init__(self, session: WriteSession, stream_name: str) -> None:
        """Bind the stream to the run's session."""
        self._session = session
        self.name = stream_name
        self._records: list[dict[str, Any]] = []

    @property
    def pending(self) -> int:
        """Day records waiting for the end of input."""
        return len(self._records)

    def take(self, record: dict[str, Any]) -> None:
        """Keep a day record until the end of input."""
        self._records.append(record)

    def finish(self) -> None:
        """At end of input: each pay period's days as one timesheet, written."""
        if not self._records:
            return
        records, self._records = self._records, []
        directory = self._session.directory
        directory.ensure(_EMPLOYEES, Key("Email"), [r.get("EmployeeEmail") for r in records])
        directory.ensure(_EMPLOYEES, Key("EmployeeID"), [r.get("EmployeeID") for r in records])
        directory.ensure(_RATES, Key("Name"), [r.get("EarningsRateName") for r in records])
        periods: dict[_Period, list[tuple[dict[str, Any], date, str, Decimal]]] = {}
        for record in records:
            placed = self._place(record)
            if isinstance(placed, list):
                self._session.reject(self.name, record, placed)
                continue
            employee_id, start, day, rate_id, hours = placed
            periods.setdefault((employee_id, start), []).append((record, day, rate_id, hours))
        directory.ensure(_TIMESHEETS, _PERIOD_KEY, [employee for employee, _ in periods])
        timesheets = [self._timesheet(period, days) for period, days in periods.items()]
        size = self._session.batch_records
        for first in range(0, len(timesheets), size):
            chunk = timesheets[first : first + size]
            self._session.load(self.name, _TIMESHEETS, chunk)

    def _place(self, record: Mapping[str, Any]) -> tuple[str, date, date, str, Decimal] | list[str]:
        """A day record's employee, pay period start, day, rate and hours; or why not."""
        directory = self._session.directory
        problems = []
        employee_id = None
        if record.get("EmployeeID"):
            employee_id = directory.find(_EMPLOYEES, Key("EmployeeID"), record["EmployeeID"])
        elif record.get("EmployeeEmail"):
            employee_id = directory.find(_EMPLOYEES, Key("Email"), record["EmployeeEmail"])
        else:
            problems.append("EmployeeEmail (or EmployeeID): missing")
        if employee_id is None and not problems:
            named = record.get("EmployeeID") or record.get("EmployeeEmail")
            problems.append(f"employee {named!r} matches no employee in the target organisation")
        day = _day(record.get("Date"))
        if day is None:
            problems.append(f"Date {record.get('Date')!r}: not a date")
        hours = _hours(record.get("Hours"))
        if hours is None:
            problems.append(f"Hours {record.get('Hours')!r}: not a number of at least 0")
        rate_id = record.get("EarningsRateID")
        if not rate_id and record.get("EarningsRateName"):
            rate_id = directory.find(_RATES, Key("Name"), record["EarningsRateName"])
            if rate_id is None:
                problems.append(
                    f"EarningsRateName {record['EarningsRateName']!r} matches no earnings rate "
                    "in the target organisation"
                )
        elif not rate_id:
            problems.append("EarningsRateName (or EarningsRateID): missing")
        if problems or employee_id is None or day is None or hours is None or not rate_id:
            return problems
        start = self._period_start(employee_id, day)
        if isinstance(start, str):
            return [start]
        return employee_id, start, day, str(rate_id), hours

    def _period_start(self, employee_id: str, day: date) -> date | str:
        """The first day of the employee's pay period holding ``day``, or why there is none."""
        directory = self._session.directory
        employee = directory.doc(_EMPLOYEES, employee_id) or {}
        calendar_id = employee.get("PayrollCalendarID")
        directory.ensure(_CALENDARS, Key("PayrollCalendarID"), [calendar_id])
        calendar = directory.doc(_CALENDARS, str(calendar_id or "")) or {}
        days = PERIOD_DAYS.get(str(calendar.get("CalendarType")))
        first = _day(calendar.get("StartDate"))
        if days is None or first is None:
            kind = calendar.get("CalendarType") or "no payroll calendar"
            return (
                f"the employee's pay calendar ({kind}) has no fixed-length pay periods: "
                "day records need a weekly, fortnightly or four-weekly calendar"
            )
        return day - timedelta(days=(day - first).days % days)

    def _timesheet(
        self, period: _Period, days: list[tuple[dict[str, Any], date, str, Decimal]]
    ) -> dict[str, Any]:
        """A period's timesheet: the organisation's, with the records' days laid over it."""
        employee_id, start = period
        directory = self._session.directory
        employee = directory.doc(_EMPLOYEES, employee_id) or {}
        calendar = directory.doc(_CALENDARS, str(employee.get("PayrollCalendarID"))) or {}
        length = PERIOD_DAYS[str(calendar.get("CalendarType"))]
        end = start + timedelta(days=length - 1)
        wanted = tuple(norm(v) for v in (employee_id, start.isoformat(), end.isoformat()))
        found = directory.find(_TIMESHEETS, _PERIOD_KEY, wanted, claimed_too=True)
        existing = directory.doc(_TIMESHEETS, found) if found else None
        # Lines by (rate, tracking option); day records name untracked lines.
        lines: dict[tuple[str, str], list[Decimal]] = {}
        for line in (existing or {}).get("TimesheetLines") or ():
            units = [Decimal(str(u)) for u in line.get("NumberOfUnits") or ()]
            spot = (str(line.get("EarningsRateID")).lower(), str(line.get("TrackingItemID") or ""))
            lines[spot] = (units + [Decimal(0)] * length)[:length]
        named: dict[tuple[str, int], Decimal] = {}
        for _, day, rate_id, hours in days:
            place = (rate_id.lower(), (day - start).days)
            named[place] = named.get(place, Decimal(0)) + hours
        for (rate_id, index), hours in named.items():
            lines.setdefault((rate_id, ""), [Decimal(0)] * length)[index] = hours
        return {
            "EmployeeID": employee_id,
            "StartDate": start.isoformat(),
            "EndDate": end.isoformat(),
            "Status": (existing or {}).get("Status") or "DRAFT",
            "TimesheetLines": [
                {"EarningsRateID": rate_id, "NumberOfUnits": units}
                | ({"TrackingItemID": tracking} if tracking else {})
                for (rate_id, tracking), units in lines.items()
            ],
            "_sdc_days": [record for record, *_ in days],
        }


class TimesheetDaySink(StreamSink[TimesheetDays]):
    """Takes the day records of ``payroll_timesheet_days``: see the module docstring."""

    resource = _TIMESHEETS

    @override
    def open_stream(self, session: WriteSession, stream_name: str) -> TimesheetDays:
        """The run's day records (read by their fields, not against a Xero schema)."""
        return TimesheetDays(session, stream_name)

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Keep the day until the end of input."""
        self.stream.take(record)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        """Nothing before the end of input."""

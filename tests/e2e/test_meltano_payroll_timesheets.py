"""A time tracker's CSV export into Payroll AU: `meltano run tap-payroll-timesheets target-xero`
(tap-spreadsheets and a stream map naming the employee by e-mail and the earnings rate by name)
writes one draft timesheet an employee and pay period, each day's hours on its rate's line;
running it again changes nothing.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.meltano_support import REPO, SANDBOX_FLAGS, RecipeRun, sandbox_call
from xero_api.dates import parse_datetime
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

pytestmark = pytest.mark.meltano

SCOPES = f"{ALL_SCOPES} payroll.employees payroll.timesheets payroll.settings"
PAYROLL = "/payroll.xro/1.0"
CSV = REPO / "examples" / "payroll-timesheets" / "timesheet-days.csv"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(**{**SANDBOX_FLAGS, "tenants": 1, "scale": 4, "regions": "AU"}) as running:
        running._tokens = running.authorize(SCOPES)
        yield running


def _call(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    return sandbox_call(sandbox, PAYROLL, method, path, body)


def _day(value: str) -> date:
    return parse_datetime(value).date()


def test_timesheet_day_csv_lands_in_pay_period_timesheets(sandbox: Sandbox, tmp_path: Path) -> None:
    # The employees the hours were tracked for, as they already are in Xero.
    calendar = _call(sandbox, "GET", "/PayrollCalendars")["PayrollCalendars"][0]
    assert calendar["CalendarType"] == "FORTNIGHTLY"
    rates = {
        r["EarningsRateID"]: r["Name"]
        for r in _call(sandbox, "GET", "/PayItems")["PayItems"]["EarningsRates"]
    }
    employees = {}
    for first, last, email in (
        ("Mia", "Harris", "mia.harris@example.com.au"),
        ("Leo", "Tran", "leo.tran@example.com.au"),
    ):
        body = [
            {
                "FirstName": first,
                "LastName": last,
                "DateOfBirth": "1991-04-02",
                "Email": email,
                "PayrollCalendarID": calendar["PayrollCalendarID"],
            }
        ]
        created = _call(sandbox, "POST", "/Employees", body)["Employees"][0]
        employees[created["EmployeeID"]] = email

    recipe = RecipeRun(tmp_path / "project", sandbox, SCOPES, "tap-payroll-timesheets")
    audit = recipe.load()
    # Mia's days fall in two fortnights (from 6 and from 20 October), Leo's in one.
    assert Counter((e["stream"], e["action"]) for e in audit) == {
        ("payroll_timesheet_days", "created"): 3
    }

    expected: dict[tuple[str, date, str], Decimal] = {}
    with CSV.open() as rows:
        for row in csv.DictReader(rows):
            key = (row["employee_email"], date.fromisoformat(row["date"]), row["earnings_rate"])
            expected[key] = expected.get(key, Decimal(0)) + Decimal(row["hours"])
    written: dict[tuple[str, date, str], Decimal] = {}
    sheets = [
        s
        for s in _call(sandbox, "GET", "/Timesheets")["Timesheets"]
        if s["EmployeeID"] in employees
    ]
    assert len(sheets) == 3
    for sheet in sheets:
        start = _day(sheet["StartDate"])
        assert (sheet["Status"], (_day(sheet["EndDate"]) - start).days) == ("DRAFT", 13)
        assert start.isoformat() in ("2026-10-06", "2026-10-20")
        for line in sheet["TimesheetLines"]:
            for offset, units in enumerate(line["NumberOfUnits"]):
                if units:
                    day = date.fromordinal(start.toordinal() + offset)
                    key = (employees[sheet["EmployeeID"]], day, rates[line["EarningsRateID"]])
                    written[key] = written.get(key, Decimal(0)) + Decimal(str(units))
    assert written == expected

    # The same export again (read whole, despite the tap's bookmark): every timesheet is
    # recognised and already says what the rows say; nothing is written.
    again = recipe.load("--full-refresh")
    assert Counter(e["action"] for e in again) == {"unchanged": 3}
    after = [s for s in _call(sandbox, "GET", "/Timesheets")["Timesheets"] if s in sheets]
    assert len(after) == 3

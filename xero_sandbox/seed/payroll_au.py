"""Payroll AU of an Australian Demo Company: ``scale // 20 + 4`` employees on one fortnightly
calendar, paid from 1 July 2025 (the Australian financial year) to the last pay date before
30 September 2026. One posted pay run a fortnight with a payslip per employee, an approved
timesheet per hourly employee and fortnight, a few leave applications, and the pay items, super
funds and settings they use. Dates are ``/Date(ms+0000)/`` as Payroll AU sends them;
``UpdatedDateUTC`` is when each record was last written (pay runs: their payment date)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from xero_sandbox.api_collections import stored_name
from xero_sandbox.catalog import Record
from xero_sandbox.seed.world import Draws, money
from xero_sandbox.store import Store

__all__ = ["seed_payroll_au"]

FIRST_PERIOD = date(2025, 7, 1)
LAST_PAYMENT = date(2026, 9, 30)
_FIRST = ("Olivia", "Jack", "Charlotte", "Noah", "Mia", "William", "Isla", "Lucas", "Amelia")
_LAST = ("Nguyen", "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Martin", "Lee")
_TITLES = ("Barista", "Store Manager", "Bookkeeper", "Sales Assistant", "Warehouse Hand")
_SETUP = datetime(2025, 6, 20, 9, tzinfo=UTC)  # when the payroll was set up
_HIRED = datetime(2025, 6, 25, 10, tzinfo=UTC)  # when the employees were entered, a minute apart


def _ms(moment: datetime | date) -> str:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


@dataclass(frozen=True)
class _PayItemIds:
    """The ids other payroll records refer to, drawn first."""

    ordinary: str
    overtime: str
    allowance: str
    annual: str
    personal: str


def seed_payroll_au(store: Store, tid: str, rng: random.Random, scale: int) -> None:
    """Write one Australian tenant's payroll."""
    draws = Draws(rng)

    def put(name: str, records: list[Record]) -> None:
        store.put_many(tid, stored_name("payroll-au", name), records)

    ids = _PayItemIds(*(draws.uid() for _ in range(5)))
    store.put(tid, stored_name("payroll-au", "PayItems"), _pay_items(draws, ids))
    accounts = {a["Code"]: a for a in store.iter_records(tid, "Accounts")}
    store.put(tid, stored_name("payroll-au", "Settings"), _settings(accounts))
    calendar_id = draws.uid()
    put("PayrollCalendars", [_calendar(calendar_id)])
    funds = _super_funds(draws)
    put("Superfunds", funds)
    employees = [
        _employee(draws, number, ids, calendar_id, funds) for number in range(scale // 20 + 4)
    ]
    pay_runs, payslips, timesheets = _pay_runs(draws, employees, ids, calendar_id)
    leave = _leave_applications(draws, employees, ids)
    for employee in employees:
        del employee["_hourly"], employee["_rate"]
    put("Employees", employees)
    put("PayRuns", pay_runs)
    put("Payslips", payslips)
    put("Timesheets", timesheets)
    put("LeaveApplications", leave)


def _pay_items(draws: Draws, ids: _PayItemIds) -> Record:
    deductions = [
        _deduction_type(draws.uid(), name, reduces, category)
        for name, reduces, category in (
            ("Workplace Giving", True, "WORKPLACEGIVING"),
            ("Union Fees", False, "UNIONFEES"),
        )
    ]
    reimbursement = {
        "ReimbursementTypeID": draws.uid(),
        "Name": "Travel Costs",
        "AccountCode": "493",
        "CurrentRecord": True,
        "UpdatedDateUTC": _ms(_SETUP),
    }
    return {
        "Key": "PayItems",
        "EarningsRates": _earnings_rates(ids),
        "DeductionTypes": deductions,
        "LeaveTypes": _leave_types(ids),
        "ReimbursementTypes": [reimbursement],
    }


def _earnings_rates(ids: _PayItemIds) -> list[Record]:
    earnings = (
        (ids.ordinary, "Ordinary Hours", "ORDINARYTIMEEARNINGS", "RATEPERUNIT", "Hours"),
        (ids.overtime, "Overtime Hours (1.5x)", "OVERTIMEEARNINGS", "MULTIPLE", "Hours"),
        (ids.allowance, "Travel Allowance", "ALLOWANCE", "FIXEDAMOUNT", ""),
    )
    return [
        {
            "EarningsRateID": rate_id,
            "Name": name,
            "AccountCode": "477",
            "TypeOfUnits": units,
            "IsExemptFromTax": False,
            "IsExemptFromSuper": kind == "ALLOWANCE",
            "IsReportableAsW1": True,
            "IsQualifyingEarnings": kind == "ORDINARYTIMEEARNINGS",
            "EarningsType": kind,
            "RateType": rate_type,
            "CurrentRecord": True,
            "UpdatedDateUTC": _ms(_SETUP),
        }
        for rate_id, name, kind, rate_type, units in earnings
    ]


def _deduction_type(deduction_id: str, name: str, reduces: bool, category: str) -> Record:
    return {
        "DeductionTypeID": deduction_id,
        "Name": name,
        "AccountCode": "850",
        "ReducesTax": reduces,
        "ReducesSuper": False,
        "IsExemptFromW1": False,
        "DeductionCategory": category,
        "CurrentRecord": True,
        "UpdatedDateUTC": _ms(_SETUP),
    }


def _leave_types(ids: _PayItemIds) -> list[Record]:
    return [
        {
            "LeaveTypeID": leave_id,
            "Name": name,
            "TypeOfUnits": "Hours",
            "NormalEntitlement": Decimal(entitlement),
            "IsPaidLeave": True,
            "ShowOnPayslip": True,
            "CurrentRecord": True,
            "LeaveCategoryCode": code,
            "SGCExempt": False,
            "IsQualifyingEarnings": True,
            "UpdatedDateUTC": _ms(_SETUP),
        }
        for leave_id, name, entitlement, code in (
            (ids.annual, "Annual Leave", 152, "ANNUALLEAVE"),
            (ids.personal, "Personal/Carer's Leave", 76, "PERSONALSICKCARERSLEAVE"),
        )
    ]


def _settings(accounts: dict[str, Record]) -> Record:
    """The payroll's bank, wages and liability accounts, from the tenant's chart."""
    kinds = (("090", "BANK"), ("477", "EXPENSE"), ("800", "CURRLIAB"))
    return {
        "Key": "Settings",
        "Accounts": [
            {
                "AccountID": accounts[code]["AccountID"],
                "Type": kind,
                "Code": code,
                "Name": accounts[code]["Name"],
            }
            for code, kind in kinds
            if code in accounts
        ],
        "TrackingCategories": {},
        "DaysInPayrollYear": 364,
        "EmployeesAreSTP2": True,
    }


def _calendar(calendar_id: str) -> Record:
    return {
        "PayrollCalendarID": calendar_id,
        "Name": "Fortnightly",
        "CalendarType": "FORTNIGHTLY",
        "StartDate": _ms(FIRST_PERIOD),
        "PaymentDate": _ms(FIRST_PERIOD + timedelta(days=15)),
        "ReferenceDate": _ms(FIRST_PERIOD),
        "UpdatedDateUTC": _ms(_SETUP),
    }


def _super_funds(draws: Draws) -> list[Record]:
    return [
        {
            "SuperFundID": draws.uid(),
            "Type": "REGULATED",
            "Name": product,
            "ABN": abn,
            "USI": usi,
            "UpdatedDateUTC": _ms(_SETUP),
        }
        for abn, usi, product in (
            ("65714394898", "STA0100AU", "Australian Super"),
            ("76641658449", "HOS0100AU", "HESTA"),
        )
    ]


def _employee(
    draws: Draws, number: int, ids: _PayItemIds, calendar_id: str, funds: list[Record]
) -> Record:
    """An employee, two in three paid by the hour (``_hourly`` and ``_rate`` are dropped before
    the employee is written)."""
    rng = draws.rng
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    started = FIRST_PERIOD - timedelta(days=rng.randrange(30, 2000))
    return {
        "EmployeeID": draws.uid(),
        "FirstName": first,
        "LastName": last,
        "DateOfBirth": _ms(date(rng.randrange(1960, 2004), rng.randint(1, 12), 15)),
        "StartDate": _ms(started),
        "Email": f"{first.lower()}.{last.lower()}{number}@example.com.au",
        "Gender": rng.choice(("F", "M", "I")),
        "JobTitle": rng.choice(_TITLES),
        "HomeAddress": {
            "AddressLine1": f"{rng.randrange(1, 300)} George Street",
            "City": "Sydney",
            "Region": "NSW",
            "PostalCode": "2000",
            "Country": "AUSTRALIA",
        },
        "OrdinaryEarningsRateID": ids.ordinary,
        "PayrollCalendarID": calendar_id,
        "IncomeType": "SALARYANDWAGES",
        "EmploymentType": "EMPLOYEE",
        "IsSTP2Qualified": True,
        "Status": "ACTIVE",
        "SuperMemberships": [
            {
                "SuperMembershipID": draws.uid(),
                "SuperFundID": rng.choice(funds)["SuperFundID"],
                "EmployeeNumber": str(rng.randrange(10**6, 10**7)),
            }
        ],
        "UpdatedDateUTC": _ms(_HIRED + timedelta(minutes=number)),
        "_hourly": number % 3 != 0,
        "_rate": Decimal(rng.choice((28, 31, 34, 38, 45))),
    }


def _pay_runs(
    draws: Draws, employees: list[Record], ids: _PayItemIds, calendar_id: str
) -> tuple[list[Record], list[Record], list[Record]]:
    """A posted pay run a fortnight, with its payslips and the hourly employees' timesheets."""
    pay_runs: list[Record] = []
    payslips: list[Record] = []
    timesheets: list[Record] = []
    start = FIRST_PERIOD
    while start + timedelta(days=15) <= LAST_PAYMENT:
        paid = start + timedelta(days=15)
        posted = _ms(datetime(paid.year, paid.month, paid.day, 2, tzinfo=UTC))
        run_id = draws.uid()
        summaries: list[Record] = []
        for employee in employees:
            hourly = employee["_hourly"]
            hours = Decimal(draws.rng.randrange(50, 80)) if hourly else Decimal(76)
            summary, payslip = _payslip(draws, employee, hours, ids, posted)
            summaries.append(summary)
            payslips.append(payslip)
            if hourly:
                timesheets.append(_timesheet(draws, employee, hours, ids, start))
        pay_runs.append(_pay_run(run_id, calendar_id, start, paid, summaries, posted))
        start += timedelta(days=14)
    return pay_runs, payslips, timesheets


def _payslip(
    draws: Draws, employee: Record, hours: Decimal, ids: _PayItemIds, posted: str
) -> tuple[Record, Record]:
    """An employee's payslip of one pay run: the pay run's summary of it, and the payslip."""
    wages = money(hours * employee["_rate"])
    tax = money(wages * Decimal("0.19"))
    superannuation = money(wages * Decimal("0.12"))
    summary: Record = {
        "EmployeeID": employee["EmployeeID"],
        "PayslipID": draws.uid(),
        "FirstName": employee["FirstName"],
        "LastName": employee["LastName"],
        "Wages": wages,
        "Deductions": Decimal("0.00"),
        "Tax": tax,
        "Super": superannuation,
        "Reimbursements": Decimal("0.00"),
        "NetPay": wages - tax,
        "UpdatedDateUTC": posted,
    }
    membership = employee["SuperMemberships"][0]["SuperMembershipID"]
    payslip = {
        **summary,
        "EarningsLines": [
            {
                "EarningsRateID": ids.ordinary,
                "RatePerUnit": employee["_rate"],
                "NumberOfUnits": hours,
            }
        ],
        "TaxLines": [{"TaxTypeName": "PAYG", "Amount": tax}],
        "SuperannuationLines": [
            {
                "SuperMembershipID": membership,
                "ContributionType": "SGC",
                "CalculationType": "STATUTORY",
                "Amount": superannuation,
            }
        ],
    }
    return summary, payslip


def _timesheet(
    draws: Draws, employee: Record, hours: Decimal, ids: _PayItemIds, start: date
) -> Record:
    """The fortnight's hours, up to 8 a weekday."""
    end = start + timedelta(days=13)
    days = [Decimal(0)] * 14
    left = hours
    for day in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11):
        days[day] = min(left, Decimal(8))
        left -= days[day]
    return {
        "TimesheetID": draws.uid(),
        "EmployeeID": employee["EmployeeID"],
        "StartDate": _ms(start),
        "EndDate": _ms(end),
        "Status": "PROCESSED",
        "Hours": hours,
        "TimesheetLines": [{"EarningsRateID": ids.ordinary, "NumberOfUnits": days}],
        "UpdatedDateUTC": _ms(datetime(end.year, end.month, end.day, 6, tzinfo=UTC)),
    }


def _pay_run(
    run_id: str, calendar_id: str, start: date, paid: date, slips: list[Record], posted: str
) -> Record:
    totals = {
        field: sum((slip[field] for slip in slips), Decimal(0))
        for field in ("Wages", "Tax", "Super", "NetPay")
    }
    return {
        "PayRunID": run_id,
        "PayrollCalendarID": calendar_id,
        "PayRunPeriodStartDate": _ms(start),
        "PayRunPeriodEndDate": _ms(start + timedelta(days=13)),
        "PayRunStatus": "POSTED",
        "PaymentDate": _ms(paid),
        "Payslips": slips,
        "Wages": totals["Wages"],
        "Deductions": Decimal("0.00"),
        "Tax": totals["Tax"],
        "Super": totals["Super"],
        "Reimbursement": Decimal("0.00"),
        "NetPay": totals["NetPay"],
        "UpdatedDateUTC": posted,
    }


def _leave_applications(draws: Draws, employees: list[Record], ids: _PayItemIds) -> list[Record]:
    """Five days' leave for about three employees."""
    rng, leave = draws.rng, []
    for employee in employees[:: max(1, len(employees) // 3)]:
        first_day = FIRST_PERIOD + timedelta(days=rng.randrange(30, 400))
        leave.append(
            {
                "LeaveApplicationID": draws.uid(),
                "EmployeeID": employee["EmployeeID"],
                "LeaveTypeID": rng.choice((ids.annual, ids.personal)),
                "Title": "Leave",
                "StartDate": _ms(first_day),
                "EndDate": _ms(first_day + timedelta(days=4)),
                "PayOutType": "DEFAULT",
                "LeavePeriods": [
                    {"NumberOfUnits": Decimal("38.0000"), "LeavePeriodStatus": "PROCESSED"}
                ],
                "UpdatedDateUTC": _ms(datetime.combine(first_day, datetime.min.time(), UTC)),
            }
        )
    return leave

"""Payroll AU demo data for an Australian Demo Company: deterministic, grown by ``--scale``.

``scale // 20 + 4`` employees on one fortnightly calendar, paid from 1 July 2025 (the Australian
financial year) to the last pay date before 30 September 2026: one posted pay run a fortnight
with a payslip per employee, one approved timesheet per hourly employee and fortnight, a few leave
applications, three earnings rates, two deduction types, two leave types, a reimbursement type,
two super funds and the payroll settings. Dates are ``/Date(ms+0000)/`` as Payroll AU sends them;
``UpdatedDateUTC`` is the time each record was last written (pay runs: their payment date).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from xero_sandbox.apis.table import stored_name
from xero_sandbox.store import Store

__all__ = ["seed_payroll_au"]

Record = dict[str, Any]

FIRST_PERIOD = date(2025, 7, 1)
LAST_PAYMENT = date(2026, 9, 30)
_FIRST = ("Olivia", "Jack", "Charlotte", "Noah", "Mia", "William", "Isla", "Lucas", "Amelia")
_LAST = ("Nguyen", "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Martin", "Lee")
_TITLES = ("Barista", "Store Manager", "Bookkeeper", "Sales Assistant", "Warehouse Hand")


def _ms(moment: datetime | date) -> str:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def seed_payroll_au(store: Store, tid: str, rng: random.Random, scale: int) -> None:
    """Write one Australian tenant's payroll."""

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def put(name: str, records: list[Record]) -> None:
        store.put_many(tid, stored_name("payroll-au", name), records)

    setup = _ms(datetime(2025, 6, 20, 9, tzinfo=UTC))
    ordinary, overtime, allowance = uid(), uid(), uid()
    annual, personal = uid(), uid()
    earnings = [
        (ordinary, "Ordinary Hours", "ORDINARYTIMEEARNINGS", "RATEPERUNIT", "Hours"),
        (overtime, "Overtime Hours (1.5x)", "OVERTIMEEARNINGS", "MULTIPLE", "Hours"),
        (allowance, "Travel Allowance", "ALLOWANCE", "FIXEDAMOUNT", ""),
    ]
    pay_items = {
        "Key": "PayItems",
        "EarningsRates": [
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
                "UpdatedDateUTC": setup,
            }
            for rate_id, name, kind, rate_type, units in earnings
        ],
        "DeductionTypes": [
            {
                "DeductionTypeID": uid(),
                "Name": name,
                "AccountCode": "850",
                "ReducesTax": reduces,
                "ReducesSuper": False,
                "IsExemptFromW1": False,
                "DeductionCategory": category,
                "CurrentRecord": True,
                "UpdatedDateUTC": setup,
            }
            for name, reduces, category in (
                ("Workplace Giving", True, "WORKPLACEGIVING"),
                ("Union Fees", False, "UNIONFEES"),
            )
        ],
        "LeaveTypes": [
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
                "UpdatedDateUTC": setup,
            }
            for leave_id, name, entitlement, code in (
                (annual, "Annual Leave", 152, "ANNUALLEAVE"),
                (personal, "Personal/Carer's Leave", 76, "PERSONALSICKCARERSLEAVE"),
            )
        ],
        "ReimbursementTypes": [
            {
                "ReimbursementTypeID": uid(),
                "Name": "Travel Costs",
                "AccountCode": "493",
                "CurrentRecord": True,
                "UpdatedDateUTC": setup,
            }
        ],
    }
    store.put(tid, stored_name("payroll-au", "PayItems"), pay_items)
    accounts = {a["Code"]: a for a in store.iter_records(tid, "Accounts")}
    store.put(
        tid,
        stored_name("payroll-au", "Settings"),
        {
            "Key": "Settings",
            "Accounts": [
                {
                    "AccountID": accounts[code]["AccountID"],
                    "Type": kind,
                    "Code": code,
                    "Name": accounts[code]["Name"],
                }
                for code, kind in (
                    ("090", "BANK"),
                    ("477", "EXPENSE"),
                    ("800", "CURRLIAB"),
                )
                if code in accounts
            ],
            "TrackingCategories": {},
            "DaysInPayrollYear": 364,
            "EmployeesAreSTP2": True,
        },
    )
    calendar_id = uid()
    put(
        "PayrollCalendars",
        [
            {
                "PayrollCalendarID": calendar_id,
                "Name": "Fortnightly",
                "CalendarType": "FORTNIGHTLY",
                "StartDate": _ms(FIRST_PERIOD),
                "PaymentDate": _ms(FIRST_PERIOD + timedelta(days=15)),
                "ReferenceDate": _ms(FIRST_PERIOD),
                "UpdatedDateUTC": setup,
            }
        ],
    )
    funds = [
        {
            "SuperFundID": uid(),
            "Type": "REGULATED",
            "Name": product,
            "ABN": abn,
            "USI": usi,
            "UpdatedDateUTC": setup,
        }
        for abn, usi, product in (
            ("65714394898", "STA0100AU", "Australian Super"),
            ("76641658449", "HOS0100AU", "HESTA"),
        )
    ]
    put("Superfunds", funds)
    employees: list[Record] = []
    for number in range(scale // 20 + 4):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        hourly = number % 3 != 0
        started = FIRST_PERIOD - timedelta(days=rng.randrange(30, 2000))
        employees.append(
            {
                "EmployeeID": uid(),
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
                "OrdinaryEarningsRateID": ordinary,
                "PayrollCalendarID": calendar_id,
                "IncomeType": "SALARYANDWAGES",
                "EmploymentType": "EMPLOYEE",
                "IsSTP2Qualified": True,
                "Status": "ACTIVE",
                "SuperMemberships": [
                    {
                        "SuperMembershipID": uid(),
                        "SuperFundID": rng.choice(funds)["SuperFundID"],
                        "EmployeeNumber": str(rng.randrange(10**6, 10**7)),
                    }
                ],
                "UpdatedDateUTC": _ms(datetime(2025, 6, 25, 10, number, tzinfo=UTC)),
                "_hourly": hourly,
                "_rate": Decimal(rng.choice((28, 31, 34, 38, 45))),
            }
        )
    pay_runs: list[Record] = []
    payslips: list[Record] = []
    timesheets: list[Record] = []
    start = FIRST_PERIOD
    while start + timedelta(days=15) <= LAST_PAYMENT:
        end, paid = start + timedelta(days=13), start + timedelta(days=15)
        posted = _ms(datetime(paid.year, paid.month, paid.day, 2, tzinfo=UTC))
        run_id = uid()
        summaries: list[Record] = []
        totals = dict.fromkeys(("Wages", "Deductions", "Tax", "Super", "NetPay"), Decimal(0))
        for employee in employees:
            hours = Decimal(rng.randrange(50, 80)) if employee["_hourly"] else Decimal(76)
            wages = _money(hours * employee["_rate"])
            tax = _money(wages * Decimal("0.19"))
            superannuation = _money(wages * Decimal("0.12"))
            slip: Record = {
                "EmployeeID": employee["EmployeeID"],
                "PayslipID": uid(),
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
            summaries.append(slip)
            for field in ("Wages", "Tax", "Super", "NetPay"):
                totals[field] += slip[field]
            payslips.append(
                {
                    **slip,
                    "EarningsLines": [
                        {
                            "EarningsRateID": ordinary,
                            "RatePerUnit": employee["_rate"],
                            "NumberOfUnits": hours,
                        }
                    ],
                    "TaxLines": [{"TaxTypeName": "PAYG", "Amount": tax}],
                    "SuperannuationLines": [
                        {
                            "SuperMembershipID": employee["SuperMemberships"][0][
                                "SuperMembershipID"
                            ],
                            "ContributionType": "SGC",
                            "CalculationType": "STATUTORY",
                            "Amount": superannuation,
                        }
                    ],
                }
            )
            if employee["_hourly"]:
                days = [Decimal(0)] * 14
                left = hours
                for day in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11):
                    days[day] = min(left, Decimal(8))
                    left -= days[day]
                timesheets.append(
                    {
                        "TimesheetID": uid(),
                        "EmployeeID": employee["EmployeeID"],
                        "StartDate": _ms(start),
                        "EndDate": _ms(end),
                        "Status": "PROCESSED",
                        "Hours": hours,
                        "TimesheetLines": [{"EarningsRateID": ordinary, "NumberOfUnits": days}],
                        "UpdatedDateUTC": _ms(
                            datetime(end.year, end.month, end.day, 6, tzinfo=UTC)
                        ),
                    }
                )
        pay_runs.append(
            {
                "PayRunID": run_id,
                "PayrollCalendarID": calendar_id,
                "PayRunPeriodStartDate": _ms(start),
                "PayRunPeriodEndDate": _ms(end),
                "PayRunStatus": "POSTED",
                "PaymentDate": _ms(paid),
                "Payslips": summaries,
                "Wages": totals["Wages"],
                "Deductions": Decimal("0.00"),
                "Tax": totals["Tax"],
                "Super": totals["Super"],
                "Reimbursement": Decimal("0.00"),
                "NetPay": totals["NetPay"],
                "UpdatedDateUTC": posted,
            }
        )
        start += timedelta(days=14)
    leave: list[Record] = []
    for employee in employees[:: max(1, len(employees) // 3)]:
        first_day = FIRST_PERIOD + timedelta(days=rng.randrange(30, 400))
        leave.append(
            {
                "LeaveApplicationID": uid(),
                "EmployeeID": employee["EmployeeID"],
                "LeaveTypeID": rng.choice((annual, personal)),
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
    for employee in employees:
        del employee["_hourly"], employee["_rate"]
    put("Employees", employees)
    put("PayRuns", pay_runs)
    put("Payslips", payslips)
    put("Timesheets", timesheets)
    put("LeaveApplications", leave)

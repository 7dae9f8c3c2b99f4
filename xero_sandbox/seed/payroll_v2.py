"""Payroll UK or NZ (``payroll.xro/2.0``) of a British or New Zealand Demo Company: the models of
its region, camelCase with ISO dates as that API sends them.

``scale // 20 + 4`` employees (at most 60) on one calendar (monthly in the UK, fortnightly in
New Zealand), paid from 1 April 2025 to the last pay date before 30 September 2026: one posted
pay run a period with a payslip per employee (wages, income tax at 20 % (UK PAYE) or 17.5 %
(NZ PAYE), employer pension or KiwiSaver at 3 %), an approved timesheet per hourly employee and
period, a few leave requests, each employee's salary and wages, tax, payment method, pay
template, leave types and balances (and, in the UK, statutory leave; in New Zealand, working
patterns), and the earnings rates, deductions, benefits or superannuation, earnings orders or
statutory deductions, leave types, reimbursements and settings they use. Everything is drawn
from the caller's generator, so the other data of the tenant stays what it was; the cost grows
with the scale up to the cap, then stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from xero_sandbox.api_collections import PAYROLL_V2, stored_name
from xero_sandbox.catalog import Record
from xero_sandbox.seed.world import Draws, money
from xero_sandbox.store import Store

__all__ = ["seed_payroll_v2"]

# A Demo Company's payroll stays a small business's: past 60 employees (scale 1,120) it stops
# growing, so a large seed (100,000 invoices) is not a third payroll records.
MAX_EMPLOYEES = 60
FIRST_PERIOD = date(2025, 4, 1)
LAST_PAYMENT = date(2026, 9, 30)
_SETUP = datetime(2025, 3, 20, 9, tzinfo=UTC)  # when the payroll was set up
_HIRED = datetime(2025, 3, 25, 10, tzinfo=UTC)  # when the employees were entered
_FIRST = ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Leo", "Ruby")
_LAST = ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Walker", "Roberts", "Patel", "Ngata")
_TITLES = ("Barista", "Shop Manager", "Bookkeeper", "Sales Assistant", "Warehouse Operative")


@dataclass(frozen=True)
class _Place:
    """What differs between the two regions' payrolls."""

    street: str
    city: str
    post_code: str
    country: str
    calendar: str  # calendarType
    period_days: int  # 0: monthly
    tax_rate: Decimal
    tax_name: str
    pension_name: str
    email_domain: str


_PLACES = {
    "UK": _Place(
        "High Street",
        "London",
        "EC1A 1BB",
        "UNITED KINGDOM",
        "Monthly",
        0,
        Decimal("0.20"),
        "PAYE",
        "Workplace Pension",
        "example.co.uk",
    ),
    "NZ": _Place(
        "Lambton Quay",
        "Wellington",
        "6011",
        "NEW ZEALAND",
        "Fortnightly",
        14,
        Decimal("0.175"),
        "PAYE",
        "KiwiSaver",
        "example.co.nz",
    ),
}


def _iso(moment: datetime) -> str:
    """A UTC timestamp as the specs' examples send it: no zone (``2019-09-24T05:08:45``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class _Items:
    """The pay items other records refer to, drawn first."""

    ordinary: str
    overtime: str
    allowance: str
    holiday: str
    sick: str
    calendar: str
    deduction: str
    pension: str


class _Payroll:
    """One tenant's payroll as it is drawn: the region, the draws and the records so far."""

    def __init__(self, store: Store, tid: str, draws: Draws, region: str) -> None:
        self.store, self.tid, self.draws, self.region = store, tid, draws, region
        self.place = _PLACES[region]
        self.ids = _Items(*(draws.uid() for _ in range(8)))
        self.accounts = {a["Code"]: a for a in store.iter_records(tid, "Accounts")}

    def put(self, name: str, records: list[Record]) -> None:
        self.store.put_many(self.tid, stored_name(PAYROLL_V2, name), records)

    def account(self, code: str) -> str:
        return str(self.accounts[code]["AccountID"])

    # -- settings and pay items ----------------------------------------------------------

    def settings(self) -> None:
        kinds = [("090", "BANK"), ("477", "WAGESEXPENSE"), ("800", "WAGESPAYABLE")]
        kinds.append(
            ("825", "PAYELIABILITY") if "825" in self.accounts else ("800", "PAYELIABILITY")
        )
        if self.region == "UK":
            kinds.append(("477", "EMPLOYERSNIC"))
        accounts = [
            {
                "accountID": self.account(code),
                "type": kind,
                "code": code,
                "name": self.accounts[code]["Name"],
            }
            for code, kind in kinds
            if code in self.accounts
        ]
        self.put("Settings", [{"Key": "settings", "accounts": accounts}])
        tracking = list(self.store.iter_records(self.tid, "TrackingCategories"))
        groups = tracking[0]["TrackingCategoryID"] if tracking else self.draws.uid()
        sheets = tracking[-1]["TrackingCategoryID"] if tracking else self.draws.uid()
        self.put(
            "TrackingCategories",
            [
                {
                    "Key": "trackingcategories",
                    "employeeGroupsTrackingCategoryID": groups,
                    "timesheetTrackingCategoryID": sheets,
                }
            ],
        )

    def pay_items(self) -> None:
        ids, expense, liability = self.ids, self.account("477"), self.account("800")
        rates = (
            (ids.ordinary, "Ordinary Hours", "RegularEarnings", "RatePerUnit", "Hours"),
            (
                ids.overtime,
                "Overtime Hours (1.5x)",
                "OvertimeEarnings",
                "MultipleOfOrdinaryEarningsRate",
                "Hours",
            ),
            (ids.allowance, "Travel Allowance", "Allowance", "FixedAmount", "Fixed"),
        )
        self.put(
            "EarningsRates",
            [
                {
                    "earningsRateID": rate_id,
                    "name": name,
                    "earningsType": kind,
                    "rateType": rate_type,
                    "typeOfUnits": units,
                    "currentRecord": True,
                    "expenseAccountID": expense,
                    **(
                        {"multipleOfOrdinaryEarningsRate": 1.5}
                        if kind == "OvertimeEarnings"
                        else {}
                    ),
                    **({"fixedAmount": 50.0} if kind == "Allowance" else {}),
                }
                for rate_id, name, kind, rate_type, units in rates
            ],
        )
        category = "SalarySacrifice" if self.region == "UK" else "PayrollGiving"
        self.put(
            "Deductions",
            [
                {
                    "deductionId": ids.deduction,
                    "deductionName": "Charity Giving" if self.region == "NZ" else "Cycle to Work",
                    "deductionCategory": category,
                    "liabilityAccountId": liability,
                    "currentRecord": True,
                    "standardAmount": 20.0,
                }
            ],
        )
        pension: Record = {
            "id": ids.pension,
            "name": self.place.pension_name,
            "liabilityAccountId": liability,
            "expenseAccountId": expense,
            "standardAmount": 0.0,
            "percentage": 3.0,
            "currentRecord": True,
        }
        if self.region == "UK":
            pension.update(category="StakeholderPension", calculationType="PercentageOfGross")
            pension.update(subjectToNIC=False, subjectToPension=False, subjectToTax=False)
            self.put("Benefits", [pension])
            order = {"statutoryDeductionCategory": "PriorityOrder", "name": "Council Tax Order"}
            self.put("EarningsOrders", [self._order(order, liability)])
        else:
            pension.update(category="KiwiSaver", calculationTypeNZ="PercentageOfTaxableEarnings")
            self.put("Superannuations", [pension])
            order = {"statutoryDeductionCategory": "StudentLoan", "name": "Student Loan"}
            self.put("StatutoryDeductions", [self._order(order, liability)])
        self.put("Reimbursements", [self._reimbursement()])
        self.put("LeaveTypes", self._leave_types())

    def _order(self, order: Record, liability: str) -> Record:
        return {
            "id": self.draws.uid(),
            **order,
            "liabilityAccountId": liability,
            "currentRecord": True,
        }

    def _reimbursement(self) -> Record:
        record: Record = {
            "reimbursementID": self.draws.uid(),
            "name": "Travel Costs",
            "accountID": self.account("493") if "493" in self.accounts else self.account("477"),
            "currentRecord": True,
        }
        if self.region == "NZ":
            record.update(reimbursementCategory="NoGST", calculationType="FixedAmount")
        return record

    def _leave_types(self) -> list[Record]:
        kinds = (
            (self.ids.holiday, "Holiday", True, False),
            (self.ids.sick, "Sick Leave", True, True),
        )
        records = []
        for leave_id, name, paid, statutory in kinds:
            record: Record = {
                "leaveTypeID": leave_id,
                "name": name if self.region == "UK" else f"{name} (NZ)",
                "isPaidLeave": paid,
                "showOnPayslip": True,
                "updatedDateUTC": _iso(_SETUP),
                "isActive": True,
            }
            if self.region == "UK":
                record.update(leaveID=leave_id, isStatutoryLeave=statutory)
            else:
                record.update(typeOfUnits="Hours", typeOfUnitsToAccrue="Hours")
            records.append(record)
        inactive: Record = {
            "leaveTypeID": self.draws.uid(),
            "name": "Study Leave",
            "isPaidLeave": False,
            "showOnPayslip": False,
            "updatedDateUTC": _iso(_SETUP + timedelta(days=30)),
            "isActive": False,
        }
        return [*records, inactive]

    def calendar(self) -> None:
        first_end = self._period_end(FIRST_PERIOD)
        self.put(
            "PayRunCalendars",
            [
                {
                    "payrollCalendarID": self.ids.calendar,
                    "name": self.place.calendar,
                    "calendarType": self.place.calendar,
                    "periodStartDate": FIRST_PERIOD.isoformat(),
                    "periodEndDate": first_end.isoformat(),
                    "paymentDate": first_end.isoformat(),
                    "updatedDateUTC": _iso(_SETUP),
                }
            ],
        )

    def _period_end(self, start: date) -> date:
        if self.place.period_days:
            return start + timedelta(days=self.place.period_days - 1)
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return following - timedelta(days=1)

    # -- employees -------------------------------------------------------------------------

    def employee(self, number: int) -> tuple[Record, bool, Decimal]:
        """An employee, whether paid by the hour, and the hourly rate."""
        rng, place = self.draws.rng, self.place
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        started = FIRST_PERIOD - timedelta(days=rng.randrange(30, 2000))
        entered = _HIRED + timedelta(minutes=number)
        record: Record = {
            "employeeID": self.draws.uid(),
            "title": rng.choice(("Mr", "Ms", "Mx")),
            "firstName": first,
            "lastName": last,
            "dateOfBirth": date(rng.randrange(1960, 2004), rng.randint(1, 12), 15).isoformat(),
            "address": {
                "addressLine1": f"{rng.randrange(1, 300)} {place.street}",
                "city": place.city,
                "postCode": place.post_code,
                "countryName": place.country,
            },
            "email": f"{first.lower()}.{last.lower()}{number}@{place.email_domain}",
            "gender": rng.choice(("F", "M")),
            "phoneNumber": f"0{rng.randrange(10**8, 10**9)}",
            "startDate": started.isoformat(),
            "payrollCalendarID": self.ids.calendar,
            "createdDateUTC": _iso(entered),
            "updatedDateUTC": _iso(entered),
        }
        if self.region == "UK":
            # One in five works at a freeport (category F, with the workplace's postcode).
            letter = "F" if number % 5 == 4 else rng.choice(("A", "A", "A", "M", "H"))
            if letter == "F":
                record["niCategories"] = [{"niCategory": "F", "workplacePostcode": "SS17 9ER"}]
            record.update(
                niCategory=letter,
                nationalInsuranceNumber=f"QQ{rng.randrange(10**5, 10**6)}{number % 10}C",
                isOffPayrollWorker=number % 7 == 6,
                contracts=[
                    {
                        "startDate": started.isoformat(),
                        "employmentStatus": "Employee",
                        "contractType": "FullTime" if number % 3 == 0 else "PartTime",
                        "isFixedTerm": False,
                    }
                ],
            )
        else:
            record.update(jobTitle=rng.choice(_TITLES), engagementType="Permanent")
        return record, number % 3 != 0, Decimal(rng.choice((22, 24, 27, 31, 36)))

    def details(self, employee: Record, hourly: bool, rate: Decimal) -> Record:
        """The one-object answers about an employee (tax, payment method, pay template,
        opening balances, leave types and balances, working pattern), kept together."""
        rng, eid = self.draws.rng, employee["employeeID"]
        template = {
            "payTemplateEarningID": self.draws.uid(),
            "earningsRateID": self.ids.ordinary,
            "name": "Ordinary Hours",
            "ratePerUnit": float(rate),
            "numberOfUnits": 0.0 if hourly else 37.5,
        }
        account = {
            "accountName": f"{employee['firstName']} {employee['lastName']}",
            "accountNumber": str(rng.randrange(10**7, 10**8)),
            "sortCode": f"{rng.randrange(10, 99)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}",
        }
        balance = [
            {
                "name": name,
                "leaveTypeID": leave_id,
                "balance": float(rng.randrange(8, 160)),
                "typeOfUnits": "Hours",
            }
            for name, leave_id in (("Holiday", self.ids.holiday), ("Sick Leave", self.ids.sick))
        ]
        record: Record = {
            "employeeID": eid,
            "paymentMethod": {"paymentMethod": "Electronically", "bankAccounts": [account]},
            "payTemplate": {"employeeID": eid, "earningTemplates": [template]},
            "leaveBalances": balance,
        }
        if self.region == "UK":
            record["tax"] = {
                "starterType": "New Employee with P45",
                "taxCode": "1257L",
                "w1M1": False,
                "previousTaxablePay": 0.0,
                "previousTaxPaid": 0.0,
                "studentLoanDeduction": "None",
                "hasPostGraduateLoans": False,
                "isDirector": False,
            }
            record["openingBalances"] = {"statutorySickPay": 0.0, "priorEmployeeNumber": 0.0}
            record["leaveTypes"] = [
                {
                    "leaveTypeID": self.ids.holiday,
                    "scheduleOfAccrual": "BeginningOfCalendarYear",
                    "hoursAccruedAnnually": 210.0,
                },
                {
                    "leaveTypeID": self.ids.sick,
                    "scheduleOfAccrual": "OnAnniversaryDate",
                    "hoursAccruedAnnually": 40.0,
                },
            ]
        else:
            record["tax"] = {
                "irdNumber": f"{rng.randrange(10**7, 10**8)}",
                "taxCode": "M",
                "isEligibleForKiwiSaver": True,
                "esctRatePercentage": 17.5,
                "kiwiSaverContributions": "MakeContributions",
                "kiwiSaverEmployeeContributionRatePercentage": 3.0,
                "kiwiSaverEmployerContributionRatePercentage": 3.0,
                "hasStudentLoanBalance": False,
            }
            record["openingBalances"] = [
                {
                    "periodEndDate": "2025-03-31",
                    "daysPaid": 0,
                    "unpaidWeeks": 0,
                    "grossEarnings": 0.0,
                }
            ]
            record["leaveTypes"] = [
                {
                    "leaveTypeID": self.ids.holiday,
                    "scheduleOfAccrual": "AnnuallyAfter6Months",
                    "unitsAccruedAnnually": 160.0,
                    "typeOfUnitsToAccrue": "Hours",
                },
                {
                    "leaveTypeID": self.ids.sick,
                    "scheduleOfAccrual": "AnnuallyAfter6Months",
                    "unitsAccruedAnnually": 80.0,
                    "typeOfUnitsToAccrue": "Hours",
                },
            ]
            pattern_id = self.draws.uid()
            day = 0.0 if hourly else 7.5
            week = dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), day)
            record["workingPattern"] = {
                "payeeWorkingPatternID": pattern_id,
                "effectiveFrom": employee["startDate"],
                "workingWeeks": [{**week, "saturday": 0.0, "sunday": 0.0}],
            }
        return record

    def salary(self, employee: Record, hourly: bool, rate: Decimal) -> Record:
        hours = 37.5 if not hourly else 20.0
        return {
            "employeeID": employee["employeeID"],
            "salaryAndWagesID": self.draws.uid(),
            "earningsRateID": self.ids.ordinary,
            "numberOfUnitsPerWeek": hours,
            "ratePerUnit": float(rate),
            "numberOfUnitsPerDay": hours / 5,
            "effectiveFrom": employee["startDate"],
            "annualSalary": float(money(rate * Decimal(str(hours)) * 52)),
            "status": "Active",
            "paymentType": "Hourly" if hourly else "Salary",
            **(
                {"daysPerWeek": 5.0, "workPatternType": "RegularWeek"}
                if self.region == "NZ"
                else {}
            ),
        }

    # -- pay runs ----------------------------------------------------------------------------

    def pay_runs(self, staff: list[tuple[Record, bool, Decimal]]) -> None:
        """A posted pay run a period, its payslips, and the hourly employees' timesheets."""
        runs: list[Record] = []
        slips: list[Record] = []
        sheets: list[Record] = []
        start = FIRST_PERIOD
        while (end := self._period_end(start)) <= LAST_PAYMENT:
            run_id = self.draws.uid()
            run_slips = []
            for employee, hourly, rate in staff:
                weeks = Decimal((end - start).days + 1) / 7
                hours = (
                    Decimal(self.draws.rng.randrange(30, 40)) * weeks
                    if hourly
                    else Decimal("37.5") * weeks
                )
                hours = hours.quantize(Decimal("0.5"))
                run_slips.append(self._payslip(run_id, employee, hours, rate, end))
                if hourly:
                    sheets.append(self._timesheet(employee, hours, start, end))
            slips += run_slips
            runs.append(self._pay_run(run_id, start, end, run_slips))
            start = end + timedelta(days=1)
        self.put("PayRuns", runs)
        self.put("Payslips", slips)
        self.put("Timesheets", sheets)

    def _payslip(
        self, run_id: str, employee: Record, hours: Decimal, rate: Decimal, paid: date
    ) -> Record:
        wages = money(hours * rate)
        tax = money(wages * self.place.tax_rate)
        pension = money(wages * Decimal("0.03"))
        slip: Record = {
            "paySlipID": self.draws.uid(),
            "employeeID": employee["employeeID"],
            "payRunID": run_id,
            "lastEdited": paid.isoformat(),
            "firstName": employee["firstName"],
            "lastName": employee["lastName"],
            "totalEarnings": float(wages),
            "grossEarnings": float(wages),
            "totalPay": float(wages - tax),
            "totalEmployerTaxes": 0.0,
            "totalEmployeeTaxes": float(tax),
            "totalDeductions": 0.0,
            "totalReimbursements": 0.0,
            "paymentMethod": "Electronically",
            "earningsLines": [
                {
                    "earningsLineID": self.draws.uid(),
                    "earningsRateID": self.ids.ordinary,
                    "displayName": "Ordinary Hours",
                    "ratePerUnit": float(rate),
                    "numberOfUnits": float(hours),
                    "amount": float(wages),
                    "isLinkedToTimesheet": False,
                }
            ],
            "employeeTaxLines": [
                {
                    "taxLineID": self.draws.uid(),
                    "description": self.place.tax_name,
                    "isEmployerTax": False,
                    "amount": float(tax),
                }
            ],
            "paymentLines": [{"paymentLineID": self.draws.uid(), "amount": float(wages - tax)}],
        }
        if self.region == "UK":
            slip.update(totalBenefits=float(pension), totalCourtOrders=0.0)
        else:
            slip.update(totalSuperannuation=float(pension), totalStatutoryDeductions=0.0)
            slip["taxSettings"] = {"periodUnits": 2.0, "periodType": "weeks", "taxCode": "M"}
        return slip

    def _timesheet(self, employee: Record, hours: Decimal, start: date, end: date) -> Record:
        """The period's hours on its weekdays, up to 8 a day."""
        lines, left, day = [], hours, start
        while left > 0 and day <= end:
            if day.weekday() < 5:
                units = min(left, Decimal(8))
                lines.append(
                    {
                        "timesheetLineID": self.draws.uid(),
                        "date": day.isoformat(),
                        "earningsRateID": self.ids.ordinary,
                        "numberOfUnits": float(units),
                    }
                )
                left -= units
            day += timedelta(days=1)
        approved = datetime(end.year, end.month, end.day, 6, tzinfo=UTC)
        return {
            "timesheetID": self.draws.uid(),
            "payrollCalendarID": self.ids.calendar,
            "employeeID": employee["employeeID"],
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "status": "Approved",
            "totalHours": float(hours),
            "updatedDateUTC": _iso(approved),
            "timesheetLines": lines,
        }

    def _pay_run(self, run_id: str, start: date, end: date, slips: list[Record]) -> Record:
        pay = sum((Decimal(str(s["totalPay"])) for s in slips), Decimal(0))
        cost = sum((Decimal(str(s["grossEarnings"])) for s in slips), Decimal(0))
        return {
            "payRunID": run_id,
            "payrollCalendarID": self.ids.calendar,
            "periodStartDate": start.isoformat(),
            "periodEndDate": end.isoformat(),
            "paymentDate": end.isoformat(),
            "totalCost": float(money(cost)),
            "totalPay": float(money(pay)),
            "payRunStatus": "Posted",
            "payRunType": "Scheduled",
            "calendarType": self.place.calendar,
            "postedDateTime": (end - timedelta(days=2)).isoformat(),
        }

    # -- leave ----------------------------------------------------------------------------------

    def leave(self, employees: list[Record]) -> None:
        """A week's holiday for about a third of the employees (UK: a statutory sick leave and a
        statutory paternity leave)."""
        rng, leave, statutory = self.draws.rng, [], []
        for number, employee in enumerate(employees[:: max(1, len(employees) // 3)]):
            first = FIRST_PERIOD + timedelta(days=rng.randrange(30, 400))
            last = first + timedelta(days=4)
            leave.append(
                {
                    "employeeID": employee["employeeID"],
                    "leaveID": self.draws.uid(),
                    "leaveTypeID": self.ids.holiday,
                    "description": "Holiday",
                    "startDate": first.isoformat(),
                    "endDate": last.isoformat(),
                    "periods": [
                        {
                            "periodStartDate": first.isoformat(),
                            "periodEndDate": last.isoformat(),
                            "numberOfUnits": 37.5,
                            "periodStatus": "Completed" if last < LAST_PAYMENT else "Approved",
                        }
                    ],
                    "updatedDateUTC": _iso(
                        datetime.combine(first, datetime.min.time(), UTC) - timedelta(days=14)
                    ),
                }
            )
            if self.region == "UK" and number == 0:
                statutory.append(self._sick_leave(employee, first + timedelta(days=60)))
            if self.region == "UK" and number == 1:
                statutory.append(self._paternity_leave(employee, first + timedelta(days=90)))
        self.put("Leave", leave)
        if statutory:
            self.put("StatutoryLeaves", statutory)

    def _paternity_leave(self, employee: Record, first: date) -> Record:
        """A week of the two weeks' statutory paternity leave (as its summary gives it)."""
        return {
            "statutoryLeaveID": self.draws.uid(),
            "employeeID": employee["employeeID"],
            "type": "Paternity",
            "startDate": first.isoformat(),
            "endDate": (first + timedelta(days=6)).isoformat(),
            "isEntitled": True,
            "status": "Completed",
        }

    def _sick_leave(self, employee: Record, first: date) -> Record:
        return {
            "statutoryLeaveID": self.draws.uid(),
            "employeeID": employee["employeeID"],
            "leaveTypeID": self.ids.sick,
            "startDate": first.isoformat(),
            "endDate": (first + timedelta(days=6)).isoformat(),
            "type": "Sick",
            "status": "Completed",
            "workPattern": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
            "isPregnancyRelated": False,
            "sufficientNotice": True,
            "isEntitled": True,
            "entitlementWeeksRequested": 1.0,
            "entitlementWeeksQualified": 28.0,
            "entitlementWeeksRemaining": 27.0,
            "overlapsWithOtherLeave": False,
            "entitlementFailureReasons": [],
        }


def seed_payroll_v2(store: Store, tid: str, draws: Draws, region: str, scale: int) -> None:
    """Write one British or New Zealand tenant's payroll."""
    payroll = _Payroll(store, tid, draws, region)
    payroll.settings()
    payroll.pay_items()
    payroll.calendar()
    staff = [payroll.employee(number) for number in range(min(scale // 20 + 4, MAX_EMPLOYEES))]
    employees = [employee for employee, _, _ in staff]
    payroll.put("Employees", employees)
    payroll.put("EmployeeDetails", [payroll.details(*member) for member in staff])
    payroll.put("SalaryAndWages", [payroll.salary(*member) for member in staff])
    payroll.pay_runs(staff)
    payroll.leave(employees)

"""Pay periods of Payroll UK and NZ calendars, and the hours a leave's date range takes in each:
what a leave written by the sandbox stores (``periods``) and what ``/LeavePeriods`` answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from xero_sandbox.catalog import Record

__all__ = ["HOURS_A_DAY", "PERIOD_DAYS", "PeriodHours", "hours_by_pay_period", "pay_period"]

# Days in a pay period of the calendar types with a fixed length (Monthly counts months).
PERIOD_DAYS = {"Weekly": 7, "Fortnightly": 14, "FourWeekly": 28}
# A working day's hours, Monday to Friday (the NZ spec's example counts 8 a day).
HOURS_A_DAY = {"UK": Decimal("7.5"), "NZ": Decimal(8)}


@dataclass(frozen=True)
class PeriodHours:
    """One pay period a date range touches: its dates, and the range's working days and
    hours in it."""

    start: date
    end: date
    days: int
    hours: Decimal


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def pay_period(calendar: Record, day: date) -> tuple[date, date] | None:
    """The calendar's pay period holding ``day``; None for calendar types the sandbox does
    not model (quarterly, twice monthly)."""
    first = date.fromisoformat(str(calendar.get("periodStartDate"))[:10])
    kind = str(calendar.get("calendarType"))
    if kind in PERIOD_DAYS:
        days = PERIOD_DAYS[kind]
        start = day - timedelta(days=(day - first).days % days)
        return start, start + timedelta(days=days - 1)
    if kind != "Monthly":
        return None
    months = (day.year - first.year) * 12 + day.month - first.month
    if _add_months(first, months) > day:
        months -= 1
    return _add_months(first, months), _add_months(first, months + 1) - timedelta(days=1)


def hours_by_pay_period(
    calendar: Record | None, region: str, start: date, end: date
) -> list[PeriodHours]:
    """Each pay period of ``calendar`` that ``start``-``end`` touches, once, in date order,
    with the range's weekdays in it at the region's hours a day; without a calendar (or with
    one the sandbox does not model) the range is one period."""
    spans: dict[tuple[date, date], int] = {}
    day = start
    while day <= end:
        span = (pay_period(calendar, day) if calendar else None) or (start, end)
        spans[span] = spans.get(span, 0) + (day.weekday() < 5)
        day += timedelta(days=1)
    return [
        PeriodHours(first, last, days, days * HOURS_A_DAY[region])
        for (first, last), days in sorted(spans.items())
    ]

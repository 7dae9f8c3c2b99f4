"""TrialBalance, ProfitAndLoss and BalanceSheet in Xero's Reports shape, summed from journal lines.

Every figure is a sum of the ledger lines the journals wrote (``Store.ledger_sums``), so the
reports agree with ``/Journals`` by construction. Conventions (Xero documents no formulas):

- Balance-sheet accounts carry their balance since the beginning; profit-and-loss accounts only
  their movement in the current financial year; earlier years' profit sits in Retained Earnings
  (TrialBalance) or is shown as Retained Earnings (BalanceSheet), so both always balance.
- TrialBalance's Debit/Credit and YTD Debit/YTD Credit columns hold the same figures.
- ``periods``/``timeframe`` (MONTH, QUARTER, YEAR) add comparison columns going back in time.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from xero_sandbox.catalog import Record

if TYPE_CHECKING:
    from xero_sandbox.context import SandboxContext

__all__ = ["report_response"]


_PL_TYPES = {"REVENUE", "SALES", "OTHERINCOME", "DIRECTCOSTS", "EXPENSE", "OVERHEADS", "DEPRECIATN"}
_BS_SECTIONS = (
    ("Bank", ("BANK",), 1),
    ("Current Assets", ("CURRENT", "INVENTORY", "PREPAYMENT"), 1),
    ("Fixed Assets", ("FIXED",), 1),
    ("Non-current Assets", ("NONCURRENT",), 1),
    ("Current Liabilities", ("CURRLIAB", "PAYG"), -1),
    ("Non-current Liabilities", ("LIABILITY", "TERMLIAB"), -1),
)
_PL_SECTIONS = (
    ("Income", ("REVENUE", "SALES"), -1),
    ("Less Cost of Sales", ("DIRECTCOSTS",), 1),
    ("Other Income", ("OTHERINCOME",), -1),
    ("Less Operating Expenses", ("EXPENSE", "OVERHEADS", "DEPRECIATN"), 1),
)
_TB_SECTIONS = (
    ("Revenue", ("REVENUE", "SALES", "OTHERINCOME")),
    ("Expenses", ("DIRECTCOSTS", "EXPENSE", "OVERHEADS", "DEPRECIATN")),
    ("Assets", ("BANK", "CURRENT", "INVENTORY", "PREPAYMENT", "FIXED", "NONCURRENT")),
    ("Liabilities", ("CURRLIAB", "PAYG", "LIABILITY", "TERMLIAB")),
    ("Equity", ("EQUITY",)),
)


def _ms(day: date) -> int:
    return calendar.timegm(day.timetuple()) * 1000


def _end_ms(day: date) -> int:
    return _ms(day) + 86_400_000 - 1


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def _long(day: date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _short(day: date) -> str:
    return f"{day.day} {calendar.month_abbr[day.month]} {day.year % 100:02d}"


def _shift(day: date, months: int) -> date:
    """The same day ``months`` earlier, clamped to the month's end (month-ends stay month-ends)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    at_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month + 1, last if at_end else min(day.day, last))


def _parse(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-03-31, not {value!r}") from None


class _Books:
    """Accounts and sums of one tenant."""

    def __init__(self, ctx: SandboxContext, tenant: str) -> None:
        self.ctx, self.tenant = ctx, tenant
        self.accounts = sorted(
            ctx.store.iter_records(tenant, "Accounts"), key=lambda a: str(a.get("Code", ""))
        )
        org = next(ctx.store.iter_records(tenant, "Organisation"), {})
        self.org_name = str(org.get("Name", ""))
        self.fy_end_month = int(org.get("FinancialYearEndMonth") or 12)
        self.fy_end_day = int(org.get("FinancialYearEndDay") or 31)

    def fy_start(self, day: date) -> date:
        month = self.fy_end_month % 12 + 1
        start = date(day.year, month, 1)
        return start if start <= day else date(day.year - 1, month, 1)

    def sums(self, start: date | None, end: date) -> dict[str, int]:
        return self.ctx.store.ledger_sums(self.tenant, _ms(start) if start else None, _end_ms(end))

    def balances(self, day: date) -> dict[str, int]:
        """Balance per account at ``day``: P&L accounts for the financial year only."""
        start = self.fy_start(day)
        total = self.sums(None, day)
        year = self.sums(start, day)
        before = {k: total.get(k, 0) - year.get(k, 0) for k in total}
        result: dict[str, int] = {}
        retained = None
        earlier_profit = 0
        for acc in self.accounts:
            acc_id = str(acc["AccountID"])
            if acc.get("Type") in _PL_TYPES:
                result[acc_id] = year.get(acc_id, 0)
                earlier_profit += before.get(acc_id, 0)
            else:
                result[acc_id] = total.get(acc_id, 0)
            if acc.get("SystemAccount") == "RETAINEDEARNINGS":
                retained = acc_id
        if retained is not None:
            result[retained] = result.get(retained, 0) + earlier_profit
        return result


def _label(acc: Record) -> list[Record]:
    name = f"{acc.get('Name')} ({acc.get('Code')})" if acc.get("Code") else str(acc.get("Name"))
    return [{"Value": name, "Attributes": [{"Value": str(acc["AccountID"]), "Id": "account"}]}]


def _cell(value: str, acc: Record | None = None) -> Record:
    cell: Record = {"Value": value}
    if acc is not None:
        cell["Attributes"] = [{"Value": str(acc["AccountID"]), "Id": "account"}]
    return cell


def _report(
    report_id: str, name: str, books: _Books, subtitle: str, rows: list[Record], day: date
) -> Record:
    return {
        "ReportID": report_id,
        "ReportName": name,
        "ReportType": report_id,
        "ReportTitles": [name, books.org_name, subtitle],
        "ReportDate": _long(day),
        "UpdatedDateUTC": f"/Date({int(datetime.now(UTC).timestamp() * 1000)})/",
        "Fields": [],
        "Rows": rows,
    }


def _trial_balance(books: _Books, params: dict[str, str], today: date) -> Record:
    day = _parse(params.get("date"), "date") or today
    balances = books.balances(day)
    rows: list[Record] = [
        {
            "RowType": "Header",
            "Cells": [_cell(v) for v in ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")],
        }
    ]
    debit_total = credit_total = 0
    for title, types in _TB_SECTIONS:
        section_rows = []
        for acc in books.accounts:
            cents = balances.get(str(acc["AccountID"]), 0)
            if acc.get("Type") not in types or cents == 0:
                continue
            debit, credit = (cents, 0) if cents > 0 else (0, -cents)
            debit_total += debit
            credit_total += credit
            values = [_money(debit), _money(credit), _money(debit), _money(credit)]
            section_rows.append(
                {"RowType": "Row", "Cells": _label(acc) + [_cell(v, acc) for v in values]}
            )
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    totals = [_money(debit_total), _money(credit_total)] * 2
    rows.append(
        {
            "RowType": "Section",
            "Title": "",
            "Rows": [
                {"RowType": "SummaryRow", "Cells": [_cell("Total")] + [_cell(v) for v in totals]}
            ],
        }
    )
    return _report("TrialBalance", "Trial Balance", books, f"As at {_long(day)}", rows, day)


def _columns(params: dict[str, str], end: date) -> tuple[int, int]:
    periods = max(0, min(11, int(params.get("periods") or 0)))
    timeframe = (params.get("timeframe") or "MONTH").upper()
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}.get(timeframe)
    if months is None:
        raise ValueError("timeframe must be MONTH, QUARTER or YEAR")
    return periods, months


def _profit_and_loss(books: _Books, params: dict[str, str], today: date) -> Record:
    start = _parse(params.get("fromdate"), "fromDate")
    end = _parse(params.get("todate"), "toDate")
    if end is None:
        base = start or today
        end = date(base.year, base.month, calendar.monthrange(base.year, base.month)[1])
    if start is None:
        start = end.replace(day=1)
    if start > end:
        raise ValueError("fromDate must not be after toDate")
    periods, months = _columns(params, end)
    spans = [(start, end)] + [
        (_shift(start, months * k), _shift(end, months * k)) for k in range(1, periods + 1)
    ]
    sums = [books.sums(a, b) for a, b in spans]
    rows: list[Record] = [
        {"RowType": "Header", "Cells": [_cell("")] + [_cell(_short(b)) for _, b in spans]}
    ]
    totals: dict[str, list[int]] = {}
    for title, types, sign in _PL_SECTIONS:
        section_rows, section_total = _account_rows(books, sums, types, sign)
        totals[title] = section_total
        if section_rows:
            label = f"Total {title.removeprefix('Less ')}"
            section_rows.append(_money_row("SummaryRow", label, section_total))
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
        if title == "Less Cost of Sales":
            gross = _minus(totals["Income"], totals["Less Cost of Sales"])
            rows.append(_summary_section("Gross Profit", gross, "Row"))
    income = _minus(totals["Income"], totals["Less Cost of Sales"])
    other = _minus(totals["Other Income"], totals["Less Operating Expenses"])
    rows.append(_summary_section("Net Profit", _plus(income, other), "Row"))
    subtitle = f"{_long(start)} to {_long(end)}"
    return _report("ProfitAndLoss", "Profit and Loss", books, subtitle, rows, end)


def _balance_sheet(books: _Books, params: dict[str, str], today: date) -> Record:
    day = _parse(params.get("date"), "date") or today
    periods, months = _columns(params, day)
    days = [day] + [_shift(day, months * k) for k in range(1, periods + 1)]
    balances = [books.balances(d) for d in days]
    year_profit = []
    for d in days:
        year = books.sums(books.fy_start(d), d)
        year_profit.append(
            -sum(
                year.get(str(a["AccountID"]), 0)
                for a in books.accounts
                if a.get("Type") in _PL_TYPES
            )
        )
    rows: list[Record] = [
        {"RowType": "Header", "Cells": [_cell("")] + [_cell(_long(d)) for d in days]}
    ]
    assets = [0] * len(days)
    liabilities = [0] * len(days)
    for index, (title, types, sign) in enumerate(_BS_SECTIONS):
        if index == 0:
            rows.append({"RowType": "Section", "Title": "Assets", "Rows": []})
        if index == 4:
            rows.append(_summary_section("Total Assets", assets))
            rows.append({"RowType": "Section", "Title": "Liabilities", "Rows": []})
        section_rows, section_total = _account_rows(books, balances, types, sign)
        if section_rows:
            section_rows.append(_money_row("SummaryRow", f"Total {title}", section_total))
        target = assets if sign > 0 else liabilities
        for k, v in enumerate(section_total):
            target[k] += v
        rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    rows.append(_summary_section("Total Liabilities", liabilities))
    rows.append(_summary_section("Net Assets", _minus(assets, liabilities), "Row"))
    equity_rows, equity_total = _account_rows(books, balances, ("EQUITY",), -1)
    equity_rows.insert(0, _money_row("Row", "Current Year Earnings", year_profit))
    equity_total = _plus(equity_total, year_profit)
    equity_rows.append(_money_row("SummaryRow", "Total Equity", equity_total))
    rows.append({"RowType": "Section", "Title": "Equity", "Rows": equity_rows})
    return _report("BalanceSheet", "Balance Sheet", books, f"As at {_long(day)}", rows, day)


def _account_rows(
    books: _Books, balances: list[dict[str, int]], types: tuple[str, ...], sign: int
) -> tuple[list[Record], list[int]]:
    rows: list[Record] = []
    total = [0] * len(balances)
    for acc in books.accounts:
        if acc.get("Type") not in types:
            continue
        values = [b.get(str(acc["AccountID"]), 0) * sign for b in balances]
        if not any(values):
            continue
        total = [a + b for a, b in zip(total, values, strict=True)]
        rows.append(
            {"RowType": "Row", "Cells": _label(acc) + [_cell(_money(v), acc) for v in values]}
        )
    return rows, total


def _plus(a: list[int], b: list[int]) -> list[int]:
    return [x + y for x, y in zip(a, b, strict=True)]


def _minus(a: list[int], b: list[int]) -> list[int]:
    return [x - y for x, y in zip(a, b, strict=True)]


def _money_row(kind: str, label: str, values: list[int]) -> Record:
    """A ``Row`` or ``SummaryRow``: a label, then one money cell per period."""
    return {"RowType": kind, "Cells": [_cell(label)] + [_cell(_money(v)) for v in values]}


def _summary_section(label: str, values: list[int], kind: str = "SummaryRow") -> Record:
    """An untitled section of one row (a total, gross or net profit, net assets)."""
    return {"RowType": "Section", "Title": "", "Rows": [_money_row(kind, label, values)]}


_REPORTS = {
    "trialbalance": _trial_balance,
    "profitandloss": _profit_and_loss,
    "balancesheet": _balance_sheet,
}


def report_response(
    ctx: SandboxContext, tenant: str, name: str, params: dict[str, str]
) -> Record | str | None:
    """The report as a record; an error message (str) for bad parameters; None if unknown."""
    build = _REPORTS.get(name.lower())
    if build is None:
        return None
    today = datetime.now(UTC).date()
    try:
        return build(_Books(ctx, tenant), params, today)
    except ValueError as exc:
        return str(exc)

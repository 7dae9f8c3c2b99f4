"""The report streams: TrialBalance, ProfitAndLoss and BalanceSheet, month by month from
``report_start_date``, flattened to one record per tenant, report, month and row."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from singer_sdk import Tap
from typing_extensions import override

from xero_api.dates import convert_msdates, format_utc, parse_datetime
from xero_api.resources import Record, Report
from xero_api.schema_files import load_schema

from .changes import refresh_interval
from .session import ReadSession
from .streams import TENANT_KEY, PartitionStart, TenantStream

__all__ = ["ReportStream", "flatten_report"]


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class ReportStream(TenantStream):
    """TrialBalance, ProfitAndLoss or BalanceSheet, month by month, one record per row."""

    def __init__(self, tap: Tap, session: ReadSession, name: str, report: Report) -> None:
        self.report = report
        super().__init__(tap, session, name, load_schema(name))
        self.primary_keys = [TENANT_KEY, "RowKey"]
        self.replication_key = "PeriodStart"

    @property
    @override
    def is_sorted(self) -> bool:
        """Months are read in order, so an interrupted run resumes at its last month."""
        return True

    @property
    @override
    def refresh_hours(self) -> float:
        """Reports are reference data: ``reference_refresh_hours``."""
        return refresh_interval(self.config, "reference_refresh_hours")

    @override
    def _start_date(self) -> str | None:
        value = self.config.get("report_start_date") or self.config.get("start_date")
        return format_utc(parse_datetime(value)) if value else None

    @override
    def produce(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """One page per month, from the bookmarked month (re-read: it may have changed)."""
        first = parse_datetime(start.value).date() if start.value else date.today()
        month = first.replace(day=1)
        today = datetime.now(UTC).date()
        while month <= today:
            end = _month_end(month)
            params = self.report.month_params(month, end)
            body = self.get_json(tenant, f"Reports/{self.report.name}", params)
            yield flatten_report(body, tenant, self.report.name, month, end)
            month = _next_month(month)


def flatten_report(
    body: dict[str, Any], tenant: str, report: str, month: date, end: date
) -> list[Record]:
    """One record per data row of a report: section title, cells and cells keyed by column."""
    reports = body.get("Reports") or []
    if not reports:
        return []
    document = convert_msdates(reports[0])
    common = {
        TENANT_KEY: tenant,
        "Report": report,
        "PeriodStart": format_utc(datetime(month.year, month.month, 1, tzinfo=UTC)),
        "PeriodEnd": format_utc(datetime(end.year, end.month, end.day, tzinfo=UTC)),
        "ReportID": document.get("ReportID"),
        "ReportName": document.get("ReportName"),
        "ReportTitles": document.get("ReportTitles"),
        "ReportDate": document.get("ReportDate"),
        "UpdatedDateUTC": document.get("UpdatedDateUTC"),
    }
    return [
        {
            **common,
            "RowKey": f"{report}|{month:%Y-%m}|{number:05d}",
            "RowNumber": number,
            **_row_fields(row, section, columns),
        }
        for number, (row, section, columns) in enumerate(_data_rows(document), start=1)
    ]


def _data_rows(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str | None, list[str]]]:
    """Each data row with its section's title and the column names of the header above it."""
    columns: list[str] = []
    for row in document.get("Rows") or ():
        kind = row.get("RowType")
        if kind == "Header":
            columns = [
                str(cell.get("Value") or f"Column{index + 1}")
                for index, cell in enumerate(row.get("Cells") or ())
            ]
        elif kind == "Section":
            for inner in row.get("Rows") or ():
                yield inner, row.get("Title"), columns
        else:
            yield row, None, columns


def _row_fields(row: dict[str, Any], section: str | None, columns: list[str]) -> Record:
    cells = row.get("Cells") or []
    account = next(
        (
            attribute.get("Value")
            for cell in cells
            for attribute in cell.get("Attributes") or ()
            if attribute.get("Id") == "account"
        ),
        None,
    )
    return {
        "Section": section,
        "RowType": row.get("RowType"),
        "RowTitle": cells[0].get("Value") if cells else row.get("Title"),
        "AccountID": account,
        "Cells": cells,
        "Values": {name: cell.get("Value") for name, cell in zip(columns, cells, strict=False)},
    }

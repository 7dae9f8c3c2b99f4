"""Behaviour of the sandbox's read API over real HTTP: envelope, paging edges, If-Modified-Since
boundaries, filters, archived/deleted records, summaries, unitdp, Journals offset, single-record
GETs, reports that agree with the journals, and a database that survives a restart."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from xero_sandbox.launcher import Sandbox

API = "/api.xro/2.0"
MS_DATE = re.compile(r"^/Date\(-?\d+\+0000\)/$")


def _get(
    sb: Sandbox,
    path: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    tenant: int = 0,
) -> httpx.Response:
    return httpx.get(
        f"{sb.url}{API}{path}",
        params=params or {},
        headers={**sb.headers(sb.tenant_ids()[tenant]), **(headers or {})},
        timeout=30,
    )


def _json(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = json.loads(answer.text, parse_float=Decimal)
    return body


def _ms(value: str) -> int:
    match = re.match(r"/Date\((-?\d+)", value)
    assert match, value
    return int(match.group(1))


def _all_invoices(sb: Sandbox, **params: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        body = _json(_get(sb, "/Invoices", {"page": str(page), "pageSize": "1000", **params}))
        records += body["Invoices"]
        if len(body["Invoices"]) < 1000:
            return records
        page += 1


# ----------------------------------------------------------------------------- envelope


def test_envelope_has_xero_fields_and_correlation_id(sandbox: Sandbox) -> None:
    answer = _get(sandbox, "/Invoices", {"page": "1"})
    body = _json(answer)
    assert body["Status"] == "OK"
    assert body["Id"] == answer.headers["Xero-Correlation-Id"]
    assert re.fullmatch(r"/Date\(\d+\)/", body["DateTimeUTC"])
    assert set(body["pagination"]) == {"page", "pageSize", "pageCount", "itemCount"}
    invoice = body["Invoices"][0]
    for field in ("Date", "DueDate", "UpdatedDateUTC"):
        assert MS_DATE.match(invoice[field]), invoice[field]


def test_pagination_only_where_xero_returns_it(sandbox: Sandbox) -> None:
    assert "pagination" in _json(_get(sandbox, "/Contacts", {"page": "1"}))
    for path in ("/Quotes", "/LinkedTransactions", "/Accounts", "/Journals", "/TaxRates"):
        assert "pagination" not in _json(_get(sandbox, path, {"page": "1"})), path


def test_money_is_exact_and_totals_add_up(sandbox: Sandbox) -> None:
    raw = _get(sandbox, "/Invoices", {"page": "1", "pageSize": "1000"}).text
    assert re.search(r'"CurrencyRate":1\.0000000000', raw)
    for invoice in _json(_get(sandbox, "/Invoices", {"page": "1", "pageSize": "1000"}))["Invoices"]:
        assert invoice["Total"] == invoice["SubTotal"] + invoice["TotalTax"]
        assert invoice["AmountDue"] + invoice["AmountPaid"] == invoice["Total"] or invoice[
            "Status"
        ] in ("VOIDED", "DELETED")
        lines = sum((line["LineAmount"] for line in invoice["LineItems"]), Decimal(0))
        expected = (
            invoice["Total"] if invoice["LineAmountTypes"] == "Inclusive" else invoice["SubTotal"]
        )
        assert lines == expected


# ----------------------------------------------------------------------------- paging


@pytest.mark.parametrize("page_size", [1, 7, 39, 40, 1000])
def test_pages_cover_every_invoice_once_in_updated_order(sandbox: Sandbox, page_size: int) -> None:
    total = sandbox.counts()[sandbox.tenant_ids()[0]]["Invoices"]
    seen: list[dict[str, Any]] = []
    page = 1
    while True:
        body = _json(_get(sandbox, "/Invoices", {"page": str(page), "pageSize": str(page_size)}))
        assert body["pagination"] == {
            "page": page,
            "pageSize": page_size,
            "pageCount": -(-total // page_size),
            "itemCount": total,
        }
        seen += body["Invoices"]
        if len(body["Invoices"]) < page_size:
            break
        page += 1
    assert len(seen) == total == len({r["InvoiceID"] for r in seen})
    stamps = [_ms(r["UpdatedDateUTC"]) for r in seen]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("asked", "served"), [("5000", 1000), ("0", 1), ("-3", 1), ("abc", 100), (None, 100)]
)
def test_page_size_is_clamped(sandbox: Sandbox, asked: str | None, served: int) -> None:
    params = {"page": "1"} if asked is None else {"page": "1", "pageSize": asked}
    assert _json(_get(sandbox, "/Contacts", params))["pagination"]["pageSize"] == served


def test_page_zero_is_page_one_and_past_the_end_is_empty(sandbox: Sandbox) -> None:
    first = _json(_get(sandbox, "/Invoices", {"page": "1", "pageSize": "5"}))
    zero = _json(_get(sandbox, "/Invoices", {"page": "0", "pageSize": "5"}))
    assert [r["InvoiceID"] for r in zero["Invoices"]] == [r["InvoiceID"] for r in first["Invoices"]]
    beyond = _json(_get(sandbox, "/Invoices", {"page": "99", "pageSize": "5"}))
    assert beyond["Invoices"] == []
    assert beyond["pagination"]["itemCount"] == first["pagination"]["itemCount"]


def test_quotes_page_is_fixed_at_100(sandbox: Sandbox) -> None:
    all_quotes = _json(_get(sandbox, "/Quotes"))["Quotes"]
    paged = _json(_get(sandbox, "/Quotes", {"page": "1", "pageSize": "1"}))["Quotes"]
    assert len(paged) == len(all_quotes) > 1  # pageSize is not a Quotes parameter
    assert _json(_get(sandbox, "/Quotes", {"page": "2"}))["Quotes"] == []


def test_unpaged_invoices_are_summaries_and_paged_ones_have_lines(sandbox: Sandbox) -> None:
    unpaged = _json(_get(sandbox, "/Invoices"))
    assert "pagination" not in unpaged
    assert all("LineItems" not in r for r in unpaged["Invoices"])
    paged = _json(_get(sandbox, "/Invoices", {"page": "1"}))
    assert all(r["LineItems"] for r in paged["Invoices"])


def test_summary_only_drops_heavy_fields(sandbox: Sandbox) -> None:
    body = _json(_get(sandbox, "/Invoices", {"summaryOnly": "true"}))
    assert body["pagination"]["page"] == 1
    assert all("LineItems" not in r and "Payments" not in r for r in body["Invoices"])
    contacts = _json(_get(sandbox, "/Contacts", {"page": "1", "summaryOnly": "true"}))
    assert all("Addresses" not in c for c in contacts["Contacts"])


# ----------------------------------------------------------------------------- If-Modified-Since


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_if_modified_since_is_inclusive_to_the_second(sandbox: Sandbox) -> None:
    invoices = _all_invoices(sandbox)
    pivot = invoices[len(invoices) // 2]
    second = _ms(pivot["UpdatedDateUTC"]) // 1000

    def ids(header: str) -> set[str]:
        body = _json(
            _get(
                sandbox,
                "/Invoices",
                {"page": "1", "pageSize": "1000"},
                {"If-Modified-Since": header},
            )
        )
        return {r["InvoiceID"] for r in body["Invoices"]}

    at = ids(_iso(second))
    assert pivot["InvoiceID"] in at
    assert at == {r["InvoiceID"] for r in invoices if _ms(r["UpdatedDateUTC"]) >= second * 1000}
    assert pivot["InvoiceID"] not in ids(_iso(second + 1))
    assert ids(_iso(second) + ".999") == at  # the fraction is below Xero's resolution
    http_date = format_datetime(datetime.fromtimestamp(second, UTC), usegmt=True)
    assert ids(http_date) == at
    shifted = datetime.fromtimestamp(second, UTC).astimezone().isoformat()
    assert ids(shifted) == at


def test_if_modified_since_uses_created_date_for_bank_transfers_and_journals(
    sandbox: Sandbox,
) -> None:
    for path, key in (("/BankTransfers", "BankTransfers"), ("/Journals", "Journals")):
        records = _json(_get(sandbox, path))[key]
        pivot = records[len(records) // 2]
        second = _ms(pivot["CreatedDateUTC"]) // 1000
        served = _json(_get(sandbox, path, headers={"If-Modified-Since": _iso(second)}))[key]
        assert served
        assert all(_ms(r["CreatedDateUTC"]) >= second * 1000 for r in served)


def test_if_modified_since_is_ignored_where_xero_has_none(sandbox: Sandbox) -> None:
    everything = _json(_get(sandbox, "/TaxRates"))["TaxRates"]
    future = {"If-Modified-Since": "2099-01-01T00:00:00"}
    assert _json(_get(sandbox, "/TaxRates", headers=future))["TaxRates"] == everything
    assert _json(_get(sandbox, "/Invoices", {"page": "1"}, future))["Invoices"] == []


# ----------------------------------------------------------------------------- filters


def test_where_order_and_list_filters(sandbox: Sandbox) -> None:
    invoices = _all_invoices(sandbox)
    bills = _json(_get(sandbox, "/Invoices", {"page": "1", "where": 'Type=="ACCPAY"'}))
    assert {r["InvoiceID"] for r in bills["Invoices"]} == {
        r["InvoiceID"] for r in invoices if r["Type"] == "ACCPAY"
    }
    ordered = _json(_get(sandbox, "/Invoices", {"page": "1", "order": "Total DESC"}))["Invoices"]
    assert [r["Total"] for r in ordered] == sorted((r["Total"] for r in invoices), reverse=True)[
        : len(ordered)
    ]
    contact = invoices[0]["Contact"]["ContactID"]
    by_guid = _json(
        _get(
            sandbox,
            "/Invoices",
            {"page": "1", "where": f'Contact.ContactID==Guid("{contact.upper()}")'},
        )
    )["Invoices"]
    by_param = _json(_get(sandbox, "/Invoices", {"page": "1", "ContactIDs": contact}))["Invoices"]
    assert by_guid == by_param
    assert {r["InvoiceID"] for r in by_guid} == {
        r["InvoiceID"] for r in invoices if r["Contact"]["ContactID"] == contact
    }
    picked = invoices[:3]
    ids = ",".join(r["InvoiceID"] for r in picked)
    assert {
        r["InvoiceID"] for r in _json(_get(sandbox, "/Invoices", {"IDs": ids}))["Invoices"]
    } == {r["InvoiceID"] for r in picked}
    numbers = ",".join(r["InvoiceNumber"] for r in picked)
    assert len(_json(_get(sandbox, "/Invoices", {"InvoiceNumbers": numbers}))["Invoices"]) == 3
    statuses = _json(_get(sandbox, "/Invoices", {"page": "1", "Statuses": "paid,VOIDED"}))
    assert {r["Status"] for r in statuses["Invoices"]} <= {"PAID", "VOIDED"}
    assert statuses["pagination"]["itemCount"] == sum(
        r["Status"] in ("PAID", "VOIDED") for r in invoices
    )
    dated = _json(
        _get(sandbox, "/Invoices", {"page": "1", "where": "Date >= DateTime(2026, 01, 01)"})
    )["Invoices"]
    cutoff = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert {r["InvoiceID"] for r in dated} == {
        r["InvoiceID"] for r in invoices if _ms(r["Date"]) >= cutoff
    }


def test_bad_where_and_order_are_query_parse_exceptions(sandbox: Sandbox) -> None:
    for params in (
        {"where": 'Type=="ACCREC" AND'},
        {"where": "Total ~ 5"},
        {"where": 'Contact.ContactID==Guid("not-a-guid")'},
        {"order": "Total SIDEWAYS"},
    ):
        answer = _get(sandbox, "/Invoices", params)
        assert answer.status_code == 400, params
        body = answer.json()
        assert body["ErrorNumber"] == 16
        assert body["Type"] == "QueryParseException"
        assert body["Message"]


def test_archived_contacts_only_with_include_archived(sandbox: Sandbox) -> None:
    default = _json(_get(sandbox, "/Contacts", {"page": "1", "pageSize": "1000"}))["Contacts"]
    everything = _json(
        _get(sandbox, "/Contacts", {"page": "1", "pageSize": "1000", "includeArchived": "true"})
    )["Contacts"]
    archived = [c for c in everything if c["ContactStatus"] == "ARCHIVED"]
    assert archived, "the seed should archive some contacts"
    assert all(c["ContactStatus"] != "ARCHIVED" for c in default)
    assert len(default) + len(archived) == len(everything)
    assert sandbox.counts()[sandbox.tenant_ids()[0]]["Contacts"] == len(default)
    one = _json(_get(sandbox, f"/Contacts/{archived[0]['ContactID']}"))["Contacts"]
    assert one[0]["ContactStatus"] == "ARCHIVED"  # by ID it is always found


def test_deleted_bank_transfers_only_with_include_deleted(sandbox: Sandbox) -> None:
    default = _json(_get(sandbox, "/BankTransfers"))["BankTransfers"]
    everything = _json(_get(sandbox, "/BankTransfers", {"includeDeleted": "true"}))["BankTransfers"]
    assert all(t["Status"] != "DELETED" for t in default)
    assert any(t["Status"] == "DELETED" for t in everything)
    assert len(everything) > len(default)


def test_unitdp_keeps_four_decimals_only_when_asked(sandbox: Sandbox) -> None:
    four = _all_invoices(sandbox, unitdp="4")
    cab = next(r for r in four for line in r["LineItems"] if line.get("ItemCode") == "CAB")
    two = _json(_get(sandbox, f"/Invoices/{cab['InvoiceID']}"))["Invoices"][0]
    four_line = next(line for line in cab["LineItems"] if line["ItemCode"] == "CAB")
    two_line = next(line for line in two["LineItems"] if line["ItemCode"] == "CAB")
    assert four_line["UnitAmount"] in (Decimal("0.4575"), Decimal("0.2745"))  # sale or purchase
    assert two_line["UnitAmount"] == four_line["UnitAmount"].quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    assert two_line["LineAmount"] == four_line["LineAmount"]  # totals never change
    items = _json(_get(sandbox, "/Items", {"unitdp": "4"}))["Items"]
    cable = next(i for i in items if i["Code"] == "CAB")
    assert cable["SalesDetails"]["UnitPrice"] == Decimal("0.4575")
    default = next(i for i in _json(_get(sandbox, "/Items"))["Items"] if i["Code"] == "CAB")
    assert default["SalesDetails"]["UnitPrice"] == Decimal("0.46")


# ----------------------------------------------------------------------------- journals


def test_journals_page_by_offset_100_at_a_time(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(tenants=1, scale=120, seed=3, minute_limit=10_000)
    first = _json(_get(sb, "/Journals"))["Journals"]
    assert [j["JournalNumber"] for j in first] == list(range(1, 101))
    numbers: list[int] = []
    offset = 0
    while True:
        batch = _json(_get(sb, "/Journals", {"offset": str(offset)}))["Journals"]
        numbers += [j["JournalNumber"] for j in batch]
        if len(batch) < 100:
            break
        offset = batch[-1]["JournalNumber"]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) == sb.counts()[sb.tenant_ids()[0]]["Journals"]
    for journal in first:
        assert sum(line["NetAmount"] for line in journal["JournalLines"]) == 0


# ----------------------------------------------------------------------------- single records


def test_single_record_gets_by_id_and_by_number(sandbox: Sandbox) -> None:
    invoice = _json(_get(sandbox, "/Invoices", {"page": "1", "where": 'Type=="ACCREC"'}))[
        "Invoices"
    ][0]
    by_id = _json(_get(sandbox, f"/Invoices/{invoice['InvoiceID']}"))["Invoices"]
    by_number = _json(_get(sandbox, f"/Invoices/{invoice['InvoiceNumber']}"))["Invoices"]
    assert by_id == by_number
    assert by_id[0]["InvoiceID"] == invoice["InvoiceID"]
    contact = _json(_get(sandbox, "/Contacts", {"page": "1"}))["Contacts"][0]
    assert (
        _json(_get(sandbox, f"/Contacts/{contact['ContactNumber']}"))["Contacts"][0]["ContactID"]
        == contact["ContactID"]
    )
    assert _json(_get(sandbox, "/Journals/3"))["Journals"][0]["JournalNumber"] == 3
    assert _json(_get(sandbox, "/TaxRates/OUTPUT2"))["TaxRates"][0]["TaxType"] == "OUTPUT2"
    for path in (
        "/Invoices/00000000-0000-4000-8000-000000000000",
        "/Contacts/nobody",
        "/Journals/999999",
        "/NoSuchThing",
    ):
        assert _get(sandbox, path).status_code == 404, path


# ----------------------------------------------------------------------------- reports


def _cells(report: dict[str, Any]) -> dict[str, list[str]]:
    """Label -> values of every row and summary row."""
    found: dict[str, list[str]] = {}
    for section in report["Rows"]:
        for row in section.get("Rows", []):
            found[row["Cells"][0]["Value"]] = [c["Value"] for c in row["Cells"][1:]]
    return found


def _journal_lines(sb: Sandbox) -> list[tuple[int, dict[str, Any]]]:
    lines = []
    offset = 0
    while True:
        batch = _json(_get(sb, "/Journals", {"offset": str(offset)}))["Journals"]
        for journal in batch:
            lines += [(_ms(journal["JournalDate"]), line) for line in journal["JournalLines"]]
        if len(batch) < 100:
            return lines
        offset = batch[-1]["JournalNumber"]


def test_reports_agree_with_the_journals(sandbox: Sandbox) -> None:
    lines = _journal_lines(sandbox)
    end = int(datetime(2026, 3, 31, 23, 59, 59, 999000, tzinfo=UTC).timestamp() * 1000)
    start = int(datetime(2025, 4, 1, tzinfo=UTC).timestamp() * 1000)
    accounts = {a["AccountID"]: a for a in _json(_get(sandbox, "/Accounts"))["Accounts"]}
    bank = next(a for a in accounts.values() if a["Code"] == "090")

    tb = _json(_get(sandbox, "/Reports/TrialBalance", {"date": "2026-03-31"}))["Reports"][0]
    totals = _cells(tb)["Total"]
    assert totals[0] == totals[1]  # debits equal credits
    bank_balance = sum(
        (
            line["NetAmount"]
            for ms, line in lines
            if ms <= end and line["AccountID"] == bank["AccountID"]
        ),
        Decimal("0.00"),
    )
    bank_row = _cells(tb)[f"{bank['Name']} ({bank['Code']})"]
    assert Decimal(bank_row[0]) - Decimal(bank_row[1]) == bank_balance

    pl_types = {
        "REVENUE",
        "SALES",
        "OTHERINCOME",
        "DIRECTCOSTS",
        "EXPENSE",
        "OVERHEADS",
        "DEPRECIATN",
    }
    profit = -sum(
        (
            line["NetAmount"]
            for ms, line in lines
            if start <= ms <= end and accounts[line["AccountID"]]["Type"] in pl_types
        ),
        Decimal("0.00"),
    )
    pl = _json(
        _get(sandbox, "/Reports/ProfitAndLoss", {"fromDate": "2025-04-01", "toDate": "2026-03-31"})
    )["Reports"][0]
    assert Decimal(_cells(pl)["Net Profit"][0]) == profit
    assert profit != 0

    bs = _json(_get(sandbox, "/Reports/BalanceSheet", {"date": "2026-03-31"}))["Reports"][0]
    cells = _cells(bs)
    assert cells["Net Assets"] == cells["Total Equity"]
    assert Decimal(cells["Current Year Earnings"][0]) == profit


def test_report_columns_and_bad_dates(sandbox: Sandbox) -> None:
    pl = _json(_get(sandbox, "/Reports/ProfitAndLoss", {"toDate": "2026-06-30", "periods": "2"}))[
        "Reports"
    ][0]
    assert [c["Value"] for c in pl["Rows"][0]["Cells"]] == [
        "",
        "30 Jun 26",
        "31 May 26",
        "30 Apr 26",
    ]
    answer = _get(sandbox, "/Reports/BalanceSheet", {"date": "yesterday"})
    assert answer.status_code == 400
    assert "date" in answer.json()["Message"]
    assert _get(sandbox, "/Reports/NoSuchReport").status_code == 404


# ----------------------------------------------------------------------------- admin + restart


def test_counts_match_default_gets(sandbox: Sandbox) -> None:
    counts = sandbox.counts()[sandbox.tenant_ids()[1]]
    for path in ("Accounts", "TaxRates", "ContactGroups", "BankTransfers", "Items"):
        assert len(_json(_get(sandbox, f"/{path}", tenant=1))[path]) == counts[path], path
    body = _json(_get(sandbox, "/Payments", {"page": "1"}, tenant=1))
    assert body["pagination"]["itemCount"] == counts["Payments"]


def test_restart_keeps_the_world_and_does_not_reseed(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(tenants=1, scale=15, seed=11)
    before = _json(_get(sb, "/Invoices", {"page": "1"}))["Invoices"]
    tenants = sb.tenant_ids()
    sb.flags["seed"] = 12  # a different seed must not matter once the db exists
    sb.restart()
    assert sb.tenant_ids() == tenants
    sb._tokens = None  # tokens may not survive a restart; authorize again
    assert _json(_get(sb, "/Invoices", {"page": "1"}))["Invoices"] == before


def test_empty_tenant_has_settings_but_no_documents(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(tenants=1, empty_tenants=1, scale=10, minute_limit=10_000)
    empty = [t for t in sb.tenants() if t["empty"]]
    assert len(empty) == 1
    counts = sb.counts()[empty[0]["tenantId"]]
    assert counts["Accounts"] > 20
    assert counts["TaxRates"] > 0
    assert counts["Currencies"] > 0
    assert counts["Organisation"] == 1
    assert counts["Invoices"] == counts["Contacts"] == counts["Journals"] == 0
    assert _json(_get(sb, "/Invoices", {"page": "1"}, tenant=1))["Invoices"] == []


def test_indexed_where_equalities_stay_case_insensitive(sandbox: Sandbox) -> None:
    invoice = _json(_get(sandbox, "/Invoices", {"page": "1", "where": 'Type=="ACCREC"'}))[
        "Invoices"
    ][0]
    number = invoice["InvoiceNumber"]
    for where in (
        f'InvoiceNumber=="{number.lower()}"',
        f'InvoiceNumber=="{number}" AND Status=="{invoice["Status"].lower()}"',
        f'InvoiceID==Guid("{invoice["InvoiceID"].upper()}")',
    ):
        found = _json(_get(sandbox, "/Invoices", {"page": "1", "where": where}))["Invoices"]
        assert [r["InvoiceID"] for r in found] == [invoice["InvoiceID"]], where
    contact = _json(_get(sandbox, "/Contacts", {"page": "1"}))["Contacts"][0]
    for where in (f'Name=="{contact["Name"].upper()}"', f'Name="{contact["Name"]}"'):
        found = _json(_get(sandbox, "/Contacts", {"where": where}))["Contacts"]
        assert [c["ContactID"] for c in found] == [contact["ContactID"]], where
    two = _json(_get(sandbox, "/Contacts", {"page": "1"}))["Contacts"][:2]
    batched = " OR ".join(f'Name=="{c["Name"].lower()}"' for c in two) + ' OR Name=="nobody"'
    found = _json(_get(sandbox, "/Contacts", {"where": batched}))["Contacts"]
    assert {c["ContactID"] for c in found} == {c["ContactID"] for c in two}


def test_ordering_by_the_modified_field_matches_the_default_order(sandbox: Sandbox) -> None:
    default = _json(_get(sandbox, "/Invoices", {"page": "2", "pageSize": "9"}))
    for order in ("UpdatedDateUTC ASC", "updateddateutc", "UpdatedDateUTC"):
        ordered = _json(_get(sandbox, "/Invoices", {"page": "2", "pageSize": "9", "order": order}))
        assert ordered["Invoices"] == default["Invoices"], order
        assert ordered["pagination"] == default["pagination"]
    newest = _json(_get(sandbox, "/Invoices", {"page": "1", "order": "UpdatedDateUTC DESC"}))
    stamps = [_ms(r["UpdatedDateUTC"]) for r in newest["Invoices"]]
    assert stamps == sorted(stamps, reverse=True)


def test_page_size_alone_means_page_one(sandbox: Sandbox) -> None:
    body = _json(_get(sandbox, "/Invoices", {"pageSize": "3"}))
    assert body["pagination"]["page"] == 1
    assert len(body["Invoices"]) == 3
    assert all(r["LineItems"] for r in body["Invoices"])


def test_sequential_pages_stay_exact_when_a_write_lands_between_them(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(tenants=1, scale=20, seed=4, minute_limit=10_000)

    def page(number: int) -> list[str]:
        body = _json(_get(sb, "/Contacts", {"page": str(number), "pageSize": "3"}))
        return [c["ContactID"] for c in body["Contacts"]]

    everything = [
        c["ContactID"]
        for c in _json(_get(sb, "/Contacts", {"page": "1", "pageSize": "1000"}))["Contacts"]
    ]
    assert page(1) + page(2) == everything[:6]  # page 2 continues from page 1
    moved = everything[0]
    answer = httpx.post(
        f"{sb.url}{API}/Contacts",
        json={"Contacts": [{"ContactID": moved, "Name": "Moved To The End Ltd"}]},
        headers=sb.headers(sb.tenant_ids()[0]),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    # The update moved the contact to the end (newest UpdatedDateUTC): page 3 is what page-number
    # paging gives over the new order, not a continuation of the stale page 2.
    assert page(3) == everything[7:10]
    assert page(1) == everything[1:4]

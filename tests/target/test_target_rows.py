"""Line rows (Xero's CSV import templates): column aliasing, dates by country, totals as Xero
rounds them, and a 1,000-invoice load of unsorted rows read back from the sandbox."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from target_xero.rows import (
    DocumentRows,
    OrganisationFacts,
    Row,
    canonical_row,
    document_total,
    row_date,
)
from tests._target_support import OrgPool, run_target, sandbox_pool

# -- unit: columns --------------------------------------------------------------------------


def test_columns_with_or_without_the_star_and_as_spreadsheet_taps_name_them() -> None:
    record = {
        "*ContactName": "Kowhai Cycles",
        "invoicenumber": "INV-1",  # tap-spreadsheets' name for *InvoiceNumber
        "PO Address Line 1": "1 Quay St",
        "unit_amount": 12.5,
        "TAXTYPE": "GST on Income",
        "Status": "Awaiting Payment",  # a column of Xero's export: known, not written
        "Colour": "red",
        "_sdc_filename": "a.csv",
    }
    values, unknown = canonical_row("invoice_rows", record)
    assert values == {
        "ContactName": "Kowhai Cycles",
        "InvoiceNumber": "INV-1",
        "POAddressLine1": "1 Quay St",
        "UnitAmount": 12.5,
        "TaxType": "GST on Income",
        "Status": "Awaiting Payment",
    }
    assert unknown == ["Colour"]
    # Empty cells are absent; contact rows know the contact template's columns only.
    contact, unknown = canonical_row(
        "contact_rows", {"*ContactName": "A", "AccountNumber": " ", "SAAttentionTo": "Bo"}
    )
    assert contact == {"ContactName": "A", "SAAttentionTo": "Bo"}
    assert unknown == []
    _, unknown = canonical_row("contact_rows", {"InvoiceNumber": "X"})
    assert unknown == ["InvoiceNumber"]


# -- unit: dates ----------------------------------------------------------------------------


class _FakeOrg:
    """A reader answering the few GETs row documents make."""

    def __init__(self, country: str) -> None:
        self.country = country
        self.calls: list[str] = []

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        self.calls.append(path)
        if path == "Organisation":
            return {"Organisations": [{"CountryCode": self.country}]}
        if path == "TaxRates":
            return {
                "TaxRates": [
                    {"Name": "GST on Income", "TaxType": "OUTPUT2", "EffectiveRate": 15},
                    {"Name": "No GST", "TaxType": "NONE", "EffectiveRate": 0},
                    {"Name": "GST 12.5%", "TaxType": "OLD", "EffectiveRate": Decimal("12.5")},
                ]
            }
        if path == "Accounts":
            return {"Accounts": [{"Code": "200", "TaxType": "OUTPUT2"}]}
        if path == "BrandingThemes":
            return {"BrandingThemes": [{"Name": "Standard", "BrandingThemeID": "bt-1"}]}
        return None


@pytest.mark.parametrize(
    ("country", "text", "expected"),
    [
        ("NZ", "03/04/2026", "2026-04-03"),
        ("AU", "3/4/2026", "2026-04-03"),
        ("GB", "03-04-2026", "2026-04-03"),
        ("US", "03/04/2026", "2026-03-04"),
        ("US", "12/31/2026", "2026-12-31"),
        ("NZ", "2026-04-03", "2026-04-03"),  # ISO 8601 in any organisation
        ("US", "2026-04-03T00:00:00", "2026-04-03"),
        ("ZA", "25/12/2026", "2026-12-25"),  # no known order, but only one reading
    ],
)
def test_dates_follow_the_organisations_country(country: str, text: str, expected: str) -> None:
    assert OrganisationFacts(_FakeOrg(country)).date(text) == expected


def test_a_date_that_reads_two_ways_or_none_is_refused() -> None:
    with pytest.raises(ValueError, match=r"ambiguous.*country ZA.*row_date_order"):
        OrganisationFacts(_FakeOrg("ZA")).date("03/04/2026")
    with pytest.raises(ValueError, match="not a valid month/day/year date"):
        OrganisationFacts(_FakeOrg("US")).date("25/12/2026")
    with pytest.raises(ValueError, match="not a valid day/month/year date"):
        OrganisationFacts(_FakeOrg("NZ")).date("31/02/2026")
    with pytest.raises(ValueError, match="is not a date"):
        OrganisationFacts(_FakeOrg("NZ")).date("next Tuesday")


def test_row_date_order_overrides_the_country_and_skips_the_lookup() -> None:
    org = _FakeOrg("NZ")
    assert OrganisationFacts(org, "month_day_year").date("03/04/2026") == "2026-03-04"
    assert org.calls == []
    assert row_date("03/04/2026", "day_month_year") == "2026-04-03"


# -- unit: documents and totals -------------------------------------------------------------


def _rows(*lines: dict[str, Any], start: int = 1) -> list[Row]:
    base = {"ContactName": "Kowhai Cycles", "InvoiceNumber": "INV-1", "InvoiceDate": "1/10/2026"}
    return [Row(start + i, {}, {**base, **line}) for i, line in enumerate(lines)]


def test_xero_rounding_worked_example_exclusive() -> None:
    # Xero rounds each line's tax half away from zero and sums per line:
    # 25.06, 25.61, 25.63 at 15 % -> tax 11.44, total 87.74.
    builder = DocumentRows("ACCREC", OrganisationFacts(_FakeOrg("NZ")))
    rows = _rows(
        *[
            {"Quantity": 1, "UnitAmount": amount, "TaxType": "GST on Income", "Total": "87.74"}
            for amount in ("25.06", "25.61", "25.63")
        ]
    )
    doc, reasons = builder.build(rows)
    assert reasons == []
    assert doc is not None
    assert doc["Date"] == "2026-10-01"
    assert [line["TaxType"] for line in doc["LineItems"]] == ["OUTPUT2"] * 3
    assert doc["Contact"] == {"Name": "Kowhai Cycles"}
    assert "Total" not in doc  # never sent: Xero computes it


def test_inclusive_totals_and_discounts() -> None:
    lines = [
        {"Quantity": Decimal(3), "UnitAmount": Decimal("59.00")},
        {"Quantity": Decimal(1), "UnitAmount": Decimal("-79.00")},
    ]
    rate = Decimal("12.5")
    assert document_total(lines, [rate, rate], "Inclusive") == Decimal("98.00")
    # Exclusive, 10 % discount on 19.95 -> 17.955 -> 17.96, tax 15 % 2.69, total 20.65.
    discounted = [{"Quantity": Decimal(1), "UnitAmount": Decimal("19.95"), "DiscountRate": 10}]
    assert document_total(discounted, [Decimal(15)], "Exclusive") == Decimal("20.65")
    # A TaxAmount on the row overrides the rate; NoTax ignores rates.
    assert document_total(
        [{"Quantity": 2, "UnitAmount": Decimal(10), "TaxAmount": Decimal("3.33")}],
        [Decimal(15)],
        "Exclusive",
    ) == Decimal("23.33")
    assert document_total(lines, [rate, rate], "NoTax") == Decimal("98.00")


def test_a_total_that_disagrees_with_the_lines_rejects_the_document_with_both_figures() -> None:
    builder = DocumentRows("ACCREC", OrganisationFacts(_FakeOrg("NZ")))
    # No TaxType: the line takes account 200's OUTPUT2 (15 %), as Xero would.
    rows = _rows(
        {"Quantity": 2, "UnitAmount": "10.00", "AccountCode": 200, "Total": "23.00"},
        {"Quantity": 1, "UnitAmount": "0.01", "AccountCode": "200", "Total": "23.00"},
        start=7,
    )
    doc, reasons = builder.build(rows)
    assert doc is None
    assert reasons == [
        "row 7 Total: 23.00 does not match the lines, which come to 23.01 (amounts exclusive "
        "of tax, rounded as Xero does)"
    ]
    inclusive = DocumentRows("ACCREC", OrganisationFacts(_FakeOrg("NZ")), "Inclusive")
    doc, reasons = inclusive.build(rows)
    assert reasons == [
        "row 7 Total: 23.00 does not match the lines, which come to 20.01 (amounts inclusive "
        "of tax, rounded as Xero does)"
    ]


def test_amounts_take_thousands_separators_but_never_a_decimal_comma() -> None:
    builder = DocumentRows("ACCREC", OrganisationFacts(_FakeOrg("NZ")))
    doc, _ = builder.build(_rows({"Quantity": 1, "UnitAmount": "1,580.94"}))
    assert doc is not None
    assert doc["LineItems"][0]["UnitAmount"] == Decimal("1580.94")
    doc, reasons = builder.build(_rows({"Quantity": 1, "UnitAmount": "12,5"}))
    assert doc is None
    assert reasons == [
        "row 1 UnitAmount: '12,5' is not a number (a comma only separates thousands)"
    ]


def test_problems_name_their_row_and_column() -> None:
    builder = DocumentRows("ACCPAY", OrganisationFacts(_FakeOrg("ZA")))
    rows = _rows(
        {"InvoiceDate": "03/04/2026", "Quantity": "two", "TaxType": "VAT 99"},
        {"InvoiceDate": "05/04/2026", "TrackingName1": "Region"},
        start=3,
    )
    doc, reasons = builder.build(rows)
    assert doc is None
    assert reasons == [
        "InvoiceDate differs between the rows of one document (rows 3, 4: '03/04/2026', "
        "'05/04/2026')",
        "row 3 InvoiceDate: '03/04/2026' is ambiguous (day/month or month/day?) and "
        "organisation country ZA does not say which; set row_date_order",
        "row 3 Quantity: 'two' is not a number",
        "row 3 TaxType: 'VAT 99' is no tax rate (name or code) of the target organisation",
        "row 4 TrackingOption1: empty while its pair is given",
    ]


# -- sandbox: 1,000 invoices from unsorted rows ---------------------------------------------


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(3)


def _singer(stream: str, rows: list[dict[str, Any]]) -> str:
    schema = {"type": "object", "properties": {k: {} for k in rows[0]}}
    lines = [
        json.dumps({"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": []})
    ]
    lines += [json.dumps({"type": "RECORD", "stream": stream, "record": r}) for r in rows]
    return "\n".join(lines) + "\n"


def test_unsorted_rows_of_1000_invoices_become_exactly_those_invoices(
    pool: OrgPool, tmp_path: Path
) -> None:
    org = pool.take()
    rng = random.Random(11)
    contacts = [f"Row Customer {n:02d}" for n in range(40)]
    expected: dict[str, tuple[str, list[str]]] = {}
    rows: list[dict[str, Any]] = []
    for n in range(1000):
        number = f"ROWS-{n:04d}"
        contact = contacts[n % len(contacts)]
        descriptions = [f"{number} line {k + 1}" for k in range(rng.randint(3, 5))]
        expected[number] = (contact, descriptions)
        for text in descriptions:
            rows.append(
                {
                    "*ContactName": contact,
                    "*InvoiceNumber": number,
                    "*InvoiceDate": f"{1 + n % 28}/10/2026",  # NZ: day/month/year
                    "*DueDate": "30/11/2026",
                    "*Description": text,
                    "*Quantity": rng.randint(1, 9),
                    "*UnitAmount": f"{rng.randint(100, 99999) / 100:.2f}",
                    "*AccountCode": "200",
                    "*TaxType": "GST on Income",
                }
            )
    rng.shuffle(rows)  # lines of one invoice far apart, and out of order...
    # ...but a document's lines keep their input order: the proof reads them back in order.
    order: dict[str, list[str]] = {}
    for row in rows:
        order.setdefault(row["*InvoiceNumber"], []).append(row["*Description"])
    for number, (contact, _) in expected.items():
        expected[number] = (contact, order[number])
    source = tmp_path / "rows.jsonl"
    source.write_text(_singer("invoice_rows", rows))

    run = run_target(org.config(tmp_path, row_status="AUTHORISED"), tmp_path, source)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    assert Counter(a["action"] for a in run.audit if a["stream"] == "invoice_rows") == {
        "created": 1000
    }
    assert Counter(a["stream"] for a in run.audit) == {
        "invoice_rows": 1000,
        "invoice_rows.contacts": 40,
    }

    invoices = org.all("Invoices", "Invoices", pageSize="1000")
    assert len(invoices) == 1000
    got = {
        i["InvoiceNumber"]: (i["Contact"]["Name"], [line["Description"] for line in i["LineItems"]])
        for i in invoices
    }
    assert got == expected
    assert {i["Status"] for i in invoices} == {"AUTHORISED"}
    assert {i["Type"] for i in invoices} == {"ACCREC"}
    first = next(i for i in invoices if i["InvoiceNumber"] == "ROWS-0000")
    assert first["DateString"].startswith("2026-10-01")
    assert sorted(c["Name"] for c in org.all("Contacts", "Contacts")) == contacts


def test_a_total_mismatch_and_a_bad_date_reject_only_their_documents(
    pool: OrgPool, tmp_path: Path
) -> None:
    org = pool.take()
    base = {"ContactName": "Harbourside Bakery", "AccountCode": "200", "TaxType": "OUTPUT2"}
    rows = [
        {**base, "InvoiceNumber": "T-1", "InvoiceDate": "1/10/2026", "Total": "23.00",
         "Description": "a", "Quantity": 2, "UnitAmount": "10.00"},
        {**base, "InvoiceNumber": "T-2", "InvoiceDate": "31/02/2026", "Total": "11.50",
         "Description": "b", "Quantity": 1, "UnitAmount": "10.00"},
        {**base, "InvoiceNumber": "T-3", "InvoiceDate": "2/10/2026", "Total": "11.50",
         "Description": "c", "Quantity": 1, "UnitAmount": "10.00"},
        {**base, "InvoiceNumber": "T-1", "InvoiceDate": "1/10/2026", "Total": "23.00",
         "Description": "a2", "Quantity": 1, "UnitAmount": "0.01"},
        {**base, "ContactName": " ", "InvoiceNumber": "T-4", "Colour": "red"},
    ]  # fmt: skip
    source = tmp_path / "rows.jsonl"
    source.write_text(_singer("invoice_rows", rows))
    run = run_target(org.config(tmp_path), tmp_path, source)
    assert run.returncode == 0, run.stderr[-3000:]
    # A row without its contact is rejected alone, as it arrived; a column no template has is
    # named once in the log.
    assert run.rejects[0] == {
        "stream": "invoice_rows",
        "record": rows[4],
        "reasons": ["row 5 ContactName: empty (required by Xero's template)"],
    }
    assert "column(s) Colour are no column of Xero's template; not written" in run.stderr
    reasons = {
        r["record"]["_sdc_rows"][0]["record"]["InvoiceNumber"]: r["reasons"]
        for r in run.rejects[1:]
    }
    assert reasons == {
        "T-1": [
            "row 1 Total: 23.00 does not match the lines, which come to 23.01 (amounts "
            "exclusive of tax, rounded as Xero does)"
        ],
        "T-2": ["row 2 InvoiceDate: '31/02/2026' is not a valid day/month/year date"],
    }
    # The rejects hold the rows exactly as they arrived, with their numbers.
    assert run.rejects[1]["record"]["_sdc_rows"] == [
        {"row": 1, "record": rows[0]},
        {"row": 4, "record": rows[3]},
    ]
    invoices = org.all("Invoices", "Invoices")
    assert [(i["InvoiceNumber"], i["Status"], i["Total"]) for i in invoices] == [
        ("T-3", "DRAFT", 11.5)
    ]


def test_rows_need_name_among_the_contacts_keys(pool: OrgPool, tmp_path: Path) -> None:
    org = pool.take()
    row = {"ContactName": "Harbourside Bakery", "InvoiceNumber": "K-1", "Description": "a"}
    source = tmp_path / "rows.jsonl"
    source.write_text(_singer("invoice_rows", [row]))
    config = org.config(tmp_path, natural_keys={"contacts": ["ContactNumber"]})
    run = run_target(config, tmp_path, source)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["reasons"] for r in run.rejects] == [
        [
            "the natural_keys setting leaves Name out of the contacts' keys, and rows name "
            "their contact by ContactName only"
        ]
    ]
    assert run.audit == []
    assert org.all("Invoices", "Invoices") == []

"""target-xero against a sandbox over HTTP: create, update and upsert for every resource."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._target_support import (
    Org,
    OrgPool,
    fixture_messages,
    run_target,
    sandbox_pool,
    singer_file,
)

# Xero path of each stream's documents, as /_sandbox/counts names them.
PATHS = {
    "accounts": "Accounts",
    "tracking_categories": "TrackingCategories",
    "contacts": "Contacts",
    "items": "Items",
    "invoices": "Invoices",
    "credit_notes": "CreditNotes",
    "purchase_orders": "PurchaseOrders",
    "quotes": "Quotes",
    "manual_journals": "ManualJournals",
    "bank_transactions": "BankTransactions",
    "payments": "Payments",
}
# Documents the fixtures create per stream.
CREATED = {
    "accounts": 1,
    "tracking_categories": 1,
    "contacts": 2,
    "items": 1,
    "invoices": 2,
    "credit_notes": 1,
    "purchase_orders": 1,
    "quotes": 1,
    "manual_journals": 1,
    "bank_transactions": 1,
    "payments": 1,
}
PRIMARY_KEYS = {
    "accounts": "AccountID",
    "tracking_categories": "TrackingCategoryID",
    "contacts": "ContactID",
    "items": "ItemID",
    "invoices": "InvoiceID",
    "credit_notes": "CreditNoteID",
    "purchase_orders": "PurchaseOrderID",
    "quotes": "QuoteID",
    "manual_journals": "ManualJournalID",
    "bank_transactions": "BankTransactionID",
    "payments": "PaymentID",
}


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(empty=4)


@pytest.fixture
def org(pool: OrgPool) -> Org:
    return pool.take()


def _loaded(org: Org, tmp_path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    config = org.config(tmp_path, batch_size=2)
    before = org.counts()
    run = run_target(config, tmp_path, "base.singer", "documents.singer")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == [], run.rejects
    for stream, n in CREATED.items():
        assert run.actions(stream) == ["created"] * n, (stream, run.audit)
    return config, before


def test_every_resource_is_created_with_references_resolved(org: Org, tmp_path: Path) -> None:
    _, before = _loaded(org, tmp_path)
    after = org.counts()
    for stream, n in CREATED.items():
        assert after[PATHS[stream]] - before.get(PATHS[stream], 0) == n, stream

    contacts = {c["Name"]: c for c in org.all("Contacts", "Contacts")}
    invoices = {i["InvoiceNumber"]: i for i in org.all("Invoices", "Invoices")}
    invoice = invoices["TX-INV-001"]
    assert invoice["Contact"]["ContactID"] == contacts["Tasman Traders"]["ContactID"]
    assert invoice["Status"] == "AUTHORISED"
    widget_line = next(li for li in invoice["LineItems"] if li.get("ItemCode") == "TX-WIDGET")
    assert [(t["Name"], t["Option"]) for t in widget_line["Tracking"]] == [("Region", "North")]
    assert invoices["TX-BILL-1"]["Contact"]["ContactID"] == contacts["Kauri Supplies"]["ContactID"]
    payments = org.all("Payments", "Payments")
    assert [p["Invoice"]["InvoiceID"] for p in payments] == [invoice["InvoiceID"]]
    assert str(invoice["AmountDue"]) == "122.50"  # 172.50 total less the 50.00 payment
    credit = org.all("CreditNotes", "CreditNotes")[0]
    assert credit["Contact"]["ContactID"] == contacts["Tasman Traders"]["ContactID"]


def test_second_load_upserts_by_natural_key_without_duplicates(org: Org, tmp_path: Path) -> None:
    config, _ = _loaded(org, tmp_path)
    counts = org.counts()
    run = run_target(config, tmp_path, "changed.singer")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == [], run.rejects
    assert org.counts() == counts  # nothing created twice
    for stream in (
        "accounts",
        "contacts",
        "items",
        "invoices",
        "credit_notes",
        "purchase_orders",
        "quotes",
        "tracking_categories",
    ):
        assert "updated" in run.actions(stream), (stream, run.audit)
    # Payments cannot be edited; the same payment is recognised, not paid twice.
    assert run.actions("payments") == ["unchanged"]
    contacts = {c["Name"]: c for c in org.all("Contacts", "Contacts")}
    assert contacts["Tasman Traders"]["EmailAddress"] == "changed@example.com"
    invoice = org.get("Invoices", InvoiceNumbers="TX-INV-001")["Invoices"][0]
    assert invoice["Reference"] == "changed"
    item = org.get("Items", where='Code=="TX-WIDGET"')["Items"][0]
    assert item["Description"] == "A better widget"
    region = org.get("TrackingCategories", where='Name=="Region"')["TrackingCategories"][0]
    assert sorted(o["Name"] for o in region["Options"]) == ["East", "North", "South"]
    account = org.get("Accounts", where='Code=="771"')["Accounts"][0]
    assert account["Description"] == "Changed by target-xero tests"

    again = run_target(config, tmp_path, "changed.singer")
    assert again.returncode == 0, again.stderr[-3000:]
    assert [a for a in again.audit if a["action"] != "unchanged"] == []  # nothing left to change
    assert org.counts() == counts


def test_records_carrying_their_xero_id_update_that_document(org: Org, tmp_path: Path) -> None:
    config, _ = _loaded(org, tmp_path)
    written = {}
    for entry in run_target(config, tmp_path, "base.singer", "documents.singer").audit:
        written.setdefault(entry["stream"], entry["xero_id"])
    counts = org.counts()
    messages = []
    for message in fixture_messages("changed.singer"):
        if message["type"] == "RECORD":
            stream = message["stream"]
            record = message["record"]
            if stream == "contacts" and record["Name"] == "Tasman Traders":
                # Renamed through its ID: only the ID can find it now.
                record = {**record, "ContactID": written["contacts"], "Name": "Tasman Traders Ltd"}
            elif stream == "invoices" and record["InvoiceNumber"] == "TX-INV-001":
                record = {
                    **record,
                    "InvoiceID": written["invoices"],
                    "InvoiceNumber": "TX-INV-001A",
                }
            else:
                continue
            message = {**message, "record": record}
        messages.append(message)
    run = run_target(config, tmp_path, singer_file(tmp_path, "by_id.singer", messages))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    by_stream = {a["stream"]: a for a in run.audit}
    assert by_stream["contacts"]["action"] == "updated"
    assert by_stream["contacts"]["xero_id"] == written["contacts"]
    assert by_stream["invoices"]["xero_id"] == written["invoices"]
    assert org.counts() == counts
    contact = org.get("Contacts", IDs=written["contacts"])["Contacts"][0]
    assert contact["Name"] == "Tasman Traders Ltd"
    invoice = org.get("Invoices", IDs=written["invoices"])["Invoices"][0]
    assert invoice["InvoiceNumber"] == "TX-INV-001A"


def test_foreign_ids_fall_back_to_natural_key_then_create(org: Org, tmp_path: Path) -> None:
    config, _ = _loaded(org, tmp_path)
    contacts_before = org.counts()["Contacts"]
    schema = next(m for m in fixture_messages("base.singer") if m.get("stream") == "contacts")
    foreign_known = {"ContactID": str(uuid.uuid4()), "Name": "Kauri Supplies", "Website": "x"}
    foreign_new = {"ContactID": str(uuid.uuid4()), "Name": "Copied From Another Org"}
    path = singer_file(
        tmp_path,
        "foreign.singer",
        [
            schema,
            {
                "type": "RECORD",
                "stream": "contacts",
                "record": {**foreign_known, "TaxNumber": "123"},
            },
            {"type": "RECORD", "stream": "contacts", "record": foreign_new},
        ],
    )
    run = run_target(config, tmp_path, path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [a["action"] for a in run.audit] == ["updated", "created"]
    kauri = org.get("Contacts", where='Name=="Kauri Supplies"')["Contacts"][0]
    assert run.audit[0]["xero_id"] == kauri["ContactID"]
    assert run.audit[0]["source_id"] == foreign_known["ContactID"]
    assert kauri["TaxNumber"] == "123"
    assert org.counts()["Contacts"] == contacts_before + 1

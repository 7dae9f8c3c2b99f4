"""Unit tests of target-xero's pure parts: where literals, idempotency keys, dates, checks."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from target_xero.directory import Directory, key_value, norm, where_literal
from target_xero.exchange import IN_FLIGHT, idempotency_key
from target_xero.held import HeldRecords
from target_xero.loader import Loader
from target_xero.outcomes import Outcomes
from target_xero.records import RecordChecker, drop_fields, xero_date
from xero_api.resources import Key, resource_for_stream

SCHEMAS = Path(__file__).parents[2] / "schemas"


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("Acme", '"Acme"'),
        ('Say "hi"', '"Say \\"hi\\""'),
        ('x" OR Name!="', '"x\\" OR Name!=\\""'),
        ("back\\slash", '"back\\\\slash"'),
        (Decimal("12.50"), "12.50"),
        (True, "true"),
    ],
)
def test_where_literals_cannot_end_the_string_early(value: object, literal: str) -> None:
    assert where_literal("Name", value) == literal


def test_where_literal_ids_must_be_guids() -> None:
    guid = "5b0a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    assert where_literal("ContactID", guid) == f'Guid("{guid}")'
    with pytest.raises(ValueError, match="not a GUID"):
        where_literal("Contact.ContactID", 'x") OR 1==1 OR ("')


def test_idempotency_key_follows_the_content_only() -> None:
    body = {"Invoices": [{"InvoiceNumber": "A", "Total": Decimal("1.50"), "Type": "ACCREC"}]}
    reordered = {"Invoices": [{"Type": "ACCREC", "Total": Decimal("1.50"), "InvoiceNumber": "A"}]}
    key = idempotency_key("t1", "POST", "Invoices", {"summarizeErrors": "false"}, body)
    assert key == idempotency_key("t1", "POST", "Invoices", {"summarizeErrors": "false"}, reordered)
    assert key.startswith("target-xero-")
    assert len(key) <= 128
    assert key != idempotency_key("t2", "POST", "Invoices", {"summarizeErrors": "false"}, body)
    assert key != idempotency_key("t1", "PUT", "Invoices", {"summarizeErrors": "false"}, body)
    changed = {"Invoices": [{"InvoiceNumber": "A", "Total": Decimal("1.51"), "Type": "ACCREC"}]}
    assert key != idempotency_key("t1", "POST", "Invoices", {"summarizeErrors": "false"}, changed)


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("2026-10-01", "2026-10-01"),
        ("2026-10-01T00:00:00.000000+00:00", "2026-10-01"),
        ("2026-10-01T00:00:00Z", "2026-10-01"),
        ("2026-10-01T09:30:00+13:00", "2026-09-30T20:30:00"),
        ("/Date(1419937200000+0000)/", "2014-12-30T11:00:00"),
    ],
)
def test_dates_are_sent_the_way_xero_takes_them(given: str, sent: str) -> None:
    assert xero_date(given) == sent


def test_natural_keys_compare_case_insensitively_and_dates_and_money_exactly() -> None:
    record = {"Invoice": {"InvoiceID": "ABC"}, "Date": "2026-10-08T00:00:00Z", "Amount": 50}
    doc = {
        "Invoice": {"InvoiceID": "abc"},
        "Date": "/Date(1791417600000+0000)/",
        "Amount": Decimal("50.00"),
    }
    spec = Key("Invoice.InvoiceID", "Date", "Amount")
    assert key_value(record, spec) == key_value(doc, spec)
    assert key_value({"Date": "2026-10-08"}, spec) is None  # a part missing: no key
    assert norm("  Tasman Traders ") == norm("tasman traders")


def test_record_checker_rejects_with_reasons_and_converts_dates() -> None:
    schema = json.loads((SCHEMAS / "invoices.json").read_text())
    checker = RecordChecker(schema)
    good = {
        "InvoiceNumber": "A",
        "Date": "2026-10-01T00:00:00Z",
        "Total": Decimal("1.00"),
        "LineItems": [{"Quantity": Decimal("1"), "UnitAmount": 2}],
    }
    assert checker.problems(good) == []
    assert good["Date"] == "2026-10-01T00:00:00Z"  # checking leaves the record as it arrived
    payload = {**good, "DueDate": "2026-10-08T09:30:00+02:00"}
    checker.convert(payload)
    assert (payload["Date"], payload["DueDate"]) == ("2026-10-01", "2026-10-08T07:30:00")
    assert good["Date"] == "2026-10-01T00:00:00Z"
    assert checker.problems({"Total": "lots"}) == ["schema: Total must be number or null"]
    problems = checker.problems({"DueDate": "31/12/2026"})
    assert len(problems) == 1
    assert "31/12/2026" in problems[0]
    assert "DueDate" in problems[0]


def test_read_only_fields_are_dropped_everywhere() -> None:
    payload = {
        "Total": 1,
        "Name": "x",
        "ValidationErrors": [],
        "LineItems": [{"ValidationErrors": [], "Description": "d"}],
    }
    drop_fields(payload, ("Total",), "LineItems")
    assert payload == {"Name": "x", "LineItems": [{"Description": "d"}]}


class _SwappingXero:
    """A writer whose answer lists the elements in the wrong order (a broken echo)."""

    tenant_id = "t"

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        return {"Contacts": []}

    def write(
        self, method: str, path: str, params: Mapping[str, str], body: Any, idempotency_key: str
    ) -> Mapping[str, Any]:
        elements = [{**e, "ContactID": str(uuid.uuid4())} for e in body["Contacts"]]
        return {"Contacts": elements[::-1]}


def test_answers_that_do_not_echo_the_records_are_not_taken_as_written(tmp_path: Path) -> None:
    outcomes = Outcomes(
        str(tmp_path / "audit.jsonl"), str(tmp_path / "rejects.jsonl"), logging.getLogger("test")
    )
    xero = _SwappingXero()
    loader = Loader(xero, outcomes, Directory(xero), batch_size=50, dry_run=False)
    loader.load(
        "contacts", resource_for_stream("contacts"), [{"Name": "First"}, {"Name": "Second"}]
    )
    outcomes.close()
    assert outcomes.counts["contacts"]["rejected"] == 2
    reasons = (tmp_path / "rejects.jsonl").read_text()
    assert "Xero answered with Name 'Second' for the element sent as 'First'" in reasons


class _StepXero:
    """An empty organisation that writes manual journals and refuses to void the second."""

    tenant_id = "t"

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, Any]] = []

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        return {"ManualJournals": []}

    def write(
        self, method: str, path: str, params: Mapping[str, str], body: Any, idempotency_key: str
    ) -> Mapping[str, Any]:
        self.writes.append((method, path, body))
        answer = []
        for element in body["ManualJournals"]:
            echo = {"ManualJournalID": str(uuid.uuid4()), **element}
            if element.get("Status") == "VOIDED" and element["ManualJournalID"] == self.refuse:
                echo["ValidationErrors"] = [{"Message": "cannot void"}]
            answer.append(echo)
            if element.get("Narration") == "second":
                self.refuse = echo["ManualJournalID"]
        return {"ManualJournals": answer}

    refuse = ""


def test_status_steps_are_sent_as_one_batch_and_failures_rejected_per_record(
    tmp_path: Path,
) -> None:
    outcomes = Outcomes(
        str(tmp_path / "audit.jsonl"), str(tmp_path / "rejects.jsonl"), logging.getLogger("test")
    )
    xero = _StepXero()
    loader = Loader(xero, outcomes, Directory(xero), batch_size=50, dry_run=False)
    records = [
        {"Narration": name, "Date": "2024-01-02", "Status": "VOIDED", "JournalLines": []}
        for name in ("first", "second", "third")
    ]
    loader.load("manual_journals", resource_for_stream("manual_journals"), records)
    outcomes.close()
    # One create request (PUT: create only), then one moving all three to VOIDED.
    assert [(m, p) for m, p, _ in xero.writes] == [
        ("PUT", "ManualJournals"),
        ("POST", "ManualJournals"),
    ]
    assert [e["Status"] for e in xero.writes[1][2]["ManualJournals"]] == ["VOIDED"] * 3
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [r["record"]["Narration"] for r in rejects] == ["second"]
    assert "not moved to VOIDED: cannot void" in rejects[0]["reasons"][0]


_KNOWN_CONTACT = str(uuid.uuid4())


class _ConcurrentXero:
    """An organisation with one contact whose first write answers only after two more writes
    have arrived (proving several requests are in flight); counts writes in flight."""

    tenant_id = "t"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.others_arrived = threading.Event()
        self.active = 0
        self.most_active = 0
        self.arrived = 0
        self.waited = False

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        docs = [{"ContactID": _KNOWN_CONTACT, "Name": "Known"}] if path == "Contacts" else []
        return {path: docs, "pagination": {"itemCount": len(docs)}}

    def write(
        self, method: str, path: str, params: Mapping[str, str], body: Any, idempotency_key: str
    ) -> Mapping[str, Any]:
        with self.lock:
            self.arrived += 1
            first = self.arrived == 1
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            if self.arrived == 3:
                self.others_arrived.set()
        if first:
            self.waited = self.others_arrived.wait(timeout=10)
        with self.lock:
            self.active -= 1
        pk = path[:-1] + "ID"
        return {path: [{**e, pk: str(uuid.uuid4())} for e in body[path]]}


def _load(
    tmp_path: Path, xero: _ConcurrentXero, stream: str, records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Load one batch (2 records a request); the audit lines."""
    outcomes = Outcomes(str(tmp_path / "audit.jsonl"), None, logging.getLogger("test"))
    loader = Loader(xero, outcomes, Directory(xero), batch_size=2, dry_run=False)
    loader.load(stream, resource_for_stream(stream), records)
    loader.close()
    outcomes.close()
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


def test_writes_of_a_batch_are_in_flight_together_and_settled_in_order(tmp_path: Path) -> None:
    xero = _ConcurrentXero()
    audit = _load(tmp_path, xero, "contacts", [{"Name": f"Contact {n}"} for n in range(6)])
    # The first request was still waiting for its answer when the third arrived...
    assert xero.waited
    assert 2 <= xero.most_active <= IN_FLIGHT
    # ...and was answered last, yet records are settled in input order.
    assert [a["action"] for a in audit] == ["created"] * 6
    keys = [a["idempotency_key"] for a in audit]
    assert keys[0] == keys[1] != keys[2] == keys[3] != keys[4] == keys[5]


def test_documents_xero_numbers_itself_are_written_one_request_at_a_time(tmp_path: Path) -> None:
    # Invoices without their number: Xero numbers them in the order they arrive.
    xero = _ConcurrentXero()
    xero.others_arrived.set()
    invoice = {"Type": "ACCREC", "Contact": {"ContactID": _KNOWN_CONTACT}, "LineItems": []}
    audit = _load(tmp_path, xero, "invoices", [dict(invoice) for _ in range(6)])
    assert [a["action"] for a in audit] == ["created"] * 6
    assert xero.arrived == 3
    assert xero.most_active == 1


def test_held_records_are_spooled_and_read_back_in_order_and_chunks() -> None:
    spool = HeldRecords()
    records = [
        {"InvoiceNumber": f"INV-{n}", "Total": Decimal("10.25"), "Lines": [n]} for n in range(5)
    ]
    spool.add(records[:2])
    spool.add(records[2:])
    assert spool.count == 5
    assert list(spool.chunks(2)) == [records[:2], records[2:4], records[4:]]


class _DroppingXero:
    """An empty organisation that saves manual journals without the account they name."""

    tenant_id = "t"

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        return {"ManualJournals": []}

    def write(
        self, method: str, path: str, params: Mapping[str, str], body: Any, idempotency_key: str
    ) -> Mapping[str, Any]:
        warning = "Account code '999' has been removed as it does not match a recognised account."
        return {
            "ManualJournals": [
                {"ManualJournalID": str(uuid.uuid4()), **e, "Warnings": [{"Message": warning}]}
                for e in body["ManualJournals"]
            ]
        }


def test_a_document_saved_without_an_account_it_was_sent_is_rejected(tmp_path: Path) -> None:
    outcomes = Outcomes(
        str(tmp_path / "audit.jsonl"), str(tmp_path / "rejects.jsonl"), logging.getLogger("test")
    )
    xero = _DroppingXero()
    loader = Loader(xero, outcomes, Directory(xero), batch_size=50, dry_run=False)
    record = {"Narration": "rent", "Date": "2024-01-02", "JournalLines": []}
    loader.load("manual_journals", resource_for_stream("manual_journals"), [record])
    outcomes.close()
    assert outcomes.counts["manual_journals"]["rejected"] == 1
    reasons = (tmp_path / "rejects.jsonl").read_text()
    assert "without an account" in reasons
    assert "Account code '999' has been removed" in reasons

"""target-xero in an organisation that already holds data, over HTTP against the sandbox: a
create never updates, a clash names the document holding the number or name, a later record
with the same key supersedes an earlier one, write modes, natural_keys, rejects as they came."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from importlib import metadata
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


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(empty=6)


@pytest.fixture
def org(pool: OrgPool) -> Org:
    return pool.take()


def _schema(stream: str, key_properties: list[str] | None = None) -> dict[str, Any]:
    for name in ("base.singer", "documents.singer"):
        for message in fixture_messages(name):
            if message["type"] == "SCHEMA" and message["stream"] == stream:
                return {**message, "key_properties": key_properties or []}
    raise AssertionError(stream)


def _records(stream: str, *records: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "RECORD", "stream": stream, "record": r} for r in records]


def _invoice(number: str, contact: str, amount: str = "10.00", **extra: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "InvoiceNumber": number,
        "Contact": {"Name": contact},
        "Date": "2025-05-01T00:00:00Z",
        "DueDate": "2025-05-31T00:00:00Z",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Line",
                "Quantity": 1,
                "UnitAmount": Decimal(amount),
                "AccountCode": "200",
            }
        ],
        **extra,
    }


def _populate(org: Org, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Two contacts and a sales invoice the organisation holds before the tests' loads."""
    path = singer_file(
        tmp_path,
        "existing.singer",
        [
            _schema("contacts"),
            *_records(
                "contacts",
                {"Name": "Held Name", "ContactNumber": "N-1"},
                {"Name": "Other Party", "ContactNumber": "N-2"},
            ),
            _schema("invoices"),
            *_records("invoices", _invoice("CLASH-1", "Held Name", "71.95")),
        ],
    )
    run = run_target(org.config(tmp_path / "setup"), tmp_path, path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    assert run.actions("contacts") == ["created", "created"]
    return {
        "contact": org.get("Contacts", where='Name=="Held Name"')["Contacts"][0],
        "invoice": org.get("Invoices", InvoiceNumbers="CLASH-1")["Invoices"][0],
    }


def test_a_record_that_matches_nothing_never_overwrites_what_holds_its_number(
    org: Org, tmp_path: Path
) -> None:
    held = _populate(org, tmp_path)
    # Same number, another contact: the natural key (number + type + contact) matches nothing.
    path = singer_file(
        tmp_path,
        "clash.singer",
        [_schema("invoices"), *_records("invoices", _invoice("CLASH-1", "Other Party", "1.23"))],
    )
    invoice = held["invoice"]
    # A dry run predicts the refusal, naming the same document, and writes nothing.
    counts = org.counts()
    dry = run_target(org.config(tmp_path / "dry", dry_run=True), tmp_path, path)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert dry.audit == []
    [predicted] = dry.rejects[0]["reasons"]
    assert predicted.startswith("InvoiceNumber 'CLASH-1' is held by the existing Invoice")
    assert invoice["InvoiceID"] in predicted
    assert org.counts() == counts

    run = run_target(org.config(tmp_path), tmp_path, path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.audit == []
    [reject] = run.rejects
    [reason] = reject["reasons"]
    assert reason.startswith("Invoice # must be unique.")
    for part in (invoice["InvoiceID"], "'CLASH-1'", "contact 'Held Name'"):
        assert part in reason
    # The record comes back as it arrived (its dates were not rewritten for Xero).
    assert reject["record"]["Date"] == "2025-05-01T00:00:00Z"
    # The log names the package version (not "[could not be detected]").
    assert f"target-xero v{metadata.version('singer-xero')}," in run.stderr
    after = org.get("Invoices", IDs=invoice["InvoiceID"])["Invoices"][0]
    assert after == invoice


def test_a_contact_whose_name_is_held_is_rejected_naming_the_holder(
    org: Org, tmp_path: Path
) -> None:
    held = _populate(org, tmp_path)["contact"]
    path = singer_file(
        tmp_path,
        "contact.singer",
        [_schema("contacts"), *_records("contacts", {"Name": "Held Name", "ContactNumber": "N-9"})],
    )
    # Matched by ContactNumber only: N-9 is nobody, so the record is a create, and Xero
    # refuses the name another contact holds.
    config = org.config(tmp_path, natural_keys={"contacts": ["ContactNumber"]})
    run = run_target(config, tmp_path, path)
    assert run.returncode == 0, run.stderr[-3000:]
    [reason] = run.rejects[0]["reasons"]
    assert "is already assigned to another contact" in reason
    assert held["ContactID"] in reason
    assert "'N-1'" in reason
    assert org.get("Contacts", IDs=held["ContactID"])["Contacts"][0] == held

    # With the built-in keys (ContactNumber, then Name) the same record matches by Name.
    run = run_target(org.config(tmp_path), tmp_path, path)
    assert run.rejects == []
    assert [(a["action"], a["xero_id"]) for a in run.audit] == [("updated", held["ContactID"])]


def test_a_later_record_with_the_same_key_supersedes_an_earlier_one(
    org: Org, tmp_path: Path
) -> None:
    _populate(org, tmp_path)
    first = _invoice("DUP-1", "Other Party", "1.00")
    second = _invoice("DUP-1", "Other Party", "2.00")
    path = singer_file(
        tmp_path, "dup.singer", [_schema("invoices"), *_records("invoices", first, second)]
    )
    run = run_target(org.config(tmp_path), tmp_path, path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    assert run.actions("invoices") == ["superseded", "created"]
    [listed] = org.get("Invoices", InvoiceNumbers="DUP-1")["Invoices"]
    assert listed["InvoiceID"] == run.audit[1]["xero_id"]
    invoice = org.get(f"Invoices/{listed['InvoiceID']}")["Invoices"][0]
    assert [str(li["UnitAmount"]) for li in invoice["LineItems"]] == ["2.00"]

    # Declared key properties are Singer's key: records with other keys are separate records.
    keyed = [_schema("invoices", ["Reference"])]
    keyed += _records(
        "invoices",
        _invoice("DUP-2", "Other Party", Reference="a"),
        _invoice("DUP-3", "Other Party", Reference="a"),
        _invoice("DUP-4", "Other Party", Reference="b"),
    )
    run = run_target(org.config(tmp_path), tmp_path, singer_file(tmp_path, "k.singer", keyed))
    assert run.actions("invoices") == ["superseded", "created", "created"]
    numbers = {i["InvoiceNumber"] for i in org.all("Invoices", "Invoices")}
    assert {"DUP-3", "DUP-4"} <= numbers
    assert "DUP-2" not in numbers


def test_create_only_reports_matches_as_existing_and_leaves_them(org: Org, tmp_path: Path) -> None:
    held = _populate(org, tmp_path)
    counts = org.counts()
    path = singer_file(
        tmp_path,
        "create_only.singer",
        [
            _schema("contacts"),
            *_records(
                "contacts",
                {"Name": "Held Name", "ContactNumber": "N-1", "EmailAddress": "new@example.com"},
                {"Name": "Brand New", "ContactNumber": "N-3"},
            ),
            _schema("invoices"),
            *_records(
                "invoices",
                _invoice("CLASH-1", "Held Name", "5.00"),  # matches: left as it is
                _invoice("NEW-1", "Held Name"),  # new, for the existing contact
            ),
        ],
    )
    run = run_target(org.config(tmp_path, write_mode="create_only"), tmp_path, path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    # Matches are reported after the batch's writes.
    assert run.actions("contacts") == ["created", "exists"]
    assert run.actions("invoices") == ["created", "exists"]
    assert run.audit[1]["xero_id"] == held["contact"]["ContactID"]
    assert org.get("Contacts", IDs=held["contact"]["ContactID"])["Contacts"][0] == held["contact"]
    assert org.get("Invoices", IDs=held["invoice"]["InvoiceID"])["Invoices"][0] == held["invoice"]
    new = org.get("Invoices", InvoiceNumbers="NEW-1")["Invoices"][0]
    assert new["Contact"]["ContactID"] == held["contact"]["ContactID"]
    assert org.counts()["Invoices"] == counts["Invoices"] + 1
    assert "summary invoices: created=1 updated=0 exists=1 rejected=0" in run.stderr


def test_update_only_rejects_what_matches_nothing(org: Org, tmp_path: Path) -> None:
    held = _populate(org, tmp_path)
    counts = org.counts()
    path = singer_file(
        tmp_path,
        "update_only.singer",
        [
            _schema("contacts"),
            *_records(
                "contacts",
                {"Name": "Held Name", "EmailAddress": "changed@example.com"},
                {"Name": "Nobody Yet"},
            ),
        ],
    )
    run = run_target(org.config(tmp_path, write_mode="update_only"), tmp_path, path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [(a["action"], a["xero_id"]) for a in run.audit] == [
        ("updated", held["contact"]["ContactID"])
    ]
    [reject] = run.rejects
    assert reject["record"] == {"Name": "Nobody Yet"}
    assert reject["reasons"] == [
        "write_mode is update_only and no Contact in the target organisation matches this "
        "record (by ContactID or ContactNumber or Name)"
    ]
    assert org.counts() == counts
    contact = org.get("Contacts", IDs=held["contact"]["ContactID"])["Contacts"][0]
    assert contact["EmailAddress"] == "changed@example.com"

"""target-xero against a sandbox over HTTP: every record ends written or rejected, in order.

Partly failing batches, bad records, unknown streams, dry runs, the audit and rejects files,
``fail_on_reject``, and dependency order with interleaved streams and small buffers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._target_support import Org, OrgPool, run_target, sandbox_pool, singer_file


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(empty=7)


@pytest.fixture
def org(pool: OrgPool) -> Org:
    return pool.take()


def test_partly_failing_batch_writes_the_good_and_rejects_the_bad(org: Org, tmp_path: Path) -> None:
    config = org.config(tmp_path, batch_size=50)
    run = run_target(config, tmp_path, "partial.singer")
    assert run.returncode == 0, run.stderr[-3000:]

    contacts = {c["Name"] for c in org.all("Contacts", "Contacts")}
    assert {"Partial Good One", "Partial Good Two"} <= contacts
    assert "Partial Bad" not in contacts
    numbers = {i["InvoiceNumber"] for i in org.all("Invoices", "Invoices")}
    assert "TX-P-1" in numbers
    assert not numbers & {"TX-P-2", "TX-P-3", "TX-P-4"}

    reasons = {
        r["record"].get("Name") or r["record"].get("InvoiceNumber"): r["reasons"]
        for r in run.rejects
    }
    assert set(reasons) == {"Partial Bad", "TX-P-2", "TX-P-3", "TX-P-4"}
    assert reasons["Partial Bad"] == ["Email address must be valid."]  # Xero's own words
    assert reasons["TX-P-2"] == ["Invoice not of valid type for creation"]
    assert "Nobody Known" in reasons["TX-P-3"][0]
    assert "'999'" in reasons["TX-P-4"][0]
    # The rejects file carries the record as it came in.
    bad = next(r for r in run.rejects if r["record"].get("Name") == "Partial Bad")
    assert bad["stream"] == "contacts"
    assert bad["record"] == {"Name": "Partial Bad", "EmailAddress": "not-an-email"}

    created = [a for a in run.audit if a["action"] == "created"]
    assert sorted(a["stream"] for a in created) == ["contacts", "contacts", "invoices"]
    for entry in created:
        assert set(entry) >= {"stream", "action", "xero_id", "idempotency_key"}
        assert entry["idempotency_key"].startswith("target-xero-")
        assert len(entry["idempotency_key"]) <= 128
    assert "summary contacts: created=2 updated=0 rejected=1" in run.stderr
    assert "summary invoices: created=1 updated=0 rejected=3" in run.stderr


def test_bad_records_are_rejected_with_reasons_not_tracebacks(org: Org, tmp_path: Path) -> None:
    run = run_target(org.config(tmp_path), tmp_path, "bad_records.singer")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    reasons = {
        r["record"]["Name"] if "Name" in r["record"] else r["record"]["InvoiceNumber"]: " ".join(
            r["reasons"]
        )
        for r in run.rejects
    }
    assert set(reasons) == {"Bad Types", "Bad Date", "TX-B-1"}
    assert "ContactPersons" in reasons["Bad Types"]
    assert "yesterday" in reasons["Bad Date"]
    assert "31/12/2026" in reasons["TX-B-1"]
    assert [a["action"] for a in run.audit] == ["created"]  # "Good After Bad"
    # State still comes out: every record before it is written or rejected.
    assert run.states == [{"bookmarks": {"fixture": {"position": 4}}}]


def test_unmapped_stream_is_rejected_and_fail_on_reject_exits_non_zero(
    org: Org, tmp_path: Path
) -> None:
    run = run_target(org.config(tmp_path, fail_on_reject=True), tmp_path, "unknown_stream.singer")
    assert run.returncode != 0
    assert "1 record(s) rejected" in run.stderr
    assert "Traceback" not in run.stderr
    assert [r["stream"] for r in run.rejects] == ["crm_people"]
    assert "stream_resource_map" in run.rejects[0]["reasons"][0]
    # Everything else was still written and the state emitted before exiting.
    assert [a["action"] for a in run.audit] == ["created"]
    assert run.states

    mapped = org.config(tmp_path, stream_resource_map={"crm_people": "contacts"})
    run = run_target(mapped, tmp_path, "unknown_stream.singer")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    assert sorted(a["action"] for a in run.audit) == ["created", "unchanged"]
    assert "From CRM" in {c["Name"] for c in org.all("Contacts", "Contacts")}


def test_dry_run_resolves_everything_and_writes_nothing(org: Org, tmp_path: Path) -> None:
    before = org.counts()
    run = run_target(
        org.config(tmp_path, dry_run=True),
        tmp_path,
        "base.singer",
        "documents.singer",
        "partial.singer",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert org.counts() == before
    assert {a["action"] for a in run.audit} == {"would_create"}
    # Dependents of documents that would be created resolve too (the payment's invoice).
    assert "payments" in {a["stream"] for a in run.audit}
    # Only what we can know without writing is rejected: the unknown contact and account.
    rejected = {r["record"].get("InvoiceNumber") for r in run.rejects}
    assert rejected == {"TX-P-3", "TX-P-4"}
    assert "would_create=" in run.stderr

    # Against documents that exist, a dry run reports updates and changes nothing.
    assert run_target(org.config(tmp_path), tmp_path, "base.singer").returncode == 0
    contacts = org.all("Contacts", "Contacts")
    dry = run_target(org.config(tmp_path, dry_run=True), tmp_path, "changed.singer")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "would_update" in {a["action"] for a in dry.audit if a["stream"] == "contacts"}
    assert org.all("Contacts", "Contacts") == contacts


def test_interleaved_streams_are_written_in_dependency_order(org: Org, tmp_path: Path) -> None:
    # Buffers of 2 records: the payments buffer fills first and must wait for the invoices
    # it pays, which in turn wait for their contacts.
    run = run_target(org.config(tmp_path, batch_size_rows=2), tmp_path, "interleaved.singer")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    order = [a["stream"] for a in run.audit]
    assert order == ["contacts", "contacts", "invoices", "invoices", "payments", "payments"]
    payments = org.all("Payments", "Payments")
    assert sorted(str(p["Amount"]) for p in payments) == ["10.00", "20.00"]
    # STATE only after the records before it were written: the last state is the last message.
    assert run.states[-1] == {"bookmarks": {"fixture": {"position": 5}}}


def test_another_taps_stream_lands_on_a_resource_through_stream_maps(
    org: Org, tmp_path: Path
) -> None:
    # A spreadsheet tap's rows: its own stream name, columns and key.
    schema = {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "email": {"type": ["string", "null"]},
        },
    }
    rows = [
        {"code": "SHEET-C001", "name": "Harbourside Bakery", "email": "a@harbourside.example"},
        {"code": "SHEET-C002", "name": "Kowhai Cycles", "email": None},
    ]
    messages = [
        {"type": "SCHEMA", "stream": "sheet_contacts", "schema": schema, "key_properties": ["code"]}
    ]
    messages += [{"type": "RECORD", "stream": "sheet_contacts", "record": r} for r in rows]
    path = singer_file(tmp_path, "sheet.singer", messages)
    config = org.config(
        tmp_path,
        stream_resource_map={"sheet_contacts": "contacts"},
        stream_maps={
            "sheet_contacts": {
                "__key_properties__": ["ContactNumber"],
                "__else__": "__NULL__",
                "ContactNumber": "code",
                "Name": "name",
                "EmailAddress": "email",
            }
        },
    )
    run = run_target(config, tmp_path, path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    assert [a["action"] for a in run.audit] == ["created", "created"]
    contacts = {c["ContactNumber"]: c for c in org.all("Contacts", "Contacts")}
    assert contacts["SHEET-C001"]["Name"] == "Harbourside Bakery"
    assert contacts["SHEET-C001"]["EmailAddress"] == "a@harbourside.example"
    # The next run of the same sheet finds every row by its ContactNumber.
    again = run_target(config, tmp_path, path)
    assert [a["action"] for a in again.audit] == ["unchanged", "unchanged"]

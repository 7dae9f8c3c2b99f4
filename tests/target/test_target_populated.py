"""The proof: a Demo Company copied into other, *populated* Demo Companies (tap-xero ->
target-xero over the sandbox, real processes) changes only what the documented rules matched.

The sandbox seeds every Demo Company with the same contact numbers (``C000001``...) and sales
invoice numbers (``INV-0001``...), and ``--overlap`` makes the first contacts and invoices
correspond (same name, same invoice contact). Every document of the target organisation is read
before and after each copy, and:

* nothing disappears; every new document is one the audit file says ``created``, and no more;
* every document whose content changed is one the audit says ``updated``, and every ``updated``
  one really was written; its record matched it by a documented key;
* every other change is one Xero derives (a payment lowering ``AmountDue``, a contact becoming a
  customer);
* every clash (a number or name another document holds) is a reject naming that document.

Once for each write mode: ``upsert``; ``create_only`` (nothing existing is changed);
``update_only`` with contacts matched by ``Name`` only (nothing is created).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._target_support import (
    DOCUMENT_STREAMS,
    SANDBOX_FLAGS,
    Org,
    OrgPool,
    TargetRun,
    run_target,
    tap_records,
)
from xero_sandbox.launcher import Sandbox

# stream -> (path, envelope, ID field, extra list parameters)
COLLECTIONS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "accounts": ("Accounts", "Accounts", "AccountID", {}),
    "tracking_categories": (
        "TrackingCategories",
        "TrackingCategories",
        "TrackingCategoryID",
        {"includeArchived": "true"},
    ),
    "contacts": ("Contacts", "Contacts", "ContactID", {"includeArchived": "true"}),
    "items": ("Items", "Items", "ItemID", {}),
    "invoices": ("Invoices", "Invoices", "InvoiceID", {}),
    "credit_notes": ("CreditNotes", "CreditNotes", "CreditNoteID", {}),
    "payments": ("Payments", "Payments", "PaymentID", {}),
    "manual_journals": ("ManualJournals", "ManualJournals", "ManualJournalID", {}),
    "bank_transactions": ("BankTransactions", "BankTransactions", "BankTransactionID", {}),
    "purchase_orders": ("PurchaseOrders", "PurchaseOrders", "PurchaseOrderID", {}),
    "quotes": ("Quotes", "Quotes", "QuoteID", {}),
}
# What Xero changes on a document when *another* one is written (a payment on an invoice, a
# first sale to a contact), and its clocks: not content a write of the document itself changes.
DERIVED = {
    "UpdatedDateUTC",
    "UpdatedDateUTCString",
    "AmountDue",
    "AmountPaid",
    "AmountCredited",
    "FullyPaidOnDate",
    "Payments",
    "CreditNotes",
    "Prepayments",
    "Overpayments",
    "Allocations",
    "RemainingCredit",
    "AppliedAmount",
    "IsCustomer",
    "IsSupplier",
    "Balances",
    "HasAttachments",
}
# Documented matches: the record and the document share one of these (after the record's
# references are mapped to the target's IDs); docs/target.md, "Record contract".
KEYS: dict[str, list[tuple[str, ...]]] = {
    "accounts": [("Code",), ("Name",)],
    "tracking_categories": [("Name",)],
    "contacts": [("ContactNumber",), ("Name",)],
    "items": [("Code",)],
    "invoices": [("InvoiceNumber", "Type", "Contact.ContactID")],
    "credit_notes": [("CreditNoteNumber", "Type", "Contact.ContactID")],
    "purchase_orders": [("PurchaseOrderNumber",)],
    "quotes": [("QuoteNumber",)],
    "manual_journals": [("Narration", "Date")],
    "bank_transactions": [("Contact.ContactID", "Date", "Type", "Total")],
    "payments": [("Invoice.InvoiceID", "Date", "Amount"), ("CreditNote.CreditNoteID", "Date")],
}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
Snapshot = dict[tuple[str, str], dict[str, Any]]


@dataclass
class World:
    pool: OrgPool
    records: dict[str, list[dict[str, Any]]]  # tap-xero's on the first Demo Company
    singer: Path  # the same, as tap-xero wrote it
    targets: list[str]  # the other, populated Demo Companies


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("populated")
    with Sandbox(tenants=4, scale=40, overlap=8, **SANDBOX_FLAGS) as sb:
        pool = OrgPool(sb)
        first, *others = sb.tenant_ids()
        records = tap_records(pool, tmp, "source", first, DOCUMENT_STREAMS)
        yield World(pool, records, tmp / "source.singer", others)


def _get(org: Org, stream: str) -> list[dict[str, Any]]:
    path, envelope, _, params = COLLECTIONS[stream]
    return org.all(path, envelope, **params)


def _snapshot(org: Org) -> Snapshot:
    snap: Snapshot = {}
    for stream, (_, _, pk, _) in COLLECTIONS.items():
        for doc in _get(org, stream):
            snap[(stream, doc[pk])] = doc
    return snap


def _content(stream: str, doc: dict[str, Any]) -> dict[str, Any]:
    content = {k: v for k, v in doc.items() if k not in DERIVED}
    if stream in ("invoices", "credit_notes") and content.get("Status") == "PAID":
        content["Status"] = "AUTHORISED"  # paid by a payment written for it
    return content


def _path(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.strip().casefold() == right.strip().casefold()
    return str(left) == str(right)


def _documented_match(
    stream: str, record: dict[str, Any], doc: dict[str, Any], ids: dict[str, str]
) -> bool:
    """Whether the record names ``doc`` by its ID or one of the stream's natural keys."""
    pk = COLLECTIONS[stream][2]
    if record.get(pk) == doc[pk]:  # its own ID (never, copying from another organisation)
        return True
    for key in KEYS[stream]:
        values = []
        for part in key:
            value = _path(record, part)
            values.append(ids.get(value, value) if part.endswith("ID") else value)
        if all(v not in (None, "") for v in values) and all(
            _same(v, _path(doc, part)) for v, part in zip(values, key, strict=True)
        ):
            return True
    return False


def _copy(world: World, tmp_path: Path, target: str, **settings: Any) -> None:
    org = Org(world.pool.sandbox, target, world.pool.token)
    before = _snapshot(org)
    run = run_target(org.config(tmp_path, **settings), tmp_path, world.singer)
    assert run.returncode == 0, run.stderr[-3000:]
    after = _snapshot(org)
    _account(world, run, before, after, settings.get("write_mode", "upsert"))


def _account(world: World, run: TargetRun, before: Snapshot, after: Snapshot, mode: str) -> None:
    created = {(a["stream"], a["xero_id"]) for a in run.audit if a["action"] == "created"}
    updated = {(a["stream"], a["xero_id"]) for a in run.audit if a["action"] == "updated"}
    assert sum(a["action"] == "created" for a in run.audit) == len(created)

    # Nothing disappears; the new documents are exactly the ones the audit says were created.
    assert before.keys() - after.keys() == set()
    assert after.keys() - before.keys() == created
    # Every content change is an audited update; every audited update was really written.
    kept = before.keys() & after.keys()
    touched = {k for k in kept if before[k] != after[k]}
    changed = {k for k in kept if _content(k[0], before[k]) != _content(k[0], after[k])}
    assert changed <= updated, sorted(changed - updated)[:5]
    assert updated <= touched, sorted(updated - touched)[:5]

    # Every update is a documented match between its record and the document it changed.
    ids = {a["source_id"]: a["xero_id"] for a in run.audit if a.get("source_id") and a["xero_id"]}
    by_source = {
        (stream, str(r[COLLECTIONS[stream][2]])): r
        for stream, records in world.records.items()
        for r in records
    }
    for entry in run.audit:
        if entry["action"] in ("updated", "unchanged", "exists"):
            stream = entry["stream"]
            record = by_source[(stream, entry["source_id"])]
            doc = before.get((stream, entry["xero_id"]))
            assert doc is not None, entry  # it matched a document the organisation had
            assert _documented_match(stream, record, doc, ids), (stream, record, doc)

    # Every clash is a reject naming the document that holds the number or name.
    clashes = 0
    for reject in run.rejects:
        assert reject["reasons"], reject
        for reason in reject["reasons"]:
            if "It is held by" not in reason:
                continue
            clashes += 1
            holder_id = GUID.search(reason.split("It is held by")[1])
            assert holder_id is not None, reason
            holder = next(
                doc
                for (stream, xero_id), doc in after.items()
                if stream == reject["stream"] and xero_id == holder_id.group()
            )
            shared = [
                f
                for f in ("InvoiceNumber", "CreditNoteNumber", "ContactNumber", "Name", "Code")
                if f in holder and _same(holder[f], reject["record"].get(f))
            ]
            assert shared, (reason, holder)
            assert f"{shared[0]} {holder[shared[0]]!r}" in reason

    actions = {a["action"] for a in run.audit}
    if mode == "upsert":
        # The world is built so that the copy meets all three: matches, new documents, clashes.
        assert updated
        assert created
        assert clashes
    elif mode == "create_only":
        assert updated == set()
        assert changed == set()
        assert "exists" in actions
        assert created
    else:
        assert created == set()
        assert updated
        assert any("write_mode is update_only" in r["reasons"][0] for r in run.rejects)


def test_copy_into_a_populated_organisation_upsert(world: World, tmp_path: Path) -> None:
    _copy(world, tmp_path, world.targets[0])


def test_copy_into_a_populated_organisation_create_only(world: World, tmp_path: Path) -> None:
    _copy(world, tmp_path, world.targets[1], write_mode="create_only")


def test_copy_into_a_populated_organisation_update_only_by_name(
    world: World, tmp_path: Path
) -> None:
    _copy(
        world,
        tmp_path,
        world.targets[2],
        write_mode="update_only",
        natural_keys={"contacts": ["Name"]},
    )

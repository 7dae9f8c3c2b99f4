"""target-xero against a sandbox over HTTP: a dependent stream that arrives before its dependency.

tap-xero emits streams alphabetically, so ``invoices`` come before the ``items`` they use. An
invoice whose item code, contact or invoice is not written yet is held back, not rejected, and
loaded again once its dependency is written or, at the latest, at the end of the input.
"""

from __future__ import annotations

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

INVOICES = 7  # more than the invoices buffer (batch_size_rows=3): it is written mid-input


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(empty=2)


@pytest.fixture
def org(pool: OrgPool) -> Org:
    return pool.take()


def _schemas() -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for name in ("interleaved.singer", "base.singer"):
        for message in fixture_messages(name):
            if message["type"] == "SCHEMA":
                schemas.setdefault(message["stream"], message)
    return schemas


def _invoice(number: str, contact: str, item_code: str) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "InvoiceNumber": number,
        "Contact": {"ContactNumber": contact},
        "Date": "2026-10-02T00:00:00.000000+00:00",
        "DueDate": "2026-11-01T00:00:00.000000+00:00",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {"ItemCode": item_code, "Quantity": 2, "UnitAmount": 25, "AccountCode": "200"}
        ],
    }


def _input(tmp_path: Path) -> Path:
    """Invoices (and a payment) first, then the items and contacts they refer to."""
    schemas = _schemas()
    messages: list[dict[str, Any]] = [schemas[s] for s in ("invoices", "payments")]
    for n in range(1, INVOICES + 1):
        record = _invoice(f"TX-O-INV-{n}", f"TX-O-C{n % 2}", f"TX-O-ITEM-{n % 3}")
        messages.append({"type": "RECORD", "stream": "invoices", "record": record})
        messages.append({"type": "STATE", "value": {"bookmarks": {"invoices": {"n": n}}}})
    unknown = _invoice("TX-O-INV-UNKNOWN", "TX-O-C0", "TX-O-NO-SUCH-ITEM")
    messages.append({"type": "RECORD", "stream": "invoices", "record": unknown})
    payment = {
        "Invoice": {"InvoiceNumber": "TX-O-INV-1"},
        "Account": {"Code": "090"},
        "Date": "2026-10-08T00:00:00.000000+00:00",
        "Amount": 10,
    }
    messages.append({"type": "RECORD", "stream": "payments", "record": payment})
    messages += [schemas["items"], schemas["contacts"]]
    for n in range(3):
        item = {"Code": f"TX-O-ITEM-{n}", "Name": f"Order item {n}", "IsSold": True}
        messages.append({"type": "RECORD", "stream": "items", "record": item})
    for n in range(2):
        contact = {"Name": f"Order Contact {n}", "ContactNumber": f"TX-O-C{n}"}
        messages.append({"type": "RECORD", "stream": "contacts", "record": contact})
    messages.append({"type": "STATE", "value": {"bookmarks": {"fixture": {"position": "end"}}}})
    return singer_file(tmp_path, "order.singer", messages)


def _check(run: Any) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    # Only the genuinely unknown item code is rejected, with its reason, at the end.
    assert [r["record"]["InvoiceNumber"] for r in run.rejects] == ["TX-O-INV-UNKNOWN"]
    assert run.rejects[0]["reasons"] == [
        "ItemCode 'TX-O-NO-SUCH-ITEM' matches no Item in the target organisation"
    ]
    # The only STATE is the last one: none was emitted while held records were unwritten.
    assert run.states == [{"bookmarks": {"fixture": {"position": "end"}}}]
    streams = [a["stream"] for a in run.audit]
    assert streams.count("invoices") == INVOICES
    assert streams.count("payments") == 1
    # Every invoice is written after the items and contacts, the payment after the invoices.
    assert streams.index("invoices") > max(
        i for i, s in enumerate(streams) if s in ("items", "contacts")
    )
    assert streams.index("payments") > max(i for i, s in enumerate(streams) if s == "invoices")
    assert "refer to something not written yet; held" in run.stderr


def test_invoices_before_their_items_and_contacts_are_held_then_written(
    org: Org, tmp_path: Path
) -> None:
    path = _input(tmp_path)
    run = run_target(org.config(tmp_path, batch_size_rows=3), tmp_path, path)
    _check(run)
    assert {a["action"] for a in run.audit} == {"created"}
    numbers = {i["InvoiceNumber"] for i in org.all("Invoices", "Invoices")}
    assert numbers == {f"TX-O-INV-{n}" for n in range(1, INVOICES + 1)}
    lines = [i for inv in org.all("Invoices", "Invoices") for i in inv.get("LineItems") or []]
    assert len(lines) == INVOICES
    assert len(org.all("Payments", "Payments")) == 1
    assert "summary invoices: created=7 updated=0 rejected=1" in run.stderr


def test_dry_run_holds_and_resolves_the_same_way(org: Org, tmp_path: Path) -> None:
    path = _input(tmp_path)
    run = run_target(org.config(tmp_path, batch_size_rows=3, dry_run=True), tmp_path, path)
    _check(run)
    assert {a["action"] for a in run.audit} == {"would_create"}
    assert org.all("Invoices", "Invoices") == []
    assert org.all("Items", "Items") == []

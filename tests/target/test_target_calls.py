"""target-xero against a sandbox over HTTP: the calls a load costs.

Into an empty or small organisation each collection is read once (no lookup per batch),
documents go in full batches, and status steps of a whole batch share their requests; a
replay of the same input into the now filled organisation writes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
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

CONTACTS = 120
INVOICES = 150
VOIDED = range(0, INVOICES, 10)  # created AUTHORISED, then voided
DELETED = range(5, INVOICES, 30)  # created DRAFT, then deleted
_REQUEST = re.compile(r"HTTP Request: ([A-Z]+) \S+/api\.xro/2\.0/([A-Za-z]+)(/[^ ?]+)?")


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(empty=1)


def _schema(stream: str) -> dict[str, Any]:
    for name in ("base.singer", "documents.singer"):
        for message in fixture_messages(name):
            if message["type"] == "SCHEMA" and message["stream"] == stream:
                return message
    raise AssertionError(stream)


def _status(n: int) -> str:
    return "VOIDED" if n in VOIDED else "DELETED" if n in DELETED else "AUTHORISED"


def _input(tmp_path: Path) -> Path:
    messages: list[dict[str, Any]] = [_schema("contacts")]
    for n in range(CONTACTS):
        contact = {"Name": f"Calls Contact {n}", "ContactNumber": f"TX-K-C{n}"}
        messages.append({"type": "RECORD", "stream": "contacts", "record": contact})
    messages.append(_schema("invoices"))
    for n in range(INVOICES):
        invoice = {
            "Type": "ACCREC",
            "InvoiceNumber": f"TX-K-INV-{n}",
            "Contact": {"ContactNumber": f"TX-K-C{n % CONTACTS}"},
            "Date": "2026-10-02T00:00:00.000000+00:00",
            "DueDate": "2026-11-01T00:00:00.000000+00:00",
            "Status": _status(n),
            "LineAmountTypes": "Exclusive",
            "LineItems": [
                {"Description": "Work", "Quantity": 1, "UnitAmount": 10 + n, "AccountCode": "200"}
            ],
        }
        messages.append({"type": "RECORD", "stream": "invoices", "record": invoice})
    messages.append({"type": "STATE", "value": {"bookmarks": {"calls": {"position": "end"}}}})
    return singer_file(tmp_path, "calls.singer", messages)


def _requests(stderr: str) -> Counter[str]:
    """Accounting API requests the target sent, as ``METHOD /Collection[/{id}...]``."""
    counts: Counter[str] = Counter()
    for method, collection, rest in _REQUEST.findall(stderr):
        counts[f"{method} /{collection}{'/{id}' if rest else ''}"] += 1
    return counts


def test_a_load_into_an_empty_organisation_then_its_replay(pool: OrgPool, tmp_path: Path) -> None:
    org: Org = pool.take()
    path = _input(tmp_path)
    first = run_target(org.config(tmp_path), tmp_path, path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.rejects == []
    assert Counter(a["action"] for a in first.audit) == {"created": CONTACTS + INVOICES}
    # 120 contacts and 150 invoices created in batches of 50 (PUT: create only); the 20
    # status steps in one request; one read of each collection (empty) instead of lookups
    # per batch.
    assert _requests(first.stderr) == {
        "PUT /Contacts": 3,
        "PUT /Invoices": 3,
        "POST /Invoices": 1,
        "GET /Contacts": 1,
        "GET /Invoices": 1,
        "GET /Accounts": 1,
    }
    statuses = Counter(i["Status"] for i in org.all("Invoices", "Invoices"))
    assert statuses == {
        "VOIDED": len(VOIDED),
        "DELETED": len(DELETED),
        "AUTHORISED": INVOICES - len(VOIDED) - len(DELETED),
    }

    replay = run_target(org.config(tmp_path), tmp_path, path)
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert replay.rejects == []
    # Every record is matched by its natural key in the (small) organisation read once.
    assert Counter(a["action"] for a in replay.audit) == {"unchanged": CONTACTS + INVOICES}
    assert _requests(replay.stderr) == {"GET /Contacts": 1, "GET /Invoices": 1, "GET /Accounts": 1}
    assert len(org.all("Contacts", "Contacts")) == CONTACTS
    assert len(org.all("Invoices", "Invoices")) == INVOICES

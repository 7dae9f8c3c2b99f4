"""The round trip: tap-xero on a Demo Company, target-xero into an empty organisation, tap-xero
on that organisation gives the same documents apart from IDs and system fields.

All three run as real processes (the tap's and the target's CLIs) against one sandbox over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._target_support import (
    DOCUMENT_STREAMS,
    OrgPool,
    run_target,
    sandbox_pool,
    tap_records,
)

# Fields that name or stamp a document rather than say what it is: every ID (they differ by
# construction), Xero's clocks, and echoes of the request machinery.
SYSTEM_FIELDS = {
    "TenantID",
    "UpdatedDateUTC",
    "UpdatedDateUTCString",
    "HasAttachments",
    "HasValidationErrors",
    "HasErrors",
    "StatusAttributeString",
    "ValidationErrors",
    "Warnings",
    "Url",
    "RepeatingInvoiceID",
    # Flags and echoes Xero derives, not content a client sends: customer/supplier flags follow
    # from documents, the *String dates echo the dates, discount fields echo the lines, a
    # credit note is marked sent by e-mailing it, a purchase order's Type is constant.
    "IsCustomer",
    "IsSupplier",
    "DateString",
    "DueDateString",
    "TotalDiscount",
    "IsDiscounted",
    "SentToContact",
}
# How the same document is recognised on both sides.
IDENTITY = {
    "accounts": ("Code", "Name"),
    "tracking_categories": ("Name",),
    "contacts": ("Name",),
    "items": ("Code",),
    "invoices": ("Type", "InvoiceNumber"),
    "credit_notes": ("Type", "CreditNoteNumber"),
    "purchase_orders": ("PurchaseOrderNumber",),
    "quotes": ("QuoteNumber",),
    "manual_journals": ("Narration", "Date"),
    "bank_transactions": ("Type", "Date", "Reference", "Total"),
    "payments": ("Date", "Amount", "Reference", "PaymentType"),
}


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(empty=1, scale=8)


def _content(value: Any) -> Any:
    """A document without its IDs and system fields (recursively)."""
    if isinstance(value, dict):
        return {
            k: _content(v)
            for k, v in value.items()
            if k not in SYSTEM_FIELDS and not k.endswith("ID") and v not in (None, [], "")
        }
    if isinstance(value, list):
        return [_content(v) for v in value]
    return value


def _by_identity(stream: str, records: list[dict[str, Any]]) -> dict[tuple[Any, ...], Any]:
    keyed: dict[tuple[Any, ...], Any] = {}
    for record in records:
        key = tuple(str(record.get(f)) for f in IDENTITY[stream])
        assert key not in keyed, f"{stream}: two documents share {key}"
        content = _content(record)
        if stream == "purchase_orders":
            content.pop("Type", None)  # always PURCHASEORDER, echoed by some answers only
        keyed[key] = content
    return keyed


def test_copy_of_an_organisation_has_the_same_documents(pool: OrgPool, tmp_path: Path) -> None:
    source = pool.sandbox.tenant_ids()[0]
    target = pool.take()
    before = tap_records(pool, tmp_path, "a", source, DOCUMENT_STREAMS)
    assert all(before[s] for s in DOCUMENT_STREAMS), {s: len(r) for s, r in before.items()}

    run = run_target(target.config(tmp_path), tmp_path, tmp_path / "a.singer")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == [], run.rejects[:3]

    after = tap_records(pool, tmp_path, "b", target.tenant_id, DOCUMENT_STREAMS)
    for stream in DOCUMENT_STREAMS:
        expected = _by_identity(stream, before[stream])
        copied = _by_identity(stream, after[stream])
        if stream == "accounts":
            # The empty organisation starts with the standard chart; the copy adds to it.
            copied = {k: v for k, v in copied.items() if k in expected}
        assert sorted(copied) == sorted(expected), stream
        for key, document in expected.items():
            assert copied[key] == document, (stream, key)

    # Copying again changes nothing and creates nothing: every document is recognised.
    counts = target.counts()
    again = run_target(target.config(tmp_path), tmp_path, tmp_path / "a.singer")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.rejects == []
    assert [a for a in again.audit if a["action"] != "unchanged"] == []
    assert target.counts() == counts

"""Contract tests for Accounting attachment uploads: ``PUT`` and ``POST
/{Collection}/{ID}/Attachments/{FileName}`` with the raw body, for every collection of the
official spec that takes attachments, request and answer validated with openapi-core; the
content read back byte for byte; ``IncludeOnline``; Xero's limits (25 MB a file, 10 files a
document), an unknown document, an empty body, the write scope and ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_core.testing import MockRequest, MockResponse

from tests._openapi import spec_document
from tests._tap_support import RELAXED
from tests.sandbox.test_sandbox_contract_other_apis import _spec
from xero_sandbox.launcher import Sandbox

API = "/api.xro/2.0"
NOBODY = "00000000-0000-4000-8000-000000000000"
MAX_BYTES = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=20, seed=31, **RELAXED) as running:
        yield running


def _headers(sb: Sandbox, **extra: str) -> dict[str, str]:
    return {**sb.headers(sb.tenant_ids()[0]), **extra}


def _first_id(sb: Sandbox, collection: str, key: str) -> str:
    answer = httpx.get(f"{sb.url}{API}/{collection}", headers=_headers(sb), timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()[collection][0][key])


def _upload(
    sb: Sandbox,
    method: str,
    path: str,
    content: Any,
    *,
    params: dict[str, str] | None = None,
    key: str | None = None,
    validate: bool = True,
) -> httpx.Response:
    headers = _headers(sb, **{"Content-Type": "application/octet-stream"})
    if key:
        headers["Idempotency-Key"] = key
    answer = httpx.request(
        method, sb.url + API + path, content=content, params=params, headers=headers, timeout=60
    )
    if validate:
        request = MockRequest(
            "https://api.xero.com",
            method.lower(),
            API + path,
            headers={"xero-tenant-id": sb.tenant_ids()[0]},
            args=params or {},
            data=content if isinstance(content, bytes) else b"",
            content_type="application/octet-stream",
        )
        # The answer only: the spec types the raw body as ``format: byte`` (base64 text), but
        # Xero and its SDKs send the file's bytes as they are.
        if answer.status_code in (200, 400):
            response = MockResponse(
                answer.content, status_code=answer.status_code, content_type="application/json"
            )
            _spec("xero_accounting").validate_response(request, response)
    return answer


# Every collection whose documents take attachments, with its ID field.
PARENTS = (
    ("Accounts", "AccountID"),
    ("BankTransactions", "BankTransactionID"),
    ("BankTransfers", "BankTransferID"),
    ("Contacts", "ContactID"),
    ("CreditNotes", "CreditNoteID"),
    ("Invoices", "InvoiceID"),
    ("ManualJournals", "ManualJournalID"),
    ("PurchaseOrders", "PurchaseOrderID"),
    ("Quotes", "QuoteID"),
    ("Receipts", "ReceiptID"),
    ("RepeatingInvoices", "RepeatingInvoiceID"),
)


def test_every_upload_of_the_spec_is_served_and_reads_back_equal(sb: Sandbox) -> None:
    spec_paths = {
        path
        for path in spec_document("xero_accounting")["paths"]
        if path.endswith("/Attachments/{FileName}")
    }
    assert {f"/{c}/{{{k}}}/Attachments/{{FileName}}" for c, k in PARENTS} == spec_paths
    for collection, key in PARENTS:
        document = _first_id(sb, collection, key)
        for method in ("PUT", "POST"):
            content = os.urandom(70_000) + method.encode()
            name = f"scan-{method.lower()}.pdf"
            path = f"/{collection}/{document}/Attachments/{name}"
            answer = _upload(sb, method, path, content)
            assert answer.status_code == 200, (collection, answer.text)
            (attachment,) = answer.json()["Attachments"]
            assert attachment["FileName"] == name
            assert attachment["ContentLength"] == len(content)
            assert attachment["MimeType"] == "application/pdf"
            back = httpx.get(sb.url + API + path, headers=_headers(sb), timeout=30)
            assert back.status_code == 200
            assert back.content == content
            by_id = f"/{collection}/{document}/Attachments/{attachment['AttachmentID']}"
            assert httpx.get(sb.url + API + by_id, headers=_headers(sb), timeout=30).content == (
                content
            )
        listed = httpx.get(
            f"{sb.url}{API}/{collection}/{document}/Attachments", headers=_headers(sb), timeout=30
        ).json()["Attachments"]
        assert {"scan-put.pdf", "scan-post.pdf"} <= {a["FileName"] for a in listed}
        again = httpx.get(f"{sb.url}{API}/{collection}/{document}", headers=_headers(sb))
        if again.status_code == 200 and collection != "BankTransfers":
            assert again.json()[collection][0]["HasAttachments"] is True


def test_the_same_file_name_replaces_the_file_and_keeps_its_id(sb: Sandbox) -> None:
    invoice = _first_id(sb, "CreditNotes", "CreditNoteID")
    path = f"/CreditNotes/{invoice}/Attachments/receipt.png"
    first = _upload(sb, "PUT", path, b"first version").json()["Attachments"][0]
    second = _upload(sb, "POST", path, b"second, longer version").json()["Attachments"][0]
    assert second["AttachmentID"] == first["AttachmentID"]
    assert second["ContentLength"] == len(b"second, longer version")
    assert httpx.get(sb.url + API + path, headers=_headers(sb)).content == (
        b"second, longer version"
    )


def test_include_online_is_kept_on_invoices_and_credit_notes_only(sb: Sandbox) -> None:
    invoice = _first_id(sb, "Invoices", "InvoiceID")
    online = _upload(
        sb,
        "PUT",
        f"/Invoices/{invoice}/Attachments/online.txt",
        b"shown online",
        params={"IncludeOnline": "true"},
    )
    assert online.json()["Attachments"][0]["IncludeOnline"] is True
    assert online.json()["Attachments"][0]["MimeType"] == "text/plain"
    contact = _first_id(sb, "Contacts", "ContactID")
    other = _upload(
        sb,
        "PUT",
        f"/Contacts/{contact}/Attachments/online.txt",
        b"not online",
        params={"IncludeOnline": "true"},
        validate=False,  # the spec has IncludeOnline on invoices and credit notes only
    )
    assert other.json()["Attachments"][0]["IncludeOnline"] is False


def test_an_unknown_document_or_collection_is_404(sb: Sandbox) -> None:
    assert _upload(sb, "PUT", f"/Invoices/{NOBODY}/Attachments/a.pdf", b"x").status_code == 404
    unknown = _upload(sb, "PUT", f"/Payments/{NOBODY}/Attachments/a.pdf", b"x", validate=False)
    assert unknown.status_code == 404


def test_an_empty_body_is_no_data(sb: Sandbox) -> None:
    invoice = _first_id(sb, "Invoices", "InvoiceID")
    answer = _upload(sb, "PUT", f"/Invoices/{invoice}/Attachments/empty.pdf", b"")
    assert answer.status_code == 400
    assert answer.json()["Type"] == "NoDataProcessedException"
    assert "expecting Attachment data" in answer.json()["Message"]


def test_a_file_over_25_mb_is_413_declared_or_streamed(sb: Sandbox) -> None:
    invoice = _first_id(sb, "Quotes", "QuoteID")
    path = f"/Quotes/{invoice}/Attachments/huge.bin"
    declared = _upload(sb, "PUT", path, b"\0" * (MAX_BYTES + 1), validate=False)
    assert declared.status_code == 413
    assert "25" in declared.json()["Detail"] or "26,214,400" in declared.json()["Detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(MAX_BYTES // (1 << 20) + 1):
            yield b"\0" * (1 << 20)

    streamed = _upload(sb, "PUT", path, chunks(), validate=False)
    assert streamed.status_code == 413
    listed = httpx.get(f"{sb.url}{API}/Quotes/{invoice}/Attachments", headers=_headers(sb))
    assert "huge.bin" not in {a["FileName"] for a in listed.json()["Attachments"]}
    exactly = _upload(sb, "PUT", path, b"\1" * MAX_BYTES, validate=False)
    assert exactly.status_code == 200, exactly.text
    assert hashlib.sha256(
        httpx.get(sb.url + API + path, headers=_headers(sb)).content
    ).digest() == (hashlib.sha256(b"\1" * MAX_BYTES).digest())


def test_an_eleventh_file_is_refused_a_replaced_one_is_not(sb: Sandbox) -> None:
    journal = _first_id(sb, "ManualJournals", "ManualJournalID")
    base = f"/ManualJournals/{journal}/Attachments"
    existing = httpx.get(sb.url + API + base, headers=_headers(sb)).json()["Attachments"]
    for n in range(10 - len(existing)):
        assert _upload(sb, "PUT", f"{base}/page-{n}.txt", b"page").status_code == 200
    refused = _upload(sb, "PUT", f"{base}/one-too-many.txt", b"page")
    assert refused.status_code == 400
    body = refused.json()
    assert body["Type"] == "ValidationException"
    assert body["Elements"][0]["ValidationErrors"][0]["Message"] == (
        "A document can have at most 10 attachments"
    )
    assert _upload(sb, "POST", f"{base}/page-0.txt", b"page again").status_code == 200


def test_uploads_need_the_attachments_write_scope(sb: Sandbox) -> None:
    invoice = _first_id(sb, "Invoices", "InvoiceID")
    tokens = sb.authorize(
        "openid offline_access accounting.transactions accounting.attachments.read"
    )
    headers = {
        "Authorization": f"Bearer {tokens['access_token']}",
        "xero-tenant-id": sb.tenant_ids()[0],
        "Accept": "application/json",
    }
    path = f"{sb.url}{API}/Invoices/{invoice}/Attachments/readonly.txt"
    refused = httpx.put(path, content=b"x", headers=headers)
    assert refused.status_code == 401  # Xero's answer to a scope the token lacks
    assert "AuthorizationUnsuccessful" in refused.text
    assert (
        httpx.get(f"{sb.url}{API}/Invoices/{invoice}/Attachments", headers=headers).status_code
        == 200
    )


def test_idempotency_key_replays_the_upload_and_refuses_another_body(sb: Sandbox) -> None:
    invoice = _first_id(sb, "Invoices", "InvoiceID")
    path = f"/Invoices/{invoice}/Attachments/keyed.txt"
    first = _upload(sb, "PUT", path, b"keyed content", key="upload-key-1")
    again = _upload(sb, "PUT", path, b"keyed content", key="upload-key-1")
    assert again.status_code == 200
    assert again.content == first.content
    other = _upload(sb, "PUT", path, b"other content", key="upload-key-1")
    assert other.status_code == 400
    assert "is used with a different request" in other.json()["Message"]
    assert httpx.get(sb.url + API + path, headers=_headers(sb)).content == b"keyed content"

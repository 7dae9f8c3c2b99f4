"""Accounting attachments end to end: the sandbox's attachment endpoints against the spec, and
tap-xero's attachments stream (every attachment once, content verified by size and SHA-256,
saved atomically to a folder or an fsspec URL, re-runs that skip what is saved, a bookmark on
the documents' UpdatedDateUTC, and downloads that survive dropped connections)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests._accounting_spec import assert_matches_spec
from tests._tap_support import (
    RELAXED,
    TapRun,
    client_credentials_config,
    partition_bookmark,
    plain,
    refresh_token_config,
    run_tap,
)
from xero_api.schema_files import load_schema
from xero_sandbox.launcher import Sandbox

API = "/api.xro/2.0"
PARENTS = (
    "Accounts",
    "BankTransactions",
    "BankTransfers",
    "Contacts",
    "CreditNotes",
    "Invoices",
    "ManualJournals",
    "PurchaseOrders",
    "Quotes",
    "Receipts",
    "RepeatingInvoices",
)
KEYS = {"Accounts": "AccountID", "BankTransfers": "BankTransferID", "Contacts": "ContactID"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=2, scale=40, seed=19, **RELAXED) as sb:
        yield sb


def _get(sb: Sandbox, tenant: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(sb.url + API + path, params=params, headers=sb.headers(tenant), timeout=30)


def _served(sb: Sandbox, tenant: str) -> dict[str, dict[str, Any]]:
    """Every attachment of the tenant, read straight from the sandbox, by AttachmentID."""
    found: dict[str, dict[str, Any]] = {}
    for name in PARENTS:
        params = {"page": "1", "pageSize": "1000"} if name in ("Invoices", "Contacts") else {}
        documents = _get(sb, tenant, f"/{name}", **params).json()[name]
        key = KEYS.get(name, name[:-1] + "ID")
        for document in documents:
            if not document.get("HasAttachments"):
                continue
            listing = _get(sb, tenant, f"/{name}/{document[key]}/Attachments")
            for attachment in listing.json()["Attachments"]:
                found[attachment["AttachmentID"]] = {
                    **attachment,
                    "DocumentType": name,
                    "DocumentID": document[key],
                }
    return found


def test_attachment_endpoints_match_the_spec(sandbox: Sandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    invoices = _get(sandbox, tenant, "/Invoices", where="HasAttachments==true").json()["Invoices"]
    assert invoices
    listing = _get(sandbox, tenant, f"/Invoices/{invoices[0]['InvoiceID']}/Attachments")
    assert_matches_spec(listing)
    attachment = listing.json()["Attachments"][0]
    base = f"/Invoices/{invoices[0]['InvoiceID']}/Attachments"
    by_name = _get(sandbox, tenant, f"{base}/{attachment['FileName']}")
    by_id = _get(sandbox, tenant, f"{base}/{attachment['AttachmentID']}")
    for answer in (by_name, by_id):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/octet-stream"
        assert len(answer.content) == attachment["ContentLength"]
        assert_matches_spec(answer)
    assert by_name.content == by_id.content
    nothing = _get(sandbox, tenant, f"/Invoices/{invoices[1]['InvoiceID']}/Attachments/nope.pdf")
    assert nothing.status_code == 404
    plain_invoice = _get(sandbox, tenant, "/Invoices", where="HasAttachments==false")
    first = plain_invoice.json()["Invoices"][0]["InvoiceID"]
    assert _get(sandbox, tenant, f"/Invoices/{first}/Attachments").json()["Attachments"] == []
    refused = httpx.get(
        f"{sandbox.url}{API}{base}",
        headers={
            **sandbox.headers(tenant),
            "Authorization": "Bearer "
            + sandbox.authorize("accounting.invoices.read")["access_token"],
        },
        timeout=30,
    )
    assert refused.status_code == 401  # attachments need accounting.attachments(.read)


@pytest.fixture(scope="module")
def first(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> tuple[TapRun, Path]:
    tmp = tmp_path_factory.mktemp("attachments")
    files = tmp / "files"
    config = refresh_token_config(sandbox, tmp / "tokens.json", attachments_path=str(files))
    return run_tap(tmp, config, ["attachments"]), files


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_every_attachment_once_with_verified_content(
    sandbox: Sandbox, first: tuple[TapRun, Path]
) -> None:
    run, files = first
    records = run.records["attachments"]
    validator = jsonschema.Draft202012Validator(load_schema("attachments"))
    for tenant in sandbox.tenant_ids():
        served = _served(sandbox, tenant)
        mine = {r["AttachmentID"]: r for r in records if r["TenantID"] == tenant}
        assert len(mine) == len([r for r in records if r["TenantID"] == tenant])
        assert set(mine) == set(served)
        assert {r["DocumentType"] for r in mine.values()} >= {"Invoices", "Contacts"}
        for attachment_id, record in mine.items():
            expected = served[attachment_id]
            for field in ("FileName", "MimeType", "ContentLength", "DocumentType", "DocumentID"):
                assert record[field] == expected[field], field
            path = Path(record["Path"])
            assert path.is_relative_to(files / tenant)
            assert path.stat().st_size == record["ContentLength"]
            assert _sha(record["Path"]) == record["SHA256"]
            assert (path.parent / f"{path.name}.sha256").read_text().strip() == record["SHA256"]
            assert not list(validator.iter_errors(plain(record)))
    assert max(r["ContentLength"] for r in records) == 2 * 1024 * 1024
    assert not list(files.rglob("*.part-*"))
    # Calls: the 11 parent collections (one page each here, two for a cursor's re-read), one
    # list per document with attachments, one download per file.
    for tenant in sandbox.tenant_ids():
        mine = [r for r in records if r["TenantID"] == tenant]
        line = next(line for line in run.stderr.splitlines() if f"tenant={tenant} " in line)
        calls = int(line.split("calls=")[1].split()[0])
        documents = len({r["DocumentID"] for r in mine})
        assert documents + len(mine) < calls <= 2 * len(PARENTS) + documents + len(mine)


def test_without_a_path_content_is_hashed_only(
    sandbox: Sandbox, first: tuple[TapRun, Path], tmp_path: Path
) -> None:
    config = refresh_token_config(sandbox, tmp_path / "tokens.json")
    run = run_tap(tmp_path, config, ["attachments"])
    hashed = {r["AttachmentID"]: (r["SHA256"], r["Path"]) for r in run.records["attachments"]}
    saved = {r["AttachmentID"]: r["SHA256"] for r in first[0].records["attachments"]}
    assert hashed == {key: (digest, None) for key, digest in saved.items()}


def test_a_rerun_skips_saved_files_and_reads_only_changed_documents(
    sandbox: Sandbox, first: tuple[TapRun, Path], tmp_path: Path
) -> None:
    run, files = first
    tenant = sandbox.tenant_ids()[0]
    stamps = {p: p.stat().st_mtime_ns for p in files.rglob("*") if p.is_file()}
    # One bookmark per tenant and collection: the last document read (attachments or not).
    bookmark = partition_bookmark(run.state, "attachments", tenant, DocumentType="Invoices")[
        "replication_key_value"
    ]
    assert bookmark >= max(
        r["DocumentUpdatedDateUTC"]
        for r in run.records["attachments"]
        if r["TenantID"] == tenant and r["DocumentType"] == "Invoices"
    )
    # Touch one invoice that has attachments: the next run lists it (and nothing else),
    # downloads nothing, and rewrites no file.
    invoices = _get(sandbox, tenant, "/Invoices", where="HasAttachments==true").json()["Invoices"]
    touched = invoices[0]["InvoiceID"]
    answer = httpx.post(
        f"{sandbox.url}{API}/Invoices/{touched}",
        json={"Invoices": [{"InvoiceID": touched, "Reference": "attachments re-run"}]},
        headers=sandbox.headers(tenant),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    config = refresh_token_config(sandbox, tmp_path / "tokens.json", attachments_path=str(files))
    again = run_tap(tmp_path, config, ["attachments"], state=run.state)
    mine = [r for r in again.records["attachments"] if r["TenantID"] == tenant]
    assert {r["DocumentID"] for r in mine} == {touched}
    assert len(mine) < len([r for r in run.records["attachments"] if r["TenantID"] == tenant])
    assert all(r["DocumentUpdatedDateUTC"] >= bookmark for r in mine)
    assert {p: p.stat().st_mtime_ns for p in files.rglob("*") if p.is_file()} == stamps


def _attachment_ids(run: TapRun) -> list[str]:
    return [r["AttachmentID"] for r in run.records.get("attachments", [])]


def test_the_bookmark_boundary_emits_each_attachment_once(tmp_path: Path) -> None:
    """The If-Modified-Since boundary as the Accounting streams have it: a re-run emits
    nothing, documents changed in one second are emitted once, and a run resumed inside
    that second emits exactly the documents it had not done."""
    with Sandbox(tenants=1, scale=16, seed=29, **RELAXED) as sb:
        tenant = sb.tenant_ids()[0]
        config = client_credentials_config(sb)
        base = run_tap(tmp_path / "base", config, ["attachments"])
        by_document: dict[str, list[str]] = {}
        for record in base.records["attachments"]:
            by_document.setdefault(record["DocumentID"], []).append(record["AttachmentID"])
        assert len(set(_attachment_ids(base))) == len(_attachment_ids(base))
        # Nothing changed: the documents Xero sends again for the bookmark's second are skipped.
        again = run_tap(tmp_path / "again", config, ["attachments"], base.state)
        assert _attachment_ids(again) == []

        # Two invoices with attachments change in one request: one second (maybe one instant).
        invoices = [
            r["DocumentID"] for r in base.records["attachments"] if r["DocumentType"] == "Invoices"
        ]
        pair = list(dict.fromkeys(invoices))[:2]
        answer = httpx.post(
            f"{sb.url}{API}/Invoices",
            json={"Invoices": [{"InvoiceID": i, "Reference": "same second"} for i in pair]},
            headers=sb.headers(tenant),
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        changed = run_tap(tmp_path / "changed", config, ["attachments"], again.state)
        emitted = changed.records["attachments"]
        assert sorted(_attachment_ids(changed)) == sorted(
            by_document[pair[0]] + by_document[pair[1]]
        )
        assert run_tap(tmp_path / "quiet", config, ["attachments"], changed.state).records == {}

        # A run interrupted after the first document: STATE holds its timestamp and its ID.
        first = emitted[0]
        mark_at = first["DocumentUpdatedDateUTC"]
        assert emitted[-1]["DocumentUpdatedDateUTC"][:19] == mark_at[:19], "not one second"
        mark = {
            **partition_bookmark(changed.state, "attachments", tenant, DocumentType="Invoices"),
            "replication_key_value": mark_at,
            "boundary_value": mark_at,
            "boundary_ids": [first["DocumentID"]],
        }
        resumed = run_tap(
            tmp_path / "resumed",
            config,
            ["attachments"],
            {"bookmarks": {"attachments": {"partitions": [mark]}}},
        )
        rest = [r for r in resumed.records["attachments"] if r["DocumentType"] == "Invoices"]
        second = next(i for i in pair if i != first["DocumentID"])
        assert sorted(r["AttachmentID"] for r in rest) == sorted(by_document[second])

        # STATE of the earlier one-bookmark-per-tenant stream: read from its bookmark (its
        # second again, once), nothing older.
        earlier = {
            "context": {"TenantID": tenant},
            "replication_key": "DocumentUpdatedDateUTC",
            "replication_key_value": mark_at,
        }
        upgraded = run_tap(
            tmp_path / "upgraded",
            config,
            ["attachments"],
            {"bookmarks": {"attachments": {"partitions": [earlier]}}},
        )
        assert {r["DocumentID"] for r in upgraded.records["attachments"]} == set(pair)


def test_an_fsspec_url_and_dropped_connections(tmp_path: Path) -> None:
    # Every fourth call fails in one of Xero's ways (dropped mid-body, 500, 503...): downloads
    # are retried from the start and what is saved still matches its SHA-256.
    # time_scale: a "slow response" fault waits 120 sandbox seconds, 2 real ones here.
    with Sandbox(tenants=1, scale=16, seed=23, fault_rate=0.25, time_scale=60, **RELAXED) as sb:
        files = tmp_path / "remote"
        config = refresh_token_config(
            sb, tmp_path / "tokens.json", attachments_path=f"file://{files}", max_retries=10
        )
        run = run_tap(tmp_path, config, ["attachments"])
        assert "retries=0" not in next(
            line for line in run.stderr.splitlines() if f"tenant={sb.tenant_ids()[0]}" in line
        )
        records = run.records["attachments"]
        assert records
        for record in records:
            assert record["Path"].startswith(f"file://{files}/")
            local = record["Path"][len("file://") :]
            assert _sha(local) == record["SHA256"]
            assert Path(local).stat().st_size == record["ContentLength"]
        assert not list(files.rglob("*.part-*"))
        stats = sb.stats()
    assert json.dumps(stats)  # the sandbox kept serving through the faults


def test_a_download_holds_a_few_chunks_whatever_the_file_size(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Peak memory while downloading does not grow with the file: the 2 MB scan costs what a
    file of under 200 KB costs (httpx's own buffers, up to a few hundred KB), not its size."""
    import logging
    import tracemalloc

    from tap_xero.downloads import Hashing
    from xero_api.client import XeroClient
    from xero_api.settings import XeroSettings

    tenant = sandbox.tenant_ids()[0]
    invoices = _get(sandbox, tenant, "/Invoices", where="HasAttachments==true").json()["Invoices"]
    sizes: dict[int, str] = {}
    for invoice in invoices:
        base = f"Invoices/{invoice['InvoiceID']}/Attachments"
        for attachment in _get(sandbox, tenant, f"/{base}").json()["Attachments"]:
            sizes[attachment["ContentLength"]] = f"{base}/{attachment['AttachmentID']}"
    big = max(sizes)
    small = max(size for size in sizes if size <= 200_000)
    assert big == 2 * 1024 * 1024
    config = refresh_token_config(sandbox, tmp_path / "tokens.json")
    client = XeroClient(XeroSettings.from_config(config), logging.getLogger("test"))
    peaks: dict[int, int] = {}
    try:
        client.tenant_ids()  # token and connection set up before measuring
        for size in (small, big, small, big):
            sink = Hashing(None)
            tracemalloc.start()
            try:
                client.download(sizes[size], tenant, sink)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert sink.size == size
            peaks[size] = min(peak, peaks.get(size, peak))
    finally:
        client.close()
    assert peaks[big] < peaks[small] + big // 4, peaks  # buffering the body adds all 2 MB

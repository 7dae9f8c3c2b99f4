"""target-xero's ``attachments`` stream against the sandbox (tap-xero and target-xero as real
processes):

* the round trip: a Demo Company's documents and their attachments (saved by the tap's
  ``attachments_path``) into an organisation that already has those documents: every file reads
  back with the source's SHA-256; a replay changes nothing;
* a populated organisation of the same region: nothing is overwritten that the rules did not
  match (create_only leaves every file it has alone; upsert replaces only files of documents the
  run matched);
* records made by hand: a document by number, base64 content, an fsspec URL, SHA-256 checked,
  rejects with reasons, update_only, a dry run;
* memory: a file several times bigger than the memory the target may grow by is uploaded with
  its peak RSS (measured by the kernel, not by timing) flat.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._target_support import (
    DOCUMENT_STREAMS,
    SANDBOX_FLAGS,
    TARGET,
    Org,
    OrgPool,
    copy_into,
    read_jsonl,
    run_target,
    singer_file,
    tap_records,
)
from xero_sandbox.launcher import Sandbox

PARENTS = ("Invoices", "Contacts", "BankTransactions", "PurchaseOrders")
SCHEMA = {
    "type": "SCHEMA",
    "stream": "attachments",
    "key_properties": [],
    "schema": {"type": "object", "properties": {}},
}


@dataclass
class World:
    pool: OrgPool
    records: dict[str, list[dict[str, Any]]]
    tmp: Path
    documents: Path  # the documents only
    everything: Path  # the documents, then their attachments
    source: Org
    populated: Org
    empty: Org


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("attachments")
    with Sandbox(tenants=2, empty_tenants=1, scale=10, regions="AU", **SANDBOX_FLAGS) as sb:
        pool = OrgPool(sb)
        source_id, populated_id = sb.tenant_ids()[:2]
        empty = pool.take()
        streams = [*DOCUMENT_STREAMS, "attachments"]
        records = tap_records(
            pool, tmp, "source", source_id, streams, attachments_path=str(tmp / "files")
        )
        everything = tmp / "source.singer"
        lines = everything.read_text().splitlines(keepends=True)
        documents = tmp / "documents.singer"
        documents.write_text("".join(line for line in lines if '"attachments"' not in line[:60]))
        yield World(
            pool,
            records,
            tmp,
            documents,
            everything,
            Org(sb, source_id, pool.token),
            Org(sb, populated_id, pool.token),
            empty,
        )


def _content(org: Org, collection: str, document_id: str, name: str) -> bytes:
    """A file's content, riding out the faults a ``fault_rate`` sandbox injects."""
    url = f"{org.sandbox.url}/api.xro/2.0/{collection}/{document_id}/Attachments/{name}"
    for _ in range(30):
        try:
            answer = httpx.get(url, headers=org.headers, timeout=60)
            content = answer.read()
        except httpx.TransportError:
            continue
        if answer.status_code == 401:
            org.token = str(org.sandbox.authorize()["access_token"])
        elif answer.status_code == 200 and len(content) == int(answer.headers["content-length"]):
            return content
        elif answer.status_code not in (429, 500, 503):
            pytest.fail(f"GET {url}: {answer.status_code} {answer.text[:300]}")
    pytest.fail(f"GET {url} kept failing")


def _files(org: Org) -> dict[tuple[str, str], tuple[str, str]]:
    """Every attachment of the organisation: (document ID, file name) -> (ID, SHA-256)."""
    files = {}
    for collection in PARENTS:
        key = collection[:-1] + "ID"
        for doc in org.all(collection, collection):
            if not doc.get("HasAttachments"):
                continue
            listed = org.get(f"{collection}/{doc[key]}/Attachments")["Attachments"]
            for a in listed:
                content = _content(org, collection, doc[key], a["AttachmentID"])
                files[(doc[key], a["FileName"])] = (
                    a["AttachmentID"],
                    hashlib.sha256(content).hexdigest(),
                )
    return files


def test_attachments_copy_into_the_documents_read_back_equal_and_replay_to_nothing(
    world: World, tmp_path: Path
) -> None:
    attachments = world.records["attachments"]
    assert {a["DocumentType"] for a in attachments} == set(PARENTS)
    assert all(a["Path"] and a["SHA256"] for a in attachments)
    (tmp_path / "docs").mkdir()
    copy_into(world.empty, tmp_path / "docs", world.documents)
    before = _files(world.empty)
    assert before == {}  # the documents exist, their files not yet

    run = copy_into(world.empty, tmp_path, world.everything)
    assert run.actions("attachments") == ["created"] * len(attachments), run.rejects
    documents = [a for a in run.audit if a["stream"] in ("invoices", "contacts")]
    assert documents
    assert {a["action"] for a in documents} == {"unchanged"}  # they were there already
    # Each source document's ID maps to the document of the target organisation.
    target_of = {a["source_id"]: a["xero_id"] for a in run.audit if a.get("source_id")}
    for record in attachments:
        content = _content(
            world.empty,
            record["DocumentType"],
            target_of[record["DocumentID"]],
            record["FileName"],
        )
        assert hashlib.sha256(content).hexdigest() == record["SHA256"]
    after = _files(world.empty)
    assert len(after) == len(attachments)

    again = copy_into(world.empty, tmp_path, world.everything)
    assert again.actions("attachments") == ["unchanged"] * len(attachments)
    assert all(a["idempotency_key"] is None for a in again.audit if a["stream"] == "attachments")
    assert _files(world.empty) == after


def test_a_populated_organisation_keeps_every_file_the_rules_did_not_match(
    world: World, tmp_path: Path
) -> None:
    before = _files(world.populated)
    assert before
    kept = copy_into(world.populated, tmp_path, world.everything, write_mode="create_only")
    assert "updated" not in kept.actions("attachments")
    after_create_only = _files(world.populated)
    assert {k: v for k, v in after_create_only.items() if k in before} == before

    upsert = copy_into(world.populated, tmp_path, world.everything)
    replaced = {
        a["xero_id"]
        for a in upsert.audit
        if a["stream"] == "attachments" and (a["action"] == "updated")
    }
    matched = {
        a["xero_id"]
        for a in upsert.audit
        if a["stream"] in ("invoices", "contacts", "bank_transactions", "purchase_orders")
        and a["action"] in ("updated", "unchanged")
    }
    after = _files(world.populated)
    for (document_id, name), (attachment_id, sha) in before.items():
        if attachment_id in replaced:
            assert document_id in matched  # only a file of a document the run matched
        else:
            assert after[(document_id, name)] == (attachment_id, sha)


def _record(**fields: Any) -> dict[str, Any]:
    return {"type": "RECORD", "stream": "attachments", "record": fields}


def test_records_by_hand_number_base64_url_sha_rejects_modes_and_dry_run(
    world: World, tmp_path: Path
) -> None:
    org = world.populated
    invoice = next(
        i for i in org.all("Invoices", "Invoices") if i["Type"] == "ACCREC" and i["InvoiceNumber"]
    )
    receipt = tmp_path / "receipt.png"
    receipt.write_bytes(os.urandom(50_000))
    digest = hashlib.sha256(receipt.read_bytes()).hexdigest()
    note = b"a note, given as base64"
    messages = [
        SCHEMA,
        _record(
            DocumentType="Invoices",
            DocumentNumber=invoice["InvoiceNumber"],
            FileName="receipt.png",
            Path=str(receipt),
            SHA256=digest,
            IncludeOnline=True,
        ),
        _record(
            DocumentType="invoices",
            DocumentID=invoice["InvoiceID"],
            FileName="note.txt",
            Content=base64.b64encode(note).decode(),
        ),
        _record(
            DocumentType="Invoices",
            DocumentID=invoice["InvoiceID"],
            FileName="by-url.png",
            Path=receipt.as_uri(),
        ),
        _record(
            DocumentType="Invoices",
            DocumentID=invoice["InvoiceID"],
            FileName="wrong.png",
            Path=str(receipt),
            SHA256="0" * 64,
        ),
        _record(
            DocumentType="Invoices",
            DocumentID=invoice["InvoiceID"],
            FileName="gone.png",
            Path=str(tmp_path / "no-such-file.png"),
        ),
        _record(
            DocumentType="Invoices", DocumentNumber="NO-SUCH-1", FileName="x.txt", Content="eA=="
        ),
        _record(
            DocumentType="Payments",
            DocumentID=invoice["InvoiceID"],
            FileName="x.txt",
            Content="eA==",
        ),
    ]
    singer = singer_file(tmp_path, "by-hand.singer", messages)

    listed_before = org.get(f"Invoices/{invoice['InvoiceID']}/Attachments")["Attachments"]
    dry = copy_into(org, tmp_path, singer, dry_run=True)
    assert dry.actions("attachments") == ["would_create"] * 3
    assert len(dry.rejects) == 4
    after_dry = org.get(f"Invoices/{invoice['InvoiceID']}/Attachments")["Attachments"]
    assert after_dry == listed_before  # nothing written

    run = copy_into(org, tmp_path, singer)
    assert run.actions("attachments") == ["created"] * 3
    reasons = [" ".join(r["reasons"]) for r in run.rejects]
    assert any("SHA256 mismatch" in r and digest in r and "0" * 64 in r for r in reasons)
    assert any("no-such-file.png" in r and "cannot be read" in r for r in reasons)
    assert any(
        "no Invoice in the target organisation matches DocumentNumber 'NO-SUCH-1'" in r
        for r in reasons
    ), reasons
    assert any("DocumentType 'Payments'" in r for r in reasons)
    assert len(run.rejects) == 4
    listed = {
        a["FileName"]: a
        for a in org.get(f"Invoices/{invoice['InvoiceID']}/Attachments")["Attachments"]
    }
    assert listed["receipt.png"]["IncludeOnline"] is True
    assert _content(org, "Invoices", invoice["InvoiceID"], "note.txt") == note
    assert _content(org, "Invoices", invoice["InvoiceID"], "by-url.png") == receipt.read_bytes()

    receipt.write_bytes(os.urandom(50_000))  # the same name, new content
    fields = {k: v for k, v in messages[1]["record"].items() if k != "SHA256"}
    changed = singer_file(tmp_path, "changed.singer", [SCHEMA, _record(**fields)])
    kept = copy_into(org, tmp_path, changed, write_mode="create_only")
    assert kept.actions("attachments") == ["exists"]
    assert _content(org, "Invoices", invoice["InvoiceID"], "receipt.png") != receipt.read_bytes()
    replaced = copy_into(org, tmp_path, changed, write_mode="update_only")
    assert replaced.actions("attachments") == ["updated"]
    assert _content(org, "Invoices", invoice["InvoiceID"], "receipt.png") == receipt.read_bytes()
    new_name = _record(
        DocumentType="Invoices", DocumentID=invoice["InvoiceID"], FileName="new.txt", Content="eA=="
    )
    refused = copy_into(
        org,
        tmp_path,
        singer_file(tmp_path, "new.singer", [SCHEMA, new_name]),
        write_mode="update_only",
    )
    assert "update_only" in " ".join(refused.rejects[0]["reasons"])


def _peak_rss_kb(config: dict[str, Any], tmp_path: Path, singer: Path) -> int:
    """Run target-xero on ``singer``; the peak RSS of its process (KB), from the kernel."""
    (tmp_path / "rss-config.json").write_text(json.dumps(config))
    with singer.open("rb") as stdin:
        proc = subprocess.Popen(
            [TARGET, "--config", str(tmp_path / "rss-config.json")],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    return int(usage.ru_maxrss)


def test_a_big_file_is_uploaded_with_flat_memory(world: World, tmp_path: Path) -> None:
    org = world.populated
    contact = org.all("Contacts", "Contacts")[0]["ContactID"]
    sizes = {"small": 1_000, "big": 24 * 1024 * 1024}
    peaks = {}
    for name, size in sizes.items():
        path = tmp_path / f"{name}.bin"
        with path.open("wb") as out:
            for _ in range(0, size, 1 << 20):
                out.write(os.urandom(min(1 << 20, size)))
            out.truncate(size)
        record = _record(
            DocumentType="Contacts", DocumentID=contact, FileName=path.name, Path=str(path)
        )
        singer = singer_file(tmp_path, f"{name}.singer", [SCHEMA, record])
        peaks[name] = _peak_rss_kb(org.config(tmp_path), tmp_path, singer)
        audit = read_jsonl(tmp_path / "audit.jsonl")
        assert audit[-1]["action"] == "created"
        content = _content(org, "Contacts", contact, path.name)
        assert hashlib.sha256(content).digest() == hashlib.sha256(path.read_bytes()).digest()
    # 24 MB through the target; its peak grows by far less than a quarter of that.
    assert peaks["big"] - peaks["small"] < 6 * 1024, peaks


def test_faults_and_retries_upload_every_file_once_and_whole(tmp_path: Path) -> None:
    # 500s, 503s, 429s, dropped connections and expired tokens on a share of the calls: each
    # retry opens the file again from its start, under the same Idempotency-Key.
    with Sandbox(tenants=1, scale=5, fault_rate=0.2, time_scale=60, **SANDBOX_FLAGS) as sb:
        org = Org(sb, sb.tenant_ids()[0], str(sb.authorize()["access_token"]))
        invoices = [i["InvoiceID"] for i in org.all("Invoices", "Invoices")[:4]]
        files = {}
        messages: list[dict[str, Any]] = [SCHEMA]
        for n in range(20):
            path = tmp_path / f"scan-{n}.pdf"
            path.write_bytes(os.urandom(200_000 + n))
            files[(invoices[n % 4], path.name)] = hashlib.sha256(path.read_bytes()).hexdigest()
            messages.append(
                _record(
                    DocumentType="Invoices",
                    DocumentID=invoices[n % 4],
                    FileName=path.name,
                    Path=str(path),
                )
            )
        singer = singer_file(tmp_path, "faulty.singer", messages)
        run = run_target(org.refresh_config(tmp_path, max_retries=8), tmp_path, singer)
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.rejects == []
        assert run.actions("attachments") == ["created"] * 20
        for (invoice, name), sha in files.items():
            listed = org.get(f"Invoices/{invoice}/Attachments")["Attachments"]
            assert [a["FileName"] for a in listed].count(name) == 1
            content = _content(org, "Invoices", invoice, name)
            assert hashlib.sha256(content).hexdigest() == sha
        retried = [
            line for line in run.stderr.splitlines() if "/Attachments/" in line and "retry" in line
        ]
        assert retried, "no upload was retried: the test proves nothing"

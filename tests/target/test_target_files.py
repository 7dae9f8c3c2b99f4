"""target-xero's Files API streams (``file_folders``, ``files``, ``file_associations``) against
the sandbox (tap-xero and target-xero as real processes):

* the round trip: a Demo Company's folders, files (content saved by the tap's ``files_path``)
  and associations, with the documents they are associated with, copied into an empty
  organisation of the same region: every folder, file (by SHA-256) and association reads back
  equal; a replay sends nothing;
* a populated organisation: every file it had keeps its ID and content (a file of the same
  folder and name with other content is rejected, never replaced) and every association stays;
* records made by hand: a folder by name, base64 content, SHA-256 checked, an association by
  document number, a stream mapped by ``stream_resource_map``, rejects with reasons, the write
  modes and a dry run.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._target_support import (
    SANDBOX_FLAGS,
    Org,
    OrgPool,
    TargetRun,
    copy_into,
    singer_file,
    tap_records,
)
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

FILES_API = "/files.xro/1.0"
FILE_STREAMS = ("file_folders", "files", "file_associations")
# The documents the seeded associations name, and what they need to be copied.
DOCUMENTS = ["accounts", "tracking_categories", "contacts", "items", "invoices"]


@dataclass
class World:
    records: dict[str, list[dict[str, Any]]]
    everything: Path  # the documents, then the folders, files and associations
    files_only: Path  # the folders, files and associations
    source: Org
    populated: Org
    empty: Org


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("files")
    # An empty organisation has no Files API (as one without it in its subscription): the
    # copy goes into a third Demo Company, its folders and files deleted first.
    with Sandbox(tenants=3, scale=5, regions="AU", **SANDBOX_FLAGS) as sb:
        pool = OrgPool(sb)
        pool.token = str(sb.authorize(f"{ALL_SCOPES} files")["access_token"])  # reads and writes
        source_id, populated_id, copy_id = sb.tenant_ids()[:3]
        streams = [*DOCUMENTS, *FILE_STREAMS]
        records = tap_records(
            pool, tmp, "source", source_id, streams, files_path=str(tmp / "content")
        )
        everything = tmp / "source.singer"
        files_only = tmp / "files-only.singer"
        files_only.write_text(
            "".join(
                line
                for line in everything.read_text().splitlines(keepends=True)
                if any(f'"stream":"{s}"' in line.replace(" ", "") for s in FILE_STREAMS)
            )
        )
        copy = Org(sb, copy_id, pool.token)
        _delete_files_and_folders(copy)
        yield World(
            records,
            everything,
            files_only,
            Org(sb, source_id, pool.token),
            Org(sb, populated_id, pool.token),
            copy,
        )


def _delete_files_and_folders(org: Org) -> None:
    def delete(path: str) -> None:
        url = f"{org.sandbox.url}{FILES_API}/{path}"
        httpx.delete(url, headers=org.headers, timeout=60).raise_for_status()

    for item in _files_api(org, "Files", pagesize="100")["Items"]:
        delete(f"Files/{item['Id']}")
    for folder in _files_api(org, "Folders"):
        if not folder["IsInbox"]:
            delete(f"Folders/{folder['Id']}")


def _files_api(org: Org, path: str, **params: str) -> Any:
    return org.api(f"{FILES_API}/{path}", **params)


def _sha256(org: Org, file_id: str) -> str:
    url = f"{org.sandbox.url}{FILES_API}/Files/{file_id}/Content"
    answer = httpx.get(url, headers=org.headers, timeout=60)
    answer.raise_for_status()
    return hashlib.sha256(answer.content).hexdigest()


@dataclass
class Listing:
    folders: dict[str, str]  # folder ID -> name
    files: dict[str, tuple[str, str, str]]  # file ID -> (folder name, file name, SHA-256)
    associations: set[tuple[str, str]]  # (file ID, object ID)


def _listing(org: Org) -> Listing:
    folders = {f["Id"]: f["Name"] for f in _files_api(org, "Folders")}
    files: dict[str, tuple[str, str, str]] = {}
    page = 1
    while items := _files_api(org, "Files", page=str(page), pagesize="100")["Items"]:
        for f in items:
            files[f["Id"]] = (folders[f["FolderId"]], f["Name"], _sha256(org, f["Id"]))
        page += 1
    associations = {
        (a["FileId"], a["ObjectId"])
        for file_id in files
        for a in _files_api(org, f"Files/{file_id}/Associations")
    }
    return Listing(folders, files, associations)


def _file_rejects(run: TargetRun) -> list[dict[str, Any]]:
    return [r for r in run.rejects if r["stream"] in FILE_STREAMS]


def test_files_copy_read_back_equal_and_replay_to_nothing(world: World, tmp_path: Path) -> None:
    folders, files = world.records["file_folders"], world.records["files"]
    associations = world.records["file_associations"]
    assert folders
    assert files
    assert associations
    assert all(f["Path"] and f["SHA256"] for f in files)

    run = copy_into(world.empty, tmp_path, world.everything)
    target_of = {a["source_id"]: a["xero_id"] for a in run.audit if a.get("source_id")}
    # The organisation is a Demo Company too: a source document that clashes with one of its
    # own is rejected (populated-target rules), and so are the associations naming it.
    linked = [a for a in associations if a["ObjectId"] in target_of]
    unlinked = [a for a in associations if a["ObjectId"] not in target_of]
    assert len(linked) >= len(associations) // 2
    assert [r for r in run.rejects if r["stream"] in ("file_folders", "files")] == []
    assert sorted(" ".join(r["reasons"]) for r in _file_rejects(run)) == sorted(
        f"no {a['ObjectGroup']} in the target organisation matches DocumentID '{a['ObjectId']}'"
        for a in unlinked
    )
    assert sorted(run.actions("file_folders")) == ["created"] * (len(folders) - 1) + [
        "unchanged"  # the inbox: every organisation has one
    ]
    assert run.actions("files") == ["created"] * len(files)
    assert run.actions("file_associations") == ["created"] * len(linked)

    copied = _listing(world.empty)
    source_folders = {f["Id"]: f["Name"] for f in folders}
    assert set(copied.folders.values()) == set(source_folders.values())
    assert sorted(copied.files.values()) == sorted(
        (source_folders[f["FolderId"]], f["Name"], f["SHA256"]) for f in files
    )
    assert copied.associations == {
        (target_of[a["FileId"]], target_of[a["ObjectId"]]) for a in linked
    }

    again = copy_into(world.empty, tmp_path, world.everything)
    assert again.rejects == run.rejects
    for stream in FILE_STREAMS:
        assert set(again.actions(stream)) == {"unchanged"}, stream
        assert all(a["idempotency_key"] is None for a in again.audit if a["stream"] == stream)
    assert _listing(world.empty) == copied


def test_a_populated_organisation_keeps_every_file_and_association(
    world: World, tmp_path: Path
) -> None:
    before = _listing(world.populated)
    assert before.files
    assert before.associations

    kept = copy_into(world.populated, tmp_path, world.files_only, write_mode="create_only")
    assert "updated" not in kept.actions("files")
    upsert = copy_into(world.populated, tmp_path, world.files_only)
    after = _listing(world.populated)
    for file_id, (folder, name, sha) in before.files.items():
        assert after.files[file_id] == (folder, name, sha)  # never replaced
    assert before.associations <= after.associations
    # A source file whose folder and name the organisation has with other content is refused.
    taken = {(folder, name.lower()) for folder, name, _ in before.files.values()}
    folder_names = {f["Id"]: f["Name"] for f in world.records["file_folders"]}
    clashes = [
        f
        for f in world.records["files"]
        if (folder_names[f["FolderId"]], f["Name"].lower()) in taken
    ]
    refused = [r for r in upsert.rejects if r["stream"] == "files"]
    assert len(refused) == len(clashes)
    assert all("cannot replace a file's content" in r["reasons"][0] for r in refused)
    assert set(upsert.actions("files")) <= {"created", "unchanged"}
    # The documents were not copied: associations naming them are rejected, saying why.
    named = [r for r in upsert.rejects if r["stream"] == "file_associations"]
    assert all("in the target organisation matches" in r["reasons"][0] for r in named)


def _record(stream: str, **fields: Any) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": fields}


def _schema(stream: str) -> dict[str, Any]:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "key_properties": [],
        "schema": {"type": "object", "properties": {}},
    }


def test_records_by_hand_folder_by_name_base64_modes_and_dry_run(
    world: World, tmp_path: Path
) -> None:
    org = world.populated
    invoice = next(
        i for i in org.all("Invoices", "Invoices") if i["Type"] == "ACCREC" and i["InvoiceNumber"]
    )
    note = b"a scanned note, given as base64"
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 " + bytes(range(256)) * 40)
    messages = [
        _schema("file_folders"),
        _record("file_folders", Name="Hand Made"),
        _schema("my_files"),  # mapped to files
        _record(
            "my_files",
            FolderName="Hand Made",
            Name="note.txt",
            Content=base64.b64encode(note).decode(),
            SHA256=hashlib.sha256(note).hexdigest(),
        ),
        _record("my_files", FolderName="Hand Made", Name="scan.pdf", Path=str(scan)),
        _record("my_files", Name="in-the-inbox.txt", Content=base64.b64encode(note).decode()),
        _record("my_files", FolderName="Hand Made", Name="wrong.txt", Content="eA==", SHA256="0"),
        _record("my_files", FolderName="No Such Folder", Name="lost.txt", Content="eA=="),
        _record("my_files", FolderName="Hand Made", Name="virus.exe", Content="eA=="),
        _schema("file_associations"),
        _record(
            "file_associations",
            FolderName="Hand Made",
            FileName="scan.pdf",
            DocumentType="Invoices",
            DocumentNumber=invoice["InvoiceNumber"],
            SendWithObject=True,
        ),
        _record(
            "file_associations",
            FolderName="Hand Made",
            FileName="note.txt",
            ObjectGroup="Payslip",
            ObjectId=invoice["InvoiceID"],
        ),
    ]
    singer = singer_file(tmp_path, "by-hand.singer", messages)
    settings: dict[str, Any] = {"stream_resource_map": {"my_files": "files"}}
    before = _listing(org)

    dry = copy_into(org, tmp_path, singer, dry_run=True, **settings)
    assert dry.actions("file_folders") == ["would_create"]
    # virus.exe too: only Xero knows which extensions it takes.
    assert dry.actions("my_files") == ["would_create"] * 4
    assert _listing(org) == before  # nothing written

    run = copy_into(org, tmp_path, singer, **settings)
    assert run.actions("file_folders") == ["created"]
    assert run.actions("my_files") == ["created"] * 3
    assert run.actions("file_associations") == ["created"]
    reasons = {
        r["record"].get("Name") or r["record"].get("ObjectGroup"): r["reasons"] for r in run.rejects
    }
    assert "SHA256 mismatch" in reasons["wrong.txt"][0]
    assert (
        "no folder in the target organisation matches FolderName 'No Such Folder'"
        in (reasons["lost.txt"][0])
    )
    assert "Extension: exe is not a valid File extension." in reasons["virus.exe"][0]
    assert "ObjectGroup (or DocumentType) 'Payslip'" in reasons["Payslip"][0]
    after = _listing(org)
    made = {v[:2]: (k, v[2]) for k, v in after.files.items() if k not in before.files}
    assert made[("Hand Made", "note.txt")][1] == hashlib.sha256(note).hexdigest()
    assert made[("Hand Made", "scan.pdf")][1] == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert ("Inbox", "in-the-inbox.txt") in made
    assert after.associations - before.associations == {
        (made[("Hand Made", "scan.pdf")][0], invoice["InvoiceID"])
    }

    scan.write_bytes(b"%PDF-1.4 other content")
    changed = singer_file(
        tmp_path,
        "changed.singer",
        [
            _schema("files"),
            _record("files", FolderName="Hand Made", Name="scan.pdf", Path=str(scan)),
        ],
    )
    assert copy_into(org, tmp_path, changed, write_mode="create_only").actions("files") == [
        "exists"
    ]
    refused = copy_into(org, tmp_path, changed)
    assert "cannot replace a file's content" in refused.rejects[0]["reasons"][0]
    new_name = singer_file(
        tmp_path,
        "new.singer",
        [
            _schema("files"),
            _record("files", FolderName="Hand Made", Name="new.txt", Content="eA=="),
        ],
    )
    update_only = copy_into(org, tmp_path, new_name, write_mode="update_only")
    assert "update_only" in update_only.rejects[0]["reasons"][0]
    assert _listing(org).files == after.files

"""Contract tests for the Files API's writes: every write of the official spec sent to the
sandbox with its answer validated with openapi-core (uploads to the inbox and to a folder, a
file renamed and moved, deleted; folders made, renamed, deleted; associations made and removed),
the content read back byte for byte, every refusal in the spec's error shape, the 10 MB limit,
the write scope and ``Idempotency-Key``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_core.testing import MockRequest, MockResponse

from tests._openapi import spec_document
from tests._tap_support import RELAXED
from tests.sandbox.test_sandbox_contract_other_apis import _spec
from xero_sandbox.apis.files_writes import OBJECT_TYPES
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

BASE = "/files.xro/1.0"
NOBODY = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=20, seed=37, **RELAXED) as running:
        running._tokens = running.authorize(f"{ALL_SCOPES} files")
        yield running


def _send(
    sb: Sandbox, method: str, path: str, *, key: str | None = None, **kwargs: Any
) -> httpx.Response:
    """One call; a JSON success answer validated against the spec."""
    headers = sb.headers(sb.tenant_ids()[0])
    if key:
        headers["Idempotency-Key"] = key
    answer = httpx.request(method, sb.url + BASE + path, headers=headers, timeout=60, **kwargs)
    if answer.status_code in (200, 201):
        request = MockRequest(
            "https://api.xero.com",
            method.lower(),
            BASE + path,
            headers={"xero-tenant-id": sb.tenant_ids()[0]},
        )
        response = MockResponse(
            answer.content,
            status_code=answer.status_code,
            content_type=answer.headers["content-type"].split(";")[0],
        )
        _spec("xero_files").validate_response(request, response)
    return answer


def _upload(
    sb: Sandbox, name: str, content: bytes, folder: str = "", key: str | None = None
) -> httpx.Response:
    return _send(
        sb,
        "POST",
        f"/Files{'/' + folder if folder else ''}",
        key=key,
        files={"body": (name, content, "application/octet-stream")},
        data={"name": name, "filename": name},
    )


def _problem(answer: httpx.Response, status: int = 400) -> str:
    assert answer.status_code == status, answer.text
    (problem,) = answer.json()
    assert problem["type"] == "Validation"
    return str(problem["detail"])


def test_every_write_of_the_spec_is_served(sb: Sandbox) -> None:
    writes = {
        (method.upper(), path)
        for path, item in spec_document("xero_files")["paths"].items()
        for method in item
        if method in ("post", "put", "delete")
    }
    assert writes == {
        ("POST", "/Files"),
        ("POST", "/Files/{FolderId}"),
        ("PUT", "/Files/{FileId}"),
        ("DELETE", "/Files/{FileId}"),
        ("POST", "/Files/{FileId}/Associations"),
        ("DELETE", "/Files/{FileId}/Associations/{ObjectId}"),
        ("POST", "/Folders"),
        ("PUT", "/Folders/{FolderId}"),
        ("DELETE", "/Folders/{FolderId}"),
    }
    inbox = _send(sb, "GET", "/Inbox").json()
    content = os.urandom(1_500_000)
    uploaded = _upload(sb, "receipt.pdf", content)
    assert uploaded.status_code == 201, uploaded.text
    file = uploaded.json()
    assert (file["Name"], file["Size"], file["FolderId"]) == (
        "receipt.pdf",
        len(content),
        inbox["Id"],
    )
    assert file["MimeType"] == "application/pdf"
    assert _send(sb, "GET", f"/Files/{file['Id']}/Content").content == content
    assert _send(sb, "GET", "/Inbox").json()["FileCount"] == inbox["FileCount"] + 1

    folder = _send(sb, "POST", "/Folders", json={"Name": "Expenses 2026"})
    assert folder.status_code == 200, folder.text
    folder_id = folder.json()["Id"]
    into = _upload(sb, "scan.png", b"\x89PNG....", folder=folder_id)
    assert into.status_code == 201
    assert into.json()["FolderId"] == folder_id

    moved = _send(
        sb, "PUT", f"/Files/{file['Id']}", json={"Name": "receipt-01.pdf", "FolderId": folder_id}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["Name"], moved.json()["FolderId"]) == ("receipt-01.pdf", folder_id)
    assert _send(sb, "GET", f"/Folders/{folder_id}").json()["FileCount"] == 2
    renamed = _send(sb, "PUT", f"/Folders/{folder_id}", json={"Name": "Expenses"})
    assert renamed.json()["Name"] == "Expenses"

    invoice = httpx.get(
        sb.url + "/api.xro/2.0/Invoices", headers=sb.headers(sb.tenant_ids()[0]), timeout=30
    ).json()["Invoices"][0]["InvoiceID"]
    body = {"ObjectId": invoice, "ObjectGroup": "Invoice", "ObjectType": "AccRec"}
    linked = _send(sb, "POST", f"/Files/{file['Id']}/Associations", json=body)
    assert linked.status_code == 201, linked.text
    assert linked.json()["ObjectId"] == invoice
    of_object = _send(sb, "GET", f"/Associations/{invoice}").json()
    assert file["Id"] in {a["FileId"] for a in of_object}
    unlinked = _send(sb, "DELETE", f"/Files/{file['Id']}/Associations/{invoice}")
    assert unlinked.status_code == 204
    assert file["Id"] not in {
        a["FileId"] for a in _send(sb, "GET", f"/Associations/{invoice}").json()
    }

    assert _send(sb, "DELETE", f"/Files/{file['Id']}").status_code == 204
    assert _send(sb, "GET", f"/Files/{file['Id']}").status_code == 404
    assert _send(sb, "DELETE", f"/Files/{into.json()['Id']}").status_code == 204
    assert _send(sb, "DELETE", f"/Folders/{folder_id}").status_code == 204
    assert _send(sb, "GET", f"/Folders/{folder_id}").status_code == 404


def test_refusals_in_the_spec_error_shape(sb: Sandbox) -> None:
    assert (
        _problem(_upload(sb, "notes.boo", b"x")) == "Extension: boo is not a valid File extension."
    )
    assert _problem(_upload(sb, "empty.txt", b"")) == "The file is empty"
    assert _upload(sb, "a.txt", b"x", folder=NOBODY).status_code == 404
    big = _upload(sb, "big.pdf", b"\0" * (10 * 1024 * 1024 + 1))
    assert big.status_code == 413
    inbox = _send(sb, "GET", "/Inbox").json()
    assert _problem(_send(sb, "PUT", f"/Folders/{inbox['Id']}", json={"Name": "x"})) == (
        "The inbox cannot be renamed"
    )
    assert _problem(_send(sb, "DELETE", f"/Folders/{inbox['Id']}")) == "The inbox cannot be deleted"
    folder = _send(sb, "POST", "/Folders", json={"Name": "Taken"}).json()
    assert _problem(_send(sb, "POST", "/Folders", json={"Name": "taken"})) == (
        "A folder named taken already exists"
    )
    assert _problem(_send(sb, "POST", "/Folders", json={})) == "Name is required"
    file = _upload(sb, "kept.txt", b"kept", folder=folder["Id"]).json()
    assert _problem(_send(sb, "DELETE", f"/Folders/{folder['Id']}")) == "The folder is not empty"
    assert _problem(_send(sb, "PUT", f"/Files/{file['Id']}", json={"FolderId": NOBODY})) == (
        f"Folder {NOBODY} could not be found"
    )
    link = f"/Files/{file['Id']}/Associations"
    assert _problem(
        _send(sb, "POST", link, json={"ObjectId": "nope", "ObjectGroup": "Invoice"})
    ) == ("ObjectId must be a GUID")
    assert "ObjectGroup must be one of" in _problem(
        _send(sb, "POST", link, json={"ObjectId": NOBODY, "ObjectGroup": "Spaceship"})
    )
    assert (
        _send(sb, "POST", link, json={"ObjectId": NOBODY, "ObjectGroup": "Contact"}).status_code
        == 201
    )
    assert _problem(
        _send(sb, "POST", link, json={"ObjectId": NOBODY, "ObjectGroup": "Contact"})
    ) == ("The file is already associated with this object")
    assert _send(sb, "DELETE", f"/Files/{NOBODY}").status_code == 404
    assert _send(sb, "DELETE", f"/Files/{file['Id']}/Associations/{file['Id']}").status_code == 404


def test_writes_need_the_files_scope(sb: Sandbox) -> None:
    token = sb.authorize(f"{ALL_SCOPES} files.read")["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "xero-tenant-id": sb.tenant_ids()[0],
        "Accept": "application/json",
    }
    refused = httpx.post(sb.url + BASE + "/Folders", json={"Name": "No"}, headers=headers)
    assert refused.status_code == 401
    assert httpx.get(sb.url + BASE + "/Folders", headers=headers).status_code == 200


def test_idempotency_key_replays_an_upload(sb: Sandbox) -> None:
    first = _upload(sb, "keyed.pdf", b"%PDF keyed", key="files-key-1")
    again = _upload(sb, "keyed.pdf", b"%PDF keyed", key="files-key-1")
    assert again.status_code == 201
    assert again.json()["Id"] == first.json()["Id"]
    other = _upload(sb, "keyed.pdf", b"%PDF other", key="files-key-1")
    assert other.status_code == 400
    names = [f["Name"] for f in _send(sb, "GET", "/Files").json()["Items"]]
    assert names.count("keyed.pdf") == 1


def test_idempotency_key_replays_every_json_write(sb: Sandbox) -> None:
    made = _send(sb, "POST", "/Folders", key="folder-key-1", json={"Name": "Keyed"})
    again = _send(sb, "POST", "/Folders", key="folder-key-1", json={"Name": "Keyed"})
    assert again.status_code == 200  # the first answer, not "already exists"
    assert again.json() == made.json()
    assert (
        _send(sb, "POST", "/Folders", key="folder-key-1", json={"Name": "Other"}).status_code == 400
    )
    assert [f["Name"] for f in _send(sb, "GET", "/Folders").json()].count("Keyed") == 1

    file = _upload(sb, "linked.txt", b"linked", folder=made.json()["Id"]).json()
    link = f"/Files/{file['Id']}/Associations"
    body = {"ObjectId": NOBODY, "ObjectGroup": "Invoice"}
    first = _send(sb, "POST", link, key="link-key-1", json=body)
    replay = _send(sb, "POST", link, key="link-key-1", json=body)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert len(_send(sb, "GET", link).json()) == 1

    path = f"/Files/{file['Id']}"
    renamed = _send(sb, "PUT", path, key="rename-key-1", json={"Name": "renamed.txt"})
    _send(sb, "PUT", path, json={"Name": "renamed-again.txt"})
    replayed = _send(sb, "PUT", path, key="rename-key-1", json={"Name": "renamed.txt"})
    assert replayed.json() == renamed.json()  # the first answer; the file keeps its last name
    assert _send(sb, "GET", path).json()["Name"] == "renamed-again.txt"
    gone = _send(sb, "DELETE", path, key="delete-key-1")
    assert _send(sb, "DELETE", path, key="delete-key-1").status_code == gone.status_code == 204


def test_renames_and_unknown_ids_are_refused(sb: Sandbox) -> None:
    file = _upload(sb, "plain.txt", b"plain").json()
    path = f"/Files/{file['Id']}"
    assert _problem(_send(sb, "PUT", path, json={"Name": "plain.boo"})) == (
        "Extension: boo is not a valid File extension."
    )
    assert _problem(_send(sb, "PUT", path, json={"Name": 7})) == "Name must be text"
    assert _send(sb, "GET", path).json()["Name"] == "plain.txt"
    taken = _send(sb, "POST", "/Folders", json={"Name": "Taken Too"}).json()
    other = _send(sb, "POST", "/Folders", json={"Name": "Free"}).json()
    assert _problem(_send(sb, "PUT", f"/Folders/{other['Id']}", json={"Name": "taken too"})) == (
        "A folder named taken too already exists"
    )
    assert taken["Id"] != other["Id"]
    assert _send(sb, "PUT", f"/Folders/{NOBODY}", json={"Name": "x"}).status_code == 404
    assert _send(sb, "DELETE", f"/Folders/{NOBODY}").status_code == 404
    assert _send(sb, "PUT", f"/Files/{NOBODY}", json={"Name": "x.txt"}).status_code == 404
    body = {"ObjectId": NOBODY, "ObjectGroup": "Invoice"}
    assert _send(sb, "POST", f"/Files/{NOBODY}/Associations", json=body).status_code == 404


def test_an_associations_object_type_is_one_of_the_specs(sb: Sandbox) -> None:
    spec_types = spec_document("xero_files")["components"]["schemas"]["ObjectType"]["enum"]
    assert set(spec_types) == OBJECT_TYPES
    file = _upload(sb, "typed.txt", b"typed").json()
    link = f"/Files/{file['Id']}/Associations"
    refused = _send(
        sb, "POST", link, json={"ObjectId": NOBODY, "ObjectGroup": "Invoice", "ObjectType": "Bill"}
    )
    assert _problem(refused) == "ObjectType Bill is not one of the spec's object types"
    # Without one: the group where it is also a type, else Unknown (validated by the spec).
    untyped = _send(sb, "POST", link, json={"ObjectId": NOBODY, "ObjectGroup": "Invoice"})
    assert untyped.json()["ObjectType"] == "Unknown"
    contact = {"ObjectId": file["Id"], "ObjectGroup": "Contact"}
    assert _send(sb, "POST", link, json=contact).json()["ObjectType"] == "Contact"

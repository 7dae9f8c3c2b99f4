"""The Files API's writes (``files.xro/1.0``): uploads (multipart, to the inbox or a folder),
renaming and moving files, folders, and associations with documents. What each route answers
is in docs/sandbox-writes.md ("Files writes").

Uploaded content is kept as a file beside the database, as attachment uploads are, and read
back from there; the upload's body is parsed by Starlette's form parser, which spools the file
part to disk, so no upload is held in memory.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import API_PREFIXES
from xero_sandbox.apis.attachments import files_dir
from xero_sandbox.apis.serving import ApiRequest, json_answer, no_content, write
from xero_sandbox.catalog import Record
from xero_sandbox.reads import not_found
from xero_sandbox.writes import idempotent

__all__ = ["MAX_FILE_BYTES", "routes", "stored_content"]

PREFIX = API_PREFIXES["files"]
# Xero's documented request limit for the Files API.
MAX_FILE_BYTES = 10 * 1024 * 1024
_CHUNK = 1 << 16
# File types the sandbox accepts (Xero publishes no list; these are the documents, images,
# spreadsheets and text files its UI lets a user upload).
EXTENSIONS = frozenset(
    [
        "bmp",
        "csv",
        "doc",
        "docx",
        "eml",
        "gif",
        "heic",
        "jpeg",
        "jpg",
        "keynote",
        "msg",
        "numbers",
        "odf",
        "ods",
        "odt",
        "pages",
        "pdf",
        "png",
        "ppt",
        "pptx",
        "rtf",
        "tif",
        "tiff",
        "txt",
        "xls",
        "xlsx",
        "xml",
        "zip",
    ]
)
OBJECT_GROUPS = (
    "Account",
    "BankTransaction",
    "Contact",
    "CreditNote",
    "Invoice",
    "Item",
    "ManualJournal",
    "Overpayment",
    "Payment",
    "Prepayment",
    "Quote",
    "Receipt",
)

# The spec's ObjectType enum.
OBJECT_TYPES = frozenset(
    [
        "Unknown",
        "Accpay",
        "AccPayCredit",
        "AccPayPayment",
        "AccRec",
        "AccRecCredit",
        "AccRecPayment",
        "Adjustment",
        "ApCreditPayment",
        "ApOverPayment",
        "ApOverPaymentPayment",
        "ApOverPaymentSourcePayment",
        "ApPrepayment",
        "ApPrepaymentPayment",
        "ApPrepaymentSourcePayment",
        "ArCreditPayment",
        "ArOverPayment",
        "ArOverpaymentPayment",
        "ArOverpaymentSourcePayment",
        "ArPrepayment",
        "ArPrepaymentPayment",
        "ArPrepaymentSourcePayment",
        "CashPaid",
        "CashRec",
        "ExpPayment",
        "ManJournal",
        "PurchaseOrder",
        "Receipt",
        "Transfer",
        "Account",
        "Contact",
        "Business",
        "Employee",
        "Person",
        "User",
        "Org",
        "FixedAsset",
        "PayRun",
        "PriceListItem",
        "Bank",
        "Current",
        "Equity",
        "Expense",
        "Fixed",
        "Liability",
        "Prepayment",
        "Revenue",
        "Sales",
        "Overheads",
        "Depreciatn",
        "OtherIncome",
        "DirectCosts",
        "Currliab",
        "Termliab",
        "NonCurrent",
        "SalesQuote",
    ]
)


def _refused(detail: str, status: int = 400) -> Response:
    """The spec's error body: a list of one validation problem."""
    return json_answer(
        [{"type": "Validation", "title": "Validation failure", "detail": detail}], status
    )


def _now() -> str:
    """UTC without a zone, to the 7 fractional digits of the spec's file timestamps."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def stored_content(request: Request, file: Record) -> Response | None:
    """The content of an uploaded file, or None for a seeded one (made from its ID)."""
    if not file.get("Uploaded"):
        return None
    ctx = request.app.state.ctx
    return FileResponse(files_dir(ctx) / str(file["Id"]), media_type="application/octet-stream")


def _public(file: Record) -> Record:
    return {k: v for k, v in file.items() if k != "Uploaded"}


def _folder_of(call: ApiRequest, folder_id: str | None) -> Record | None:
    if folder_id is None:
        return next((f for f in call.records("Folders") if f.get("IsInbox")), None)
    return call.record("Folders", folder_id)


async def upload(request: Request) -> Response:
    """POST /Files (to the inbox) and POST /Files/{FolderId}: one multipart file."""
    call = ApiRequest(request, "files")
    if call.refusal:
        return call.refusal
    folder = _folder_of(call, request.path_params.get("folder_id"))
    if folder is None:
        return not_found()
    spool = files_dir(call.ctx) / f"upload-{uuid.uuid4()}"
    try:
        async with request.form(max_files=1, max_fields=10) as form:
            part = next((v for v in form.values() if not isinstance(v, str)), None)
            if part is None:
                return _refused("The request has no file")
            name = str(form.get("name") or form.get("filename") or part.filename or "")
            mime = str(form.get("mimeType") or "") or None
            size, digest = 0, hashlib.sha256()
            with spool.open("wb") as out:
                while chunk := await part.read(_CHUNK):
                    size += len(chunk)
                    if size > MAX_FILE_BYTES:
                        return _refused(f"The file is larger than {MAX_FILE_BYTES:,} bytes", 413)
                    digest.update(chunk)
                    out.write(chunk)
        problem = _name_problem(name) or (None if size else "The file is empty")
        if problem:
            return _refused(problem)
        sha256 = digest.hexdigest()

        def save() -> Response:
            return _save_upload(call, folder, name, mime, spool, size, sha256)

        return await idempotent(request, f"{folder['Id']}\0{name}\0{sha256}".encode(), save)
    finally:
        spool.unlink(missing_ok=True)


def _name_problem(name: str) -> str | None:
    if not name.strip():
        return "The file has no name"
    extension = name.rsplit(".", 1)[1].lower() if "." in name else ""
    if extension not in EXTENSIONS:
        return f"Extension: {extension} is not a valid File extension."
    return None


def _save_upload(
    call: ApiRequest,
    folder: Record,
    name: str,
    mime: str | None,
    spool: Path,
    size: int,
    sha256: str,
) -> Response:
    now = _now()
    file_id = str(uuid.uuid4())
    users = list(call.ctx.store.iter_records(call.tenant_id, "Users"))
    user = users[0] if users else {}
    first, last = user.get("FirstName", ""), user.get("LastName", "")
    record: Record = {
        "Name": name,
        "MimeType": mime or mimetypes.guess_type(name)[0] or "application/octet-stream",
        "Size": size,
        "CreatedDateUtc": now,
        "UpdatedDateUtc": now,
        "User": {
            "Id": user.get("UserID", str(uuid.UUID(int=0))),
            "Name": user.get("EmailAddress", ""),
            "FirstName": first,
            "LastName": last,
            "FullName": f"{first} {last}".strip(),
        },
        "Id": file_id,
        "FolderId": folder["Id"],
        "Uploaded": sha256,
    }
    os.replace(spool, files_dir(call.ctx) / file_id)
    with call.ctx.store.transaction():
        call.save("Files", record)
        call.save("Folders", {**folder, "FileCount": int(folder.get("FileCount") or 0) + 1})
    return json_answer(_public(record), 201)


def _update_file(call: ApiRequest, body: Record | None) -> Response:
    """PUT /Files/{FileId}: rename and/or move to another folder."""
    file = call.found("Files", call.request.path_params["file_id"])
    if isinstance(file, Response):
        return file
    if body is None:
        return _refused("The body must be a file object")
    name = body.get("Name", file["Name"])
    if not isinstance(name, str) or (problem := _name_problem(name)):
        return _refused(problem if isinstance(name, str) and problem else "Name must be text")
    moves_to = body.get("FolderId") or file["FolderId"]
    target = call.record("Folders", str(moves_to))
    if target is None:
        return _refused(f"Folder {moves_to} could not be found")
    updated = {**file, "Name": name, "FolderId": target["Id"], "UpdatedDateUtc": _now()}
    with call.ctx.store.transaction():
        if target["Id"] != file["FolderId"]:
            _count(call, file["FolderId"], -1)
            _count(call, target["Id"], +1)
        call.save("Files", updated)
    return json_answer(_public(updated))


def _count(call: ApiRequest, folder_id: str, step: int) -> None:
    folder = call.record("Folders", folder_id)
    if folder is not None:
        call.save("Folders", {**folder, "FileCount": max(0, int(folder["FileCount"]) + step)})


def _delete_file(call: ApiRequest, _body: Record | None) -> Response:
    """DELETE /Files/{FileId}: the file, its content and its associations."""
    file = call.found("Files", call.request.path_params["file_id"])
    if isinstance(file, Response):
        return file
    with call.ctx.store.transaction():
        for association in call.records("Associations"):
            if association["FileId"] == file["Id"]:
                call.remove("Associations", association["Key"])
        _count(call, file["FolderId"], -1)
        call.remove("Files", file["Id"])
    (files_dir(call.ctx) / str(file["Id"])).unlink(missing_ok=True)
    return no_content()


def _folder_name(call: ApiRequest, body: Record | None, own_id: str | None) -> str | Response:
    name = (body or {}).get("Name")
    if not isinstance(name, str) or not name.strip():
        return _refused("Name is required")
    taken = [
        f
        for f in call.records("Folders")
        if f["Name"].lower() == name.strip().lower() and f["Id"] != own_id
    ]
    if taken:
        return _refused(f"A folder named {name.strip()} already exists")
    return name.strip()


def _create_folder(call: ApiRequest, body: Record | None) -> Response:
    """POST /Folders."""
    name = _folder_name(call, body, None)
    if isinstance(name, Response):
        return name
    folder = {"Id": str(uuid.uuid4()), "Name": name, "FileCount": 0, "IsInbox": False}
    with call.ctx.store.transaction():
        call.save("Folders", folder)
    return json_answer(folder)


def _update_folder(call: ApiRequest, body: Record | None) -> Response:
    """PUT /Folders/{FolderId}: rename (not the inbox)."""
    folder = call.found("Folders", call.request.path_params["folder_id"])
    if isinstance(folder, Response):
        return folder
    if folder.get("IsInbox"):
        return _refused("The inbox cannot be renamed")
    name = _folder_name(call, body, folder["Id"])
    if isinstance(name, Response):
        return name
    renamed = {**folder, "Name": name}
    with call.ctx.store.transaction():
        call.save("Folders", renamed)
    return json_answer(renamed)


def _delete_folder(call: ApiRequest, _body: Record | None) -> Response:
    """DELETE /Folders/{FolderId}: an empty folder other than the inbox."""
    folder = call.found("Folders", call.request.path_params["folder_id"])
    if isinstance(folder, Response):
        return folder
    if folder.get("IsInbox"):
        return _refused("The inbox cannot be deleted")
    if any(f["FolderId"] == folder["Id"] for f in call.records("Files")):
        return _refused("The folder is not empty")
    with call.ctx.store.transaction():
        call.remove("Folders", folder["Id"])
    return no_content()


def _associate(call: ApiRequest, body: Record | None) -> Response:
    """POST /Files/{FileId}/Associations: link the file to a document."""
    file = call.found("Files", call.request.path_params["file_id"])
    if isinstance(file, Response):
        return file
    body = body or {}
    object_id = str(body.get("ObjectId") or "").lower()
    try:
        object_id = str(uuid.UUID(object_id))
    except ValueError:
        return _refused("ObjectId must be a GUID")
    group = body.get("ObjectGroup")
    if group not in OBJECT_GROUPS:
        return _refused(f"ObjectGroup must be one of {', '.join(OBJECT_GROUPS)}")
    kind = body.get("ObjectType") or (group if group in OBJECT_TYPES else "Unknown")
    if kind not in OBJECT_TYPES:
        return _refused(f"ObjectType {kind} is not one of the spec's object types")
    key = f"{file['Id']}:{object_id}"
    if call.record("Associations", key) is not None:
        return _refused("The file is already associated with this object")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    association: Record = {
        "Key": key,
        "SendWithObject": bool(body.get("SendWithObject", False)),
        "Name": file["Name"],
        "Size": file["Size"],
        "CreatedDateUtc": now,
        "AssociationDateUtc": now,
        "FileId": file["Id"],
        "ObjectId": object_id,
        "ObjectGroup": group,
        "ObjectType": kind,
    }
    with call.ctx.store.transaction():
        call.save("Associations", association)
    return json_answer({k: v for k, v in association.items() if k != "Key"}, 201)


def _dissociate(call: ApiRequest, _body: Record | None) -> Response:
    """DELETE /Files/{FileId}/Associations/{ObjectId}."""
    params = call.request.path_params
    key = f"{params['file_id'].lower()}:{params['object_id'].lower()}"
    found = call.found("Associations", key)
    if isinstance(found, Response):
        return found
    with call.ctx.store.transaction():
        call.remove("Associations", key)
    return no_content()


def _json_write(handle: Any) -> Any:
    async def route(request: Request) -> Response:
        return await write(request, "files", handle)

    return route


routes: list[BaseRoute] = [
    Route(PREFIX + "/Files", upload, methods=["POST"]),
    Route(PREFIX + "/Files/{folder_id}", upload, methods=["POST"]),
    Route(PREFIX + "/Files/{file_id}", _json_write(_update_file), methods=["PUT"]),
    Route(PREFIX + "/Files/{file_id}", _json_write(_delete_file), methods=["DELETE"]),
    Route(PREFIX + "/Files/{file_id}/Associations", _json_write(_associate), methods=["POST"]),
    Route(
        PREFIX + "/Files/{file_id}/Associations/{object_id}",
        _json_write(_dissociate),
        methods=["DELETE"],
    ),
    Route(PREFIX + "/Folders", _json_write(_create_folder), methods=["POST"]),
    Route(PREFIX + "/Folders/{folder_id}", _json_write(_update_folder), methods=["PUT"]),
    Route(PREFIX + "/Folders/{folder_id}", _json_write(_delete_folder), methods=["DELETE"]),
]

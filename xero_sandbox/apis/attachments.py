"""Accounting attachments: the list of a document's attachments, their content, and uploads.

Seeded content is made from the attachment's ID rather than stored (the same bytes every time,
streamed in chunks, so a file of any size costs no memory). Uploaded content (``PUT``/``POST
/{Collection}/{ID}/Attachments/{FileName}``, the raw body) is streamed to a file beside the
database and served from there. What each route answers is in docs/apis.md and
docs/sandbox-writes.md."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import ATTACHMENT_PARENTS, stored_name
from xero_sandbox.catalog import Record, spec_for
from xero_sandbox.context import SandboxContext
from xero_sandbox.identity import problem_body
from xero_sandbox.reads import (
    API,
    envelope,
    error_response,
    find_record,
    not_found,
    served,
    tenant_of,
)
from xero_sandbox.store import encode
from xero_sandbox.writes import idempotent

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "download",
    "files_dir",
    "public",
    "routes",
    "too_large",
    "upload_limit",
]

STORED = stored_name("accounting", "Attachments")
_PARENTS = {name.lower(): name for name in ATTACHMENT_PARENTS}
_HEADERS = {"application/pdf": b"%PDF-1.4\n", "image/png": b"\x89PNG\r\n\x1a\n"}
CHUNK = 1 << 16
# Fields the store keeps beside Xero's own: which document an attachment belongs to, and the
# SHA-256 of uploaded content (its file beside the database is named by the AttachmentID).
_PRIVATE = ("DocumentType", "DocumentID", "Uploaded")
# Xero's documented limits: at most 10 attachments a document, each at most 25 MB.
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# Only invoices and credit notes take IncludeOnline (their online copy shows the file).
_ONLINE = ("Invoices", "CreditNotes")


def public(attachment: Record) -> Record:
    """An attachment as Xero lists it."""
    return {k: v for k, v in attachment.items() if k not in _PRIVATE}


def download(seed: str, size: int, mime: str, file_name: str | None = None) -> Response:
    """A file's content (an attachment's or the Files API's), made from ``seed`` (its ID) and
    streamed in chunks: the same ``size`` bytes every time, a ``mime`` file-type header first,
    sent as ``application/octet-stream`` with its ``Content-Length`` (and ``file_name`` as the
    ``Content-Disposition``, if given)."""

    async def chunks() -> AsyncIterator[bytes]:
        rng = random.Random(seed)
        left = size
        head = _HEADERS.get(mime, b"")[:left]
        if head:
            yield head
            left -= len(head)
        while left > 0:
            part = min(CHUNK, left)
            yield rng.randbytes(part)
            left -= part

    headers = {"Content-Length": str(size)}
    if file_name is not None:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)


# The Files API's uploads: POST /Files and POST /Files/{FolderId} (multipart).
_FILES = "/files.xro/1.0/files"
MAX_FILES_BODY = 10 * 1024 * 1024 + 64 * 1024  # Xero's 10 MB a file, and the form around it


def upload_limit(method: str, path: str) -> int | None:
    """The body limit of an upload, whose body its handler streams (the guard does not buffer
    it): attachments' and the Files API's; None for any other request."""
    lower = path.lower()
    if method == "POST" and (lower == _FILES or lower.startswith(_FILES + "/")):
        return MAX_FILES_BODY if lower.count("/") <= 4 else None
    if method not in ("PUT", "POST") or not lower.startswith(API.lower() + "/"):
        return None
    parts = path[len(API) + 1 :].split("/")
    is_attachment = len(parts) == 4 and parts[2].lower() == "attachments" and parts[3] != ""
    return MAX_ATTACHMENT_BYTES if is_attachment else None


def too_large(limit: int = MAX_ATTACHMENT_BYTES) -> Response:
    """413 for an upload over its limit."""
    detail = f"The upload is larger than Xero accepts ({limit:,} bytes)"
    body = problem_body(413, detail)
    body["Title"] = "RequestEntityTooLarge"
    return error_response(413, body)


def files_dir(ctx: SandboxContext) -> Path:
    """Where uploaded content (attachments', the Files API's) lives: a folder beside the
    database."""
    folder = ctx.store.path.with_name(ctx.store.path.name + ".attachments")
    folder.mkdir(exist_ok=True)
    return folder


def _parent(request: Request) -> tuple[SandboxContext, str, str, Record] | Response:
    """The tenant, collection and record of the path's document, or a 404."""
    ctx: SandboxContext = request.app.state.ctx
    tenant = tenant_of(request)
    name = _PARENTS.get(request.path_params["resource"].lower())
    spec = spec_for(name) if name else None
    if tenant is None or name is None or spec is None or not ctx.store.has_tenant(tenant):
        return not_found()
    document = find_record(ctx, tenant, spec, request.path_params["ident"])
    if document is None:
        return not_found()
    return ctx, tenant, name, document


def _document(request: Request) -> tuple[SandboxContext, str, list[Record]] | Response:
    """The tenant and the attachments of the path's document, or a 404."""
    found = _parent(request)
    if isinstance(found, Response):
        return found
    ctx, tenant, name, document = found
    document_id = str(document[_key(name)])
    return ctx, tenant, ctx.store.in_written_order(tenant, STORED, number=document_id)


def _key(collection: str) -> str:
    spec = spec_for(collection)
    assert spec is not None
    return spec.key


async def list_attachments(request: Request) -> Response:
    """GET /{Collection}/{ID}/Attachments."""
    found = _document(request)
    if isinstance(found, Response):
        return found
    _, _, attachments = found
    served(request, len(attachments))
    return envelope("Attachments", b",".join(encode(public(a)) for a in attachments))


async def get_content(request: Request) -> Response:
    """GET /{Collection}/{ID}/Attachments/{AttachmentID or FileName}."""
    found = _document(request)
    if isinstance(found, Response):
        return found
    wanted = request.path_params["file"].lower()
    ctx = found[0]
    for attachment in found[2]:
        if wanted in (str(attachment["AttachmentID"]), attachment["FileName"].lower()):
            if attachment.get("Uploaded"):
                return FileResponse(
                    files_dir(ctx) / str(attachment["AttachmentID"]),
                    media_type="application/octet-stream",
                    filename=attachment["FileName"],
                    content_disposition_type="attachment",
                )
            return download(
                str(attachment["AttachmentID"]),
                int(attachment["ContentLength"]),
                str(attachment.get("MimeType")),
                attachment["FileName"],
            )
    return not_found()


def _validation_error(file_name: str, message: str) -> Response:
    """Xero's 400 ValidationException, the refused attachment echoed with its message."""
    element = {"FileName": file_name, "ValidationErrors": [{"Message": message}]}
    return error_response(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [element],
        },
    )


def _no_data() -> Response:
    message = (
        "No data has been processed for this endpoint. This endpoint is expecting Attachment "
        "data to be specifed in the request body."
    )
    return error_response(
        400, {"ErrorNumber": 17, "Type": "NoDataProcessedException", "Message": message}
    )


async def _receive_file(request: Request, into: Path) -> tuple[int, str] | None:
    """Stream the body into ``into``: its size and SHA-256, or None when it is over the limit
    (the rest is read and discarded, so the client gets the answer)."""
    digest = hashlib.sha256()
    size = 0
    with into.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_ATTACHMENT_BYTES:
                continue
            digest.update(chunk)
            out.write(chunk)
    return None if size > MAX_ATTACHMENT_BYTES else (size, digest.hexdigest())


async def upload(request: Request) -> Response:
    """PUT or POST /{Collection}/{ID}/Attachments/{FileName}: the raw body is the file.

    A file name the document already has is replaced (same AttachmentID); a new one is added
    while the document has fewer than :data:`MAX_ATTACHMENTS`.
    """
    found = _parent(request)
    if isinstance(found, Response):
        return found
    ctx, tenant, collection, document = found
    file_name = request.path_params["file"]
    spool = files_dir(ctx) / f"upload-{uuid.uuid4()}"
    try:
        received = await _receive_file(request, spool)
        if received is None:
            return too_large()
        size, sha256 = received
        if size == 0:
            return _no_data()
        online = request.query_params.get("IncludeOnline", "false").lower() == "true"

        def run() -> Response:
            return _save_upload(
                ctx, tenant, collection, document, file_name, spool, size, sha256, online
            )

        # The digest stands for the body in the Idempotency-Key fingerprint.
        return await idempotent(request, sha256.encode(), run)
    finally:
        spool.unlink(missing_ok=True)


def _save_upload(
    ctx: SandboxContext,
    tenant: str,
    collection: str,
    document: Record,
    file_name: str,
    spool: Path,
    size: int,
    sha256: str,
    online: bool,
) -> Response:
    """Keep an uploaded file (in the tenant's write turn) and answer Xero's envelope."""
    document_id = str(document[_key(collection)])
    attachments = ctx.store.in_written_order(tenant, STORED, number=document_id)
    same = [a for a in attachments if str(a["FileName"]).lower() == file_name.lower()]
    if not same and len(attachments) >= MAX_ATTACHMENTS:
        message = f"A document can have at most {MAX_ATTACHMENTS} attachments"
        return _validation_error(file_name, message)
    attachment_id = str(same[0]["AttachmentID"]) if same else str(uuid.uuid4())
    record: Record = {
        "AttachmentID": attachment_id,
        "FileName": file_name,
        "Url": f"https://api.xero.com/api.xro/2.0/{collection}/{document_id}"
        f"/Attachments/{quote(file_name)}",
        "MimeType": mimetypes.guess_type(file_name)[0] or "application/octet-stream",
        "ContentLength": size,
        "IncludeOnline": online and collection in _ONLINE,
        "DocumentType": collection,
        "DocumentID": document_id,
        "Uploaded": sha256,
    }
    os.replace(spool, files_dir(ctx) / attachment_id)
    with ctx.store.transaction():
        ctx.store.put(tenant, STORED, record)
        if not document.get("HasAttachments"):
            ctx.store.put(tenant, collection, {**document, "HasAttachments": True})
    return envelope("Attachments", encode(public(record)))


routes: list[BaseRoute] = [
    Route(API + "/{resource}/{ident}/Attachments", list_attachments, methods=["GET"]),
    Route(API + "/{resource}/{ident}/Attachments/{file}", get_content, methods=["GET"]),
    Route(API + "/{resource}/{ident}/Attachments/{file}", upload, methods=["PUT", "POST"]),
]

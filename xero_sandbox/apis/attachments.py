"""Accounting attachments: the list of a document's attachments and their content, which is made
from the attachment's ID rather than stored (the same bytes every time, streamed in chunks, so a
file of any size costs no memory). What each route answers is in docs/apis.md."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import ATTACHMENT_PARENTS, stored_name
from xero_sandbox.catalog import spec_for
from xero_sandbox.context import SandboxContext
from xero_sandbox.reads import API, envelope, find_record, not_found, served, tenant_of
from xero_sandbox.store import encode

__all__ = ["download", "public", "routes"]

Record = dict[str, Any]
STORED = stored_name("accounting", "Attachments")
_PARENTS = {name.lower(): name for name in ATTACHMENT_PARENTS}
_HEADERS = {"application/pdf": b"%PDF-1.4\n", "image/png": b"\x89PNG\r\n\x1a\n"}
CHUNK = 1 << 16
# Fields the store keeps beside Xero's own: which document an attachment belongs to.
_PRIVATE = ("DocumentType", "DocumentID")


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


def _document(request: Request) -> tuple[SandboxContext, str, list[Record]] | Response:
    """The tenant and the attachments of the path's document, or a 404."""
    ctx: SandboxContext = request.app.state.ctx
    tenant = tenant_of(request)
    name = _PARENTS.get(request.path_params["resource"].lower())
    spec = spec_for(name) if name else None
    if tenant is None or name is None or spec is None or not ctx.store.has_tenant(tenant):
        return not_found()
    document = find_record(ctx, tenant, spec, request.path_params["ident"])
    if document is None:
        return not_found()
    return ctx, tenant, ctx.store.in_written_order(tenant, STORED, number=str(document[spec.key]))


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
    for attachment in found[2]:
        if wanted in (str(attachment["AttachmentID"]), attachment["FileName"].lower()):
            return download(
                str(attachment["AttachmentID"]),
                int(attachment["ContentLength"]),
                str(attachment.get("MimeType")),
                attachment["FileName"],
            )
    return not_found()


routes: list[BaseRoute] = [
    Route(API + "/{resource}/{ident}/Attachments", list_attachments, methods=["GET"]),
    Route(API + "/{resource}/{ident}/Attachments/{file}", get_content, methods=["GET"]),
]

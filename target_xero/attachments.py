"""The ``attachments`` stream: files attached to Accounting documents (docs/target.md,
"Attachments").

A record names a document (``DocumentType`` and one of ``DocumentID``, ``DocumentNumber``,
``DocumentReference``) and a file (``Path``: a local path or any fsspec URL; or ``Content``:
base64) under ``FileName``. Files are streamed, never held whole in memory: read once to hash
them (checked against the record's ``SHA256`` when it has one) and once more to send them, each
attempt opening the file again. The natural key is the document and the file name: an attachment
of that name is replaced only when the write mode updates matches, and one with the same
content is left alone (``unchanged``). Documents are written before their attachments; an
attachment whose document may still arrive waits for the end of input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from typing_extensions import override

from xero_api.client import Upload
from xero_api.errors import XeroError
from xero_api.exchange import UploadLengthError
from xero_api.resources import ATTACHMENT_PARENTS, Resource, resource_for_stream

from .content import Document, DocumentFinder, Refused, hashed, named, same_content, text
from .exchange import idempotency_key
from .held_stream import HeldStream
from .organisation import RequestRejected, XeroOrganisation
from .sdk_hooks import RecordSink
from .session import WriteSession

__all__ = ["ATTACHMENTS", "AttachmentSink", "AttachmentStream"]

ATTACHMENTS = "attachments"
# Only invoices and credit notes take IncludeOnline.
_ONLINE = ("Invoices", "CreditNotes")
_BY_TYPE = {
    **{s: s for s in ATTACHMENT_PARENTS},
    **{resource_for_stream(s).path.lower(): s for s in ATTACHMENT_PARENTS},
}


class AttachmentStream(HeldStream):
    """The attachments of one run: resolves documents, compares, uploads and accounts."""

    depends_on = ATTACHMENT_PARENTS

    def __init__(self, session: WriteSession, stream_name: str) -> None:
        """Bind the stream to the run's session; nothing connects yet."""
        super().__init__(session, stream_name)
        self._documents = DocumentFinder(session)
        self._listed: dict[Document, list[dict[str, Any]]] = {}

    @override
    def write_one(self, record: dict[str, Any]) -> str | None:
        file_name, resource = _checked(record)
        document = self._documents.find(resource, record)
        if document is None:
            return self._documents.missing(resource, record)
        self._send(record, resource, document, file_name)
        return None

    def _send(
        self, record: dict[str, Any], resource: Resource, document: Document, file_name: str
    ) -> None:
        upload, sha256 = hashed(record)
        existing = self._existing(document, file_name)
        source_id = text(record, "AttachmentID") or None
        outcomes = self._session.outcomes
        if existing is not None:
            left = "exists" if self._session.write_mode == "create_only" else None
            if left is None and self._same(document, existing, upload.length, sha256):
                left = "unchanged"
            if left is not None:
                outcomes.written(
                    self.name, left, existing["AttachmentID"], None, source_id=source_id
                )
                return
        elif self._session.write_mode == "update_only":
            raise Refused(
                f"write_mode is update_only and the {resource.noun} {document.document_id} has "
                f"no attachment named {file_name!r}"
            )
        method = "PUT" if existing is None else "POST"
        path = f"{document.path}/{quote(file_name, safe='')}"
        online = record.get("IncludeOnline") is True and document.collection in _ONLINE
        params = {"IncludeOnline": "true"} if online else {}
        organisation = self._session.organisation
        key = idempotency_key(organisation.tenant_id, method, path, params, {"SHA256": sha256})
        if self._session.dry_run:
            action = "would_create" if existing is None else "would_update"
            target = None if existing is None else existing["AttachmentID"]
            outcomes.written(self.name, action, target, key, source_id=source_id)
            return
        written = self._upload(organisation, method, path, params, upload, key)
        self._remember(document, written)
        action = "created" if existing is None else "updated"
        outcomes.written(self.name, action, written.get("AttachmentID"), key, source_id=source_id)

    @staticmethod
    def _upload(
        organisation: XeroOrganisation,
        method: str,
        path: str,
        params: Mapping[str, str],
        upload: Upload,
        key: str,
    ) -> dict[str, Any]:
        try:
            data = organisation.upload(method, path, params, upload, key)
        except RequestRejected as exc:
            raise Refused("; ".join(exc.messages)) from None
        except UploadLengthError as exc:
            raise Refused(str(exc)) from None
        listed = data.get("Attachments") if isinstance(data, Mapping) else None
        if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
            raise XeroError(f"{method} {path}: Xero's answer lists no attachment")
        return dict(listed[0])

    # -- the document's attachments ------------------------------------------------------

    def _existing(self, document: Document, file_name: str) -> dict[str, Any] | None:
        if document not in self._listed:
            body = self._session.organisation.get(document.path) or {}
            listed = body.get("Attachments") or []
            self._listed[document] = [dict(a) for a in listed if isinstance(a, Mapping)]
        wanted = file_name.lower()
        return next(
            (a for a in self._listed[document] if str(a.get("FileName", "")).lower() == wanted),
            None,
        )

    def _same(
        self, document: Document, existing: Mapping[str, Any], length: int, sha256: str
    ) -> bool:
        """Whether the attachment already holds this content (same length, then same hash)."""
        if existing.get("ContentLength") != length:
            return False
        path = f"{document.path}/{existing['AttachmentID']}"
        return same_content(self._session, path, sha256)

    def _remember(self, document: Document, written: dict[str, Any]) -> None:
        listed = self._listed.setdefault(document, [])
        name = str(written.get("FileName", "")).lower()
        listed[:] = [a for a in listed if str(a.get("FileName", "")).lower() != name]
        listed.append(written)


def _checked(record: Mapping[str, Any]) -> tuple[str, Resource]:
    """The record's file name and the resource its document type names."""
    file_name = text(record, "FileName")
    if not file_name:
        raise Refused("missing FileName")
    if "/" in file_name or "\\" in file_name:
        raise Refused(f"FileName {file_name!r} must not contain / or \\")
    kind = text(record, "DocumentType")
    stream = _BY_TYPE.get(kind.lower().replace(" ", ""))
    if stream is None:
        kinds = ", ".join(resource_for_stream(s).path for s in ATTACHMENT_PARENTS)
        raise Refused(f"DocumentType {kind!r} is not a document that takes attachments ({kinds})")
    if not named(record):
        raise Refused("name the document by DocumentID, DocumentNumber or DocumentReference")
    return file_name, resource_for_stream(stream)


class AttachmentSink(RecordSink[AttachmentStream]):
    """Takes the ``attachments`` stream: see the module docstring."""

    last_finisher = True  # after the held documents

    @override
    def open_stream(self, session: WriteSession, stream_name: str) -> AttachmentStream:
        """The run's attachments stream."""
        return AttachmentStream(session, stream_name)

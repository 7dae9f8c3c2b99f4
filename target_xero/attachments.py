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

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from typing_extensions import override

from xero_api.client import Upload
from xero_api.errors import XeroError
from xero_api.exchange import UploadLengthError
from xero_api.resources import ATTACHMENT_PARENTS, Key, Resource, resource_for_stream

from .directory import norm
from .exchange import idempotency_key
from .organisation import RequestRejected, XeroOrganisation
from .sdk_hooks import SessionSink, SessionTarget
from .session import WriteSession

__all__ = ["ATTACHMENTS", "AttachmentSink", "AttachmentStream", "file_upload"]

ATTACHMENTS = "attachments"
_CHUNK = 1 << 16
# The field ``DocumentNumber`` names a document by, per stream.
_NUMBERS = {
    "accounts": "Code",
    "contacts": "ContactNumber",
    "credit_notes": "CreditNoteNumber",
    "invoices": "InvoiceNumber",
    "purchase_orders": "PurchaseOrderNumber",
    "quotes": "QuoteNumber",
}
# Streams whose documents have a ``Reference`` that ``DocumentReference`` can name them by.
_REFERENCES = ("bank_transactions", "credit_notes", "invoices", "purchase_orders", "quotes")
# Only invoices and credit notes take IncludeOnline.
_ONLINE = ("Invoices", "CreditNotes")
_BY_TYPE = {
    **{s: s for s in ATTACHMENT_PARENTS},
    **{resource_for_stream(s).path.lower(): s for s in ATTACHMENT_PARENTS},
}


class _Refused(Exception):
    """A record that cannot be written, and why."""


def _text(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    return value.strip() if isinstance(value, str) else ""


def _chunks_of(opener: Callable[[], Any]) -> Callable[[], Iterator[bytes]]:
    """A file opener turned into a function of fresh 64 KB chunks."""

    def chunks() -> Iterator[bytes]:
        with opener() as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    return chunks


def _base64_upload(text: str) -> Upload:
    """The record's base64 ``Content``, decoded a slice at a time as it is sent."""
    compact = "".join(text.split()) if any(c.isspace() for c in text) else text
    if len(compact) % 4:
        raise _Refused("Content is not base64: its length is not a multiple of 4")
    padding = len(compact) - len(compact.rstrip("="))
    step = _CHUNK // 3 * 4

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(compact), step):
            try:
                yield base64.b64decode(compact[start : start + step], validate=True)
            except binascii.Error as exc:
                raise UploadLengthError(f"Content is not base64: {exc}") from None

    return Upload(len(compact) // 4 * 3 - padding, chunks, name="the record's Content")


def file_upload(record: Mapping[str, Any]) -> Upload:
    """The record's file as an :class:`Upload`: ``Path`` (a local path or an fsspec URL) or
    base64 ``Content``; :class:`_Refused` naming what is wrong."""
    path, content = record.get("Path"), record.get("Content")
    if path and content:
        raise _Refused("give the file as Path or as Content, not both")
    if isinstance(content, str) and content:
        return _base64_upload(content)
    if not isinstance(path, str) or not path:
        raise _Refused("no file: give Path (a local path or an fsspec URL) or Content (base64)")
    if "://" in path:
        try:
            import fsspec  # type: ignore[import-untyped]
        except ImportError:
            raise _Refused(
                f"Path {path!r} is a URL and needs fsspec (pip install 'singer-xero[attachments]')"
            ) from None
        try:
            fs, inner = fsspec.core.url_to_fs(path)
            size = int(fs.size(inner))
        except (OSError, ValueError, ImportError) as exc:
            raise _Refused(f"Path {path!r} cannot be read: {exc}") from None
        return Upload(size, _chunks_of(lambda: fs.open(inner, "rb")), name=path)
    try:
        return Upload.from_path(path)
    except OSError as exc:
        raise _Refused(f"Path {path!r} cannot be read: {exc.strerror or exc}") from None


def sha256_of(upload: Upload) -> str:
    """The SHA-256 of an upload's content, read through once."""
    digest = hashlib.sha256()
    for chunk in upload.open():
        digest.update(chunk)
    return digest.hexdigest()


class _Hasher:
    """A download sink that keeps only the SHA-256 of what it is given."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def reset(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)


@dataclass(frozen=True)
class _Document:
    """A document of the target organisation that takes attachments."""

    collection: str  # Xero's collection, e.g. "Invoices"
    document_id: str

    @property
    def path(self) -> str:
        return f"{self.collection}/{self.document_id}/Attachments"


class AttachmentStream:
    """The attachments of one run: resolves documents, compares, uploads and accounts."""

    def __init__(self, session: WriteSession, stream_name: str) -> None:
        """Bind the stream to the run's session; nothing connects yet."""
        self._session = session
        self.name = stream_name
        self._held: list[dict[str, Any]] = []
        self._listed: dict[_Document, list[dict[str, Any]]] = {}

    @property
    def pending(self) -> int:
        """Records waiting for the end of input (their document may still arrive)."""
        return len(self._held)

    def write(self, records: list[dict[str, Any]]) -> None:
        """Write a batch after every buffered document, holding those whose document may still
        be written later in the input."""
        self._session.drain_streams(ATTACHMENT_PARENTS)
        for record in records:
            self._write(record, last_chance=False)

    def finish(self) -> None:
        """At end of input (after the held documents): the held records, one last time."""
        held, self._held = self._held, []
        for record in held:
            self._write(record, last_chance=True)

    # -- one record ----------------------------------------------------------------------

    def _write(self, record: dict[str, Any], *, last_chance: bool) -> None:
        try:
            file_name, resource = _checked(record)
            document = self._document(resource, record)
            if document is None:
                if not last_chance:
                    self._held.append(record)
                    return
                raise _Refused(self._no_document(resource, record))
            self._send(record, resource, document, file_name)
        except _Refused as exc:
            self._session.reject(self.name, record, [str(exc)])

    def _send(
        self, record: dict[str, Any], resource: Resource, document: _Document, file_name: str
    ) -> None:
        upload, sha256 = _hashed(record)
        existing = self._existing(document, file_name)
        source_id = _text(record, "AttachmentID") or None
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
            raise _Refused(
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

    def _upload(
        self,
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
            raise _Refused("; ".join(exc.messages)) from None
        except UploadLengthError as exc:
            raise _Refused(str(exc)) from None
        listed = data.get("Attachments") if isinstance(data, Mapping) else None
        if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
            raise XeroError(f"{method} {path}: Xero's answer lists no attachment")
        return dict(listed[0])

    # -- the document and its attachments ------------------------------------------------

    def _document(self, resource: Resource, record: Mapping[str, Any]) -> _Document | None:
        """The target organisation's document the record names, or None."""
        collection = resource.path
        directory = self._session.directory
        by_id = _text(record, "DocumentID")
        if by_id:
            if resource.write is not None:
                key = Key(resource.id_field)
                found = directory.find(resource, key, by_id)
                if found is None:
                    directory.ensure(resource, key, [by_id])
                    found = directory.find(resource, key, by_id)
                return _Document(collection, found) if found else None
            body = self._session.organisation.get(f"{collection}/{quote(by_id, safe='')}")
            docs = (body or {}).get(resource.envelope) or []
            return _Document(collection, str(docs[0][resource.id_field])) if docs else None
        field, value = self._named_by(resource, record)
        docs = directory.holding(resource, field, [value]).get(norm(value)) or []
        if len(docs) > 1:
            ids = ", ".join(str(d.get(resource.id_field)) for d in docs)
            raise _Refused(
                f"{field} {value!r} names {len(docs)} {resource.envelope} ({ids}); "
                "name the document by DocumentID"
            )
        return _Document(collection, str(docs[0][resource.id_field])) if docs else None

    @staticmethod
    def _named_by(resource: Resource, record: Mapping[str, Any]) -> tuple[str, str]:
        number, reference = _text(record, "DocumentNumber"), _text(record, "DocumentReference")
        if number:
            field = _NUMBERS.get(resource.stream)
            if field is None:
                raise _Refused(
                    f"{resource.envelope} have no number to name them by: use DocumentID"
                )
            return field, number
        if resource.stream not in _REFERENCES:
            raise _Refused(f"{resource.envelope} have no Reference to name them by: use DocumentID")
        return "Reference", reference

    def _no_document(self, resource: Resource, record: Mapping[str, Any]) -> str:
        named = next(
            f"{field} {_text(record, field)!r}"
            for field in ("DocumentID", "DocumentNumber", "DocumentReference")
            if _text(record, field)
        )
        reason = f"no {resource.noun} in the target organisation matches {named}"
        if self._session.dry_run:
            reason += " (in a dry run, documents the run would create do not exist yet)"
        return reason

    def _existing(self, document: _Document, file_name: str) -> dict[str, Any] | None:
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
        self, document: _Document, existing: Mapping[str, Any], length: int, sha256: str
    ) -> bool:
        """Whether the attachment already holds this content (same length, then same hash)."""
        if existing.get("ContentLength") != length:
            return False
        hasher = _Hasher()
        client = self._session.organisation.client
        path = f"{document.path}/{existing['AttachmentID']}"
        client.download(path, self._session.organisation.tenant_id, hasher)
        return hasher.digest.hexdigest() == sha256

    def _remember(self, document: _Document, written: dict[str, Any]) -> None:
        listed = self._listed.setdefault(document, [])
        name = str(written.get("FileName", "")).lower()
        listed[:] = [a for a in listed if str(a.get("FileName", "")).lower() != name]
        listed.append(written)


def _hashed(record: Mapping[str, Any]) -> tuple[Upload, str]:
    """The record's file and its SHA-256, checked against the record's ``SHA256``."""
    upload = file_upload(record)
    try:
        sha256 = sha256_of(upload)
    except (OSError, UploadLengthError) as exc:
        raise _Refused(f"{upload.name}: {exc}") from None
    wanted = _text(record, "SHA256").lower()
    if wanted and wanted != sha256:
        raise _Refused(
            f"SHA256 mismatch: {upload.name} has SHA-256 {sha256}, the record says {wanted}"
        )
    return upload, sha256


def _checked(record: Mapping[str, Any]) -> tuple[str, Resource]:
    """The record's file name and the resource its document type names."""
    file_name = _text(record, "FileName")
    if not file_name:
        raise _Refused("missing FileName")
    if "/" in file_name or "\\" in file_name:
        raise _Refused(f"FileName {file_name!r} must not contain / or \\")
    kind = _text(record, "DocumentType")
    stream = _BY_TYPE.get(kind.lower().replace(" ", ""))
    if stream is None:
        kinds = ", ".join(resource_for_stream(s).path for s in ATTACHMENT_PARENTS)
        raise _Refused(f"DocumentType {kind!r} is not a document that takes attachments ({kinds})")
    if not any(_text(record, f) for f in ("DocumentID", "DocumentNumber", "DocumentReference")):
        raise _Refused("name the document by DocumentID, DocumentNumber or DocumentReference")
    return file_name, resource_for_stream(stream)


class AttachmentSink(SessionSink):
    """Takes the ``attachments`` stream: see the module docstring."""

    def __init__(
        self,
        target: SessionTarget,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: list[str] | None,
    ) -> None:
        """Records are checked here, not against a resource's schema."""
        super().__init__(target, stream_name, schema, key_properties)
        session = self.session
        self._stream = session.finisher(
            stream_name, lambda: AttachmentStream(session, stream_name), last=True
        )

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Buffer the record (its file is read when the batch is written)."""
        context.setdefault("records", []).append(record)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        """Write the buffered records after the documents buffered before them."""
        records: Iterable[dict[str, Any]] = context.get("records") or []
        self._stream.write(list(records))

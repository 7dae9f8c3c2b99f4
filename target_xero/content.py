"""A record's file content, as the attachments and files streams take it: ``Path`` (a local
path or any fsspec URL) or base64 ``Content``, streamed (never held whole in memory), hashed
once and checked against the record's ``SHA256``; and the documents a record names (by ID,
number or reference), as attachments and file associations find them."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from xero_api.client import Upload
from xero_api.exchange import UploadLengthError
from xero_api.resources import Key, Resource

from .directory import norm

if TYPE_CHECKING:
    from .session import WriteSession

__all__ = [
    "Document",
    "DocumentFinder",
    "Hasher",
    "Refused",
    "file_upload",
    "hashed",
    "named",
    "same_content",
    "sha256_of",
    "text",
]

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
NAMED_BY = ("DocumentID", "DocumentNumber", "DocumentReference")


class Refused(Exception):
    """A record that cannot be written, and why."""


def text(record: Mapping[str, Any], field: str) -> str:
    """A record's text field, stripped ("" when it is not text)."""
    value = record.get(field)
    return value.strip() if isinstance(value, str) else ""


def _chunks_of(opener: Callable[[], Any]) -> Callable[[], Iterator[bytes]]:
    """A file opener turned into a function of fresh 64 KB chunks."""

    def chunks() -> Iterator[bytes]:
        with opener() as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    return chunks


def _base64_upload(content: str) -> Upload:
    """The record's base64 ``Content``, decoded a slice at a time as it is sent."""
    compact = "".join(content.split()) if any(c.isspace() for c in content) else content
    if len(compact) % 4:
        raise Refused("Content is not base64: its length is not a multiple of 4")
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
    base64 ``Content``; :class:`Refused` naming what is wrong."""
    path, content = record.get("Path"), record.get("Content")
    if path and content:
        raise Refused("give the file as Path or as Content, not both")
    if isinstance(content, str) and content:
        return _base64_upload(content)
    if not isinstance(path, str) or not path:
        raise Refused("no file: give Path (a local path or an fsspec URL) or Content (base64)")
    if "://" in path:
        try:
            import fsspec  # type: ignore[import-untyped]
        except ImportError:
            raise Refused(
                f"Path {path!r} is a URL and needs fsspec (pip install 'singer-xero[attachments]')"
            ) from None
        try:
            fs, inner = fsspec.core.url_to_fs(path)
            size = int(fs.size(inner))
        except (OSError, ValueError, ImportError) as exc:
            raise Refused(f"Path {path!r} cannot be read: {exc}") from None
        return Upload(size, _chunks_of(lambda: fs.open(inner, "rb")), name=path)
    try:
        return Upload.from_path(path)
    except OSError as exc:
        raise Refused(f"Path {path!r} cannot be read: {exc.strerror or exc}") from None


def sha256_of(upload: Upload) -> str:
    """The SHA-256 of an upload's content, read through once."""
    digest = hashlib.sha256()
    for chunk in upload.open():
        digest.update(chunk)
    return digest.hexdigest()


def hashed(record: Mapping[str, Any]) -> tuple[Upload, str]:
    """The record's file and its SHA-256, checked against the record's ``SHA256``."""
    upload = file_upload(record)
    try:
        sha256 = sha256_of(upload)
    except (OSError, UploadLengthError) as exc:
        raise Refused(f"{upload.name}: {exc}") from None
    wanted = text(record, "SHA256").lower()
    if wanted and wanted != sha256:
        raise Refused(
            f"SHA256 mismatch: {upload.name} has SHA-256 {sha256}, the record says {wanted}"
        )
    return upload, sha256


class Hasher:
    """A download sink that keeps only the SHA-256 of what it is given."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def reset(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)


def same_content(session: WriteSession, path: str, sha256: str) -> bool:
    """Whether the organisation's file at ``path`` has this SHA-256 (downloaded and hashed,
    never held whole)."""
    hasher = Hasher()
    organisation = session.organisation
    organisation.client.download(path, organisation.tenant_id, hasher)
    return hasher.digest.hexdigest() == sha256


@dataclass(frozen=True)
class Document:
    """A document of the target organisation."""

    collection: str  # Xero's collection, e.g. "Invoices"
    document_id: str

    @property
    def path(self) -> str:
        """Where its attachments are."""
        return f"{self.collection}/{self.document_id}/Attachments"


class DocumentFinder:
    """Finds the target organisation's document a record names: by ``DocumentID`` (the
    target's, or the source's ID of a document this run wrote or matched), ``DocumentNumber``
    or ``DocumentReference``."""

    def __init__(self, session: WriteSession) -> None:
        """Look documents up through the run's directory."""
        self._session = session

    def find(self, resource: Resource, record: Mapping[str, Any]) -> Document | None:
        """The document the record names, or None; :class:`Refused` for an ambiguous name."""
        collection = resource.path
        directory = self._session.directory
        by_id = text(record, "DocumentID")
        if by_id:
            if resource.write is not None:
                key = Key(resource.id_field)
                found = directory.find(resource, key, by_id)
                if found is None:
                    directory.ensure(resource, key, [by_id])
                    found = directory.find(resource, key, by_id)
                return Document(collection, found) if found else None
            body = self._session.organisation.get(f"{collection}/{quote(by_id, safe='')}")
            docs = (body or {}).get(resource.envelope) or []
            return Document(collection, str(docs[0][resource.id_field])) if docs else None
        field, value = self._named_by(resource, record)
        docs = directory.holding(resource, field, [value]).get(norm(value)) or []
        if len(docs) > 1:
            ids = ", ".join(str(d.get(resource.id_field)) for d in docs)
            raise Refused(
                f"{field} {value!r} names {len(docs)} {resource.envelope} ({ids}); "
                "name the document by DocumentID"
            )
        return Document(collection, str(docs[0][resource.id_field])) if docs else None

    @staticmethod
    def _named_by(resource: Resource, record: Mapping[str, Any]) -> tuple[str, str]:
        number, reference = text(record, "DocumentNumber"), text(record, "DocumentReference")
        if number:
            field = _NUMBERS.get(resource.stream)
            if field is None:
                raise Refused(f"{resource.envelope} have no number to name them by: use DocumentID")
            return field, number
        if resource.stream not in _REFERENCES:
            raise Refused(f"{resource.envelope} have no Reference to name them by: use DocumentID")
        return "Reference", reference

    def missing(self, resource: Resource, record: Mapping[str, Any]) -> str:
        """Why no document matches the record (it names one: see :func:`named`)."""
        named = next(f"{f} {text(record, f)!r}" for f in NAMED_BY if text(record, f))
        return f"no {resource.noun} in the target organisation matches {named}"


def named(record: Mapping[str, Any]) -> bool:
    """Whether the record names its document (by ID, number or reference)."""
    return any(text(record, f) for f in NAMED_BY)

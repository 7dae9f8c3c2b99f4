"""The ``attachments`` stream: one record per file attached to an Accounting document, with its
content's SHA-256, the file optionally saved under ``attachments_path`` (a folder or an fsspec
URL). docs/apis.md (Attachments) says which documents, how files are written and re-runs."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from singer_sdk import Tap
from typing_extensions import override

from xero_api.dates import format_utc, parse_datetime
from xero_api.errors import XeroError
from xero_api.resources import Record, Resource
from xero_api.schema_files import load_schema
from xero_api.scopes import selected_by_default

from .sdk_hooks import BOUNDARY_IDS, BOUNDARY_VALUE
from .session import ReadSession
from .streams import TENANT_KEY, PartitionStart, TenantStream, XeroStream

__all__ = ["AttachmentsStream", "FileStore"]

STREAM = "attachments"
SCOPE = "accounting.attachments.read"
BOOKMARK = "DocumentUpdatedDateUTC"
DOCUMENT_TYPE = "DocumentType"
_CHUNK = 1 << 16
_UNSAFE = re.compile(r"[\\/\x00-\x1f]")


class _Hashing:
    """A download sink: SHA-256 and size of what arrives, optionally copied to a file."""

    def __init__(self, target: IO[bytes] | None) -> None:
        self.target = target
        self.reset()

    def reset(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        if self.target is not None:
            self.target.seek(0)
            self.target.truncate()

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        if self.target is not None:
            self.target.write(chunk)


class FileStore:
    """Where downloaded attachments go: a local folder, or an fsspec URL."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        if "://" in root:
            try:
                import fsspec  # type: ignore[import-untyped]
            except ImportError:
                raise XeroError(
                    f"config setting 'attachments_path': {root} needs fsspec "
                    "(pip install 'singer-xero[attachments]')"
                ) from None
            self.fs: Any = fsspec.filesystem(root.split("://", 1)[0])
        else:
            self.fs = None

    def path(self, *parts: str) -> str:
        """The location of a file under the root (each part made safe as one name)."""
        safe = [_UNSAFE.sub("_", p).lstrip(".") or "_" for p in parts]
        return "/".join([self.root, *safe])

    def known_digest(self, path: str, size: int) -> str | None:
        """The recorded SHA-256 of a file already in place with the expected size, or None."""
        try:
            if self._size(path) != size:
                return None
            with self._open(path + ".sha256", "rb") as handle:
                digest = handle.read().decode("ascii").strip()
        except (FileNotFoundError, OSError):
            return None
        return digest if re.fullmatch(r"[0-9a-f]{64}", digest) else None

    def _size(self, path: str) -> int:
        if self.fs is None:
            return os.path.getsize(path)
        return int(self.fs.info(path)["size"])

    def _open(self, path: str, mode: str) -> IO[bytes]:
        if self.fs is None:
            if "w" in mode:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            return open(path, mode)
        if "w" in mode:
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        handle: IO[bytes] = self.fs.open(path, mode)
        return handle

    def temporary(self, path: str) -> tuple[str, IO[bytes]]:
        """A new temporary file beside ``path``, open for writing."""
        temp = f"{path}.part-{uuid.uuid4().hex}"
        return temp, self._open(temp, "wb")

    def read_digest(self, path: str) -> tuple[int, str]:
        """Size and SHA-256 of a written file, read back in chunks."""
        digest, size = hashlib.sha256(), 0
        with self._open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def commit(self, temp: str, path: str, digest: str) -> None:
        """Move a verified file into place, then record its SHA-256 beside it."""
        self._move(temp, path)
        side, side_handle = self.temporary(path + ".sha256")
        with side_handle:
            side_handle.write(digest.encode("ascii") + b"\n")
        self._move(side, path + ".sha256")

    def _move(self, source: str, target: str) -> None:
        if self.fs is None:
            os.replace(source, target)
        else:
            self.fs.mv(source, target)

    def discard(self, temp: str) -> None:
        """Remove a temporary file (a failed or refused download)."""
        try:
            if self.fs is None:
                os.remove(temp)
            else:
                self.fs.rm(temp)
        except (FileNotFoundError, OSError):
            pass


class AttachmentsStream(TenantStream):
    """Every attachment of every document that takes them, with its content's SHA-256.

    One partition per tenant and document collection (``DocumentType``): each is read by its
    parent stream's own plan from its own bookmark, so it has the parent's boundary and resume
    guarantees (docs/apis.md, Attachments)."""

    # STATE only between pages: a page holds whole documents, so ``boundary_ids`` (documents
    # done at the bookmark's instant) never names a document with attachments still to come.
    STATE_MSG_FREQUENCY = sys.maxsize

    def __init__(self, tap: Tap, session: ReadSession, parents: Sequence[XeroStream]) -> None:
        # Selected without a catalog only when xero-auth's default scopes cover it (they don't).
        self.selected_by_default = selected_by_default(SCOPE)
        super().__init__(tap, session, STREAM, load_schema(STREAM))
        self.parents = {parent.resource.path: parent for parent in parents}
        self.primary_keys = ["TenantID", "AttachmentID"]
        self.replication_key = BOOKMARK
        self.boundary_key = "DocumentID"
        root = self.config.get("attachments_path")
        self.files = FileStore(str(root)) if root else None

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        """One partition per tenant and collection of documents."""
        return [
            {TENANT_KEY: tenant, DOCUMENT_TYPE: document_type}
            for tenant in self.session.tenant_ids
            for document_type in self.parents
        ]

    @property
    @override
    def is_sorted(self) -> bool:
        """A partition's documents come in bookmark order (their collection's cursor read)."""
        return True

    @override
    def partition_start(self, context: Mapping[str, Any]) -> PartitionStart:
        """The partition's bookmark; before the first run with one, the tenant's bookmark of
        the earlier one-partition-per-tenant STATE (its boundary re-read once)."""
        start = super().partition_start(context)
        if start.saved or not self.parents[context[DOCUMENT_TYPE]].resource.read.replication_key:
            return start
        earlier = self.saved_state({TENANT_KEY: context[TENANT_KEY]})
        value = earlier.get("replication_key_value")
        if earlier.get("replication_key") != BOOKMARK or not isinstance(value, str):
            return start
        value = format_utc(parse_datetime(value))
        if start.value is not None and start.value > value:  # start_date is later
            return start
        return PartitionStart(value, context=context)

    @override
    def produce(self, tenant: str, start: PartitionStart) -> Iterator[list[Record]]:
        """Attachments of the partition's documents changed since its bookmark; at the end the
        bookmark moves to the last document read, with or without attachments."""
        parent = self.parents[start.context[DOCUMENT_TYPE]]
        row = parent.resource
        field = row.read.replication_key
        if field is None:  # no change date (repeating invoices): every document, every run
            since = PartitionStart(None)
        else:
            since = PartitionStart(start.value, start.boundary_ids)
        last, done = start.value, set(start.boundary_ids)
        for page in parent.planned_pages(tenant, since):
            records: list[Record] = []
            for document in page:
                if document.get("HasAttachments"):
                    records += self._of_document(tenant, row, document)
                value = document.get(field) if field else None
                if value is None:
                    continue
                key = str(document[row.id_field])
                if last is None or value > last:
                    last, done = value, {key}
                elif value == last:
                    done.add(key)
            if records:
                yield records
        if field and last is not None:
            self.settle_after(
                tenant,
                {
                    "replication_key": BOOKMARK,
                    "replication_key_value": last,
                    BOUNDARY_VALUE: last,
                    BOUNDARY_IDS: sorted(done),
                },
                start.context,
            )

    def _of_document(self, tenant: str, row: Resource, document: Record) -> list[Record]:
        document_id = str(document[row.id_field])
        bookmark = row.read.replication_key
        base = f"{row.path}/{document_id}/Attachments"
        listing = self.get_json(tenant, base, {})
        records = []
        for attachment in listing.get("Attachments") or ():
            record: Record = {
                **attachment,
                "DocumentType": row.path,
                "DocumentID": document_id,
                BOOKMARK: document.get(bookmark) if bookmark else None,
            }
            path, digest = self._content(tenant, f"{base}/{attachment['AttachmentID']}", record)
            record["SHA256"] = digest
            record["Path"] = path
            records.append(record)
        return records

    def _content(self, tenant: str, url: str, record: Record) -> tuple[str | None, str]:
        """(where the file is, or None; its SHA-256), downloading unless it is already there."""
        expected = int(record.get("ContentLength") or 0)
        if self.files is None:
            sink = _Hashing(None)
            self.session.client.download(url, tenant, sink)
            self._check_size(record, sink.size, expected)
            return None, sink.digest.hexdigest()
        files = self.files
        path = files.path(
            tenant,
            str(record["DocumentType"]),
            str(record["DocumentID"]),
            str(record["AttachmentID"]),
            str(record.get("FileName") or "file"),
        )
        known = files.known_digest(path, expected)
        if known is not None:
            return path, known
        temp, handle = files.temporary(path)
        try:
            with handle:
                sink = _Hashing(handle)
                self.session.client.download(url, tenant, sink)
            self._check_size(record, sink.size, expected)
            written, digest = files.read_digest(temp)
            if (written, digest) != (sink.size, sink.digest.hexdigest()):
                raise XeroError(
                    f"attachment {record['AttachmentID']} ({record.get('FileName')}): the file "
                    f"written at {temp} does not read back as downloaded"
                )
            files.commit(temp, path, digest)
        except BaseException:
            files.discard(temp)
            raise
        return path, digest

    @staticmethod
    def _check_size(record: Record, got: int, expected: int) -> None:
        if expected and got != expected:
            raise XeroError(
                f"attachment {record['AttachmentID']} ({record.get('FileName')}) of "
                f"{record['DocumentType']} {record['DocumentID']}: {got} bytes downloaded, "
                f"Xero lists {expected}"
            )

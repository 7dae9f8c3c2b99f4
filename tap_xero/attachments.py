"""The ``attachments`` stream: one record per file attached to an Accounting document, with its
content's SHA-256, the file optionally saved under ``attachments_path`` (a folder or an fsspec
URL). docs/apis.md (Attachments) says which documents, how files are written and re-runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from singer_sdk import Tap
from typing_extensions import override

from xero_api.dates import format_utc, parse_datetime
from xero_api.resources import Record, Resource
from xero_api.schema_files import load_schema
from xero_api.scopes import selected_by_default

from .downloads import Downloader
from .session import ReadSession
from .streams import TENANT_KEY, Frontier, PartitionStart, TenantStream, XeroStream

__all__ = ["AttachmentsStream"]

STREAM = "attachments"
SCOPE = "accounting.attachments.read"
BOOKMARK = "DocumentUpdatedDateUTC"
DOCUMENT_TYPE = "DocumentType"


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
        self.downloads = Downloader(session, self.config, "attachments_path")

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
        frontier = Frontier(start)
        for page in parent.planned_pages(tenant, since):
            records: list[Record] = []
            for document in page:
                if document.get("HasAttachments"):
                    records += self._of_document(tenant, row, document)
                if field:
                    frontier.passed(document.get(field), str(document[row.id_field]))
            if records:
                yield records
        if field and frontier.value is not None:
            self.settle_after(tenant, frontier.state(BOOKMARK), start.context)

    def _of_document(self, tenant: str, row: Resource, document: Record) -> list[Record]:
        document_id = str(document[row.id_field])
        bookmark = row.read.replication_key
        base = f"{row.path}/{document_id}/Attachments"
        listing = self.get_json(tenant, base, {})
        records = []
        for attachment in listing.get("Attachments") or ():
            record: Record = {
                **attachment,
                DOCUMENT_TYPE: row.path,
                "DocumentID": document_id,
                BOOKMARK: document.get(bookmark) if bookmark else None,
            }
            path, digest = self.downloads.fetch(
                tenant,
                f"{base}/{attachment['AttachmentID']}",
                int(attachment.get("ContentLength") or 0),
                (
                    row.path,
                    document_id,
                    str(attachment["AttachmentID"]),
                    str(attachment.get("FileName") or "file"),
                ),
                f"attachment {attachment['AttachmentID']} ({attachment.get('FileName')}) of "
                f"{row.path} {document_id}",
            )
            record["SHA256"] = digest
            record["Path"] = path
            records.append(record)
        return records

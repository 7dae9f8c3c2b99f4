"""The row streams (``invoice_rows``, ``bill_rows``, ``contact_rows``) inside the target.

A :class:`RowSink` takes one stream's rows. Contact rows become contact records and are
written batch by batch like any stream. Invoice and bill rows wait, grouped by document, until
the input ends (a document's last row may be the input's last line); then each group becomes
one document, and the documents go through the invoice write path in sink-sized chunks, after
the contacts they name that the organisation does not have yet (Xero's import creates those
too).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from typing_extensions import override

from xero_api.resources import Key, resource_for_stream

from .directory import norm
from .rows import (
    CONTACT_UNWRITABLE,
    EXPORT_ONLY_COLUMNS,
    ROW_STREAMS,
    DocumentRows,
    Row,
    RowGroups,
    canonical_row,
    contact_from_row,
    document_key,
    invoice_contact,
)
from .sdk_hooks import StreamSink
from .session import WriteSession

__all__ = ["RowSink", "RowStream"]

_TEMPLATE = {
    "invoice_rows": "sales invoice",
    "bill_rows": "bill",
    "contact_rows": "contact",
}


def _source(rows: list[Row]) -> list[dict[str, Any]]:
    """The rows as they arrived, with their numbers: what a document's reject shows."""
    return [{"row": row.number, "record": row.raw} for row in rows]


class RowStream:
    """One row stream of a run: its rows' numbers, its grouped rows and the columns it ignored."""

    def __init__(self, session: WriteSession, stream_name: str) -> None:
        """Bind the stream to the run's session."""
        self._session = session
        self.name = stream_name
        resource_stream, self.invoice_type = ROW_STREAMS[stream_name]
        self.resource = resource_for_stream(resource_stream)
        self.rows = RowGroups()
        self._warned: set[str] = set()

    @property
    def pending(self) -> int:
        """Rows waiting for the end of input."""
        return self.rows.spooled

    def take(self, record: dict[str, Any]) -> Row | None:
        """Number a row and read its columns; None when it is rejected (reason given)."""
        number = self.rows.number()
        values, unknown = canonical_row(self.name, record)
        self._warn_once(unknown, "are no column of Xero's template; not written")
        ignored = EXPORT_ONLY_COLUMNS if self.invoice_type else CONTACT_UNWRITABLE
        self._warn_once(
            [c for c in ignored if c in values],
            "have no writable field in Xero's API (Xero computes them); not written",
        )
        required = ("ContactName", "InvoiceNumber") if self.invoice_type else ("ContactName",)
        missing = [c for c in required if c not in values]
        if missing:
            self._session.reject(
                self.name,
                record,
                [f"row {number} {c}: empty (required by Xero's template)" for c in missing],
            )
            return None
        row = Row(number, record, values)
        if self.invoice_type:
            key = document_key(values)
            assert key is not None
            self.rows.add(key, row)
        return row

    def _warn_once(self, columns: list[str], why: str) -> None:
        fresh = [c for c in columns if c not in self._warned]
        if fresh:
            self._warned.update(fresh)
            self._session.logger.warning(
                "%s (Xero's %s template): column(s) %s %s",
                self.name,
                _TEMPLATE[self.name],
                ", ".join(fresh),
                why,
            )

    def load_contacts(self, rows: list[Row]) -> None:
        """Write a batch of contact rows as contact records."""
        facts = self._session.facts
        records = []
        for row in rows:
            contact, problems = contact_from_row(row, facts)
            if contact is None:
                self._session.reject(self.name, row.raw, problems)
            else:
                records.append({**contact, "_sdc_rows": _source([row])})
        if records:
            self._session.load(self.name, self.resource, records)

    def finish(self) -> None:
        """At end of input: every spooled document, in chunks, after the new contacts it
        names."""
        if not self.invoice_type or not self.pending:
            return
        self._session.logger.info(
            "%s: grouping %d row(s) into documents", self.name, self.rows.spooled
        )
        config = self._session.config
        builder = DocumentRows(
            self.invoice_type,
            self._session.facts,
            line_amount_types=str(config.get("row_line_amount_types") or "Exclusive"),
            status=str(config.get("row_status") or "DRAFT"),
        )
        # Rows name their contact by ContactName only: a contacts key without Name (the
        # natural_keys setting) could never find it.
        contact_keys = self._session.directory.natural_keys(resource_for_stream("contacts"))
        nameless = Key("Name") not in contact_keys
        for chunk in _chunks(self.rows.groups(), self._session.batch_records):
            documents: list[dict[str, Any]] = []
            contacts: dict[Any, dict[str, Any]] = {}
            for rows in chunk:
                doc, problems = builder.build(rows)
                if doc is not None and nameless:
                    doc, problems = (
                        None,
                        [
                            "the natural_keys setting leaves Name out of the contacts' keys, and "
                            "rows name their contact by ContactName only"
                        ],
                    )
                if doc is None:
                    self._session.reject(self.name, {"_sdc_rows": _source(rows)}, problems)
                    continue
                documents.append({**doc, "_sdc_rows": _source(rows)})
                contacts.setdefault(norm(doc["Contact"]["Name"]), invoice_contact(rows[0].values))
            self._create_missing_contacts(list(contacts.values()))
            if documents:
                self._session.load(self.name, self.resource, documents)

    def _create_missing_contacts(self, contacts: list[dict[str, Any]]) -> None:
        """Create the contacts no contact of the organisation has the name of (never touching
        one that exists, as Xero's import does by default)."""
        directory, resource = self._session.directory, resource_for_stream("contacts")
        names = [c["Name"] for c in contacts]
        directory.ensure(resource, Key("Name"), names)
        new = [c for c in contacts if directory.find(resource, Key("Name"), c["Name"]) is None]
        if new:
            self._session.load(f"{self.name}.contacts", resource, new)


def _chunks(groups: Iterator[list[Row]], size: int) -> Iterator[list[list[Row]]]:
    """Groups in lists of up to ``size`` rows' worth (at least one group a list)."""
    chunk: list[list[Row]] = []
    rows = 0
    for group in groups:
        chunk.append(group)
        rows += len(group)
        if rows >= size:
            yield chunk
            chunk, rows = [], 0
    if chunk:
        yield chunk


class RowSink(StreamSink[RowStream]):
    """Takes the rows of one row stream: see the module docstring."""

    @override
    def open_stream(self, session: WriteSession, stream_name: str) -> RowStream:
        """The run's rows of this stream (checked against Xero's template, not the schema)."""
        return RowStream(session, stream_name)

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Spool an invoice or bill row; buffer a contact row."""
        row = self.stream.take(record)
        if row is not None and not self.stream.invoice_type:
            context.setdefault("rows", []).append(row)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        """Write the buffered contact rows (invoice and bill rows wait for the end)."""
        rows = context.get("rows") or []
        if rows:
            self.stream.load_contacts(rows)

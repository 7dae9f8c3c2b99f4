"""Collections of the APIs beside Accounting, as the store keeps them.

Each collection is stored under ``"<api>/<Name>"`` in the store's records table (so it never
meets an Accounting collection of the same name). ``parent_field`` names the field holding the
parent's ID for child collections (Projects' tasks and time entries): it is kept in the store's
indexed ``number`` column, so a parent's children are found by index.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "API_PREFIXES",
    "ATTACHMENT_PARENTS",
    "COLLECTIONS",
    "Collection",
    "collection_for",
    "stored_name",
]


def stored_name(api: str, name: str) -> str:
    """The store's resource name of an API's collection."""
    return f"{api}/{name}"


@dataclass(frozen=True)
class Collection:
    """One stored collection of another API (attribute names as the store reads them)."""

    api: str
    name: str
    key: str
    parent_field: str | None = None
    status_field: str | None = None
    ims_field: str | None = None  # none of these APIs compare If-Modified-Since
    number_is_int: bool = False
    unitdp: bool = False

    @property
    def stored(self) -> str:
        """The resource name in the store."""
        return stored_name(self.api, self.name)

    @property
    def number_field(self) -> str | None:
        """The store's ``number`` column holds the parent's ID."""
        return self.parent_field


# API name -> base path (the API facts §9).
API_PREFIXES: dict[str, str] = {
    "projects": "/projects.xro/2.0",
    "assets": "/assets.xro/1.0",
}

COLLECTIONS: tuple[Collection, ...] = (
    Collection("projects", "Projects", "projectId", status_field="status"),
    Collection("projects", "ProjectsUsers", "userId"),
    Collection("projects", "Tasks", "taskId", parent_field="projectId", status_field="status"),
    Collection("projects", "Time", "timeEntryId", parent_field="projectId", status_field="status"),
    Collection("assets", "Assets", "assetId", status_field="assetStatus"),
    Collection("assets", "AssetTypes", "assetTypeId"),
    Collection("assets", "Settings", "assetNumberPrefix"),  # one per tenant
    # Accounting attachments: every document's, by the document's ID (the API's own routes).
    Collection("accounting", "Attachments", "AttachmentID", parent_field="DocumentID"),
)

# Accounting collections whose documents take attachments (the spec's /{Name}/{ID}/Attachments).
ATTACHMENT_PARENTS = (
    "Accounts",
    "BankTransactions",
    "BankTransfers",
    "Contacts",
    "CreditNotes",
    "Invoices",
    "ManualJournals",
    "PurchaseOrders",
    "Quotes",
    "Receipts",
    "RepeatingInvoices",
)

_BY_STORED = {c.stored: c for c in COLLECTIONS}


def collection_for(stored: str) -> Collection | None:
    """The collection stored under ``stored``, or None."""
    return _BY_STORED.get(stored)

"""The sandbox's resource table: one row per Accounting collection, read by the store and the API.

Each row says how Xero serves a collection: envelope key, primary key, the number field a
singular GET may use, which field If-Modified-Since compares, how it pages, which
`where`/`order`/list filters it takes and which records are hidden unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["CATALOG", "Filter", "Paging", "Record", "ResourceSpec", "spec_for"]

# One record as the sandbox stores and serves it: an object of Xero's JSON.
Record = dict[str, Any]


class Paging(Enum):
    """How a collection pages."""

    NONE = "none"  # one call returns everything
    PAGE = "page"  # page + pageSize (1..1000), `pagination` object in the envelope
    PAGE_FIXED = "page_fixed"  # page only, fixed 100 per page, no `pagination` object
    OFFSET = "offset"  # Journals: offset=<JournalNumber>, 100 per call


@dataclass(frozen=True)
class Filter:
    """A query parameter that filters a collection.

    ``kind``: ``list`` (comma list, any match), ``eq`` (one value, case-insensitive),
    ``date_from``/``date_to`` (a yyyy-mm-dd bound on an msdate field), ``search``
    (substring of any of the comma-separated fields in ``field``).
    """

    param: str
    field: str
    kind: str = "list"


@dataclass(frozen=True)
class ResourceSpec:
    """How one collection is stored and served."""

    name: str  # path segment under /api.xro/2.0, e.g. "Invoices"
    envelope: str  # key of the list in the response body
    key: str  # primary key field
    number_field: str | None = None  # field a singular GET may address instead of the key
    number_is_int: bool = False
    ims_field: str | None = None  # If-Modified-Since compares this field; None: no IMS
    paging: Paging = Paging.NONE
    where: bool = True
    order: bool = True
    filters: tuple[Filter, ...] = ()
    status_field: str | None = "Status"
    hidden_status: str | None = None  # records with this status are hidden unless...
    reveal_param: str | None = None  # ...this query parameter is "true"
    unitdp: bool = False
    contact_field: bool = False  # record carries Contact.ContactID
    summary_drop: tuple[str, ...] = ()  # fields left out of summaries (summaryOnly, un-paged)
    singular: bool = True  # has GET /{Name}/{id}

    @property
    def paged(self) -> bool:
        """True when the collection takes a `page` parameter."""
        return self.paging in (Paging.PAGE, Paging.PAGE_FIXED)


_U = "UpdatedDateUTC"
_IDS = Filter("IDs", "")  # field "" means the primary key
_DOC_DROP = ("LineItems", "Payments", "CreditNotes", "Prepayments", "Overpayments")

CATALOG: tuple[ResourceSpec, ...] = (
    ResourceSpec("Accounts", "Accounts", "AccountID", ims_field=_U),
    ResourceSpec(
        "BankTransactions",
        "BankTransactions",
        "BankTransactionID",
        ims_field=_U,
        paging=Paging.PAGE,
        unitdp=True,
        contact_field=True,
    ),
    ResourceSpec(
        "BankTransfers",
        "BankTransfers",
        "BankTransferID",
        ims_field="CreatedDateUTC",
        hidden_status="DELETED",
        reveal_param="includeDeleted",
    ),
    ResourceSpec("BatchPayments", "BatchPayments", "BatchPaymentID", ims_field=_U),
    ResourceSpec("BrandingThemes", "BrandingThemes", "BrandingThemeID", where=False, order=False),
    ResourceSpec(
        "Budgets",
        "Budgets",
        "BudgetID",
        where=False,
        order=False,
        filters=(_IDS, Filter("DateFrom", "", "budget_from"), Filter("DateTo", "", "budget_to")),
    ),
    ResourceSpec(
        "Contacts",
        "Contacts",
        "ContactID",
        number_field="ContactNumber",
        ims_field=_U,
        paging=Paging.PAGE,
        filters=(_IDS, Filter("searchTerm", "Name,FirstName,LastName,EmailAddress", "search")),
        status_field="ContactStatus",
        hidden_status="ARCHIVED",
        reveal_param="includeArchived",
        summary_drop=(
            "Addresses",
            "Phones",
            "ContactPersons",
            "ContactGroups",
            "Balances",
            "PaymentTerms",
            "BatchPayments",
            "BrandingTheme",
        ),
    ),
    ResourceSpec("ContactGroups", "ContactGroups", "ContactGroupID"),
    ResourceSpec(
        "CreditNotes",
        "CreditNotes",
        "CreditNoteID",
        number_field="CreditNoteNumber",
        ims_field=_U,
        paging=Paging.PAGE,
        unitdp=True,
        contact_field=True,
        summary_drop=("LineItems", "Payments", "Allocations"),
    ),
    ResourceSpec("Currencies", "Currencies", "Code", status_field=None, singular=False),
    ResourceSpec(
        "ExpenseClaims", "ExpenseClaims", "ExpenseClaimID", ims_field=_U, paging=Paging.NONE
    ),
    ResourceSpec(
        "Invoices",
        "Invoices",
        "InvoiceID",
        number_field="InvoiceNumber",
        ims_field=_U,
        paging=Paging.PAGE,
        filters=(
            _IDS,
            Filter("InvoiceNumbers", "InvoiceNumber"),
            Filter("ContactIDs", "Contact.ContactID"),
            Filter("Statuses", "Status"),
            Filter("searchTerm", "InvoiceNumber,Reference", "search"),
        ),
        unitdp=True,
        contact_field=True,
        summary_drop=_DOC_DROP,
    ),
    ResourceSpec("Items", "Items", "ItemID", number_field="Code", ims_field=_U, unitdp=True),
    ResourceSpec(
        "Journals",
        "Journals",
        "JournalID",
        number_field="JournalNumber",
        number_is_int=True,
        ims_field="CreatedDateUTC",
        paging=Paging.OFFSET,
        where=False,
        order=False,
        status_field=None,
    ),
    ResourceSpec(
        "LinkedTransactions",
        "LinkedTransactions",
        "LinkedTransactionID",
        paging=Paging.PAGE_FIXED,
        where=False,
        order=False,
        filters=(
            Filter("LinkedTransactionID", "LinkedTransactionID"),
            Filter("SourceTransactionID", "SourceTransactionID"),
            Filter("ContactID", "ContactID"),
            Filter("Status", "Status"),
            Filter("TargetTransactionID", "TargetTransactionID"),
        ),
    ),
    ResourceSpec(
        "ManualJournals",
        "ManualJournals",
        "ManualJournalID",
        ims_field=_U,
        paging=Paging.PAGE,
        summary_drop=("JournalLines",),
    ),
    ResourceSpec(
        "Organisation",
        "Organisations",
        "OrganisationID",
        where=False,
        order=False,
        status_field=None,
        singular=False,
    ),
    ResourceSpec(
        "Overpayments",
        "Overpayments",
        "OverpaymentID",
        ims_field=_U,
        paging=Paging.PAGE,
        filters=(Filter("References", "Reference"),),
        unitdp=True,
        contact_field=True,
    ),
    ResourceSpec("Payments", "Payments", "PaymentID", ims_field=_U, paging=Paging.PAGE),
    ResourceSpec(
        "PaymentServices",
        "PaymentServices",
        "PaymentServiceID",
        where=False,
        order=False,
        status_field=None,
        singular=False,
    ),
    ResourceSpec(
        "Prepayments",
        "Prepayments",
        "PrepaymentID",
        ims_field=_U,
        paging=Paging.PAGE,
        filters=(Filter("InvoiceNumbers", "InvoiceNumber"),),
        unitdp=True,
        contact_field=True,
    ),
    ResourceSpec(
        "PurchaseOrders",
        "PurchaseOrders",
        "PurchaseOrderID",
        number_field="PurchaseOrderNumber",
        ims_field=_U,
        paging=Paging.PAGE,
        where=False,
        filters=(
            Filter("Status", "Status", "eq"),
            Filter("DateFrom", "Date", "date_from"),
            Filter("DateTo", "Date", "date_to"),
        ),
        contact_field=True,
    ),
    ResourceSpec(
        "Quotes",
        "Quotes",
        "QuoteID",
        number_field="QuoteNumber",
        ims_field=_U,
        paging=Paging.PAGE_FIXED,
        where=False,
        filters=(
            Filter("DateFrom", "Date", "date_from"),
            Filter("DateTo", "Date", "date_to"),
            Filter("ExpiryDateFrom", "ExpiryDate", "date_from"),
            Filter("ExpiryDateTo", "ExpiryDate", "date_to"),
            Filter("ContactID", "Contact.ContactID", "eq"),
            Filter("Status", "Status", "eq"),
            Filter("QuoteNumber", "QuoteNumber", "eq"),
        ),
        contact_field=True,
    ),
    ResourceSpec("Receipts", "Receipts", "ReceiptID", ims_field=_U, unitdp=True),
    ResourceSpec("RepeatingInvoices", "RepeatingInvoices", "RepeatingInvoiceID"),
    ResourceSpec("TaxRates", "TaxRates", "TaxType"),
    ResourceSpec(
        "TrackingCategories",
        "TrackingCategories",
        "TrackingCategoryID",
        hidden_status="ARCHIVED",
        reveal_param="includeArchived",
    ),
    ResourceSpec("Users", "Users", "UserID", ims_field=_U, status_field=None),
)

_BY_NAME = {spec.name.lower(): spec for spec in CATALOG}


def spec_for(name: str) -> ResourceSpec | None:
    """The row for a collection name (case-insensitive), or None."""
    return _BY_NAME.get(name.lower())

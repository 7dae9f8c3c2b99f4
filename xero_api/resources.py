"""The resource table: everything both Singer sides know about each Xero Accounting resource.

One row per resource. The tap builds one stream per row and the target one sink per writable
row; adding an endpoint means adding a row here and a schema in ``schemas/``. Facts come from
Xero's OpenAPI spec 16.1.0 and ``xero-api-facts.md`` §2-§3.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["RESOURCES", "Paging", "Replication", "Resource", "WriteRule", "resource_for_stream"]


class Paging(Enum):
    """How a collection is paged."""

    NONE = "none"  # one call returns everything
    PAGE = "page"  # page + pageSize (up to 1000) with a pagination object
    PAGE_FIXED = "page_fixed"  # page only, Xero fixes 100 per page
    OFFSET = "offset"  # Journals: offset=<last JournalNumber>, 100 per call


class Replication(Enum):
    """How the tap keeps a bookmark for a resource."""

    INCREMENTAL = "INCREMENTAL"
    FULL_TABLE = "FULL_TABLE"


@dataclass(frozen=True)
class WriteRule:
    """What the target needs to write a resource.

    ``natural_keys`` are tried in order when a record carries no Xero ID; ``batch_size`` caps
    elements per request (1 where Xero takes a single object); ``create_only_put`` marks
    resources whose upsert must split into PUT (create) and POST (update).
    """

    natural_keys: tuple[str, ...]
    batch_size: int = 50
    single_object: bool = False
    read_only: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resource:
    """One Xero Accounting collection and how to read (and maybe write) it."""

    stream: str
    path: str
    envelope: str
    primary_key: str
    paging: Paging = Paging.NONE
    replication_key: str | None = None
    modified_since: bool = False
    order: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    scope: str = "accounting.settings.read"
    write: WriteRule | None = None
    description: str = ""

    @property
    def replication(self) -> Replication:
        """INCREMENTAL when Xero gives a field to bookmark on, else FULL_TABLE."""
        return Replication.INCREMENTAL if self.replication_key else Replication.FULL_TABLE


_UPDATED = "UpdatedDateUTC"
_ASC = "UpdatedDateUTC ASC"
_UNITDP = ("unitdp", "4")
_ARCHIVED = ("includeArchived", "true")

_DOC_READ_ONLY = (
    "SubTotal",
    "TotalTax",
    "Total",
    "AmountDue",
    "AmountPaid",
    "AmountCredited",
    "UpdatedDateUTC",
    "UpdatedDateUTCString",
    "FullyPaidOnDate",
    "HasAttachments",
    "HasErrors",
    "Payments",
    "CreditNotes",
    "Prepayments",
    "Overpayments",
    "Allocations",
    "StatusAttributeString",
    "ValidationErrors",
    "Warnings",
    "DateString",
    "DueDateString",
    "IsDiscounted",
)

RESOURCES: tuple[Resource, ...] = (
    Resource(
        "accounts", "Accounts", "Accounts", "AccountID",
        replication_key=_UPDATED, modified_since=True, order=_ASC,
        write=WriteRule(("Code", "Name"), batch_size=1, single_object=True,
                        read_only=("UpdatedDateUTC", "HasAttachments", "ReportingCodeName")),
    ),
    Resource(
        "bank_transactions", "BankTransactions", "BankTransactions", "BankTransactionID",
        Paging.PAGE, _UPDATED, True, _ASC, (_UNITDP,), "accounting.banktransactions.read",
        write=WriteRule((), read_only=(*_DOC_READ_ONLY, "IsReconciled"),
                        depends_on=("contacts", "accounts", "items")),
    ),
    Resource(
        "bank_transfers", "BankTransfers", "BankTransfers", "BankTransferID",
        replication_key="CreatedDateUTC", modified_since=True, order="CreatedDateUTC ASC",
        params=(("includeDeleted", "true"),), scope="accounting.banktransactions.read",
    ),
    Resource(
        "batch_payments", "BatchPayments", "BatchPayments", "BatchPaymentID",
        replication_key=_UPDATED, modified_since=True, order=_ASC,
        scope="accounting.payments.read",
    ),
    Resource("branding_themes", "BrandingThemes", "BrandingThemes", "BrandingThemeID"),
    Resource("budgets", "Budgets", "Budgets", "BudgetID", scope="accounting.budgets.read"),
    Resource(
        "contacts", "Contacts", "Contacts", "ContactID",
        Paging.PAGE, _UPDATED, True, _ASC, (_ARCHIVED,), "accounting.contacts.read",
        write=WriteRule(("ContactNumber", "Name"),
                        read_only=("UpdatedDateUTC", "HasAttachments", "HasValidationErrors",
                                   "Balances", "IsSupplier", "IsCustomer", "ValidationErrors",
                                   "StatusAttributeString", "ContactGroups", "BatchPayments")),
    ),
    Resource(
        "contact_groups", "ContactGroups", "ContactGroups", "ContactGroupID",
        scope="accounting.contacts.read",
    ),
    Resource(
        "credit_notes", "CreditNotes", "CreditNotes", "CreditNoteID",
        Paging.PAGE, _UPDATED, True, _ASC, (_UNITDP,), "accounting.invoices.read",
        write=WriteRule(("CreditNoteNumber",), read_only=(*_DOC_READ_ONLY, "RemainingCredit"),
                        depends_on=("contacts", "accounts", "items")),
    ),
    Resource("currencies", "Currencies", "Currencies", "Code"),
    Resource(
        "expense_claims", "ExpenseClaims", "ExpenseClaims", "ExpenseClaimID",
        replication_key=_UPDATED, modified_since=True, order=_ASC,
        scope="accounting.transactions.read",
    ),
    Resource(
        "invoices", "Invoices", "Invoices", "InvoiceID",
        Paging.PAGE, _UPDATED, True, _ASC, (_UNITDP,), "accounting.invoices.read",
        write=WriteRule(("InvoiceNumber",), read_only=_DOC_READ_ONLY,
                        depends_on=("contacts", "accounts", "items", "tracking_categories")),
    ),
    Resource(
        "items", "Items", "Items", "ItemID",
        replication_key=_UPDATED, modified_since=True, order=_ASC, params=(_UNITDP,),
        write=WriteRule(("Code",), read_only=("UpdatedDateUTC", "ValidationErrors",
                                              "StatusAttributeString", "TotalCostPool",
                                              "QuantityOnHand"),
                        depends_on=("accounts",)),
    ),
    Resource(
        "journals", "Journals", "Journals", "JournalID",
        Paging.OFFSET, "JournalNumber", scope="accounting.journals.read",
    ),
    Resource(
        "linked_transactions", "LinkedTransactions", "LinkedTransactions", "LinkedTransactionID",
        Paging.PAGE_FIXED, _UPDATED, scope="accounting.invoices.read",
    ),
    Resource(
        "manual_journals", "ManualJournals", "ManualJournals", "ManualJournalID",
        # No `order`: Xero has ignored paging on ordered ManualJournals requests; its default
        # order is already UpdatedDateUTC ASC (xero-api-facts §2.1).
        Paging.PAGE, _UPDATED, True, None, (), "accounting.manualjournals.read",
        write=WriteRule(("Narration", "Date"),
                        read_only=("UpdatedDateUTC", "HasAttachments", "ValidationErrors",
                                   "StatusAttributeString", "Warnings"),
                        depends_on=("accounts", "tracking_categories")),
    ),
    Resource("organisations", "Organisation", "Organisations", "OrganisationID"),
    Resource(
        "overpayments", "Overpayments", "Overpayments", "OverpaymentID",
        Paging.PAGE, _UPDATED, True, _ASC, (_UNITDP,), "accounting.payments.read",
    ),
    Resource(
        "payments", "Payments", "Payments", "PaymentID",
        Paging.PAGE, _UPDATED, True, _ASC, (), "accounting.payments.read",
        write=WriteRule(("Invoice.InvoiceNumber", "Date", "Amount"),
                        read_only=("UpdatedDateUTC", "HasAccount", "HasValidationErrors",
                                   "ValidationErrors", "StatusAttributeString", "BankAmount",
                                   "PaymentType", "BatchPaymentID", "BatchPayment"),
                        depends_on=("invoices", "credit_notes", "accounts")),
    ),
    Resource(
        "payment_services", "PaymentServices", "PaymentServices", "PaymentServiceID",
        scope="paymentservices",
    ),
    Resource(
        "prepayments", "Prepayments", "Prepayments", "PrepaymentID",
        Paging.PAGE, _UPDATED, True, _ASC, (_UNITDP,), "accounting.payments.read",
    ),
    Resource(
        "purchase_orders", "PurchaseOrders", "PurchaseOrders", "PurchaseOrderID",
        Paging.PAGE, _UPDATED, True, _ASC, (), "accounting.invoices.read",
        write=WriteRule(("PurchaseOrderNumber",), read_only=_DOC_READ_ONLY,
                        depends_on=("contacts", "accounts", "items")),
    ),
    Resource(
        "quotes", "Quotes", "Quotes", "QuoteID",
        Paging.PAGE_FIXED, _UPDATED, True, _ASC, (), "accounting.invoices.read",
        write=WriteRule(("QuoteNumber",), read_only=_DOC_READ_ONLY,
                        depends_on=("contacts", "accounts", "items")),
    ),
    Resource(
        "receipts", "Receipts", "Receipts", "ReceiptID",
        replication_key=_UPDATED, modified_since=True, order=_ASC, params=(_UNITDP,),
        scope="accounting.transactions.read",
    ),
    Resource(
        "repeating_invoices", "RepeatingInvoices", "RepeatingInvoices", "RepeatingInvoiceID",
        scope="accounting.invoices.read",
    ),
    Resource("tax_rates", "TaxRates", "TaxRates", "TaxType"),
    Resource(
        "tracking_categories", "TrackingCategories", "TrackingCategories", "TrackingCategoryID",
        params=(_ARCHIVED,),
        write=WriteRule(("Name",), batch_size=1, single_object=True,
                        read_only=("TrackingOptionID",)),
    ),
    Resource(
        "users", "Users", "Users", "UserID",
        replication_key=_UPDATED, modified_since=True, order=_ASC,
    ),
)

_BY_STREAM = {r.stream: r for r in RESOURCES}


def resource_for_stream(stream: str) -> Resource:
    """The row for a stream name; raises KeyError naming the stream when there is none."""
    try:
        return _BY_STREAM[stream]
    except KeyError:
        raise KeyError(f"no Xero resource is declared for stream {stream!r}") from None

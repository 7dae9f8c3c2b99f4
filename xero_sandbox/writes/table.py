"""The table of writable collections: for each, its envelope, ID and number fields, builder,
webhook category, whether it posts journals, and the spec's properties it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from xero_sandbox.validation import (
    Messages,
)
from xero_sandbox.writes.banking import build_bank_transaction
from xero_sandbox.writes.common import Builder, Matcher, _match_number, _props
from xero_sandbox.writes.contacts import _match_contact, build_contact
from xero_sandbox.writes.documents import (
    build_credit_note,
    build_invoice,
    build_purchase_order,
    build_quote,
)
from xero_sandbox.writes.journals import build_manual_journal
from xero_sandbox.writes.payments import build_payment
from xero_sandbox.writes.settings import (
    build_account,
    build_item,
    build_tracking_category,
    build_tracking_option,
)


@dataclass(frozen=True)
class WriteResource:
    """One writable collection: how its requests are read, matched, built and announced."""

    collection: str
    entity: str  # singular, for NoDataProcessed
    id_field: str
    build: Builder
    number_field: str | None = None
    match: Matcher | None = None  # natural-key lookup for a POST element without an ID
    webhook: str | None = None
    journals: bool = False
    error_flag: str | None = "HasErrors"
    not_found: str = ""  # message for an update of an unknown ID
    post: bool = True  # POST on the collection (Accounts take PUT only)
    single: bool = False  # one element per request (Accounts PUT)
    summarize_param: bool = True
    unitdp: bool = False
    stamped: bool = True  # has UpdatedDateUTC
    with_updated_string: bool = False
    status_attribute: bool = True  # echoes StatusAttributeString (Accounts do not)
    parent: str | None = None  # a sub-collection: PUT /{parent}/{id}/{collection}, kept inside it
    fields: frozenset[str] = frozenset()  # the spec's properties; others are dropped silently


_DOCUMENT = (
    "Contact LineItems Date LineAmountTypes Reference BrandingThemeID CurrencyCode CurrencyRate "
    "Status"
)


WRITE_RESOURCES: tuple[WriteResource, ...] = (
    WriteResource(
        "Contacts",
        "Contact",
        "ContactID",
        build_contact,
        fields=_props(
            "ContactID ContactNumber AccountNumber ContactStatus Name FirstName LastName "
            "CompanyNumber EmailAddress ContactPersons BankAccountDetails TaxNumber TaxNumberType "
            "AccountsReceivableTaxType AccountsPayableTaxType Addresses Phones "
            "SalesDefaultLineAmountType PurchasesDefaultLineAmountType DefaultCurrency "
            "XeroNetworkKey SalesDefaultAccountCode PurchasesDefaultAccountCode "
            "SalesTrackingCategories PurchasesTrackingCategories TrackingCategoryName "
            "TrackingCategoryOption PaymentTerms BrandingTheme BatchPayments"
        ),
        number_field="ContactNumber",
        match=_match_contact,
        webhook="CONTACT",
        error_flag="HasValidationErrors",
    ),
    WriteResource(
        "Invoices",
        "Invoice",
        "InvoiceID",
        build_invoice,
        fields=_props(
            f"{_DOCUMENT} Type DueDate InvoiceNumber SentToContact ExpectedPaymentDate "
            "PlannedPaymentDate InvoiceID RepeatingInvoiceID InvoiceAddresses"
        ),
        number_field="InvoiceNumber",
        match=_match_number("Invoices", "InvoiceNumber", "ACCREC"),
        webhook="INVOICE",
        journals=True,
        not_found=Messages.INVOICE_NOT_FOUND,
        unitdp=True,
        with_updated_string=True,
    ),
    WriteResource(
        "CreditNotes",
        "CreditNote",
        "CreditNoteID",
        build_credit_note,
        fields=_props(f"{_DOCUMENT} Type DueDate CreditNoteID CreditNoteNumber InvoiceAddresses"),
        number_field="CreditNoteNumber",
        match=_match_number("CreditNotes", "CreditNoteNumber", "ACCRECCREDIT"),
        webhook="CREDITNOTE",
        journals=True,
        not_found=Messages.CREDIT_NOTE_NOT_FOUND,
        unitdp=True,
        with_updated_string=True,
    ),
    WriteResource(
        "Payments",
        "Payment",
        "PaymentID",
        build_payment,
        fields=_props(
            "Invoice CreditNote Prepayment Overpayment InvoiceNumber CreditNoteNumber "
            "BatchPayment Account Code Date CurrencyRate Amount BankAmount Reference "
            "IsReconciled Status PaymentID BatchPaymentID BankAccountNumber Particulars Details"
        ),
        journals=True,
        error_flag="HasValidationErrors",
        with_updated_string=True,
    ),
    WriteResource(
        "Items",
        "Item",
        "ItemID",
        build_item,
        fields=_props(
            "Code InventoryAssetAccountCode Name IsSold IsPurchased Description "
            "PurchaseDescription PurchaseDetails SalesDetails ItemID"
        ),
        number_field="Code",
        match=_match_number("Items", "Code"),
        error_flag=None,
        unitdp=True,
    ),
    WriteResource(
        "ManualJournals",
        "ManualJournal",
        "ManualJournalID",
        build_manual_journal,
        fields=_props(
            "Narration JournalLines Date LineAmountTypes Status ShowOnCashBasisReports "
            "ManualJournalID"
        ),
        journals=True,
        error_flag=None,
    ),
    WriteResource(
        "BankTransactions",
        "BankTransaction",
        "BankTransactionID",
        build_bank_transaction,
        fields=_props(
            f"{_DOCUMENT} Type BankAccount IsReconciled BankTransactionID SubTotal TotalTax Total"
        ),
        journals=True,
        error_flag=None,
        unitdp=True,
    ),
    WriteResource(
        "PurchaseOrders",
        "PurchaseOrder",
        "PurchaseOrderID",
        build_purchase_order,
        fields=_props(
            f"{_DOCUMENT} DeliveryDate PurchaseOrderNumber SentToContact DeliveryAddress "
            "AttentionTo Telephone DeliveryInstructions ExpectedArrivalDate PurchaseOrderID"
        ),
        number_field="PurchaseOrderNumber",
        match=_match_number("PurchaseOrders", "PurchaseOrderNumber"),
    ),
    WriteResource(
        "Quotes",
        "Quote",
        "QuoteID",
        build_quote,
        fields=_props(f"{_DOCUMENT} QuoteID QuoteNumber Terms ExpiryDate Title Summary"),
        number_field="QuoteNumber",
        match=_match_number("Quotes", "QuoteNumber"),
        error_flag=None,
    ),
    WriteResource(
        "Accounts",
        "Account",
        "AccountID",
        build_account,
        fields=_props(
            "Code Name AccountID Type BankAccountNumber Status Description BankAccountType "
            "CurrencyCode TaxType EnablePaymentsToAccount ShowInExpenseClaims ReportingCode "
            "AddToWatchlist"
        ),
        error_flag=None,
        not_found=Messages.ACCOUNT_IS_NOT_FOUND,
        post=False,
        single=True,
        summarize_param=False,
        status_attribute=False,
    ),
    WriteResource(
        "TrackingCategories",
        "TrackingCategory",
        "TrackingCategoryID",
        build_tracking_category,
        fields=_props("Name Status TrackingCategoryID"),
        error_flag=None,
        post=False,
        single=True,
        summarize_param=False,
        stamped=False,
        status_attribute=False,
    ),
    WriteResource(
        "Options",
        "TrackingOption",
        "TrackingOptionID",
        build_tracking_option,
        fields=_props("Name Status"),
        error_flag=None,
        summarize_param=False,
        stamped=False,
        status_attribute=False,
        parent="TrackingCategories",
    ),
)

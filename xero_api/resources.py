"""The resource table: everything both Singer sides know about each Xero resource.

One row per resource. The tap builds one stream per row and the target one sink per writable
row; adding an endpoint means adding a row here and a schema in ``schemas/``. Each row names
its :class:`Api` (Accounting unless said otherwise: Projects, Fixed Assets...), whose base path,
spec and regions it shares. Facts come from Xero's OpenAPI specs 16.1.0 and the API facts (§2-§3,
§9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "ACCOUNTING",
    "APIS",
    "ASSETS",
    "ATTACHMENT_PARENTS",
    "FILES",
    "PROJECTS",
    "REPORTS",
    "RESOURCES",
    "Api",
    "Paging",
    "Replication",
    "Resource",
    "WriteRule",
    "resource_for_stream",
]


@dataclass(frozen=True)
class Api:
    """One of Xero's APIs: where it lives, the spec it is described by, who may use it.

    ``regions`` lists the organisation countries (Organisation ``Version``) the API serves;
    empty means every region. ``optional`` APIs are not part of every subscription: an
    organisation without one answers 403, and the tap skips that tenant for the API's streams.
    """

    name: str
    title: str
    base_path: str
    spec_file: str
    regions: tuple[str, ...] = ()
    optional: bool = False


ACCOUNTING = Api("accounting", "Accounting", "/api.xro/2.0", "xero_accounting.json")
PROJECTS = Api("projects", "Projects", "/projects.xro/2.0", "xero-projects.json", optional=True)
ASSETS = Api("assets", "Fixed Assets", "/assets.xro/1.0", "xero_assets.json", optional=True)
FILES = Api("files", "Files", "/files.xro/1.0", "xero_files.json", optional=True)
PAYROLL_AU = Api(
    "payroll-au", "Payroll AU", "/payroll.xro/1.0", "xero-payroll-au.json", ("AU",), True
)
APIS: tuple[Api, ...] = (ACCOUNTING, PROJECTS, ASSETS, PAYROLL_AU, FILES)


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

    ``natural_keys`` are alternatives tried in order when a record's Xero ID is not in the
    target organisation; ``A+B`` is a compound key (documents Xero keeps no unique key for):
    Xero is filtered on ``A`` and the other parts are compared on our side. ``batch_size`` caps
    elements per request (1 where Xero takes a single object, which is then updated with
    ``POST /{path}/{id}``). Every writable resource is created with ``PUT`` (create only)
    and updated with ``POST`` carrying its ID. ``repeats`` marks resources whose keys are
    content, not identity (two equal payments are two payments): records sharing a key are
    not one document. ``updatable=False`` marks documents Xero cannot edit once written
    (Payments); ``creatable=False`` marks resources the API cannot create (Projects'
    users): their records are only matched, so references to them resolve. ``unique`` lists
    the fields Xero keeps unique, as ``(field, type)`` where a non-empty type limits the rule
    to documents of that ``Type`` (sales invoice numbers are unique, bill numbers repeat): a
    dry run predicts the refusal of a create that repeats one.
    ``lookups`` says how to find documents by a field: ``param:<Name>`` (a comma list query
    parameter such as ``IDs``), ``path`` (``GET /{path}/{value}``), ``query:<Name>`` (one value
    per call); any other field is looked up with a batched ``where`` filter.
    ``references`` are ``(payload path, resource stream, key field)`` triples resolved against
    the target organisation before sending (``*`` walks a list; an empty key field means the
    path holds an object identifying the document). ``children`` are sub-collections written
    with ``PUT /{path}/{id}/{child}`` after the parent (TrackingCategory options).
    ``status_steps`` maps a status Xero will not take on create to the statuses that reach it:
    the document is created with the first and moved through the rest (``VOIDED`` is created
    ``AUTHORISED`` then voided); a status missing from the end (``PAID``) is reached by Xero
    itself once the payments are written.

    The APIs beside Accounting write one bare object a request: ``create_method`` on the
    collection, ``update_method`` on ``/{path}/{id}`` (Projects: ``POST`` creates, ``PUT``
    updates, answering 204), or on the collection with the ID in the body when
    ``update_at_id`` is false (Fixed Assets). ``fields`` are the fields their body carries;
    ``writes_as`` copies a record's field to the body field the API takes instead (a project's
    ``estimate.value`` is written as ``estimateAmount``). A reference path ``name>field`` takes
    a value naming the document (an asset type's name) and sends its ID as ``field``.
    ``status_field`` names the status; with ``status_method``
    ``PATCH`` a status step is ``PATCH /{path}/{id}`` with that field alone.
    """

    natural_keys: tuple[str, ...]
    batch_size: int = 50
    single_object: bool = False
    read_only: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    repeats: bool = False
    updatable: bool = True
    unique: tuple[tuple[str, str], ...] = ()
    lookups: tuple[tuple[str, str], ...] = ()
    references: tuple[tuple[str, str, str], ...] = ()
    children: tuple[str, ...] = ()
    status_steps: tuple[tuple[str, tuple[str, ...]], ...] = ()
    creatable: bool = True
    create_method: str = "PUT"
    update_method: str = "POST"
    fields: tuple[str, ...] = ()
    writes_as: tuple[tuple[str, str], ...] = ()
    status_field: str = "Status"
    status_method: str = "POST"
    update_at_id: bool = True


@dataclass(frozen=True)
class Resource:
    """One Xero collection and how to read (and maybe write) it.

    ``path`` is relative to the API's base path. ``envelope`` is the key of the list in the
    answer; empty when the answer is the list itself, or a single settings object (then
    ``primary_key`` is empty too: one record per tenant). A child collection names its
    ``parent``: the parent's stream and the field of a parent record that fills the
    ``{placeholder}`` of ``path``; it is read once per parent record. ``nested`` names a list
    inside each answered element that holds the records (a pay run's ``Payslips``); such records
    carry their parent's ID field. ``each`` names a parameter the API requires one value of per
    call (Assets by ``status``): the collection is read once per value. ``max_page_size`` is the
    API's largest page size, sent as ``page_size_param``.
    ``primary_key`` may join fields with ``+`` where a record has no ID of its own.
    """

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
    api: Api = ACCOUNTING
    max_page_size: int = 1000
    parent: tuple[str, str] | None = None
    each: tuple[str, tuple[str, ...]] | None = None
    nested: str | None = None
    page_size_param: str = "pageSize"

    @property
    def replication(self) -> Replication:
        """INCREMENTAL when Xero gives a field to bookmark on, else FULL_TABLE."""
        return Replication.INCREMENTAL if self.replication_key else Replication.FULL_TABLE

    @property
    def noun(self) -> str:
        """What one record is called in messages ("invoice", "project task")."""
        if self.api is ACCOUNTING:
            return self.envelope[:-1]
        return self.stream.replace("_", " ").removesuffix("s")

    def request_path(self, parent_id: str | None = None, **ids: str) -> str:
        """The path to hand the client: Accounting paths as they are (the client adds
        ``/api.xro/2.0``), other APIs' from the root; ``parent_id`` fills a child's
        ``{placeholder}`` whatever its name, ``ids`` fill placeholders by name."""
        path = self.path.format(**ids) if ids else self.path
        if parent_id is not None:
            path = re.sub(r"\{[^}]+\}", parent_id, path, count=1)
        return path if self.api is ACCOUNTING else f"{self.api.base_path}/{path}"


_UPDATED = "UpdatedDateUTC"
_ASC = "UpdatedDateUTC ASC"
_UNITDP = ("unitdp", "4")
_ARCHIVED = ("includeArchived", "true")

_CONTACT_REF = ("Contact", "contacts", "")
_PROJECT_REF = ("projectId", "projects", "projectId")
# How Projects writes: one object a request, POST creates, PUT /{id} updates.
_PROJECTS_WRITE: dict[str, Any] = {
    "batch_size": 1,
    "single_object": True,
    "create_method": "POST",
    "update_method": "PUT",
}


def _line_refs(lines: str) -> tuple[tuple[str, str, str], ...]:
    """References every document line can carry: account, item and tracking."""
    return (
        (f"{lines}.*.AccountCode", "accounts", "Code"),
        (f"{lines}.*.AccountID", "accounts", "AccountID"),
        (f"{lines}.*.ItemCode", "items", "Code"),
        (f"{lines}.*.Tracking", "tracking_categories", "Name"),
    )


# Statuses of invoices and credit notes that Xero sets only on an existing document.
_DOC_STEPS = (
    ("PAID", ("AUTHORISED",)),
    ("VOIDED", ("AUTHORISED", "VOIDED")),
    ("DELETED", ("DRAFT", "DELETED")),
)

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

# The table is kept one compact row per resource, which is easier to scan than one field a line.
# fmt: off
RESOURCES: tuple[Resource, ...] = (
    Resource(
        "accounts", "Accounts", "Accounts", "AccountID",
        replication_key=_UPDATED, modified_since=True, order=_ASC,
        write=WriteRule(("Code", "Name"), batch_size=1, single_object=True,
                        unique=(("Code", ""), ("Name", "")),
                        read_only=("UpdatedDateUTC", "HasAttachments", "ReportingCodeName",
                                   "Class", "SystemAccount", "ValidationErrors")),
    ),
    Resource(
        "bank_transactions", "BankTransactions", "BankTransactions", "BankTransactionID",
        Paging.PAGE, _UPDATED, True, _ASC, (_UNITDP,), "accounting.banktransactions.read",
        # No unique key: matched on content (contact, date, type, bank account, total).
        write=WriteRule(("Contact.ContactID+Date+Type+BankAccount.AccountID+Total",),
                        read_only=(*_DOC_READ_ONLY, "PrepaymentID", "OverpaymentID"), repeats=True,
                        depends_on=("contacts", "accounts", "items", "tracking_categories"),
                        references=(_CONTACT_REF, ("BankAccount", "accounts", ""),
                                    *_line_refs("LineItems")),
                        status_steps=(("DELETED", ("AUTHORISED", "DELETED")),)),
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
        write=WriteRule(("ContactNumber", "Name"), lookups=(("ContactID", "param:IDs"),),
                        unique=(("Name", ""), ("ContactNumber", ""), ("AccountNumber", "")),
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
        write=WriteRule(("CreditNoteNumber+Type+Contact.ContactID",),
                        unique=(("CreditNoteNumber", "ACCRECCREDIT"),),
                        read_only=(*_DOC_READ_ONLY, "RemainingCredit", "AppliedAmount",
                                   "CISDeduction", "CISRate", "SentToContact"),
                        depends_on=("contacts", "accounts", "items", "tracking_categories"),
                        references=(_CONTACT_REF, *_line_refs("LineItems")),
                        status_steps=_DOC_STEPS),
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
        # ACCPAY numbers repeat across suppliers, hence type and contact in the key.
        write=WriteRule(("InvoiceNumber+Type+Contact.ContactID",),
                        unique=(("InvoiceNumber", "ACCREC"),),
                        read_only=(*_DOC_READ_ONLY, "TotalDiscount", "CISDeduction", "CISRate"),
                        depends_on=("contacts", "accounts", "items", "tracking_categories"),
                        lookups=(("InvoiceID", "param:IDs"),
                                 ("InvoiceNumber", "param:InvoiceNumbers")),
                        references=(_CONTACT_REF, *_line_refs("LineItems")),
                        status_steps=_DOC_STEPS),
    ),
    Resource(
        "items", "Items", "Items", "ItemID",
        replication_key=_UPDATED, modified_since=True, order=_ASC, params=(_UNITDP,),
        write=WriteRule(("Code",), unique=(("Code", ""),),
                        read_only=("UpdatedDateUTC", "ValidationErrors",
                                              "StatusAttributeString", "TotalCostPool",
                                              "QuantityOnHand", "IsTrackedAsInventory"),
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
        write=WriteRule(("Narration+Date",), repeats=True,
                        read_only=("UpdatedDateUTC", "HasAttachments", "ValidationErrors",
                                   "StatusAttributeString", "Warnings", "Attachments"),
                        depends_on=("accounts", "tracking_categories"),
                        references=_line_refs("JournalLines"),
                        status_steps=(("VOIDED", ("POSTED", "VOIDED")),
                                      ("DELETED", ("DRAFT", "DELETED")))),
    ),
    Resource("organisations", "Organisation", "Organisations", "OrganisationID"),
    Resource(
        "overpayments", "Overpayments", "Overpayments", "OverpaymentID",
        Paging.PAGE, _UPDATED, True, _ASC, (_UNITDP,), "accounting.payments.read",
    ),
    Resource(
        "payments", "Payments", "Payments", "PaymentID",
        Paging.PAGE, _UPDATED, True, _ASC, (), "accounting.payments.read",
        # No unique key and no edits: matched on content (document, date, amount).
        write=WriteRule(("Invoice.InvoiceID+Date+Amount", "CreditNote.CreditNoteID+Date+Amount"),
                        repeats=True, updatable=False,
                        references=(("Invoice", "invoices", ""), ("CreditNote", "credit_notes", ""),
                                    ("Account", "accounts", "")),
                        status_steps=(("DELETED", ("AUTHORISED", "DELETED")),),
                        read_only=("UpdatedDateUTC", "HasAccount", "HasValidationErrors",
                                   "ValidationErrors", "StatusAttributeString", "BankAmount",
                                   "PaymentType", "BatchPaymentID", "BatchPayment",
                                   "UpdatedDateUTCString", "Warnings"),
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
        write=WriteRule(("PurchaseOrderNumber",), unique=(("PurchaseOrderNumber", ""),),
                        read_only=(*_DOC_READ_ONLY, "TotalDiscount", "Type"),
                        depends_on=("contacts", "accounts", "items", "tracking_categories"),
                        lookups=(("PurchaseOrderID", "path"), ("PurchaseOrderNumber", "path")),
                        references=(_CONTACT_REF, *_line_refs("LineItems")),
                        status_steps=(("BILLED", ("AUTHORISED", "BILLED")),
                                      ("DELETED", ("DRAFT", "DELETED")))),
    ),
    Resource(
        "quotes", "Quotes", "Quotes", "QuoteID",
        Paging.PAGE_FIXED, _UPDATED, True, _ASC, (), "accounting.invoices.read",
        write=WriteRule(("QuoteNumber",), unique=(("QuoteNumber", ""),),
                        read_only=(*_DOC_READ_ONLY, "TotalDiscount"),
                        depends_on=("contacts", "accounts", "items", "tracking_categories"),
                        lookups=(("QuoteID", "path"), ("QuoteNumber", "query:QuoteNumber")),
                        references=(_CONTACT_REF, *_line_refs("LineItems")),
                        status_steps=(("ACCEPTED", ("SENT", "ACCEPTED")),
                                      ("DECLINED", ("SENT", "DECLINED")),
                                      ("INVOICED", ("SENT", "ACCEPTED", "INVOICED")),
                                      ("DELETED", ("DRAFT", "DELETED")))),
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
        write=WriteRule(("Name",), batch_size=1, single_object=True, unique=(("Name", ""),),
                        read_only=("TrackingOptionID", "Option", "Options"),
                        children=("Options",)),
    ),
    Resource(
        "users", "Users", "Users", "UserID",
        replication_key=_UPDATED, modified_since=True, order=_ASC,
    ),
    # Projects API (projects.xro/2.0): page + pageSize (1-500, default 50), `pagination` and
    # `items`; no If-Modified-Since and no change date on projects, tasks or time entries.
    # Writes: POST creates, PUT /{id} updates; tasks and time are written under their project.
    Resource(
        "projects", "Projects", "items", "projectId", Paging.PAGE, scope="projects.read",
        api=PROJECTS, max_page_size=500,
        write=WriteRule(("name+contactId",), **_PROJECTS_WRITE,
                        fields=("contactId", "name", "estimateAmount", "deadlineUtc"),
                        writes_as=(("estimate.value", "estimateAmount"),),
                        depends_on=("contacts",),
                        references=(("contactId", "contacts", "ContactID"),),
                        lookups=(("projectId", "param:projectIds"),),
                        status_field="status", status_method="PATCH",
                        status_steps=(("CLOSED", ("INPROGRESS", "CLOSED")),)),
    ),
    Resource(
        "project_users", "ProjectsUsers", "items", "userId", Paging.PAGE, scope="projects.read",
        api=PROJECTS, max_page_size=500,
        # The API cannot create users: records only map a source's users to the target's.
        write=WriteRule(("email", "name"), **_PROJECTS_WRITE, creatable=False, updatable=False),
    ),
    Resource(
        "project_tasks", "Projects/{projectId}/Tasks", "items", "taskId", Paging.PAGE,
        scope="projects.read", api=PROJECTS, max_page_size=500,
        parent=("projects", "projectId"),
        write=WriteRule(("projectId+name",), **_PROJECTS_WRITE,
                        fields=("name", "rate", "chargeType", "estimateMinutes"),
                        depends_on=("projects",), references=(_PROJECT_REF,),
                        lookups=(("projectId", "parent"),)),
    ),
    Resource(
        "project_time", "Projects/{projectId}/Time", "items", "timeEntryId", Paging.PAGE,
        scope="projects.read", api=PROJECTS, max_page_size=500,
        parent=("projects", "projectId"),
        # Two equal entries (same user, task, day, minutes and words) are two entries.
        write=WriteRule(("projectId+taskId+userId+dateUtc+duration+description",),
                        **_PROJECTS_WRITE, repeats=True,
                        fields=("userId", "taskId", "dateUtc", "duration", "description"),
                        depends_on=("projects", "project_tasks", "project_users"),
                        # By ID, or by name: project name, task name in it, user e-mail.
                        references=(("projectName>projectId", "projects", "name"), _PROJECT_REF,
                                    ("taskName>taskId", "project_tasks", "projectId+name"),
                                    ("taskId", "project_tasks", "taskId"),
                                    ("userEmail>userId", "project_users", "email"),
                                    ("userId", "project_users", "userId")),
                        lookups=(("projectId", "parent"),)),
    ),
    # Fixed Assets API (assets.xro/1.0): `status` is required on /Assets, one value a call;
    # pageSize defaults to 10 and the spec gives no maximum (100 is asked for). Writes: POST
    # /Assets creates (or, with the assetId of a draft, updates); POST /AssetTypes creates.
    Resource(
        "assets", "Assets", "items", "assetId", Paging.PAGE, scope="assets.read", api=ASSETS,
        max_page_size=100, each=("status", ("DRAFT", "REGISTERED", "DISPOSED")),
        write=WriteRule(("assetNumber",), batch_size=1, single_object=True,
                        create_method="POST", update_method="POST", update_at_id=False,
                        fields=("assetId", "assetName", "assetTypeId", "assetNumber",
                                "purchaseDate", "purchasePrice", "assetStatus",
                                "warrantyExpiryDate", "serialNumber", "bookDepreciationSetting"),
                        read_only=("bookDepreciationSetting.depreciableObjectId",
                                   "bookDepreciationSetting.depreciableObjectType",
                                   "bookDepreciationSetting.bookEffectiveDateOfChangeId"),
                        status_field="assetStatus", depends_on=("asset_types",),
                        references=(("assetTypeName>assetTypeId", "asset_types", "assetTypeName"),
                                    ("assetTypeId", "asset_types", "assetTypeId"))),
    ),
    Resource(
        "asset_types", "AssetTypes", "", "assetTypeId", scope="assets.read", api=ASSETS,
        # No update endpoint: a type the target has (by name) is left as it is.
        write=WriteRule(("assetTypeName",), batch_size=1, single_object=True,
                        create_method="POST", updatable=False,
                        fields=("assetTypeName", "fixedAssetAccountId",
                                "depreciationExpenseAccountId",
                                "accumulatedDepreciationAccountId", "bookDepreciationSetting"),
                        read_only=("bookDepreciationSetting.depreciableObjectId",
                                   "bookDepreciationSetting.depreciableObjectType",
                                   "bookDepreciationSetting.bookEffectiveDateOfChangeId"),
                        depends_on=("accounts",),
                        references=(("fixedAssetAccountId", "accounts", "AccountID"),
                                    ("depreciationExpenseAccountId", "accounts", "AccountID"),
                                    ("accumulatedDepreciationAccountId", "accounts", "AccountID"))),
    ),
    Resource("asset_settings", "Settings", "", "", scope="assets.read", api=ASSETS),
    # Payroll AU (payroll.xro/1.0, Australian organisations): Accounting's conventions, with
    # If-Modified-Since, `order` and `page` (100 fixed) on its collections.
    Resource(
        "payroll_employees", "Employees", "Employees", "EmployeeID", Paging.PAGE_FIXED,
        _UPDATED, True, _ASC, scope="payroll.employees.read", api=PAYROLL_AU,
    ),
    Resource(
        "payroll_leave_applications", "LeaveApplications", "LeaveApplications",
        "LeaveApplicationID", Paging.PAGE_FIXED, _UPDATED, True, _ASC,
        scope="payroll.employees.read", api=PAYROLL_AU,
    ),
    Resource(
        "payroll_calendars", "PayrollCalendars", "PayrollCalendars", "PayrollCalendarID",
        Paging.PAGE_FIXED, _UPDATED, True, _ASC, scope="payroll.settings.read", api=PAYROLL_AU,
    ),
    Resource(
        "payroll_pay_runs", "PayRuns", "PayRuns", "PayRunID", Paging.PAGE_FIXED, _UPDATED, True,
        _ASC, scope="payroll.payruns.read", api=PAYROLL_AU,
    ),
    # A pay run's payslips (summaries) come with the pay run itself: one call per pay run.
    Resource(
        "payroll_payslips", "PayRuns/{PayRunID}", "PayRuns", "PayslipID",
        scope="payroll.payruns.read", api=PAYROLL_AU, parent=("payroll_pay_runs", "PayRunID"),
        nested="Payslips",
    ),
    Resource(
        "payroll_superfunds", "Superfunds", "SuperFunds", "SuperFundID", Paging.PAGE_FIXED,
        _UPDATED, True, _ASC, scope="payroll.settings.read", api=PAYROLL_AU,
    ),
    Resource(
        "payroll_timesheets", "Timesheets", "Timesheets", "TimesheetID", Paging.PAGE_FIXED,
        _UPDATED, True, _ASC, scope="payroll.timesheets.read", api=PAYROLL_AU,
    ),
    Resource(
        "payroll_pay_items", "PayItems", "PayItems", "", scope="payroll.settings.read",
        api=PAYROLL_AU,
    ),
    Resource(
        "payroll_settings", "Settings", "Settings", "", scope="payroll.settings.read",
        api=PAYROLL_AU,
    ),
    # Files API (files.xro/1.0): `page` + `pagesize` (at most 100); no If-Modified-Since or
    # date filter, so every page is read oldest first and kept from the UpdatedDateUtc bookmark.
    Resource(
        "files", "Files", "Items", "Id", Paging.PAGE, "UpdatedDateUtc",
        params=(("sort", "CreatedDateUTC"), ("direction", "ASC")), scope="files.read",
        api=FILES, max_page_size=100, page_size_param="pagesize",
    ),
    Resource("file_folders", "Folders", "", "Id", scope="files.read", api=FILES),
    Resource(
        "file_associations", "Files/{FileId}/Associations", "", "FileId+ObjectId",
        scope="files.read", api=FILES, parent=("files", "Id"),
    ),
)

# fmt: on

# Streams whose documents take attachments (the spec's /{Collection}/{ID}/Attachments).
ATTACHMENT_PARENTS: tuple[str, ...] = (
    "accounts",
    "bank_transactions",
    "bank_transfers",
    "contacts",
    "credit_notes",
    "invoices",
    "manual_journals",
    "purchase_orders",
    "quotes",
    "receipts",
    "repeating_invoices",
)

_BY_STREAM = {r.stream: r for r in RESOURCES}

# The report streams: stream name -> Xero report (``GET /Reports/<name>``, one call a month).
REPORTS: dict[str, str] = {
    "report_trial_balance": "TrialBalance",
    "report_profit_and_loss": "ProfitAndLoss",
    "report_balance_sheet": "BalanceSheet",
}


def resource_for_stream(stream: str) -> Resource:
    """The row for a stream name; raises KeyError naming the stream when there is none."""
    try:
        return _BY_STREAM[stream]
    except KeyError:
        raise KeyError(f"no Xero resource is declared for stream {stream!r}") from None

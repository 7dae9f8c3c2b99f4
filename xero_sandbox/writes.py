"""The Accounting API's write side: PUT (create) and POST (create or update) under /api.xro/2.0.

One table (:data:`WRITE_RESOURCES`) drives every endpoint: envelope, ID and number fields, number
sequence, the builder that validates and computes an element, webhook category and whether the
resource posts journals. A row with ``parent`` is a sub-collection kept inside the parent record
(``PUT /TrackingCategories/{id}/Options``).

A request runs as Xero runs it (``xero-write-rules.md``):

1. The body is read (a bare object or the plural envelope). Anything that cannot be converted to
   Xero's types fails the whole request: 400 ``PostDataInvalidException`` (ErrorNumber 14); an
   empty body gives ``NoDataProcessedException`` (17).
2. Each element is validated and computed in order, and saved at once when it has no errors
   (with its journals, the documents a payment settles, and a new contact an invoice names), so
   later elements see earlier ones (a second contact with the same Name fails).
3. Default mode: if any element failed, 400 ``ValidationException`` listing the failed elements;
   elements that passed stay saved, as at Xero (facts §3.1). ``summarizeErrors=false``: 200 with
   every element in order, each with ``StatusAttributeString`` OK/WARNING/ERROR.
4. Webhooks (CONTACT, INVOICE, CREDITNOTE) are notified after the element is saved.

``Idempotency-Key`` wraps all of this (see :mod:`xero_sandbox.idempotency`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.context import SandboxContext
from xero_sandbox.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyStore,
    KeyMismatch,
    StoredResponse,
    fingerprint,
    key_too_long_message,
    mismatch_message,
)
from xero_sandbox.ledger import ACCOUNT_CLASS, compute_totals, ms_date, note_discounts, unit
from xero_sandbox.reads import not_found
from xero_sandbox.store import decode, encode, ms_of
from xero_sandbox.validation import (
    INVOICE_STATUS_CHANGES,
    NO_TAX,
    ZERO_GUID,
    Issues,
    LinePolicy,
    Messages,
    NoDataProcessed,
    PostDataInvalid,
    as_bool,
    as_date,
    as_decimal,
    as_enum,
    as_guid,
    as_text,
    check_lengths,
    check_line,
    prepare_line,
    valid_email,
)

__all__ = ["WRITE_RESOURCES", "WriteResource", "idempotent", "routes"]

Record = dict[str, Any]
API = "/api.xro/2.0"
JSON = "application/json; charset=utf-8"
ZERO = Decimal("0.00")

LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
QUOTE_LINE_AMOUNT_TYPES = {"EXCLUSIVE": "Exclusive", "INCLUSIVE": "Inclusive", "NOTAX": "NoTax"}
INVOICE_TYPES = (
    "ACCPAY",
    "ACCPAYCREDIT",
    "APOVERPAYMENT",
    "APPREPAYMENT",
    "ACCREC",
    "ACCRECCREDIT",
    "AROVERPAYMENT",
    "ARPREPAYMENT",
)
DOCUMENT_STATUSES = ("DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED")
BANK_TRANSACTION_TYPES = (
    "RECEIVE",
    "RECEIVE-OVERPAYMENT",
    "RECEIVE-PREPAYMENT",
    "SPEND",
    "SPEND-OVERPAYMENT",
    "SPEND-PREPAYMENT",
    "RECEIVE-TRANSFER",
    "SPEND-TRANSFER",
)
ACCOUNT_TYPES = (
    "BANK",
    "CURRENT",
    "CURRLIAB",
    "DEPRECIATN",
    "DIRECTCOSTS",
    "EQUITY",
    "EXPENSE",
    "FIXED",
    "INVENTORY",
    "LIABILITY",
    "NONCURRENT",
    "OTHERINCOME",
    "OVERHEADS",
    "PREPAYMENT",
    "REVENUE",
    "SALES",
    "TERMLIAB",
    "PAYG",
)
# Fields Xero computes: dropped from what a client sends (write-rules §0.1).
_READ_ONLY = frozenset(
    {
        "SubTotal",
        "TotalTax",
        "Total",
        "TotalDiscount",
        "AmountDue",
        "AmountPaid",
        "AmountCredited",
        "FullyPaidOnDate",
        "UpdatedDateUTC",
        "UpdatedDateUTCString",
        "HasErrors",
        "HasValidationErrors",
        "HasAttachments",
        "HasAccount",
        "StatusAttributeString",
        "ValidationErrors",
        "Warnings",
        "IsDiscounted",
        "Payments",
        "CreditNotes",
        "Prepayments",
        "Overpayments",
        "Allocations",
        "RemainingCredit",
        "AppliedAmount",
        "CISDeduction",
        "CISRate",
        "Attachments",
        "DateString",
        "DueDateString",
        "ExpiryDateString",
        "Balances",
        "IsSupplier",
        "IsCustomer",
        "ContactGroups",
        "Website",
        "Discount",
        "MergedToContactID",
        "Class",
        "SystemAccount",
        "ReportingCodeName",
        "QuantityOnHand",
        "TotalCostPool",
        "IsTrackedAsInventory",
        "PaymentType",
        "Url",
    }
)


# ---------------------------------------------------------------------------------------------
# one request against one tenant


class Writer:
    """State of one write request: the tenant's books, the clock and events to send afterwards."""

    def __init__(self, ctx: SandboxContext, tenant_id: str, method: str, unit_dp: int) -> None:
        self.store = ctx.store
        self.ledger = ctx.ledger
        self.tenant_id = tenant_id
        self.method = method
        self.unit_dp = unit_dp
        self.now_ms = ctx.clock.utc_ms()
        self.events: list[tuple[str, str, str, Record | None]] = []
        self.parent: Record | None = None  # the record whose sub-collection the request adds to
        self._organisation: Record | None = None

    # References for validation --------------------------------------------------------------
    def account(self, code: str | None = None, account_id: str | None = None) -> Record | None:
        """An account by Code or AccountID."""
        key = account_id or code
        return None if not key else self.ledger.account(self.tenant_id, key)

    def tax_rate(self, tax_type: str) -> Decimal | None:
        """Effective rate (percent) of a TaxType, None when the tenant has no such rate."""
        return self.ledger.tax_rates(self.tenant_id).get(tax_type)

    def item(self, code: str) -> Record | None:
        """An item by Code."""
        return self.store.get_by_number(self.tenant_id, "Items", code)

    # Books ------------------------------------------------------------------------------------
    def get(self, resource: str, record_id: str) -> Record | None:
        """A stored record by ID."""
        return self.store.get(self.tenant_id, resource, record_id)

    def by_number(self, resource: str, number: str) -> Record | None:
        """A stored record by its number field."""
        return self.store.get_by_number(self.tenant_id, resource, number)

    def organisation(self) -> Record:
        """The tenant's Organisation record (empty when the seed wrote none)."""
        if self._organisation is None:
            self._organisation = next(self.store.iter_records(self.tenant_id, "Organisation"), {})
        return self._organisation

    def base_currency(self) -> str:
        """The organisation's base currency."""
        return str(self.organisation().get("BaseCurrency") or "USD")

    def today(self) -> date:
        """Today (UTC): the default document date."""
        return datetime.fromtimestamp(self.now_ms / 1000, tz=UTC).date()

    def save(self, resource: str, record: Record) -> None:
        """Store a record."""
        self.store.put(self.tenant_id, resource, _stored(record))

    def by_url_id(self, resource: str, url_id: str) -> Record | None:
        """A stored record by the ID in a URL (GUIDs match whatever their case)."""
        return self.get(resource, url_id.lower()) or self.get(resource, url_id)

    def post_journals(self, resource: str, record: Record) -> None:
        """Bring the record's journals in line with its state (post, re-post or reverse)."""
        self.ledger.post_document(self.tenant_id, resource, record, self.now_ms)

    def notify(
        self, category: str | None, event_type: str, resource_id: str, document: Record
    ) -> None:
        """Queue a webhook event, sent once the request's writes are committed.

        CREDITNOTE events carry the credit note's Type and Status as saved (facts §8).
        """
        if category:
            data = None
            if category == "CREDITNOTE":
                data = {"Type": document.get("Type"), "Status": document.get("Status")}
            self.events.append((category, event_type, resource_id, data))

    def next_number(self, resource: str, prefix: str) -> str:
        """The next free document number of a per-tenant sequence (INV-0001, ...)."""
        while True:
            candidate = f"{prefix}-{self.store.next_number(self.tenant_id, prefix):04d}"
            if self.by_number(resource, candidate) is None:
                return candidate

    def stamp(self, record: Record, with_string: bool = False) -> None:
        """Bump UpdatedDateUTC to now (real clock, ms)."""
        record["UpdatedDateUTC"] = ms_date(self.now_ms)
        if with_string:
            stamp = datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)
            record["UpdatedDateUTCString"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Element:
    """One element of a request, as it moves through validation."""

    sent: Record
    path: str
    existing: Record | None = None
    issues: Issues = field(default_factory=Issues)
    before_save: list[Callable[[], None]] = field(default_factory=list)
    after_save: list[Callable[[], None]] = field(default_factory=list)
    new_contact: Record | None = None  # a contact the element creates by naming it


Builder = Callable[[Writer, Element], Record]
Matcher = Callable[[Writer, Record, str], Record | None]


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
    status_attribute: bool = True  # echoes StatusAttributeString (Accounts do not, §10)
    parent: str | None = None  # a sub-collection: PUT /{parent}/{id}/{collection}, kept inside it
    fields: frozenset[str] = frozenset()  # the spec's properties; others are dropped silently


# ---------------------------------------------------------------------------------------------
# helpers shared by builders


def _day_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _date_of(record: Mapping[str, Any], name: str) -> date | None:
    ms = ms_of(record.get(name))
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).date()


_REF_KEYS = {
    "Contact": ("ContactID", "Name"),
    "Invoice": ("InvoiceID", "InvoiceNumber", "Type", "Contact", "CurrencyCode"),
    "CreditNote": ("CreditNoteID", "CreditNoteNumber", "Type", "Contact", "CurrencyCode"),
}


def _reference(name: str, linked: Record) -> Record:
    ref = {k: v for k, v in linked.items() if k in _REF_KEYS[name]}
    if isinstance(ref.get("Contact"), dict):
        ref["Contact"] = _reference("Contact", ref["Contact"])
    return ref


def _stored(record: Record) -> Record:
    """A record as kept in the books: linked records by reference, as the seed writes them.

    Responses echo the full contact and the settled document; GETs serve these references.
    """
    drop = ("ValidationErrors", "Warnings", "StatusAttributeString")
    kept = {k: v for k, v in record.items() if k not in drop}
    for name in _REF_KEYS:
        if isinstance(kept.get(name), dict):
            kept[name] = _reference(name, kept[name])
    return kept


def _merge(existing: Record | None, sent: Record) -> Record:
    """Partial update: sent fields replace stored ones; computed fields are never taken."""
    merged: Record = dict(existing or {})
    for key, value in sent.items():
        if key not in _READ_ONLY:
            merged[key] = value
    return merged


def _put_date(record: Record, name: str, day: date, with_string: str | None) -> None:
    record[name] = ms_date(_day_ms(day))
    if with_string:
        record[with_string] = f"{day.isoformat()}T00:00:00"


def _set_date(
    record: Record,
    element: Element,
    name: str,
    with_string: str | None = None,
    default: date | None = None,
) -> None:
    """Take a sent date (an empty string clears it); fill ``default`` when there is none."""
    value = element.sent.get(name)
    if value not in (None, ""):
        _put_date(record, name, as_date(value, f"{element.path}.{name}"), with_string)
    elif name in element.sent:
        record.pop(name, None)
        if with_string:
            record.pop(with_string, None)
    if name not in record and default is not None:
        _put_date(record, name, default, with_string)


def _text_fields(record: Record, element: Element, names: tuple[str, ...]) -> None:
    for name in names:
        if element.sent.get(name) is not None:
            record[name] = as_text(element.sent[name], f"{element.path}.{name}")


def _bool_fields(record: Record, element: Element, names: tuple[str, ...]) -> None:
    for name in names:
        if element.sent.get(name) is not None:
            record[name] = as_bool(element.sent[name], f"{element.path}.{name}")


def _check_lock_dates(w: Writer, record: Record, issues: Issues) -> None:
    """A posting document dated on or before a lock date cannot be saved (write-rules §0.3)."""
    day = _date_of(record, "Date")
    if day is None:
        return
    org = w.organisation()
    year_end = _date_of(org, "EndOfYearLockDate")
    period = _date_of(org, "PeriodLockDate")
    if year_end is not None and day <= year_end:
        issues.error(Messages.year_end_locked(year_end))
    elif period is not None and day <= period:
        issues.error(Messages.period_locked(period))


def _contact_summary(contact: Record) -> Record:
    return {k: v for k, v in contact.items() if k not in ("ValidationErrors", "Warnings")}


def _resolve_contact(
    w: Writer, element: Element, record: Record, *, may_create: bool
) -> Record | None:
    """The contact a document names: by ContactID, then ContactNumber, then Name (§11)."""
    path = f"{element.path}.Contact"
    sent = element.sent.get("Contact")
    if sent is None:
        if element.existing is None:
            element.issues.error(Messages.CONTACT_IDENTIFIER)
        return None
    if not isinstance(sent, dict):
        raise PostDataInvalid(
            f"Error converting value \"{sent}\" to type 'Xero.API.Library..Contact'. Path '{path}'."
        )
    contact: Record | None = None
    if sent.get("ContactID") not in (None, ""):
        contact_id = as_guid(sent["ContactID"], f"{path}.ContactID")
        contact = w.get("Contacts", contact_id)
        if contact is None:
            element.issues.error(Messages.CONTACT_NOT_FOUND)
            record["Contact"] = {"ContactID": contact_id}
            return None
    elif sent.get("ContactNumber") not in (None, ""):
        number = as_text(sent["ContactNumber"], f"{path}.ContactNumber")
        contact = w.by_number("Contacts", number)
        if contact is None and not may_create:
            element.issues.error(Messages.CONTACT_NOT_FOUND)
            return None
    if contact is None and sent.get("Name") not in (None, ""):
        name = as_text(sent["Name"], f"{path}.Name")
        contact = _active_contact_named(w, name)
        if contact is None and not may_create:
            element.issues.error(Messages.CONTACT_NOT_FOUND)
            return None
        if contact is None:
            contact = _new_contact(w, sent, element)
    if contact is None:
        if sent.get("ContactNumber") in (None, ""):
            element.issues.error(Messages.CONTACT_IDENTIFIER)
        else:
            element.issues.error(Messages.CONTACT_NOT_FOUND)
        return None
    if contact.get("ContactStatus") in ("ARCHIVED", "GDPRREQUEST"):
        element.issues.error(Messages.CONTACT_ARCHIVED)
    record["Contact"] = _contact_summary(contact)
    return contact


def _active_contact_named(w: Writer, name: str) -> Record | None:
    """The active contact with that Name; archived ones may share it (Name is unique among
    active contacts only)."""
    for found in w.store.all_by_name(w.tenant_id, "Contacts", name.strip()):
        if found.get("ContactStatus", "ACTIVE") == "ACTIVE":
            return found
    return None


_CONTACT_ROLE = {"ACCREC": "IsCustomer", "ACCPAY": "IsSupplier"}


def _mark_role(w: Writer, element: Element, contact: Record, kind: str) -> None:
    """The first sales invoice makes a contact a customer, the first bill a supplier (§1)."""
    flag = _CONTACT_ROLE.get(kind)
    if flag is None or contact.get(flag):
        return
    if contact is element.new_contact:
        contact[flag] = True
        return

    def mark() -> None:
        updated = {**contact, flag: True}
        w.stamp(updated)
        w.save("Contacts", updated)
        w.notify("CONTACT", "UPDATE", str(updated["ContactID"]), updated)

    element.after_save.append(mark)


def _new_contact(w: Writer, sent: Record, element: Element) -> Record:
    """A contact a document creates by naming it (saved with the document)."""
    contact: Record = {
        "ContactID": str(uuid.uuid4()),
        "ContactStatus": "ACTIVE",
        "Name": str(sent["Name"]).strip(),
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
        "IsSupplier": False,
        "IsCustomer": False,
    }
    for name in ("ContactNumber", "EmailAddress", "FirstName", "LastName", "AccountNumber"):
        if sent.get(name) not in (None, ""):
            contact[name] = as_text(sent[name], f"{element.path}.Contact.{name}")
    w.stamp(contact)

    def save_contact() -> None:
        w.save("Contacts", contact)
        w.notify("CONTACT", "CREATE", contact["ContactID"], contact)

    element.before_save.append(save_contact)
    element.new_contact = contact
    return contact


def _lines(
    w: Writer,
    element: Element,
    record: Record,
    key: str,
    line_amount_types: str,
    policy: LinePolicy,
    *,
    client_tax: bool,
    line_id: str = "LineItemID",
) -> list[tuple[Record, Any]]:
    """Prepare the lines of a document; returns (line, what-was-sent) pairs.

    Update semantics (§2.2): a sent line with its LineItemID updates that line, one without is
    added, and stored lines left out are dropped.
    """
    existing_lines = {
        str(line.get(line_id)): line for line in (element.existing or {}).get(key) or []
    }
    sent_lines = element.sent.get(key) if key in element.sent else None
    source = sent_lines if sent_lines is not None else list(existing_lines.values())
    if not isinstance(source, list):
        raise PostDataInvalid(
            "Cannot deserialize the current JSON object into type 'System.Collections.Generic."
            f"List`1[Xero.API.Library..LineItem]'. Path '{element.path}.{key}'."
        )
    prepared: list[tuple[Record, Any]] = []
    for index, raw in enumerate(source):
        path = f"{element.path}.{key}[{index}]"
        if not isinstance(raw, dict):
            raise PostDataInvalid(
                f"Unexpected character encountered while parsing value. Path '{path}'."
            )
        base = dict(existing_lines.get(str(raw.get(line_id)), {})) if sent_lines is not None else {}
        if sent_lines is not None and raw.get(line_id) not in (None, ""):
            base[line_id] = as_guid(raw[line_id], f"{path}.{line_id}")
        merged = {**base, **{k: v for k, v in raw.items() if k in LINE_FIELDS}}
        if sent_lines is not None and base and "LineAmount" not in raw:
            merged.pop("LineAmount", None)
        if not client_tax and "TaxAmount" not in raw:
            merged.pop("TaxAmount", None)
        line, sent = prepare_line(merged, path, line_amount_types, policy, w, element.issues)
        line.setdefault(line_id, str(uuid.uuid4()))
        if "Tracking" not in line:
            line["Tracking"] = []
        prepared.append((line, sent))
    record[key] = [line for line, _ in prepared]
    return prepared


def _finish_lines(
    w: Writer,
    element: Element,
    record: Record,
    prepared: list[tuple[Record, Any]],
    unit_dp: int,
    *,
    client_tax: bool,
) -> None:
    """Compute line amounts, tax and totals (ledger) and check them against what was sent."""
    rates = w.ledger.tax_rates(w.tenant_id)
    compute_totals(record, rates, unit_dp=unit_dp, client_tax=client_tax)
    for line, sent in prepared:
        check_line(line, sent, tax_must_match=not client_tax, issues=element.issues)
        line.pop("_GrossAmount", None)


def _unit_dp(w: Writer, element: Element) -> int:
    """Decimals kept on UnitAmount: 4 with ``unitdp=4``, and when an update leaves stored
    4-dp lines alone (an update without unitdp must not re-round lines it does not send)."""
    if w.unit_dp == 4:
        return 4
    if "LineItems" not in element.sent:
        for line in (element.existing or {}).get("LineItems") or []:
            price = line.get("UnitAmount")
            if isinstance(price, Decimal) and price != price.quantize(Decimal("0.01")):
                return 4
    return 2


def _line_amount_types(element: Element, record: Record, default: str) -> str:
    if element.sent.get("LineAmountTypes") is not None:
        value = as_enum(
            element.sent["LineAmountTypes"],
            LINE_AMOUNT_TYPES,
            "LineAmountType",
            f"{element.path}.LineAmountTypes",
        )
    else:
        value = str(record.get("LineAmountTypes") or default)
    record["LineAmountTypes"] = value
    return value


def _status(element: Element, allowed: tuple[str, ...], type_name: str) -> str | None:
    """The Status the element asks for (converted), or None when it sends none."""
    if element.sent.get("Status") is None:
        return None
    return as_enum(element.sent["Status"], allowed, type_name, f"{element.path}.Status")


# ---------------------------------------------------------------------------------------------
# builders, one per resource


def _invoice_like(w: Writer, element: Element, *, credit: bool) -> Record:
    """Invoices and CreditNotes: contact, lines, totals, numbering and status rules (§2, §3)."""
    existing, sent, issues = element.existing, element.sent, element.issues
    record = _merge(existing, sent)
    resource = "CreditNotes" if credit else "Invoices"
    number_field = "CreditNoteNumber" if credit else "InvoiceNumber"
    types = ("ACCPAYCREDIT", "ACCRECCREDIT") if credit else INVOICE_TYPES
    if existing is None:
        if sent.get("Type") in (None, ""):
            issues.error(Messages.INVOICE_TYPE_MISSING)
        else:
            kind = as_enum(sent["Type"], types, "InvoiceType", f"{element.path}.Type")
            if not credit and kind not in ("ACCREC", "ACCPAY"):
                issues.error(Messages.INVOICE_TYPE_INVALID)
    elif sent.get("Type") is not None:
        as_enum(sent["Type"], types, "InvoiceType", f"{element.path}.Type")
        record["Type"] = existing["Type"]
    kind = str(record.get("Type") or "")
    receivable = kind in ("ACCREC", "ACCRECCREDIT")

    old_status = existing.get("Status") if existing else None
    new_status = _status(element, DOCUMENT_STATUSES, "InvoiceStatus") or old_status or "DRAFT"
    record["Status"] = new_status
    allocated = existing is not None and _settled_amount(existing, credit) != 0
    status_changed = new_status != old_status
    if status_changed and allocated:
        issues.error(Messages.status_with_allocations(new_status))
    elif (status_changed or old_status in ("VOIDED", "DELETED")) and (
        new_status not in INVOICE_STATUS_CHANGES.get(old_status, frozenset())
    ):
        issues.error(Messages.INVOICE_STATUS)

    contact_before = (existing or {}).get("Contact", {}).get("ContactID")
    contact = _resolve_contact(w, element, record, may_create=True)
    if contact is not None and not credit:
        _mark_role(w, element, contact, kind)
    _text_fields(record, element, ("Reference", "CurrencyCode", number_field))
    _bool_fields(record, element, ("SentToContact",))
    if sent.get("CurrencyRate") is not None:
        record["CurrencyRate"] = as_decimal(sent["CurrencyRate"], f"{element.path}.CurrencyRate")
    if sent.get("BrandingThemeID") not in (None, ""):
        record["BrandingThemeID"] = as_guid(
            sent["BrandingThemeID"], f"{element.path}.BrandingThemeID"
        )
    _set_date(record, element, "Date", "DateString", w.today() if existing is None else None)
    _set_date(record, element, "DueDate", "DueDateString")
    for name in ("ExpectedPaymentDate", "PlannedPaymentDate"):
        _set_date(record, element, name)
    record.setdefault("CurrencyCode", w.base_currency())
    record.setdefault("CurrencyRate", Decimal("1.0000000000"))

    posting = new_status in ("SUBMITTED", "AUTHORISED")
    unit_dp = _unit_dp(w, element)
    mode = _line_amount_types(element, record, "Exclusive")
    policy = LinePolicy(
        unit_dp=unit_dp,
        requires_account=posting,
        forbidden_account_types=frozenset({"BANK"}),
    )
    prepared = _lines(w, element, record, "LineItems", mode, policy, client_tax=True)
    lines_given = "LineItems" in sent or existing is None
    if lines_given and not prepared and (not credit or posting):
        issues.error(Messages.NO_LINE_ITEMS)
    if posting:
        if "Date" not in record:
            issues.error(Messages.DATE_MISSING)
        if not credit and "DueDate" not in record:
            issues.error(Messages.DUE_DATE_MISSING)
    _finish_lines(w, element, record, prepared, unit_dp, client_tax=True)
    note_discounts(record)

    if existing is not None and allocated and _content_changed(existing, record, contact_before):
        issues.error(Messages.ALLOCATED_EDIT)
    if new_status in ("AUTHORISED", "SUBMITTED") and (status_changed or existing is None):
        _check_lock_dates(w, record, issues)

    number = record.get(number_field)
    if receivable and number not in (None, ""):
        id_field = "CreditNoteID" if credit else "InvoiceID"
        other = w.by_number(resource, str(number))
        if (
            other is not None
            and other.get("Type") == kind
            and other.get(id_field) != (existing or {}).get(id_field)
        ):
            issues.error(Messages.CREDIT_NUMBER_TAKEN if credit else Messages.INVOICE_NUMBER_TAKEN)
    elif receivable and not issues.errors:
        record[number_field] = w.next_number(resource, "CN" if credit else "INV")

    settled = ZERO if existing is None else _settled_amount(existing, credit)
    if credit:
        record["RemainingCredit"] = record["Total"] - settled
        record.setdefault("AppliedAmount", ZERO)
        record.setdefault("Allocations", [])
    else:
        record["AmountPaid"] = _amount(record, "AmountPaid")
        record["AmountCredited"] = _amount(record, "AmountCredited")
        # A voided or deleted invoice is owed by no one (as the seed's documents show it).
        cancelled = new_status in ("VOIDED", "DELETED")
        record["AmountDue"] = ZERO if cancelled else record["Total"] - settled
        record.setdefault("Prepayments", [])
        record.setdefault("Overpayments", [])
        record.setdefault("CreditNotes", [])
    record.setdefault("Payments", [])
    record["HasAttachments"] = bool(record.get("HasAttachments", False))
    record["HasErrors"] = False
    return record


def _amount(record: Mapping[str, Any], name: str, default: Decimal = ZERO) -> Decimal:
    value = record.get(name)
    return default if value is None else Decimal(str(value))


def _settled_amount(document: Mapping[str, Any], credit: bool) -> Decimal:
    """How much of a document payments and allocations have settled so far."""
    if credit:
        total = _amount(document, "Total")
        return total - _amount(document, "RemainingCredit", total)
    return _amount(document, "AmountPaid") + _amount(document, "AmountCredited")


def _content_changed(existing: Record, record: Record, contact_before: Any) -> bool:
    """True when a paid document's amounts, contact or dates would change (§2.3)."""
    if record.get("Contact", {}).get("ContactID") != contact_before:
        return True
    for name in ("Total", "LineAmountTypes", "CurrencyCode", "Date"):
        if str(existing.get(name)) != str(record.get(name)):
            return True
    return False


def build_invoice(w: Writer, element: Element) -> Record:
    """An invoice or bill."""
    return _invoice_like(w, element, credit=False)


def build_credit_note(w: Writer, element: Element) -> Record:
    """A credit note."""
    return _invoice_like(w, element, credit=True)


def build_contact(w: Writer, element: Element) -> Record:
    """A contact: Name required and unique among active contacts; ContactNumber unique (§1)."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    if existing is not None and existing.get("ContactStatus") == "ARCHIVED":
        issues.error(Messages.ARCHIVED_CONTACT_EDIT)
    record = _merge(existing, sent)
    _text_fields(
        record,
        element,
        (
            "Name",
            "ContactNumber",
            "AccountNumber",
            "FirstName",
            "LastName",
            "CompanyNumber",
            "EmailAddress",
            "TaxNumber",
            "BankAccountDetails",
            "AccountsReceivableTaxType",
            "AccountsPayableTaxType",
            "DefaultCurrency",
        ),
    )
    if sent.get("ContactStatus") is not None:
        status = as_enum(
            sent["ContactStatus"],
            ("ACTIVE", "ARCHIVED", "GDPRREQUEST"),
            "ContactStatus",
            f"{path}.ContactStatus",
        )
        record["ContactStatus"] = status
    record.setdefault("ContactStatus", "ACTIVE")
    name = str(record.get("Name") or "").strip()
    if not name:
        issues.error(Messages.CONTACT_NAME_EMPTY)
    record["Name"] = name
    contact_id = (existing or {}).get("ContactID")
    if name and (existing is None or name.lower() != str(existing.get("Name", "")).lower()):
        other = _active_contact_named(w, name)
        if other is not None and other.get("ContactID") != contact_id:
            issues.error(Messages.contact_name_taken(name))
    number = record.get("ContactNumber")
    if number not in (None, "") and (existing is None or number != existing.get("ContactNumber")):
        other = w.by_number("Contacts", str(number))
        if other is not None and other.get("ContactID") != contact_id:
            issues.error(Messages.CONTACT_NUMBER_TAKEN)
    account_number = record.get("AccountNumber")
    if account_number not in (None, "") and (
        existing is None or account_number != existing.get("AccountNumber")
    ):
        for other in w.store.iter_containing(w.tenant_id, "Contacts", account_number):
            if (
                other.get("AccountNumber") == account_number
                and other.get("ContactID") != contact_id
            ):
                issues.error(Messages.ACCOUNT_NUMBER_TAKEN)
                break
    email = record.get("EmailAddress")
    if email not in (None, "") and not valid_email(str(email)):
        issues.error(Messages.EMAIL_INVALID)
    for name_field in ("Addresses", "Phones", "ContactPersons"):
        value = record.get(name_field)
        if value is not None and not isinstance(value, list):
            raise PostDataInvalid(
                "Cannot deserialize the current JSON object into type 'System.Collections.Generic."
                f"List`1'. Path '{path}.{name_field}'."
            )
        record.setdefault(name_field, [])
    record.setdefault("ContactGroups", [])
    record.setdefault("IsSupplier", False)
    record.setdefault("IsCustomer", False)
    record["HasAttachments"] = bool(record.get("HasAttachments", False))
    record["HasValidationErrors"] = False
    return record


def _match_contact(w: Writer, sent: Record, path: str) -> Record | None:
    if sent.get("ContactNumber") not in (None, ""):
        found = w.by_number("Contacts", as_text(sent["ContactNumber"], f"{path}.ContactNumber"))
        if found is not None:
            return found
    if sent.get("Name") not in (None, ""):
        return _active_contact_named(w, as_text(sent["Name"], f"{path}.Name"))
    return None


def _match_number(resource: str, number_field: str, unique_type: str | None = None) -> Matcher:
    """Match a POST element to the record with its number.

    With ``unique_type`` only documents of that type match: ACCPAY bill numbers (and
    ACCPAYCREDIT numbers) repeat, so they never identify a record.
    """

    def match(w: Writer, sent: Record, path: str) -> Record | None:
        number = sent.get(number_field)
        if number in (None, ""):
            return None
        if unique_type is not None and sent.get("Type", unique_type) != unique_type:
            return None
        found = w.by_number(resource, as_text(number, f"{path}.{number_field}"))
        if found is not None and unique_type is not None and found.get("Type") != unique_type:
            return None
        return found

    return match


def build_item(w: Writer, element: Element) -> Record:
    """An item: Code required and unique (§5)."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    record = _merge(existing, sent)
    _text_fields(
        record,
        element,
        ("Code", "Name", "Description", "PurchaseDescription", "InventoryAssetAccountCode"),
    )
    _bool_fields(record, element, ("IsSold", "IsPurchased"))
    code = str(record.get("Code") or "").strip()
    if not code:
        issues.error(Messages.ITEM_CODE_MISSING)
    elif existing is None or code != existing.get("Code"):
        other = w.by_number("Items", code)
        if other is not None and other.get("ItemID") != (existing or {}).get("ItemID"):
            issues.error(Messages.item_code_taken(code))
    record["Code"] = code
    for side in ("SalesDetails", "PurchaseDetails"):
        details = record.get(side)
        if details is None:
            continue
        if not isinstance(details, dict):
            raise PostDataInvalid(
                f"Error converting value \"{details}\" to type 'Xero.API.Library..Purchase'. "
                f"Path '{path}.{side}'."
            )
        details = dict(details)
        if details.get("UnitPrice") is not None:
            price = as_decimal(details["UnitPrice"], f"{path}.{side}.UnitPrice")
            details["UnitPrice"] = unit(price, w.unit_dp)
        code_in = details.get("AccountCode")
        if code_in not in (None, "") and w.account(code=str(code_in)) is None:
            issues.warn(Messages.account_code_removed(str(code_in)))
            details.pop("AccountCode")
        record[side] = details
    record.setdefault("IsSold", True)
    record.setdefault("IsPurchased", True)
    record["IsTrackedAsInventory"] = bool(record.get("InventoryAssetAccountCode"))
    return record


def build_account(w: Writer, element: Element) -> Record:
    """An account: Code (≤10) and Name unique, Type required; archive alone (§10)."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    record = _merge(existing, sent)
    _text_fields(
        record,
        element,
        (
            "Code",
            "Name",
            "Description",
            "BankAccountNumber",
            "TaxType",
            "CurrencyCode",
            "ReportingCode",
        ),
    )
    _bool_fields(
        record, element, ("EnablePaymentsToAccount", "ShowInExpenseClaims", "AddToWatchlist")
    )
    if sent.get("Type") is not None:
        record["Type"] = as_enum(sent["Type"], ACCOUNT_TYPES, "AccountType", f"{path}.Type")
    if sent.get("Status") is not None:
        record["Status"] = as_enum(
            sent["Status"], ("ACTIVE", "ARCHIVED", "DELETED"), "AccountStatus", f"{path}.Status"
        )
    if existing is not None and sent.get("Status") not in (None, existing.get("Status")):
        details = {
            k for k in sent if k not in ("Status", "AccountID") and sent[k] != existing.get(k)
        }
        if details:
            issues.error(Messages.ACCOUNT_STATUS_AND_DETAILS)
    code = str(record.get("Code") or "")
    if code and (existing is None or code.lower() != str(existing.get("Code", "")).lower()):
        other = w.account(code=code)
        if other is not None and other.get("AccountID") != (existing or {}).get("AccountID"):
            issues.error(Messages.ACCOUNT_CODE_TAKEN)
    name = str(record.get("Name") or "")
    if not name:
        issues.error(Messages.ACCOUNT_NAME_MISSING)
    elif existing is None or name.lower() != str(existing.get("Name", "")).lower():
        for other in w.store.iter_records(w.tenant_id, "Accounts"):
            if str(other.get("Name", "")).lower() == name.lower() and other.get("AccountID") != (
                existing or {}
            ).get("AccountID"):
                issues.error(Messages.ACCOUNT_NAME_TAKEN)
                break
    if not record.get("Type"):
        issues.error(Messages.ACCOUNT_TYPE_MISSING)
    elif record["Type"] == "BANK" and not record.get("BankAccountNumber"):
        issues.error(Messages.BANK_ACCOUNT_NUMBER_MISSING)
    if record.get("TaxType") and w.tax_rate(str(record["TaxType"])) is None:
        issues.error(Messages.tax_type_unknown(str(record["TaxType"])))
    record.setdefault("Status", "ACTIVE")
    record["Class"] = ACCOUNT_CLASS.get(str(record.get("Type")), "EXPENSE")
    record.setdefault("EnablePaymentsToAccount", False)
    record.setdefault("ShowInExpenseClaims", False)
    record.setdefault("HasAttachments", False)
    if record.get("Type") == "BANK":
        record.setdefault("BankAccountType", "BANK")
        record.setdefault("CurrencyCode", w.base_currency())

    def forget_cache() -> None:
        w.ledger.forget(w.tenant_id)

    element.after_save.append(forget_cache)
    return record


def _resolve_account_ref(w: Writer, sent: Any, path: str) -> Record | None:
    if not isinstance(sent, dict):
        return None
    if sent.get("AccountID") not in (None, ""):
        return w.account(account_id=as_guid(sent["AccountID"], f"{path}.AccountID"))
    if sent.get("Code") not in (None, ""):
        return w.account(code=as_text(sent["Code"], f"{path}.Code"))
    return None


def _account_summary(account: Record) -> Record:
    return {k: account[k] for k in ("AccountID", "Code", "Name") if k in account}


def build_bank_transaction(w: Writer, element: Element) -> Record:
    """A spend or receive money transaction (§7): tax must match, totals must not be echoed."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    record = _merge(existing, sent)
    if existing is None:
        kind = sent.get("Type")
        if kind in (None, ""):
            issues.error(Messages.BANK_TRANSACTION_TYPE_MISSING)
        else:
            kind = as_enum(kind, BANK_TRANSACTION_TYPES, "BankTransactionType", f"{path}.Type")
            if kind.endswith("TRANSFER"):
                issues.error(Messages.TRANSFER_TYPE.format(type=kind))
    else:
        record["Type"] = existing["Type"]
    old_status = existing.get("Status") if existing else None
    status = _status(element, ("AUTHORISED", "DELETED", "VOIDED"), "BankTransactionStatus")
    new_status = status or old_status or "AUTHORISED"
    allowed = {None: {"AUTHORISED"}, "AUTHORISED": {"AUTHORISED", "DELETED"}}.get(old_status, set())
    if existing is not None and record.get("Type") not in ("SPEND", "RECEIVE"):
        allowed = set()
    if new_status not in allowed:
        issues.error(Messages.status_not_applicable(new_status))
    record["Status"] = new_status
    _resolve_contact(w, element, record, may_create=True)
    if "BankAccount" in sent or existing is None:
        bank = _resolve_account_ref(w, sent.get("BankAccount"), f"{path}.BankAccount")
        if sent.get("BankAccount") is None:
            issues.error(Messages.BANK_ACCOUNT_MISSING)
        elif bank is None:
            issues.error(Messages.ACCOUNT_NOT_FOUND)
        elif bank.get("Type") != "BANK":
            issues.error(Messages.PAYMENT_ACCOUNT_TYPE)
        if bank is not None:
            record["BankAccount"] = _account_summary(bank)
    _text_fields(record, element, ("Reference", "CurrencyCode"))
    _bool_fields(record, element, ("IsReconciled",))
    _set_date(record, element, "Date", "DateString", w.today())
    record.setdefault("IsReconciled", False)
    record.setdefault("CurrencyCode", w.base_currency())
    record.setdefault("CurrencyRate", Decimal("1.0000000000"))
    kind = str(record.get("Type") or "")
    credit_kind = kind.split("-", 1)[1] if kind.endswith(("-OVERPAYMENT", "-PREPAYMENT")) else ""
    if credit_kind == "OVERPAYMENT" and existing is None:
        element = _coded_to_control_account(w, element, kind)
    mode = _line_amount_types(element, record, "Inclusive")
    policy = LinePolicy(
        unit_dp=_unit_dp(w, element),
        requires_account=True,
        forbidden_account_types=frozenset({"BANK"}),
    )
    prepared = _lines(w, element, record, "LineItems", mode, policy, client_tax=False)
    if not prepared:
        issues.error(Messages.NO_LINE_ITEMS)
    _finish_lines(w, element, record, prepared, _unit_dp(w, element), client_tax=False)
    record.pop("TotalDiscount", None)
    for name in ("SubTotal", "TotalTax", "Total"):
        echoed = sent.get(name)
        if echoed is not None and as_decimal(echoed, f"{path}.{name}") != record[name]:
            issues.error(Messages.SUBTOTAL_MISMATCH)
    if new_status == "AUTHORISED" and old_status is None:
        _check_lock_dates(w, record, issues)
    record.setdefault("HasAttachments", False)
    if credit_kind and existing is None:
        _leave_credit(w, element, record, credit_kind)
    return record


def _coded_to_control_account(w: Writer, element: Element, kind: str) -> Element:
    """Overpayment lines are coded to the receivable/payable control account, without tax."""
    system = "DEBTORS" if kind.startswith("RECEIVE") else "CREDITORS"
    control = w.ledger.system_account(w.tenant_id, system)
    lines = element.sent.get("LineItems")
    if not isinstance(lines, list):
        return element
    recoded = [
        {**line, "AccountCode": control["Code"], "TaxType": "NONE"}
        if isinstance(line, dict)
        else line
        for line in lines
    ]
    sent = {**element.sent, "LineItems": recoded, "LineAmountTypes": "NoTax"}
    return Element(
        sent,
        element.path,
        element.existing,
        element.issues,
        element.before_save,
        element.after_save,
    )


def _leave_credit(w: Writer, element: Element, transaction: Record, kind: str) -> None:
    """A RECEIVE/SPEND-OVERPAYMENT or -PREPAYMENT transaction leaves a credit to allocate."""
    resource, key = (
        ("Overpayments", "OverpaymentID")
        if kind == "OVERPAYMENT"
        else ("Prepayments", "PrepaymentID")
    )
    credit_id = str(uuid.uuid4())
    transaction[key] = credit_id

    def save_credit() -> None:
        credit: Record = {
            "Type": transaction["Type"],
            key: credit_id,
            "Contact": transaction.get("Contact"),
            "Date": transaction["Date"],
            "Status": "AUTHORISED",
            "LineAmountTypes": transaction["LineAmountTypes"],
            "LineItems": [dict(line) for line in transaction["LineItems"]],
            "SubTotal": transaction["SubTotal"],
            "TotalTax": transaction["TotalTax"],
            "Total": transaction["Total"],
            "CurrencyCode": transaction["CurrencyCode"],
            "CurrencyRate": transaction["CurrencyRate"],
            "RemainingCredit": transaction["Total"],
            "Allocations": [],
            "Payments": [],
            "HasAttachments": False,
            "Reference": transaction.get("Reference", ""),
        }
        w.stamp(credit, with_string=True)
        w.save(resource, credit)

    element.after_save.append(save_credit)


_JOURNAL_TRANSITIONS: Mapping[str | None, frozenset[str]] = {
    None: frozenset({"DRAFT", "POSTED"}),
    "DRAFT": frozenset({"DRAFT", "POSTED", "DELETED"}),
    "POSTED": frozenset({"POSTED", "VOIDED"}),
}


def build_manual_journal(w: Writer, element: Element) -> Record:
    """A manual journal (§6): lines must balance once POSTED; unknown accounts drop the line."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    record = _merge(existing, sent)
    _text_fields(record, element, ("Narration",))
    _bool_fields(record, element, ("ShowOnCashBasisReports",))
    if not str(record.get("Narration") or "").strip():
        issues.error(Messages.NARRATION_MISSING)
    old_status = existing.get("Status") if existing else None
    new_status = str(sent["Status"]) if sent.get("Status") is not None else (old_status or "DRAFT")
    if new_status not in _JOURNAL_TRANSITIONS.get(old_status, frozenset()):
        issues.error(Messages.status_not_applicable(new_status))
    record["Status"] = new_status
    _set_date(record, element, "Date", None, w.today())
    record.setdefault("ShowOnCashBasisReports", True)
    record.pop("CurrencyCode", None)
    mode = _line_amount_types(element, record, NO_TAX)
    policy = LinePolicy(unit_dp=2, default_tax_from_account=mode != NO_TAX)
    source = (
        sent.get("JournalLines")
        if "JournalLines" in sent
        else (existing or {}).get("JournalLines", [])
    )
    if not isinstance(source, list):
        raise PostDataInvalid(
            "Cannot deserialize the current JSON object into type 'System.Collections.Generic."
            f"List`1[Xero.API.Library..ManualJournalLine]'. Path '{path}.JournalLines'."
        )
    lines: list[Record] = []
    rates = w.ledger.tax_rates(w.tenant_id)
    for index, raw in enumerate(source):
        line_path = f"{path}.JournalLines[{index}]"
        if not isinstance(raw, dict):
            raise PostDataInvalid(
                f"Unexpected character encountered while parsing value. Path '{line_path}'."
            )
        amount = as_decimal(raw.get("LineAmount", 0), f"{line_path}.LineAmount")
        line, _ = prepare_line(
            {k: v for k, v in raw.items() if k not in ("LineAmount", "TaxAmount")},
            line_path,
            mode,
            policy,
            w,
            issues,
        )
        if not line.get("AccountID"):
            continue  # unknown account: the line is removed with a warning
        holder: Record = {"LineAmountTypes": mode, "LineItems": [{**line, "LineAmount": amount}]}
        compute_totals(holder, rates)
        computed = holder["LineItems"][0]
        out: Record = {
            "LineAmount": computed["LineAmount"],
            "AccountCode": line["AccountCode"],
            "AccountID": line["AccountID"],
            "Description": str(line.get("Description", "")),
            "TaxType": str(line.get("TaxType") or "NONE"),
            "TaxAmount": computed["TaxAmount"],
            "Tracking": line.get("Tracking", []),
            "IsBlank": False,
        }
        lines.append(out)
    record["JournalLines"] = lines
    if new_status == "POSTED":
        debits = sum((line["LineAmount"] for line in lines if line["LineAmount"] > 0), ZERO)
        credits = sum((line["LineAmount"] for line in lines if line["LineAmount"] < 0), ZERO)
        if debits + credits != 0 or not lines:
            issues.error(Messages.journal_unbalanced(debits, credits))
        if old_status != "POSTED":
            _check_lock_dates(w, record, issues)
    record.setdefault("HasAttachments", False)
    return record


_PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}
_PAYMENT_TARGETS = ("Invoice", "CreditNote", "Prepayment", "Overpayment")


def build_payment(w: Writer, element: Element) -> Record:
    """A payment against one AUTHORISED invoice or credit note, at most its amount due (§4)."""
    sent, issues, path = element.sent, element.issues, element.path
    if element.existing is not None:
        return _payment_status_update(w, element, element.existing)
    record = _merge(None, sent)
    targets = [name for name in _PAYMENT_TARGETS if isinstance(sent.get(name), dict)]
    if len(targets) > 1:
        issues.error(Messages.PAYMENT_MANY_DOCUMENTS)
    document, resource = _payment_document(w, element, targets)
    account = _resolve_account_ref(w, sent.get("Account"), f"{path}.Account")
    if account is None:
        issues.error(Messages.ACCOUNT_NOT_FOUND)
    elif account.get("Type") != "BANK" and not account.get("EnablePaymentsToAccount"):
        issues.error(Messages.PAYMENT_ACCOUNT_TYPE)
    if account is not None:
        record["Account"] = _account_summary(account)
    amount = None
    if sent.get("Amount") is None:
        issues.error(Messages.AMOUNT_MISSING)
    else:
        amount = as_decimal(sent["Amount"], f"{path}.Amount").quantize(Decimal("0.01"))
        record["Amount"] = amount
        if amount <= 0:
            issues.error(Messages.AMOUNT_NOT_POSITIVE)
    _set_date(record, element, "Date", None, w.today())
    _text_fields(record, element, ("Reference",))
    _bool_fields(record, element, ("IsReconciled",))
    if sent.get("CurrencyRate") is not None:
        record["CurrencyRate"] = as_decimal(sent["CurrencyRate"], f"{path}.CurrencyRate")
    record.setdefault("CurrencyRate", Decimal("1.0000000000"))
    record.setdefault("IsReconciled", False)
    record["Status"] = "AUTHORISED"
    record["HasAccount"] = True
    record["HasValidationErrors"] = False
    outstanding = ZERO
    if document is not None:
        kind = str(document.get("Type"))
        record["PaymentType"] = _PAYMENT_TYPES.get(kind, "ACCRECPAYMENT")
        outstanding = Decimal(
            str(
                document.get("AmountDue")
                if resource == "Invoices"
                else document.get("RemainingCredit", 0)
            )
        )
        if document.get("Status") != "AUTHORISED":
            issues.error(Messages.PAYMENT_DOCUMENT_STATUS)
        elif amount is not None and amount > outstanding:
            issues.error(Messages.PAYMENT_EXCEEDS)
        _check_lock_dates(w, record, issues)
    if amount is not None:
        record["BankAmount"] = amount
    if document is not None and resource is not None and amount is not None:
        settled = _apply_payment(w, resource, document, record, amount)
        record[targets[0] if targets else "Invoice"] = _document_summary(settled, resource)

        def save_document() -> None:
            w.save(resource, settled)
            w.post_journals(resource, settled)
            w.notify(_WEBHOOKS.get(resource), "UPDATE", settled[_ID_FIELDS[resource]], settled)

        element.after_save.append(save_document)
    return record


_ID_FIELDS = {"Invoices": "InvoiceID", "CreditNotes": "CreditNoteID"}
_WEBHOOKS = {"Invoices": "INVOICE", "CreditNotes": "CREDITNOTE"}


def _payment_document(
    w: Writer, element: Element, targets: list[str]
) -> tuple[Record | None, str | None]:
    sent, issues, path = element.sent, element.issues, element.path
    if not targets:
        issues.error(Messages.INVOICE_NOT_FOUND)
        return None, None
    target = targets[0]
    ref = sent[target]
    if target == "Invoice":
        resource, id_field, number_field, missing = (
            "Invoices",
            "InvoiceID",
            "InvoiceNumber",
            Messages.INVOICE_NOT_FOUND,
        )
    elif target == "CreditNote":
        resource, id_field, number_field, missing = (
            "CreditNotes",
            "CreditNoteID",
            "CreditNoteNumber",
            Messages.CREDIT_NOTE_NOT_FOUND,
        )
    else:
        issues.error(Messages.PAYMENT_DOCUMENT_STATUS)
        return None, None
    document = None
    if ref.get(id_field) not in (None, ""):
        document = w.get(resource, as_guid(ref[id_field], f"{path}.{target}.{id_field}"))
    elif ref.get(number_field) not in (None, ""):
        document = w.by_number(
            resource, as_text(ref[number_field], f"{path}.{target}.{number_field}")
        )
    if document is None:
        issues.error(missing)
        return None, None
    return document, resource


def _document_summary(document: Record, resource: str) -> Record:
    keep = (
        _ID_FIELDS[resource],
        "InvoiceNumber",
        "CreditNoteNumber",
        "Type",
        "Status",
        "Contact",
        "Total",
        "AmountDue",
        "AmountPaid",
        "AmountCredited",
        "RemainingCredit",
        "CurrencyCode",
        "IsDiscounted",
        "HasErrors",
        "LineItems",
    )
    summary = {k: document[k] for k in keep if k in document}
    if "Contact" in summary:
        contact = summary["Contact"]
        summary["Contact"] = {k: contact[k] for k in ("ContactID", "Name") if k in contact}
    return summary


def _apply_payment(
    w: Writer, resource: str, document: Record, payment: Record, amount: Decimal
) -> Record:
    """The document after a payment of ``amount`` (negative to undo one)."""
    settled = dict(document)
    payments = [
        p for p in settled.get("Payments") or [] if p.get("PaymentID") != payment.get("PaymentID")
    ]
    if amount > 0:
        payments.append(
            {
                "PaymentID": payment.get("PaymentID", ZERO_GUID),
                "Date": payment["Date"],
                "Amount": amount,
                "Reference": payment.get("Reference", ""),
                "CurrencyRate": payment.get("CurrencyRate", Decimal("1.0000000000")),
                "HasAccount": True,
                "HasValidationErrors": False,
            }
        )
    settled["Payments"] = payments
    if resource == "Invoices":
        settled["AmountPaid"] = _amount(settled, "AmountPaid") + amount
        due = _amount(settled, "AmountDue") - amount
        settled["AmountDue"] = due
    else:
        due = _amount(settled, "RemainingCredit") - amount
        settled["RemainingCredit"] = due
    if due == 0 and settled.get("Status") == "AUTHORISED":
        settled["Status"] = "PAID"
        settled["FullyPaidOnDate"] = payment["Date"]
    elif due != 0 and settled.get("Status") == "PAID":
        settled["Status"] = "AUTHORISED"
        settled.pop("FullyPaidOnDate", None)
    w.stamp(settled, with_string=True)
    return settled


def _payment_status_update(w: Writer, element: Element, existing: Record) -> Record:
    """POST /Payments/{id}: only ``{"Status": "DELETED"}`` is accepted (§4)."""
    sent, issues = element.sent, element.issues
    record = dict(existing)
    extra = [k for k in sent if k not in ("Status", "PaymentID")]
    status = sent.get("Status")
    if extra or status is None:
        issues.error(Messages.PAYMENT_ONLY_STATUS)
        return record
    status = as_enum(status, ("AUTHORISED", "DELETED"), "PaymentStatus", f"{element.path}.Status")
    if existing.get("Status") == "DELETED" or status != "DELETED":
        issues.error(Messages.PAYMENT_STATUS)
        return record
    record["Status"] = "DELETED"
    target = "Invoice" if "Invoice" in existing else "CreditNote"
    resource = "Invoices" if target == "Invoice" else "CreditNotes"
    ref = existing.get(target) or {}
    document = w.get(resource, str(ref.get(_ID_FIELDS[resource], "")))
    if document is not None:
        amount = Decimal(str(existing["Amount"]))
        settled = _apply_payment(w, resource, document, existing, -amount)
        record[target] = _document_summary(settled, resource)

        def save_document() -> None:
            w.save(resource, settled)
            w.post_journals(resource, settled)
            w.notify(_WEBHOOKS[resource], "UPDATE", settled[_ID_FIELDS[resource]], settled)

        element.after_save.append(save_document)
    return record


_PO_TRANSITIONS: Mapping[str | None, frozenset[str]] = {
    None: frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"}),
    "DRAFT": frozenset({"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"}),
    "SUBMITTED": frozenset({"SUBMITTED", "AUTHORISED", "DRAFT", "DELETED"}),
    "AUTHORISED": frozenset({"AUTHORISED", "BILLED", "DELETED"}),
    "BILLED": frozenset({"BILLED"}),
}
_QUOTE_TRANSITIONS: Mapping[str | None, frozenset[str]] = {
    None: frozenset({"DRAFT", "SENT"}),
    "DRAFT": frozenset({"DRAFT", "SENT", "DELETED"}),
    "SENT": frozenset({"SENT", "DRAFT", "ACCEPTED", "DECLINED", "DELETED"}),
    "ACCEPTED": frozenset({"ACCEPTED", "SENT", "INVOICED"}),
    "DECLINED": frozenset({"DECLINED", "SENT", "DELETED"}),
    "INVOICED": frozenset({"INVOICED"}),
}


def _order_like(w: Writer, element: Element, *, quote: bool) -> Record:
    """PurchaseOrders and Quotes: non-posting documents with 4-dp unit amounts (§8, §9)."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    record = _merge(existing, sent)
    resource = "Quotes" if quote else "PurchaseOrders"
    number_field = "QuoteNumber" if quote else "PurchaseOrderNumber"
    id_field = "QuoteID" if quote else "PurchaseOrderID"
    old_status = existing.get("Status") if existing else None
    statuses = (
        ("DRAFT", "SENT", "DECLINED", "ACCEPTED", "INVOICED", "DELETED")
        if quote
        else ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED")
    )
    status = _status(element, statuses, "QuoteStatusCodes" if quote else "PurchaseOrderStatus")
    new_status = status or old_status or "DRAFT"
    table = _QUOTE_TRANSITIONS if quote else _PO_TRANSITIONS
    if new_status not in table.get(old_status, frozenset()):
        issues.error(Messages.status_not_applicable(new_status))
    record["Status"] = new_status
    _resolve_contact(w, element, record, may_create=quote)
    text: tuple[str, ...] = ("Reference", "CurrencyCode", number_field)
    text += (
        ("Terms", "Title", "Summary")
        if quote
        else ("DeliveryAddress", "AttentionTo", "Telephone", "DeliveryInstructions")
    )
    _text_fields(record, element, text)
    _set_date(record, element, "Date", "DateString", w.today() if existing is None else None)
    if quote:
        _set_date(record, element, "ExpiryDate", "ExpiryDateString")
    else:
        _set_date(record, element, "DeliveryDate")
        _set_date(record, element, "ExpectedArrivalDate")
        if sent.get("SentToContact") is not None:
            wanted = as_bool(sent["SentToContact"], f"{path}.SentToContact")
            if new_status in ("AUTHORISED", "BILLED"):
                record["SentToContact"] = wanted
            else:
                issues.warn(Messages.SENT_TO_CONTACT)
                record["SentToContact"] = (existing or {}).get("SentToContact", False)
        record.setdefault("SentToContact", False)
    record.setdefault("CurrencyCode", w.base_currency())
    record.setdefault("CurrencyRate", Decimal("1.0000000000"))
    if quote:
        if sent.get("LineAmountTypes") is not None:
            wire = as_enum(
                sent["LineAmountTypes"],
                tuple(QUOTE_LINE_AMOUNT_TYPES),
                "QuoteLineAmountTypes",
                f"{path}.LineAmountTypes",
            )
        else:
            wire = str(record.get("LineAmountTypes") or "EXCLUSIVE")
        mode = QUOTE_LINE_AMOUNT_TYPES.get(wire, "Exclusive")
    else:
        mode = _line_amount_types(element, record, "Exclusive")
    policy = LinePolicy(unit_dp=4, forbidden_account_types=frozenset({"BANK"}))
    prepared = _lines(w, element, record, "LineItems", mode, policy, client_tax=False)
    if not prepared and (existing is None or "LineItems" in sent):
        issues.error(Messages.NO_LINE_ITEMS)
    record["LineAmountTypes"] = mode
    _finish_lines(w, element, record, prepared, 4, client_tax=False)
    note_discounts(record, flag=not quote)
    if quote:
        record["LineAmountTypes"] = wire
    number = record.get(number_field)
    if number not in (None, ""):
        other = w.by_number(resource, str(number))
        if other is not None and other.get(id_field) != (existing or {}).get(id_field):
            issues.error(Messages.QUOTE_NUMBER_TAKEN if quote else Messages.ORDER_NUMBER_TAKEN)
    elif not issues.errors:
        record[number_field] = w.next_number(resource, "QU" if quote else "PO")
    if not quote:
        record["Type"] = "PURCHASEORDER"
        record.setdefault("HasAttachments", False)
    return record


def build_purchase_order(w: Writer, element: Element) -> Record:
    """A purchase order."""
    return _order_like(w, element, quote=False)


def build_quote(w: Writer, element: Element) -> Record:
    """A quote."""
    return _order_like(w, element, quote=True)


TRACKING_STATUSES = ("ACTIVE", "ARCHIVED", "DELETED")
MAX_ACTIVE_TRACKING_CATEGORIES = 2


def _tracking_name(element: Element, record: Record, what: str, siblings: list[Record]) -> None:
    """Name required and unique among ``siblings`` ignoring case."""
    _text_fields(record, element, ("Name",))
    name = str(record.get("Name") or "").strip()
    record["Name"] = name
    if not name:
        element.issues.error(Messages.tracking_name_missing(what))
    elif any(str(other.get("Name", "")).casefold() == name.casefold() for other in siblings):
        element.issues.error(Messages.tracking_name_taken(what, name))


def build_tracking_category(w: Writer, element: Element) -> Record:
    """A tracking category (one per request): Name unique, at most two ACTIVE at a time.

    Status moves between ACTIVE and ARCHIVED here; DELETED is the DELETE verb's (not served).
    """
    existing, sent, issues = element.existing, element.sent, element.issues
    record = _merge(existing, sent)
    category_id = (existing or {}).get("TrackingCategoryID")
    others = [
        other
        for other in w.store.iter_records(w.tenant_id, "TrackingCategories")
        if other.get("TrackingCategoryID") != category_id
    ]
    _tracking_name(element, record, "Tracking Category", others)
    status = _status(element, TRACKING_STATUSES, "TrackingCategoryStatus")
    record["Status"] = status or record.get("Status") or "ACTIVE"
    if status == "DELETED":
        issues.error(Messages.status_not_applicable(status))
    becomes_active = record["Status"] == "ACTIVE" and (existing or {}).get("Status") != "ACTIVE"
    active = sum(1 for other in others if other.get("Status") == "ACTIVE")
    if becomes_active and active >= MAX_ACTIVE_TRACKING_CATEGORIES:
        issues.error(Messages.TRACKING_ACTIVE_LIMIT)
    record.setdefault("Options", [])
    return record


def build_tracking_option(w: Writer, element: Element) -> Record:
    """An option added to the tracking category named in the URL: Name unique within it."""
    category = w.parent or {}
    record = _merge(None, element.sent)
    _tracking_name(element, record, "Tracking Option", list(category.get("Options") or []))
    status = _status(element, TRACKING_STATUSES, "TrackingOptionStatus")
    record["Status"] = status or "ACTIVE"
    if status == "DELETED":
        element.issues.error(Messages.status_not_applicable(status))
    return record


# ---------------------------------------------------------------------------------------------
# the table


def _props(names: str) -> frozenset[str]:
    """Property names of a spec schema (xero_accounting.yaml 16.1.0), space-separated."""
    return frozenset(names.split())


_DOCUMENT = (
    "Contact LineItems Date LineAmountTypes Reference BrandingThemeID CurrencyCode CurrencyRate "
    "Status"
)
LINE_FIELDS = _props(
    "LineItemID Description Quantity UnitAmount ItemCode AccountCode AccountID TaxType TaxAmount "
    "LineAmount Tracking DiscountRate DiscountAmount RepeatingInvoiceID Taxability "
    "SalesTaxCodeId TaxBreakdown"
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


# ---------------------------------------------------------------------------------------------
# request plumbing


def _error_body(
    number: int, kind: str, message: str, elements: list[Record] | None = None
) -> Record:
    body: Record = {"ErrorNumber": number, "Type": kind, "Message": message}
    if elements is not None:
        body["Elements"] = elements
    return body


def _json(status: int, body: Any) -> Response:
    return Response(encode(body), status_code=status, media_type=JSON)


def _elements(spec: WriteResource, body: bytes) -> list[tuple[Record, str]]:
    """The request's elements with their JSON paths (a bare object or the plural envelope)."""
    if not body.strip():
        raise _no_data(spec)
    try:
        parsed = decode(body)
    except (msgspec.DecodeError, ValueError) as exc:
        raise PostDataInvalid(f"JSON request body could not be read, Error {exc}") from None
    except RecursionError:
        raise PostDataInvalid(_too_deep()) from None
    _check_depth(parsed)
    if isinstance(parsed, list):
        items, prefix = parsed, ""
    elif isinstance(parsed, dict):
        envelope = next((k for k in parsed if k.lower() == spec.collection.lower()), None)
        if envelope is not None:
            items, prefix = parsed[envelope], f"{envelope}"
            if isinstance(items, dict):
                items, prefix = [items], ""
            elif not isinstance(items, list):
                raise PostDataInvalid(
                    f"Unexpected character encountered while parsing value. Path '{envelope}'."
                )
        else:
            items, prefix = [parsed] if parsed else [], ""
    else:
        raise PostDataInvalid("JSON request body could not be read, Error unexpected JSON value")
    if not items:
        raise _no_data(spec)
    out = []
    for index, item in enumerate(items):
        path = f"{prefix}[{index}]" if prefix else ""
        if not isinstance(item, dict):
            raise PostDataInvalid(
                f"Unexpected character encountered while parsing value. Path '{path}'."
            )
        out.append((_without_nulls(item), path))
    return out


# Json.NET, which reads Xero's request bodies, refuses JSON nested deeper than 64 (its default
# MaxDepth); the sandbox does the same rather than recurse without bound.
MAX_JSON_DEPTH = 64


def _too_deep() -> str:
    return (
        "JSON request body could not be read, Error "
        f"The reader's MaxDepth of {MAX_JSON_DEPTH} has been exceeded."
    )


def _check_depth(parsed: Any) -> None:
    """PostDataInvalid when objects/arrays nest deeper than :data:`MAX_JSON_DEPTH`."""
    level: list[Any] = [parsed]
    depth = 0
    while level:
        containers = [v for v in level if isinstance(v, dict | list)]
        if not containers:
            return
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise PostDataInvalid(_too_deep())
        level = [
            child
            for value in containers
            for child in (value.values() if isinstance(value, dict) else value)
        ]


def _without_nulls(value: Any) -> Any:
    """JSON nulls count as "not sent" (Json.NET leaves the property unset), at any depth."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _no_data(spec: WriteResource) -> NoDataProcessed:
    if spec.collection == "Quotes":
        return NoDataProcessed(spec.entity, Messages.NO_QUOTES)
    return NoDataProcessed(spec.entity)


def _path(path: str, field_name: str) -> str:
    return f"{path}.{field_name}" if path else field_name


def _find_existing(
    w: Writer, spec: WriteResource, sent: Record, path: str, url_id: str | None
) -> tuple[Record | None, str | None]:
    """The stored record an element updates, or an error message when the ID is unknown."""
    if spec.parent is not None:
        return None, None  # sub-collection members are only added
    if url_id is not None:
        found = w.by_url_id(spec.collection, url_id)
        if found is None and spec.number_field:
            found = w.by_number(spec.collection, url_id)
        return (found, None) if found is not None else (None, spec.not_found or _not_found(spec))
    if sent.get(spec.id_field) not in (None, ""):
        record_id = as_guid(sent[spec.id_field], _path(path, spec.id_field))
        found = w.get(spec.collection, record_id)
        return (found, None) if found is not None else (None, spec.not_found or _not_found(spec))
    if w.method == "POST" and spec.match is not None:
        return spec.match(w, sent, path), None
    return None, None


def _not_found(spec: WriteResource) -> str:
    return f"An existing {spec.entity} with the specified {spec.id_field} could not be found"


@dataclass
class _Result:
    echo: Record
    failed: bool


def _process(
    w: Writer, spec: WriteResource, sent: Record, path: str, url_id: str | None
) -> _Result:
    """Validate one element and, when it passes, save it with its side effects."""
    existing, missing = _find_existing(w, spec, sent, path, url_id)
    if missing is not None:
        echo = dict(sent)
        echo["ValidationErrors"] = [{"Message": missing}]
        if spec.error_flag:
            echo[spec.error_flag] = True
        if spec.status_attribute:
            echo["StatusAttributeString"] = "ERROR"
        return _Result(echo, True)
    known = {k: v for k, v in sent.items() if k in spec.fields}
    element = Element(known, path, existing)
    record = spec.build(w, element)
    issues = element.issues
    check_lengths(spec.collection, record, issues)
    if element.new_contact is not None:  # a contact the document creates is held to its limits
        check_lengths("Contacts", element.new_contact, issues)
    echo_warnings = [{"Message": m} for m in issues.warnings]
    if issues.errors:
        echo = dict(record)
        echo[spec.id_field] = (existing or {}).get(spec.id_field, ZERO_GUID)
        echo["ValidationErrors"] = [{"Message": m} for m in issues.errors]
        if isinstance(echo.get("LineItems"), list):  # Xero lists each line's (empty) errors
            echo["LineItems"] = [{**item, "ValidationErrors": []} for item in echo["LineItems"]]
        if echo_warnings:
            echo["Warnings"] = echo_warnings
        if spec.error_flag:
            echo[spec.error_flag] = True
        if spec.status_attribute:
            echo["StatusAttributeString"] = "ERROR"
        return _Result(echo, True)
    record_id = (existing or {}).get(spec.id_field) or str(uuid.uuid4())
    record[spec.id_field] = record_id
    if spec.stamped:
        w.stamp(record, with_string=spec.with_updated_string)
    for step in element.before_save:
        step()
    if spec.parent is not None and w.parent is not None:
        w.parent[spec.collection] = [*(w.parent.get(spec.collection) or []), record]
        w.save(spec.parent, w.parent)
    else:
        w.save(spec.collection, record)
    if spec.journals:
        w.post_journals(spec.collection, record)
    for step in element.after_save:
        step()
    w.notify(spec.webhook, "UPDATE" if existing is not None else "CREATE", record_id, record)
    echo = dict(record)
    if echo_warnings:
        echo["Warnings"] = echo_warnings
    if spec.status_attribute:
        echo["StatusAttributeString"] = "WARNING" if echo_warnings else "OK"
    if spec.error_flag:
        echo["ValidationErrors"] = []
    return _Result(echo, False)


def _run(
    ctx: SandboxContext,
    spec: WriteResource,
    request_method: str,
    tenant_id: str,
    query: Mapping[str, str],
    body: bytes,
    url_id: str | None,
    parent_id: str | None = None,
) -> Response:
    """One write request, start to finish (everything but idempotency)."""
    unit_dp = 4 if spec.unitdp and query.get("unitdp") == "4" else 2
    w = Writer(ctx, tenant_id, request_method, unit_dp)
    if spec.parent is not None:
        w.parent = w.by_url_id(spec.parent, parent_id or "")
        if w.parent is None:
            return not_found()
    one_only = spec.single or url_id is not None
    try:
        elements = _elements(spec, body)
        if one_only or (spec.collection == "Payments" and request_method == "POST"):
            elements = elements[:1]
        # Other writers may take their turn between elements (a long request holds no one
        # up); a conversion error anywhere (ErrorNumber 14) still undoes the whole request, as
        # Xero rejects the body before it processes any element.
        with ctx.store.undoable(), ctx.store.transaction(), localcontext() as exact:
            exact.prec = 80  # Qty x Unit of two .NET-maximum decimals still rounds exactly
            results = []
            for sent, path in elements:
                results.append(_process(w, spec, sent, path, url_id))
                ctx.store.let_others_write()
    except PostDataInvalid as exc:
        ctx.ledger.forget(tenant_id)
        return _json(400, _error_body(14, "PostDataInvalidException", exc.message))
    except NoDataProcessed as exc:
        return _json(400, _error_body(17, "NoDataProcessedException", exc.message))
    if spec.collection == "Accounts":  # a report running meanwhile may have cached the old ones
        ctx.ledger.forget(tenant_id)
    for category, event_type, resource_id, data in w.events:
        ctx.webhooks.notify(tenant_id, category, event_type, resource_id, data=data)
    summarize = query.get("summarizeErrors", "true").lower() != "false" or not spec.summarize_param
    if summarize and any(r.failed for r in results):
        failed = [r.echo for r in results if r.failed]
        return _json(
            400, _error_body(10, "ValidationException", "A validation exception occurred", failed)
        )
    envelope: Record = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "xero-sandbox",
        "DateTimeUTC": f"/Date({w.now_ms})/",
        spec.collection: [r.echo for r in results],
    }
    return _json(200, envelope)


def _app_scope(request: Request, ctx: SandboxContext, tenant_id: str) -> str:
    app = getattr(request.state, "client_id", None) or ctx.config.client_id
    return f"{app}|{tenant_id}"


def _idempotency(ctx: SandboxContext) -> IdempotencyStore:
    store = ctx.extras.get("idempotency")
    if not isinstance(store, IdempotencyStore):
        store = IdempotencyStore(ctx.store, ctx.clock, ctx.config.idempotency_window_s)
        ctx.extras["idempotency"] = store
    return store


def _write_turn(ctx: SandboxContext, tenant_id: str) -> threading.Lock:
    """The lock one tenant's writes take in turn (lookup, write and save of a key included)."""
    turns: dict[str, threading.Lock] = ctx.extras.setdefault("writes.turns", {})
    return turns.setdefault(tenant_id, threading.Lock())


async def idempotent(request: Request, body: bytes, run: Callable[[], Response]) -> Response:
    """Answer a write through Xero's ``Idempotency-Key`` rules; ``run`` does the write.

    Without a key ``run`` simply runs. With one, a live key replays its stored answer (or refuses
    a different request) and a new key stores what ``run`` answered. All of it runs in a worker
    thread, holding the tenant's write turn: the event loop keeps serving other requests, and a
    concurrent retry of the same key waits for the saved answer. Any write endpoint of the
    sandbox can use this.
    """
    ctx: SandboxContext = request.app.state.ctx
    tenant_id = str(getattr(request.state, "tenant_id", "") or "")
    key = request.headers.get("Idempotency-Key")
    if key is not None and len(key) > MAX_KEY_LENGTH:
        return _json(400, _error_body(10, "ValidationException", key_too_long_message()))
    scope = _app_scope(request, ctx, tenant_id)
    request_print = fingerprint(request.method, request.url.path, request.url.query, body)

    def in_turn() -> Response:
        with _write_turn(ctx, tenant_id):
            if key is None:
                return run()
            return _replayed_or_run(ctx, (scope, key, request_print), run)

    return await run_in_threadpool(in_turn)


def _replayed_or_run(
    ctx: SandboxContext, keyed: tuple[str, str, str], run: Callable[[], Response]
) -> Response:
    scope, key, request_print = keyed
    store = _idempotency(ctx)
    found = store.lookup(scope, key, request_print)
    if isinstance(found, StoredResponse):
        return Response(found.body, status_code=found.status, media_type=found.content_type)
    if isinstance(found, KeyMismatch):
        return _json(400, _error_body(10, "ValidationException", mismatch_message(key)))
    response = run()
    store.save(
        scope, key, request_print, StoredResponse(response.status_code, JSON, bytes(response.body))
    )
    return response


def _handler(spec: WriteResource, with_id: bool) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        ctx: SandboxContext = request.app.state.ctx
        tenant_id = str(getattr(request.state, "tenant_id", "") or "")
        body = await request.body()
        url_id = request.path_params.get("record_id") if with_id else None
        parent_id = request.path_params.get("parent_id")
        query = dict(request.query_params)
        return await idempotent(
            request,
            body,
            lambda: _run(ctx, spec, request.method, tenant_id, query, body, url_id, parent_id),
        )

    return handle


def _routes() -> Iterator[BaseRoute]:
    for spec in WRITE_RESOURCES:
        if spec.parent is not None:
            path = f"{API}/{spec.parent}/{{parent_id}}/{spec.collection}"
            yield Route(path, _handler(spec, with_id=False), methods=["PUT"])
            continue
        methods = ["PUT"] + (["POST"] if spec.post else [])
        yield Route(f"{API}/{spec.collection}", _handler(spec, with_id=False), methods=methods)
        yield Route(
            f"{API}/{spec.collection}/{{record_id}}", _handler(spec, with_id=True), methods=["POST"]
        )


routes: list[BaseRoute] = list(_routes())

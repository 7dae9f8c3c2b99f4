"""What every write shares: the request's :class:`Writer` and :class:`Element`, Xero's
enumerations and the small helpers builders use on records, dates and fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from xero_sandbox.catalog import Record
from xero_sandbox.context import SandboxContext
from xero_sandbox.ledger import ms_date
from xero_sandbox.store import ms_of
from xero_sandbox.validation import (
    Issues,
    Messages,
    as_bool,
    as_date,
    as_enum,
    as_text,
)

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

        CREDITNOTE events carry the credit note's Type and Status as saved, as Xero's do.
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
    """A posting document dated on or before a lock date cannot be saved."""
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


def _status(element: Element, allowed: tuple[str, ...], type_name: str) -> str | None:
    """The Status the element asks for (converted), or None when it sends none."""
    if element.sent.get("Status") is None:
        return None
    return as_enum(element.sent["Status"], allowed, type_name, f"{element.path}.Status")


def _amount(record: Mapping[str, Any], name: str, default: Decimal = ZERO) -> Decimal:
    value = record.get(name)
    return default if value is None else Decimal(str(value))


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


def _props(names: str) -> frozenset[str]:
    """Property names of a spec schema (xero_accounting.yaml 16.1.0), space-separated."""
    return frozenset(names.split())

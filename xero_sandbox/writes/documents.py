"""Invoices and credit notes (posting documents), purchase orders and quotes (non-posting)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import note_discounts
from xero_sandbox.validation import (
    INVOICE_STATUS_CHANGES,
    LinePolicy,
    Messages,
    as_bool,
    as_decimal,
    as_enum,
    as_guid,
)
from xero_sandbox.writes.common import (
    DOCUMENT_STATUSES,
    INVOICE_TYPES,
    QUOTE_LINE_AMOUNT_TYPES,
    ZERO,
    Element,
    Writer,
    _amount,
    _bool_fields,
    _check_lock_dates,
    _merge,
    _set_date,
    _status,
    _text_fields,
)
from xero_sandbox.writes.lines import _finish_lines, _line_amount_types, _lines, _unit_dp
from xero_sandbox.writes.references import _mark_role, _resolve_contact


def _invoice_like(w: Writer, element: Element, *, credit: bool) -> Record:
    """Invoices and CreditNotes: contact, lines, totals, numbering and status rules."""
    existing, issues = element.existing, element.issues
    record = _merge(existing, element.sent)
    kind = _invoice_type(element, record, credit)
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
    _invoice_header(w, element, record, credit)
    _invoice_lines(w, element, record, credit)

    if existing is not None and allocated and _content_changed(existing, record, contact_before):
        issues.error(Messages.ALLOCATED_EDIT)
    if new_status in ("AUTHORISED", "SUBMITTED") and (status_changed or existing is None):
        _check_lock_dates(w, record, issues)
    _invoice_number(w, element, record, credit)
    _invoice_amounts(element, record, credit)
    return record


def _invoice_type(element: Element, record: Record, credit: bool) -> str:
    """The document's Type: required on create, kept (though checked) on update."""
    existing, sent, issues = element.existing, element.sent, element.issues
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
    return str(record.get("Type") or "")


def _invoice_header(w: Writer, element: Element, record: Record, credit: bool) -> None:
    """Reference, number, currency, branding theme and dates."""
    sent, existing = element.sent, element.existing
    number_field = "CreditNoteNumber" if credit else "InvoiceNumber"
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


def _invoice_lines(w: Writer, element: Element, record: Record, credit: bool) -> None:
    """Line items and totals; a posting document needs lines, a date and (invoices) a due date."""
    issues = element.issues
    posting = record["Status"] in ("SUBMITTED", "AUTHORISED")
    unit_dp = _unit_dp(w, element)
    mode = _line_amount_types(element, record, "Exclusive")
    policy = LinePolicy(
        unit_dp=unit_dp,
        requires_account=posting,
        forbidden_account_types=frozenset({"BANK"}),
    )
    prepared = _lines(w, element, record, "LineItems", mode, policy, client_tax=True)
    lines_given = "LineItems" in element.sent or element.existing is None
    if lines_given and not prepared and (not credit or posting):
        issues.error(Messages.NO_LINE_ITEMS)
    if posting:
        if "Date" not in record:
            issues.error(Messages.DATE_MISSING)
        if not credit and "DueDate" not in record:
            issues.error(Messages.DUE_DATE_MISSING)
    _finish_lines(w, element, record, prepared, unit_dp, client_tax=True)
    note_discounts(record)


def _invoice_number(w: Writer, element: Element, record: Record, credit: bool) -> None:
    """A receivable document's number: unique among its Type, or the next of the sequence."""
    kind = record.get("Type")
    if kind not in ("ACCREC", "ACCRECCREDIT"):
        return
    resource = "CreditNotes" if credit else "Invoices"
    number_field = "CreditNoteNumber" if credit else "InvoiceNumber"
    number = record.get(number_field)
    if number not in (None, ""):
        id_field = "CreditNoteID" if credit else "InvoiceID"
        other = w.by_number(resource, str(number))
        if (
            other is not None
            and other.get("Type") == kind
            and other.get(id_field) != (element.existing or {}).get(id_field)
        ):
            element.issues.error(
                Messages.CREDIT_NUMBER_TAKEN if credit else Messages.INVOICE_NUMBER_TAKEN
            )
    elif not element.issues.errors:
        record[number_field] = w.next_number(resource, "CN" if credit else "INV")


def _invoice_amounts(element: Element, record: Record, credit: bool) -> None:
    """What is still owed (or left to apply) after what the document has settled."""
    existing = element.existing
    settled = ZERO if existing is None else _settled_amount(existing, credit)
    if credit:
        record["RemainingCredit"] = record["Total"] - settled
        record.setdefault("AppliedAmount", ZERO)
        record.setdefault("Allocations", [])
    else:
        record["AmountPaid"] = _amount(record, "AmountPaid")
        record["AmountCredited"] = _amount(record, "AmountCredited")
        # A voided or deleted invoice is owed by no one (as the seed's documents show it).
        cancelled = record["Status"] in ("VOIDED", "DELETED")
        record["AmountDue"] = ZERO if cancelled else record["Total"] - settled
        record.setdefault("Prepayments", [])
        record.setdefault("Overpayments", [])
        record.setdefault("CreditNotes", [])
    record.setdefault("Payments", [])
    record["HasAttachments"] = bool(record.get("HasAttachments", False))
    record["HasErrors"] = False


def _settled_amount(document: Mapping[str, Any], credit: bool) -> Decimal:
    """How much of a document payments and allocations have settled so far."""
    if credit:
        total = _amount(document, "Total")
        return total - _amount(document, "RemainingCredit", total)
    return _amount(document, "AmountPaid") + _amount(document, "AmountCredited")


def _content_changed(existing: Record, record: Record, contact_before: Any) -> bool:
    """True when a paid document's amounts, contact or dates would change."""
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
    """PurchaseOrders and Quotes: non-posting documents with 4-dp unit amounts."""
    existing, issues = element.existing, element.issues
    record = _merge(existing, element.sent)
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
    _order_header(w, element, record, quote)
    _order_lines(w, element, record, quote)
    _order_number(w, element, record, quote)
    if not quote:
        record["Type"] = "PURCHASEORDER"
        record.setdefault("HasAttachments", False)
    return record


def _order_header(w: Writer, element: Element, record: Record, quote: bool) -> None:
    """Texts, dates, currency and (orders) SentToContact, which only an approved order takes."""
    existing, sent = element.existing, element.sent
    number_field = "QuoteNumber" if quote else "PurchaseOrderNumber"
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
            wanted = as_bool(sent["SentToContact"], f"{element.path}.SentToContact")
            if record["Status"] in ("AUTHORISED", "BILLED"):
                record["SentToContact"] = wanted
            else:
                element.issues.warn(Messages.SENT_TO_CONTACT)
                record["SentToContact"] = (existing or {}).get("SentToContact", False)
        record.setdefault("SentToContact", False)
    record.setdefault("CurrencyCode", w.base_currency())
    record.setdefault("CurrencyRate", Decimal("1.0000000000"))


def _order_lines(w: Writer, element: Element, record: Record, quote: bool) -> None:
    """Lines and totals; quotes spell LineAmountTypes in capitals on the wire."""
    sent = element.sent
    if quote:
        if sent.get("LineAmountTypes") is not None:
            wire = as_enum(
                sent["LineAmountTypes"],
                tuple(QUOTE_LINE_AMOUNT_TYPES),
                "QuoteLineAmountTypes",
                f"{element.path}.LineAmountTypes",
            )
        else:
            wire = str(record.get("LineAmountTypes") or "EXCLUSIVE")
        mode = QUOTE_LINE_AMOUNT_TYPES.get(wire, "Exclusive")
    else:
        mode = _line_amount_types(element, record, "Exclusive")
    policy = LinePolicy(unit_dp=4, forbidden_account_types=frozenset({"BANK"}))
    prepared = _lines(w, element, record, "LineItems", mode, policy, client_tax=False)
    if not prepared and (element.existing is None or "LineItems" in sent):
        element.issues.error(Messages.NO_LINE_ITEMS)
    record["LineAmountTypes"] = mode
    _finish_lines(w, element, record, prepared, 4, client_tax=False)
    note_discounts(record, flag=not quote)
    if quote:
        record["LineAmountTypes"] = wire


def _order_number(w: Writer, element: Element, record: Record, quote: bool) -> None:
    """The document's number: unique, or the next of the sequence."""
    resource = "Quotes" if quote else "PurchaseOrders"
    number_field = "QuoteNumber" if quote else "PurchaseOrderNumber"
    id_field = "QuoteID" if quote else "PurchaseOrderID"
    number = record.get(number_field)
    if number not in (None, ""):
        other = w.by_number(resource, str(number))
        if other is not None and other.get(id_field) != (element.existing or {}).get(id_field):
            element.issues.error(
                Messages.QUOTE_NUMBER_TAKEN if quote else Messages.ORDER_NUMBER_TAKEN
            )
    elif not element.issues.errors:
        record[number_field] = w.next_number(resource, "QU" if quote else "PO")


def build_purchase_order(w: Writer, element: Element) -> Record:
    """A purchase order."""
    return _order_like(w, element, quote=False)


def build_quote(w: Writer, element: Element) -> Record:
    """A quote."""
    return _order_like(w, element, quote=True)

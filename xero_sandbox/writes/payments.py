"""Payments: against one invoice, credit note, prepayment or overpayment, and deleting one."""

from __future__ import annotations

from decimal import Decimal

from xero_sandbox.catalog import Record
from xero_sandbox.validation import (
    ZERO_GUID,
    Messages,
    as_decimal,
    as_enum,
    as_guid,
    as_text,
)
from xero_sandbox.writes.common import (
    Element,
    Writer,
    _amount,
    _bool_fields,
    _check_lock_dates,
    _merge,
    _set_date,
    _text_fields,
)
from xero_sandbox.writes.references import _account_summary, _resolve_account_ref

_PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}


_PAYMENT_TARGETS = ("Invoice", "CreditNote", "Prepayment", "Overpayment")


def build_payment(w: Writer, element: Element) -> Record:
    """A payment against one AUTHORISED invoice or credit note, at most its amount due."""
    sent, issues, path = element.sent, element.issues, element.path
    if element.existing is not None:
        return _payment_status_update(w, element, element.existing)
    record = _merge(None, sent)
    targets = [name for name in _PAYMENT_TARGETS if isinstance(sent.get(name), dict)]
    if len(targets) > 1:
        issues.error(Messages.PAYMENT_MANY_DOCUMENTS)
    document, resource = _payment_document(w, element, targets)
    _payment_account(w, element, record)
    amount = _payment_amount(element, record)
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
    if document is not None:
        _check_against(w, element, record, document, resource, amount)
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


def _payment_account(w: Writer, element: Element, record: Record) -> None:
    """The account paid from or into: a bank account, or one that allows payments."""
    account = _resolve_account_ref(w, element.sent.get("Account"), f"{element.path}.Account")
    if account is None:
        element.issues.error(Messages.ACCOUNT_NOT_FOUND)
    elif account.get("Type") != "BANK" and not account.get("EnablePaymentsToAccount"):
        element.issues.error(Messages.PAYMENT_ACCOUNT_TYPE)
    if account is not None:
        record["Account"] = _account_summary(account)


def _payment_amount(element: Element, record: Record) -> Decimal | None:
    """The Amount, required and positive, in cents."""
    if element.sent.get("Amount") is None:
        element.issues.error(Messages.AMOUNT_MISSING)
        return None
    amount = as_decimal(element.sent["Amount"], f"{element.path}.Amount").quantize(Decimal("0.01"))
    record["Amount"] = amount
    if amount <= 0:
        element.issues.error(Messages.AMOUNT_NOT_POSITIVE)
    return amount


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
    """POST /Payments/{id}: only ``{"Status": "DELETED"}`` is accepted."""
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


def _check_against(
    w: Writer,
    element: Element,
    record: Record,
    document: Record,
    resource: str | None,
    amount: Decimal | None,
) -> None:
    """The paid document must be AUTHORISED and owe at least the amount; the payment's date
    must be open."""
    record["PaymentType"] = _PAYMENT_TYPES.get(str(document.get("Type")), "ACCRECPAYMENT")
    outstanding = Decimal(
        str(
            document.get("AmountDue")
            if resource == "Invoices"
            else document.get("RemainingCredit", 0)
        )
    )
    if document.get("Status") != "AUTHORISED":
        element.issues.error(Messages.PAYMENT_DOCUMENT_STATUS)
    elif amount is not None and amount > outstanding:
        element.issues.error(Messages.PAYMENT_EXCEEDS)
    _check_lock_dates(w, record, element.issues)

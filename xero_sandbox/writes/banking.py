"""Bank transactions, including prepayments and overpayments made as a spend or receive."""

from __future__ import annotations

import uuid
from decimal import Decimal

from xero_sandbox.catalog import Record
from xero_sandbox.validation import (
    LinePolicy,
    Messages,
    as_decimal,
    as_enum,
)
from xero_sandbox.writes.common import (
    BANK_TRANSACTION_TYPES,
    Element,
    Writer,
    _bool_fields,
    _check_lock_dates,
    _merge,
    _set_date,
    _status,
    _text_fields,
)
from xero_sandbox.writes.lines import _finish_lines, _line_amount_types, _lines, _unit_dp
from xero_sandbox.writes.references import _account_summary, _resolve_account_ref, _resolve_contact


def build_bank_transaction(w: Writer, element: Element) -> Record:
    """A spend or receive money transaction: tax must match, totals must not be echoed."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    record = _merge(existing, sent)
    _bank_transaction_type(element, record)
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
        _bank_account(w, element, record)
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


def _bank_transaction_type(element: Element, record: Record) -> None:
    """Type: required on create (transfers are made through BankTransfers), kept on update."""
    existing, sent, issues = element.existing, element.sent, element.issues
    if existing is None:
        kind = sent.get("Type")
        if kind in (None, ""):
            issues.error(Messages.BANK_TRANSACTION_TYPE_MISSING)
        else:
            kind = as_enum(
                kind, BANK_TRANSACTION_TYPES, "BankTransactionType", f"{element.path}.Type"
            )
            if kind.endswith("TRANSFER"):
                issues.error(Messages.TRANSFER_TYPE.format(type=kind))
    else:
        record["Type"] = existing["Type"]


def _bank_account(w: Writer, element: Element, record: Record) -> None:
    """The BankAccount the money moves through: required, and of Type BANK."""
    sent, issues = element.sent, element.issues
    bank = _resolve_account_ref(w, sent.get("BankAccount"), f"{element.path}.BankAccount")
    if sent.get("BankAccount") is None:
        issues.error(Messages.BANK_ACCOUNT_MISSING)
    elif bank is None:
        issues.error(Messages.ACCOUNT_NOT_FOUND)
    elif bank.get("Type") != "BANK":
        issues.error(Messages.PAYMENT_ACCOUNT_TYPE)
    if bank is not None:
        record["BankAccount"] = _account_summary(bank)


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

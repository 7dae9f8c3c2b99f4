"""Money that moves: invoice payments, credit note refunds, overpayments and prepayments, batch
payments and the payment service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import ms_date
from xero_sandbox.seed.lines import finish_lines
from xero_sandbox.seed.world import DAY_MS, World, contact_ref, date_string, day_ms, iso, money

__all__ = [
    "pay_invoice",
    "refund_credit_note",
    "write_batch_payments",
    "write_cash_credits",
    "write_payment_service",
]

_RATE_ONE = Decimal("1.0000000000")


def _payment(
    payment_id: str,
    pay_day_ms: int,
    amount: Decimal,
    reference: str,
    payment_type: str,
    pay_ms: int,
    reconciled: bool,
    account: Record,
    document: tuple[str, Record],
) -> Record:
    """A payment record; ``document`` is ("Invoice" or "CreditNote", its summary)."""
    return {
        "PaymentID": payment_id,
        "Date": ms_date(pay_day_ms),
        "BankAmount": amount,
        "Amount": amount,
        "Reference": reference,
        "CurrencyRate": _RATE_ONE,
        "PaymentType": payment_type,
        "Status": "AUTHORISED",
        "UpdatedDateUTC": ms_date(pay_ms),
        "UpdatedDateUTCString": iso(pay_ms),
        "HasAccount": True,
        "IsReconciled": reconciled,
        "Account": account,
        document[0]: document[1],
        "HasValidationErrors": False,
    }


def pay_invoice(world: World, invoice: Record, day: date, bank: Record) -> Record | None:
    """Pay a PAID invoice in full, an AUTHORISED one in part (or not at all), within 30 days of
    ``day``: the payment, with the invoice's ``Payments`` and ``FullyPaidOnDate`` filled in."""
    rng, status, total = world.rng, invoice["Status"], invoice["Total"]
    paid = Decimal("0.00")
    if status in ("PAID", "AUTHORISED") and total > 0:
        paid = (
            total if status == "PAID" else money(total * Decimal(rng.choice((0, 0, 25, 50)) / 100))
        )
    if paid <= 0:
        return None
    sales, number = invoice["Type"] == "ACCREC", invoice["InvoiceNumber"]
    pay_day = date.fromordinal(day.toordinal() + rng.randrange(0, 30))
    pay_ms = world.stamp(pay_day)
    payment_id = world.uid()
    summary = {
        "InvoiceID": invoice["InvoiceID"],
        "InvoiceNumber": number,
        "Type": invoice["Type"],
        "Contact": contact_ref(invoice["Contact"]),
        "CurrencyCode": "NZD",
    }
    payment = _payment(
        payment_id,
        day_ms(pay_day),
        paid,
        f"Payment {number}",
        "ACCRECPAYMENT" if sales else "ACCPAYPAYMENT",
        pay_ms,
        rng.random() < 0.7,
        bank,
        ("Invoice", summary),
    )
    invoice["Payments"] = [
        {
            "PaymentID": payment_id,
            "Date": payment["Date"],
            "Amount": paid,
            "Reference": payment["Reference"],
            "CurrencyRate": payment["CurrencyRate"],
            "HasAccount": True,
            "HasValidationErrors": False,
        }
    ]
    if status == "PAID":
        invoice["FullyPaidOnDate"] = payment["Date"]
    if sales and len(world.rec_payments) < 12:
        world.rec_payments.append(payment)
    return payment


def refund_credit_note(world: World, note: Record, day: date) -> Record:
    """The refund of a PAID credit note, 1-14 days after ``day``, recorded on the note."""
    pay_ms = world.stamp(day, world.rng.randrange(1, 15))
    number, sales = note["CreditNoteNumber"], note["Type"] == "ACCRECCREDIT"
    summary = {
        "CreditNoteID": note["CreditNoteID"],
        "CreditNoteNumber": number,
        "Type": note["Type"],
        "Contact": contact_ref(note["Contact"]),
    }
    payment = _payment(
        world.uid(),
        day_ms(day) + (pay_ms - day_ms(day)) // DAY_MS * DAY_MS,
        note["Total"],
        f"Refund {number}",
        "ARCREDITPAYMENT" if sales else "APCREDITPAYMENT",
        pay_ms,
        True,
        world.account_ref("090"),
        ("CreditNote", summary),
    )
    note["Payments"] = [
        {"PaymentID": payment["PaymentID"], "Date": payment["Date"], "Amount": note["Total"]}
    ]
    note["FullyPaidOnDate"] = payment["Date"]
    return payment


def write_cash_credits(world: World, count: int, kind: str) -> None:
    """Overpayments or prepayments: a RECEIVE-* bank transaction and the credit it leaves."""
    store, tid = world.store, world.tenant_id
    resource = "Overpayments" if kind == "OVERPAYMENT" else "Prepayments"
    rates = world.ledger.tax_rates(tid)
    for index in range(count):
        transaction, created = _cash_credit_transaction(world, index, kind)
        finish_lines(transaction, rates)
        store.put(tid, "BankTransactions", transaction)
        store.put(tid, resource, _cash_credit(transaction, kind, created))
        world.ledger.post_document(tid, "BankTransactions", transaction, created, first_time=True)


def _credit_key(kind: str) -> str:
    return "OverpaymentID" if kind == "OVERPAYMENT" else "PrepaymentID"


def _cash_credit_transaction(world: World, index: int, kind: str) -> tuple[Record, int]:
    """The RECEIVE-OVERPAYMENT or RECEIVE-PREPAYMENT bank transaction and when it was made."""
    contact = world.customer()
    day, created = world.dated()
    credit_id = world.uid()
    amount = world.price(2_000, 90_000)
    code, tax_type, mode = (
        ("610", "NONE", "NoTax") if kind == "OVERPAYMENT" else ("200", "OUTPUT2", "Inclusive")
    )
    line = {
        "LineItemID": world.uid(),
        "Description": f"{kind.title()} received",
        "Quantity": Decimal(1),
        "UnitAmount": amount,
        "AccountCode": code,
        "TaxType": tax_type,
        "Tracking": [],
    }
    transaction: Record = {
        "BankTransactionID": world.uid(),
        "Type": f"RECEIVE-{kind}",
        "Contact": contact_ref(contact),
        "BankAccount": world.account_ref("090"),
        "IsReconciled": True,
        "Date": ms_date(day_ms(day)),
        "DateString": date_string(day),
        "Reference": f"{kind[:3]}-{index + 1:04d}",
        "CurrencyCode": "NZD",
        "CurrencyRate": _RATE_ONE,
        "Status": "AUTHORISED",
        "LineAmountTypes": mode,
        "LineItems": [line],
        "HasAttachments": False,
        "UpdatedDateUTC": ms_date(created),
        _credit_key(kind): credit_id,
    }
    return transaction, created


def _cash_credit(transaction: Record, kind: str, created: int) -> Record:
    """The overpayment or prepayment a finished RECEIVE-* bank transaction leaves."""
    key = _credit_key(kind)
    credit: Record = {
        "Type": f"RECEIVE-{kind}",
        key: transaction[key],
        "Contact": contact_ref(transaction["Contact"]),
        "Date": transaction["Date"],
        "Status": "AUTHORISED",
        "LineAmountTypes": transaction["LineAmountTypes"],
        "LineItems": [dict(transaction["LineItems"][0])],
        "SubTotal": transaction["SubTotal"],
        "TotalTax": transaction["TotalTax"],
        "Total": transaction["Total"],
        "UpdatedDateUTC": ms_date(created),
        "UpdatedDateUTCString": iso(created),
        "CurrencyCode": "NZD",
        "CurrencyRate": _RATE_ONE,
        "RemainingCredit": transaction["Total"],
        "Allocations": [],
        "Payments": [],
        "HasAttachments": False,
        "Reference": transaction["Reference"],
    }
    if kind == "PREPAYMENT":
        credit["InvoiceNumber"] = ""
    return credit


def write_batch_payments(world: World, count: int) -> None:
    """Up to ``count`` batches of three of the first sales payments."""
    payments = world.rec_payments
    for index in range(min(len(payments) // 3, count)):
        members = payments[index * 3 : index * 3 + 3]
        total = sum((p["Amount"] for p in members), Decimal("0.00"))
        day = world.day()
        batch = {
            "BatchPaymentID": world.uid(),
            "Account": {"AccountID": world.accounts["090"]["AccountID"]},
            "Reference": f"Batch {index + 1}",
            "Date": ms_date(day_ms(day)),
            "DateString": date_string(day),
            "Type": "RECBATCH",
            "Status": "AUTHORISED",
            "TotalAmount": total,
            "UpdatedDateUTC": ms_date(world.stamp(day)),
            "IsReconciled": False,
            "Payments": [
                {
                    "PaymentID": p["PaymentID"],
                    "Amount": p["Amount"],
                    "Invoice": {"InvoiceID": p["Invoice"]["InvoiceID"]},
                }
                for p in members
            ],
        }
        world.store.put(world.tenant_id, "BatchPayments", batch)


def write_payment_service(world: World) -> None:
    service = {
        "PaymentServiceID": world.uid(),
        "PaymentServiceName": "Sandbox card payments",
        "PaymentServiceUrl": "https://pay.example.com/xero?invoice=[INVOICENUMBER]",
        "PayNowText": "Pay Now",
        "PaymentServiceType": "Custom",
    }
    world.store.put(world.tenant_id, "PaymentServices", service)

"""The documents of a Demo Company: invoices and bills, credit notes, bank transactions and
transfers, manual journals, purchase orders, quotes, repeating invoices, billable expenses,
receipts and an expense claim. Authorised documents post their journals as they are written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import ms_date, note_discounts
from xero_sandbox.seed.lines import finish_lines, item_lines
from xero_sandbox.seed.payments import pay_invoice, refund_credit_note
from xero_sandbox.seed.world import (
    DAY_MS,
    World,
    contact_ref,
    date_string,
    dates_due,
    day_ms,
    iso,
    post_undone,
    updated_ms,
)

__all__ = [
    "invoice_with_payment",
    "write_bank_transactions",
    "write_bank_transfers",
    "write_credit_notes",
    "write_expense_claim",
    "write_linked_transactions",
    "write_manual_journals",
    "write_orders_and_quotes",
    "write_repeating_invoices",
]

_RATE_ONE = Decimal("1.0000000000")
_EXPENSE_CODES = ("400", "404", "408", "412", "420", "429", "445", "453", "469", "489", "493")


def _invoice_party(world: World, index: int) -> tuple[bool, Record]:
    """Whether the ``index``-th invoice is a sale, and to whom. An --overlap invoice is a sale
    (so it takes the same INV number in every Demo Company) to one of the contacts every Demo
    Company shares; the rest is its own."""
    shared = world.shared("invoice", index)
    if shared is not None and world.shared_customers:
        pool = world.shared_customers
        return True, pool[shared.randrange(len(pool))]
    sales = world.rng.random() < 0.65 or not world.suppliers
    pool = world.customers if sales else world.suppliers
    return sales, pool[world.rng.randrange(len(pool))]


def _invoice_status(roll: float) -> str:
    """Draft 8 %, submitted 4 %, deleted 4 %, voided 4 %, paid 38 %, authorised 42 %."""
    for status, below in (("DRAFT", 0.08), ("SUBMITTED", 0.12), ("DELETED", 0.16)):
        if roll < below:
            return status
    return "VOIDED" if roll < 0.20 else "PAID" if roll < 0.58 else "AUTHORISED"


def _invoice(world: World, items: list[Record], index: int) -> tuple[Record, date, int]:
    """The ``index``-th invoice or bill with its lines and totals; its day and creation time."""
    store, tid, rng = world.store, world.tenant_id, world.rng
    sales, contact = _invoice_party(world, index)
    day = world.day()
    status = _invoice_status(rng.random())
    mode = rng.choices(("Exclusive", "Inclusive", "NoTax"), (80, 15, 5))[0]
    invoice_id = world.uid()
    number = (
        f"INV-{store.next_number(tid, 'INV'):04d}"
        if sales
        else f"SUP-{rng.randrange(10**5, 10**6)}"
    )
    created = world.stamp(day)
    invoice: Record = {
        "Type": "ACCREC" if sales else "ACCPAY",
        "InvoiceID": invoice_id,
        "InvoiceNumber": number,
        "Reference": f"Ref {rng.randrange(1000, 9999)}" if sales else "",
        "Contact": contact_ref(contact),
        **dates_due(day, 20),
        "Status": status,
        "LineAmountTypes": mode,
        "LineItems": item_lines(world, items, sales, tracked=rng.random() < 0.3, discounts=sales),
        "CurrencyCode": "NZD",
        "CurrencyRate": _RATE_ONE,
        "SentToContact": sales and status in ("AUTHORISED", "PAID"),
        "HasAttachments": False,
        "IsDiscounted": False,
        "HasErrors": False,
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
    }
    finish_lines(invoice, world.ledger.tax_rates(tid))
    note_discounts(invoice)
    return invoice, day, created


def invoice_with_payment(
    world: World, items: list[Record], index: int, bank: Record
) -> tuple[Record, Record | None, int]:
    """The ``index``-th invoice or bill, the payment made on it (if any) and its creation time;
    the first authorised bills' lines are kept in ``world.bill_lines`` for billable expenses."""
    invoice, day, created = _invoice(world, items, index)
    status = invoice["Status"]
    payment = pay_invoice(world, invoice, day, bank)
    paid = payment["Amount"] if payment else Decimal("0.00")
    updated = created
    if payment is not None:
        updated = max(updated, updated_ms(payment))
    if status == "VOIDED":
        updated = world.stamp(day, world.rng.randrange(1, 20))
    invoice["AmountPaid"] = paid
    invoice["AmountCredited"] = Decimal("0.00")
    invoice["AmountDue"] = (
        Decimal("0.00") if status in ("VOIDED", "DELETED") else invoice["Total"] - paid
    )
    invoice["UpdatedDateUTC"] = ms_date(updated)
    invoice["UpdatedDateUTCString"] = iso(updated)
    bill = invoice["Type"] == "ACCPAY"
    if bill and len(world.bill_lines) < 20 and status in ("AUTHORISED", "PAID"):
        line_id = invoice["LineItems"][0]["LineItemID"]
        world.bill_lines.append((invoice["InvoiceID"], line_id, invoice["Contact"]["ContactID"]))
    return invoice, payment, created


def write_credit_notes(world: World, items: list[Record], count: int) -> None:
    store, ledger, tid = world.store, world.ledger, world.tenant_id
    for _ in range(count):
        note, day, created = _credit_note(world, items)
        payment = refund_credit_note(world, note, day) if note["Status"] == "PAID" else None
        updated = created if payment is None else updated_ms(payment)
        note["UpdatedDateUTC"] = ms_date(updated)
        note["UpdatedDateUTCString"] = iso(updated)
        store.put(tid, "CreditNotes", note)
        if note["Status"] in ("AUTHORISED", "PAID"):
            ledger.post_document(tid, "CreditNotes", note, created, first_time=True)
        elif note["Status"] == "VOIDED":
            post_undone(world, "CreditNotes", note, created, updated, "AUTHORISED")
        if payment is not None:
            store.put(tid, "Payments", payment)
            ledger.post_document(tid, "Payments", payment, updated, first_time=True)


def _credit_note(world: World, items: list[Record]) -> tuple[Record, date, int]:
    """A sales (seven in ten) or purchase credit note; its day and creation time."""
    store, tid, rng = world.store, world.tenant_id, world.rng
    sales = rng.random() < 0.7 or not world.suppliers
    pool = world.customers if sales else world.suppliers
    contact = pool[rng.randrange(len(pool))]
    day, created = world.dated()
    status = rng.choices(("DRAFT", "AUTHORISED", "PAID", "VOIDED"), (15, 55, 20, 10))[0]
    number = f"CN-{store.next_number(tid, 'CN'):04d}" if sales else f"SCN-{rng.randrange(10**5)}"
    note: Record = {
        "Type": "ACCRECCREDIT" if sales else "ACCPAYCREDIT",
        "CreditNoteID": world.uid(),
        "CreditNoteNumber": number,
        "Reference": "Returned goods",
        "Contact": contact_ref(contact),
        **dates_due(day, 20),
        "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": item_lines(world, items, sales, tracked=False),
        "CurrencyCode": "NZD",
        "CurrencyRate": _RATE_ONE,
        "SentToContact": False,
        "HasAttachments": False,
        "HasErrors": False,
        "Payments": [],
        "Allocations": [],
    }
    finish_lines(note, world.ledger.tax_rates(tid))
    note_discounts(note)
    note["RemainingCredit"] = Decimal("0.00") if status == "PAID" else note["Total"]
    note["AppliedAmount"] = Decimal("0.00")
    return note, day, created


def write_bank_transactions(world: World, count: int) -> None:
    """Spend money on expenses, and (one in four) receive other revenue."""
    store, ledger, tid, rng = world.store, world.ledger, world.tenant_id, world.rng
    rates = ledger.tax_rates(tid)
    for index in range(count):
        receive = index % 4 == 0
        contact = world.customer() if receive else world.supplier()
        day, created = world.dated()
        code = "260" if receive else _EXPENSE_CODES[rng.randrange(len(_EXPENSE_CODES))]
        status = "DELETED" if rng.random() < 0.05 else "AUTHORISED"
        record: Record = {
            "BankTransactionID": world.uid(),
            "Type": "RECEIVE" if receive else "SPEND",
            "Contact": contact_ref(contact),
            "BankAccount": world.account_ref("090"),
            "IsReconciled": rng.random() < 0.8,
            "Date": ms_date(day_ms(day)),
            "DateString": date_string(day),
            "Reference": f"BT{index + 1:05d}",
            "CurrencyCode": "NZD",
            "CurrencyRate": _RATE_ONE,
            "Status": status,
            "LineAmountTypes": "Inclusive",
            "LineItems": [_account_line(world, code)],
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(created),
        }
        finish_lines(record, rates)
        store.put(tid, "BankTransactions", record)
        if status == "AUTHORISED":
            ledger.post_document(tid, "BankTransactions", record, created, first_time=True)


def _account_line(world: World, code: str) -> Record:
    account = world.accounts[code]
    return {
        "LineItemID": world.uid(),
        "Description": account["Name"],
        "Quantity": Decimal(1),
        "UnitAmount": world.price(500, 250_000),
        "AccountCode": code,
        "TaxType": str(account["TaxType"]),
        "Tracking": [],
    }


def write_bank_transfers(world: World, count: int) -> None:
    """Transfers between the two bank accounts, one in seven deleted."""
    rng = world.rng
    for index in range(count):
        day, created = world.dated()
        outward = index % 2 == 0
        status = "DELETED" if index % 7 == 2 else "AUTHORISED"
        record: Record = {
            "BankTransferID": world.uid(),
            "FromBankAccount": world.account_ref("090" if outward else "091"),
            "ToBankAccount": world.account_ref("091" if outward else "090"),
            "Amount": world.price(10_000, 500_000),
            "Date": ms_date(day_ms(day)),
            "CurrencyRate": _RATE_ONE,
            "FromBankTransactionID": world.uid(),
            "ToBankTransactionID": world.uid(),
            "FromIsReconciled": rng.random() < 0.8,
            "ToIsReconciled": rng.random() < 0.8,
            "Reference": f"Transfer {index + 1}",
            "HasAttachments": False,
            "CreatedDateUTC": ms_date(created),
            "CreatedDateUTCString": iso(created)[:-1],
            "Status": status,
        }
        world.store.put(world.tenant_id, "BankTransfers", record)
        if status == "DELETED":
            post_undone(world, "BankTransfers", record, created, created + 60_000, "AUTHORISED")
        else:
            world.ledger.post_document(world.tenant_id, "BankTransfers", record, created, True)


def write_manual_journals(world: World, count: int) -> None:
    """Depreciation, wages and funds introduced, in turn; most posted, some draft or voided."""
    pairs = (("416", "710", "Depreciation"), ("477", "090", "Wages"), ("090", "970", "Funds"))
    for index in range(count):
        debit, credit, narration = pairs[index % len(pairs)]
        day, created = world.dated()
        amount = world.price(10_000, 300_000)
        status = world.rng.choices(("POSTED", "DRAFT", "VOIDED"), (80, 12, 8))[0]
        record: Record = {
            "ManualJournalID": world.uid(),
            "Narration": f"{narration} {index + 1}",
            "Date": ms_date(day_ms(day)),
            "LineAmountTypes": "NoTax",
            "Status": status,
            "ShowOnCashBasisReports": True,
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(created),
            "JournalLines": [
                _journal_line(world, amount, debit, narration),
                _journal_line(world, -amount, credit, narration),
            ],
        }
        world.store.put(world.tenant_id, "ManualJournals", record)
        if status == "POSTED":
            world.ledger.post_document(
                world.tenant_id, "ManualJournals", record, created, first_time=True
            )
        elif status == "VOIDED":
            post_undone(world, "ManualJournals", record, created, created + 3600_000, "POSTED")


def _journal_line(world: World, amount: Decimal, code: str, description: str) -> Record:
    return {
        "LineAmount": amount,
        "AccountCode": code,
        "AccountID": world.accounts[code]["AccountID"],
        "Description": description,
        "TaxType": "NONE",
        "TaxAmount": Decimal("0.00"),
        "IsBlank": False,
        "Tracking": [],
    }


def write_orders_and_quotes(world: World, items: list[Record], count: int) -> None:
    """``count`` purchase orders and as many quotes, drawn in turn."""
    rates = world.ledger.tax_rates(world.tenant_id)
    for _ in range(count):
        order = finish_lines(_purchase_order(world, items), rates)
        note_discounts(order)
        world.store.put(world.tenant_id, "PurchaseOrders", order)
        quote = finish_lines(_quote(world, items), rates)
        note_discounts(quote, flag=False)
        quote["LineAmountTypes"] = "EXCLUSIVE"
        world.store.put(world.tenant_id, "Quotes", quote)


def _purchase_order(world: World, items: list[Record]) -> Record:
    store, tid, rng = world.store, world.tenant_id, world.rng
    supplier = world.supplier()
    day, created = world.dated()
    return {
        "Type": "PURCHASEORDER",
        "PurchaseOrderID": world.uid(),
        "PurchaseOrderNumber": f"PO-{store.next_number(tid, 'PO'):04d}",
        "Contact": contact_ref(supplier),
        "Date": ms_date(day_ms(day)),
        "DateString": date_string(day),
        "DeliveryDate": ms_date(day_ms(day) + 14 * DAY_MS),
        "LineAmountTypes": "Exclusive",
        "Reference": f"Order {rng.randrange(100, 999)}",
        "CurrencyCode": "NZD",
        "CurrencyRate": _RATE_ONE,
        "Status": rng.choices(
            ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED"), (20, 15, 35, 25, 5)
        )[0],
        "SentToContact": False,
        "DeliveryAddress": "23 Main Street, Central City",
        "AttentionTo": "Receiving",
        "DeliveryInstructions": "Leave at reception",
        "LineItems": item_lines(world, items, sales=False, tracked=False),
        "HasAttachments": False,
        "UpdatedDateUTC": ms_date(created),
    }


def _quote(world: World, items: list[Record]) -> Record:
    store, tid, rng = world.store, world.tenant_id, world.rng
    customer = world.customer()
    day, created = world.dated()
    return {
        "QuoteID": world.uid(),
        "QuoteNumber": f"QU-{store.next_number(tid, 'QU'):04d}",
        "Reference": f"Quote {rng.randrange(100, 999)}",
        "Terms": "Valid for 30 days",
        "Contact": contact_ref(customer),
        "Date": ms_date(day_ms(day)),
        "DateString": date_string(day),
        "ExpiryDate": ms_date(day_ms(day) + 30 * DAY_MS),
        "ExpiryDateString": date_string(day, 30),
        "Status": rng.choices(
            ("DRAFT", "SENT", "ACCEPTED", "DECLINED", "INVOICED"), (20, 30, 25, 10, 15)
        )[0],
        "CurrencyCode": "NZD",
        "CurrencyRate": _RATE_ONE,
        "Title": "Quote",
        "Summary": "Goods and services as discussed",
        "LineAmountTypes": "Exclusive",
        "LineItems": item_lines(world, items, sales=True, tracked=False, discounts=True),
        "UpdatedDateUTC": ms_date(created),
    }


def write_repeating_invoices(world: World, items: list[Record], count: int) -> None:
    """Monthly sales templates, one in three a draft."""
    rates = world.ledger.tax_rates(world.tenant_id)
    for index in range(count):
        customer = world.customer()
        start = world.day()
        repeating: Record = {
            "RepeatingInvoiceID": "",
            "Type": "ACCREC",
            "Contact": contact_ref(customer),
            "Schedule": {
                "Period": 1,
                "Unit": "MONTHLY",
                "DueDate": 20,
                "DueDateType": "OFFOLLOWINGMONTH",
                "StartDate": ms_date(day_ms(start)),
                "NextScheduledDate": ms_date(day_ms(start) + 30 * DAY_MS),
            },
            "LineAmountTypes": "Exclusive",
            "LineItems": item_lines(world, items, sales=True, tracked=False),
            "Reference": f"Monthly {index + 1}",
            "CurrencyCode": "NZD",
            "Status": "AUTHORISED" if index % 3 else "DRAFT",
            "HasAttachments": False,
            "ApprovedForSending": False,
            "SendCopy": False,
            "MarkAsSent": False,
            "IncludePDF": False,
        }
        repeating["RepeatingInvoiceID"] = repeating["ID"] = world.uid()
        world.store.put(world.tenant_id, "RepeatingInvoices", finish_lines(repeating, rates))


def write_linked_transactions(world: World, count: int) -> None:
    """Billable expenses: up to ``count`` of the first bills' lines, billed on to customers."""
    for index, (source_id, line_id, _supplier) in enumerate(world.bill_lines[:count]):
        customer = world.customer()
        day = world.day()
        linked = {
            "LinkedTransactionID": world.uid(),
            "SourceTransactionID": source_id,
            "SourceLineItemID": line_id,
            "ContactID": customer["ContactID"],
            "Status": "ONDRAFT" if index % 2 else "APPROVED",
            "Type": "BILLABLEEXPENSE",
            "UpdatedDateUTC": ms_date(world.stamp(day)),
            "SourceTransactionTypeCode": "ACCPAY",
        }
        world.store.put(world.tenant_id, "LinkedTransactions", linked)


def write_expense_claim(world: World) -> None:
    """Two taxi receipts of the first user, one authorised and claimed."""
    rates = world.ledger.tax_rates(world.tenant_id)
    receipts = [finish_lines(_receipt(world, index), rates) for index in range(2)]
    world.store.put_many(world.tenant_id, "Receipts", receipts)
    claimed = receipts[0]
    claim = {
        "ExpenseClaimID": world.uid(),
        "Status": "SUBMITTED",
        "User": claimed["User"],
        "Receipts": [{"ReceiptID": claimed["ReceiptID"]}],
        "Payments": [],
        "UpdatedDateUTC": claimed["UpdatedDateUTC"],
        "Total": claimed["Total"],
        "AmountDue": claimed["Total"],
        "AmountPaid": Decimal("0.00"),
        "ReportingDate": claimed["Date"],
    }
    world.store.put(world.tenant_id, "ExpenseClaims", claim)


def _receipt(world: World, index: int) -> Record:
    user = world.users[0]
    day = world.day()
    return {
        "ReceiptID": world.uid(),
        "ReceiptNumber": str(index + 1),
        "Date": ms_date(day_ms(day)),
        "Contact": contact_ref((world.suppliers or world.customers)[0]),
        "User": {
            "UserID": user["UserID"],
            "FirstName": user["FirstName"],
            "LastName": user["LastName"],
        },
        "Reference": f"Taxi {index + 1}",
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            {
                "Description": "Taxi fare",
                "Quantity": Decimal(1),
                "UnitAmount": world.price(1_500, 9_000),
                "AccountCode": "493",
                "TaxType": "INPUT2",
            }
        ],
        "Status": "AUTHORISED" if index == 0 else "DRAFT",
        "UpdatedDateUTC": ms_date(world.stamp(day)),
        "HasAttachments": False,
    }

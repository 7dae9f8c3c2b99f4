"""Money and the books: Xero's rounding of document totals, and journals posted from documents.

Totals, as Xero computes them: amounts are Decimals rounded half away from zero; tax is
computed per line, rounded to 2 dp, then summed, never recomputed on the total.

Journals: every authorised document posts a journal (positive = debit, negative = credit; the
lines of a journal sum to zero). Posting a document again (after an edit, a void or a delete)
first reverses what that document posted before, as Xero does, so Journals only ever grow and
the reports (computed from the journal lines) always agree with the documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xero_sandbox.catalog import Record
from xero_sandbox.store import LedgerLine, Store, decode, ms_of

__all__ = [
    "ACCOUNT_CLASS",
    "POSTED_STATUSES",
    "Ledger",
    "Posting",
    "compute_totals",
    "money",
    "ms_date",
    "note_discounts",
    "quantity",
    "round2",
    "unit",
]


# Account Type -> Class, as Xero reports it on every account.
ACCOUNT_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
}

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
POSTED_STATUSES = frozenset({"AUTHORISED", "PAID", "POSTED"})


def round2(value: Decimal) -> Decimal:
    """Round to 2 dp, half away from zero (2.165 -> 2.17)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    """Any number (or numeric string) as a 2-dp Decimal."""
    return round2(Decimal(str(value)))


def quantity(value: Any) -> Decimal:
    """A quantity as Xero returns it: 4 dp."""
    return Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def unit(value: Any, dp: int = 2) -> Decimal:
    """A unit amount rounded to ``dp`` (2 or 4) and shown with 2 dp when that is exact."""
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP)
    two = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    return two if two == exact else exact


def ms_date(ms: int) -> str:
    """Xero's wire form of a date or timestamp."""
    return f"/Date({ms}+0000)/"


def compute_totals(
    record: Record,
    rates: Mapping[str, Decimal],
    unit_dp: int = 2,
    client_tax: bool = False,
) -> Record:
    """Fill line amounts, tax and totals of an invoice-like document (in place; returned).

    ``rates`` maps TaxType to a percentage (15 for 15 %). ``client_tax`` keeps a TaxAmount the
    client sent on a line (Invoices and CreditNotes allow that override).
    """
    mode = str(record.get("LineAmountTypes") or "Exclusive")
    sum_line = sum_tax = discount = ZERO
    for line in record.get("LineItems") or []:
        amount, line_discount = _line_amount(line, unit_dp)
        discount += line_discount
        line["LineAmount"] = amount
        pct = rates.get(str(line.get("TaxType") or ""), ZERO) / Decimal(100)
        if client_tax and line.get("TaxAmount") is not None:
            tax = money(line["TaxAmount"])
        elif mode == "NoTax":
            tax = ZERO
        elif mode == "Inclusive":
            tax = round2(amount * pct / (1 + pct))
        else:
            tax = round2(amount * pct)
        line["TaxAmount"] = tax
        sum_line += amount
        sum_tax += tax
    if mode == "Inclusive":
        record["Total"] = sum_line
        record["TotalTax"] = sum_tax
        record["SubTotal"] = sum_line - sum_tax
    elif mode == "NoTax":
        record["SubTotal"] = record["Total"] = sum_line
        record["TotalTax"] = ZERO
    else:
        record["SubTotal"] = sum_line
        record["TotalTax"] = sum_tax
        record["Total"] = sum_line + sum_tax
    if discount:
        record["TotalDiscount"] = discount
    return record


def _line_amount(line: Record, unit_dp: int) -> tuple[Decimal, Decimal]:
    """A line's amount (Quantity x UnitAmount less its discount, rounded; else the LineAmount
    sent) and the discount taken off it; rounds Quantity and UnitAmount in place."""
    qty = line.get("Quantity")
    price = line.get("UnitAmount")
    if qty is not None:
        line["Quantity"] = quantity(qty)
    if price is not None:
        line["UnitAmount"] = unit(price, unit_dp)
    if qty is None or price is None:
        return money(line.get("LineAmount") or 0), ZERO
    gross = Decimal(str(line["Quantity"])) * Decimal(str(line["UnitAmount"]))
    if line.get("DiscountRate") not in (None, 0):
        rate = Decimal(str(line["DiscountRate"]))
        amount = round2(gross * (Decimal(100) - rate) / Decimal(100))
    elif line.get("DiscountAmount") not in (None, 0):
        amount = round2(gross - Decimal(str(line["DiscountAmount"])))
    else:
        amount = round2(gross)
    return amount, round2(gross) - amount if amount != round2(gross) else ZERO


def note_discounts(record: dict[str, Any], *, flag: bool = True) -> None:
    """TotalDiscount (0.00 when no line is discounted) and, with ``flag``, IsDiscounted.

    Invoices, credit notes and purchase orders carry both; quotes TotalDiscount only.
    """
    record.setdefault("TotalDiscount", ZERO)
    if flag:
        record["IsDiscounted"] = bool(record["TotalDiscount"])


@dataclass(frozen=True)
class Posting:
    """One line to post: an account (by AccountID), net and tax in Decimal (+ = debit)."""

    account_id: str
    net: Decimal
    tax: Decimal = ZERO
    description: str = ""
    tax_type: str | None = None
    tracking: tuple[Record, ...] = ()


# Journal SourceType per document kind, and whether the document's total is a debit (+1) or a
# credit (-1) on its control account (AR/AP/bank).
_DOC_SOURCE = {
    "ACCREC": ("ACCREC", "DEBTORS", 1),
    "ACCPAY": ("ACCPAY", "CREDITORS", -1),
    "ACCRECCREDIT": ("ACCRECCREDIT", "DEBTORS", -1),
    "ACCPAYCREDIT": ("ACCPAYCREDIT", "CREDITORS", 1),
    "RECEIVE": ("CASHREC", "BANK", 1),
    "SPEND": ("CASHPAID", "BANK", -1),
    "RECEIVE-OVERPAYMENT": ("AROVERPAYMENT", "BANK", 1),
    "RECEIVE-PREPAYMENT": ("ARPREPAYMENT", "BANK", 1),
    "SPEND-OVERPAYMENT": ("APOVERPAYMENT", "BANK", -1),
    "SPEND-PREPAYMENT": ("APPREPAYMENT", "BANK", -1),
}
_PAYMENT_SOURCE = {
    "ACCREC": ("ACCRECPAYMENT", "DEBTORS", 1),
    "ACCPAY": ("ACCPAYPAYMENT", "CREDITORS", -1),
    "ACCRECCREDIT": ("ARCREDITPAYMENT", "DEBTORS", -1),
    "ACCPAYCREDIT": ("APCREDITPAYMENT", "CREDITORS", 1),
}


@dataclass
class _Buffer:
    """Journals posted under ``Ledger.buffered`` and not yet written."""

    tenant_id: str
    number: int
    journals: list[Record] = field(default_factory=list)
    lines: list[LedgerLine] = field(default_factory=list)
    by_source: dict[str, list[Record]] = field(default_factory=dict)


def _ledger_lines(
    number: int, date_ms: int, source_type: str, postings: list[Posting]
) -> list[LedgerLine]:
    """The rows a journal adds to the ledger table, one per posting, amounts in cents."""
    payments_only = source_type.endswith("PAYMENT") or source_type.startswith("CASH")
    return [
        LedgerLine(
            number,
            date_ms,
            p.account_id,
            _cents(round2(p.net)),
            _cents(round2(p.tax)),
            payments_only,
        )
        for p in postings
    ]


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


_SOURCE_ID_FIELDS = {
    "ManualJournals": "ManualJournalID",
    "BankTransfers": "BankTransferID",
    "Payments": "PaymentID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
    "BankTransactions": "BankTransactionID",
}


def _same_sums(previous: dict[str, tuple[Decimal, Decimal]], postings: list[Posting]) -> bool:
    """Whether ``postings`` add up, account by account, to what was posted before."""
    wanted: dict[str, tuple[Decimal, Decimal]] = {}
    for p in postings:
        net, tax = wanted.get(p.account_id, (ZERO, ZERO))
        wanted[p.account_id] = (net + p.net, tax + p.tax)
    zero = (ZERO, ZERO)
    return {k: v for k, v in previous.items() if v != zero} == {
        k: v for k, v in wanted.items() if v != zero
    }


class Ledger:
    """Posts journals for documents into a Store (Journals records + ledger lines)."""

    def __init__(self, store: Store, new_id: Callable[[], str] | None = None) -> None:
        self.store = store
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        self._accounts: dict[tuple[str, str], Record] = {}
        self._system: dict[tuple[str, str], Record] = {}
        self._rates: dict[str, dict[str, Decimal]] = {}
        self._tax_names: dict[str, dict[str, str]] = {}
        self._buffer: _Buffer | None = None

    # ----------------------------------------------------------------- lookups
    def forget(self, tenant_id: str) -> None:
        """Drop cached accounts and tax rates of a tenant (after they change)."""
        self._accounts = {k: v for k, v in self._accounts.items() if k[0] != tenant_id}
        self._system = {k: v for k, v in self._system.items() if k[0] != tenant_id}
        self._rates.pop(tenant_id, None)
        self._tax_names.pop(tenant_id, None)

    def tax_rates(self, tenant_id: str) -> dict[str, Decimal]:
        """TaxType -> effective rate in percent, for a tenant."""
        if tenant_id not in self._rates:
            rates = {}
            for rate in self.store.iter_records(tenant_id, "TaxRates"):
                value = rate.get("EffectiveRate", rate.get("DisplayTaxRate", 0))
                rates[str(rate["TaxType"])] = Decimal(str(value))
            self._rates[tenant_id] = rates
        return self._rates[tenant_id]

    def account(self, tenant_id: str, code_or_id: str) -> Record | None:
        """An account by Code or AccountID."""
        key = (tenant_id, code_or_id)
        if key not in self._accounts:
            found = self.store.get_by_name(tenant_id, "Accounts", code_or_id)
            if found is None:
                found = self.store.get(tenant_id, "Accounts", code_or_id)
            if found is None:
                return None
            self._accounts[key] = found
        return self._accounts[key]

    def system_account(self, tenant_id: str, system: str) -> Record:
        """The account flagged ``SystemAccount`` (DEBTORS, CREDITORS, GST...)."""
        key = (tenant_id, system)
        if key not in self._system:
            for acc in self.store.iter_records(tenant_id, "Accounts"):
                if acc.get("SystemAccount") == system:
                    self._system[key] = acc
                    break
            else:
                raise LookupError(f"tenant has no {system} system account")
        return self._system[key]

    # ----------------------------------------------------------------- posting
    def post(
        self,
        tenant_id: str,
        *,
        source_type: str,
        source_id: str,
        date_ms: int,
        created_ms: int,
        postings: list[Posting],
        reference: str | None = None,
    ) -> Record:
        """Write one journal (JournalNumber from the tenant's sequence) and its ledger lines."""
        buffer = self._buffer if self._buffer and self._buffer.tenant_id == tenant_id else None
        if buffer is not None:
            buffer.number += 1
            number = buffer.number
        else:
            number = self.store.next_number(tenant_id, "Journal")
        # The lines draw their IDs before the journal does: seeded IDs follow this order.
        lines = [self._journal_line(tenant_id, posting) for posting in postings]
        journal: Record = {
            "JournalID": self._new_id(),
            "JournalDate": ms_date(date_ms),
            "JournalNumber": number,
            "CreatedDateUTC": ms_date(created_ms),
            "SourceID": source_id,
            "SourceType": source_type,
            "JournalLines": lines,
        }
        if reference:
            journal["Reference"] = reference
        ledger_lines = _ledger_lines(number, date_ms, source_type, postings)
        if buffer is not None:
            buffer.journals.append(journal)
            buffer.by_source.setdefault(source_id.lower(), []).append(journal)
            buffer.lines.extend(ledger_lines)
            return journal
        with self.store.transaction():
            self.store.put(tenant_id, "Journals", journal)
            self.store.add_ledger_lines(tenant_id, ledger_lines)
        return journal

    def _journal_line(self, tenant_id: str, posting: Posting) -> Record:
        acc = self.account(tenant_id, posting.account_id) or {}
        line: Record = {
            "JournalLineID": self._new_id(),
            "AccountID": posting.account_id,
            "AccountCode": acc.get("Code", ""),
            "AccountType": acc.get("Type", ""),
            "AccountName": acc.get("Name", ""),
            "Description": posting.description,
            "NetAmount": round2(posting.net),
            "GrossAmount": round2(posting.net + posting.tax),
            "TaxAmount": round2(posting.tax),
        }
        if posting.tax_type:
            line["TaxType"] = posting.tax_type
            line["TaxName"] = self._tax_name(tenant_id, posting.tax_type)
        line["TrackingCategories"] = list(posting.tracking)
        return line

    @contextmanager
    def buffered(self, tenant_id: str) -> Iterator[None]:
        """Collect the journals posted for one tenant and write them in one batch at the end.

        For bulk loads (the seed): numbering, re-posting and reversal behave exactly as when
        posting one by one.
        """
        self._buffer = _Buffer(tenant_id, self.store.peek_number(tenant_id, "Journal"))
        try:
            yield
            buffer = self._buffer
            with self.store.transaction():
                self.store.put_many(tenant_id, "Journals", buffer.journals)
                self.store.add_ledger_lines(tenant_id, buffer.lines)
                self.store.set_number(tenant_id, "Journal", buffer.number)
        finally:
            self._buffer = None

    def _tax_name(self, tenant_id: str, tax_type: str) -> str:
        if tenant_id not in self._tax_names:
            self._tax_names[tenant_id] = {
                str(r["TaxType"]): str(r.get("Name", r["TaxType"]))
                for r in self.store.iter_records(tenant_id, "TaxRates")
            }
        return self._tax_names[tenant_id].get(tax_type, tax_type)

    def postings_for(self, tenant_id: str, resource: str, record: Record) -> list[Posting]:
        """The lines a document posts in its current state (empty when it posts nothing)."""
        status = record.get("Status")
        if resource == "ManualJournals":
            if status != "POSTED":
                return []
            return [
                Posting(
                    self._account_id(tenant_id, line),
                    money(line.get("LineAmount", 0)),
                    money(line.get("TaxAmount", 0)),
                    str(line.get("Description", "")),
                    line.get("TaxType"),
                    tuple(line.get("Tracking") or ()),
                )
                for line in record.get("JournalLines") or []
            ]
        if resource == "BankTransfers":
            if status == "DELETED":
                return []
            amount = money(record["Amount"])
            return [
                Posting(record["ToBankAccount"]["AccountID"], amount),
                Posting(record["FromBankAccount"]["AccountID"], -amount),
            ]
        if resource == "Payments":
            if status == "DELETED":
                return []
            doc = record.get("Invoice") or record.get("CreditNote") or {}
            kind = _PAYMENT_SOURCE.get(str(doc.get("Type", "ACCREC")))
            if kind is None:
                return []
            _, control, sign = kind
            amount = money(record["Amount"])
            bank = record["Account"]["AccountID"]
            ctl = self.system_account(tenant_id, control)["AccountID"]
            return [Posting(bank, amount * sign), Posting(ctl, -amount * sign)]
        if status not in POSTED_STATUSES:
            return []
        return self._document_postings(tenant_id, record)

    def _document_postings(self, tenant_id: str, record: Record) -> list[Posting]:
        """An invoice-like document's postings: its control (or bank) account against each
        line's account, tax to GST."""
        doc_kind = _DOC_SOURCE.get(str(record.get("Type")))
        if doc_kind is None:
            return []
        _, control, sign = doc_kind
        if control == "BANK":
            control_id = record["BankAccount"]["AccountID"]
        else:
            control_id = self.system_account(tenant_id, control)["AccountID"]
        postings = [Posting(control_id, money(record.get("Total", 0)) * sign)]
        inclusive = record.get("LineAmountTypes") == "Inclusive"
        total_tax = ZERO
        for line in record.get("LineItems") or []:
            amount = money(line.get("LineAmount", 0))
            tax = money(line.get("TaxAmount", 0))
            net = amount - tax if inclusive else amount
            total_tax += tax
            postings.append(
                Posting(
                    self._account_id(tenant_id, line),
                    -net * sign,
                    -tax * sign,
                    str(line.get("Description", "")),
                    line.get("TaxType"),
                    tuple(line.get("Tracking") or ()),
                )
            )
        if total_tax:
            gst = self.system_account(tenant_id, "GST")["AccountID"]
            postings.append(Posting(gst, -total_tax * sign))
        return postings

    def _account_id(self, tenant_id: str, line: Record) -> str:
        if line.get("AccountID"):
            return str(line["AccountID"])
        acc = self.account(tenant_id, str(line.get("AccountCode", "")))
        if acc is None:
            raise LookupError(f"unknown AccountCode {line.get('AccountCode')!r}")
        return str(acc["AccountID"])

    def source_type(self, resource: str, record: Record) -> str:
        """Journal SourceType for a document."""
        if resource == "ManualJournals":
            return "MANJOURNAL"
        if resource == "BankTransfers":
            return "TRANSFER"
        if resource == "Payments":
            doc = record.get("Invoice") or record.get("CreditNote") or {}
            return _PAYMENT_SOURCE.get(str(doc.get("Type")), ("ACCRECPAYMENT", "", 0))[0]
        return _DOC_SOURCE.get(str(record.get("Type")), (str(record.get("Type")), "", 0))[0]

    def posted_sums(self, tenant_id: str, source_id: str) -> dict[str, tuple[Decimal, Decimal]]:
        """Net and tax per account that a source's journals add up to so far."""
        sums: dict[str, tuple[Decimal, Decimal]] = {}
        cursor = self.store.conn.execute(
            "SELECT body FROM records WHERE t = ? AND resource = 'Journals' AND name = ?",
            (self.store.tenant_key(tenant_id), source_id.lower()),
        )
        journals = [decode(body) for (body,) in cursor.fetchall()]
        if self._buffer is not None and self._buffer.tenant_id == tenant_id:
            journals += self._buffer.by_source.get(source_id.lower(), [])
        for journal in journals:
            for line in journal["JournalLines"]:
                net, tax = sums.get(line["AccountID"], (ZERO, ZERO))
                sums[line["AccountID"]] = (
                    net + Decimal(str(line["NetAmount"])),
                    tax + Decimal(str(line["TaxAmount"])),
                )
        return sums

    def post_document(
        self,
        tenant_id: str,
        resource: str,
        record: Record,
        created_ms: int,
        first_time: bool = False,
    ) -> list[Record]:
        """Bring a document's journals in line with its current state; return new journals.

        ``first_time=True`` skips the look-up of earlier journals (the seed's fast path).
        """
        source_id = str(record[_SOURCE_ID_FIELDS[resource]])
        date_ms = ms_of(record.get("Date")) or ms_of(record.get("CreatedDateUTC")) or created_ms
        new = self.postings_for(tenant_id, resource, record)
        source_type = self.source_type(resource, record)
        reference = record.get("Reference") or record.get("Narration")

        def journal(postings: list[Posting]) -> Record:
            return self.post(
                tenant_id,
                source_type=source_type,
                source_id=source_id,
                date_ms=date_ms,
                created_ms=created_ms,
                postings=postings,
                reference=str(reference) if reference else None,
            )

        written: list[Record] = []
        if not first_time:
            previous = self.posted_sums(tenant_id, source_id)
            if previous:
                if _same_sums(previous, new):
                    return []
                reversal = [
                    Posting(acc, -net, -tax)
                    for acc, (net, tax) in previous.items()
                    if (net, tax) != (ZERO, ZERO)
                ]
                if reversal:
                    written.append(journal(reversal))
        if new:
            written.append(journal(new))
        return written

"""How a world grows with ``--scale``: how many of each document a tenant gets, and the invoices
generated and written in batches of 1,000, so a million of them never sit in memory at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xero_sandbox.catalog import Record
from xero_sandbox.seed.documents import invoice_with_payment
from xero_sandbox.seed.world import World, post_undone, updated_ms

__all__ = ["BATCH", "Counts", "in_batches", "write_invoices"]

BATCH = 1000


@dataclass(frozen=True)
class Counts:
    """How many of each a tenant of ``--scale N`` (N invoices) gets."""

    invoices: int
    contacts: int
    credit_notes: int
    bank_transactions: int
    cash_credits: int  # overpayments, and as many prepayments
    bank_transfers: int
    manual_journals: int
    orders_and_quotes: int  # purchase orders, and as many quotes
    repeating_invoices: int
    linked_transactions: int
    batch_payments: int

    @classmethod
    def of(cls, scale: int) -> Counts:
        return cls(
            invoices=scale,
            contacts=max(12, scale // 5),
            credit_notes=scale // 20 + 2,
            bank_transactions=scale // 5 + 3,
            cash_credits=scale // 100 + 1,
            bank_transfers=scale // 50 + 3,
            manual_journals=scale // 50 + 3,
            orders_and_quotes=scale // 20 + 2,
            repeating_invoices=scale // 50 + 2,
            linked_transactions=scale // 100 + 1,
            batch_payments=scale // 100 + 1,
        )


def in_batches(write: Callable[[list[Record]], None], records: Iterator[Record]) -> None:
    """Hand ``records`` to ``write`` in lists of ``BATCH``."""
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= BATCH:
            write(batch)
            batch = []
    if batch:
        write(batch)


def write_invoices(world: World, items: list[Record], count: int) -> None:
    """Invoices and bills with their payments, one transaction and journal batch per 1,000."""
    bank = world.account_ref("090")
    for start in range(0, count, BATCH):
        made = [
            invoice_with_payment(world, items, index, bank)
            for index in range(start, min(count, start + BATCH))
        ]
        _write_batch(world, made)


def _write_batch(world: World, made: list[tuple[Record, Record | None, int]]) -> None:
    store, ledger, tid = world.store, world.ledger, world.tenant_id
    payments = [payment for _, payment, _ in made if payment is not None]
    with store.transaction(), ledger.buffered(tid):
        store.put_many(tid, "Invoices", [invoice for invoice, _, _ in made])
        store.put_many(tid, "Payments", payments)
        for invoice, _, created in made:
            if invoice["Status"] == "VOIDED":
                post_undone(world, "Invoices", invoice, created, updated_ms(invoice), "AUTHORISED")
            elif invoice["Status"] in ("AUTHORISED", "PAID"):
                ledger.post_document(tid, "Invoices", invoice, created, True)
        for payment in payments:
            ledger.post_document(tid, "Payments", payment, updated_ms(payment), first_time=True)

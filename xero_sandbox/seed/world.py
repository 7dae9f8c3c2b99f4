"""What every seeding module shares: a tenant's random draws, what it has seeded so far, and the
wire forms of dates and money."""

from __future__ import annotations

import calendar
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import Ledger, ms_date
from xero_sandbox.store import Store

__all__ = [
    "DAY_MS",
    "SEED_END",
    "SEED_START",
    "Draws",
    "World",
    "contact_ref",
    "date_string",
    "dates_due",
    "day_ms",
    "iso",
    "iso_utc",
    "money",
    "post_undone",
    "updated_ms",
]


SEED_START = date(2025, 4, 1)  # first document date
SEED_END = date(2026, 9, 30)  # last document date (two financial years ending 31 March)
DAY_MS = 86_400_000


def day_ms(day: date) -> int:
    """Midnight UTC of ``day`` in epoch milliseconds."""
    return calendar.timegm(day.timetuple()) * 1000


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def iso(ms: int) -> str:
    """An epoch-ms instant as ``2025-04-01T09:30:00Z``."""
    return iso_utc(datetime.fromtimestamp(ms / 1000, UTC))


def iso_utc(moment: datetime) -> str:
    """A UTC moment as ``2025-04-01T09:30:00Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def updated_ms(record: Record) -> int:
    """The epoch ms of a record's ``/Date(ms+0000)/`` UpdatedDateUTC."""
    text = str(record["UpdatedDateUTC"])
    return int(text[6:].split("+")[0].split(")")[0])


def date_string(day: date, plus_days: int = 0) -> str:
    """The ``*DateString`` echo of a date (Xero: local midnight, no zone)."""
    return f"{date.fromordinal(day.toordinal() + plus_days).isoformat()}T00:00:00"


def dates_due(day: date, due_in_days: int) -> Record:
    """Date and DueDate of a document with their ``*DateString`` echoes."""
    return {
        "Date": ms_date(day_ms(day)),
        "DateString": date_string(day),
        "DueDate": ms_date(day_ms(day) + due_in_days * DAY_MS),
        "DueDateString": date_string(day, due_in_days),
    }


def contact_ref(contact: Record) -> Record:
    return {"ContactID": contact["ContactID"], "Name": contact["Name"]}


@dataclass
class Draws:
    """Ids and dates drawn from one generator: the same seed draws the same values."""

    rng: random.Random

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def day(self, first: date = SEED_START, last: date = SEED_END) -> date:
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))


@dataclass
class World(Draws):
    """Everything the generators of one tenant's Accounting data share."""

    store: Store
    ledger: Ledger
    tenant_id: str
    accounts: dict[str, Record] = field(default_factory=dict)
    customers: list[Record] = field(default_factory=list)
    suppliers: list[Record] = field(default_factory=list)
    tracking: list[tuple[Record, list[Record]]] = field(default_factory=list)
    bill_lines: list[tuple[str, str, str]] = field(default_factory=list)
    rec_payments: list[Record] = field(default_factory=list)
    users: list[Record] = field(default_factory=list)
    overlap: int = 0  # contacts and invoices drawn alike in every Demo Company (--overlap)
    shared_customers: list[Record] = field(default_factory=list)
    shared_seed: str = ""

    def shared(self, what: str, index: int) -> random.Random | None:
        """The generator of the ``index``-th contact or invoice when it is one of the
        ``--overlap`` first ones (the same in every Demo Company), else None."""
        if index >= self.overlap:
            return None
        return random.Random(f"{self.shared_seed}:{what}:{index}")

    def dated(self) -> tuple[date, int]:
        """A document's day and the working-hours moment it was made that day, in epoch ms."""
        day = self.day()
        return day, self.stamp(day)

    def stamp(self, day: date, later_days: int = 0) -> int:
        """A working-hours timestamp on (or some days after) ``day``, in epoch ms."""
        base = day_ms(day) + later_days * DAY_MS
        return base + self.rng.randrange(8 * 3600_000, 18 * 3600_000)

    def account_ref(self, code: str) -> Record:
        acc = self.accounts[code]
        return {"AccountID": acc["AccountID"], "Code": code, "Name": acc["Name"]}

    def price(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randrange(low, high)) / 100

    def customer(self) -> Record:
        return self.customers[self.rng.randrange(len(self.customers))]

    def supplier(self) -> Record:
        """A supplier, or a customer when the tenant has no suppliers."""
        pool = self.suppliers or self.customers
        return pool[self.rng.randrange(len(pool))]


def post_undone(
    world: World, resource: str, record: Record, created: int, undone: int, live: str
) -> None:
    """Post a document that stood as ``live`` (AUTHORISED, POSTED) from ``created`` and was
    voided or deleted at ``undone``: its journal and the journal that reverses it."""
    ledger, tid = world.ledger, world.tenant_id
    ledger.post_document(tid, resource, {**record, "Status": live}, created, True)
    ledger.post_document(tid, resource, record, undone)

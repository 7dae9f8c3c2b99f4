"""The deterministic Demo Company: the same seed always writes the same database, byte for byte.

Every value comes from a ``random.Random`` seeded per tenant from ``--seed`` and the tenant's
position; no wall clock, no set or dict iteration whose order could vary. Documents are dated
between 2025-04-01 and 2026-09-30 (two financial years ending 31 March, as in New Zealand).

``--scale N`` is the number of invoices per tenant; other documents grow in proportion
(contacts N/5, credit notes N/20, bank transactions N/5, ...). Invoices are generated and
written in batches of 1,000, so a million of them never sit in memory at once; every
authorised document posts its journal through ``Ledger`` as it is written.

Every Demo Company numbers its contacts ``C000001``... and its sales invoices ``INV-0001``..., so
a second one's numbers overlap the first's (a copy between them meets every clash a populated
organisation has). ``--overlap N`` also draws the first N contacts' names and the first N
invoices' kind (a sale) and contact from one generator shared by all Demo Companies: those
contacts have the same number *and* name everywhere, and ``INV-0001``... ``INV-000N`` belong to the
same contact in each (their lines, dates, statuses and payments still differ).

Sequences the writes side continues: ``INV`` (ACCREC ``INV-0001``), ``CN`` (``CN-0001``),
``PO`` (``PO-0001``), ``QU`` (``QU-0001``), ``Journal`` (JournalNumber).
"""

from __future__ import annotations

import calendar
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from xero_sandbox.apis.seeding import seed_other_apis
from xero_sandbox.config import SandboxConfig
from xero_sandbox.ledger import (
    ACCOUNT_CLASS,
    Ledger,
    compute_totals,
    ms_date,
    note_discounts,
    quantity,
    unit,
)
from xero_sandbox.regions import apply_region, parse_regions
from xero_sandbox.store import Store, Tenant

__all__ = ["SEED_START", "seed_if_empty", "seed_tenant"]

Record = dict[str, Any]

SEED_START = date(2025, 4, 1)  # first document date
SEED_END = date(2026, 9, 30)  # last document date
DAY_MS = 86_400_000
_BATCH = 1000

# (code, name, type, system account, tax type, description)
_ACCOUNTS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("090", "Business Bank Account", "BANK", "", "NONE", ""),
    ("091", "Business Savings Account", "BANK", "", "NONE", ""),
    ("200", "Sales", "REVENUE", "", "OUTPUT2", "Income from any normal business activity"),
    ("260", "Other Revenue", "REVENUE", "", "OUTPUT2", "Any other income"),
    ("270", "Interest Income", "REVENUE", "", "NONE", "Interest income"),
    ("300", "Purchases", "DIRECTCOSTS", "", "INPUT2", "Goods purchased for resale"),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "", "INPUT2", "Cost of goods sold"),
    ("400", "Advertising", "EXPENSE", "", "INPUT2", "Advertising and marketing"),
    ("404", "Bank Fees", "EXPENSE", "", "NONE", "Fees charged by the bank"),
    ("408", "Cleaning", "EXPENSE", "", "INPUT2", ""),
    ("412", "Consulting & Accounting", "EXPENSE", "", "INPUT2", ""),
    ("416", "Depreciation", "DEPRECIATN", "", "NONE", ""),
    ("420", "Entertainment", "EXPENSE", "", "INPUT2", ""),
    ("425", "Freight & Courier", "EXPENSE", "", "INPUT2", ""),
    ("429", "General Expenses", "EXPENSE", "", "INPUT2", ""),
    ("433", "Insurance", "EXPENSE", "", "INPUT2", ""),
    ("437", "Interest Expense", "EXPENSE", "", "NONE", ""),
    ("445", "Light, Power, Heating", "EXPENSE", "", "INPUT2", ""),
    ("449", "Motor Vehicle Expenses", "EXPENSE", "", "INPUT2", ""),
    ("453", "Office Expenses", "EXPENSE", "", "INPUT2", ""),
    ("461", "Printing & Stationery", "EXPENSE", "", "INPUT2", ""),
    ("469", "Rent", "OVERHEADS", "", "INPUT2", ""),
    ("473", "Repairs and Maintenance", "EXPENSE", "", "INPUT2", ""),
    ("477", "Wages and Salaries", "EXPENSE", "", "NONE", ""),
    ("485", "Subscriptions", "EXPENSE", "", "INPUT2", ""),
    ("489", "Telephone & Internet", "EXPENSE", "", "INPUT2", ""),
    ("493", "Travel - National", "EXPENSE", "", "INPUT2", ""),
    ("499", "Old Expenses", "EXPENSE", "", "INPUT2", "archived"),
    ("610", "Accounts Receivable", "CURRENT", "DEBTORS", "NONE", ""),
    ("620", "Prepayments", "PREPAYMENT", "", "NONE", ""),
    ("630", "Inventory", "INVENTORY", "", "NONE", ""),
    ("710", "Office Equipment", "FIXED", "", "INPUT2", ""),
    ("720", "Computer Equipment", "FIXED", "", "INPUT2", ""),
    ("800", "Accounts Payable", "CURRLIAB", "CREDITORS", "NONE", ""),
    ("820", "GST", "CURRLIAB", "GST", "NONE", ""),
    ("830", "Income Tax", "CURRLIAB", "", "NONE", ""),
    ("840", "Historical Adjustment", "CURRLIAB", "HISTORICAL", "NONE", ""),
    ("860", "Rounding", "CURRLIAB", "ROUNDING", "NONE", ""),
    ("877", "Tracking Transfers", "CURRLIAB", "TRACKINGTRANSFERS", "NONE", ""),
    ("900", "Loan", "TERMLIAB", "", "NONE", ""),
    ("960", "Retained Earnings", "EQUITY", "RETAINEDEARNINGS", "NONE", ""),
    ("970", "Owner A Funds Introduced", "EQUITY", "", "NONE", ""),
)
# (TaxType, name, rate %, report tax type)
_TAX_RATES = (
    ("OUTPUT2", "GST on Income", "15", "OUTPUT"),
    ("INPUT2", "GST on Expenses", "15", "INPUT"),
    ("NONE", "No GST", "0", "NONE"),
    ("ZERORATED", "Zero Rated", "0", "OUTPUT"),
    ("GSTONIMPORTS", "GST on Imports", "0", "GSTONIMPORTS"),
)
_CURRENCIES = (("NZD", "New Zealand Dollar"), ("AUD", "Australian Dollar"), ("USD", "US Dollar"))
_FIRST = (
    "Ann",
    "Ben",
    "Chloe",
    "Dev",
    "Ema",
    "Finn",
    "Grace",
    "Hana",
    "Ivan",
    "Jo",
    "Kiri",
    "Liam",
)
_LAST = ("Ngata", "Smith", "Walker", "Patel", "Chen", "Brown", "Wilson", "Taylor", "Clarke", "Reid")
_WORDS = (
    "Aroha",
    "Basket",
    "Bayside",
    "Boom",
    "City",
    "Coastal",
    "Diisco",
    "Espresso",
    "Fern",
    "Hamilton",
    "Harbour",
    "Kauri",
    "Marine",
    "Moana",
    "Orchard",
    "Pinnacle",
    "Ridgeway",
    "Southern",
    "Summit",
    "Tasman",
    "Totara",
    "Vantage",
    "Waitaki",
    "Zenith",
)
_SUFFIX = ("Ltd", "Limited", "& Co", "Traders", "Services", "Supplies", "Group", "Partners")
_ITEMS = (
    ("BOOK", "Fish out of Water: Finding Your Brand", "1995"),
    ("DESK", "Standing desk", "48900"),
    ("GB1-White", "Golf balls - white single", "250"),
    ("GB3-White", "Golf balls - white 3pk", "650"),
    ("TRAIN", "Half day training - Microsoft Office", "49500"),
    ("DevD", "Development work - developer day rate", "65000"),
    ("PMD", "Project management - day rate", "70000"),
    ("Support", "Support plan - monthly", "9900"),
    ("CAB", "Cables - per metre", "4575"),  # 0.4575: a 4-dp unit price for unitdp tests
    ("PAPER", "A4 paper ream", "899"),
)


def _day_ms(day: date) -> int:
    return calendar.timegm(day.timetuple()) * 1000


@dataclass
class _World:
    """Everything the generators of one tenant share."""

    store: Store
    ledger: Ledger
    tenant_id: str
    rng: random.Random
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

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def day(self) -> date:
        span = (SEED_END - SEED_START).days
        return date.fromordinal(SEED_START.toordinal() + self.rng.randrange(span + 1))

    def stamp(self, day: date, later_days: int = 0) -> int:
        """A working-hours timestamp on (or some days after) ``day``, in epoch ms."""
        base = _day_ms(day) + later_days * DAY_MS
        return base + self.rng.randrange(8 * 3600_000, 18 * 3600_000)

    def account_ref(self, code: str) -> Record:
        acc = self.accounts[code]
        return {"AccountID": acc["AccountID"], "Code": code, "Name": acc["Name"]}

    def price(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randrange(low, high)) / 100


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _contact_ref(contact: Record) -> Record:
    return {"ContactID": contact["ContactID"], "Name": contact["Name"]}


def _settings(world: _World, tenant: Tenant, created_ms: int, base_name: str) -> None:
    rng = world.rng
    store, tid = world.store, world.tenant_id
    rates = [
        {
            "Name": name,
            "TaxType": tax_type,
            "TaxComponents": [
                {
                    "Name": "GST",
                    "Rate": Decimal(rate).quantize(Decimal("0.0001")),
                    "IsCompound": False,
                    "IsNonRecoverable": False,
                }
            ],
            "Status": "ACTIVE",
            "ReportTaxType": report,
            "CanApplyToAssets": True,
            "CanApplyToEquity": True,
            "CanApplyToExpenses": True,
            "CanApplyToLiabilities": True,
            "CanApplyToRevenue": True,
            "DisplayTaxRate": Decimal(rate).quantize(Decimal("0.0000")),
            "EffectiveRate": Decimal(rate).quantize(Decimal("0.0000")),
        }
        for tax_type, name, rate, report in _TAX_RATES
    ]
    store.put_many(tid, "TaxRates", rates)
    store.put_many(tid, "Currencies", [{"Code": c, "Description": d} for c, d in _CURRENCIES])
    accounts = []
    for index, (code, name, acc_type, system, tax_type, description) in enumerate(_ACCOUNTS):
        acc: Record = {
            "AccountID": world.uid(),
            "Code": code,
            "Name": name,
            "Status": "ARCHIVED" if description == "archived" else "ACTIVE",
            "Type": acc_type,
            "TaxType": tax_type,
            "Class": ACCOUNT_CLASS[acc_type],
            "EnablePaymentsToAccount": False,
            "ShowInExpenseClaims": acc_type in ("EXPENSE", "OVERHEADS"),
            "BankAccountType": "BANK" if acc_type == "BANK" else "",
            "ReportingCode": f"{ACCOUNT_CLASS[acc_type][:3]}.{code}",
            "ReportingCodeName": name,
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(created_ms + index * 1000),
            "AddToWatchlist": acc_type == "BANK",
        }
        if description and description != "archived":
            acc["Description"] = description
        if system:
            acc["SystemAccount"] = system
        if acc_type == "BANK":
            acc["BankAccountNumber"] = f"0{rng.randrange(10**13, 10**14)}"
            acc["CurrencyCode"] = "NZD"
        accounts.append(acc)
        world.accounts[code] = acc
    store.put_many(tid, "Accounts", accounts)
    store.put(
        tid,
        "Organisation",
        {
            "OrganisationID": world.uid(),
            "APIKey": f"{rng.getrandbits(64):016X}",
            "Name": tenant.name,
            "LegalName": f"{base_name} Limited",
            "PaysTax": True,
            "Version": "NZ",
            "OrganisationType": "COMPANY",
            "BaseCurrency": "NZD",
            "CountryCode": "NZ",
            "IsDemoCompany": not tenant.empty,
            "OrganisationStatus": "ACTIVE",
            "RegistrationNumber": str(rng.randrange(1_000_000, 9_999_999)),
            "TaxNumber": "-".join(str(rng.randrange(100, 999)) for _ in range(3)),
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 3,
            "SalesTaxBasis": "INVOICE",
            "SalesTaxPeriod": "TWOMONTHS",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Inclusive",
            "CreatedDateUTC": ms_date(created_ms),
            "Timezone": "NEWZEALANDSTANDARDTIME",
            "OrganisationEntityType": "COMPANY",
            "ShortCode": tenant.short_code,
            "Class": "DEMO" if not tenant.empty else "STANDARD",
            "Edition": "BUSINESS",
            "LineOfBusiness": "Consulting and retail",
            "Addresses": [
                {
                    "AddressType": "POBOX",
                    "AddressLine1": f"PO Box {rng.randrange(100, 9999)}",
                    "City": "Wellington",
                    "PostalCode": "6011",
                    "Country": "New Zealand",
                }
            ],
            "Phones": [{"PhoneType": "OFFICE", "PhoneNumber": "4-555-0100"}],
            "ExternalLinks": [],
            "PaymentTerms": {
                "Bills": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
                "Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
            },
        },
    )


def _reference_data(world: _World, created_ms: int, n_contacts: int) -> list[Record]:
    """Users, branding themes, tracking, items, contacts and groups; returns the items."""
    store, tid, rng = world.store, world.tenant_id, world.rng
    roles = ("STANDARD", "FINANCIALADVISER", "READONLY")
    for index, role in enumerate(roles):
        first, last = _FIRST[index], _LAST[index]
        world.users.append(
            {
                "UserID": world.uid(),
                "EmailAddress": f"{first.lower()}.{last.lower()}@example.co.nz",
                "FirstName": first,
                "LastName": last,
                "UpdatedDateUTC": ms_date(created_ms + index * 60_000),
                "IsSubscriber": index == 0,
                "OrganisationRole": role,
            }
        )
    store.put_many(tid, "Users", world.users)
    store.put_many(
        tid,
        "BrandingThemes",
        [
            {
                "BrandingThemeID": world.uid(),
                "Name": name,
                "LogoUrl": "https://in.xero.com/logo?id=sandbox",
                "Type": "INVOICE",
                "SortOrder": index,
                "CreatedDateUTC": ms_date(created_ms + index * 1000),
            }
            for index, name in enumerate(("Standard", "Special Projects"))
        ],
    )
    categories = []
    for name, options, status in (
        ("Region", ("North", "South", "East", "West"), "ACTIVE"),
        ("Department", ("Sales", "Admin", "Operations"), "ACTIVE"),
        ("Old Projects", ("Alpha", "Beta"), "ARCHIVED"),
    ):
        cat_id = world.uid()
        opts = [
            {"TrackingOptionID": world.uid(), "Name": opt, "Status": "ACTIVE"} for opt in options
        ]
        category = {
            "TrackingCategoryID": cat_id,
            "Name": name,
            "Status": status,
            "Options": opts,
        }
        categories.append(category)
        if status == "ACTIVE":
            world.tracking.append((category, opts))
    store.put_many(tid, "TrackingCategories", categories)
    items = []
    for index, (code, name, cents) in enumerate(_ITEMS):
        sale = Decimal(cents) / (10000 if code == "CAB" else 100)
        items.append(
            {
                "ItemID": world.uid(),
                "Code": code,
                "Name": name,
                "Description": name,
                "PurchaseDescription": name,
                "PurchaseDetails": {
                    "UnitPrice": unit(sale * Decimal("0.6"), 4),
                    "AccountCode": "300",
                    "TaxType": "INPUT2",
                },
                "SalesDetails": {
                    "UnitPrice": unit(sale, 4),
                    "AccountCode": "200",
                    "TaxType": "OUTPUT2",
                },
                "IsTrackedAsInventory": False,
                "IsSold": True,
                "IsPurchased": code != "Support",
                "UpdatedDateUTC": ms_date(created_ms + 3600_000 + index * 1000),
            }
        )
    store.put_many(tid, "Items", items)

    def contacts() -> Iterator[Record]:
        for index in range(n_contacts):
            supplier = index % 3 == 2
            words = world.shared("contact", index) or rng
            name = (
                f"{_WORDS[words.randrange(len(_WORDS))]} {_WORDS[words.randrange(len(_WORDS))]} "
                f"{_SUFFIX[words.randrange(len(_SUFFIX))]} {index + 1}"
            )
            first, last = _FIRST[rng.randrange(len(_FIRST))], _LAST[rng.randrange(len(_LAST))]
            archived = index % 10 == 5  # about one contact in ten is archived
            contact: Record = {
                "ContactID": world.uid(),
                "ContactNumber": f"C{index + 1:06d}",
                "AccountNumber": f"AC{index + 1:05d}",
                "ContactStatus": "ARCHIVED" if archived else "ACTIVE",
                "Name": name,
                "FirstName": first,
                "LastName": last,
                "EmailAddress": f"{first.lower()}@{name.split()[0].lower()}{index + 1}.co.nz",
                "BankAccountDetails": "",
                "Addresses": [
                    {"AddressType": "STREET", "City": "Auckland", "Country": "New Zealand"},
                    {
                        "AddressType": "POBOX",
                        "AddressLine1": f"PO Box {rng.randrange(100, 9999)}",
                        "City": "Auckland",
                        "PostalCode": "1010",
                        "Country": "New Zealand",
                    },
                ],
                "Phones": [
                    {"PhoneType": "DEFAULT", "PhoneNumber": f"555-{rng.randrange(1000, 9999)}"},
                    {"PhoneType": "MOBILE", "PhoneNumber": ""},
                ],
                "UpdatedDateUTC": ms_date(created_ms + 7200_000 + index * 1000),
                "ContactGroups": [],
                "IsSupplier": supplier,
                "IsCustomer": not supplier,
                "DefaultCurrency": "NZD",
                "HasAttachments": False,
                "HasValidationErrors": False,
            }
            if not archived:
                (world.suppliers if supplier else world.customers).append(
                    {"ContactID": contact["ContactID"], "Name": name}
                )
                if index < world.overlap and not supplier:
                    world.shared_customers.append(world.customers[-1])
            yield contact

    _in_batches(lambda batch: store.put_many(tid, "Contacts", batch), contacts())
    groups = []
    for index, name in enumerate(("Preferred Customers", "Wholesale", "Key Suppliers")):
        pool = world.suppliers if index == 2 else world.customers
        members = [_contact_ref(c) for c in pool[index : index + 3]]
        groups.append(
            {
                "ContactGroupID": world.uid(),
                "Name": name,
                "Status": "ACTIVE",
                "Contacts": members,
            }
        )
    store.put_many(tid, "ContactGroups", groups)
    return items


def _in_batches(write: Callable[[list[Record]], None], records: Iterator[Record]) -> None:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= _BATCH:
            write(batch)
            batch = []
    if batch:
        write(batch)


def _lines(
    world: _World, items: list[Record], sales: bool, tracked: bool, discounts: bool = False
) -> list[Record]:
    """1-3 item lines; ``discounts`` allows DiscountRate (Xero: ACCREC invoices and quotes)."""
    rng = world.rng
    lines = []
    for _ in range(rng.randrange(1, 4)):
        item = items[rng.randrange(len(items))]
        details = item["SalesDetails" if sales else "PurchaseDetails"]
        line: Record = {
            "LineItemID": world.uid(),
            "ItemCode": item["Code"],
            "Description": item["Description"],
            "Quantity": Decimal(rng.randrange(1, 11)),
            "UnitAmount": details["UnitPrice"],
            "AccountCode": details["AccountCode"],
            "TaxType": details["TaxType"],
            "Tracking": [],
        }
        if discounts and rng.random() < 0.1:
            line["DiscountRate"] = Decimal(rng.choice((5, 10, 15))).quantize(Decimal("0.00"))
        if tracked and world.tracking:
            category, options = world.tracking[0]
            option = options[rng.randrange(len(options))]
            line["Tracking"] = [
                {
                    "TrackingCategoryID": category["TrackingCategoryID"],
                    "TrackingOptionID": option["TrackingOptionID"],
                    "Name": category["Name"],
                    "Option": option["Name"],
                }
            ]
        lines.append(line)
    return lines


def _date_string(day: date, plus_days: int = 0) -> str:
    """The ``*DateString`` echo of a date (Xero: local midnight, no zone)."""
    return f"{date.fromordinal(day.toordinal() + plus_days).isoformat()}T00:00:00"


def _dates_due(day: date, due_in_days: int) -> Record:
    """Date and DueDate of a document with their ``*DateString`` echoes."""
    return {
        "Date": ms_date(_day_ms(day)),
        "DateString": _date_string(day),
        "DueDate": ms_date(_day_ms(day) + due_in_days * DAY_MS),
        "DueDateString": _date_string(day, due_in_days),
    }


def _finish_lines(record: Record, rates: dict[str, Decimal], unit_dp: int = 4) -> Record:
    compute_totals(record, rates, unit_dp=unit_dp)
    for line in record.get("LineItems") or []:
        line["Quantity"] = quantity(line["Quantity"])
    return record


def _invoices(world: _World, items: list[Record], count: int) -> None:
    """Invoices and bills with their payments, streamed in batches, journals posted."""
    store, ledger, tid, rng = world.store, world.ledger, world.tenant_id, world.rng
    rates = ledger.tax_rates(tid)
    bank = world.account_ref("090")
    for start in range(0, count, _BATCH):
        invoices: list[Record] = []
        payments: list[Record] = []
        postings: list[tuple[str, Record, int]] = []
        for index in range(start, min(count, start + _BATCH)):
            # An --overlap invoice is a sale (so it takes the same INV number in every Demo
            # Company) to one of the contacts every Demo Company shares; the rest is its own.
            shared = world.shared("invoice", index)
            if shared is not None and world.shared_customers:
                sales = True
                pool = world.shared_customers
                contact = pool[shared.randrange(len(pool))]
            else:
                sales = rng.random() < 0.65 or not world.suppliers
                pool = world.customers if sales else world.suppliers
                contact = pool[rng.randrange(len(pool))]
            day = world.day()
            roll = rng.random()
            status = (
                "DRAFT"
                if roll < 0.08
                else "SUBMITTED"
                if roll < 0.12
                else "DELETED"
                if roll < 0.16
                else "VOIDED"
                if roll < 0.20
                else "PAID"
                if roll < 0.58
                else "AUTHORISED"
            )
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
                "Contact": _contact_ref(contact),
                **_dates_due(day, 20),
                "Status": status,
                "LineAmountTypes": mode,
                "LineItems": _lines(
                    world, items, sales, tracked=rng.random() < 0.3, discounts=sales
                ),
                "CurrencyCode": "NZD",
                "CurrencyRate": Decimal("1.0000000000"),
                "BrandingThemeID": None,
                "SentToContact": sales and status in ("AUTHORISED", "PAID"),
                "HasAttachments": False,
                "IsDiscounted": False,
                "HasErrors": False,
                "Payments": [],
                "CreditNotes": [],
                "Prepayments": [],
                "Overpayments": [],
            }
            del invoice["BrandingThemeID"]
            _finish_lines(invoice, rates)
            note_discounts(invoice)
            total = invoice["Total"]
            paid = Decimal("0.00")
            updated = created
            if status in ("PAID", "AUTHORISED") and total > 0:
                paid = (
                    total
                    if status == "PAID"
                    else (_money(total * Decimal(rng.choice((0, 0, 25, 50)) / 100)))
                )
            if paid > 0:
                pay_day = date.fromordinal(day.toordinal() + rng.randrange(0, 30))
                pay_ms = world.stamp(pay_day)
                updated = max(updated, pay_ms)
                payment_id = world.uid()
                payment: Record = {
                    "PaymentID": payment_id,
                    "Date": ms_date(_day_ms(pay_day)),
                    "BankAmount": paid,
                    "Amount": paid,
                    "Reference": f"Payment {number}",
                    "CurrencyRate": Decimal("1.0000000000"),
                    "PaymentType": "ACCRECPAYMENT" if sales else "ACCPAYPAYMENT",
                    "Status": "AUTHORISED",
                    "UpdatedDateUTC": ms_date(pay_ms),
                    "UpdatedDateUTCString": _iso(pay_ms),
                    "HasAccount": True,
                    "IsReconciled": rng.random() < 0.7,
                    "Account": bank,
                    "Invoice": {
                        "InvoiceID": invoice_id,
                        "InvoiceNumber": number,
                        "Type": invoice["Type"],
                        "Contact": _contact_ref(contact),
                        "CurrencyCode": "NZD",
                    },
                    "HasValidationErrors": False,
                }
                payments.append(payment)
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
            if status == "VOIDED":
                updated = world.stamp(day, rng.randrange(1, 20))
            invoice["AmountPaid"] = paid
            invoice["AmountCredited"] = Decimal("0.00")
            invoice["AmountDue"] = (
                Decimal("0.00") if status in ("VOIDED", "DELETED") else total - paid
            )
            invoice["UpdatedDateUTC"] = ms_date(updated)
            invoice["UpdatedDateUTCString"] = _iso(updated)
            invoices.append(invoice)
            if not sales and len(world.bill_lines) < 20 and status in ("AUTHORISED", "PAID"):
                world.bill_lines.append(
                    (invoice_id, invoice["LineItems"][0]["LineItemID"], contact["ContactID"])
                )
            if status in ("AUTHORISED", "PAID", "VOIDED"):
                postings.append(("Invoices", invoice, created))
        with store.transaction(), ledger.buffered(tid):
            store.put_many(tid, "Invoices", invoices)
            store.put_many(tid, "Payments", payments)
            for resource, record, created in postings:
                if record["Status"] == "VOIDED":
                    ledger.post_document(
                        tid, resource, {**record, "Status": "AUTHORISED"}, created, True
                    )
                    ledger.post_document(tid, resource, record, _updated_ms(record))
                else:
                    ledger.post_document(tid, resource, record, created, True)
            for payment in payments:
                ledger.post_document(
                    tid, "Payments", payment, _updated_ms(payment), first_time=True
                )


def _updated_ms(record: Record) -> int:
    text = str(record["UpdatedDateUTC"])
    return int(text[6:].split("+")[0].split(")")[0])


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _credit_notes(world: _World, items: list[Record], count: int) -> None:
    store, ledger, tid, rng = world.store, world.ledger, world.tenant_id, world.rng
    rates = ledger.tax_rates(tid)
    for _ in range(count):
        sales = rng.random() < 0.7 or not world.suppliers
        pool = world.customers if sales else world.suppliers
        contact = pool[rng.randrange(len(pool))]
        day = world.day()
        created = world.stamp(day)
        status = rng.choices(("DRAFT", "AUTHORISED", "PAID", "VOIDED"), (15, 55, 20, 10))[0]
        number = (
            f"CN-{store.next_number(tid, 'CN'):04d}" if sales else f"SCN-{rng.randrange(10**5)}"
        )
        note: Record = {
            "Type": "ACCRECCREDIT" if sales else "ACCPAYCREDIT",
            "CreditNoteID": world.uid(),
            "CreditNoteNumber": number,
            "Reference": "Returned goods",
            "Contact": _contact_ref(contact),
            **_dates_due(day, 20),
            "Status": status,
            "LineAmountTypes": "Exclusive",
            "LineItems": _lines(world, items, sales, tracked=False),
            "CurrencyCode": "NZD",
            "CurrencyRate": Decimal("1.0000000000"),
            "SentToContact": False,
            "HasAttachments": False,
            "HasErrors": False,
            "Payments": [],
            "Allocations": [],
        }
        _finish_lines(note, rates)
        note_discounts(note)
        note["RemainingCredit"] = Decimal("0.00") if status == "PAID" else note["Total"]
        note["AppliedAmount"] = Decimal("0.00")
        updated = created
        payment = None
        if status == "PAID":
            pay_ms = world.stamp(day, rng.randrange(1, 15))
            updated = pay_ms
            payment = {
                "PaymentID": world.uid(),
                "Date": ms_date(_day_ms(day) + (pay_ms - _day_ms(day)) // DAY_MS * DAY_MS),
                "BankAmount": note["Total"],
                "Amount": note["Total"],
                "Reference": f"Refund {number}",
                "CurrencyRate": Decimal("1.0000000000"),
                "PaymentType": "ARCREDITPAYMENT" if sales else "APCREDITPAYMENT",
                "Status": "AUTHORISED",
                "UpdatedDateUTC": ms_date(pay_ms),
                "UpdatedDateUTCString": _iso(pay_ms),
                "HasAccount": True,
                "IsReconciled": True,
                "Account": world.account_ref("090"),
                "CreditNote": {
                    "CreditNoteID": note["CreditNoteID"],
                    "CreditNoteNumber": number,
                    "Type": note["Type"],
                    "Contact": _contact_ref(contact),
                },
                "HasValidationErrors": False,
            }
            note["Payments"] = [
                {
                    "PaymentID": payment["PaymentID"],
                    "Date": payment["Date"],
                    "Amount": note["Total"],
                }
            ]
            note["FullyPaidOnDate"] = payment["Date"]
        note["UpdatedDateUTC"] = ms_date(updated)
        note["UpdatedDateUTCString"] = _iso(updated)
        store.put(tid, "CreditNotes", note)
        if status in ("AUTHORISED", "PAID"):
            ledger.post_document(tid, "CreditNotes", note, created, first_time=True)
        elif status == "VOIDED":
            ledger.post_document(
                tid, "CreditNotes", {**note, "Status": "AUTHORISED"}, created, True
            )
            ledger.post_document(tid, "CreditNotes", note, updated)
        if payment is not None:
            store.put(tid, "Payments", payment)
            ledger.post_document(tid, "Payments", payment, updated, first_time=True)


def _bank_transactions(world: _World, count: int) -> None:
    store, ledger, tid, rng = world.store, world.ledger, world.tenant_id, world.rng
    rates = ledger.tax_rates(tid)
    expense_codes = ("400", "404", "408", "412", "420", "429", "445", "453", "469", "489", "493")
    for index in range(count):
        receive = index % 4 == 0
        pool = world.customers if receive else (world.suppliers or world.customers)
        contact = pool[rng.randrange(len(pool))]
        day = world.day()
        created = world.stamp(day)
        code = "260" if receive else expense_codes[rng.randrange(len(expense_codes))]
        tax_type = str(world.accounts[code]["TaxType"])
        status = "DELETED" if rng.random() < 0.05 else "AUTHORISED"
        record: Record = {
            "BankTransactionID": world.uid(),
            "Type": "RECEIVE" if receive else "SPEND",
            "Contact": _contact_ref(contact),
            "BankAccount": world.account_ref("090"),
            "IsReconciled": rng.random() < 0.8,
            "Date": ms_date(_day_ms(day)),
            "DateString": _date_string(day),
            "Reference": f"BT{index + 1:05d}",
            "CurrencyCode": "NZD",
            "CurrencyRate": Decimal("1.0000000000"),
            "Status": status,
            "LineAmountTypes": "Inclusive",
            "LineItems": [
                {
                    "LineItemID": world.uid(),
                    "Description": world.accounts[code]["Name"],
                    "Quantity": Decimal(1),
                    "UnitAmount": world.price(500, 250_000),
                    "AccountCode": code,
                    "TaxType": tax_type,
                    "Tracking": [],
                }
            ],
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(created),
        }
        _finish_lines(record, rates)
        store.put(tid, "BankTransactions", record)
        if status == "AUTHORISED":
            ledger.post_document(tid, "BankTransactions", record, created, first_time=True)


def _credits_in_cash(world: _World, count: int, kind: str) -> None:
    """Overpayments or prepayments: a RECEIVE-* bank transaction and the credit it leaves."""
    store, ledger, tid, rng = world.store, world.ledger, world.tenant_id, world.rng
    rates = ledger.tax_rates(tid)
    resource, key = (
        ("Overpayments", "OverpaymentID")
        if kind == "OVERPAYMENT"
        else ("Prepayments", "PrepaymentID")
    )
    for index in range(count):
        contact = world.customers[rng.randrange(len(world.customers))]
        day = world.day()
        created = world.stamp(day)
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
            "Contact": _contact_ref(contact),
            "BankAccount": world.account_ref("090"),
            "IsReconciled": True,
            "Date": ms_date(_day_ms(day)),
            "DateString": _date_string(day),
            "Reference": f"{kind[:3]}-{index + 1:04d}",
            "CurrencyCode": "NZD",
            "CurrencyRate": Decimal("1.0000000000"),
            "Status": "AUTHORISED",
            "LineAmountTypes": mode,
            "LineItems": [line],
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(created),
            key: credit_id,
        }
        _finish_lines(transaction, rates)
        credit: Record = {
            "Type": f"RECEIVE-{kind}",
            key: credit_id,
            "Contact": _contact_ref(contact),
            "Date": transaction["Date"],
            "Status": "AUTHORISED",
            "LineAmountTypes": mode,
            "LineItems": [dict(line)],
            "SubTotal": transaction["SubTotal"],
            "TotalTax": transaction["TotalTax"],
            "Total": transaction["Total"],
            "UpdatedDateUTC": ms_date(created),
            "UpdatedDateUTCString": _iso(created),
            "CurrencyCode": "NZD",
            "CurrencyRate": Decimal("1.0000000000"),
            "RemainingCredit": transaction["Total"],
            "Allocations": [],
            "Payments": [],
            "HasAttachments": False,
            "Reference": transaction["Reference"],
        }
        if kind == "PREPAYMENT":
            credit["InvoiceNumber"] = ""
        store.put(tid, "BankTransactions", transaction)
        store.put(tid, resource, credit)
        ledger.post_document(tid, "BankTransactions", transaction, created, first_time=True)


def _bank_transfers(world: _World, count: int) -> None:
    store, ledger, tid, rng = world.store, world.ledger, world.tenant_id, world.rng
    for index in range(count):
        day = world.day()
        created = world.stamp(day)
        outward = index % 2 == 0
        status = "DELETED" if index % 7 == 2 else "AUTHORISED"
        record: Record = {
            "BankTransferID": world.uid(),
            "FromBankAccount": world.account_ref("090" if outward else "091"),
            "ToBankAccount": world.account_ref("091" if outward else "090"),
            "Amount": world.price(10_000, 500_000),
            "Date": ms_date(_day_ms(day)),
            "CurrencyRate": Decimal("1.0000000000"),
            "FromBankTransactionID": world.uid(),
            "ToBankTransactionID": world.uid(),
            "FromIsReconciled": rng.random() < 0.8,
            "ToIsReconciled": rng.random() < 0.8,
            "Reference": f"Transfer {index + 1}",
            "HasAttachments": False,
            "CreatedDateUTC": ms_date(created),
            "CreatedDateUTCString": _iso(created)[:-1],
            "Status": status,
        }
        store.put(tid, "BankTransfers", record)
        ledger.post_document(
            tid, "BankTransfers", {**record, "Status": "AUTHORISED"}, created, True
        )
        if status == "DELETED":
            ledger.post_document(tid, "BankTransfers", record, created + 60_000)


def _manual_journals(world: _World, count: int) -> None:
    store, ledger, tid, rng = world.store, world.ledger, world.tenant_id, world.rng
    pairs = (("416", "710", "Depreciation"), ("477", "090", "Wages"), ("090", "970", "Funds"))
    for index in range(count):
        debit, credit, narration = pairs[index % len(pairs)]
        day = world.day()
        created = world.stamp(day)
        amount = world.price(10_000, 300_000)
        status = rng.choices(("POSTED", "DRAFT", "VOIDED"), (80, 12, 8))[0]
        record: Record = {
            "ManualJournalID": world.uid(),
            "Narration": f"{narration} {index + 1}",
            "Date": ms_date(_day_ms(day)),
            "LineAmountTypes": "NoTax",
            "Status": status,
            "ShowOnCashBasisReports": True,
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(created),
            "JournalLines": [
                {
                    "LineAmount": amount,
                    "AccountCode": debit,
                    "AccountID": world.accounts[debit]["AccountID"],
                    "Description": narration,
                    "TaxType": "NONE",
                    "TaxAmount": Decimal("0.00"),
                    "IsBlank": False,
                    "Tracking": [],
                },
                {
                    "LineAmount": -amount,
                    "AccountCode": credit,
                    "AccountID": world.accounts[credit]["AccountID"],
                    "Description": narration,
                    "TaxType": "NONE",
                    "TaxAmount": Decimal("0.00"),
                    "IsBlank": False,
                    "Tracking": [],
                },
            ],
        }
        store.put(tid, "ManualJournals", record)
        if status == "POSTED":
            ledger.post_document(tid, "ManualJournals", record, created, first_time=True)
        elif status == "VOIDED":
            ledger.post_document(
                tid, "ManualJournals", {**record, "Status": "POSTED"}, created, True
            )
            ledger.post_document(tid, "ManualJournals", record, created + 3600_000)


def _orders_and_quotes(world: _World, items: list[Record], count: int) -> None:
    store, tid, rng = world.store, world.tenant_id, world.rng
    rates = world.ledger.tax_rates(tid)
    for _ in range(count):
        supplier = (world.suppliers or world.customers)[
            rng.randrange(len(world.suppliers or world.customers))
        ]
        day = world.day()
        created = world.stamp(day)
        order: Record = {
            "Type": "PURCHASEORDER",
            "PurchaseOrderID": world.uid(),
            "PurchaseOrderNumber": f"PO-{store.next_number(tid, 'PO'):04d}",
            "Contact": _contact_ref(supplier),
            "Date": ms_date(_day_ms(day)),
            "DateString": _date_string(day),
            "DeliveryDate": ms_date(_day_ms(day) + 14 * DAY_MS),
            "LineAmountTypes": "Exclusive",
            "Reference": f"Order {rng.randrange(100, 999)}",
            "CurrencyCode": "NZD",
            "CurrencyRate": Decimal("1.0000000000"),
            "Status": rng.choices(
                ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED"), (20, 15, 35, 25, 5)
            )[0],
            "SentToContact": False,
            "DeliveryAddress": "23 Main Street, Central City",
            "AttentionTo": "Receiving",
            "DeliveryInstructions": "Leave at reception",
            "LineItems": _lines(world, items, sales=False, tracked=False),
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(created),
        }
        _finish_lines(order, rates)
        note_discounts(order)
        store.put(tid, "PurchaseOrders", order)
        customer = world.customers[rng.randrange(len(world.customers))]
        day = world.day()
        created = world.stamp(day)
        quote: Record = {
            "QuoteID": world.uid(),
            "QuoteNumber": f"QU-{store.next_number(tid, 'QU'):04d}",
            "Reference": f"Quote {rng.randrange(100, 999)}",
            "Terms": "Valid for 30 days",
            "Contact": _contact_ref(customer),
            "Date": ms_date(_day_ms(day)),
            "DateString": _date_string(day),
            "ExpiryDate": ms_date(_day_ms(day) + 30 * DAY_MS),
            "ExpiryDateString": _date_string(day, 30),
            "Status": rng.choices(
                ("DRAFT", "SENT", "ACCEPTED", "DECLINED", "INVOICED"), (20, 30, 25, 10, 15)
            )[0],
            "CurrencyCode": "NZD",
            "CurrencyRate": Decimal("1.0000000000"),
            "Title": "Quote",
            "Summary": "Goods and services as discussed",
            "LineAmountTypes": "Exclusive",
            "LineItems": _lines(world, items, sales=True, tracked=False, discounts=True),
            "UpdatedDateUTC": ms_date(created),
        }
        _finish_lines(quote, rates)
        note_discounts(quote, flag=False)
        quote["LineAmountTypes"] = "EXCLUSIVE"
        store.put(tid, "Quotes", quote)


def _the_rest(world: _World, items: list[Record], scale: int) -> None:
    """Repeating invoices, linked transactions, batch payments, budgets, expenses, services."""
    store, tid, rng = world.store, world.tenant_id, world.rng
    rates = world.ledger.tax_rates(tid)
    for index in range(scale // 50 + 2):
        customer = world.customers[rng.randrange(len(world.customers))]
        start = world.day()
        repeating: Record = {
            "RepeatingInvoiceID": "",
            "Type": "ACCREC",
            "Contact": _contact_ref(customer),
            "Schedule": {
                "Period": 1,
                "Unit": "MONTHLY",
                "DueDate": 20,
                "DueDateType": "OFFOLLOWINGMONTH",
                "StartDate": ms_date(_day_ms(start)),
                "NextScheduledDate": ms_date(_day_ms(start) + 30 * DAY_MS),
            },
            "LineAmountTypes": "Exclusive",
            "LineItems": _lines(world, items, sales=True, tracked=False),
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
        store.put(tid, "RepeatingInvoices", _finish_lines(repeating, rates))
    for index, (source_id, line_id, _supplier) in enumerate(world.bill_lines[: scale // 100 + 1]):
        customer = world.customers[rng.randrange(len(world.customers))]
        day = world.day()
        store.put(
            tid,
            "LinkedTransactions",
            {
                "LinkedTransactionID": world.uid(),
                "SourceTransactionID": source_id,
                "SourceLineItemID": line_id,
                "ContactID": customer["ContactID"],
                "Status": "ONDRAFT" if index % 2 else "APPROVED",
                "Type": "BILLABLEEXPENSE",
                "UpdatedDateUTC": ms_date(world.stamp(day)),
                "SourceTransactionTypeCode": "ACCPAY",
            },
        )
    payments = world.rec_payments
    for index in range(min(len(payments) // 3, scale // 100 + 1)):
        members = payments[index * 3 : index * 3 + 3]
        total = sum((p["Amount"] for p in members), Decimal("0.00"))
        day = world.day()
        store.put(
            tid,
            "BatchPayments",
            {
                "BatchPaymentID": world.uid(),
                "Account": {"AccountID": world.accounts["090"]["AccountID"]},
                "Reference": f"Batch {index + 1}",
                "Date": ms_date(_day_ms(day)),
                "DateString": _date_string(day),
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
            },
        )
    store.put(
        tid,
        "Budgets",
        {
            "BudgetID": world.uid(),
            "Type": "OVERALL",
            "Description": "Overall Budget",
            "UpdatedDateUTC": ms_date(_day_ms(SEED_START)),
            "BudgetLines": [
                {
                    "AccountID": world.accounts[code]["AccountID"],
                    "AccountCode": code,
                    "BudgetBalances": [
                        {"Period": f"2025-{month:02d}", "Amount": world.price(100_000, 900_000)}
                        for month in range(4, 13)
                    ],
                }
                for code in ("200", "400", "469")
            ],
            "Tracking": [],
        },
    )
    receipts = []
    user = world.users[0]
    for index in range(2):
        day = world.day()
        receipt: Record = {
            "ReceiptID": world.uid(),
            "ReceiptNumber": str(index + 1),
            "Date": ms_date(_day_ms(day)),
            "Contact": _contact_ref((world.suppliers or world.customers)[0]),
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
        receipts.append(_finish_lines(receipt, rates))
    store.put_many(tid, "Receipts", receipts)
    claim_total = receipts[0]["Total"]
    store.put(
        tid,
        "ExpenseClaims",
        {
            "ExpenseClaimID": world.uid(),
            "Status": "SUBMITTED",
            "User": receipts[0]["User"],
            "Receipts": [{"ReceiptID": receipts[0]["ReceiptID"]}],
            "Payments": [],
            "UpdatedDateUTC": receipts[0]["UpdatedDateUTC"],
            "Total": claim_total,
            "AmountDue": claim_total,
            "AmountPaid": Decimal("0.00"),
            "ReportingDate": receipts[0]["Date"],
        },
    )
    store.put(
        tid,
        "PaymentServices",
        {
            "PaymentServiceID": world.uid(),
            "PaymentServiceName": "Sandbox card payments",
            "PaymentServiceUrl": "https://pay.example.com/xero?invoice=[INVOICENUMBER]",
            "PayNowText": "Pay Now",
            "PaymentServiceType": "Custom",
        },
    )


def seed_tenant(
    store: Store,
    tenant: Tenant,
    rng: random.Random,
    scale: int,
    *,
    overlap: int = 0,
    shared_seed: str = "",
) -> None:
    """Write one tenant: settings always; documents unless the tenant is empty. The first
    ``overlap`` contacts and invoices are drawn from ``shared_seed``, alike in every tenant."""
    ledger = Ledger(store, new_id=lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    world = _World(store, ledger, tenant.tenant_id, rng, overlap=overlap, shared_seed=shared_seed)
    store.add_tenant(tenant)
    with store.transaction():
        _settings(world, tenant, tenant.created_ms, tenant.name.split(" (")[0])
    if tenant.empty:
        return
    with store.transaction():
        items = _reference_data(world, tenant.created_ms, max(12, scale // 5))
    _invoices(world, items, scale)  # commits every batch of 1,000
    steps: list[Callable[[], None]] = [
        lambda: _credit_notes(world, items, scale // 20 + 2),
        lambda: _bank_transactions(world, scale // 5 + 3),
        lambda: _credits_in_cash(world, scale // 100 + 1, "OVERPAYMENT"),
        lambda: _credits_in_cash(world, scale // 100 + 1, "PREPAYMENT"),
        lambda: _bank_transfers(world, scale // 50 + 3),
        lambda: _manual_journals(world, scale // 50 + 3),
        lambda: _orders_and_quotes(world, items, scale // 20 + 2),
        lambda: _the_rest(world, items, scale),
    ]
    for step in steps:
        with store.transaction(), ledger.buffered(tenant.tenant_id):
            step()


def seed_if_empty(store: Store, config: SandboxConfig) -> bool:
    """Seed the database unless it already holds a world; True when it seeded now."""
    if store.is_seeded():
        return False
    if store.tenants():
        raise ValueError(f"{store.path} holds an unfinished seed; delete it and start again")
    created = _day_ms(date(2025, 3, 1))
    total = config.tenants + config.empty_tenants
    regions = parse_regions(config.regions)
    for index in range(total):
        rng = random.Random(f"xero-sandbox:{config.seed}:{index}")
        empty = index >= config.tenants
        region = regions[index % len(regions)]
        name = (
            f"Empty Company {index - config.tenants + 1}"
            if empty
            else f"Demo Company ({region})"
            if index == 0
            else f"Demo Company ({region}) {index + 1}"
        )
        tenant = Tenant(
            tenant_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            name=name,
            short_code=f"!{rng.getrandbits(24):06x}",
            created_ms=created + index * 60_000,
            empty=empty,
        )
        if config.scale >= 100_000:
            print(f"xero-sandbox: seeding {name}...", file=sys.stderr, flush=True)
        seed_tenant(
            store,
            tenant,
            rng,
            config.scale,
            overlap=config.overlap,
            shared_seed=f"xero-sandbox:{config.seed}:shared",
        )
        apply_region(store, tenant.tenant_id, region)
        seed_other_apis(store, tenant, f"xero-sandbox:{config.seed}:{index}:apis", config.scale)
    store.set_meta("seeded", "1")
    store.set_meta("seed", str(config.seed))
    store.set_meta("scale", str(config.scale))
    if config.overlap:
        store.set_meta("overlap", str(config.overlap))
    return True

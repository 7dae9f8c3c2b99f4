"""The settings of a New Zealand Demo Company: tax rates, currencies, the chart of accounts, the
organisation, branding themes, tracking categories, items and the budget."""

from __future__ import annotations

from decimal import Decimal

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import ACCOUNT_CLASS, ms_date, unit
from xero_sandbox.seed.world import SEED_START, World, day_ms
from xero_sandbox.store import Tenant

__all__ = [
    "write_accounts",
    "write_branding_themes",
    "write_budget",
    "write_items",
    "write_organisation",
    "write_tax_rates_and_currencies",
    "write_tracking_categories",
]

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
_TRACKING = (
    ("Region", ("North", "South", "East", "West"), "ACTIVE"),
    ("Department", ("Sales", "Admin", "Operations"), "ACTIVE"),
    ("Old Projects", ("Alpha", "Beta"), "ARCHIVED"),
)
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


def write_tax_rates_and_currencies(world: World) -> None:
    rates = [_tax_rate(*row) for row in _TAX_RATES]
    world.store.put_many(world.tenant_id, "TaxRates", rates)
    currencies = [{"Code": c, "Description": d} for c, d in _CURRENCIES]
    world.store.put_many(world.tenant_id, "Currencies", currencies)


def _tax_rate(tax_type: str, name: str, rate: str, report: str) -> Record:
    return {
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


def write_accounts(world: World, created_ms: int) -> None:
    """The chart of accounts; ``world.accounts`` keeps them by code."""
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
            acc["BankAccountNumber"] = f"0{world.rng.randrange(10**13, 10**14)}"
            acc["CurrencyCode"] = "NZD"
        accounts.append(acc)
        world.accounts[code] = acc
    world.store.put_many(world.tenant_id, "Accounts", accounts)


def write_organisation(world: World, tenant: Tenant) -> None:
    rng, demo = world.rng, not tenant.empty
    organisation_id, api_key = world.uid(), f"{rng.getrandbits(64):016X}"
    registration = str(rng.randrange(1_000_000, 9_999_999))
    tax_number = "-".join(str(rng.randrange(100, 999)) for _ in range(3))
    organisation = {
        "OrganisationID": organisation_id,
        "APIKey": api_key,
        "Name": tenant.name,
        "LegalName": f"{tenant.name.split(' (')[0]} Limited",
        "PaysTax": True,
        "Version": "NZ",
        "OrganisationType": "COMPANY",
        "BaseCurrency": "NZD",
        "CountryCode": "NZ",
        "IsDemoCompany": demo,
        "OrganisationStatus": "ACTIVE",
        "RegistrationNumber": registration,
        "TaxNumber": tax_number,
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "INVOICE",
        "SalesTaxPeriod": "TWOMONTHS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Inclusive",
        "CreatedDateUTC": ms_date(tenant.created_ms),
        "Timezone": "NEWZEALANDSTANDARDTIME",
        "OrganisationEntityType": "COMPANY",
        "ShortCode": tenant.short_code,
        "Class": "DEMO" if demo else "STANDARD",
        "Edition": "BUSINESS",
        "LineOfBusiness": "Consulting and retail",
        "Addresses": [_po_box(f"PO Box {rng.randrange(100, 9999)}")],
        "Phones": [{"PhoneType": "OFFICE", "PhoneNumber": "4-555-0100"}],
        "ExternalLinks": [],
        "PaymentTerms": {
            "Bills": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
            "Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
        },
    }
    world.store.put(world.tenant_id, "Organisation", organisation)


def _po_box(line: str) -> Record:
    return {
        "AddressType": "POBOX",
        "AddressLine1": line,
        "City": "Wellington",
        "PostalCode": "6011",
        "Country": "New Zealand",
    }


def write_branding_themes(world: World, created_ms: int) -> None:
    themes = [
        {
            "BrandingThemeID": world.uid(),
            "Name": name,
            "LogoUrl": "https://in.xero.com/logo?id=sandbox",
            "Type": "INVOICE",
            "SortOrder": index,
            "CreatedDateUTC": ms_date(created_ms + index * 1000),
        }
        for index, name in enumerate(("Standard", "Special Projects"))
    ]
    world.store.put_many(world.tenant_id, "BrandingThemes", themes)


def write_tracking_categories(world: World) -> None:
    """Three categories; ``world.tracking`` keeps the active ones with their options."""
    categories = []
    for name, options, status in _TRACKING:
        cat_id = world.uid()
        opts = [
            {"TrackingOptionID": world.uid(), "Name": opt, "Status": "ACTIVE"} for opt in options
        ]
        category = {"TrackingCategoryID": cat_id, "Name": name, "Status": status, "Options": opts}
        categories.append(category)
        if status == "ACTIVE":
            world.tracking.append((category, opts))
    world.store.put_many(world.tenant_id, "TrackingCategories", categories)


def write_items(world: World, created_ms: int) -> list[Record]:
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
    world.store.put_many(world.tenant_id, "Items", items)
    return items


def write_budget(world: World) -> None:
    """One overall budget for sales, advertising and rent, April to December 2025."""
    budget_id = world.uid()
    lines = [
        {
            "AccountID": world.accounts[code]["AccountID"],
            "AccountCode": code,
            "BudgetBalances": [
                {"Period": f"2025-{month:02d}", "Amount": world.price(100_000, 900_000)}
                for month in range(4, 13)
            ],
        }
        for code in ("200", "400", "469")
    ]
    budget = {
        "BudgetID": budget_id,
        "Type": "OVERALL",
        "Description": "Overall Budget",
        "UpdatedDateUTC": ms_date(day_ms(SEED_START)),
        "BudgetLines": lines,
        "Tracking": [],
    }
    world.store.put(world.tenant_id, "Budgets", budget)

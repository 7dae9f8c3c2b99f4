"""Fixed Assets of a Demo Company: two asset types on its fixed-asset and depreciation accounts,
``scale // 10 + 4`` assets (draft, registered or disposed) depreciated straight-line to the end
of August 2026, and the asset settings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from xero_sandbox.api_collections import stored_name
from xero_sandbox.catalog import Record
from xero_sandbox.seed.world import Draws, money
from xero_sandbox.store import Store

__all__ = ["LAST_DEPRECIATION", "write_assets"]

LAST_DEPRECIATION = date(2026, 8, 31)  # depreciation is run to the end of each month
# (type name, fixed asset account code, effective life in years)
_ASSET_TYPES = (("Office Equipment", "710", 5), ("Computer Equipment", "720", 3))
_ASSET_NAMES = {
    "Office Equipment": ("Desk", "Chair", "Printer", "Shelving", "Whiteboard"),
    "Computer Equipment": ("Laptop", "Monitor", "Server", "Tablet", "Router"),
}


def _months(start: date, end: date) -> int:
    """Whole months of depreciation from ``start`` to ``end`` (full-month averaging)."""
    return max(0, (end.year - start.year) * 12 + end.month - start.month + 1)


def write_assets(store: Store, tid: str, draws: Draws, scale: int) -> None:
    accounts = {a["Code"]: a["AccountID"] for a in store.iter_records(tid, "Accounts")}
    types = [_asset_type(draws, accounts, *row) for row in _ASSET_TYPES]
    count = scale // 10 + 4
    assets = [_asset(draws, number, types) for number in range(1, count + 1)]
    store.put_many(tid, stored_name("assets", "AssetTypes"), types)
    store.put_many(tid, stored_name("assets", "Assets"), assets)
    settings = {
        "assetNumberPrefix": "FA-",
        "assetNumberSequence": f"{count + 1:04d}",
        "assetStartDate": "2023-01-01",
        "lastDepreciationDate": LAST_DEPRECIATION.isoformat(),
        "defaultGainOnDisposalAccountId": accounts.get("260"),
        "defaultLossOnDisposalAccountId": accounts.get("429"),
        "defaultCapitalGainOnDisposalAccountId": accounts.get("260"),
        "optInForTax": False,
    }
    store.put(tid, stored_name("assets", "Settings"), settings)


def _asset_type(draws: Draws, accounts: dict[str, str], name: str, code: str, life: int) -> Record:
    type_id = draws.uid()
    return {
        "assetTypeId": type_id,
        "assetTypeName": name,
        "fixedAssetAccountId": accounts.get(code),
        "depreciationExpenseAccountId": accounts.get("416"),
        "accumulatedDepreciationAccountId": accounts.get(code),
        "bookDepreciationSetting": {
            "depreciableObjectId": type_id,
            "depreciableObjectType": "AssetType",
            "depreciationMethod": "StraightLine",
            "averagingMethod": "FullMonth",
            "depreciationRate": money(Decimal(100) / life),
            "effectiveLifeYears": life,
            "depreciationCalculationMethod": "Life",
        },
        "locks": 0,
    }


def _asset(draws: Draws, number: int, types: list[Record]) -> Record:
    rng = draws.rng
    kind = rng.choice(types)
    life = int(kind["bookDepreciationSetting"]["effectiveLifeYears"])
    bought = draws.day(date(2023, 1, 1), date(2026, 6, 30))
    price = money(Decimal(rng.randrange(50_000, 2_000_000)) / 100)
    roll = rng.random()
    status = "Draft" if roll < 0.25 else "Disposed" if roll < 0.4 else "Registered"
    asset_id = draws.uid()
    end = LAST_DEPRECIATION
    record: Record = {
        "assetId": asset_id,
        "assetName": f"{rng.choice(_ASSET_NAMES[kind['assetTypeName']])} {number}",
        "assetTypeId": kind["assetTypeId"],
        "assetNumber": f"FA-{number:04d}",
        "purchaseDate": bought.isoformat(),
        "purchasePrice": price,
        "assetStatus": status,
        "serialNumber": f"SN{rng.randrange(10**7, 10**8)}",
        "warrantyExpiryDate": (bought + timedelta(days=365 * 2)).isoformat(),
        "canRollback": status == "Registered",
        "isDeleteEnabledForDate": status == "Draft",
    }
    if status == "Disposed":
        disposed = draws.day(bought, date(2026, 8, 31)) if bought < date(2026, 8, 31) else end
        end = disposed
        record["disposalDate"] = disposed.isoformat()
        record["disposalPrice"] = money(price * Decimal(rng.randrange(5, 60)) / 100)
    else:
        record["disposalPrice"] = Decimal("0.00")
    setting = {**kind["bookDepreciationSetting"], "depreciableObjectId": asset_id}
    setting["depreciableObjectType"] = "Asset"
    record["bookDepreciationSetting"] = setting
    _depreciate(record, price, life, end)
    return record


def _depreciate(record: Record, price: Decimal, life: int, end: date) -> None:
    """Straight-line depreciation from purchase to ``end``: the detail and the book value."""
    bought = date.fromisoformat(record["purchaseDate"])
    status = record["assetStatus"]
    months = 0 if status == "Draft" else min(_months(bought, end), life * 12)
    accumulated = money(price * months / (life * 12))
    book_value = price - accumulated
    detail: Record = {
        "depreciationStartDate": bought.isoformat(),
        "priorAccumDepreciationAmount": Decimal("0.00"),
        "currentAccumDepreciationAmount": accumulated,
        "currentCapitalGain": Decimal("0.00"),
        "currentGainLoss": Decimal("0.00"),
    }
    if status == "Disposed":
        sale = record["disposalPrice"]
        detail["currentCapitalGain"] = money(max(Decimal(0), sale - price))
        detail["currentGainLoss"] = money(min(sale, price) - book_value)
        book_value = Decimal("0.00")
    record["bookDepreciationDetail"] = detail
    record["accountingBookValue"] = money(book_value)

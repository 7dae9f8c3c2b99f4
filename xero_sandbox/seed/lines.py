"""Line items of seeded documents, drawn from the tenant's items, and the totals they add up to."""

from __future__ import annotations

from decimal import Decimal

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import compute_totals, quantity
from xero_sandbox.seed.world import World

__all__ = ["finish_lines", "item_lines"]


def item_lines(
    world: World, items: list[Record], sales: bool, tracked: bool, discounts: bool = False
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
            line["Tracking"] = [_tracking_option(world)]
        lines.append(line)
    return lines


def _tracking_option(world: World) -> Record:
    """One option of the tenant's first active tracking category."""
    category, options = world.tracking[0]
    option = options[world.rng.randrange(len(options))]
    return {
        "TrackingCategoryID": category["TrackingCategoryID"],
        "TrackingOptionID": option["TrackingOptionID"],
        "Name": category["Name"],
        "Option": option["Name"],
    }


def finish_lines(record: Record, rates: dict[str, Decimal], unit_dp: int = 4) -> Record:
    """Add the line amounts and totals, and give quantities Xero's four decimals."""
    compute_totals(record, rates, unit_dp=unit_dp)
    for line in record.get("LineItems") or []:
        line["Quantity"] = quantity(line["Quantity"])
    return record

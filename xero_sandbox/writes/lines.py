"""Line items of invoices, credit notes, orders and bank transactions: read, checked against
the tenant's accounts, items and tax rates, merged by LineItemID on update, and totalled.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import compute_totals
from xero_sandbox.validation import (
    LinePolicy,
    PostDataInvalid,
    as_enum,
    as_guid,
    check_line,
    prepare_line,
)
from xero_sandbox.writes.common import LINE_AMOUNT_TYPES, Element, Writer, _props


def _lines(
    w: Writer,
    element: Element,
    record: Record,
    key: str,
    line_amount_types: str,
    policy: LinePolicy,
    *,
    client_tax: bool,
    line_id: str = "LineItemID",
) -> list[tuple[Record, Any]]:
    """Prepare the lines of a document; returns (line, what-was-sent) pairs.

    Update semantics: a sent line with its LineItemID updates that line, one without is
    added, and stored lines left out are dropped.
    """
    existing_lines = {
        str(line.get(line_id)): line for line in (element.existing or {}).get(key) or []
    }
    sent_lines = element.sent.get(key) if key in element.sent else None
    source = sent_lines if sent_lines is not None else list(existing_lines.values())
    if not isinstance(source, list):
        raise PostDataInvalid(
            "Cannot deserialize the current JSON object into type 'System.Collections.Generic."
            f"List`1[Xero.API.Library..LineItem]'. Path '{element.path}.{key}'."
        )
    prepared: list[tuple[Record, Any]] = []
    for index, raw in enumerate(source):
        path = f"{element.path}.{key}[{index}]"
        if not isinstance(raw, dict):
            raise PostDataInvalid(
                f"Unexpected character encountered while parsing value. Path '{path}'."
            )
        base = dict(existing_lines.get(str(raw.get(line_id)), {})) if sent_lines is not None else {}
        if sent_lines is not None and raw.get(line_id) not in (None, ""):
            base[line_id] = as_guid(raw[line_id], f"{path}.{line_id}")
        merged = {**base, **{k: v for k, v in raw.items() if k in LINE_FIELDS}}
        if sent_lines is not None and base and "LineAmount" not in raw:
            merged.pop("LineAmount", None)
        if not client_tax and "TaxAmount" not in raw:
            merged.pop("TaxAmount", None)
        line, sent = prepare_line(merged, path, line_amount_types, policy, w, element.issues)
        line.setdefault(line_id, str(uuid.uuid4()))
        if "Tracking" not in line:
            line["Tracking"] = []
        prepared.append((line, sent))
    record[key] = [line for line, _ in prepared]
    return prepared


def _finish_lines(
    w: Writer,
    element: Element,
    record: Record,
    prepared: list[tuple[Record, Any]],
    unit_dp: int,
    *,
    client_tax: bool,
) -> None:
    """Compute line amounts, tax and totals (ledger) and check them against what was sent."""
    rates = w.ledger.tax_rates(w.tenant_id)
    compute_totals(record, rates, unit_dp=unit_dp, client_tax=client_tax)
    for line, sent in prepared:
        check_line(line, sent, tax_must_match=not client_tax, issues=element.issues)
        line.pop("_GrossAmount", None)


def _unit_dp(w: Writer, element: Element) -> int:
    """Decimals kept on UnitAmount: 4 with ``unitdp=4``, and when an update leaves stored
    4-dp lines alone (an update without unitdp must not re-round lines it does not send)."""
    if w.unit_dp == 4:
        return 4
    if "LineItems" not in element.sent:
        for line in (element.existing or {}).get("LineItems") or []:
            price = line.get("UnitAmount")
            if isinstance(price, Decimal) and price != price.quantize(Decimal("0.01")):
                return 4
    return 2


def _line_amount_types(element: Element, record: Record, default: str) -> str:
    if element.sent.get("LineAmountTypes") is not None:
        value = as_enum(
            element.sent["LineAmountTypes"],
            LINE_AMOUNT_TYPES,
            "LineAmountType",
            f"{element.path}.LineAmountTypes",
        )
    else:
        value = str(record.get("LineAmountTypes") or default)
    record["LineAmountTypes"] = value
    return value


LINE_FIELDS = _props(
    "LineItemID Description Quantity UnitAmount ItemCode AccountCode AccountID TaxType TaxAmount "
    "LineAmount Tracking DiscountRate DiscountAmount RepeatingInvoiceID Taxability "
    "SalesTaxCodeId TaxBreakdown"
)

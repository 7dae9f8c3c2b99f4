"""tap-xero's RECORD lines over real HTTP: money keeps Xero's exact digits at the extremes, and
stream maps, flattening and field selection still see (and compute with) exact numbers."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._tap_support import (
    RELAXED,
    TapRun,
    client_credentials_config,
    parse_output,
    run_tap,
    write_inputs,
)
from xero_sandbox.launcher import Sandbox
from xero_sandbox.store import Store

# 16+ significant digits, many decimals, negative, tiny, exponent forms, trailing zeros.
EXTREMES = {
    "Total": Decimal("12345678901234567.123456789"),
    "SubTotal": Decimal("-98765432109876.54321"),
    "TotalTax": Decimal("0.0000000000000000001"),
    "AmountDue": Decimal("-0.00"),
    "AmountPaid": Decimal("1E-7"),
    "AmountCredited": Decimal("2.5E+12"),
    "CurrencyRate": Decimal("1.0000000000"),
}
LINE_EXTREMES = {
    "Quantity": Decimal("3.14159265358979323846264338327950288"),
    "UnitAmount": Decimal("-1234567890123456789.5"),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, str]]:
    """A one-tenant sandbox whose first invoice carries the extreme amounts."""
    db = tmp_path_factory.mktemp("world") / "world.db"
    with Sandbox(db=db, tenants=1, scale=5, seed=3, **RELAXED) as sb:
        tenant = sb.tenant_ids()[0]
        sb.kill()
        store = Store(sb.db)
        invoice = next(store.iter_records(tenant, "Invoices"))
        invoice.update(EXTREMES)
        invoice["LineItems"][0].update(LINE_EXTREMES)
        store.put(tenant, "Invoices", invoice)
        store.close()
        sb.restart()
        yield sb, str(invoice["InvoiceID"])


def _served_numbers(sb: Sandbox, invoice_id: str) -> dict[str, str]:
    """The number tokens the sandbox writes for the extreme fields, as JSON text."""
    tenant = sb.tenant_ids()[0]
    answer = httpx.get(
        f"{sb.url}/api.xro/2.0/Invoices/{invoice_id}",
        params={"unitdp": "4"},  # as the tap asks
        headers=sb.headers(tenant),
        timeout=60,
    )
    answer.raise_for_status()
    found: dict[str, str] = {}
    for field in (*EXTREMES, *LINE_EXTREMES):
        match = re.search(rf'"{field}":\s*(-?[0-9][0-9.eE+-]*)', answer.text)
        assert match, f"{field} not served"
        found[field] = match.group(1)
    return found


def _line(run: TapRun, invoice_id: str) -> str:
    return next(line for line in run.raw_records["invoices"] if invoice_id in line)


def _record(run: TapRun, invoice_id: str) -> dict[str, Any]:
    return next(r for r in run.records["invoices"] if r.get("InvoiceID") == invoice_id)


def test_extreme_money_is_written_with_xeros_digits(
    world: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sb, invoice_id = world
    served = _served_numbers(sb, invoice_id)
    run = run_tap(tmp_path, client_credentials_config(sb), ["invoices"])
    line = _line(run, invoice_id)
    for field, text in served.items():
        assert f'"{field}":{text}' in line, (field, text)
    record = _record(run, invoice_id)
    for field, value in EXTREMES.items():
        assert record[field] == value, field
    for field, value in LINE_EXTREMES.items():
        assert record["LineItems"][0][field] == value, field


def test_stream_maps_compute_with_exact_money(world: tuple[Sandbox, str], tmp_path: Path) -> None:
    """A map's expression sees Decimal, not text or float: Total * 2 keeps every digit."""
    sb, invoice_id = world
    config = client_credentials_config(
        sb,
        stream_maps={"invoices": {"TotalTwice": "Total * 2", "__filter__": "Total > 1000000"}},
    )
    run = run_tap(tmp_path, config, ["invoices"])
    assert [r["InvoiceID"] for r in run.records["invoices"]] == [invoice_id]
    record = _record(run, invoice_id)
    assert record["TotalTwice"] == Decimal("24691357802469134.246913578")
    assert record["Total"] == EXTREMES["Total"]


def test_flattening_keeps_exact_money(world: tuple[Sandbox, str], tmp_path: Path) -> None:
    sb, invoice_id = world
    config = client_credentials_config(sb, flattening_enabled=True, flattening_max_depth=1)
    run = run_tap(tmp_path, config, ["invoices"])
    record = _record(run, invoice_id)
    assert record["Total"] == EXTREMES["Total"]
    lines = json.loads(record["LineItems"], parse_float=Decimal)
    assert lines[0]["Quantity"] == LINE_EXTREMES["Quantity"]


def test_deselected_fields_are_left_out(world: tuple[Sandbox, str], tmp_path: Path) -> None:
    sb, invoice_id = world
    argv = write_inputs(tmp_path, client_credentials_config(sb), ["invoices"])
    chosen = json.loads((tmp_path / "catalog.json").read_text())
    entry = next(e for e in chosen["streams"] if e["tap_stream_id"] == "invoices")
    for meta in entry["metadata"]:
        if meta["breadcrumb"] in (["properties", "Total"], ["properties", "LineItems"]):
            meta["metadata"]["selected"] = False
    (tmp_path / "catalog.json").write_text(json.dumps(chosen))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    record = _record(parse_output(done.returncode, done.stdout, done.stderr), invoice_id)
    assert "Total" not in record
    assert "LineItems" not in record
    assert record["SubTotal"] == EXTREMES["SubTotal"]

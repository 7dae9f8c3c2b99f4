"""What tap-xero emits, from one full run over three sandbox tenants: every stream, unique keys
across tenants, records valid against their schemas, ISO dates, exact money, the usage report."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests._tap_support import (
    RELAXED,
    TapRun,
    client_credentials_config,
    plain,
    refresh_token_config,
    run_tap,
)
from xero_api.resources import ACCOUNTING, REPORTS, RESOURCES
from xero_api.schema_files import load_schema
from xero_sandbox.launcher import Sandbox
from xero_sandbox.store import Store

REPORT_STREAMS = tuple(REPORTS)
# Every Accounting stream, also those a run without a catalog leaves out (e2e/test_default_run.py)
ALL_STREAMS = [r.stream for r in RESOURCES if r.api is ACCOUNTING] + list(REPORT_STREAMS)
# Streams the seeded Demo Company always has records for.
EXPECTED_WITH_RECORDS = {
    "accounts",
    "bank_transactions",
    "contacts",
    "credit_notes",
    "currencies",
    "invoices",
    "items",
    "journals",
    "organisations",
    "payments",
    "tax_rates",
    "tracking_categories",
    "users",
    *REPORT_STREAMS,
}
TENANTS = 3


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=TENANTS, scale=40, seed=11, **RELAXED) as sb:
        yield sb


@pytest.fixture(scope="module")
def full_run(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> TapRun:
    tmp = tmp_path_factory.mktemp("full")
    config = refresh_token_config(
        sandbox, tmp / "tokens.json", report_start_date="2025-10-01T00:00:00Z"
    )
    # Reports are one call per month and tenant; a recent start keeps the run small. The
    # sandbox grants every scope, so the streams left out by default are read here too.
    return run_tap(tmp, config, ALL_STREAMS)


def test_every_stream_is_synced(full_run: TapRun) -> None:
    assert len(ALL_STREAMS) >= 28
    assert set(full_run.schemas) == set(ALL_STREAMS)
    empty = sorted(s for s in EXPECTED_WITH_RECORDS if not full_run.records.get(s))
    assert not empty, f"no records for {empty}"


def test_keys_are_unique_across_tenants(full_run: TapRun, sandbox: Sandbox) -> None:
    tenants = set(sandbox.tenant_ids())
    for stream, records in full_run.records.items():
        keys = full_run.schemas[stream]["key_properties"]
        assert keys[0] == "TenantID", stream
        seen: set[tuple[Any, ...]] = set()
        for record in records:
            key = tuple(record[k] for k in keys)
            assert None not in key, (stream, key)
            assert key not in seen, f"{stream}: duplicate key {key}"
            seen.add(key)
            assert record["TenantID"] in tenants
    invoice_tenants = {r["TenantID"] for r in full_run.records["invoices"]}
    assert invoice_tenants == tenants


def _date_time_paths(
    schema: dict[str, Any], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("format") == "date-time":
            yield (*prefix, name)
        if "properties" in prop:
            yield from _date_time_paths(prop, (*prefix, name))
        items = prop.get("items")
        if isinstance(items, dict) and "properties" in items:
            yield from _date_time_paths(items, (*prefix, name, "[]"))


def _values(record: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        yield record
        return
    head, rest = path[0], path[1:]
    if head == "[]":
        for item in record or ():
            yield from _values(item, rest)
    elif isinstance(record, dict) and record.get(head) is not None:
        yield from _values(record[head], rest)


def test_records_match_their_schema_and_dates_are_iso_utc(full_run: TapRun) -> None:
    iso_utc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
    for stream, records in full_run.records.items():
        schema = load_schema(stream)
        validator = jsonschema.Draft202012Validator(schema)
        paths = list(_date_time_paths(schema))
        for record in records:
            errors = list(validator.iter_errors(plain(record)))
            assert not errors, f"{stream}: {errors[0].message}"
            for path in paths:
                for value in _values(record, path):
                    assert isinstance(value, str), (stream, path, value)
                    assert iso_utc.match(value), (stream, path, value)
                    datetime.fromisoformat(value)
            assert "/Date(" not in str(record), stream


def test_money_is_exact(full_run: TapRun, sandbox: Sandbox) -> None:
    """Amounts keep Xero's exact digits (41.35, 0.00, 4.0000, 1.0000000000): no float."""
    tenant = sandbox.tenant_ids()[0]
    answer = httpx.get(
        f"{sandbox.url}/api.xro/2.0/Invoices",
        params={"page": "1", "pageSize": "1000", "unitdp": "4"},
        headers=sandbox.headers(tenant),
        timeout=60,
    )
    served = json.loads(answer.text, parse_float=Decimal)["Invoices"]
    by_id = {i["InvoiceID"]: i for i in served}
    emitted = [r for r in full_run.records["invoices"] if r["TenantID"] == tenant]
    compared = 0
    for record in emitted:
        original = by_id[record["InvoiceID"]]
        for field in ("Total", "SubTotal", "TotalTax", "AmountDue", "AmountPaid", "CurrencyRate"):
            assert str(record[field]) == str(original[field]), (field, record[field])
            compared += 1
        for mine, theirs in zip(record["LineItems"], original["LineItems"], strict=True):
            for field in ("Quantity", "UnitAmount", "LineAmount", "TaxAmount"):
                assert str(mine[field]) == str(theirs[field]), (field, mine[field])
                compared += 1
    assert compared > 100
    # And in the JSON text itself: zero amounts keep two decimals, rates ten.
    raw = "\n".join(full_run.raw_records["invoices"])
    assert '"AmountCredited":0.00' in raw
    assert '"CurrencyRate":1.0000000000' in raw
    assert "e+" not in raw.lower()


def test_usage_report(full_run: TapRun, sandbox: Sandbox) -> None:
    for tenant in sandbox.tenant_ids():
        line = next(
            (line for line in full_run.stderr.splitlines() if f"tenant={tenant}" in line), None
        )
        assert line is not None, f"no usage line for {tenant}"
        calls = int(re.search(r"calls=(\d+)", line).group(1))  # type: ignore[union-attr]
        assert calls >= len(ALL_STREAMS)
        assert "retries=" in line
        assert "rate_limited=" in line
        assert "day_quota_left=" in line
    assert '"metric":"xero_api_calls"' in full_run.stderr.replace(" ", "")
    assert '"metric":"xero_day_quota_left"' in full_run.stderr.replace(" ", "")


def test_state_has_a_bookmark_per_tenant(full_run: TapRun, sandbox: Sandbox) -> None:
    bookmarks = full_run.state["bookmarks"]
    for stream in ("invoices", "contacts", "journals"):
        partitions = bookmarks[stream]["partitions"]
        assert {p["context"]["TenantID"] for p in partitions} == set(sandbox.tenant_ids())
        assert all(p.get("replication_key_value") is not None for p in partitions)
        assert not any("progress_markers" in p for p in partitions)


def test_report_rows_are_flat_and_keyed(full_run: TapRun) -> None:
    rows = full_run.records["report_trial_balance"]
    months = {r["PeriodStart"][:7] for r in rows}
    assert "2025-10" in months
    assert len(months) >= 2
    for row in rows:
        assert row["RowKey"].startswith(f"TrialBalance|{row['PeriodStart'][:7]}|")
        assert isinstance(row["RowNumber"], int)
        assert isinstance(row["Values"], dict)


def test_no_secrets_in_output(full_run: TapRun) -> None:
    output = "\n".join(full_run.lines) + full_run.stderr
    assert "sandbox-secret" not in output
    assert "refresh_token" not in "\n".join(full_run.lines)
    assert "Bearer " not in output


def test_new_fields_and_enum_values_pass_through(tmp_path: Path) -> None:
    """A field Xero adds tomorrow, and a status it invents, reach the target unchanged."""
    with Sandbox(db=tmp_path / "world.db", tenants=1, scale=5, seed=2, **RELAXED) as sb:
        tenant = sb.tenant_ids()[0]
        sb.kill()
        store = Store(sb.db)
        invoice = next(store.iter_records(tenant, "Invoices"))
        invoice["BrandNewXeroField"] = {"Nested": "yes", "Amount": Decimal("1.50")}
        invoice["Status"] = "SOMETHING_NEW"
        invoice["LineItems"][0]["AlsoNew"] = 7
        store.put(tenant, "Invoices", invoice)
        store.close()
        sb.restart()
        config = client_credentials_config(sb)
        run = run_tap(tmp_path / "run", config, ["invoices"])
    emitted = next(r for r in run.records["invoices"] if r["InvoiceID"] == invoice["InvoiceID"])
    assert emitted["BrandNewXeroField"] == {"Nested": "yes", "Amount": Decimal("1.50")}
    assert emitted["Status"] == "SOMETHING_NEW"
    assert emitted["LineItems"][0]["AlsoNew"] == 7
    assert '"Amount":1.50' in next(line for line in run.lines if "BrandNewXeroField" in line)
    assert "not in the schema" not in run.stderr.lower()

"""Xero's own CSV import templates through `meltano run tap-xero-templates target-xero`: the
example files, exactly as Xero exports them, land as contacts, sales invoices and bills."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.meltano_support import (
    SANDBOX_FLAGS,
    jsonl_lines,
    new_project,
    target_xero_env,
    xero_get_all,
)
from xero_sandbox.launcher import Sandbox

pytestmark = pytest.mark.meltano


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One Demo Company and one empty organisation (settings only) to load the templates into."""
    with Sandbox(**{**SANDBOX_FLAGS, "tenants": 1, "empty_tenants": 1, "scale": 4}) as running:
        yield running


def _put(sandbox: Sandbox, tenant: str, path: str, body: Any) -> Any:
    answer = httpx.put(
        f"{sandbox.url}/api.xro/2.0/{path}",
        json=body,
        headers=sandbox.headers(tenant),
        timeout=60,
    )
    answer.raise_for_status()
    return answer.json()


def test_xero_template_csvs_load_as_exported(sandbox: Sandbox, tmp_path: Path) -> None:
    _, destination = sandbox.tenant_ids()
    # The organisation's own tracking categories, which the template rows name.
    for category, options in (("Region", ["North", "South"]), ("Department", ["Admin"])):
        made = _put(sandbox, destination, "TrackingCategories", {"Name": category})
        category_id = made["TrackingCategories"][0]["TrackingCategoryID"]
        _put(
            sandbox,
            destination,
            f"TrackingCategories/{category_id}/Options",
            {"Options": [{"Name": o} for o in options]},
        )
    out = tmp_path / "project" / "output"
    project = new_project(
        tmp_path / "project",
        sandbox_url=sandbox.url,
        refresh_token=sandbox.authorize()["refresh_token"],
        extra_env=target_xero_env(tmp_path / "project", destination, fail_on_reject=True),
    )
    project.run("run", "tap-xero-templates", "target-xero")
    assert jsonl_lines(out / "rejects.jsonl") == []
    audit = jsonl_lines(out / "audit.jsonl")
    assert Counter((e["stream"], e["action"]) for e in audit) == {
        ("contact_rows", "created"): 3,
        # Named by sales invoices only: created from their rows, as Xero's import does.
        ("invoice_rows.contacts", "created"): 2,
        ("invoice_rows", "created"): 3,
        ("bill_rows", "created"): 2,
    }

    contacts = {c["Name"]: c for c in xero_get_all(sandbox, destination, "Contacts")}
    assert set(contacts) == {
        "Harbourside Bakery",
        "Wellington Office Supplies",
        "Tasman Power",
        "Kowhai Cycles",
        "Lighthouse Studio",
    }
    bakery = contacts["Harbourside Bakery"]
    assert bakery["AccountNumber"] == "HB-001"
    assert bakery["EmailAddress"] == "accounts@harbourside.example"
    postal = next(a for a in bakery["Addresses"] if a["AddressType"] == "POBOX")
    assert (postal["AddressLine1"], postal["City"], postal["PostalCode"]) == (
        "12 Wharf Road",
        "Wellington",
        "6011",
    )
    assert bakery["AccountsReceivableTaxType"] == "OUTPUT2"
    assert bakery["PaymentTerms"]["Sales"] == {"Day": 20, "Type": "OFFOLLOWINGMONTH"}
    assert bakery["ContactPersons"][0]["EmailAddress"] == "ana@harbourside.example"
    supplier = contacts["Wellington Office Supplies"]
    assert supplier["AccountsPayableTaxType"] == "INPUT2"
    assert supplier["BankAccountDetails"] == "12-3456-7890123-00"
    assert contacts["Kowhai Cycles"]["EmailAddress"] == "hello@kowhaicycles.example"

    invoices = xero_get_all(sandbox, destination, "Invoices")
    sales = {i["InvoiceNumber"]: i for i in invoices if i["Type"] == "ACCREC"}
    assert sorted(sales) == ["INV-0101", "INV-0102", "INV-0103"]
    first = sales["INV-0101"]
    assert first["Contact"]["Name"] == "Harbourside Bakery"
    assert [line["Description"] for line in first["LineItems"]] == [
        "Sourdough starter workshop",
        "Starter jars",
        "Delivery",
    ]
    assert first["Status"] == "DRAFT"  # as Xero's import leaves them
    assert first["DateString"].startswith("2026-10-01")  # 1/10/2026 in an NZ organisation
    assert first["Reference"] == "PO 1182"
    assert first["LineItems"][0]["Tracking"][0]["Option"] == "North"
    assert {i: sales[i]["Total"] for i in sales} == {
        "INV-0101": 419.18,
        "INV-0102": 584.77,
        "INV-0103": 1380.0,
    }
    assert sales["INV-0102"]["LineItems"][0]["DiscountRate"] == 10
    # Two suppliers' bills share the number 1001: two bills, one per contact.
    bills = {i["Contact"]["Name"]: i for i in invoices if i["Type"] == "ACCPAY"}
    assert {name: (b["InvoiceNumber"], b["Total"]) for name, b in bills.items()} == {
        "Wellington Office Supplies": ("1001", 243.8),
        "Tasman Power": ("1001", 244.0),
    }
    assert len(bills["Wellington Office Supplies"]["LineItems"]) == 2

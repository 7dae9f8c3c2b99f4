"""Composition into Xero through `meltano run`: tenant A -> tenant B, and a spreadsheet -> Xero."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.meltano_support import (
    REPO,
    SANDBOX_FLAGS,
    jsonl_lines,
    new_project,
    records_moved,
    target_xero_env,
    xero_get_all,
)
from xero_sandbox.launcher import Sandbox

pytestmark = pytest.mark.meltano


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One Demo Company (A) and one empty organisation (B) holding only its settings."""
    flags = {**SANDBOX_FLAGS, "tenants": 1, "empty_tenants": 1, "scale": 8}
    with Sandbox(**flags) as running:
        yield running


def test_tap_xero_on_tenant_a_into_target_xero_on_tenant_b(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    source, destination = sandbox.tenant_ids()
    assert sandbox.counts()[destination]["Invoices"] == 0
    out = tmp_path / "project" / "output"
    project = new_project(
        tmp_path / "project",
        sandbox_url=sandbox.url,
        refresh_token=sandbox.authorize()["refresh_token"],
        extra_env={
            "TAP_XERO_TENANT_IDS": json.dumps([source]),
            "TAP_XERO__SELECT": '["contacts.*", "items.*", "invoices.*"]',
            **target_xero_env(tmp_path / "project", destination, fail_on_reject=False),
        },
    )
    result = project.run("--log-format=json", "run", "tap-xero", "target-xero")

    sent = records_moved(result.output)
    audit, rejects = jsonl_lines(out / "audit.jsonl"), jsonl_lines(out / "rejects.jsonl")
    outcomes = Counter(entry["stream"] for entry in audit + rejects)
    for stream in ("contacts", "items", "invoices"):
        assert sent[stream] > 0, f"tap-xero sent no {stream}"
        # Nothing lost: every record is written or rejected, with a reason.
        assert outcomes[stream] == sent[stream], f"{stream}: {outcomes[stream]} of {sent[stream]}"
    assert all(entry["reasons"] for entry in rejects)

    created = Counter(e["stream"] for e in audit if e["action"] == "created")
    counts = sandbox.counts()[destination]
    assert counts["Invoices"] == created["invoices"] > 0
    assert counts["Items"] == created["items"] > 0
    # Every source invoice that was written exists in B with the same number, contact and total.
    copied = {i["InvoiceNumber"]: i for i in xero_get_all(sandbox, destination, "Invoices")}
    originals = {i["InvoiceNumber"]: i for i in xero_get_all(sandbox, source, "Invoices")}
    assert copied
    for number, invoice in copied.items():
        original = originals[number]
        assert invoice["InvoiceID"] != original["InvoiceID"]
        assert invoice["Contact"]["Name"] == original["Contact"]["Name"]
        assert invoice["Total"] == original["Total"], number


def test_spreadsheet_rows_become_xero_contacts_and_invoices(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    _, destination = sandbox.tenant_ids()
    out = tmp_path / "project" / "output"
    project = new_project(
        tmp_path / "project",
        sandbox_url=sandbox.url,
        refresh_token=sandbox.authorize()["refresh_token"],
        extra_env=target_xero_env(tmp_path / "project", destination, fail_on_reject=True),
    )
    project.run("run", "tap-spreadsheets", "target-xero")
    assert jsonl_lines(out / "rejects.jsonl") == []

    contacts = {
        c.get("ContactNumber"): c
        for c in xero_get_all(sandbox, destination, "Contacts")
        if str(c.get("ContactNumber", "")).startswith("SHEET-")
    }
    assert sorted(contacts) == ["SHEET-C001", "SHEET-C002", "SHEET-C003"]
    assert contacts["SHEET-C002"]["Name"] == "Kowhai Cycles"
    assert contacts["SHEET-C002"]["EmailAddress"] == "hello@kowhaicycles.example"

    invoices = {
        i["InvoiceNumber"]: i
        for i in xero_get_all(sandbox, destination, "Invoices")
        if i["InvoiceNumber"].startswith("SHEET-INV-")
    }
    assert sorted(invoices) == [f"SHEET-INV-00{n}" for n in range(1, 5)]
    rows = (REPO / "examples" / "spreadsheets" / "invoices.csv").read_text().splitlines()
    assert len(rows) == 5  # header + 4 invoices
    second = invoices["SHEET-INV-002"]
    assert second["Contact"]["Name"] == "Kowhai Cycles"
    assert second["Status"] == "AUTHORISED"
    assert second["Reference"] == "PO 77"
    assert second["SubTotal"] == 447.5  # 5 x 89.50, tax exclusive
    assert second["LineItems"][0]["AccountCode"] == "200"

    # A full re-read of the same sheets upserts by natural key: nothing is created twice.
    project.run("run", "--full-refresh", "tap-spreadsheets", "target-xero")
    again = [
        i
        for i in xero_get_all(sandbox, destination, "Invoices")
        if i["InvoiceNumber"].startswith("SHEET-INV-")
    ]
    assert len(again) == 4
    audit = jsonl_lines(out / "audit.jsonl")
    assert Counter(e["action"] for e in audit if e["stream"] == "invoices") == {
        "created": 4,
        "unchanged": 4,
    }

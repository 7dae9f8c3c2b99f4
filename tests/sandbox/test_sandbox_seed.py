"""The seeded Demo Company, the store and the ledger: determinism, consistency, Xero's rounding,
and the command line."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xero_sandbox.api_collections import stored_name
from xero_sandbox.config import SandboxConfig
from xero_sandbox.ledger import Ledger, compute_totals
from xero_sandbox.seed import seed_if_empty
from xero_sandbox.seed.payroll_au import seed_payroll_au
from xero_sandbox.store import Store, Tenant, ms_of


def _seed_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xero_sandbox", "seed", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a.db", "b.db", "c.db")]
    for path, seed in zip(paths, ("5", "5", "6"), strict=True):
        done = _seed_cli("--db", str(path), "--tenants", "2", "--scale", "30", "--seed", seed)
        assert done.returncode == 0, done.stderr
    a, b, c = (p.read_bytes() for p in paths)
    assert a == b
    assert a != c
    again = _seed_cli("--db", str(paths[0]), "--scale", "30")
    assert "already seeded" in again.stdout
    assert paths[0].read_bytes() == a


def test_demo_companies_share_numbers_and_overlap_shares_names_and_invoices(
    tmp_path: Path,
) -> None:
    def seeded(name: str, overlap: int) -> dict[str, dict[str, list[Any]]]:
        store = Store(tmp_path / name)
        assert seed_if_empty(store, SandboxConfig(tenants=2, scale=40, seed=8, overlap=overlap))
        views: dict[str, dict[str, list[Any]]] = {}
        for tenant in store.tenants():
            contacts = sorted(
                store.iter_records(tenant.tenant_id, "Contacts"), key=lambda c: c["ContactNumber"]
            )
            names = {c["ContactID"]: c["Name"] for c in contacts}
            invoices = sorted(
                (i for i in store.iter_records(tenant.tenant_id, "Invoices")),
                key=lambda i: str(i["InvoiceNumber"]),
            )
            views[tenant.tenant_id] = {
                "contacts": [(c["ContactNumber"], c["Name"]) for c in contacts],
                "sales": [
                    (i["InvoiceNumber"], names[i["Contact"]["ContactID"]])
                    for i in invoices
                    if i["Type"] == "ACCREC"
                ],
                "lines": [i["LineItems"] for i in invoices],
            }
        store.close()
        return views

    first, second = seeded("plain.db", 0).values()
    # Numbers overlap in every pair of Demo Companies; names and invoices' contacts mostly not.
    assert [n for n, _ in first["contacts"]] == [n for n, _ in second["contacts"]]
    assert {n for n, _ in first["sales"]} & {n for n, _ in second["sales"]}
    assert first["contacts"][:8] != second["contacts"][:8]

    first, second = seeded("overlap.db", 8).values()
    assert first["contacts"][:8] == second["contacts"][:8]  # same number and name
    assert first["contacts"][8:] != second["contacts"][8:]
    assert first["sales"][:8] == second["sales"][:8]  # INV-0001..8, same contact
    assert [n for n, _ in first["sales"][:8]] == [f"INV-{n:04d}" for n in range(1, 9)]
    assert first["lines"][:8] != second["lines"][:8]  # but their own content


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[str]]]:
    store = Store(tmp_path_factory.mktemp("seed") / "world.db")
    assert seed_if_empty(store, SandboxConfig(tenants=2, empty_tenants=1, scale=200, seed=3))
    yield store, [t.tenant_id for t in store.tenants()]
    store.close()


def test_seeding_twice_does_nothing(world: tuple[Store, list[str]]) -> None:
    store, _ = world
    assert not seed_if_empty(store, SandboxConfig(tenants=5, scale=10))
    assert len(store.tenants()) == 3


def test_scale_sets_invoices_and_the_rest_grows_in_proportion(
    world: tuple[Store, list[str]],
) -> None:
    store, tenants = world
    demo, _, empty = tenants
    assert store.count(demo, "Invoices") == 200
    assert store.count(demo, "Contacts") == 40
    assert store.count(demo, "CreditNotes") == 200 // 20 + 2
    assert store.count(demo, "ManualJournals") == 200 // 50 + 3
    for resource in ("Payments", "BankTransactions", "Journals", "Quotes", "PurchaseOrders"):
        assert store.count(demo, resource) > 0, resource
    assert store.count(empty, "Invoices") == 0
    assert store.count(empty, "Accounts") == store.count(demo, "Accounts")
    statuses = Counter(r["Status"] for r in store.iter_records(demo, "Invoices"))
    assert set(statuses) == {"DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"}


def test_relationships_are_consistent(world: tuple[Store, list[str]]) -> None:
    store, tenants = world
    tenant = tenants[0]
    contacts = {c["ContactID"] for c in store.iter_records(tenant, "Contacts")}
    invoices = {i["InvoiceID"]: i for i in store.iter_records(tenant, "Invoices")}
    assert all(i["Contact"]["ContactID"] in contacts for i in invoices.values())
    paid: Counter[str] = Counter()
    for payment in store.iter_records(tenant, "Payments"):
        if "Invoice" in payment:
            invoice = invoices[payment["Invoice"]["InvoiceID"]]
            assert payment["Amount"] == invoice["AmountPaid"]
            paid[invoice["InvoiceID"]] += 1
    for invoice in invoices.values():
        if invoice["Status"] == "PAID":
            assert invoice["AmountDue"] == 0
            assert paid[invoice["InvoiceID"]] == 1
        if invoice["Status"] == "AUTHORISED":
            assert invoice["AmountDue"] == invoice["Total"] - invoice["AmountPaid"]
    accrec = sum(i["Type"] == "ACCREC" for i in invoices.values())
    assert store.peek_number(tenant, "INV") == accrec  # writes continue the numbering


def test_every_journal_balances_and_the_books_sum_to_zero(
    world: tuple[Store, list[str]],
) -> None:
    store, tenants = world
    for tenant in tenants[:2]:
        journals = list(store.iter_records(tenant, "Journals"))
        numbers = sorted(j["JournalNumber"] for j in journals)
        assert numbers == list(range(1, len(journals) + 1))
        for journal in journals:
            assert sum(line["NetAmount"] for line in journal["JournalLines"]) == 0
        assert sum(store.ledger_sums(tenant, None, None).values()) == 0
    voided = next(i for i in store.iter_records(tenants[0], "Invoices") if i["Status"] == "VOIDED")
    cursor = store.conn.execute(
        "SELECT count(*) FROM records WHERE resource = 'Journals' AND name = ?",
        (voided["InvoiceID"],),
    )
    assert cursor.fetchone()[0] == 2  # posted when authorised, reversed when voided


def _line(qty: str, unit: str, tax: str = "OUTPUT2", **extra: Any) -> dict[str, Any]:
    return {"Quantity": Decimal(qty), "UnitAmount": Decimal(unit), "TaxType": tax, **extra}


RATES = {"OUTPUT2": Decimal("15"), "GST10": Decimal("10"), "R125": Decimal("12.5")}


def test_rounding_follows_xeros_worked_examples() -> None:
    doc = compute_totals(
        {"LineItems": [_line("1", "25.06"), _line("1", "25.61"), _line("1", "25.63")]}, RATES
    )
    assert (doc["SubTotal"], doc["TotalTax"], doc["Total"]) == (
        Decimal("76.30"),
        Decimal("11.44"),
        Decimal("87.74"),
    )
    doc = compute_totals({"LineItems": [_line("1", "19.95", DiscountRate=Decimal(10))]}, RATES)
    assert doc["LineItems"][0]["LineAmount"] == Decimal("17.96")
    assert (doc["TotalDiscount"], doc["TotalTax"], doc["Total"]) == (
        Decimal("1.99"),
        Decimal("2.69"),
        Decimal("20.65"),
    )
    doc = compute_totals(
        {
            "LineAmountTypes": "Inclusive",
            "LineItems": [_line("3", "59.00", "R125"), _line("1", "-79.00", "R125")],
        },
        RATES,
    )
    assert (doc["Total"], doc["TotalTax"], doc["SubTotal"]) == (
        Decimal("98.00"),
        Decimal("10.89"),
        Decimal("87.11"),
    )
    doc = compute_totals(
        {
            "LineAmountTypes": "Inclusive",
            "LineItems": [_line("3", "15.95", "GST10"), _line("5000", "1.58", "GST10")],
        },
        RATES,
    )
    assert [line["TaxAmount"] for line in doc["LineItems"]] == [Decimal("4.35"), Decimal("718.18")]
    two = compute_totals({"LineAmountTypes": "NoTax", "LineItems": [_line("2", "2.165")]}, RATES)
    assert two["LineItems"][0]["UnitAmount"] == Decimal("2.17")  # half away from zero
    assert two["Total"] == Decimal("4.34")
    assert two["TotalTax"] == 0
    four = compute_totals(
        {"LineAmountTypes": "NoTax", "LineItems": [_line("2", "2.165")]}, RATES, unit_dp=4
    )
    assert four["Total"] == Decimal("4.33")


def test_reposting_a_document_reverses_what_it_posted(world: tuple[Store, list[str]]) -> None:
    store, tenants = world
    tenant = tenants[1]
    ledger = Ledger(store)
    invoice = next(i for i in store.iter_records(tenant, "Invoices") if i["Status"] == "AUTHORISED")
    assert ledger.post_document(tenant, "Invoices", invoice, 1) == []  # nothing changed
    written = ledger.post_document(tenant, "Invoices", {**invoice, "Status": "VOIDED"}, 2)
    assert len(written) == 1
    sums = ledger.posted_sums(tenant, invoice["InvoiceID"])
    assert sums
    assert all(net == 0 and tax == 0 for net, tax in sums.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--tenants", "0"], "--tenants must be at least 1"),
        (["serve", "--fault-rate", "2"], "--fault-rate must be between 0 and 1"),
        (["serve", "--time-scale", "0"], "--time-scale must be greater than 0"),
        (
            ["serve", "--webhook-url", "http://x"],
            "--webhook-url and --webhook-key (or $XERO_SANDBOX_WEBHOOK_KEY) go together",
        ),
        (["serve", "--port", "abc"], "invalid int value"),
        (["serve", "--no-such-flag"], "unrecognized arguments"),
        (["bake"], "invalid choice"),
    ],
)
def test_bad_flags_get_one_line_errors(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xero_sandbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_file_that_is_not_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("not a database")
    done = subprocess.run(
        [sys.executable, "-m", "xero_sandbox", "serve", "--port", "0", "--db", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "xero-sandbox: error: file is not a database"


def test_serve_prints_one_ready_line_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xero_sandbox",
            "serve",
            "--port",
            "0",
            "--db",
            str(db),
            "--tenants",
            "1",
            "--scale",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert re.fullmatch(r"xero-sandbox listening on http://127\.0\.0\.1:\d+\n", line)
        port = int(line.rsplit(":", 1)[1])
        assert port > 0
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == ""
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    store = Store(db)
    assert store.is_seeded()
    store.close()


def test_store_api_the_writes_side_relies_on(tmp_path: Path) -> None:
    from xero_sandbox.store import Tenant

    store = Store(tmp_path / "api.db")
    store.add_tenant(Tenant("t-1", "Org", "!abc", 0))
    contact = {
        "ContactID": "0f0e0d0c-0000-4000-8000-000000000001",
        "ContactNumber": "C1",
        "Name": "Bayside Club",
        "ContactStatus": "ACTIVE",
        "UpdatedDateUTC": "/Date(1000+0000)/",
        "Discount": Decimal("1.50"),
    }
    version = store.version
    store.put("t-1", "Contacts", contact)
    assert store.version > version
    assert store.get("t-1", "Contacts", contact["ContactID"].upper()) == contact
    assert store.get_by_number("t-1", "Contacts", "C1") == contact
    assert store.get_by_name("t-1", "Contacts", "BAYSIDE CLUB") == contact
    assert store.get("t-1", "Contacts", "nope") is None
    assert store.get("no-tenant", "Contacts", contact["ContactID"]) is None
    store.put("t-1", "Contacts", {**contact, "ContactStatus": "ARCHIVED"})
    assert store.count("t-1", "Contacts") == 1
    assert store.count("t-1", "Contacts", hidden_status="ARCHIVED") == 0
    assert [store.next_number("t-1", "INV") for _ in range(3)] == [1, 2, 3]
    assert store.peek_number("t-1", "INV") == 3
    with pytest.raises(ValueError, match="ContactID"):
        store.put("t-1", "Contacts", {"Name": "no id"})

    def write_then_fail() -> None:
        with store.transaction():
            store.put("t-1", "Contacts", {**contact, "Name": "Rolled back"})
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()
    assert store.get("t-1", "Contacts", contact["ContactID"])["Name"] == "Bayside Club"
    store.close()


def test_a_large_australian_payroll_seeds(tmp_path: Path) -> None:
    # 64 employees and more: each is entered a minute after the last, past the hour.
    store = Store(tmp_path / "payroll.db")
    tenant = Tenant(tenant_id="t-au", name="Demo Company (AU)", short_code="!au", created_ms=0)
    store.add_tenant(tenant)
    seed_payroll_au(store, tenant.tenant_id, random.Random(14), scale=1300)
    employees = list(store.iter_records(tenant.tenant_id, stored_name("payroll-au", "Employees")))
    assert len(employees) == 1300 // 20 + 4
    entered = [ms_of(e["UpdatedDateUTC"]) or 0 for e in employees]
    assert entered == [entered[0] + n * 60_000 for n in range(len(employees))]
    store.close()

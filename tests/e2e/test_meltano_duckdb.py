"""`meltano run tap-xero target-duckdb` against the sandbox: complete, then incremental."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.meltano_support import (
    SANDBOX_FLAGS,
    change_the_books,
    expected_rows,
    new_project,
    records_moved,
)
from xero_sandbox.launcher import Sandbox

pytestmark = pytest.mark.meltano

STATE_ID = "sandbox:tap-xero-to-target-duckdb"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(**SANDBOX_FLAGS) as running:
        yield running


def duckdb_counts(path: Path, streams: set[str]) -> dict[str, dict[str, int]]:
    """Rows per stream and tenant in the DuckDB file (schema ``xero``)."""
    counts: dict[str, dict[str, int]] = {}
    with duckdb.connect(str(path), read_only=True) as db:
        tables = {
            row[0]
            for row in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'xero'"
            ).fetchall()
        }
        for stream in sorted(streams & tables):
            rows = db.execute(
                f"SELECT tenantid, count(*) FROM xero.{stream} GROUP BY 1"  # noqa: S608
            ).fetchall()
            counts[stream] = {str(tenant): int(n) for tenant, n in rows}
    return counts


def test_full_run_matches_the_sandbox_then_second_run_moves_only_changes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    tokens = sandbox.authorize()
    project = new_project(
        tmp_path / "project", sandbox_url=sandbox.url, refresh_token=tokens["refresh_token"]
    )
    database = project.root / "output" / "warehouse.duckdb"
    tenants = sandbox.tenant_ids()
    assert len(tenants) == 2

    calls_before = sandbox.stats()["calls"]
    first = project.run("--log-format=json", "run", "tap-xero", "target-duckdb")
    first_calls = sandbox.stats()["calls"] - calls_before

    expected, inclusive = expected_rows(sandbox.counts())
    loaded = duckdb_counts(database, set(expected))
    for core in ("invoices", "contacts", "accounts", "payments", "journals", "tax_rates"):
        assert core in loaded, f"stream {core} was not loaded into DuckDB"
    compared = 0
    for stream, wanted in expected.items():
        if stream not in loaded:
            continue
        compared += 1
        if stream in inclusive:  # archived/deleted records come too
            assert set(loaded[stream]) == set(wanted), stream
            assert all(loaded[stream][t] >= n for t, n in wanted.items()), stream
        else:
            assert loaded[stream] == wanted, f"{stream}: DuckDB {loaded[stream]}, sandbox {wanted}"
    assert compared >= 15
    first_moved = records_moved(first.output)
    first_contacts = loaded["contacts"]
    assert first_moved["invoices"] == sum(expected["invoices"].values())

    state = project.state(STATE_ID)
    partitions = state["singer_state"]["bookmarks"]["invoices"]["partitions"]
    assert {p["context"]["TenantID"] for p in partitions} == set(tenants)

    changes = change_the_books(sandbox.url, sandbox.headers(), tenants[0], tenants[1])
    calls_before = sandbox.stats()["calls"]
    second = project.run("--log-format=json", "run", "tap-xero", "target-duckdb")
    second_calls = sandbox.stats()["calls"] - calls_before

    moved = records_moved(second.output)
    assert 1 <= moved["invoices"] < first_moved["invoices"]
    assert 1 <= moved["contacts"] < first_moved["contacts"]
    assert sum(moved.values()) < sum(first_moved.values())
    assert second_calls < first_calls

    expected, _ = expected_rows(sandbox.counts())
    loaded = duckdb_counts(database, {"invoices", "contacts"})
    assert loaded["invoices"] == expected["invoices"]
    assert sum(loaded["contacts"].values()) == sum(first_contacts.values()) + 1
    with duckdb.connect(str(database), read_only=True) as db:
        reference = db.execute(
            "SELECT reference FROM xero.invoices WHERE invoiceid = ?", [changes.invoice_id]
        ).fetchone()
        newcomer = db.execute(
            "SELECT tenantid FROM xero.contacts WHERE name = ?", [changes.contact_name]
        ).fetchall()
    assert reference == (changes.reference,)
    assert newcomer == [(tenants[1],)]

"""`meltano run tap-xero target-postgres` into a real PostgreSQL server the test starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.meltano_support import SANDBOX_FLAGS, PostgresServer, expected_rows, new_project
from xero_sandbox.launcher import Sandbox

pytestmark = [pytest.mark.meltano, pytest.mark.postgres]

STREAMS = ("invoices", "contacts", "accounts", "payments", "journals", "tax_rates")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        server.create_database("warehouse")
        yield server


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(**SANDBOX_FLAGS) as running:
        yield running


def postgres_counts(server: PostgresServer, schema: str) -> dict[str, dict[str, int]]:
    """Rows per table and tenant; the tenant column is found whatever its casing."""
    counts: dict[str, dict[str, int]] = {}
    with psycopg.connect(server.url("warehouse")) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND replace(lower(column_name), '_', '') = 'tenantid'",
            [schema],
        ).fetchall()
        for table, column in columns:
            rows = conn.execute(
                f'SELECT "{column}", count(*) FROM "{schema}"."{table}" GROUP BY 1'  # noqa: S608
            ).fetchall()
            counts[table] = {str(tenant): int(n) for tenant, n in rows}
    return counts


def test_tap_xero_into_postgres_matches_the_sandbox_and_reruns_idempotently(
    sandbox: Sandbox, postgres: PostgresServer, tmp_path: Path
) -> None:
    tokens = sandbox.authorize()
    project = new_project(
        tmp_path / "project",
        sandbox_url=sandbox.url,
        refresh_token=tokens["refresh_token"],
        extra_env={
            "TARGET_POSTGRES_HOST": postgres.host,
            "TARGET_POSTGRES_PORT": str(postgres.port),
            "TARGET_POSTGRES_USER": postgres.user,
            "TARGET_POSTGRES_PASSWORD": "trust-auth-ignores-it",
            "TARGET_POSTGRES_DATABASE": "warehouse",
            "TAP_XERO__SELECT": '["' + '.*", "'.join(STREAMS) + '.*"]',
        },
    )
    project.run("run", "tap-xero", "target-postgres")

    expected, inclusive = expected_rows(sandbox.counts())
    loaded = postgres_counts(postgres, "xero")
    assert set(loaded) == set(STREAMS), f"tables in PostgreSQL: {sorted(loaded)}"
    for stream in STREAMS:
        if stream in inclusive:
            assert all(loaded[stream][t] >= n for t, n in expected[stream].items()), stream
        else:
            assert loaded[stream] == expected[stream], f"{stream}: {loaded[stream]}"

    # A full refresh re-sends everything: upserts on the key leave the row counts unchanged.
    project.run("run", "--full-refresh", "tap-xero", "target-postgres")
    assert postgres_counts(postgres, "xero") == loaded
    state = project.state("sandbox:tap-xero-to-target-postgres")
    assert set(state["singer_state"]["bookmarks"]) >= {"invoices", "contacts"}

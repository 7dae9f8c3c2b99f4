"""`meltano run tap-xero target-duckdb` with the Projects, Fixed Assets, Payroll AU and
attachments streams selected, against a sandbox of two regions (AU, UK) and an organisation
without those APIs: every row loaded, per tenant, as the sandbox holds it (Payroll AU for the
Australian one only); attachment files saved and verified."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.meltano_support import SANDBOX_FLAGS, expected_rows, new_project
from xero_api.resources import ACCOUNTING, RESOURCES
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

pytestmark = pytest.mark.meltano

STREAMS = [r.stream for r in RESOURCES if r.api is not ACCOUNTING] + ["attachments"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    flags = {**SANDBOX_FLAGS, "empty_tenants": 1, "regions": "AU,UK", "scale": 40}
    with Sandbox(**flags) as running:
        yield running


def test_other_apis_load_into_duckdb(sandbox: Sandbox, tmp_path: Path) -> None:
    tokens = sandbox.authorize(
        f"{ALL_SCOPES} projects.read assets.read payroll.employees.read payroll.payruns.read "
        "payroll.payslip.read payroll.settings.read payroll.timesheets.read files.read"
    )
    files = tmp_path / "attachments"
    project = new_project(
        tmp_path / "project",
        sandbox_url=sandbox.url,
        refresh_token=tokens["refresh_token"],
        extra_env={
            "TAP_XERO__SELECT": json.dumps([f"{stream}.*" for stream in STREAMS]),
            "TAP_XERO_ATTACHMENTS_PATH": str(files),
        },
    )
    project.run("run", "tap-xero", "target-duckdb")

    expected, _ = expected_rows(sandbox.counts())
    # The pay items' earnings rates and leave types, one row each, as the sandbox serves them.
    for row in RESOURCES:
        if row.read.nested and row.read.parent is None:
            for tenant in expected["payroll_pay_items"]:
                headers = {
                    "Authorization": f"Bearer {tokens['access_token']}",
                    "Accept": "application/json",
                }
                served = httpx.get(
                    sandbox.url + row.request_path(),
                    headers={**headers, "xero-tenant-id": tenant},
                    timeout=30,
                )
                assert served.status_code == 200, served.text
                expected.setdefault(row.stream, {})[tenant] = len(row.records_in(served.json()))
    database = project.root / "output" / "warehouse.duckdb"
    empty = next(t["tenantId"] for t in sandbox.tenants() if t["empty"])
    with duckdb.connect(str(database), read_only=True) as db:
        for stream in STREAMS:
            rows = db.execute(
                f"SELECT tenantid, count(*) FROM xero.{stream} GROUP BY 1"  # noqa: S608
            ).fetchall()
            loaded = {str(tenant): int(n) for tenant, n in rows}
            wanted = {t: n for t, n in expected[stream].items() if n}
            assert loaded == wanted, f"{stream}: DuckDB {loaded}, sandbox {wanted}"
            assert empty not in loaded, stream
        saved = db.execute("SELECT path, sha256, contentlength FROM xero.attachments").fetchall()
    assert saved
    for path, digest, size in saved:
        content = Path(path).read_bytes()
        assert len(content) == size
        assert hashlib.sha256(content).hexdigest() == digest

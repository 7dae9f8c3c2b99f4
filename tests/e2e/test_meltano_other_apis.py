"""`meltano run tap-xero target-duckdb` with the Projects, Fixed Assets, Payroll AU, UK and NZ,
Files and attachments streams selected, against a sandbox of three regions (AU, UK, NZ) and an
organisation without those APIs: every row loaded, per tenant, as the sandbox holds it (each
payroll for its region's organisation only); attachment files saved and verified."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from tests._tap_support import served_json
from tests.meltano_support import SANDBOX_FLAGS, expected_rows, new_project
from xero_api.resources import ACCOUNTING, PAYROLL_NZ, PAYROLL_UK, RESOURCES
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

pytestmark = pytest.mark.meltano

STREAMS = [r.stream for r in RESOURCES if r.api is not ACCOUNTING] + ["attachments"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    flags = {**SANDBOX_FLAGS, "tenants": 3, "empty_tenants": 1, "regions": "AU,UK,NZ", "scale": 40}
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
    expected.update(_payroll_v2_rows(sandbox))
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


# Payroll UK/NZ streams with one (or two: the seed's two leave types; or eight: one per
# statutory leave type) rows per employee.
PER_EMPLOYEE = {
    "employee_tax": 1,
    "employee_pay_templates": 1,
    "employee_payment_methods": 1,
    "employee_opening_balances": 1,
    "employee_working_patterns": 1,
    "employee_working_pattern_details": 1,
    "employee_leave_balances": 2,
    "employee_leave_types": 2,
    "employee_statutory_leave_balances": 8,
}
# Payroll UK/NZ streams read from a collection stored under another name than their path's.
STORED = {
    "employee_leave": "Leave",
    "employee_leave_periods": "Leave",  # each seeded leave lies in one pay period
    "employee_salary_and_wages": "SalaryAndWages",
    "statutory_leaves": "StatutoryLeaves",
    "payslips": "Payslips",
    "tracking_categories": "TrackingCategories",
}


def _payroll_v2_rows(sandbox: Sandbox) -> dict[str, dict[str, int]]:
    """Rows of each Payroll UK and NZ stream per tenant of that region, from the sandbox's
    counts (``payroll-2/<Name>``, one API for both regions there)."""
    counts = sandbox.counts()
    rows: dict[str, dict[str, int]] = {}
    for tenant in sandbox.tenants():
        held = counts[tenant["tenantId"]]
        for api in (PAYROLL_UK, PAYROLL_NZ):
            region = api.regions[0]
            if tenant["empty"] or f"({region})" not in tenant["tenantName"]:
                continue
            for row in (r for r in RESOURCES if r.api is api):
                name = row.stream.removeprefix(f"payroll_{region.lower()}_")
                if name in PER_EMPLOYEE:
                    count = PER_EMPLOYEE[name] * held["payroll-2/Employees"]
                elif name == "statutory_sick_leave":
                    count = _sick_leaves(sandbox, tenant["tenantId"])
                else:
                    count = held[f"payroll-2/{STORED.get(name, row.path)}"]
                rows.setdefault(row.stream, {})[tenant["tenantId"]] = count
    return rows


def _sick_leaves(sandbox: Sandbox, tenant: str) -> int:
    """The British organisation's statutory leaves of type Sick, as its summaries give them."""
    scopes = "payroll.employees.read payroll.settings.read"
    base = "/payroll.xro/2.0"
    employees = served_json(sandbox, tenant, f"{base}/Employees", scopes)["employees"]
    return sum(
        leave["type"] == "Sick"
        for employee in employees
        for leave in served_json(
            sandbox, tenant, f"{base}/StatutoryLeaves/Summary/{employee['employeeID']}", scopes
        )["statutoryLeaves"]
    )

"""Pay runs' children bookmarked on their pay run: Payroll AU's payslips and payslip details
(on the pay run's UpdatedDateUTC) and Payroll UK and NZ payslips (on its postedDateTime). A first
run reads every pay run's payslips exactly once; a run from its STATE lists the pay runs and asks
none; a run whose bookmark is a few pay runs back asks only those after it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.world import calls_by_tenant
from tests._tap_support import RELAXED, START_DATE, TapRun, run_tap, served_json
from xero_api.codec import encode_json
from xero_api.dates import format_utc, parse_datetime
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

SCOPES = f"{ALL_SCOPES} payroll.payruns.read payroll.payslip.read payroll.employees.read"
LEAVE_SCOPES = "payroll.employees.read payroll.settings.read"
REGIONS = ("AU", "UK", "NZ")
# stream -> (API base, the pay run's ID field, its change date field, the payslips' ID field)
PAYSLIPS = {
    "payroll_payslips": ("/payroll.xro/1.0", "PayRunID", "UpdatedDateUTC", "PayslipID"),
    "payroll_uk_payslips": ("/payroll.xro/2.0", "payRunID", "postedDateTime", "paySlipID"),
    "payroll_nz_payslips": ("/payroll.xro/2.0", "payRunID", "postedDateTime", "paySlipID"),
}
STREAMS = [*PAYSLIPS, "payroll_payslip_details"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=3, scale=0, seed=17, regions=",".join(REGIONS), **RELAXED) as sb:
        yield sb


def _tenant(sb: Sandbox, stream: str) -> str:
    region = {"payroll_uk_payslips": "UK", "payroll_nz_payslips": "NZ"}.get(stream, "AU")
    return sb.tenant_ids()[REGIONS.index(region)]


def _pay_runs(sb: Sandbox, stream: str) -> list[dict[str, Any]]:
    """The tenant's pay runs as served, oldest change first, each with its payslips."""
    base, run_id, changed, _ = PAYSLIPS[stream]
    tenant = _tenant(sb, stream)
    envelope = "PayRuns" if base.endswith("1.0") else "payRuns"
    runs: list[dict[str, Any]] = served_json(sb, tenant, f"{base}/PayRuns", SCOPES)[envelope]
    for run in runs:
        one = served_json(sb, tenant, f"{base}/PayRuns/{run[run_id]}", SCOPES)
        run["slips"] = (
            one["PayRuns"][0]["Payslips"] if "PayRuns" in one else one["payRun"]["paySlips"]
        )
        run["changed"] = format_utc(parse_datetime(run[changed]))
    return sorted(runs, key=lambda r: str(r["changed"]))


def _config(sb: Sandbox, tmp: Path) -> dict[str, Any]:
    return {
        "auth_mode": "refresh_token",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "refresh_token": sb.authorize(SCOPES)["refresh_token"],
        "token_store_path": str(tmp / "tokens.json"),
        "api_url": sb.url,
        "identity_url": sb.url,
        "login_url": sb.url,
        "start_date": START_DATE,
    }


def _run(
    sb: Sandbox, tmp: Path, streams: list[str], state: Any = None
) -> tuple[TapRun, dict[str, int]]:
    before = sb.stats()
    run = run_tap(tmp, _config(sb, tmp), streams, state=state)
    return run, calls_by_tenant(before, sb.stats())


def _partition(state: dict[str, Any], stream: str) -> dict[str, Any]:
    partitions = state["bookmarks"][stream]["partitions"]
    found: dict[str, Any] = next(p for p in partitions if p.get("replication_key_value"))
    return found


def test_payslips_once_then_only_pay_runs_changed_since(sandbox: Sandbox, tmp_path: Path) -> None:
    first, _ = _run(sandbox, tmp_path / "first", STREAMS)
    for stream, (_, run_id, _, slip_id) in PAYSLIPS.items():
        runs = _pay_runs(sandbox, stream)
        got = first.records[stream]
        ids = [r[slip_id] for r in got]
        assert len(ids) == len(set(ids)), stream
        assert sorted(ids) == sorted(s[slip_id] for run in runs for s in run["slips"]), stream
        changed = {run[run_id]: run["changed"] for run in runs}
        field = next(k for k in got[0] if k.startswith(("PayRun", "payRun")) and "Date" in k)
        assert all(r[field] == changed[r[run_id]] for r in got), stream
        bookmark = _partition(first.state, stream)
        assert bookmark["replication_key_value"] == runs[-1]["changed"], stream
        assert bookmark["boundary_ids"] == [runs[-1][run_id]], stream
    details = first.records["payroll_payslip_details"]
    assert sorted(d["PayslipID"] for d in details) == sorted(
        s["PayslipID"] for s in first.records["payroll_payslips"]
    )

    # From the first run's STATE: each stream lists the pay runs (one call) and asks none.
    again, calls = _run(sandbox, tmp_path / "again", STREAMS, first.state)
    assert not any(again.records.get(s) for s in STREAMS), again.records.keys()
    # Every organisation is asked its region once (for the Payroll AU, UK and NZ streams), and
    # each reads the pay runs of its own region's API only.
    australian = _tenant(sandbox, "payroll_payslips")
    assert calls[australian] == 1 + 2  # the pay runs, for the payslips and for their details
    assert calls[_tenant(sandbox, "payroll_uk_payslips")] == 1 + 1
    assert calls[_tenant(sandbox, "payroll_nz_payslips")] == 1 + 1

    # A bookmark three pay runs back: only the two pay runs changed after it are asked.
    for stream, (_, run_id, _, slip_id) in PAYSLIPS.items():
        runs = _pay_runs(sandbox, stream)
        state = copy.deepcopy(first.state)
        partition = _partition(state, stream)
        partition["replication_key_value"] = partition["boundary_value"] = runs[-3]["changed"]
        partition["boundary_ids"] = [runs[-3][run_id]]
        later, calls = _run(sandbox, tmp_path / f"later-{stream}", [stream], state)
        wanted = [s[slip_id] for run in runs[-2:] for s in run["slips"]]
        assert sorted(r[slip_id] for r in later.records[stream]) == sorted(wanted), stream
        # The region, the pay runs, then two pay runs' payslips.
        assert calls[_tenant(sandbox, stream)] == 1 + 1 + 2, stream
        assert _partition(later.state, stream)["replication_key_value"] == runs[-1]["changed"]


def test_employee_leave_is_kept_from_its_own_change_date(sandbox: Sandbox, tmp_path: Path) -> None:
    # Every employee is asked on every run (nothing says an employee's change date moves with
    # their leave); only leave changed since the bookmark is emitted.
    stream, base = "payroll_uk_employee_leave", "/payroll.xro/2.0"
    tenant = _tenant(sandbox, "payroll_uk_payslips")
    first, _ = _run(sandbox, tmp_path / "first", [stream])
    employees = served_json(sandbox, tenant, f"{base}/Employees", LEAVE_SCOPES)["employees"]
    served = [
        leave["leaveID"]
        for e in employees
        for leave in served_json(
            sandbox, tenant, f"{base}/Employees/{e['employeeID']}/Leave", LEAVE_SCOPES
        )["leave"]
    ]
    ids = [r["leaveID"] for r in first.records[stream]]
    assert served
    assert sorted(ids) == sorted(served)
    again, _ = _run(sandbox, tmp_path / "again", [stream], first.state)
    assert again.records.get(stream, []) == []
    leave_type = served_json(sandbox, tenant, f"{base}/LeaveTypes", LEAVE_SCOPES)["leaveTypes"][0]
    sandbox._tokens = sandbox.authorize(f"{ALL_SCOPES} payroll.employees")
    headers = {**sandbox.headers(tenant), "Content-Type": "application/json"}
    answer = httpx.post(
        f"{sandbox.url}{base}/Employees/{employees[0]['employeeID']}/Leave",
        content=encode_json(
            {
                "leaveTypeID": leave_type["leaveTypeID"],
                "description": "Winter",
                "startDate": "2026-12-21",
                "endDate": "2026-12-24",
            }
        ),
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    third, _ = _run(sandbox, tmp_path / "third", [stream], again.state)
    assert [r["leaveID"] for r in third.records[stream]] == [answer.json()["leave"]["leaveID"]]


def _served_leave(sb: Sandbox, region: str) -> tuple[int, list[dict[str, Any]]]:
    """The organisation's employee count and every leave record it serves."""
    base, tenant = "/payroll.xro/2.0", sb.tenant_ids()[REGIONS.index(region)]
    employees = served_json(sb, tenant, f"{base}/Employees", LEAVE_SCOPES)["employees"]
    leave = [
        entry
        for e in employees
        for entry in served_json(
            sb, tenant, f"{base}/Employees/{e['employeeID']}/Leave", LEAVE_SCOPES
        )["leave"]
    ]
    return len(employees), leave


def _periods_of(leave: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a leave-periods stream should emit for ``leave``: each leave's periods (Xero's
    answer for its dates), carrying its IDs and change date."""
    return sorted(
        (
            entry["leaveID"],
            entry["employeeID"],
            format_utc(parse_datetime(entry["updatedDateUTC"])),
            period["periodStartDate"],
            period["periodEndDate"],
            Decimal(str(period["numberOfUnits"])),
            period["periodStatus"],
        )
        for entry in leave
        for period in entry["periods"]
    )


def _emitted(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            r["leaveID"],
            r["employeeID"],
            r["updatedDateUTC"],
            r["periodStartDate"],
            r["periodEndDate"],
            Decimal(str(r["numberOfUnits"])),
            r["periodStatus"],
        )
        for r in records
    )


def test_leave_periods_are_asked_for_changed_leave_only(sandbox: Sandbox, tmp_path: Path) -> None:
    streams = {"UK": "payroll_uk_employee_leave_periods", "NZ": "payroll_nz_employee_leave_periods"}
    first, _ = _run(sandbox, tmp_path / "first", list(streams.values()))
    employees: dict[str, int] = {}
    for region, stream in streams.items():
        employees[region], leave = _served_leave(sandbox, region)
        got = first.records[stream]
        assert leave, region
        assert _emitted(got) == _periods_of(leave), region
        keys = [(r["TenantID"], r["leaveID"], r["periodStartDate"]) for r in got]
        assert len(keys) == len(set(keys)), region
        latest = max(leave, key=lambda e: format_utc(parse_datetime(e["updatedDateUTC"])))
        bookmark = _partition(first.state, stream)
        assert bookmark["replication_key_value"] == format_utc(
            parse_datetime(latest["updatedDateUTC"])
        )
        assert bookmark["boundary_ids"] == [latest["leaveID"]]

    # From the first run's STATE: the region, the employees and each one's leave; no periods.
    again, calls = _run(sandbox, tmp_path / "again", list(streams.values()), first.state)
    assert not any(again.records.get(s) for s in streams.values()), again.records.keys()
    for region in streams:
        assert calls[sandbox.tenant_ids()[REGIONS.index(region)]] == 1 + 1 + employees[region]

    # A leave added (across two pay periods), then that leave changed: each time only its
    # periods are asked for, and emitted.
    uk = sandbox.tenant_ids()[REGIONS.index("UK")]
    base = "/payroll.xro/2.0"
    employee = served_json(sandbox, uk, f"{base}/Employees", LEAVE_SCOPES)["employees"][-1]
    leave_type = served_json(sandbox, uk, f"{base}/LeaveTypes", LEAVE_SCOPES)["leaveTypes"][0]
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {sandbox.authorize('payroll.employees')['access_token']}",
        "xero-tenant-id": uk,
    }
    at = f"{sandbox.url}{base}/Employees/{employee['employeeID']}/Leave"
    sent = {
        "leaveTypeID": leave_type["leaveTypeID"],
        "description": "Half term",
        "startDate": "2027-01-27",
        "endDate": "2027-02-03",
    }
    state = again.state
    for method, url, body in (("POST", at, sent), ("PUT", None, {"description": "Moved"})):
        answer = httpx.request(
            method, url or f"{at}/{leave['leaveID']}", content=encode_json(body), headers=headers
        )
        assert answer.status_code == 200, answer.text
        leave = answer.json()["leave"]
        assert [p["periodStartDate"] for p in leave["periods"]] == ["2027-01-01", "2027-02-01"]
        run, calls = _run(sandbox, tmp_path / method, list(streams.values()), state)
        assert _emitted(run.records[streams["UK"]]) == _periods_of([leave]), method
        assert not run.records.get(streams["NZ"]), method
        assert calls[uk] == 1 + 1 + employees["UK"] + 1, method
        state = run.state

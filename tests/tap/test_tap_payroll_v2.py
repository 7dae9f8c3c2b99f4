"""tap-xero on Payroll UK and NZ (``payroll.xro/2.0``) of a 4-region sandbox and an organisation
without the API: each region's streams read for that region's organisation only (the others
skipped with one line), every record exactly as served with keys unique across tenants, an
employee's records read per employee and a pay run's payslips with the pay run, one call per
page and parent, opt-in selection, and a second run from the first's state emitting nothing new
for the streams bookmarked on ``updatedDateUTC``."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tap_xero.tap import TapXero
from tests._openapi import spec_document
from tests._tap_support import (
    RELAXED,
    TapRun,
    plain,
    refresh_token_config,
    run_tap,
    served_json,
)
from xero_api.dates import format_utc, parse_datetime
from xero_api.resources import (
    PAYROLL_NZ,
    PAYROLL_UK,
    RESOURCES,
    Paging,
    Resource,
    settled_root,
)
from xero_api.schema_files import load_schema
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

ROWS = {r.stream: r for r in RESOURCES if r.api in (PAYROLL_UK, PAYROLL_NZ)}
STREAMS = list(ROWS)
SCOPES = (
    f"{ALL_SCOPES} payroll.employees.read payroll.payruns.read payroll.settings.read "
    "payroll.timesheets.read"
)
SCALE = 60
INCREMENTAL = [s for s, row in ROWS.items() if row.read.replication_key]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        tenants=4,
        empty_tenants=1,
        scale=SCALE,
        seed=23,
        regions="NZ,AU,UK,US",
        log_requests=True,
        **RELAXED,
    ) as sb:
        yield sb


def _config(sb: Sandbox, tmp: Path, scopes: str = SCOPES) -> dict[str, Any]:
    return refresh_token_config(sb, tmp / "tokens.json", scopes)


@pytest.fixture(scope="module")
def run(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> TapRun:
    tmp = tmp_path_factory.mktemp("payroll-v2")
    return run_tap(tmp, _config(sandbox, tmp), STREAMS)


def _tenant(sb: Sandbox, region: str) -> str:
    return next(
        str(t["tenantId"])
        for t in sb.tenants()
        if t["tenantName"].startswith(f"Demo Company ({region})")
    )


def _get(sb: Sandbox, tenant: str, path: str, **params: str) -> Any:
    return served_json(sb, tenant, f"/payroll.xro/2.0/{path}", SCOPES, **params)


def _served(sb: Sandbox, tenant: str, stream: str) -> list[dict[str, Any]]:
    """Every record of a top-level stream's collection, every page, as the tap writes it
    (date-times as ISO 8601 UTC)."""
    row = ROWS[stream]
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        body = _get(sb, tenant, row.path, page=str(page))
        found = body[row.envelope]
        records += found if isinstance(found, list) else [found]
        if row.read.paging is Paging.NONE or len(found) < 100:
            return [_utc(r) for r in records]
        page += 1


def _utc(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: format_utc(parse_datetime(v)) if k.endswith("DateUTC") else v for k, v in record.items()
    }


def _each(row: Resource) -> list[dict[str, str]]:
    """The query of each read of a collection: one per value of its ``each`` parameter."""
    each = row.read.each
    return [{each.param: value} for value in each.values] if each else [{}]


def _mine(run: TapRun, stream: str, tenant: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in r.items() if k != "TenantID"}
        for r in run.records.get(stream, [])
        if r["TenantID"] == tenant
    ]


@pytest.mark.parametrize("region", ["UK", "NZ"])
def test_every_record_once_exactly_as_served(run: TapRun, sandbox: Sandbox, region: str) -> None:
    tenant = _tenant(sandbox, region)
    prefix = f"payroll_{region.lower()}_"
    own = [s for s in STREAMS if s.startswith(prefix)]
    for stream in own:
        if ROWS[stream].read.parent is None:
            assert _mine(run, stream, tenant) == _served(sandbox, tenant, stream), stream
    employees = _served(sandbox, tenant, f"{prefix}employees")
    assert len(employees) == SCALE // 20 + 4
    for stream in (s for s in own if ROWS[s].read.parent is not None):
        row = ROWS[stream]
        assert row.read.parent is not None
        field = row.read.parent.carried_as
        got = _mine(run, stream, tenant)
        assert got, stream
        expected: list[dict[str, Any]] = []
        for parent in run.records[row.read.parent.stream]:
            if parent["TenantID"] != tenant or not row.read.parent.has_children(parent):
                continue
            path = row.child_path(parent).split("2.0/", 1)[1]
            found = []
            for params in _each(row):
                query = {**row.read.parent.query(parent), **params}
                body = _get(sandbox, tenant, path, **query)[row.envelope]
                found += body if isinstance(body, list) else [body]
            if row.read.nested:
                found = [item for element in found for item in element[row.read.nested]]
            # Payslips also carry the pay run's posting, their bookmark.
            settled = settled_root(row)
            posted = parent[settled.changed] if settled else None
            added = {row.read.replication_key: format_utc(parse_datetime(posted))} if posted else {}
            # A leave's periods carry its ID and change date (their bookmark).
            carried = {name: parent[name] for name in row.read.parent.carries}
            expected += [
                _utc({**record, field: parent[field], **carried, **added}) for record in found
            ]
        # In any order: children bookmarked on their parent are asked oldest parent first.
        assert sorted(got, key=_canonical) == sorted(expected, key=_canonical), stream


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, default=str)


def test_each_region_reads_its_own_organisation_only(run: TapRun, sandbox: Sandbox) -> None:
    assert run.returncode == 0
    for stream in STREAMS:
        region = "UK" if stream.startswith("payroll_uk_") else "NZ"
        mine = _tenant(sandbox, region)
        assert {r["TenantID"] for r in run.records[stream]} == {mine}, stream
        for tenant in (t["tenantId"] for t in sandbox.tenants() if t["tenantId"] != mine):
            lines = [
                line
                for line in run.stderr.splitlines()
                if f"Skipping {stream} for tenant {tenant}" in line
            ]
            assert len(lines) == 1, (stream, tenant, lines)


def test_keys_are_unique_and_records_fit_their_schemas(run: TapRun) -> None:
    for stream in STREAMS:
        keys = run.schemas[stream]["key_properties"]
        assert keys[0] == "TenantID"
        seen = Counter(tuple(r[k] for k in keys) for r in run.records[stream])
        assert max(seen.values()) == 1, stream
        validator = jsonschema.Draft202012Validator(load_schema(stream))
        for record in run.records[stream]:
            errors = list(validator.iter_errors(plain(record)))
            assert not errors, f"{stream}: {errors[0].message}"


@pytest.mark.parametrize("region", ["UK", "NZ"])
def test_calls_are_one_per_page_and_one_per_parent(
    run: TapRun, sandbox: Sandbox, region: str
) -> None:
    """Per organisation: its region (one GET /Organisation), one call per page of each
    collection, and for each child stream the parents' page plus one call per parent."""
    tenant = _tenant(sandbox, region)
    own = [s for s in STREAMS if s.startswith(f"payroll_{region.lower()}_")]

    def reads(stream: str) -> int:
        """Calls to read a stream whole: its pages, or its parent's read and one call for
        each parent with children (and each value of its ``each`` parameter)."""
        row = ROWS[stream]
        if row.read.parent is None:
            return len(_served(sandbox, tenant, stream)) // 100 + 1
        parents = _mine(run, row.read.parent.stream, tenant)
        asked = sum(map(row.read.parent.has_children, parents)) * len(_each(row))
        return reads(row.read.parent.stream) + asked

    expected = 1 + sum(reads(stream) for stream in own)
    line = next(line for line in run.stderr.splitlines() if f"tenant={tenant} " in line)
    calls = int(re.search(r"calls=(\d+)", line).group(1))  # type: ignore[union-attr]
    assert calls == expected, line


def test_a_second_run_emits_nothing_new_where_bookmarked(
    run: TapRun, sandbox: Sandbox, tmp_path: Path
) -> None:
    assert INCREMENTAL
    again = run_tap(tmp_path, _config(sandbox, tmp_path), INCREMENTAL, state=run.state)
    for stream in INCREMENTAL:
        assert again.records.get(stream, []) == [], stream
        bookmarks = [
            p["replication_key_value"]
            for p in run.state["bookmarks"][stream]["partitions"]
            if "replication_key_value" in p
        ]
        assert bookmarks, stream


def test_payroll_v2_is_opt_in(sandbox: Sandbox, tmp_path: Path) -> None:
    config = _config(sandbox, tmp_path, ALL_SCOPES)
    discovered = TapXero(config=config, parse_env_config=False).catalog_dict
    for entry in discovered["streams"]:
        if entry["tap_stream_id"] in ROWS:
            top = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
            assert not top.get("selected-by-default"), entry["tap_stream_id"]


# The Payroll UK spec's statutory leave types.
STATUTORY_TYPES: list[str] = spec_document("xero-payroll-uk")["components"]["schemas"][
    "EmployeeStatutoryLeaveSummary"
]["properties"]["type"]["enum"]

# A request log line of a balance asked for (the log gives these paths without their query).
BALANCE_ASKED = re.compile(
    r"^GET /payroll\.xro/2\.0/Employees/(?P<employee>[^/]+)/StatutoryLeaveBalance "
    r"(?P<tenant>\S+) 200 "
)


def test_statutory_leave_balances_of_every_employee_and_type(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stream = "payroll_uk_employee_statutory_leave_balances"
    tenant = _tenant(sandbox, "UK")
    log_before = len(sandbox.stderr_text())
    balances = run_tap(tmp_path, _config(sandbox, tmp_path), [stream])
    asked = [
        match.groupdict()
        for line in sandbox.stderr_text()[log_before:].splitlines()
        if (match := BALANCE_ASKED.match(line))
    ]
    employees = [e["employeeID"] for e in _served(sandbox, tenant, "payroll_uk_employees")]
    every = sorted((e, kind) for e in employees for kind in STATUTORY_TYPES)
    # Each employee of the British organisation asked once per type (the answer names it).
    assert Counter(a["employee"] for a in asked) == dict.fromkeys(employees, len(STATUTORY_TYPES))
    assert {a["tenant"] for a in asked} == {tenant}
    got = _mine(balances, stream, tenant)
    assert sorted((r["employeeID"], r["leaveType"]) for r in got) == every
    assert {r["TenantID"] for r in balances.records[stream]} == {tenant}
    for record in got:
        path = f"Employees/{record['employeeID']}/StatutoryLeaveBalance"
        served = _get(sandbox, tenant, path, LeaveType=record["leaveType"])["leaveBalance"]
        assert record == {**served, "employeeID": record["employeeID"]}
    # The seed's paternity leave shows: one employee has less than the full entitlement left.
    full = max(r["balanceRemaining"] for r in got if r["leaveType"] == "Paternity")
    assert [r["balanceRemaining"] for r in got if r["leaveType"] == "Paternity"].count(full) == (
        len(employees) - 1
    )
    # Calls: the region, one page of employees, then one call per employee and type.
    line = next(line for line in balances.stderr.splitlines() if f"tenant={tenant} " in line)
    calls = int(re.search(r"calls=(\d+)", line).group(1))  # type: ignore[union-attr]
    assert calls == 1 + 1 + len(employees) * len(STATUTORY_TYPES), line

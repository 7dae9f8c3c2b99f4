"""tap-xero on the Projects, Fixed Assets and Files APIs of a 4-region sandbox: every record
exactly once with keys unique across tenants, child collections read per parent, one call per
page and parent, an organisation without the API skipped with one log line, opt-in selection, and
files read incrementally on UpdatedDateUtc; and Payroll AU, read for the Australian organisation
only, incrementally."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from bench import other_apis
from tap_xero.session import ReadSession
from tap_xero.tap import TapXero
from tests._tap_support import RELAXED, START_DATE, TapRun, plain, run_tap, served_json
from tests.meltano_support import expected_rows
from xero_api.dates import format_utc, parse_datetime
from xero_api.resources import RESOURCES
from xero_api.schema_files import load_schema
from xero_sandbox.api_collections import stored_name
from xero_sandbox.launcher import ALL_SCOPES, Sandbox
from xero_sandbox.store import Store

OTHER_STREAMS = [r.stream for r in RESOURCES if r.api.name in ("projects", "assets")]
PAYROLL_STREAMS = [r.stream for r in RESOURCES if r.api.name == "payroll-au"]
PAYROLL_SCOPES = (
    "payroll.employees.read payroll.payruns.read payroll.payslip.read payroll.settings.read "
    "payroll.timesheets.read"
)
FILE_STREAMS = [r.stream for r in RESOURCES if r.api.name == "files"]
SCOPES = f"{ALL_SCOPES} projects.read assets.read files.read {PAYROLL_SCOPES}"
SCALE = 60


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        tenants=4, empty_tenants=1, scale=SCALE, seed=13, regions="NZ,AU,UK,US", **RELAXED
    ) as sb:
        yield sb


def _config(sb: Sandbox, tmp: Path, scopes: str = SCOPES) -> dict[str, Any]:
    tokens = sb.authorize(scopes)
    return {
        "auth_mode": "refresh_token",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "refresh_token": tokens["refresh_token"],
        "token_store_path": str(tmp / "tokens.json"),
        "api_url": sb.url,
        "identity_url": sb.url,
        "login_url": sb.url,
        "start_date": START_DATE,
    }


@pytest.fixture(scope="module")
def run(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> TapRun:
    tmp = tmp_path_factory.mktemp("other-apis")
    return run_tap(tmp, _config(sandbox, tmp), OTHER_STREAMS)


def _served(sb: Sandbox, tenant: str, path: str, **params: str) -> list[dict[str, Any]]:
    """Every record of one collection, read straight from the sandbox."""
    body = served_json(sb, tenant, path, SCOPES, **params)
    if isinstance(body, dict) and "Items" in body:  # the Files API's page
        assert body["TotalCount"] <= body["PerPage"]
        return [_utc_dates(item) for item in body["Items"]]
    if isinstance(body, dict) and "items" in body:
        assert body["pagination"]["pageCount"] <= 1
        return [_utc_dates(item) for item in body["items"]]
    return [_utc_dates(item) for item in (body if isinstance(body, list) else [body])]


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def _utc_dates(value: Any) -> Any:
    """``value`` with its timestamps as the tap writes them: ISO 8601 UTC, microseconds and
    ``+00:00`` (whether Xero gave them zoneless, with ``Z`` or with an offset)."""
    if isinstance(value, dict):
        return {k: _utc_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_utc_dates(v) for v in value]
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return format_utc(parse_datetime(value))
    return value


def test_every_record_once_exactly_as_served(run: TapRun, sandbox: Sandbox) -> None:
    demo = [t["tenantId"] for t in sandbox.tenants() if not t["empty"]]
    for tenant in demo:
        projects = _served(sandbox, tenant, "/projects.xro/2.0/Projects", pageSize="500")
        expected: dict[str, list[dict[str, Any]]] = {
            "projects": projects,
            "project_users": _served(
                sandbox, tenant, "/projects.xro/2.0/ProjectsUsers", pageSize="500"
            ),
            "project_tasks": [],
            "project_time": [],
            "assets": [],
            "asset_types": _served(sandbox, tenant, "/assets.xro/1.0/AssetTypes"),
            "asset_settings": _served(sandbox, tenant, "/assets.xro/1.0/Settings"),
        }
        for project in projects:
            base = f"/projects.xro/2.0/Projects/{project['projectId']}"
            expected["project_tasks"] += _served(sandbox, tenant, f"{base}/Tasks", pageSize="500")
            expected["project_time"] += _served(sandbox, tenant, f"{base}/Time", pageSize="500")
        for status in ("DRAFT", "REGISTERED", "DISPOSED"):
            expected["assets"] += _served(
                sandbox, tenant, "/assets.xro/1.0/Assets", status=status, pageSize="500"
            )
        assert len(expected["assets"]) == SCALE // 10 + 4
        for stream, records in expected.items():
            got = [
                {k: v for k, v in r.items() if k != "TenantID"}
                for r in run.records[stream]
                if r["TenantID"] == tenant
            ]
            assert got == records, stream
            assert got, stream


def test_keys_are_unique_across_tenants_and_records_fit_their_schemas(run: TapRun) -> None:
    for stream in OTHER_STREAMS:
        keys = run.schemas[stream]["key_properties"]
        assert keys[0] == "TenantID"
        seen = Counter(tuple(r[k] for k in keys) for r in run.records[stream])
        assert seen, stream
        assert max(seen.values()) == 1, stream
        assert len({r["TenantID"] for r in run.records[stream]}) == 4, stream
        validator = jsonschema.Draft202012Validator(load_schema(stream))
        for record in run.records[stream]:
            errors = list(validator.iter_errors(plain(record)))
            assert not errors, f"{stream}: {errors[0].message}"
    assert run.schemas["asset_settings"]["key_properties"] == ["TenantID"]


def test_an_organisation_without_the_apis_is_skipped_with_one_line(
    run: TapRun, sandbox: Sandbox
) -> None:
    empty = next(t["tenantId"] for t in sandbox.tenants() if t["empty"])
    assert run.returncode == 0
    for stream in OTHER_STREAMS:
        lines = _skipped(run, stream, empty)
        assert len(lines) == 1, (stream, lines)
        assert "does not offer the" in lines[0]
        assert all(r["TenantID"] != empty for r in run.records[stream])


def _skipped(run: TapRun, stream: str, tenant: str) -> list[str]:
    """The run's log lines saying ``stream`` skipped ``tenant``."""
    return [x for x in run.stderr.splitlines() if f"Skipping {stream} for tenant {tenant}" in x]


def test_calls_are_one_per_page_and_one_per_parent(run: TapRun, sandbox: Sandbox) -> None:
    # Per tenant: projects and users 1 page each; tasks and time 1 page of projects (the
    # parents) + 1 call per project; assets 1 page per status; types and settings 1 each.
    projects = SCALE // 20 + 3
    expected = 1 + 1 + 2 * (1 + projects) + 3 + 1 + 1
    for tenant in (t["tenantId"] for t in sandbox.tenants() if not t["empty"]):
        line = next(line for line in run.stderr.splitlines() if f"tenant={tenant} " in line)
        calls = int(re.search(r"calls=(\d+)", line).group(1))  # type: ignore[union-attr]
        assert calls == expected, line


def test_small_pages_read_everything(sandbox: Sandbox, tmp_path: Path, run: TapRun) -> None:
    config = {**_config(sandbox, tmp_path), "page_size": 2}
    small = run_tap(tmp_path, config, ["projects", "project_time", "assets"])
    for stream in ("projects", "project_time", "assets"):
        assert small.records[stream] == run.records[stream], stream


def test_other_apis_are_opt_in_and_need_their_scope(sandbox: Sandbox, tmp_path: Path) -> None:
    config = _config(sandbox, tmp_path, ALL_SCOPES)
    discovered = TapXero(config=config, parse_env_config=False).catalog_dict
    by_default = {
        entry["tap_stream_id"]: next(
            m["metadata"].get("selected-by-default")
            for m in entry["metadata"]
            if m["breadcrumb"] == []
        )
        for entry in discovered["streams"]
    }
    assert not any(by_default[s] for s in OTHER_STREAMS)
    assert by_default["invoices"] is True
    refused = run_tap(tmp_path, config, ["projects"], check=False)
    assert refused.returncode == 1
    assert "projects.read" in refused.stderr


def _payroll(sb: Sandbox, tenant: str, path: str, **params: str) -> Any:
    return served_json(sb, tenant, f"/payroll.xro/1.0/{path}", SCOPES, **params)


def test_payroll_au_is_read_for_australian_organisations_only(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = _config(sandbox, tmp_path)
    first = run_tap(tmp_path / "first", config, PAYROLL_STREAMS)
    tenants = {t["tenantId"]: t for t in sandbox.tenants()}
    australian = sandbox.tenant_ids()[1]  # regions NZ,AU,UK,US: the second tenant
    assert tenants[australian]["tenantName"].startswith("Demo Company (AU)")
    pay_runs = _payroll(sandbox, australian, "PayRuns")["PayRuns"]
    served = {
        "payroll_employees": _payroll(sandbox, australian, "Employees")["Employees"],
        "payroll_pay_runs": pay_runs,
        "payroll_timesheets": _payroll(sandbox, australian, "Timesheets")["Timesheets"],
        "payroll_superfunds": _payroll(sandbox, australian, "Superfunds")["SuperFunds"],
    }
    keys = {
        "payroll_employees": "EmployeeID",
        "payroll_pay_runs": "PayRunID",
        "payroll_timesheets": "TimesheetID",
        "payroll_superfunds": "SuperFundID",
    }
    for stream, records in served.items():
        got = [r[keys[stream]] for r in first.records[stream]]
        assert sorted(got) == sorted(r[keys[stream]] for r in records), stream
    payslips = first.records["payroll_payslips"]
    assert len(payslips) == sum(len(run["Payslips"]) for run in pay_runs)
    assert {p["PayRunID"] for p in payslips} == {run["PayRunID"] for run in pay_runs}
    # Each payslip read whole (GET /Payslip/{ID}): exactly as served, lines and all.
    details = first.records["payroll_payslip_details"]
    assert sorted(p["PayslipID"] for p in details) == sorted(p["PayslipID"] for p in payslips)
    for detail in details[:: max(1, len(details) // 10)]:
        served_slip = _payroll(sandbox, australian, f"Payslip/{detail['PayslipID']}")["Payslip"]
        assert detail["EarningsLines"] == served_slip["EarningsLines"]
        assert detail["TaxLines"] == served_slip["TaxLines"]
        assert detail["SuperannuationLines"] == served_slip["SuperannuationLines"]
        assert detail["NetPay"] == served_slip["NetPay"]
    assert all(p["EarningsLines"] and p["TaxLines"] for p in details)
    assert len(first.records["payroll_pay_items"]) == 1
    assert first.records["payroll_settings"][0]["DaysInPayrollYear"] == 364
    for stream in PAYROLL_STREAMS:
        assert {r["TenantID"] for r in first.records[stream]} == {australian}, stream
        validator = jsonschema.Draft202012Validator(load_schema(stream))
        for record in first.records[stream]:
            assert not list(validator.iter_errors(plain(record))), stream
            assert "/Date(" not in str(record), stream
        for tenant in tenants:
            if tenant == australian:
                continue
            lines = _skipped(first, stream, tenant)
            assert len(lines) == 1, (stream, tenant, lines)
            assert "the Payroll AU API serves AU" in lines[0], lines[0]
    # Another region's organisation is asked its region, once, and nothing of Payroll AU.
    for tenant in tenants:
        if tenant != australian:
            assert _calls(first, tenant) == 1, tenant
    # Calls: the region, then at most each paged stream's pages (100 a page, plus the cursor's
    # re-read of its last second), one per pay run for the payslips (after listing them), one
    # per object, and for the payslips' details the pay runs again, one per pay run and one
    # per payslip.
    calls = _calls(first, australian)
    paged = {
        "payroll_employees": len(served["payroll_employees"]),
        "payroll_pay_runs": len(pay_runs),
        "payroll_timesheets": len(served["payroll_timesheets"]),
        "payroll_superfunds": len(served["payroll_superfunds"]),
        "payroll_leave_applications": len(first.records["payroll_leave_applications"]),
        "payroll_calendars": len(first.records["payroll_calendars"]),
    }
    bound = 1 + sum(n // 100 + 2 for n in paged.values())
    bound += (len(pay_runs) // 100 + 1) + len(pay_runs) + 2  # payslips; pay items, settings
    bound += (len(pay_runs) // 100 + 1) + len(pay_runs) + len(payslips)  # payslip details
    assert len(pay_runs) < calls <= bound, (calls, bound)
    # Incremental: a second run from the first's state emits nothing new for the
    # If-Modified-Since streams (the records of the bookmark's second are skipped by ID).
    again = run_tap(tmp_path / "again", config, PAYROLL_STREAMS, state=first.state)
    for stream in ("payroll_employees", "payroll_pay_runs", "payroll_timesheets"):
        assert again.records.get(stream, []) == [], stream


def test_payroll_au_skips_an_australian_organisation_without_it(tmp_path: Path) -> None:
    """An Australian organisation without payroll in its subscription answers 403: each
    stream skips it with one line (one refused call each), and the run exits 0."""
    with Sandbox(tenants=1, empty_tenants=1, scale=0, seed=5, regions="AU", **RELAXED) as sb:
        with_payroll, without = sb.tenant_ids()
        run = run_tap(tmp_path, _config(sb, tmp_path), PAYROLL_STREAMS)
    assert run.returncode == 0
    for stream in PAYROLL_STREAMS:
        lines = _skipped(run, stream, without)
        assert len(lines) == 1, (stream, lines)
        assert "does not offer the Payroll AU API" in lines[0], lines[0]
        assert {r["TenantID"] for r in run.records[stream]} <= {with_payroll}, stream
    assert run.records["payroll_employees"]
    assert _calls(run, without) == 1 + len(PAYROLL_STREAMS)


def test_payroll_au_leave_requests_are_read_with_the_leave(tmp_path: Path) -> None:
    """Employees' leave requests, waiting (REQUESTED) or refused (REJECTED), are read with the
    leave: Xero lists them at LeaveApplications/v2 only, which the tap reads."""
    with Sandbox(tenants=1, scale=20, seed=5, regions="AU", **RELAXED) as sb:
        tenant = sb.tenant_ids()[0]
        name = stored_name("payroll-au", "LeaveApplications")
        leave = _payroll(sb, tenant, "LeaveApplications")["LeaveApplications"][0]
        requests: dict[str, str] = {}
        with closing(Store(sb.db)) as store:
            for status in ("REQUESTED", "REJECTED"):
                request = {
                    **leave,
                    "LeaveApplicationID": str(uuid.uuid4()),
                    "LeavePeriods": [
                        {**p, "LeavePeriodStatus": status} for p in leave["LeavePeriods"]
                    ],
                }
                store.put(tenant, name, request)
                requests[request["LeaveApplicationID"]] = status
        approved = _payroll(sb, tenant, "LeaveApplications")["LeaveApplications"]
        run = run_tap(tmp_path, _config(sb, tmp_path), ["payroll_leave_applications"])
    assert not requests.keys() & {r["LeaveApplicationID"] for r in approved}
    got = {r["LeaveApplicationID"]: r for r in run.records["payroll_leave_applications"]}
    assert got.keys() == requests.keys() | {r["LeaveApplicationID"] for r in approved}
    for ident, status in requests.items():
        assert {p["LeavePeriodStatus"] for p in got[ident]["LeavePeriods"]} == {status}


def test_payroll_au_without_the_scope_to_ask_the_region_fails_naming_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = _config(sandbox, tmp_path, "offline_access payroll.employees.read")
    refused = run_tap(tmp_path, config, ["payroll_employees"], check=False)
    assert refused.returncode == 1
    assert "the probable missing scope is accounting.settings.read" in refused.stderr
    assert not refused.records.get("payroll_employees")


@pytest.mark.parametrize(
    ("version", "region"), [("AU", "AU"), ("AUONRAMP", "AU"), ("UKONRAMP", "UK"), ("", "")]
)
def test_an_onramp_organisation_is_of_its_countrys_region(
    version: str, region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = ReadSession({}, logging.getLogger("test"))
    asked: list[str] = []

    def organisation(tenant: str, path: str, params: dict[str, str], **_: Any) -> Any:
        asked.append(path)
        return {"Organisations": [{"Version": version}]}

    monkeypatch.setattr(session, "get", organisation)
    assert session.region("t") == region
    assert session.region("t") == region
    assert asked == ["Organisation"]  # once a run


def test_files_folders_and_associations_exactly_as_served(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_tap(tmp_path, {**_config(sandbox, tmp_path), "page_size": 4}, FILE_STREAMS)
    demo = [t["tenantId"] for t in sandbox.tenants() if not t["empty"]]
    for tenant in demo:
        files = _served(
            sandbox, tenant, "/files.xro/1.0/Files", sort="CreatedDateUTC", direction="ASC"
        )
        assert all(f["UpdatedDateUtc"].endswith("+00:00") for f in files)
        folders = _served(sandbox, tenant, "/files.xro/1.0/Folders")
        links = [
            link
            for f in files
            for link in _served(sandbox, tenant, f"/files.xro/1.0/Files/{f['Id']}/Associations")
        ]
        assert links
        for stream, expected in (
            ("files", files),
            ("file_folders", folders),
            ("file_associations", links),
        ):
            got = [
                {k: v for k, v in r.items() if k != "TenantID"}
                for r in run.records[stream]
                if r["TenantID"] == tenant
            ]
            assert got == expected, stream
    for stream in FILE_STREAMS:
        keys = run.schemas[stream]["key_properties"]
        seen = Counter(tuple(r[k] for k in keys) for r in run.records[stream])
        assert max(seen.values()) == 1, stream
    assert run.schemas["file_associations"]["key_properties"] == ["TenantID", "FileId", "ObjectId"]


def test_files_are_read_incrementally_on_updated_date(sandbox: Sandbox, tmp_path: Path) -> None:
    """Files have no If-Modified-Since: every page is read, oldest first, and filtered on
    UpdatedDateUtc. A start date keeps out files last changed before it; a run resumed from the
    STATE emits nothing again."""
    config = {**_config(sandbox, tmp_path), "page_size": 4}
    every = run_tap(tmp_path / "all", config, ["files"]).records["files"]
    middle = sorted(r["UpdatedDateUtc"] for r in every)[len(every) // 2]
    config["start_date"] = middle
    first = run_tap(tmp_path / "first", config, ["files"])
    assert first.records["files"] == [r for r in every if r["UpdatedDateUtc"] >= middle]
    assert 0 < len(first.records["files"]) < len(every)
    bookmarks = first.state["bookmarks"]["files"]["partitions"]
    demo = [t for t in sandbox.tenants() if not t["empty"]]
    assert sum("replication_key_value" in b for b in bookmarks) == len(demo)
    for bookmark in bookmarks:
        if "replication_key_value" in bookmark:
            tenant = bookmark["context"]["TenantID"]
            latest = max(r["UpdatedDateUtc"] for r in every if r["TenantID"] == tenant)
            assert bookmark["replication_key_value"] == latest
    again = run_tap(tmp_path / "again", config, ["files"], state=first.state)
    assert again.records.get("files", []) == []


def _calls(run: TapRun, tenant: str) -> int:
    line = next(line for line in run.stderr.splitlines() if f"tenant={tenant} " in line)
    return int(re.search(r"calls=(\d+)", line).group(1))  # type: ignore[union-attr]


def test_files_content_is_saved_verified_and_not_downloaded_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """With files_path, each file's content (GET /Files/{Id}/Content) is saved as attachments
    are: by size and SHA-256, atomically, under <files_path>/<TenantID>/<Id>/<Name>; a re-run
    finds it there and makes no call for it."""
    saved = tmp_path / "saved"
    config = {**_config(sandbox, tmp_path), "files_path": str(saved)}
    first = run_tap(tmp_path / "first", config, ["files"])
    records = first.records["files"]
    demo = [t["tenantId"] for t in sandbox.tenants() if not t["empty"]]
    token = sandbox.authorize(SCOPES)["access_token"]
    for record in records:
        path = Path(record["Path"])
        assert path == saved / record["TenantID"] / record["Id"] / record["Name"]
        content = path.read_bytes()
        assert len(content) == record["Size"]
        assert hashlib.sha256(content).hexdigest() == record["SHA256"]
        assert (path.parent / f"{path.name}.sha256").read_text().strip() == record["SHA256"]
        served = httpx.get(
            f"{sandbox.url}/files.xro/1.0/Files/{record['Id']}/Content",
            headers={
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
                "xero-tenant-id": record["TenantID"],
            },
            timeout=30,
        )
        assert served.status_code == 200, served.text
        assert served.content == content
    assert max(r["Size"] for r in records) >= 3_000_000  # the inbox's scan: streamed
    assert not list(saved.rglob("*.part-*"))
    assert {r["TenantID"] for r in records} == set(demo)
    # Calls: one page of files per tenant (up to 100 files), then one download per file.
    for tenant in demo:
        mine = [r for r in records if r["TenantID"] == tenant]
        assert _calls(first, tenant) == 1 + len(mine)
    stamps = {p: p.stat().st_mtime_ns for p in saved.rglob("*") if p.is_file()}
    again = run_tap(tmp_path / "again", config, ["files"])  # no STATE: every file again
    assert again.records["files"] == records
    for tenant in demo:
        assert _calls(again, tenant) == 1
    assert {p: p.stat().st_mtime_ns for p in saved.rglob("*") if p.is_file()} == stamps
    # Without files_path the content is not asked for.
    plain_run = run_tap(tmp_path / "plain", _config(sandbox, tmp_path), ["files"])
    assert all("Path" not in r for r in plain_run.records["files"])


def test_a_four_region_run_reads_every_stream_exactly_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Every stream beside Accounting (but Payroll UK and NZ), and attachments, in one run over
    NZ, AU, UK and US organisations (and one without the APIs): as many records per organisation
    as the sandbox
    serves, each key once across organisations, and every attachment's and file's content
    saved with the SHA-256 its record gives."""
    # Payroll UK and NZ have tests of their own.
    streams = [s for s in other_apis.STREAMS if not s.startswith(("payroll_uk_", "payroll_nz_"))]
    config = {
        **_config(sandbox, tmp_path),
        "attachments_path": str(tmp_path / "attachments"),
        "files_path": str(tmp_path / "files"),
    }
    run = run_tap(tmp_path / "run", config, streams)
    expected, _ = expected_rows(sandbox.counts())
    for row in RESOURCES:  # lists inside the pay items object: as many as it holds
        if row.read.nested and row.read.parent is None:
            expected[row.stream] = {
                tenant: n
                for tenant in expected["payroll_pay_items"]
                if (n := len(row.records_in(_payroll(sandbox, tenant, row.path))))
            }
    empty = {t["tenantId"] for t in sandbox.tenants() if t["empty"]}
    for stream in streams:
        records = run.records.get(stream, [])
        got = Counter(str(r["TenantID"]) for r in records)
        assert dict(got) == expected[stream], stream
        assert not empty & set(got), stream
        keys = run.schemas[stream]["key_properties"]
        seen = Counter(tuple(r[k] for k in keys) for r in records)
        assert max(seen.values()) == 1, stream
    australian = sandbox.tenant_ids()[1]
    for stream, path, key in (
        ("payroll_leave_applications", "LeaveApplications", "LeaveApplicationID"),
        ("payroll_calendars", "PayrollCalendars", "PayrollCalendarID"),
        ("payroll_superfunds", "Superfunds", "SuperFundID"),
    ):
        served = _payroll(sandbox, australian, path)
        envelope = next(v for k, v in served.items() if isinstance(v, list))
        assert sorted(r[key] for r in run.records[stream]) == sorted(r[key] for r in envelope)
    saved = run.records["attachments"] + run.records["files"]
    assert {r["TenantID"] for r in run.records["attachments"]} == set(expected["attachments"])
    for record in saved:
        content = Path(record["Path"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == record["SHA256"], record["Path"]

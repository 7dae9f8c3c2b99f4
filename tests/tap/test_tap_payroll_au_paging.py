"""Payroll AU collections read by page number under one If-Modified-Since: many records sharing
one change second cost no more than the collection's pages plus one (where the time cursor
re-read most of each page), every record comes exactly once, a second run reads nothing new,
and a record changed while the read runs (which shifts later records back a place) loses none."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.world import calls_by_tenant
from tap_xero.session import ReadSession
from tests._tap_support import RELAXED, START_DATE, run_tap, served_json, sync_in_process
from xero_api.codec import encode_json
from xero_api.dates import format_utc, parse_datetime
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

BASE = "/payroll.xro/1.0"
STREAM = "payroll_employees"
BATCH = 70  # employees written by one request: one change date, to the millisecond
BATCHES = 5


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=0, seed=31, regions="AU", **RELAXED) as sb:
        sb._tokens = sb.authorize(f"{ALL_SCOPES} payroll.employees")
        for batch in range(BATCHES):
            # Each batch in a second of its own (change dates are wall-clock UTC).
            time.sleep(1 - time.time() % 1)
            _post(sb, [_employee(batch, n) for n in range(BATCH)])
        yield sb


def _employee(batch: int, n: int) -> dict[str, Any]:
    return {"FirstName": f"Batch{batch}", "LastName": f"E{n:03}", "DateOfBirth": "1990-01-01"}


def _post(sb: Sandbox, body: Any, path: str = "/Employees") -> list[dict[str, Any]]:
    headers = {**sb.headers(sb.tenant_ids()[0]), "Content-Type": "application/json"}
    answer = httpx.post(sb.url + BASE + path, content=encode_json(body), headers=headers)
    assert answer.status_code == 200, answer.text
    employees: list[dict[str, Any]] = answer.json()["Employees"]
    return employees


def _served(sb: Sandbox) -> list[dict[str, Any]]:
    employees: list[dict[str, Any]] = served_json(
        sb, sb.tenant_ids()[0], BASE + "/Employees", "payroll.employees.read"
    )["Employees"]
    return employees


def _seconds(sb: Sandbox) -> list[str]:
    """Each served employee's change date, to the second, oldest first."""
    return sorted(format_utc(parse_datetime(e["UpdatedDateUTC"]))[:19] for e in _served(sb))


def _cursor_calls(seconds: list[str], size: int = 100) -> int:
    """Calls the time cursor (docs/tap.md, Bookmarks) makes to read records with these change
    seconds: after each full page it asks again from the last record's second."""
    calls, since, page = 0, "", 1
    while True:
        calls += 1
        got = [s for s in seconds if s >= since][(page - 1) * size : page * size]
        if len(got) < size:
            return calls
        if got[-1] == since:
            page += 1
        else:
            since, page = got[-1], 1


def _config(sb: Sandbox, tmp: Path) -> dict[str, Any]:
    return {
        "auth_mode": "refresh_token",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "refresh_token": sb.authorize(f"{ALL_SCOPES} payroll.employees.read")["refresh_token"],
        "token_store_path": str(tmp / "tokens.json"),
        "api_url": sb.url,
        "identity_url": sb.url,
        "login_url": sb.url,
        "start_date": START_DATE,
    }


def _calls(sb: Sandbox, before: dict[str, Any]) -> int:
    return calls_by_tenant(before, sb.stats()).get(sb.tenant_ids()[0], 0)


def test_records_sharing_a_second_cost_only_their_pages(sandbox: Sandbox, tmp_path: Path) -> None:
    seconds = _seconds(sandbox)
    bound = len(seconds) // 100 + 1
    # The case this is about: the time cursor would go over the page bound here.
    assert _cursor_calls(seconds) > bound
    config = _config(sandbox, tmp_path)
    before = sandbox.stats()
    first = run_tap(tmp_path / "first", config, [STREAM])
    assert _calls(sandbox, before) <= 1 + bound  # the organisation's region, then the pages
    ids = [r["EmployeeID"] for r in first.records[STREAM]]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(e["EmployeeID"] for e in _served(sandbox))
    # Incremental: the next run asks one page (the bookmark's second) and emits nothing.
    before = sandbox.stats()
    again = run_tap(tmp_path / "again", config, [STREAM], state=first.state)
    assert again.records.get(STREAM, []) == []
    assert _calls(sandbox, before) == 1 + 1  # the region, then the page
    # A change after the run: only that employee, the next time.
    changed = _post(sandbox, [{"JobTitle": "Payroll officer"}], f"/Employees/{ids[0]}")
    third = run_tap(tmp_path / "third", config, [STREAM], state=again.state)
    assert [r["EmployeeID"] for r in third.records[STREAM]] == [changed[0]["EmployeeID"]]


def test_a_record_changed_during_the_read_shifts_none_out(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = _served(sandbox)
    assert len(served) > 300  # several pages
    first_page: list[str] = []
    get = ReadSession.get

    def changing_after_page_one(self: ReadSession, *args: Any, **kwargs: Any) -> Any:
        body = get(self, *args, **kwargs)
        path, params = args[1], args[2]
        if path.endswith("/Employees") and params.get("page") == "1" and not first_page:
            # An employee of page one changes now: it moves to the end of the order, and every
            # later employee one place back, so page two's first would slide onto page one.
            first_page.extend(e["EmployeeID"] for e in body["Employees"])
            _post(sandbox, [{"JobTitle": "Moved"}], f"/Employees/{first_page[0]}")
        return body

    monkeypatch.setattr(ReadSession, "get", changing_after_page_one)
    run = sync_in_process(_config(sandbox, tmp_path), [STREAM])
    assert len(first_page) == 100
    ids = [r["EmployeeID"] for r in run.records[STREAM]]
    # Every employee, the moved one twice (as read, then as changed), no other twice.
    assert sorted(set(ids)) == sorted(e["EmployeeID"] for e in _served(sandbox))
    assert [i for i in set(ids) if ids.count(i) > 1] == [first_page[0]]
    moved = [r for r in run.records[STREAM] if r["EmployeeID"] == first_page[0]]
    assert moved[-1]["JobTitle"] == "Moved"
    # The bookmark settles at the latest change, with the moved employee at its boundary.
    partition = run.state["bookmarks"][STREAM]["partitions"][0]
    assert partition["replication_key_value"] == moved[-1]["UpdatedDateUTC"]
    assert partition["boundary_ids"] == [first_page[0]]

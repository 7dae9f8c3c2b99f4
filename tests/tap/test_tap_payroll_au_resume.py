"""A Payroll AU read by page number killed half-way resumes at the next page (docs/tap.md,
Bookmarks): the resumed run asks only the pages left, both runs together emit every record
exactly once, a record changed between the kill and the resume (which shifts a record onto a
page read before the kill) loses none, and STATE holds no secret and drops its marker once the
read ends."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tap_xero.session import ReadSession
from tap_xero.streams import RESUME, PartitionStart, _Pass, _resumed_pass
from tests._tap_support import (
    RELAXED,
    START_DATE,
    TapRun,
    parse_output,
    partition_bookmark,
    refresh_token_config,
    run_tap,
    served_json,
    sync_in_process,
    write_inputs,
)
from xero_api.codec import encode_json
from xero_api.dates import format_utc, parse_datetime
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

BASE = "/payroll.xro/1.0"
STREAM = "payroll_employees"
PAGE = 100  # Payroll AU's fixed page
PAYSLIPS = "payroll_payslips"
READ_SCOPES = "payroll.employees.read payroll.payruns.read payroll.payslip.read"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # 104 seeded employees (scale // 20 + 4) a tenant, changed long before the test: 2 pages.
    # The first tenant's employees stay so; the other's tests each change one.
    with Sandbox(tenants=2, scale=2000, seed=17, regions="AU", **RELAXED) as sb:
        sb._tokens = sb.authorize(f"{ALL_SCOPES} payroll.employees")  # to change one
        yield sb


def _config(sb: Sandbox, tmp: Path, tenant: str) -> dict[str, Any]:
    scopes = f"{ALL_SCOPES} {READ_SCOPES}"
    return refresh_token_config(sb, tmp / "tokens.json", scopes, tenant_ids=[tenant])


def _served(sb: Sandbox, tenant: str) -> list[dict[str, Any]]:
    employees: list[dict[str, Any]] = served_json(
        sb, tenant, BASE + "/Employees", "payroll.employees.read"
    )["Employees"]
    return employees


def _ids(run: TapRun) -> list[str]:
    return [r["EmployeeID"] for r in run.records.get(STREAM, [])]


def _entry(state: dict[str, Any], tenant: str, stream: str = STREAM) -> dict[str, Any]:
    """The partition's STATE entry (empty before the stream has one)."""
    if stream not in state.get("bookmarks", {}):
        return {}
    return partition_bookmark(state, stream, tenant)


def _marker(state: dict[str, Any], tenant: str) -> dict[str, Any] | None:
    """The partition's pass in flight, if its STATE has one."""
    marker: dict[str, Any] | None = _entry(state, tenant).get(RESUME)
    return marker


def _killed_after_a_page(
    tmp: Path, config: dict[str, Any], tenant: str, stream: str = STREAM
) -> TapRun:
    """The tap's output up to its first STATE that marks progress (then it is killed): a pass
    in flight, or a bookmark moved."""
    argv = write_inputs(tmp, config, [stream])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        message = json.loads(line)
        entry = _entry(message["value"], tenant, stream) if message["type"] == "STATE" else {}
        if RESUME in entry or "replication_key_value" in entry:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return parse_output(proc.returncode, "".join(lines), "")


def _change(sb: Sandbox, tenant: str, employee: str) -> None:
    """Change an employee's job title (its change date moves to now)."""
    headers = {**sb.headers(tenant), "Content-Type": "application/json"}
    answer = httpx.post(
        f"{sb.url}{BASE}/Employees/{employee}",
        content=encode_json([{"JobTitle": "Changed"}]),
        headers=headers,
    )
    assert answer.status_code == 200, answer.text


def _calls(run: TapRun, tenant: str) -> int:
    """API calls the run made for ``tenant`` (its usage line)."""
    line = next(x for x in run.stderr.splitlines() if "Xero API usage" in x and tenant in x)
    return int(re.search(r"calls=(\d+)", line).group(1))  # type: ignore[union-attr]


def _secrets(config: dict[str, Any], tmp: Path) -> list[str]:
    store = json.loads((tmp / "tokens.json").read_text())
    found = [config["client_secret"], config["refresh_token"]]
    found += [v for v in _strings(store) if len(v) > 20]
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_a_killed_read_resumes_at_the_next_page(sandbox: Sandbox, tmp_path: Path) -> None:
    tenant = sandbox.tenant_ids()[0]
    served = {e["EmployeeID"] for e in _served(sandbox, tenant)}
    pages = len(served) // PAGE + 1
    assert pages >= 2
    config = _config(sandbox, tmp_path, tenant)
    killed = _killed_after_a_page(tmp_path / "killed", config, tenant)
    marker = _marker(killed.state, tenant)
    assert marker is not None
    assert set(marker) == {"since", "began", "page", "back"}
    done = marker["page"]
    assert 1 <= done < pages
    assert marker["back"] is None
    # The records of the pages the marker says are done, and only those, are out.
    assert len(_ids(killed)) == done * PAGE
    # The bookmark is held where it was (none: start_date) while the read is in flight.
    held = partition_bookmark(killed.state, STREAM, tenant)
    assert "replication_key_value" not in held
    assert marker["since"] == format_utc(parse_datetime(START_DATE))

    resumed = run_tap(tmp_path / "resumed", config, [STREAM], killed.state)
    assert _calls(resumed, tenant) == 1 + pages - done  # the region, then the pages left
    first, again = _ids(killed), _ids(resumed)
    assert not set(first) & set(again)
    assert len(first) + len(again) == len(served)
    assert set(first) | set(again) == served

    # STATE: no secret in any STATE of either run, and no marker once the read has ended.
    secrets = _secrets(config, tmp_path)
    for state in [*killed.states, *resumed.states]:
        text = json.dumps(state)
        assert not [s for s in secrets if s in text]
    final = partition_bookmark(resumed.state, STREAM, tenant)
    assert RESUME not in final
    latest = max(r["UpdatedDateUTC"] for r in resumed.records[STREAM])
    assert final["replication_key_value"] == latest


def test_a_change_between_the_kill_and_the_resume_loses_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    tenant = sandbox.tenant_ids()[1]
    config = _config(sandbox, tmp_path, tenant)
    killed = _killed_after_a_page(tmp_path / "killed", config, tenant)
    marker = _marker(killed.state, tenant)
    assert marker is not None
    done = marker["page"]
    read = _ids(killed)
    order = [e["EmployeeID"] for e in _served(sandbox, tenant)]
    assert read == order[: done * PAGE]
    # An employee of the first page changes: it moves to the end of the order, and every later
    # employee one place back, so the first of the next page slides onto the last page read.
    slid = order[done * PAGE]
    _change(sandbox, tenant, read[0])
    assert [e["EmployeeID"] for e in _served(sandbox, tenant)][done * PAGE - 1] == slid

    resumed = run_tap(tmp_path / "resumed", config, [STREAM], killed.state)
    again = _ids(resumed)
    assert slid in again
    assert set(read) | set(again) == set(order)
    # The pages left, where the changed employee comes with a date after the pass began; then
    # the whole pass again, as the resumed run cannot know where that employee was before.
    pages = len(order) // PAGE + 1
    assert _calls(resumed, tenant) == 1 + (pages - done) + pages  # the region first
    changed = [r for r in resumed.records[STREAM] if r["EmployeeID"] == read[0]]
    assert changed[-1]["JobTitle"] == "Changed"
    final = partition_bookmark(resumed.state, STREAM, tenant)
    assert RESUME not in final
    assert final["replication_key_value"] == changed[-1]["UpdatedDateUTC"]


def test_a_read_killed_before_going_back_goes_back_when_resumed(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sandbox.tenant_ids()[1]
    served = _served(sandbox, tenant)
    changed, slid = served[PAGE // 2], served[PAGE]["EmployeeID"]
    unchanged = [changed["EmployeeID"]]
    get = ReadSession.get

    def changing_after_page_one(self: ReadSession, *args: Any, **kwargs: Any) -> Any:
        body = get(self, *args, **kwargs)
        if args[1].endswith("/Employees") and args[2].get("page") == "1" and unchanged:
            # An employee of the first page changes while the read runs: the second page's
            # first slides onto the first, and the read sees the changed one on its last page.
            _change(sandbox, tenant, unchanged.pop())
        return body

    config = _config(sandbox, tmp_path, tenant)
    monkeypatch.setattr(ReadSession, "get", changing_after_page_one)
    whole = sync_in_process(config, [STREAM])
    monkeypatch.undo()
    assert not unchanged
    # Killed at its first STATE that says the read goes back: the pass from the changed
    # employee's old date, not begun.
    lines: list[str] = []
    for line in whole.lines:
        lines.append(line)
        message = json.loads(line)
        marker = _marker(message["value"], tenant) if message["type"] == "STATE" else None
        if marker and marker["page"] == 0:
            break
    killed = parse_output(-9, "\n".join(lines), "")
    back = format_utc(parse_datetime(changed["UpdatedDateUTC"]))
    assert _marker(killed.state, tenant) == {"since": back, "began": None, "page": 0, "back": None}
    assert slid not in _ids(killed)
    resumed = run_tap(tmp_path / "resumed", config, [STREAM], killed.state)
    # The resumed run reads from there: every employee from the changed one on, no earlier.
    assert sorted(_ids(resumed)) == sorted(e["EmployeeID"] for e in served[PAGE // 2 :])
    assert slid in _ids(resumed)
    assert set(_ids(killed)) | set(_ids(resumed)) == {e["EmployeeID"] for e in served}


def test_pay_runs_children_resume_after_the_last_pay_run_done(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    tenant = sandbox.tenant_ids()[0]  # no pay run or employee of it changes in these tests
    config = _config(sandbox, tmp_path, tenant)
    pay_runs = served_json(sandbox, tenant, BASE + "/PayRuns", READ_SCOPES)["PayRuns"]
    slips = {
        slip["PayslipID"]: run["PayRunID"]
        for run in pay_runs
        for slip in served_json(sandbox, tenant, f"{BASE}/PayRuns/{run['PayRunID']}", READ_SCOPES)[
            "PayRuns"
        ][0]["Payslips"]
    }
    killed = _killed_after_a_page(tmp_path / "killed", config, tenant, PAYSLIPS)
    # Pay runs are asked oldest change first; the bookmark moves past each once its payslips
    # are out.
    oldest = sorted(pay_runs, key=lambda r: (parse_datetime(r["UpdatedDateUTC"]), r["PayRunID"]))
    done = [r["PayRunID"] for r in oldest][: len({s["PayRunID"] for s in killed.records[PAYSLIPS]})]
    assert 0 < len(done) < len(pay_runs)
    assert _entry(killed.state, tenant, PAYSLIPS)["boundary_ids"] == [done[-1]]
    first = [s["PayslipID"] for s in killed.records[PAYSLIPS]]
    assert sorted(first) == sorted(k for k, run in slips.items() if run in done)

    resumed = run_tap(tmp_path / "resumed", config, [PAYSLIPS], killed.state)
    # The organisation's region, the list, then the pay runs left.
    assert _calls(resumed, tenant) == 1 + 1 + len(pay_runs) - len(done)
    again = [s["PayslipID"] for s in resumed.records[PAYSLIPS]]
    assert not set(first) & set(again)
    assert sorted(first + again) == sorted(slips)


def test_only_a_marker_the_read_can_continue_is_resumed() -> None:
    bookmark = "2026-01-01T00:00:00.000000+00:00"
    marker = {"since": "2026-02-01T00:00:00Z", "began": None, "page": 2, "back": None}

    def resumed(**changed: Any) -> _Pass | None:
        saved = {RESUME: {**marker, **changed}}
        return _resumed_pass(PartitionStart(bookmark, saved=saved))

    assert resumed() == _Pass("2026-02-01T00:00:00.000000+00:00", None, 2, None)
    assert resumed(page=0) is not None  # a pass not begun: read from its start
    # Anything else reads the collection from the bookmark again (never loses a record).
    assert _resumed_pass(PartitionStart(bookmark)) is None
    assert resumed(since="2025-12-31T23:59:59Z") is None  # before the read's start
    assert resumed(since=None) is None
    assert resumed(since="yesterday") is None
    assert resumed(page=-1) is None
    assert resumed(page="2") is None
    assert resumed(began=5) is None

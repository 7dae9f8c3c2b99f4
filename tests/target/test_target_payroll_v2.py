"""target-xero on Payroll UK and NZ: employees, timesheets and employee leave copied from one
British (or New Zealand) organisation into another, populated, one of the same region (tap-xero
-> target-xero over the sandbox, real processes).

* The copy reads back equal: every source employee (by e-mail) with what a client writes of it
  and its calendar by name; every timesheet by employee and period, with its status (approved
  ones approved after they are written) and its lines' days, rates (by name) and hours; every
  leave by employee, leave type (by name) and dates.
* It changes only what the documented keys matched: every new record is one the audit says
  ``created``, every changed one an audited ``updated``; nothing disappears.
* A replay changes nothing.
* A matched timesheet is changed line by line (there is no timesheet update): an approved one
  is reverted, its lines changed, added and deleted, and approved again; records naming the
  employee by e-mail and the calendar and rates by name are written; a status only a pay run
  sets is rejected with the reason; a dry run writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._target_support import (
    SANDBOX_FLAGS,
    Org,
    OrgPool,
    copy_into,
    singer_file,
    tap_records,
)
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

SCOPES = f"{ALL_SCOPES} payroll.employees payroll.timesheets payroll.settings"
BASE = "/payroll.xro/2.0"
# (stream, ID) -> the record as the API answers it
Snapshot = dict[tuple[str, str], dict[str, Any]]


@dataclass
class World:
    region: str
    pool: OrgPool
    records: dict[str, list[dict[str, Any]]]
    singer: Path
    source: Org
    targets: list[Org]

    def stream(self, name: str) -> str:
        return f"payroll_{self.region.lower()}_{name}"


def _all(org: Org, path: str, envelope: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = org.api(f"{BASE}/{path}", page=str(page))[envelope]
        docs += batch
        if len(batch) < 100:
            return docs
        page += 1


def _snapshot(world: World, org: Org) -> Snapshot:
    employees = _all(org, "Employees", "employees")
    snap: Snapshot = {(world.stream("employees"), e["employeeID"]): e for e in employees}
    for sheet in _all(org, "Timesheets", "timesheets"):
        snap[(world.stream("timesheets"), sheet["timesheetID"])] = sheet
    for employee in employees:
        for leave in org.api(f"{BASE}/Employees/{employee['employeeID']}/Leave")["leave"]:
            snap[(world.stream("employee_leave"), leave["leaveID"])] = leave
    return snap


def _names(org: Org) -> dict[str, str]:
    """Calendar, earnings rate and leave type IDs -> names."""
    names = {r["earningsRateID"]: r["name"] for r in _all(org, "EarningsRates", "earningsRates")}
    names |= {t["leaveTypeID"]: t["name"] for t in _all(org, "LeaveTypes", "leaveTypes")}
    calendars = _all(org, "PayRunCalendars", "payRunCalendars")
    return names | {c["payrollCalendarID"]: c["name"] for c in calendars}


def _content(world: World, snap: Snapshot, names: dict[str, str]) -> dict[Any, Any]:
    """What a client writes of each record, keyed by its natural key, IDs replaced by what
    they name (employees by e-mail)."""
    emails = {d["employeeID"]: d["email"] for (s, _), d in snap.items() if s.endswith("employees")}
    out: dict[Any, Any] = {}
    for (stream, _), doc in snap.items():
        if stream == world.stream("employees"):
            out[("employee", doc["email"])] = (
                doc["firstName"],
                doc["lastName"],
                doc["dateOfBirth"],
                doc.get("title"),
                doc.get("gender"),
                tuple(sorted(doc["address"].items())),
                names.get(doc.get("payrollCalendarID") or ""),
            )
        elif stream == world.stream("timesheets"):
            lines = sorted(
                (line["date"], names[line["earningsRateID"]], float(line["numberOfUnits"]))
                for line in doc.get("timesheetLines") or ()
            )
            key = ("timesheet", emails[doc["employeeID"]], doc["startDate"])
            # (Not totalHours: the seed's are a pay run's, more than its lines hold.)
            out[key] = (doc["endDate"], doc["status"], tuple(lines))
        else:
            key = (
                "leave",
                emails[doc["employeeID"]],
                names[doc["leaveTypeID"]],
                doc["startDate"],
                doc["endDate"],
            )
            out[key] = doc["description"]
    return out


@pytest.fixture(scope="module", params=["UK", "NZ"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    region = str(request.param)
    tmp = tmp_path_factory.mktemp(f"payroll-{region}")
    with Sandbox(tenants=3, scale=20, regions=region, **SANDBOX_FLAGS) as sb:
        pool = OrgPool(sb)
        pool.token = str(sb.authorize(SCOPES)["access_token"])
        first, *others = sb.tenant_ids()
        world = World(
            region,
            pool,
            {},
            tmp / "source.singer",
            Org(sb, first, pool.token),
            [Org(sb, other, pool.token) for other in others],
        )
        streams = [
            world.stream(name)
            for name in (
                "pay_run_calendars",
                "earnings_rates",
                "leave_types",
                "employees",
                "timesheets",
                "employee_leave",
            )
        ]
        world.records = tap_records(pool, tmp, "source", first, streams)
        yield world


def test_copy_reads_back_equal_changes_only_matches_and_replays_to_nothing(
    world: World, tmp_path: Path
) -> None:
    target = world.targets[0]
    assert all(world.records.values()), {s: len(r) for s, r in world.records.items()}
    before = _snapshot(world, target)
    assert any(k[0] == world.stream("timesheets") for k in before), "the target has timesheets"

    run = copy_into(target, tmp_path, world.singer)
    assert run.rejects == []
    after = _snapshot(world, target)

    # Nothing disappears; new records are exactly the audited creates; changes audited updates.
    created = {(a["stream"], a["xero_id"]) for a in run.audit if a["action"] == "created"}
    updated = {(a["stream"], a["xero_id"]) for a in run.audit if a["action"] == "updated"}
    assert before.keys() - after.keys() == set()
    assert after.keys() - before.keys() == created
    assert {k for k in before.keys() & after.keys() if before[k] != after[k]} <= updated
    written = {world.stream(n) for n in ("employees", "timesheets", "employee_leave")}
    assert {k[0] for k in created} == written

    # Every source record is in the target as it was written.
    copied = _content(world, after, _names(target))
    expected = _content(world, _snapshot(world, world.source), _names(world.source))
    for key, value in expected.items():
        assert copied.get(key) == value, key
    assert any(v[1] == "Approved" for k, v in expected.items() if k[0] == "timesheet")

    # A replay changes nothing.
    again = copy_into(target, tmp_path / "again", world.singer)
    assert {a["action"] for a in again.audit} == {"unchanged"}
    assert again.rejects == []
    assert _snapshot(world, target) == after


def test_a_matched_timesheet_is_changed_line_by_line(world: World, tmp_path: Path) -> None:
    """Records naming the employee by e-mail, the calendar and rates by name: one matches an
    approved timesheet whose lines it changes, one is new, one asks for a pay run's status."""
    target = world.targets[1]
    employees = {e["employeeID"]: e for e in _all(target, "Employees", "employees")}
    sheets = _all(target, "Timesheets", "timesheets")
    approved = next(s for s in sheets if s["status"] == "Approved" and len(s["timesheetLines"]) > 2)
    names = _names(target)
    calendar = names[approved["payrollCalendarID"]]
    kept, changed = approved["timesheetLines"][:2]
    added_day = next(
        day
        for day in (approved["startDate"][:8] + f"{n:02d}" for n in range(1, 29))
        if approved["startDate"] <= day <= approved["endDate"]
        and day not in {line["date"] for line in approved["timesheetLines"]}
    )
    rate = names[kept["earningsRateID"]]

    def line(date: str, hours: float) -> dict[str, Any]:
        return {"date": date, "earningsRateName": rate, "numberOfUnits": hours}

    email = employees[approved["employeeID"]]["email"]
    other = employees[
        next(s for s in sheets if s["employeeID"] != approved["employeeID"])["employeeID"]
    ]
    last = max(
        (s for s in sheets if s["employeeID"] == other["employeeID"]), key=lambda s: s["startDate"]
    )
    start, end = _next_period(world.region, last["startDate"], last["endDate"])
    records = [
        {
            "employeeEmail": email,
            "payrollCalendarName": calendar,
            "startDate": approved["startDate"],
            "endDate": approved["endDate"],
            "status": "Approved",
            "timesheetLines": [
                line(kept["date"], kept["numberOfUnits"]),
                line(changed["date"], 1.25),
                line(added_day, 2.0),
            ],
        },
        {
            "employeeEmail": other["email"],
            "payrollCalendarName": calendar,
            "startDate": start,
            "endDate": end,
            "timesheetLines": [line(start, 3.0)],
        },
        {**_record_for(last, other["email"], calendar), "status": "Completed"},
    ]
    stream = world.stream("timesheets")
    messages: list[dict[str, Any]] = [
        {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": {}},
            "key_properties": [],
        },
        *({"type": "RECORD", "stream": stream, "record": r} for r in records),
    ]
    singer = singer_file(tmp_path, "sheets", messages)
    completed = ["status Completed cannot be set through the API (Draft or Approved)"]

    dry = copy_into(target, tmp_path / "dry", singer, dry_run=True)
    assert sorted(a["action"] for a in dry.audit) == ["would_create", "would_update"]
    assert [r["reasons"] for r in dry.rejects] == [completed]
    assert _all(target, "Timesheets", "timesheets") == sheets

    run = copy_into(target, tmp_path / "run", singer)
    assert [r["reasons"] for r in run.rejects] == [completed]
    actions = {a["action"]: a["xero_id"] for a in run.audit}
    assert actions.keys() == {"updated", "created"}
    assert actions["updated"] == approved["timesheetID"]
    after = {s["timesheetID"]: s for s in _all(target, "Timesheets", "timesheets")}
    sheet = after[approved["timesheetID"]]
    assert sheet["status"] == "Approved"
    assert sorted((x["date"], x["numberOfUnits"]) for x in sheet["timesheetLines"]) == sorted(
        [(kept["date"], kept["numberOfUnits"]), (changed["date"], 1.25), (added_day, 2.0)]
    )
    new = after[actions["created"]]
    assert (new["employeeID"], new["status"], new["totalHours"]) == (
        other["employeeID"],
        "Draft",
        3,
    )
    # Nothing else changed.
    assert {
        k: v for k, v in after.items() if k not in (sheet["timesheetID"], new["timesheetID"])
    } == {s["timesheetID"]: s for s in sheets if s["timesheetID"] != sheet["timesheetID"]}
    again = copy_into(target, tmp_path / "again", singer)
    assert [a["action"] for a in again.audit] == ["unchanged", "unchanged"]


def _record_for(sheet: dict[str, Any], email: str, calendar: str) -> dict[str, Any]:
    return {
        "employeeEmail": email,
        "payrollCalendarName": calendar,
        "startDate": sheet["startDate"],
        "endDate": sheet["endDate"],
    }


def _next_period(region: str, start: str, end: str) -> tuple[str, str]:
    """The pay period after ``start``..``end`` (British calendars monthly, New Zealand ones
    fortnightly in the sandbox's seed)."""
    from datetime import date, timedelta

    last = date.fromisoformat(end)
    first = last + timedelta(days=1)
    if region == "NZ":
        return first.isoformat(), (first + timedelta(days=13)).isoformat()
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()

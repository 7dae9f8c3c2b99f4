"""target-xero on the Projects API: projects, tasks and time entries copied from one Demo Company
into another, populated one of the same region (tap-xero -> target-xero over the sandbox, real
processes).

* The copy reads back equal: every source project (by name and contact name) is in the target
  with its estimate, deadline and status, its tasks (by name) with their rate, charge type and
  estimate, and its time entries (task, user e-mail, date, minutes, description).
* It changes only what the documented keys matched: every new project, task or time entry is one
  the audit says ``created``; every changed one an audited ``updated``; nothing disappears.
* A replay changes nothing: every record is ``unchanged`` and the organisation reads the same.
* Records naming what the target does not have are rejected with the reason; a dry run writes
  nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._target_support import (
    SANDBOX_FLAGS,
    Org,
    OrgPool,
    TargetRun,
    run_target,
    singer_file,
    tap_records,
)
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

SCOPES = f"{ALL_SCOPES} projects"
STREAMS = ["contacts", "project_users", "projects", "project_tasks", "project_time"]
PROJECTS = "/projects.xro/2.0"
# (stream, ID) -> the record as the Projects API answers it
Snapshot = dict[tuple[str, str], dict[str, Any]]


@dataclass
class World:
    pool: OrgPool
    records: dict[str, list[dict[str, Any]]]  # tap-xero's on the first Demo Company
    singer: Path  # what the target is fed: the projects' contacts and every Projects stream
    targets: list[str]  # other Demo Companies of the same region


def _api(org: Org, path: str, **params: str) -> Any:
    return org.api(PROJECTS + path, **params)


def _items(org: Org, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = _api(org, path, page=str(page), pageSize="500")["items"]
        items += batch
        if len(batch) < 500:
            return items
        page += 1


def _snapshot(org: Org) -> Snapshot:
    snap: Snapshot = {}
    for project in _items(org, "/Projects"):
        snap[("projects", project["projectId"])] = project
        base = f"/Projects/{project['projectId']}"
        for task in _items(org, f"{base}/Tasks"):
            snap[("project_tasks", task["taskId"])] = task
        for entry in _items(org, f"{base}/Time"):
            snap[("project_time", entry["timeEntryId"])] = entry
    return snap


def _contact_names(org: Org) -> dict[str, str]:
    contacts = org.all("Contacts", "Contacts", includeArchived="true")
    return {c["ContactID"]: c["Name"] for c in contacts}


def _user_emails(org: Org) -> dict[str, str]:
    return {u["userId"]: u["email"] for u in _items(org, "/ProjectsUsers")}


def _content(snap: Snapshot, contacts: dict[str, str], users: dict[str, str]) -> dict[Any, Any]:
    """Each project by (name, contact name): what a client writes of it, its tasks by name and
    its time entries as a multiset, IDs replaced by what they name."""
    tasks: dict[str, dict[str, Any]] = {}
    out: dict[Any, Any] = {}
    for (stream, _), doc in snap.items():
        if stream == "project_tasks":
            tasks[doc["taskId"]] = doc
    for (stream, _), doc in snap.items():
        if stream != "projects":
            continue
        key = (doc["name"], contacts.get(doc.get("contactId") or ""))
        own_tasks = {t["name"]: t for t in tasks.values() if t["projectId"] == doc["projectId"]}
        entries = Counter(
            (
                tasks[e["taskId"]]["name"],
                users.get(e["userId"]),
                e["dateUtc"],
                e["duration"],
                e.get("description"),
            )
            for (s, _), e in snap.items()
            if s == "project_time" and e["projectId"] == doc["projectId"]
        )
        out[key] = {
            "estimate": doc["estimate"]["value"],
            "deadlineUtc": doc.get("deadlineUtc"),
            "status": doc["status"],
            "tasks": {
                name: (t["rate"]["value"], t["chargeType"], t.get("estimateMinutes"))
                for name, t in own_tasks.items()
            },
            "time": entries,
        }
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("projects")
    with Sandbox(tenants=4, scale=20, overlap=8, **SANDBOX_FLAGS) as sb:
        pool = OrgPool(sb)
        pool.token = str(sb.authorize(SCOPES)["access_token"])
        first, *others = sb.tenant_ids()
        records = tap_records(pool, tmp, "source", first, STREAMS)
        # The projects' contacts only: the copy is about projects, not about the address book.
        named = {p["contactId"] for p in records["projects"]}
        lines = []
        for line in (tmp / "source.singer").read_text().splitlines():
            compact = line.replace(" ", "")
            is_contact = '"type":"RECORD"' in compact and '"stream":"contacts"' in compact
            if is_contact and not any(contact in line for contact in named):
                continue
            lines.append(line)
        singer = tmp / "projects.singer"
        singer.write_text("\n".join(lines) + "\n")
        yield World(pool, records, singer, others)


def _config(org: Org, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    # Contacts by name: the Demo Companies share contact numbers that name different people.
    return org.config(tmp_path, natural_keys={"contacts": ["Name"]}, **extra)


def _copy(org: Org, tmp_path: Path, singer: Path) -> TargetRun:
    run = run_target(_config(org, tmp_path), tmp_path, singer)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == [], run.rejects[:3]
    return run


def test_copy_reads_back_equal_changes_only_matches_and_replays_to_nothing(
    world: World, tmp_path: Path
) -> None:
    source = Org(world.pool.sandbox, world.pool.sandbox.tenant_ids()[0], world.pool.token)
    target = Org(world.pool.sandbox, world.targets[0], world.pool.token)
    assert all(world.records[s] for s in STREAMS), {s: len(r) for s, r in world.records.items()}
    before = _snapshot(target)
    assert before, "the target Demo Company has projects of its own"

    run = _copy(target, tmp_path, world.singer)
    after = _snapshot(target)

    # Nothing disappears; new records are exactly the audited creates; changes audited updates.
    created = {(a["stream"], a["xero_id"]) for a in run.audit if a["action"] == "created"}
    updated = {(a["stream"], a["xero_id"]) for a in run.audit if a["action"] == "updated"}
    assert before.keys() - after.keys() == set()
    assert after.keys() - before.keys() == created
    changed = {k for k in before.keys() & after.keys() if before[k] != after[k]}
    # A project's minute total follows time added to it (Xero derives it).
    derived = {
        k
        for k in changed
        if k[0] in ("projects", "project_tasks")
        and {f for f in after[k] if after[k][f] != before[k].get(f)}
        <= {"minutesLogged", "totalMinutes"}
    }
    assert changed - derived <= updated
    assert Counter(a["stream"] for a in run.audit if a["action"] == "created")["projects"] >= 1

    # Every source project is in the target as it was written.
    copied = _content(after, _contact_names(target), _user_emails(target))
    expected = _content(_snapshot(source), _contact_names(source), _user_emails(source))
    for key, project in expected.items():
        assert key in copied, key
        got = copied[key]
        assert {k: got[k] for k in ("estimate", "deadlineUtc", "status")} == {
            k: project[k] for k in ("estimate", "deadlineUtc", "status")
        }, key
        assert project["tasks"].items() <= got["tasks"].items(), key
        assert not project["time"] - got["time"], key
    assert {k[0] for k in created} == {"projects", "project_tasks", "project_time"}

    # A replay changes nothing.
    again = _copy(target, tmp_path, world.singer)
    assert Counter(a["action"] for a in again.audit) == Counter({"unchanged": len(again.audit)})
    assert _snapshot(target) == after


def test_references_the_target_lacks_are_rejected_with_the_reason(
    world: World, tmp_path: Path
) -> None:
    target = Org(world.pool.sandbox, world.targets[1], world.pool.token)
    source_project = world.records["projects"][0]
    task = next(
        t for t in world.records["project_tasks"] if t["projectId"] == source_project["projectId"]
    )
    before = _snapshot(target)
    schemas = {s: {"type": "object", "properties": {}} for s in STREAMS}
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": s, "schema": schema, "key_properties": []}
        for s, schema in schemas.items()
        if s != "contacts"
    ]
    unknown = "00000000-0000-4000-8000-000000000001"
    messages += [
        {
            "type": "RECORD",
            "stream": "projects",
            "record": {"name": "Nobody's", "contactId": unknown},
        },
        {
            "type": "RECORD",
            "stream": "project_users",
            "record": {"userId": unknown, "email": "x@nowhere.test"},
        },
        {"type": "RECORD", "stream": "project_tasks", "record": {**task, "rate": None}},
        {
            "type": "RECORD",
            "stream": "project_time",
            "record": {
                "projectId": unknown,
                "taskId": task["taskId"],
                "userId": unknown,
                "dateUtc": "2026-02-03T09:00:00Z",
                "duration": 30,
                "description": "orphan",
            },
        },
    ]
    run = run_target(
        target.config(tmp_path), tmp_path, singer_file(tmp_path, "bad.singer", messages)
    )
    assert run.returncode == 0, run.stderr[-3000:]
    reasons = {r["stream"]: " | ".join(r["reasons"]) for r in run.rejects}
    assert "contactId" in reasons["projects"]
    assert unknown in reasons["projects"]
    assert "cannot create one" in reasons["project_users"]
    assert "projectId" in reasons["project_tasks"]  # its project is not in the target
    assert "projectId" in reasons["project_time"]
    assert "userId" in reasons["project_time"]
    assert run.audit == []
    assert _snapshot(target) == before

    # A dry run of the whole copy writes nothing and says what it would create.
    dry = run_target(_config(target, tmp_path, dry_run=True), tmp_path, world.singer)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert {a["action"] for a in dry.audit if a["stream"] == "projects"} <= {
        "would_create",
        "would_update",
        "unchanged",
    }
    assert dry.rejects == [], dry.rejects[:2]
    assert any(a["action"] == "would_create" for a in dry.audit if a["stream"] == "project_time")
    assert _snapshot(target) == before


def test_write_modes(world: World, tmp_path: Path) -> None:
    """update_only creates nothing (each record that matches nothing is rejected, saying so);
    create_only creates, and on a second run leaves every match untouched (``exists``)."""
    target = Org(world.pool.sandbox, world.pool.sandbox.tenant_ids()[3], world.pool.token)
    before = _snapshot(target)
    update_only = run_target(
        _config(target, tmp_path, write_mode="update_only"), tmp_path, world.singer
    )
    assert update_only.returncode == 0, update_only.stderr[-3000:]
    refused = [r for r in update_only.rejects if r["stream"] == "projects"]
    assert refused
    assert all("update_only" in " ".join(r["reasons"]) for r in refused)
    assert _snapshot(target) == before

    first = run_target(_config(target, tmp_path, write_mode="create_only"), tmp_path, world.singer)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.rejects == [], first.rejects[:3]
    created = _snapshot(target)
    assert len(created) > len(before)
    second = run_target(_config(target, tmp_path, write_mode="create_only"), tmp_path, world.singer)
    assert second.returncode == 0, second.stderr[-3000:]
    assert {a["action"] for a in second.audit if a["stream"] != "contacts"} == {"exists"}
    assert _snapshot(target) == created

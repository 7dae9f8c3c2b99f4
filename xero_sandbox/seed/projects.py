"""Projects of a Demo Company: ``scale // 20 + 3`` projects for its contacts, each with 2-4 tasks
and 2-6 + ``min(scale // 100, 20)`` time entries by its users; about three in ten closed and
invoiced. Time entries per project stop growing at scale 2,000, so the world grows linearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from xero_sandbox.api_collections import stored_name
from xero_sandbox.catalog import Record
from xero_sandbox.seed.world import Draws, iso_utc, money
from xero_sandbox.store import Store

__all__ = ["write_projects"]

_PROJECT_KINDS = ("Kitchen fit-out", "Office move", "Website rebuild", "Garden design", "Audit")
_TASKS = (
    ("Design", "TIME"),
    ("Build", "TIME"),
    ("Materials", "FIXED"),
    ("Site visit", "NON_CHARGEABLE"),
)
_MOST_EXTRA_ENTRIES = 20


def _amount(currency: str, value: Decimal) -> Record:
    return {"currency": currency, "value": money(value)}


def write_projects(store: Store, tid: str, draws: Draws, scale: int) -> None:
    org = next(store.iter_records(tid, "Organisation"))
    currency = str(org.get("BaseCurrency") or "NZD")
    users = [
        {
            "userId": u["UserID"],
            "name": f"{u.get('FirstName', '')} {u.get('LastName', '')}".strip(),
            "email": u.get("EmailAddress", ""),
        }
        for u in store.iter_records(tid, "Users")
    ]
    store.put_many(tid, stored_name("projects", "ProjectsUsers"), users)
    contacts = [
        c["ContactID"] for c, _ in zip(store.iter_records(tid, "Contacts"), range(40), strict=False)
    ]
    projects: list[Record] = []
    tasks: list[Record] = []
    times: list[Record] = []
    for number in range(1, scale // 20 + 4):
        project_id = draws.uid()
        closed = draws.rng.random() < 0.3
        project_tasks = _tasks(draws, project_id, currency, closed)
        entries = _time_entries(draws, project_id, project_tasks, users, closed, scale)
        task_total = _total_tasks(project_tasks, entries, currency, closed)
        projects.append(
            _project(draws, project_id, number, contacts, currency, closed, entries, task_total)
        )
        tasks += project_tasks
        times += entries
    store.put_many(tid, stored_name("projects", "Projects"), projects)
    store.put_many(tid, stored_name("projects", "Tasks"), tasks)
    store.put_many(tid, stored_name("projects", "Time"), times)


def _tasks(draws: Draws, project_id: str, currency: str, closed: bool) -> list[Record]:
    rng, tasks = draws.rng, []
    for name, charge in rng.sample(_TASKS, rng.randint(2, 4)):
        rate = Decimal(rng.choice((60, 85, 120, 150))) if charge == "TIME" else Decimal(0)
        if charge == "FIXED":
            rate = Decimal(rng.randrange(200, 3000))
        tasks.append(
            {
                "taskId": draws.uid(),
                "name": name,
                "rate": _amount(currency, rate),
                "chargeType": charge,
                "estimateMinutes": rng.choice((60, 120, 240, 480, 960)),
                "projectId": project_id,
                "status": "INVOICED" if closed else "ACTIVE",
            }
        )
    return tasks


def _time_entries(
    draws: Draws,
    project_id: str,
    tasks: list[Record],
    users: list[Record],
    closed: bool,
    scale: int,
) -> list[Record]:
    rng, entries = draws.rng, []
    for _ in range(rng.randint(2, 6) + min(scale // 100, _MOST_EXTRA_ENTRIES)):
        task = rng.choice(tasks)
        when = datetime.combine(draws.day(), datetime.min.time(), UTC) + timedelta(
            hours=rng.randint(7, 17)
        )
        entries.append(
            {
                "timeEntryId": draws.uid(),
                "userId": rng.choice(users)["userId"] if users else draws.uid(),
                "projectId": project_id,
                "taskId": task["taskId"],
                "dateUtc": iso_utc(when),
                "dateEnteredUtc": iso_utc(when + timedelta(hours=rng.randint(1, 30))),
                "duration": rng.choice((15, 30, 45, 60, 90, 120, 240, 480)),
                "description": f"{task['name']} work",
                "status": "INVOICED" if closed else rng.choice(("ACTIVE", "ACTIVE", "LOCKED")),
            }
        )
    return entries


def _total_tasks(
    tasks: list[Record], entries: list[Record], currency: str, closed: bool
) -> Decimal:
    """Fill in each task's minutes and amounts from the time entries; the tasks' total."""
    task_total = Decimal(0)
    for task in tasks:
        minutes = sum(e["duration"] for e in entries if e["taskId"] == task["taskId"])
        rate = task["rate"]["value"]
        total = {"TIME": rate * minutes / 60, "FIXED": rate}.get(task["chargeType"], Decimal(0))
        invoiced = total if closed else Decimal(0)
        task.update(
            totalMinutes=minutes,
            totalAmount=_amount(currency, total),
            minutesInvoiced=minutes if closed else 0,
            minutesToBeInvoiced=0 if closed else minutes,
            fixedMinutes=minutes if task["chargeType"] == "FIXED" else 0,
            nonChargeableMinutes=minutes if task["chargeType"] == "NON_CHARGEABLE" else 0,
            amountToBeInvoiced=_amount(currency, total - invoiced),
            amountInvoiced=_amount(currency, invoiced),
        )
        task_total += money(total)
    return task_total


def _project(
    draws: Draws,
    project_id: str,
    number: int,
    contacts: list[str],
    currency: str,
    closed: bool,
    entries: list[Record],
    task_total: Decimal,
) -> Record:
    rng = draws.rng
    logged = sum(e["duration"] for e in entries)
    estimate = money(task_total * Decimal("1.2") + rng.randrange(0, 2000))
    zero = _amount(currency, Decimal(0))
    done = _amount(currency, task_total) if closed else zero
    open_ = zero if closed else _amount(currency, task_total)
    deadline = datetime.combine(draws.day(), datetime.min.time(), UTC)
    return {
        "projectId": project_id,
        "contactId": rng.choice(contacts) if contacts else draws.uid(),
        "name": f"{rng.choice(_PROJECT_KINDS)} #{number}",
        "currencyCode": currency,
        "minutesLogged": logged,
        "totalTaskAmount": _amount(currency, task_total),
        "totalExpenseAmount": zero,
        "minutesToBeInvoiced": 0 if closed else logged,
        "taskAmountToBeInvoiced": open_,
        "taskAmountInvoiced": done,
        "expenseAmountToBeInvoiced": zero,
        "expenseAmountInvoiced": zero,
        "projectAmountInvoiced": done,
        "deposit": zero,
        "depositApplied": zero,
        "creditNoteAmount": zero,
        "deadlineUtc": iso_utc(deadline),
        "totalInvoiced": done,
        "totalToBeInvoiced": open_,
        "estimate": _amount(currency, estimate),
        "status": "CLOSED" if closed else "INPROGRESS",
    }

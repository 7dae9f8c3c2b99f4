"""The Projects API (``projects.xro/2.0``): projects, their users, tasks and time entries, read
and written as the spec says. What each route answers is in docs/apis.md and
docs/sandbox-writes.md; Xero documents no error messages for this API, so the sandbox's are its
own."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import API_PREFIXES
from xero_sandbox.apis.serving import (
    ApiRequest,
    WriteHandler,
    json_answer,
    no_content,
    paged,
    split_list,
    utc_text,
    write,
)
from xero_sandbox.catalog import Record
from xero_sandbox.reads import not_found

__all__ = ["routes"]

PREFIX = API_PREFIXES["projects"]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _bad_request(message: str, fields: dict[str, list[str]] | None = None) -> Response:
    return json_answer({"message": message, "modelState": fields or {}}, 400)


def _call(request: Request) -> ApiRequest:
    return ApiRequest(request, "projects")


def _page(call: ApiRequest, records: list[Record]) -> Response:
    return paged(
        call,
        records,
        default_size=DEFAULT_PAGE_SIZE,
        max_size=MAX_PAGE_SIZE,
        bad_request=_bad_request,
    )


def _matches(record: Record, field: str, raw: str | None) -> bool:
    return raw is None or raw == "" or str(record.get(field) or "").lower() in split_list(raw)


async def get_projects(request: Request) -> Response:
    """GET /Projects."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    q = call.query
    found = [
        p
        for p in call.records("Projects")
        if _matches(p, "projectId", q.get("projectids"))
        and _matches(p, "contactId", q.get("contactid"))
        and _matches(p, "status", q.get("states"))
    ]
    return _page(call, found)


async def get_project(request: Request) -> Response:
    """GET /Projects/{projectId}: the project itself, not an envelope."""
    return _call(request).one_at("Projects", "project_id")


async def get_users(request: Request) -> Response:
    """GET /ProjectsUsers."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    return _page(call, call.records("ProjectsUsers"))


def _project_call(request: Request) -> tuple[ApiRequest, Record | Response]:
    """The call and the project of a child collection's path (or the answer refusing it)."""
    call = _call(request)
    return call, call.found("Projects", request.path_params["project_id"])


async def get_tasks(request: Request) -> Response:
    """GET /Projects/{projectId}/Tasks."""
    call, project = _project_call(request)
    if isinstance(project, Response):
        return project
    q = call.query
    found = [
        t
        for t in call.records("Tasks", project["projectId"])
        if _matches(t, "taskId", q.get("taskids"))
        and _matches(t, "chargeType", q.get("chargetype"))
    ]
    return _page(call, found)


def _child(request: Request, name: str, key: str) -> Response:
    call = _call(request)
    if call.refusal:
        return call.refusal
    record = call.record(name, request.path_params[key])
    if record and record.get("projectId") != request.path_params["project_id"].lower():
        record = None  # another project's
    return call.one(record)


async def get_task(request: Request) -> Response:
    """GET /Projects/{projectId}/Tasks/{taskId}."""
    return _child(request, "Tasks", "task_id")


def _moment(raw: str | None) -> datetime | str | None:
    """A dateAfterUtc/dateBeforeUtc bound; the raw text back when it is not a date."""
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return raw
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def get_time(request: Request) -> Response:
    """GET /Projects/{projectId}/Time."""
    call, project = _project_call(request)
    if isinstance(project, Response):
        return project
    q = call.query
    after, before = _moment(q.get("dateafterutc")), _moment(q.get("datebeforeutc"))
    for name, bound in (("dateAfterUtc", after), ("dateBeforeUtc", before)):
        if isinstance(bound, str):
            return _bad_request(f"{name} must be an ISO 8601 UTC date")
    if q.get("contactid") and str(project.get("contactId")) != q["contactid"].lower():
        return _page(call, [])
    chargeable: set[str] | None = None
    if q.get("ischargeable", "").lower() in ("true", "false"):
        wanted = q["ischargeable"].lower() == "true"
        chargeable = {
            t["taskId"]
            for t in call.records("Tasks", project["projectId"])
            if (t.get("chargeType") != "NON_CHARGEABLE") == wanted
        }
    found = []
    for entry in call.records("Time", project["projectId"]):
        if not (
            _matches(entry, "userId", q.get("userid"))
            and _matches(entry, "taskId", q.get("taskid"))
            and _matches(entry, "invoiceId", q.get("invoiceid"))
            and _matches(entry, "status", q.get("states"))
        ):
            continue
        if chargeable is not None and entry.get("taskId") not in chargeable:
            continue
        when = _moment(entry.get("dateUtc"))
        if isinstance(when, datetime) and (
            (isinstance(after, datetime) and when < after)
            or (isinstance(before, datetime) and when > before)
        ):
            continue
        found.append(entry)
    return _page(call, found)


async def get_time_entry(request: Request) -> Response:
    """GET /Projects/{projectId}/Time/{timeEntryId}."""
    return _child(request, "Time", "entry_id")


# -- writes ----------------------------------------------------------------------------------

INVALID = "The request is invalid."
NOT_AN_OBJECT = "The request body must be a JSON object."
CHARGE_TYPES = ("TIME", "FIXED", "NON_CHARGEABLE")
PROJECT_STATUSES = ("INPROGRESS", "CLOSED")
MAX_TASK_NAME = 100
Problems = dict[str, list[str]]


def _number(value: Any) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _amount(currency: str, value: Any) -> Record:
    return {"currency": currency, "value": _money(value)}


def _text(body: Record, name: str, problems: Problems, *, required: bool, most: int = 0) -> None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.setdefault(name, []).append(f"The {name} field is required.")
    elif not isinstance(value, str):
        problems.setdefault(name, []).append(f"The {name} field must be a string.")
    elif most and len(value) > most:
        problems.setdefault(name, []).append(
            f"The field {name} must be a string with a maximum length of {most}."
        )


async def _write(request: Request, handle: WriteHandler) -> Response:
    return await write(request, "projects", handle)


def _project_fields(call: ApiRequest, body: Record) -> Problems:
    """Problems of a ProjectCreateOrUpdate body (the spec: ``name`` required)."""
    problems: Problems = {}
    _text(body, "name", problems, required=True)
    contact = body.get("contactId")
    if contact is not None and (
        not isinstance(contact, str)
        or call.ctx.store.get(call.tenant_id, "Contacts", contact) is None
    ):
        problems["contactId"] = [f"Contact {contact} could not be found."]
    if body.get("estimateAmount") is not None and not _number(body["estimateAmount"]):
        problems["estimateAmount"] = ["The estimateAmount field must be a number."]
    if body.get("deadlineUtc") is not None and utc_text(body["deadlineUtc"]) is None:
        problems["deadlineUtc"] = ["The deadlineUtc field must be a UTC date-time."]
    return problems


def _currency(call: ApiRequest) -> str:
    org = next(call.ctx.store.iter_records(call.tenant_id, "Organisation"), {})
    return str(org.get("BaseCurrency") or "NZD")


def _apply_project(call: ApiRequest, project: Record, body: Record) -> None:
    currency = str(project.get("currencyCode") or _currency(call))
    project["name"] = body["name"].strip()
    if body.get("contactId"):
        project["contactId"] = str(body["contactId"]).lower()
    elif "contactId" in body:
        project.pop("contactId", None)  # the spec's contactId is not nullable
    if "estimateAmount" in body:
        project["estimate"] = _amount(currency, body["estimateAmount"] or 0)
    if "deadlineUtc" in body:
        project["deadlineUtc"] = utc_text(body["deadlineUtc"])


def _new_project(call: ApiRequest, body: Record | None) -> Response:
    if body is None:
        return _bad_request(NOT_AN_OBJECT)
    problems = _project_fields(call, body)
    if problems:
        return _bad_request(INVALID, problems)
    currency = _currency(call)
    zero = _amount(currency, 0)
    project: Record = {
        "projectId": str(uuid.uuid4()),
        "name": "",
        "currencyCode": currency,
        "minutesLogged": 0,
        "minutesToBeInvoiced": 0,
        "estimate": zero,
        "status": "INPROGRESS",
        **dict.fromkeys(
            (
                "totalTaskAmount",
                "totalExpenseAmount",
                "taskAmountToBeInvoiced",
                "taskAmountInvoiced",
                "expenseAmountToBeInvoiced",
                "expenseAmountInvoiced",
                "projectAmountInvoiced",
                "deposit",
                "depositApplied",
                "creditNoteAmount",
                "totalInvoiced",
                "totalToBeInvoiced",
            ),
            zero,
        ),
    }
    _apply_project(call, project, body)
    call.save("Projects", project)
    return json_answer(project, 201)


def _project_to_change(
    call: ApiRequest, body: Record | None, project_id: str
) -> tuple[Record, Record] | Response:
    """The path's project and the write's body, or the 404 or 400 refusing the write."""
    project = call.record("Projects", project_id)
    if project is None:
        return not_found()
    if body is None:
        return _bad_request(NOT_AN_OBJECT)
    return project, body


def _changed_project(call: ApiRequest, body: Record | None, project_id: str) -> Response:
    found = _project_to_change(call, body, project_id)
    if isinstance(found, Response):
        return found
    project, changes = found
    problems = _project_fields(call, changes)
    if problems:
        return _bad_request(INVALID, problems)
    _apply_project(call, project, changes)
    call.save("Projects", project)
    return no_content()


def _patched_project(call: ApiRequest, body: Record | None, project_id: str) -> Response:
    found = _project_to_change(call, body, project_id)
    if isinstance(found, Response):
        return found
    project, changes = found
    status = changes.get("status")
    if status not in PROJECT_STATUSES:
        allowed = " or ".join(PROJECT_STATUSES)
        return _bad_request(INVALID, {"status": [f"The status field must be {allowed}."]})
    project["status"] = status
    call.save("Projects", project)
    return no_content()


async def post_projects(request: Request) -> Response:
    """POST /Projects: create a project."""
    return await _write(request, _new_project)


async def put_project(request: Request) -> Response:
    """PUT /Projects/{projectId}: update a project (204)."""
    project_id = request.path_params["project_id"]
    return await _write(request, lambda call, body: _changed_project(call, body, project_id))


async def patch_project(request: Request) -> Response:
    """PATCH /Projects/{projectId}: set its status (204)."""
    project_id = request.path_params["project_id"]
    return await _write(request, lambda call, body: _patched_project(call, body, project_id))


def _task_fields(call: ApiRequest, project: Record, body: Record) -> Problems:
    """Problems of a TaskCreateOrUpdate body (``name``, ``rate``, ``chargeType`` required)."""
    problems: Problems = {}
    _text(body, "name", problems, required=True, most=MAX_TASK_NAME)
    rate = body.get("rate")
    currency = str(project.get("currencyCode") or _currency(call))
    if rate is None:
        problems["rate"] = ["The rate field is required."]
    elif not isinstance(rate, dict) or not _number(rate.get("value")):
        problems["rate"] = ["The rate field must be an amount: {currency, value}."]
    elif rate.get("currency") not in (None, currency):
        problems["rate"] = [f"The rate currency must be the project's currency ({currency})."]
    if body.get("chargeType") not in CHARGE_TYPES:
        problems["chargeType"] = [f"The chargeType field must be one of {', '.join(CHARGE_TYPES)}."]
    minutes = body.get("estimateMinutes")
    if minutes is not None and (not _whole(minutes) or minutes < 0):
        problems["estimateMinutes"] = ["The estimateMinutes field must be a whole number >= 0."]
    return problems


def _apply_task(project: Record, task: Record, body: Record) -> None:
    currency = str(project.get("currencyCode") or "NZD")
    task["name"] = body["name"].strip()
    task["rate"] = _amount(currency, body["rate"]["value"])
    task["chargeType"] = body["chargeType"]
    if "estimateMinutes" in body:
        task["estimateMinutes"] = body["estimateMinutes"] or 0


def _time_fields(call: ApiRequest, project: Record, body: Record) -> Problems:
    """Problems of a TimeEntryCreateOrUpdate body (userId, taskId, dateUtc, duration required):
    the user must be a project user and the task one of this project's."""
    problems: Problems = {}
    user, task = body.get("userId"), body.get("taskId")
    if not user:
        problems["userId"] = ["The userId field is required."]
    elif not isinstance(user, str) or call.record("ProjectsUsers", user) is None:
        problems["userId"] = [f"User {user} could not be found."]
    if not task:
        problems["taskId"] = ["The taskId field is required."]
    else:
        found = call.record("Tasks", task) if isinstance(task, str) else None
        if found is None or found.get("projectId") != project["projectId"]:
            problems["taskId"] = [f"Task {task} could not be found in this project."]
    if body.get("dateUtc") is None:
        problems["dateUtc"] = ["The dateUtc field is required."]
    elif utc_text(body["dateUtc"]) is None:
        problems["dateUtc"] = ["The dateUtc field must be a UTC date-time."]
    duration = body.get("duration")
    if duration is None:
        problems["duration"] = ["The duration field is required."]
    elif not _whole(duration) or duration < 1:
        problems["duration"] = ["The duration field must be a whole number of minutes above 0."]
    if body.get("description") is not None and not isinstance(body["description"], str):
        problems["description"] = ["The description field must be a string."]
    return problems


def _apply_time(entry: Record, body: Record) -> None:
    entry["userId"] = str(body["userId"]).lower()
    entry["taskId"] = str(body["taskId"]).lower()
    entry["dateUtc"] = utc_text(body["dateUtc"])
    entry["duration"] = body["duration"]
    if "description" in body:
        entry["description"] = body["description"]


async def _child_write(
    request: Request,
    check: Callable[[ApiRequest, Record, Record], Problems],
    change: Callable[[ApiRequest, Record, Record | None, Record], Response],
    name: str,
    key: str | None,
) -> Response:
    """A write on a project's task or time entry: project and record found, body checked."""
    project_id = request.path_params["project_id"].lower()

    def handle(call: ApiRequest, body: Record | None) -> Response:
        project = call.record("Projects", project_id)
        if project is None:
            return not_found()
        record: Record | None = None
        if key is not None:
            record = call.record(name, request.path_params[key])
            if record is None or record.get("projectId") != project["projectId"]:
                return not_found()
        if request.method == "DELETE":
            return change(call, project, record, {})
        if body is None:
            return _bad_request(NOT_AN_OBJECT)
        problems = check(call, project, body)
        if problems:
            return _bad_request(INVALID, problems)
        return change(call, project, record, body)

    return await _write(request, handle)


def _save_task(call: ApiRequest, project: Record, task: Record | None, body: Record) -> Response:
    if task is None:
        zero = _amount(str(project.get("currencyCode") or "NZD"), 0)
        created: Record = {
            "taskId": str(uuid.uuid4()),
            "projectId": project["projectId"],
            "status": "ACTIVE",
            "estimateMinutes": 0,
            "totalMinutes": 0,
            "minutesInvoiced": 0,
            "minutesToBeInvoiced": 0,
            "fixedMinutes": 0,
            "nonChargeableMinutes": 0,
            "totalAmount": zero,
            "amountToBeInvoiced": zero,
            "amountInvoiced": zero,
        }
        _apply_task(project, created, body)
        call.save("Tasks", created)
        return json_answer(created, 201)
    if not body:  # DELETE
        if any(
            e.get("taskId") == task["taskId"] for e in call.records("Time", project["projectId"])
        ):
            return _bad_request(
                INVALID, {"taskId": ["A task with time entries cannot be deleted."]}
            )
        call.remove("Tasks", task["taskId"])
        return no_content()
    _apply_task(project, task, body)
    call.save("Tasks", task)
    return no_content()


def _save_time(call: ApiRequest, project: Record, entry: Record | None, body: Record) -> Response:
    if entry is None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        created: Record = {
            "timeEntryId": str(uuid.uuid4()),
            "projectId": project["projectId"],
            "dateEnteredUtc": now,
            "status": "ACTIVE",
        }
        _apply_time(created, body)
        call.save("Time", created)
        _count_minutes(call, project)
        return json_answer(created)
    if entry.get("status") != "ACTIVE":
        # Locked and invoiced time is Xero's record of what was billed.
        state = str(entry.get("status")).lower()
        return _bad_request(INVALID, {"timeEntryId": [f"A {state} time entry cannot be changed."]})
    if not body:  # DELETE
        call.remove("Time", entry["timeEntryId"])
    else:
        _apply_time(entry, body)
        call.save("Time", entry)
    _count_minutes(call, project)
    return no_content()


def _count_minutes(call: ApiRequest, project: Record) -> None:
    """Keep the project's and its tasks' minute totals true to its time entries."""
    entries = call.records("Time", project["projectId"])
    for task in call.records("Tasks", project["projectId"]):
        minutes = sum(
            int(e.get("duration") or 0) for e in entries if e.get("taskId") == task["taskId"]
        )
        if task.get("totalMinutes") != minutes:
            task["totalMinutes"] = minutes
            call.save("Tasks", task)
    project["minutesLogged"] = sum(int(e.get("duration") or 0) for e in entries)
    call.save("Projects", project)


def _child_routes(
    name: str,
    key: str,
    check: Callable[[ApiRequest, Record, Record], Problems],
    change: Callable[[ApiRequest, Record, Record | None, Record], Response],
) -> list[BaseRoute]:
    """The write routes of a project's tasks or time entries: ``POST`` on the collection
    creates; ``PUT``/``DELETE`` on one record (its path parameter ``key``) update or delete."""

    def route(record_key: str | None) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            return await _child_write(request, check, change, name, record_key)

        return handler

    collection = f"{PREFIX}/Projects/{{project_id}}/{name}"
    return [
        Route(collection, route(None), methods=["POST"]),
        Route(f"{collection}/{{{key}}}", route(key), methods=["PUT", "DELETE"]),
    ]


routes: list[BaseRoute] = [
    Route(PREFIX + "/Projects", post_projects, methods=["POST"]),
    Route(PREFIX + "/Projects/{project_id}", put_project, methods=["PUT"]),
    Route(PREFIX + "/Projects/{project_id}", patch_project, methods=["PATCH"]),
    *_child_routes("Tasks", "task_id", _task_fields, _save_task),
    *_child_routes("Time", "entry_id", _time_fields, _save_time),
    Route(PREFIX + "/Projects", get_projects, methods=["GET"]),
    Route(PREFIX + "/ProjectsUsers", get_users, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}", get_project, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}/Tasks", get_tasks, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}/Tasks/{task_id}", get_task, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}/Time", get_time, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}/Time/{entry_id}", get_time_entry, methods=["GET"]),
]

"""The Projects API (``projects.xro/2.0``): projects, their users, tasks and time entries.

Every GET of the spec: ``/Projects`` (``projectIds``, ``contactID``, ``states``),
``/Projects/{projectId}``, ``/ProjectsUsers``, ``/Projects/{projectId}/Tasks`` (``taskIds``,
``chargeType``) and one task, ``/Projects/{projectId}/Time`` (``userId``, ``taskId``,
``invoiceId``, ``contactId``, ``states``, ``isChargeable``, ``dateAfterUtc``/``dateBeforeUtc`` on
``dateUtc``) and one entry. Collections page with ``page``/``pageSize`` (default 50, 1-500).
No If-Modified-Since: projects carry no change date. Errors are the spec's ``Error``
(``message``, ``modelState``); an unknown ID is a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.apis.serving import ApiRequest, Record, json_answer, paged, split_list
from xero_sandbox.apis.table import API_PREFIXES
from xero_sandbox.reads import not_found

__all__ = ["routes"]

PREFIX = API_PREFIXES["projects"]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _bad_request(message: str) -> Response:
    return json_answer({"message": message, "modelState": {}}, 400)


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
    call = _call(request)
    return call.refusal or call.one(call.record("Projects", request.path_params["project_id"]))


async def get_users(request: Request) -> Response:
    """GET /ProjectsUsers."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    return _page(call, call.records("ProjectsUsers"))


def _project_call(request: Request) -> tuple[ApiRequest, Record | Response]:
    """The call and the project of a child collection's path (or the answer refusing it)."""
    call = _call(request)
    if call.refusal:
        return call, call.refusal
    project = call.record("Projects", request.path_params["project_id"])
    return call, not_found() if project is None else project


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


routes: list[BaseRoute] = [
    Route(PREFIX + "/Projects", get_projects, methods=["GET"]),
    Route(PREFIX + "/ProjectsUsers", get_users, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}", get_project, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}/Tasks", get_tasks, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}/Tasks/{task_id}", get_task, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}/Time", get_time, methods=["GET"]),
    Route(PREFIX + "/Projects/{project_id}/Time/{entry_id}", get_time_entry, methods=["GET"]),
]

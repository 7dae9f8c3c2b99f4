"""Contract tests for the Projects API's writes: every write of the official spec
(``openapi/xero-projects.json``) sent to the sandbox, request and answer validated with
openapi-core (a new write in the spec fails here until it is served), every refusal the sandbox
makes answered with the spec's ``Error`` body, 404s for unknown IDs, the write scope, an
organisation without Projects, and ``Idempotency-Key`` as on Accounting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_core.testing import MockRequest, MockResponse

from tests._openapi import spec_document
from tests._tap_support import RELAXED
from tests.sandbox.test_sandbox_contract_other_apis import _spec
from xero_api.codec import encode_json
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

BASE = "/projects.xro/2.0"
NOBODY = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, empty_tenants=1, scale=20, seed=23, **RELAXED) as running:
        running._tokens = running.authorize(f"{ALL_SCOPES} projects")
        yield running


def _send(
    sb: Sandbox,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = None,
    tenant: int = 0,
    raw: bytes | None = None,
) -> httpx.Response:
    """One write; request and answer validated against the spec (404s: status only)."""
    content = raw if raw is not None else (encode_json(body) if body is not None else None)
    headers = {**sb.headers(sb.tenant_ids()[tenant]), "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    answer = httpx.request(
        method, sb.url + BASE + path, content=content, headers=headers, timeout=30
    )
    request = MockRequest(
        "https://api.xero.com",
        method.lower(),
        BASE + path,
        headers={
            "xero-tenant-id": sb.tenant_ids()[tenant],
            **({"Idempotency-Key": key} if key else {}),
        },
        data=content,
    )
    if raw is None and answer.status_code < 300:
        _spec("xero-projects").validate_request(request)
    if answer.status_code not in (403, 404):
        response = MockResponse(
            answer.content,
            status_code=answer.status_code,
            content_type="application/json",
        )
        _spec("xero-projects").validate_response(request, response)
    return answer


def _get(sb: Sandbox, path: str) -> Any:
    answer = httpx.get(sb.url + BASE + path, headers=sb.headers(sb.tenant_ids()[0]), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _contact(sb: Sandbox) -> str:
    answer = httpx.get(
        sb.url + "/api.xro/2.0/Contacts", headers=sb.headers(sb.tenant_ids()[0]), timeout=30
    )
    return str(answer.json()["Contacts"][0]["ContactID"])


def _refused(answer: httpx.Response, field: str) -> str:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["message"]
    return " ".join(body["modelState"][field])


def test_every_write_of_the_spec_is_served_as_specified(sb: Sandbox) -> None:
    served: set[tuple[str, str]] = set()

    def send(method: str, template: str, path: str, body: Any = None) -> httpx.Response:
        served.add((method, template))
        return _send(sb, method, path, body)

    created = send(
        "POST",
        "/Projects",
        "/Projects",
        {
            "name": "Contract",
            "contactId": _contact(sb),
            "estimateAmount": 1200.5,
            "deadlineUtc": "2027-03-01T00:00:00Z",
        },
    )
    assert created.status_code == 201
    project = created.json()
    assert project["status"] == "INPROGRESS"
    assert project["estimate"]["value"] == 1200.5
    pid = project["projectId"]
    assert _get(sb, f"/Projects/{pid}") == project
    base = f"/Projects/{pid}"
    renamed = send(
        "PUT", "/Projects/{projectId}", base, {"name": "Contract 2", "estimateAmount": 99}
    )
    assert renamed.status_code == 204
    assert _get(sb, base)["name"] == "Contract 2"

    task_body = {
        "name": "Design",
        "rate": {"currency": project["currencyCode"], "value": 85},
        "chargeType": "TIME",
        "estimateMinutes": 120,
    }
    task = send("POST", "/Projects/{projectId}/Tasks", f"{base}/Tasks", task_body)
    assert task.status_code == 201
    tid = task.json()["taskId"]
    changed = send(
        "PUT",
        "/Projects/{projectId}/Tasks/{taskId}",
        f"{base}/Tasks/{tid}",
        {**task_body, "estimateMinutes": 240},
    )
    assert changed.status_code == 204
    assert _get(sb, f"{base}/Tasks/{tid}")["estimateMinutes"] == 240

    user = _get(sb, "/ProjectsUsers")["items"][0]["userId"]
    time_body = {
        "userId": user,
        "taskId": tid,
        "dateUtc": "2027-01-05T09:00:00Z",
        "duration": 90,
        "description": "Sketches",
    }
    entry = send("POST", "/Projects/{projectId}/Time", f"{base}/Time", time_body)
    assert entry.status_code == 200
    assert entry.json()["status"] == "ACTIVE"
    eid = entry.json()["timeEntryId"]
    assert _get(sb, base)["minutesLogged"] == 90
    longer = send(
        "PUT",
        "/Projects/{projectId}/Time/{timeEntryId}",
        f"{base}/Time/{eid}",
        {**time_body, "duration": 120},
    )
    assert longer.status_code == 204
    assert _get(sb, base)["minutesLogged"] == 120
    assert _get(sb, f"{base}/Tasks/{tid}")["totalMinutes"] == 120

    closed = send("PATCH", "/Projects/{projectId}", base, {"status": "CLOSED"})
    assert closed.status_code == 204
    assert _get(sb, base)["status"] == "CLOSED"
    assert (
        send("DELETE", "/Projects/{projectId}/Time/{timeEntryId}", f"{base}/Time/{eid}").status_code
        == 204
    )
    assert (
        send("DELETE", "/Projects/{projectId}/Tasks/{taskId}", f"{base}/Tasks/{tid}").status_code
        == 204
    )
    assert _get(sb, f"{base}/Time")["items"] == []
    assert _get(sb, f"{base}/Tasks")["items"] == []

    in_spec = {
        (method.upper(), path)
        for path, operations in spec_document("xero-projects")["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    }
    assert served == in_spec  # a new write in the spec fails here until it is served


def test_refusals_have_the_specs_error_body_naming_the_field(sb: Sandbox) -> None:
    project = _get(sb, "/Projects")["items"][0]
    base = f"/Projects/{project['projectId']}"
    currency = project["currencyCode"]
    other = _get(sb, "/Projects")["items"][1]["projectId"]
    foreign_task = _get(sb, f"/Projects/{other}/Tasks")["items"][0]["taskId"]
    own_task = _get(sb, f"{base}/Time")["items"][0]["taskId"]  # a task with time
    user = _get(sb, "/ProjectsUsers")["items"][0]["userId"]

    assert "required" in _refused(_send(sb, "POST", "/Projects", {"estimateAmount": 5}), "name")
    assert NOBODY in _refused(
        _send(sb, "POST", "/Projects", {"name": "x", "contactId": NOBODY}), "contactId"
    )
    assert _refused(
        _send(sb, "POST", "/Projects", {"name": "x", "deadlineUtc": "soon"}), "deadlineUtc"
    )
    assert _refused(
        _send(sb, "PUT", base, {"name": "x", "estimateAmount": "lots"}), "estimateAmount"
    )
    assert "INPROGRESS" in _refused(_send(sb, "PATCH", base, {"status": "DONE"}), "status")
    not_json = _send(sb, "POST", "/Projects", raw=b"[1, 2]")
    assert not_json.status_code == 400
    assert "JSON object" in not_json.json()["message"]

    task = {"name": "T", "rate": {"currency": currency, "value": 10}, "chargeType": "TIME"}
    assert "required" in _refused(
        _send(sb, "POST", f"{base}/Tasks", {**task, "rate": None}), "rate"
    )
    assert _refused(
        _send(sb, "POST", f"{base}/Tasks", {**task, "chargeType": "HOURLY"}), "chargeType"
    )
    assert "100" in _refused(
        _send(sb, "POST", f"{base}/Tasks", {**task, "name": "n" * 101}), "name"
    )
    wrong = {**task, "rate": {"currency": "XXX", "value": 10}}
    assert currency in _refused(_send(sb, "POST", f"{base}/Tasks", wrong), "rate")
    assert _refused(
        _send(sb, "POST", f"{base}/Tasks", {**task, "estimateMinutes": -1}), "estimateMinutes"
    )
    in_use = _send(sb, "DELETE", f"{base}/Tasks/{own_task}")
    assert "time entries" in _refused(in_use, "taskId")

    entry = {"userId": user, "taskId": own_task, "dateUtc": "2027-01-05T09:00:00Z", "duration": 30}
    assert NOBODY in _refused(
        _send(sb, "POST", f"{base}/Time", {**entry, "userId": NOBODY}), "userId"
    )
    assert "this project" in _refused(
        _send(sb, "POST", f"{base}/Time", {**entry, "taskId": foreign_task}), "taskId"
    )
    assert _refused(_send(sb, "POST", f"{base}/Time", {**entry, "dateUtc": "Tuesday"}), "dateUtc")
    assert _refused(_send(sb, "POST", f"{base}/Time", {**entry, "duration": 0}), "duration")
    missing = _send(sb, "POST", f"{base}/Time", {})
    for field in ("userId", "taskId", "dateUtc", "duration"):
        assert "required" in _refused(missing, field)

    locked = next(
        (
            e
            for p in _get(sb, "/Projects")["items"]
            for e in _get(sb, f"/Projects/{p['projectId']}/Time")["items"]
            if e["status"] != "ACTIVE"
        ),
        None,
    )
    assert locked is not None, "the seed has locked or invoiced time"
    path = f"/Projects/{locked['projectId']}/Time/{locked['timeEntryId']}"
    body = {k: locked[k] for k in ("userId", "taskId", "dateUtc", "duration")}
    assert "cannot be changed" in _refused(_send(sb, "PUT", path, body), "timeEntryId")


def test_unknown_ids_scope_and_missing_api(sb: Sandbox) -> None:
    project = _get(sb, "/Projects")["items"][0]["projectId"]
    for method, path in (
        ("PUT", f"/Projects/{NOBODY}"),
        ("PATCH", f"/Projects/{NOBODY}"),
        ("POST", f"/Projects/{NOBODY}/Tasks"),
        ("PUT", f"/Projects/{project}/Tasks/{NOBODY}"),
        ("DELETE", f"/Projects/{project}/Time/{NOBODY}"),
    ):
        assert _send(sb, method, path, {"name": "x"}).status_code == 404, (method, path)
    assert _send(sb, "POST", "/Projects", {"name": "x"}, tenant=1).status_code == 403
    read_only = sb.authorize(f"{ALL_SCOPES} projects.read")["access_token"]
    answer = httpx.post(
        sb.url + BASE + "/Projects",
        json={"name": "x"},
        headers={**sb.headers(sb.tenant_ids()[0]), "Authorization": f"Bearer {read_only}"},
        timeout=30,
    )
    assert answer.status_code == 401
    assert "AuthorizationUnsuccessful" in answer.text


def test_idempotency_key_replays_the_answer_and_refuses_another_request(sb: Sandbox) -> None:
    before = len(_get(sb, "/Projects?pageSize=500")["items"])
    first = _send(sb, "POST", "/Projects", {"name": "Once"}, key="projects-once")
    again = _send(sb, "POST", "/Projects", {"name": "Once"}, key="projects-once")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert len(_get(sb, "/Projects?pageSize=500")["items"]) == before + 1
    other = _send(sb, "POST", "/Projects", {"name": "Twice"}, key="projects-once")
    assert other.status_code == 400
    assert "different request" in other.text

"""Contract tests for the Projects, Fixed Assets and Payroll AU APIs: every GET of their official
specs (``openapi/xero-projects.json``, ``openapi/xero_assets.json``,
``openapi/xero-payroll-au.json``), every paging mode, filter and
error the spec describes, answered by the sandbox and validated with openapi-core; and every
request tap-xero sends to them, validated against the same specs.

Two defects of the specs no real answer can meet are read as OpenAPI 3.0 and the specs' own
examples mean them: keywords beside a ``$ref`` are ignored (the Projects spec declares a task's
``rate`` as ``$ref: Amount`` *and* ``type: number``; its examples send an Amount object), and the
Assets spec's ``Setting`` requires a ``name`` property it never declares (its example has none),
and the Files spec's ``FileObject`` requires ``id``, ``name``, ``manufacturer`` and
``releaseDate`` (a sample's, not a file's: its properties are ``Id``, ``Name``...) and ``Folder``
a lower-case ``name``: those requirements are dropped. 404s (unknown IDs) are not in these
specs: their status is checked, not their body.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest
from openapi_core.testing import MockRequest, MockResponse

from tap_xero.tap import TapXero
from tests._openapi import UNCHECKED, spec_document
from tests._tap_support import RELAXED, START_DATE, catalog
from xero_api.resources import ACCOUNTING, RESOURCES
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

SCOPES = (
    f"{ALL_SCOPES} projects.read assets.read payroll.employees.read payroll.payruns.read "
    "payroll.payslip.read payroll.settings.read payroll.timesheets.read files.read"
)
SPECS = {
    "/projects.xro/2.0": "xero-projects",
    "/assets.xro/1.0": "xero_assets",
    "/payroll.xro/1.0": "xero-payroll-au",
    "/files.xro/1.0": "xero_files",
}


def _ref_siblings_ignored(node: Any) -> Any:
    """The document as OpenAPI 3.0 reads it: keywords beside a ``$ref`` are ignored."""
    if isinstance(node, dict):
        if "$ref" in node:
            return {"$ref": node["$ref"]}
        return {key: _ref_siblings_ignored(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_ref_siblings_ignored(value) for value in node]
    return node


@cache
def _spec(name: str) -> OpenAPI:
    document = _ref_siblings_ignored(spec_document(name))
    if name == "xero_assets":
        document["components"]["schemas"]["Setting"].pop("required", None)  # see module doc
    if name == "xero_files":
        for schema in ("FileObject", "Folder"):  # see module doc
            document["components"]["schemas"][schema].pop("required", None)
    return OpenAPI.from_dict(document, config=UNCHECKED)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, empty_tenants=1, scale=60, seed=17, regions="AU", **RELAXED) as running:
        running._tokens = running.authorize(SCOPES)  # headers() carries these scopes
        yield running


def _base(path: str) -> tuple[str, str]:
    for base, name in SPECS.items():
        if path.startswith(base):
            return base, name
    raise AssertionError(path)


def _call(sb: Sandbox, path: str, params: dict[str, str] | None = None, tenant: int = 0) -> Any:
    """GET through the sandbox; the answer is validated against its spec unless it is a 404."""
    answer = httpx.get(
        sb.url + path,
        params=params or {},
        headers=sb.headers(sb.tenant_ids()[tenant]),
        timeout=30,
    )
    if answer.status_code != 404:
        _, name = _base(path)
        request = MockRequest(
            "https://api.xero.com",
            "get",
            path,
            args=params or {},
            headers={"xero-tenant-id": sb.tenant_ids()[tenant], "Accept": "application/json"},
        )
        kind = answer.headers.get("content-type", "").split(";")[0]
        response = MockResponse(answer.content, status_code=answer.status_code, content_type=kind)
        _spec(name).validate_response(request, response)
    return answer


def _ok(sb: Sandbox, path: str, params: dict[str, str] | None = None) -> Any:
    answer = _call(sb, path, params)
    assert answer.status_code == 200, answer.text
    if answer.headers["content-type"] == "application/octet-stream":
        return answer.content
    return answer.json()


def _concrete_paths(sb: Sandbox) -> dict[tuple[str, str], str]:
    """(spec, templated path) -> a real path for every GET of both specs."""
    project = _ok(sb, "/projects.xro/2.0/Projects")["items"][0]["projectId"]
    base = f"/projects.xro/2.0/Projects/{project}"
    task = _ok(sb, f"{base}/Tasks")["items"][0]["taskId"]
    entry = _ok(sb, f"{base}/Time")["items"][0]["timeEntryId"]
    asset = _ok(sb, "/assets.xro/1.0/Assets", {"status": "REGISTERED"})["items"][0]["assetId"]
    payroll = "/payroll.xro/1.0"
    employee = _ok(sb, f"{payroll}/Employees")["Employees"][0]["EmployeeID"]
    leave = _ok(sb, f"{payroll}/LeaveApplications")["LeaveApplications"][0]
    calendar = _ok(sb, f"{payroll}/PayrollCalendars")["PayrollCalendars"][0]
    pay_run = _ok(sb, f"{payroll}/PayRuns")["PayRuns"][0]
    fund = _ok(sb, f"{payroll}/Superfunds")["SuperFunds"][0]["SuperFundID"]
    sheet = _ok(sb, f"{payroll}/Timesheets")["Timesheets"][0]["TimesheetID"]
    au = "xero-payroll-au"
    files = "/files.xro/1.0"
    listed = _ok(sb, f"{files}/Files")["Items"]
    linked = next(
        (a for f in listed for a in _ok(sb, f"{files}/Files/{f['Id']}/Associations")), None
    )
    assert linked is not None
    folder = _ok(sb, f"{files}/Folders")[1]["Id"]
    return {
        ("xero_files", "/Files"): f"{files}/Files?pagesize=5&sort=Size&direction=DESC",
        ("xero_files", "/Files/{FileId}"): f"{files}/Files/{linked['FileId']}",
        ("xero_files", "/Files/{FileId}/Content"): f"{files}/Files/{linked['FileId']}/Content",
        ("xero_files", "/Files/{FileId}/Associations"): (
            f"{files}/Files/{linked['FileId']}/Associations"
        ),
        ("xero_files", "/Associations/{ObjectId}"): f"{files}/Associations/{linked['ObjectId']}",
        ("xero_files", "/Associations/Count"): (
            f"{files}/Associations/Count?ObjectIds={linked['ObjectId']}"
        ),
        ("xero_files", "/Folders"): f"{files}/Folders?sort=Name",
        ("xero_files", "/Folders/{FolderId}"): f"{files}/Folders/{folder}",
        ("xero_files", "/Inbox"): f"{files}/Inbox",
        (au, "/Employees"): f"{payroll}/Employees",
        (au, "/Employees/{EmployeeID}"): f"{payroll}/Employees/{employee}",
        (au, "/LeaveApplications"): f"{payroll}/LeaveApplications",
        (au, "/LeaveApplications/v2"): f"{payroll}/LeaveApplications/v2",
        (au, "/LeaveApplications/{LeaveApplicationID}"): (
            f"{payroll}/LeaveApplications/{leave['LeaveApplicationID']}"
        ),
        (au, "/PayItems"): f"{payroll}/PayItems",
        (au, "/PayrollCalendars"): f"{payroll}/PayrollCalendars",
        (au, "/PayrollCalendars/{PayrollCalendarID}"): (
            f"{payroll}/PayrollCalendars/{calendar['PayrollCalendarID']}"
        ),
        (au, "/PayRuns"): f"{payroll}/PayRuns?page=1",
        (au, "/PayRuns/{PayRunID}"): f"{payroll}/PayRuns/{pay_run['PayRunID']}",
        (au, "/Payslip/{PayslipID}"): f"{payroll}/Payslip/{pay_run['Payslips'][0]['PayslipID']}",
        (au, "/Settings"): f"{payroll}/Settings",
        (au, "/Superfunds"): f"{payroll}/Superfunds",
        (au, "/Superfunds/{SuperFundID}"): f"{payroll}/Superfunds/{fund}",
        (au, "/SuperfundProducts"): f"{payroll}/SuperfundProducts?USI=STA0100AU",
        (au, "/Timesheets"): f"{payroll}/Timesheets?page=1",
        (au, "/Timesheets/{TimesheetID}"): f"{payroll}/Timesheets/{sheet}",
        ("xero-projects", "/Projects"): "/projects.xro/2.0/Projects",
        ("xero-projects", "/Projects/{projectId}"): base,
        ("xero-projects", "/ProjectsUsers"): "/projects.xro/2.0/ProjectsUsers",
        ("xero-projects", "/Projects/{projectId}/Tasks"): f"{base}/Tasks",
        ("xero-projects", "/Projects/{projectId}/Tasks/{taskId}"): f"{base}/Tasks/{task}",
        ("xero-projects", "/Projects/{projectId}/Time"): f"{base}/Time",
        ("xero-projects", "/Projects/{projectId}/Time/{timeEntryId}"): f"{base}/Time/{entry}",
        ("xero_assets", "/Assets"): "/assets.xro/1.0/Assets?status=DRAFT",
        ("xero_assets", "/Assets/{id}"): f"/assets.xro/1.0/Assets/{asset}",
        ("xero_assets", "/AssetTypes"): "/assets.xro/1.0/AssetTypes",
        ("xero_assets", "/Settings"): "/assets.xro/1.0/Settings",
    }


def test_every_get_of_the_specs_is_served_as_specified(sb: Sandbox) -> None:
    concrete = _concrete_paths(sb)
    in_specs = {
        (name, path)
        for name in SPECS.values()
        for path, operations in spec_document(name)["paths"].items()
        if "get" in operations
    }
    assert set(concrete) == in_specs  # a new GET in a spec fails here until it is served
    for path in concrete.values():
        url = urlsplit(path)
        params = dict(httpx.QueryParams(url.query))
        body = _ok(sb, url.path, params)
        assert body, path


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/projects.xro/2.0/Projects", {"page": "2", "pageSize": "2"}),
        ("/projects.xro/2.0/Projects", {"page": "99"}),
        ("/projects.xro/2.0/Projects", {"states": "CLOSED"}),
        ("/projects.xro/2.0/Projects", {"states": "INPROGRESS", "pageSize": "500"}),
        ("/projects.xro/2.0/ProjectsUsers", {"page": "1", "pageSize": "1"}),
        ("/assets.xro/1.0/Assets", {"status": "REGISTERED", "page": "2", "pageSize": "3"}),
        ("/assets.xro/1.0/Assets", {"status": "DISPOSED", "orderBy": "DisposalPrice"}),
        (
            "/assets.xro/1.0/Assets",
            {"status": "REGISTERED", "orderBy": "AssetName", "sortDirection": "desc"},
        ),
        ("/assets.xro/1.0/Assets", {"status": "REGISTERED", "filterBy": "desk"}),
        ("/payroll.xro/1.0/Employees", {"page": "1", "where": 'Status=="ACTIVE"'}),
        ("/payroll.xro/1.0/Employees", {"order": "LastName DESC"}),
        ("/payroll.xro/1.0/PayRuns", {"page": "2"}),
        ("/payroll.xro/1.0/Timesheets", {"page": "1", "order": "UpdatedDateUTC ASC"}),
        ("/payroll.xro/1.0/LeaveApplications/v2", {"page": "1"}),
        ("/files.xro/1.0/Files", {"page": "2", "pagesize": "3"}),
        ("/files.xro/1.0/Files", {"sort": "CreatedDateUTC", "direction": "ASC"}),
        ("/files.xro/1.0/Folders", {"sort": "CreatedDateUTC"}),
        ("/files.xro/1.0/Folders", {"sort": "CreatedDateUTC DESC"}),
        ("/files.xro/1.0/Folders", {"sort": "Size"}),
    ],
)
def test_paging_and_filters_answer_as_specified(
    sb: Sandbox, path: str, params: dict[str, str]
) -> None:
    _ok(sb, path, params)


def test_child_filters_answer_as_specified(sb: Sandbox) -> None:
    project = _ok(sb, "/projects.xro/2.0/Projects")["items"][0]
    base = f"/projects.xro/2.0/Projects/{project['projectId']}"
    tasks = _ok(sb, f"{base}/Tasks")["items"]
    entry = _ok(sb, f"{base}/Time")["items"][0]
    for params in (
        {"taskIds": tasks[0]["taskId"]},
        {"chargeType": "TIME"},
        {"page": "1", "pageSize": "1"},
    ):
        _ok(sb, f"{base}/Tasks", params)
    for params in (
        {"userId": entry["userId"]},
        {"taskId": entry["taskId"]},
        {"contactId": project["contactId"]},
        {"states": "ACTIVE,LOCKED"},
        {"isChargeable": "true"},
        {"dateAfterUtc": "2025-10-01T00:00:00Z", "dateBeforeUtc": "2026-03-31T23:59:59Z"},
        {"page": "2", "pageSize": "1"},
    ):
        _ok(sb, f"{base}/Time", params)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/projects.xro/2.0/Projects", {"pageSize": "501"}),
        ("/projects.xro/2.0/Projects", {"page": "0"}),
        ("/assets.xro/1.0/Assets", {}),
        ("/assets.xro/1.0/Assets", {"status": "DRAFT", "orderBy": "DisposalDate"}),
    ],
)
def test_errors_have_the_specs_error_body(sb: Sandbox, path: str, params: dict[str, str]) -> None:
    assert _call(sb, path, params).status_code == 400


def test_time_with_a_bad_date_has_the_error_body(sb: Sandbox) -> None:
    project = _ok(sb, "/projects.xro/2.0/Projects")["items"][0]["projectId"]
    answer = _call(sb, f"/projects.xro/2.0/Projects/{project}/Time", {"dateAfterUtc": "soon"})
    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/files.xro/1.0/Files", {"pagesize": "101"}),
        ("/files.xro/1.0/Files", {"sort": "Colour"}),
        ("/files.xro/1.0/Folders", {"sort": "Size SIDEWAYS"}),
    ],
)
def test_files_errors_have_the_specs_error_body(
    sb: Sandbox, path: str, params: dict[str, str]
) -> None:
    """The Files spec declares no 400 for its GETs; its other operations' 400 examples show the
    body: a list of problems, ``[{"type": "Validation", "title": "Validation failure", "detail":
    "Extension: boo is not a valid File extension."}]``."""
    answer = httpx.get(
        sb.url + path, params=params, headers=sb.headers(sb.tenant_ids()[0]), timeout=30
    )
    assert answer.status_code == 400
    [problem] = answer.json()
    assert set(problem) == {"type", "title", "detail"}
    assert problem["type"] == "Validation"
    assert problem["title"] == "Validation failure"
    assert isinstance(problem["detail"], str)
    assert problem["detail"]


def test_association_dates_are_date_times(sb: Sandbox) -> None:
    """The spec's Association dates are ``format: date-time``, which needs a zone (RFC 3339)."""
    schema = spec_document("xero_files")["components"]["schemas"]["Association"]["properties"]
    listed = _ok(sb, "/files.xro/1.0/Files")["Items"]
    links = [a for f in listed for a in _ok(sb, f"/files.xro/1.0/Files/{f['Id']}/Associations")]
    object_id = links[0]["ObjectId"]
    links += _ok(sb, f"/files.xro/1.0/Associations/{object_id}")
    for name in ("CreatedDateUtc", "AssociationDateUtc"):
        assert schema[name]["format"] == "date-time"
        for link in links:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", link[name]), link


def test_unknown_ids_and_missing_apis(sb: Sandbox) -> None:
    nobody = "00000000-0000-4000-8000-000000000000"
    assert _call(sb, f"/projects.xro/2.0/Projects/{nobody}").status_code == 404
    assert _call(sb, f"/assets.xro/1.0/Assets/{nobody}").status_code == 404
    empty = httpx.get(
        sb.url + "/projects.xro/2.0/Projects",
        headers=sb.headers(sb.tenant_ids()[1]),
        timeout=30,
    )
    assert empty.status_code == 403


def test_every_request_the_tap_sends_matches_the_specs(sb: Sandbox, tmp_path: Path) -> None:
    recorded: list[httpx.Request] = []
    original = httpx.Client.send

    def recording_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> Any:
        recorded.append(request)
        return original(self, request, **kwargs)

    tokens = sb.authorize(SCOPES)
    config = {
        "auth_mode": "refresh_token",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "refresh_token": tokens["refresh_token"],
        "token_store_path": str(tmp_path / "tokens.json"),
        "api_url": sb.url,
        "identity_url": sb.url,
        "login_url": sb.url,
        "start_date": START_DATE,
        "page_size": 3,
        "tenant_ids": [sb.tenant_ids()[0]],
    }
    streams = [r.stream for r in RESOURCES if r.api is not ACCOUNTING]
    tap = TapXero(config=config, catalog=catalog(config, streams), parse_env_config=False)
    patch = pytest.MonkeyPatch()
    patch.setattr(httpx.Client, "send", recording_send)
    try:
        with redirect_stdout(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")):
            tap.sync_all()
    finally:
        patch.undo()
    seen: set[str] = set()
    for request in recorded:
        path = request.url.path
        if not path.startswith(tuple(SPECS)):
            continue
        _, name = _base(path)
        target = httpx.URL("https://api.xero.com" + path, params=request.url.params)
        prepared = httpx_to_requests(request, str(target))
        result = _spec(name).unmarshal_request(RequestsOpenAPIRequest(prepared))
        assert not result.errors, f"{request.url}: {result.errors[0]}"
        assert request.headers["xero-tenant-id"] == sb.tenant_ids()[0]
        seen.add(name)
    assert seen == set(SPECS.values())


def httpx_to_requests(request: httpx.Request, url: str) -> Any:
    """The request as the ``requests`` library would have prepared it for ``url``."""
    import requests

    return requests.Request(request.method, url, headers=dict(request.headers)).prepare()

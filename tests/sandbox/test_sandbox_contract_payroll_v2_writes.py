"""Contract tests for Payroll UK and NZ writes (``payroll.xro/2.0``): employees created and
updated, timesheets created, their lines added, changed and deleted, approved and reverted,
an employee's leave created, updated and deleted, for a British and a New Zealand
organisation, every 200 validated against the spec of the organisation's region; every refusal
the sandbox makes as the specs' ``Problem`` with its ``invalidFields``; the write scopes, an
Australian organisation refused as the reads refuse it, and ``Idempotency-Key`` as on
Accounting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from openapi_core.testing import MockRequest, MockResponse

from tests._tap_support import RELAXED
from tests.sandbox.test_sandbox_contract_payroll_v2 import SPECS, _spec
from xero_api.codec import encode_json
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

BASE = "/payroll.xro/2.0"
SCOPES = f"{ALL_SCOPES} payroll.employees payroll.timesheets payroll.settings"
TENANT = {"UK": 0, "NZ": 1, "AU": 2}
NOBODY = "00000000-0000-4000-8000-000000000000"
REGIONS = pytest.mark.parametrize("region", ["UK", "NZ"])


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=3, scale=20, seed=31, regions="UK,NZ,AU", **RELAXED) as running:
        running._tokens = running.authorize(SCOPES)
        yield running


def _send(
    sb: Sandbox,
    region: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = None,
    token: str | None = None,
    checked: bool = True,
) -> httpx.Response:
    """One write as the region's organisation; a 200 or 400 validated against its spec
    (unless not ``checked``: a status the spec does not declare)."""
    tenant = sb.tenant_ids()[TENANT[region]]
    content = b"" if body is None else encode_json(body)
    headers = {**sb.headers(tenant), "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    if token:
        headers["Authorization"] = f"Bearer {token}"
    answer = httpx.request(method, sb.url + BASE + path, content=content, headers=headers)
    if checked and answer.status_code in (200, 400) and region in SPECS:
        request = MockRequest(
            "https://api.xero.com",
            method.lower(),
            BASE + path,
            headers={"xero-tenant-id": tenant},
            data=content,
        )
        response = MockResponse(
            answer.content, status_code=answer.status_code, content_type="application/json"
        )
        _spec(SPECS[region]).validate_response(request, response)
    return answer


def _ok(answer: httpx.Response, key: str) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    return dict(answer.json()[key])


def _get(sb: Sandbox, region: str, path: str) -> Any:
    tenant = sb.tenant_ids()[TENANT[region]]
    answer = httpx.get(sb.url + BASE + path, headers=sb.headers(tenant))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _refused(answer: httpx.Response) -> dict[str, str]:
    """A validation Problem's refused fields: name -> reason."""
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["status"], body["detail"]) == ("400", "Validation error occurred.")
    return {f["name"]: f["reason"] for f in body["invalidFields"]}


def _employee(region: str, **fields: Any) -> dict[str, Any]:
    return {
        "title": "Ms",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "dateOfBirth": "1990-12-10",
        "gender": "F",
        "email": f"ada.{region.lower()}@example.com",
        "address": {"addressLine1": "1 Main St", "city": "Town", "postCode": "AB1 2CD"},
        **fields,
    }


def _payroll(sb: Sandbox, region: str) -> dict[str, Any]:
    calendar = _get(sb, region, "/PayRunCalendars")["payRunCalendars"][0]
    return {
        "calendar": calendar,
        "rate": _get(sb, region, "/EarningsRates")["earningsRates"][0]["earningsRateID"],
        "leave_type": _get(sb, region, "/LeaveTypes")["leaveTypes"][0]["leaveTypeID"],
        "employee": _get(sb, region, "/Employees")["employees"][0],
    }


def _period(calendar: dict[str, Any], index: int) -> tuple[date, date]:
    """The calendar's pay period ``index`` after its first (monthly or fortnightly)."""
    first = date.fromisoformat(calendar["periodStartDate"])
    if calendar["calendarType"] == "Fortnightly":
        start = first + timedelta(days=14 * index)
        return start, start + timedelta(days=13)
    month = first.month - 1 + index
    start = date(first.year + month // 12, month % 12 + 1, 1)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, following - timedelta(days=1)


@REGIONS
def test_employee_create_read_and_update(sb: Sandbox, region: str) -> None:
    calendar = _payroll(sb, region)["calendar"]["payrollCalendarID"]
    body = _employee(region, payrollCalendarID=calendar)
    created = _ok(_send(sb, region, "POST", "/Employees", body), "employee")
    assert (created["firstName"], created["dateOfBirth"]) == ("Ada", "1990-12-10")
    employee_id = created["employeeID"]
    read = _get(sb, region, f"/Employees/{employee_id}")["employee"]
    assert read["email"] == body["email"]
    # PUT: only what is sent changes.
    changed = _ok(
        _send(sb, region, "PUT", f"/Employees/{employee_id}", {"phoneNumber": "0123"}), "employee"
    )
    assert (changed["phoneNumber"], changed["lastName"]) == ("0123", "Lovelace")
    assert _send(sb, region, "PUT", f"/Employees/{NOBODY}", {}).status_code == 404


@REGIONS
def test_employee_refusals(sb: Sandbox, region: str) -> None:
    missing = {"firstName": "Only"}
    fields = _refused(_send(sb, region, "POST", "/Employees", missing))
    required = ["lastName", "dateOfBirth", "address"]
    if region == "UK":
        required += ["title", "gender"]
    assert {name: fields[name] for name in required} == {
        name: f"The {label} is required."
        for name, label in (
            ("lastName", "Last Name"),
            ("dateOfBirth", "Date Of Birth"),
            ("address", "Address"),
            ("title", "Title"),
            ("gender", "Gender"),
        )
        if name in required
    }
    bad = _employee(
        region,
        gender="X",
        dateOfBirth="2999-01-01",
        email="not an address",
        payrollCalendarID=NOBODY,
        startDate="2026-01-01",
        endDate="2025-01-01",
        address={"addressLine1": "1 Main St"},
    )
    assert _refused(_send(sb, region, "POST", "/Employees", bad)) == {
        "gender": "The Gender is not valid.",
        "address.city": "The Address.city is required.",
        "address.postCode": "The Address.post Code is required.",
        "dateOfBirth": "The Date of Birth must be in the past.",
        "email": "The Email is not valid.",
        "payrollCalendarID": "The Payroll Calendar ID does not exist.",
        "endDate": "The End Date must not be before the Start Date.",
    }
    answer = _send(sb, region, "POST", "/Employees", [_employee(region)])
    assert answer.status_code == 400
    assert answer.json()["detail"] == "The request body must be a JSON object."


@REGIONS
def test_timesheet_lines_approve_and_revert(sb: Sandbox, region: str) -> None:
    payroll = _payroll(sb, region)
    calendar, rate = payroll["calendar"], payroll["rate"]
    start, end = _period(calendar, 30)
    sheet = {
        "payrollCalendarID": calendar["payrollCalendarID"],
        "employeeID": payroll["employee"]["employeeID"],
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "timesheetLines": [
            {"date": start.isoformat(), "earningsRateID": rate, "numberOfUnits": 7.5}
        ],
    }
    created = _ok(_send(sb, region, "POST", "/Timesheets", sheet), "timesheet")
    assert (created["status"], created["totalHours"]) == ("Draft", 7.5)
    at = f"/Timesheets/{created['timesheetID']}"
    second = {"date": (start + timedelta(days=1)).isoformat(), "earningsRateID": rate}
    line = _ok(
        _send(sb, region, "POST", f"{at}/Lines", {**second, "numberOfUnits": 4}), "timesheetLine"
    )
    changed = _ok(
        _send(sb, region, "PUT", f"{at}/Lines/{line['timesheetLineID']}", {"numberOfUnits": 6}),
        "timesheetLine",
    )
    assert (changed["timesheetLineID"], changed["numberOfUnits"]) == (line["timesheetLineID"], 6)
    first_line = created["timesheetLines"][0]["timesheetLineID"]
    # The specs answer a deleted line bare.
    deleted = _send(sb, region, "DELETE", f"{at}/Lines/{first_line}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["timesheetLineID"] == first_line
    read = _get(sb, region, at)["timesheet"]
    assert (read["totalHours"], len(read["timesheetLines"])) == (6, 1)
    approved = _ok(_send(sb, region, "POST", f"{at}/Approve"), "timesheet")
    assert approved["status"] == "Approved"
    # An approved timesheet takes no line; approving again or reverting twice is refused.
    not_draft = {"status": "Only a draft timesheet can be changed."}
    assert _refused(_send(sb, region, "POST", f"{at}/Lines", second)) == not_draft
    assert _refused(_send(sb, region, "POST", f"{at}/Approve")) == not_draft
    assert _ok(_send(sb, region, "POST", f"{at}/RevertToDraft"), "timesheet")["status"] == "Draft"
    assert _refused(_send(sb, region, "POST", f"{at}/RevertToDraft")) == {
        "status": "Only an approved timesheet can be reverted to draft."
    }
    assert _send(sb, region, "POST", f"/Timesheets/{NOBODY}/Approve").status_code == 404
    assert _send(sb, region, "DELETE", f"{at}/Lines/{NOBODY}").status_code == 404


@REGIONS
def test_timesheet_refusals(sb: Sandbox, region: str) -> None:
    payroll = _payroll(sb, region)
    calendar = payroll["calendar"]
    start, end = _period(calendar, 31)
    assert set(_refused(_send(sb, region, "POST", "/Timesheets", {}))) == {
        "payrollCalendarID",
        "employeeID",
        "startDate",
        "endDate",
    }
    sheet = {
        "payrollCalendarID": calendar["payrollCalendarID"],
        "employeeID": NOBODY,
        "startDate": (start + timedelta(days=1)).isoformat(),
        "endDate": end.isoformat(),
        "timesheetLines": [
            {"date": "2001-01-01", "earningsRateID": NOBODY, "numberOfUnits": -1},
            {"date": start.isoformat(), "trackingItemID": NOBODY},
        ],
    }
    assert _refused(_send(sb, region, "POST", "/Timesheets", sheet)) == {
        "employeeID": "The Employee ID does not exist.",
        "startDate": (
            "The Start Date and End Date must be one pay period of the payroll calendar."
        ),
        "timesheetLines[0].date": "The Date must be within the timesheet's period.",
        "timesheetLines[0].earningsRateID": "The Earnings Rate ID does not exist.",
        "timesheetLines[0].numberOfUnits": "The Number Of Units must not be negative.",
        "timesheetLines[1].date": "The Date must be within the timesheet's period.",
        "timesheetLines[1].earningsRateID": "The Earnings Rate ID is required.",
        "timesheetLines[1].numberOfUnits": "The Number Of Units is required.",
        "timesheetLines[1].trackingItemID": "The Tracking Item ID does not exist.",
    }
    good = {
        **sheet,
        "employeeID": payroll["employee"]["employeeID"],
        "startDate": start.isoformat(),
        "timesheetLines": [],
    }
    _ok(_send(sb, region, "POST", "/Timesheets", good), "timesheet")
    assert _refused(_send(sb, region, "POST", "/Timesheets", good)) == {
        "startDate": "A timesheet already exists for this employee and period."
    }


@REGIONS
def test_two_leaves_in_one_pay_period_do_not_repeat_it(sb: Sandbox, region: str) -> None:
    payroll = _payroll(sb, region)
    employee = payroll["employee"]["employeeID"]
    spans = (("2027-06-07", "2027-06-09"), ("2027-06-09", "2027-06-11"))  # Mon-Wed, Wed-Fri
    created = [
        _ok(
            _send(
                sb,
                region,
                "POST",
                f"/Employees/{employee}/Leave",
                {
                    "leaveTypeID": payroll["leave_type"],
                    "description": "Overlapping",
                    "startDate": first,
                    "endDate": last,
                },
            ),
            "leave",
        )
        for first, last in spans
    ]
    at = f"/Employees/{employee}/LeavePeriods?startDate=2027-06-07&endDate=2027-06-11"
    periods = [
        (p["periodStartDate"], p["periodEndDate"], p["numberOfUnits"])
        for p in _get(sb, region, at)["periods"]
    ]
    # June (monthly), or the fortnight ending on the Monday and the next: each once, with the
    # range's own hours, not the two leaves' summed.
    assert periods == (
        [("2027-06-01", "2027-06-30", 5 * 7.5)]
        if region == "UK"
        else [("2027-05-25", "2027-06-07", 8.0), ("2027-06-08", "2027-06-21", 4 * 8.0)]
    )
    for leave, (first, last) in zip(created, spans, strict=True):
        exact = f"/Employees/{employee}/LeavePeriods?startDate={first}&endDate={last}"
        assert _get(sb, region, exact)["periods"] == leave["periods"]
        _ok(_send(sb, region, "DELETE", f"/Employees/{employee}/Leave/{leave['leaveID']}"), "leave")


@REGIONS
def test_leave_create_update_delete_and_refusals(sb: Sandbox, region: str) -> None:
    payroll = _payroll(sb, region)
    at = f"/Employees/{payroll['employee']['employeeID']}/Leave"
    leave = {
        "leaveTypeID": payroll["leave_type"],
        "description": "Summer",
        "startDate": "2026-12-21",
        "endDate": "2027-01-08",
    }
    created = _ok(_send(sb, region, "POST", at, leave), "leave")
    hours = 7.5 if region == "UK" else 8
    assert sum(p["numberOfUnits"] for p in created["periods"]) == 15 * hours
    # One period a pay period it touches: December and January, or three fortnights.
    assert len(created["periods"]) == (2 if region == "UK" else 3)
    changed = _ok(
        _send(sb, region, "PUT", f"{at}/{created['leaveID']}", {"description": "Winter"}), "leave"
    )
    assert (changed["description"], changed["startDate"]) == ("Winter", "2026-12-21")
    listed = _get(sb, region, at)["leave"]
    assert created["leaveID"] in {entry["leaveID"] for entry in listed}
    assert _refused(_send(sb, region, "POST", at, {"leaveTypeID": NOBODY})) == {
        "leaveTypeID": "The Leave Type ID does not exist.",
        "description": "The Description is required.",
        "startDate": "The Start Date is required.",
        "endDate": "The End Date is required.",
    }
    inactive = next(t for t in _get(sb, region, "/LeaveTypes")["leaveTypes"] if not t["isActive"])
    refused = _send(sb, region, "POST", at, {**leave, "leaveTypeID": inactive["leaveTypeID"]})
    assert _refused(refused) == {"leaveTypeID": "The Leave Type is not active."}
    completed = next(
        (employee["employeeID"], entry["leaveID"])
        for employee in _get(sb, region, "/Employees")["employees"]
        for entry in _get(sb, region, f"/Employees/{employee['employeeID']}/Leave")["leave"]
        if any(p["periodStatus"] == "Completed" for p in entry["periods"])
    )
    answer = _send(sb, region, "PUT", "/Employees/{}/Leave/{}".format(*completed), leave)
    assert _refused(answer) == {
        "periods": "Leave that has been processed in a pay run cannot be changed."
    }
    # (The specs declare no 400 for a DELETE: the refusal is the other writes'.)
    path = "/Employees/{}/Leave/{}".format(*completed)
    assert _refused(_send(sb, region, "DELETE", path, checked=False)) == {
        "periods": "Leave that has been processed in a pay run cannot be changed."
    }
    assert _send(sb, region, "PUT", f"{at}/{NOBODY}", leave).status_code == 404
    assert _send(sb, region, "POST", f"/Employees/{NOBODY}/Leave", leave).status_code == 404
    # DELETE answers the leave it deleted; it is gone.
    deleted = _ok(_send(sb, region, "DELETE", f"{at}/{created['leaveID']}"), "leave")
    assert deleted["leaveID"] == created["leaveID"]
    assert created["leaveID"] not in {entry["leaveID"] for entry in _get(sb, region, at)["leave"]}
    assert _send(sb, region, "DELETE", f"{at}/{created['leaveID']}").status_code == 404


def test_idempotency_key(sb: Sandbox) -> None:
    body = _employee("UK", firstName="Grace", email="grace@example.co.uk")
    first = _send(sb, "UK", "POST", "/Employees", body, key="payroll-uk-employee-1")
    again = _send(sb, "UK", "POST", "/Employees", body, key="payroll-uk-employee-1")
    assert _ok(first, "employee")["employeeID"] == _ok(again, "employee")["employeeID"]
    graces = [e for e in _get(sb, "UK", "/Employees")["employees"] if e["firstName"] == "Grace"]
    assert len(graces) == 1
    other = _send(
        sb, "UK", "POST", "/Employees", {**body, "firstName": "O"}, key="payroll-uk-employee-1"
    )
    assert other.status_code == 400
    assert "is used with a different request" in other.text


def test_write_scopes_and_region(sb: Sandbox) -> None:
    reads = sb.authorize(f"{ALL_SCOPES} payroll.employees.read payroll.timesheets.read")
    token = str(reads["access_token"])
    for path in ("/Employees", "/Timesheets"):
        answer = _send(sb, "UK", "POST", path, {}, token=token)
        assert answer.status_code == 401, path
        assert answer.json()["Detail"] == "AuthorizationUnsuccessful"
    # An Australian organisation has no Payroll UK or NZ: refused as its reads are.
    assert _send(sb, "AU", "POST", "/Employees", _employee("UK")).status_code == 403
    assert (
        httpx.get(
            sb.url + BASE + "/Employees", headers=sb.headers(sb.tenant_ids()[TENANT["AU"]])
        ).status_code
        == 403
    )

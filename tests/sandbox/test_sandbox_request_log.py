"""``xero-sandbox serve --log-requests``: one stderr line per request, and none without it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx

from tests._sandbox_edge_support import raw_request, wait_for
from xero_sandbox.launcher import Sandbox

API = "/api.xro/2.0"
LINE = re.compile(
    r"^(?P<method>[A-Z]+) (?P<path>\S+) (?P<tenant>\S+) (?P<status>\d{3}) (?P<ms>\d+)ms$"
)


def _lines(sb: Sandbox) -> list[re.Match[str]]:
    found = (LINE.match(line) for line in sb.stderr_text().splitlines())
    return [match for match in found if match]


def test_log_requests_writes_method_path_tenant_status_and_ms(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(tenants=1, scale=10, log_requests=True)
    tenant = sb.tenant_ids()[0]
    headers = sb.headers(tenant)
    assert httpx.get(f"{sb.url}{API}/Invoices", params={"page": "1"}, headers=headers).is_success
    missing = httpx.get(f"{sb.url}{API}/Invoices/nope", headers=headers)
    assert missing.status_code == 404
    anonymous = httpx.get(f"{sb.url}{API}/Contacts", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401
    wait_for(lambda: len(_lines(sb)) >= 6)  # tenants, authorize, token and the three above

    lines = [m.groupdict() for m in _lines(sb)]
    page, not_found, unauthorised = lines[-3:]
    assert page == {**page, "method": "GET", "path": f"{API}/Invoices?page=1", "tenant": tenant}
    assert page["status"] == "200"
    assert not_found == {**not_found, "path": f"{API}/Invoices/nope", "status": "404"}
    assert not_found["tenant"] == tenant
    assert unauthorised == {**unauthorised, "path": f"{API}/Contacts", "tenant": "-"}
    assert unauthorised["status"] == "401"
    # Requests the HTTP parser refuses before the app sees them are logged too.
    guids = ",".join(str(uuid.uuid4()) for _ in range(40_000))
    assert raw_request(sb.url, "GET", f"{API}/Invoices?IDs={guids}", headers)[0] == 404
    wait_for(lambda: len(_lines(sb)) >= 7)
    refused = _lines(sb)[-1].groupdict()
    assert refused["method"] == "GET"
    assert refused["path"].startswith(f"{API}/Invoices?IDs=")
    assert (refused["tenant"], refused["status"]) == ("-", "404")
    token_calls = [line for line in lines if line["path"] == "/connect/token"]
    assert token_calls
    assert all(line["method"] == "POST" for line in token_calls)
    # Secrets never reach the log: no bearer token, no client secret.
    text = sb.stderr_text()
    assert headers["Authorization"].split()[1] not in text
    assert sb.client_secret not in text


def test_no_request_lines_without_the_flag(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(tenants=1, scale=10)
    assert httpx.get(f"{sb.url}{API}/Invoices", headers=sb.headers(sb.tenant_ids()[0])).is_success
    assert _lines(sb) == []

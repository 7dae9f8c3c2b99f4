"""Contract tests for hostile and absurd input: every answer is one Xero would send, in its shape.

Malformed, oversized, deeply nested or absurd requests get a 4xx with Xero's error envelope
(``components/schemas/Error`` for ValidationException-style errors, the RFC 7807-style problem
body for the others): never a 500, never the web stack's plain text. Each case here is a probe
that once broke the sandbox (RecursionError, OverflowError, uvicorn's text 400, a 52 MB body
accepted).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

from tests._accounting_spec import accounting_spec
from tests._sandbox_edge_support import raw_request, refresh, wait_for
from xero_sandbox.catalog import CATALOG
from xero_sandbox.guard import MAX_BODY_BYTES
from xero_sandbox.launcher import Sandbox
from xero_sandbox.writes import WRITE_RESOURCES

API = "/api.xro/2.0"
PROBLEM_KEYS = {"Type", "Title", "Status", "Detail", "Instance", "Extensions"}


def _call(sb: Sandbox, method: str, path: str, *, tenant: int = 0, **kwargs: Any) -> httpx.Response:
    headers = sb.headers(sb.tenant_ids()[tenant])
    return httpx.request(method, f"{sb.url}{API}{path}", headers=headers, timeout=120, **kwargs)


def _xero_error(body: dict[str, Any], kind: str) -> None:
    """``body`` is Xero's Error schema (ErrorNumber, Type, Message) of the given Type."""
    with accounting_spec().spec.open() as document:
        components = document["components"]
    OAS30Validator({**components["schemas"]["Error"], "components": components}).validate(body)
    assert body["Type"] == kind, body


def _problem(answer: httpx.Response | tuple[int, dict[str, str], bytes], status: int) -> None:
    """A JSON problem body with the given status (Xero's shape for 401/403/404 and the like)."""
    if isinstance(answer, httpx.Response):
        code, content_type, content = (
            answer.status_code,
            answer.headers["content-type"],
            answer.content,
        )
    else:
        code, content_type, content = answer[0], answer[1]["content-type"], answer[2]
    assert code == status, content[:300]
    assert content_type.startswith("application/json")
    body = json.loads(content)
    assert set(body) == PROBLEM_KEYS
    assert body["Status"] == status


def _contact_count(sb: Sandbox, tenant: int = 0) -> int:
    return sb.counts()[sb.tenant_ids()[tenant]]["Contacts"]


def _nested(depth: int) -> str:
    return "[" * (depth - 3) + "]" * (depth - 3)  # inside {"Contacts":[{... "Extra": here}]}


def test_json_nested_too_deep_is_post_data_invalid(sandbox: Sandbox) -> None:
    before = _contact_count(sandbox)
    answer = _call(sandbox, "POST", "/Contacts", content=b"[" * 100_000 + b"]" * 100_000)
    assert answer.status_code == 400
    _xero_error(answer.json(), "PostDataInvalidException")
    assert "MaxDepth of 64" in answer.json()["Message"]

    def contact(depth: int) -> bytes:
        name = f"Nested {depth} {uuid.uuid4().hex[:8]}"
        return f'{{"Contacts":[{{"Name":"{name}","Extra":{_nested(depth)}}}]}}'.encode()

    assert _call(sandbox, "PUT", "/Contacts", content=contact(64)).status_code == 200
    too_deep = _call(sandbox, "PUT", "/Contacts", content=contact(65))
    assert too_deep.status_code == 400
    _xero_error(too_deep.json(), "PostDataInvalidException")
    assert _contact_count(sandbox) == before + 1


def test_absurd_page_numbers_give_empty_pages(sandbox: Sandbox) -> None:
    huge = "99999999999999999999999"
    answer = _call(sandbox, "GET", "/Invoices", params={"page": huge})
    assert answer.status_code == 200
    assert answer.json()["Invoices"] == []
    assert answer.json()["pagination"]["page"] == 2**31 - 1
    answer = _call(sandbox, "GET", "/Invoices", params={"page": "-" + huge, "pageSize": huge})
    assert answer.status_code == 200
    assert answer.json()["pagination"]["page"] == 1
    assert answer.json()["pagination"]["pageSize"] == 1000
    journals = _call(sandbox, "GET", "/Journals", params={"offset": huge})
    assert journals.status_code == 200
    assert journals.json()["Journals"] == []


def test_where_nesting_is_bounded(sandbox: Sandbox) -> None:
    fine = _call(sandbox, "GET", "/Invoices", params={"where": "NOT " * 10 + 'Status=="PAID"'})
    assert fine.status_code == 200
    for where in ("NOT " * 31 + 'Status=="PAID"', "NOT " * 500 + "IsSupplier", "!" * 500 + "X"):
        answer = _call(sandbox, "GET", "/Contacts", params={"where": where})
        assert answer.status_code == 400, where[:40]
        _xero_error(answer.json(), "QueryParseException")


def _guids(count: int) -> str:
    return ",".join(str(uuid.uuid4()) for _ in range(count))


def test_long_urls_get_xero_404(sandbox: Sandbox) -> None:
    # Xero: an IDs list of more than 52 GUIDs is a 404 (URL length).
    assert _call(sandbox, "GET", "/Invoices", params={"IDs": _guids(52)}).status_code == 200
    _problem(_call(sandbox, "GET", "/Invoices", params={"IDs": _guids(53)}), 404)
    headers = sandbox.headers(sandbox.tenant_ids()[0])
    # 10,000 GUIDs (370 KB) reach the sandbox's own check; 40,000 (1.5 MB) are more than the
    # HTTP parser holds, and it answers in the same shape.
    for count in (10_000, 40_000):
        answer = raw_request(sandbox.url, "GET", f"{API}/Invoices?IDs={_guids(count)}", headers)
        _problem(answer, 404)
    long_path = raw_request(sandbox.url, "GET", f"{API}/Invoices/{'x' * 5000}", headers)
    _problem(long_path, 404)
    unreadable = raw_request(sandbox.url, "GET", f"{API}/Invoices?a=\x01 b", headers)
    _problem(unreadable, 400)


def _chunks(total: int, size: int = 100_000) -> Iterator[bytes]:
    for start in range(0, total, size):
        yield b" " * min(size, total - start)


def test_bodies_over_xero_size_limit_get_413_and_change_nothing(sandbox: Sandbox) -> None:
    before = _contact_count(sandbox)
    many = [{"Name": f"Bulk {i} {uuid.uuid4().hex}"} for i in range(70_000)]
    body = json.dumps({"Contacts": many}).encode()
    assert len(body) > MAX_BODY_BYTES
    _problem(_call(sandbox, "POST", "/Contacts", content=body), 413)
    # Without a Content-Length the body is counted as it streams in.
    streamed = _call(sandbox, "POST", "/Contacts", content=_chunks(MAX_BODY_BYTES + 1))
    _problem(streamed, 413)
    assert _contact_count(sandbox) == before

    # Just under the limit is read; Website is read-only at Xero, so nothing of it is kept.
    name = f"Big website {uuid.uuid4().hex[:8]}"
    website = "https://example.com/" + "a" * (MAX_BODY_BYTES - 200)
    body = json.dumps({"Contacts": [{"Name": name, "Website": website}]}).encode()
    assert len(body) <= MAX_BODY_BYTES
    created = _call(sandbox, "PUT", "/Contacts", content=body)
    assert created.status_code == 200, created.text[:300]
    contact_id = created.json()["Contacts"][0]["ContactID"]
    stored = _call(sandbox, "GET", f"/Contacts/{contact_id}").json()["Contacts"][0]
    assert stored["Name"] == name
    assert "Website" not in stored


def test_unknown_paths_and_methods_answer_in_xero_shape(sandbox: Sandbox) -> None:
    _problem(_call(sandbox, "GET", "/NoSuchThing"), 404)
    _problem(_call(sandbox, "DELETE", "/Contacts"), 501)
    _problem(httpx.get(f"{sandbox.url}/nowhere", timeout=30), 404)


def test_scans_beyond_the_high_volume_threshold_are_refused(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(tenants=1, scale=40, seed=7, high_volume_threshold=60)
    invoices = sb.counts()[sb.tenant_ids()[0]]["Invoices"]
    assert 30 < invoices <= 60
    assert _call(sb, "GET", "/Invoices", params={"where": 'Status!="X"'}).status_code == 200
    # Rows x conditions are bounded too: 290 conditions may scan 6,000 / 290 = 20 rows.
    many = "||".join(["X"] * 290)  # a bare field: "X == true"
    refused = _call(sb, "GET", "/Invoices", params={"where": many})
    assert refused.status_code == 400
    _xero_error(refused.json(), "HighVolumeException")
    assert refused.json()["ErrorNumber"] == 51
    # ...and so are rows x order fields: each field is a sort over the matches.
    assert _call(sb, "GET", "/Invoices", params={"order": "Total,Date"}).status_code == 200
    sorted_by_many = _call(sb, "GET", "/Invoices", params={"order": ",".join(["Total"] * 250)})
    assert sorted_by_many.status_code == 400
    _xero_error(sorted_by_many.json(), "HighVolumeException")

    low = make_sandbox(tenants=1, scale=40, seed=7, high_volume_threshold=20)
    for params in ({"where": 'Status!="X"'}, {"order": "Total DESC"}):
        answer = _call(low, "GET", "/Invoices", params=params)
        assert answer.status_code == 400, params
        _xero_error(answer.json(), "HighVolumeException")
    # Indexed lookups and plain paging scan nothing and still work.
    number = _call(low, "GET", "/Invoices", params={"page": "1"}).json()["Invoices"][0]
    by_number = _call(
        low, "GET", "/Invoices", params={"where": f'InvoiceNumber=="{number["InvoiceNumber"]}"'}
    )
    assert by_number.status_code == 200
    assert len(by_number.json()["Invoices"]) == 1


def test_a_slow_scan_does_not_hold_up_other_requests(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    """Three long where scans run at once; a small GET sent after them answers first.

    Before collection reads ran in worker threads, the scans held the event loop, so the
    small GET waited for at least one of them.
    """
    sb = make_sandbox(tenants=1, scale=3000, seed=7)
    where = " OR ".join(f'Reference.Contains("q{i:02d}")' for i in range(45))
    finished: dict[str, float] = {}

    def scan(name: str) -> None:
        answer = _call(sb, "GET", "/Invoices", params={"where": where})
        assert answer.status_code == 200
        finished[name] = time.monotonic()

    sb.headers(sb.tenant_ids()[0])  # authorize before the race
    scans = [threading.Thread(target=scan, args=(f"scan{i}",)) for i in range(3)]
    for thread in scans:
        thread.start()
    time.sleep(0.3)  # let the scans reach the server first
    assert _call(sb, "GET", "/Currencies").status_code == 200
    small_done = time.monotonic()
    for thread in scans:
        thread.join()
    assert len(finished) == 3
    assert small_done < min(finished.values())


def test_a_large_write_does_not_hold_up_reads_refreshes_or_other_tenants(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    """While one tenant's 30,000-contact PUT is being processed, a GET, a token refresh and a
    second tenant's write all answer, and all before the large write does.

    Before writes ran in worker threads, each of them waited for the whole large write.
    """
    sb = make_sandbox(
        tenants=2, scale=10, seed=7, minute_limit=1000, day_limit=100_000, app_minute_limit=10_000
    )
    big_tenant, other_tenant = sb.tenant_ids()[:2]
    tokens = sb.authorize()  # a grant of its own, to refresh during the race
    before = sb.counts()
    names = [f"Bulk {i} {uuid.uuid4().hex}" for i in range(30_000)]
    body = json.dumps({"Contacts": [{"Name": name} for name in names]}).encode()
    big_done: list[float] = []

    def big_write() -> None:
        answer = _call(sb, "PUT", "/Contacts", content=body)
        big_done.append(time.monotonic())
        assert answer.status_code == 200, answer.text[:300]

    writer = threading.Thread(target=big_write)
    writer.start()

    def admitted() -> bool:  # in flight from then on: reading and processing the body
        return bool(sb.stats()["tenants"].get(big_tenant, {}).get("calls", 0))

    wait_for(admitted)
    small_done: dict[str, float] = {}
    assert _call(sb, "GET", "/Currencies").status_code == 200
    small_done["GET"] = time.monotonic()
    renewed = refresh(sb, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    small_done["refresh"] = time.monotonic()
    other = _call(sb, "PUT", "/Contacts", tenant=1, json={"Name": f"Small {uuid.uuid4().hex}"})
    assert other.status_code == 200, other.text
    small_done["other tenant's write"] = time.monotonic()
    writer.join()
    assert big_done, "the large write did not answer"
    late = [name for name, done in small_done.items() if done >= big_done[0]]
    assert not late, f"held up by the large write: {late}"
    after = sb.counts()
    assert after[big_tenant]["Contacts"] == before[big_tenant]["Contacts"] + len(names)
    assert after[other_tenant]["Contacts"] == before[other_tenant]["Contacts"] + 1


def test_forms_well_known_clients_send(sandbox: Sandbox) -> None:
    """singer-io/tap-xero and pyxero GET /Organisations; pyxero sends IDs as 32 bare digits,
    quotes an If-Modified-Since given as text and filters with ``.ToLower()``."""
    plural = _call(sandbox, "GET", "/Organisations")
    assert plural.status_code == 200
    assert (
        plural.json()["Organisations"]
        == _call(sandbox, "GET", "/Organisation").json()["Organisations"]
    )
    page = _call(sandbox, "GET", "/Invoices", params={"page": "1"}).json()["Invoices"][:3]
    bare = ",".join(uuid.UUID(invoice["InvoiceID"]).hex.upper() for invoice in page)
    found = _call(sandbox, "GET", "/Invoices", params={"IDs": bare}).json()["Invoices"]
    assert sorted(i["InvoiceID"] for i in found) == sorted(i["InvoiceID"] for i in page)
    contact = page[0]["Contact"]
    where = f'Contact.ContactID==Guid("{uuid.UUID(contact["ContactID"]).hex}")'
    by_guid = _call(sandbox, "GET", "/Invoices", params={"where": where}).json()["Invoices"]
    assert by_guid
    assert {i["Contact"]["ContactID"] for i in by_guid} == {contact["ContactID"]}
    lowered = f'Name.tolower()=="{contact["Name"].lower()}"'
    named = _call(sandbox, "GET", "/Contacts", params={"where": lowered}).json()["Contacts"]
    assert [c["ContactID"] for c in named] == [contact["ContactID"]]
    everything = _call(sandbox, "GET", "/Invoices").json()["Invoices"]
    quoted = {"If-Modified-Since": '"2000-01-01T00:00:00"'}
    future = {"If-Modified-Since": '"2999-01-01T00:00:00"'}
    headers = sandbox.headers(sandbox.tenant_ids()[0])
    since_2000 = httpx.get(f"{sandbox.url}{API}/Invoices", headers={**headers, **quoted})
    since_2999 = httpx.get(f"{sandbox.url}{API}/Invoices", headers={**headers, **future})
    assert len(since_2000.json()["Invoices"]) == len(everything)
    assert since_2999.json()["Invoices"] == []


ABSURD_PARAMS = {
    "page": "abc",
    "pageSize": "-5",
    "offset": "x",
    "order": "a b c",
    "IDs": "zz,{",
    "ContactIDs": "abc",
    "DateFrom": "2026-13-45",
    "unitdp": "9",
    "searchTerm": "%" * 300,
    "periods": "x",
    "timeframe": "DECADE",
    "date": "never",
}
ABSURD_WHERES = (
    "((((",
    "Date >= DateTime(99999, 1, 1)",
    "Date >= DateTime(2020, 1, 1, 99999999999999999999, 0, 0)",
    "Total > 99999999999999999999999999999999999999999999",
    "Name.Contains(5)",
)
ABSURD_BODIES = (
    b"\xff\xfe",
    b'{"Name": {"a": 1}, "Type": 5, "Status": [], "LineItems": "x", "Contact": "x"}',
    b'{"Date": "/Date(99999999999999999999999)/", "DueDate": "99999-01-01", "Name": "x"}',
    b'{"LineItems": [{"Quantity": 1e30, "UnitAmount": 1e30}], "CurrencyRate": -1e9}',
)


def _not_a_crash(answer: httpx.Response) -> None:
    assert answer.status_code < 500 or answer.status_code == 501, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/json"), answer.text[:300]


def test_absurd_values_anywhere_never_crash(sandbox: Sandbox) -> None:
    """Every collection, report and write endpoint with absurd parameters, filters and bodies
    answers JSON below 500 (the sandbox once answered 500 to a date past year 9999)."""
    headers = sandbox.headers(sandbox.tenant_ids()[0])
    zero = "00000000-0000-0000-0000-000000000000"
    with httpx.Client(base_url=sandbox.url + API, headers=headers, timeout=120) as client:
        for spec in CATALOG:
            _not_a_crash(client.get(f"/{spec.name}", params=ABSURD_PARAMS))
        for name in ("Invoices", "Contacts"):  # every collection shares one where/order path
            for where in ABSURD_WHERES:
                _not_a_crash(client.get(f"/{name}", params={"where": where, "order": "Date"}))
            ims = {"If-Modified-Since": "99999-01-01T00:00:00"}
            _not_a_crash(client.get(f"/{name}", headers=ims))
        for report in ("TrialBalance", "ProfitAndLoss", "BalanceSheet", "NoSuchReport"):
            _not_a_crash(client.get(f"/Reports/{report}", params=ABSURD_PARAMS))
        for resource in WRITE_RESOURCES:
            parent = f"/{resource.parent}/{zero}" if resource.parent else ""
            for body in ABSURD_BODIES:
                _not_a_crash(client.put(f"{parent}/{resource.collection}", content=body))


def test_a_client_leaving_mid_body_is_no_error(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(tenants=1, scale=5)
    headers = sb.headers(sb.tenant_ids()[0])
    head = f"PUT {API}/Contacts HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", sb.port), timeout=30) as conn:
        conn.sendall(head.encode() + b'{"Contacts": [')
    assert _call(sb, "GET", "/Contacts").status_code == 200
    assert "Traceback" not in sb.stderr_text()

"""Contract tests: every kind of read response the sandbox serves, validated with openapi-core
against Xero's official Accounting spec (``openapi/xero_accounting.json``).

The spec is loaded once per test process (``tests/_accounting_spec.py``, shared with the writes
contract tests; openapi-core's own check of the spec document is skipped because the spec itself
fails it, e.g. ``default: 'false'`` on booleans). Error bodies the spec only lists as components
(QueryParseException) are checked against ``components/schemas/Error``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from tests._accounting_spec import accounting_spec
from xero_sandbox.catalog import CATALOG
from xero_sandbox.launcher import Sandbox

API = "/api.xro/2.0"


def _spec() -> OpenAPI:
    return accounting_spec()  # shared with the writes contract tests: parsed once per process


def _components() -> dict[str, Any]:
    """The spec's ``components`` as plain JSON, from the one parsed document."""
    with _spec().spec.open() as document:
        components: dict[str, Any] = document["components"]
    return components


def _get(
    sb: Sandbox,
    tenant: str,
    path: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.get(
        f"{sb.url}{API}{path}",
        params=params or {},
        headers={**sb.headers(tenant), **(headers or {})},
        timeout=30,
    )


def _validate(tenant: str, path: str, params: dict[str, str], answer: httpx.Response) -> None:
    request = MockRequest(
        "https://api.xero.com",
        "get",
        API + path,
        args=params,
        headers={"xero-tenant-id": tenant, "Accept": "application/json"},
    )
    response = MockResponse(
        answer.content, status_code=answer.status_code, content_type="application/json"
    )
    _spec().validate_response(request, response)


def _check(sb: Sandbox, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    tenant = sb.tenant_ids()[0]
    answer = _get(sb, tenant, path, params)
    assert answer.status_code == 200, answer.text
    _validate(tenant, path, params or {}, answer)
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("spec", CATALOG, ids=[s.name for s in CATALOG])
def test_every_collection_matches_the_spec(sandbox: Sandbox, spec: Any) -> None:
    params = {"page": "1"} if spec.paged else {}
    body = _check(sandbox, f"/{spec.name}", params)
    assert body[spec.envelope], f"{spec.name} served nothing"


@pytest.mark.parametrize(
    "spec", [s for s in CATALOG if s.singular], ids=[s.name for s in CATALOG if s.singular]
)
def test_every_single_record_get_matches_the_spec(sandbox: Sandbox, spec: Any) -> None:
    params = {"page": "1"} if spec.paged else {}
    first = _check(sandbox, f"/{spec.name}", params)[spec.envelope][0]
    ident = first[spec.key]
    body = _check(sandbox, f"/{spec.name}/{ident}")
    assert [r[spec.key] for r in body[spec.envelope]] == [ident]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/Invoices", {}),  # un-paged: summaries without LineItems
        ("/Invoices", {"page": "2", "pageSize": "7"}),
        ("/Invoices", {"page": "999"}),  # past the end: empty page, pagination still there
        ("/Invoices", {"page": "1", "pageSize": "5000"}),
        ("/Invoices", {"page": "1", "unitdp": "4"}),
        ("/Invoices", {"page": "1", "summaryOnly": "true"}),
        ("/Invoices", {"page": "1", "where": 'Type=="ACCREC" AND Status=="AUTHORISED"'}),
        ("/Invoices", {"page": "1", "order": "Total DESC"}),
        ("/Invoices", {"page": "1", "Statuses": "PAID,VOIDED"}),
        ("/Contacts", {"page": "1", "includeArchived": "true"}),
        ("/Contacts", {"page": "1", "summaryOnly": "true"}),
        ("/Contacts", {"page": "1", "searchTerm": "ltd"}),
        ("/BankTransfers", {"includeDeleted": "true"}),
        ("/TrackingCategories", {"includeArchived": "true"}),
        ("/Journals", {"offset": "10"}),
        ("/Journals", {"paymentsOnly": "true"}),
        ("/Quotes", {"page": "1", "Status": "SENT"}),
        ("/PurchaseOrders", {"page": "1", "Status": "AUTHORISED"}),
        ("/LinkedTransactions", {"page": "1"}),
        ("/Items", {"where": "IsSold==true", "unitdp": "4"}),
        ("/Reports/TrialBalance", {"date": "2026-03-31"}),
        ("/Reports/ProfitAndLoss", {"fromDate": "2025-04-01", "toDate": "2026-03-31"}),
        ("/Reports/ProfitAndLoss", {"periods": "3", "timeframe": "QUARTER"}),
        ("/Reports/BalanceSheet", {"date": "2026-03-31", "periods": "2", "timeframe": "YEAR"}),
    ],
)
def test_paging_modes_filters_and_reports_match_the_spec(
    sandbox: Sandbox, path: str, params: dict[str, str]
) -> None:
    _check(sandbox, path, params)


def test_if_modified_since_response_matches_the_spec(sandbox: Sandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    answer = _get(
        sandbox, tenant, "/Invoices", {"page": "1"}, {"If-Modified-Since": "2026-01-01T00:00:00"}
    )
    assert answer.status_code == 200
    _validate(tenant, "/Invoices", {"page": "1"}, answer)


def test_query_parse_exception_matches_the_error_schema(sandbox: Sandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    answer = _get(sandbox, tenant, "/Invoices", {"where": "Type == == 1"})
    assert answer.status_code == 400
    components = _components()
    schema = {**components["schemas"]["Error"], "components": components}
    OAS30Validator(schema).validate(answer.json())
    assert answer.json()["Type"] == "QueryParseException"


def test_the_validator_rejects_a_wrong_body(sandbox: Sandbox) -> None:
    """A control: the contract check really looks at the body."""
    tenant = sandbox.tenant_ids()[0]
    body = _get(sandbox, tenant, "/Invoices", {"page": "1"}).json()
    body["Invoices"][0]["Total"] = "not a number"
    with pytest.raises(Exception, match=r"(?i)invalid"):
        _validate(tenant, "/Invoices", {"page": "1"}, httpx.Response(200, json=body))

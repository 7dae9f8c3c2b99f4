"""Contract tests for the Fixed Assets API's writes: every write of the official spec
(``openapi/xero_assets.json``) sent to the sandbox, request and answer validated with openapi-core
(a new write in the spec fails here until it is served), every refusal answered with the spec's
``Error`` body naming the field, 409 for a taken asset type name, the write scope, an
organisation without Fixed Assets, and ``Idempotency-Key`` as on Accounting.
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

BASE = "/assets.xro/1.0"
NOBODY = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, empty_tenants=1, scale=20, seed=29, **RELAXED) as running:
        running._tokens = running.authorize(f"{ALL_SCOPES} assets")
        yield running


def _post(sb: Sandbox, path: str, body: Any, *, key: str | None = None, tenant: int = 0) -> Any:
    """One write; request and answer validated against the spec (403: status only)."""
    content = encode_json(body)
    headers = {**sb.headers(sb.tenant_ids()[tenant]), "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    answer = httpx.post(sb.url + BASE + path, content=content, headers=headers, timeout=30)
    request = MockRequest(
        "https://api.xero.com",
        "post",
        BASE + path,
        headers={"xero-tenant-id": sb.tenant_ids()[tenant]},
        data=content,
    )
    if answer.status_code == 200:
        _spec("xero_assets").validate_request(request)
    if answer.status_code != 403:
        response = MockResponse(
            answer.content, status_code=answer.status_code, content_type="application/json"
        )
        _spec("xero_assets").validate_response(request, response)
    return answer


def _get(sb: Sandbox, path: str, **params: str) -> Any:
    answer = httpx.get(
        sb.url + BASE + path, params=params, headers=sb.headers(sb.tenant_ids()[0]), timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _fields(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["title"]
    assert body["detail"]
    return {f["fieldName"]: f["localisedMessage"] for f in body.get("fieldValidationErrors", [])}


def test_every_write_of_the_spec_is_served_as_specified(sb: Sandbox) -> None:
    accounts = httpx.get(
        sb.url + "/api.xro/2.0/Accounts", headers=sb.headers(sb.tenant_ids()[0]), timeout=30
    ).json()["Accounts"]
    fixed = next(a["AccountID"] for a in accounts if a["Type"] == "FIXED")
    setting = {
        "depreciationMethod": "StraightLine",
        "averagingMethod": "FullMonth",
        "depreciationRate": 25,
        "depreciationCalculationMethod": "Rate",
    }
    kind = _post(
        sb,
        "/AssetTypes",
        {
            "assetTypeName": "Vehicles",
            "fixedAssetAccountId": fixed,
            "bookDepreciationSetting": setting,
        },
    )
    assert kind.status_code == 200
    type_id = kind.json()["assetTypeId"]
    assert any(t["assetTypeId"] == type_id for t in _get(sb, "/AssetTypes"))

    draft = _post(sb, "/Assets", {"assetName": "Van", "assetTypeId": type_id})
    assert draft.status_code == 200
    asset = draft.json()
    assert asset["assetStatus"] == "Draft"
    assert asset["assetNumber"].startswith("FA-")  # numbered from the settings
    registered = _post(
        sb,
        "/Assets",
        {
            **asset,
            "assetStatus": "Registered",
            "purchaseDate": "2026-01-10",
            "purchasePrice": 30000,
        },
    )
    assert registered.status_code == 200
    assert registered.json()["assetId"] == asset["assetId"]
    assert _get(sb, f"/Assets/{asset['assetId']}")["assetStatus"] == "Registered"
    assert registered.json()["accountingBookValue"] == 30000

    in_spec = {
        path
        for path, operations in spec_document("xero_assets")["paths"].items()
        if "post" in operations
    }
    assert in_spec == {"/Assets", "/AssetTypes"}  # a new write in the spec fails here


def test_refusals_have_the_specs_error_body_naming_the_field(sb: Sandbox) -> None:
    registered = _get(sb, "/Assets", status="REGISTERED")["items"][0]
    draft = _get(sb, "/Assets", status="DRAFT")["items"]
    assert "assetName" in _fields(_post(sb, "/Assets", {"assetNumber": "X-1"}))
    assert (
        "Disposed"
        in _fields(_post(sb, "/Assets", {"assetName": "a", "assetStatus": "Disposed"}))[
            "assetStatus"
        ]
    )
    assert (
        NOBODY
        in _fields(_post(sb, "/Assets", {"assetName": "a", "assetTypeId": NOBODY}))["assetTypeId"]
    )
    assert _fields(_post(sb, "/Assets", {"assetName": "a", "purchaseDate": "March"}))[
        "purchaseDate"
    ]
    assert _fields(_post(sb, "/Assets", {"assetName": "a", "purchasePrice": -1}))["purchasePrice"]
    taken = _fields(
        _post(sb, "/Assets", {"assetName": "a", "assetNumber": registered["assetNumber"]})
    )
    assert "already in use" in taken["assetNumber"]
    bare = _fields(_post(sb, "/Assets", {"assetName": "a", "assetStatus": "Registered"}))
    assert {"assetTypeId", "purchaseDate", "purchasePrice"} <= bare.keys()
    frozen = _fields(_post(sb, "/Assets", {**registered, "assetName": "renamed"}))
    assert "Only draft assets" in frozen["assetStatus"]
    assert _fields(_post(sb, "/Assets", {"assetId": NOBODY, "assetName": "a"}))["assetId"]
    if draft:
        method = {"assetName": "a", "bookDepreciationSetting": {"depreciationMethod": "Magic"}}
        assert _fields(_post(sb, "/Assets", method))["depreciationMethod"]
    assert _fields(_post(sb, "/AssetTypes", {"assetTypeName": ""}))["assetTypeName"]
    existing = _get(sb, "/AssetTypes")[0]
    clash = _post(sb, "/AssetTypes", {**existing, "assetTypeId": None})
    assert clash.status_code == 409


def test_scope_missing_api_and_idempotency(sb: Sandbox) -> None:
    assert _post(sb, "/Assets", {"assetName": "x"}, tenant=1).status_code == 403
    read_only = sb.authorize(f"{ALL_SCOPES} assets.read")["access_token"]
    answer = httpx.post(
        sb.url + BASE + "/Assets",
        json={"assetName": "x"},
        headers={**sb.headers(sb.tenant_ids()[0]), "Authorization": f"Bearer {read_only}"},
        timeout=30,
    )
    assert answer.status_code == 401
    before = len(_get(sb, "/Assets", status="DRAFT", pageSize="100")["items"])
    first = _post(sb, "/Assets", {"assetName": "Once"}, key="assets-once")
    again = _post(sb, "/Assets", {"assetName": "Once"}, key="assets-once")
    assert again.content == first.content
    assert len(_get(sb, "/Assets", status="DRAFT", pageSize="100")["items"]) == before + 1
    assert _post(sb, "/Assets", {"assetName": "Twice"}, key="assets-once").status_code == 400

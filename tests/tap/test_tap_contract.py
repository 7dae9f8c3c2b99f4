"""Every request tap-xero sends during a full sync, checked against Xero's official OpenAPI spec
(paths, query parameters, headers) with openapi-core."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest

from tap_xero.tap import TapXero
from tests._accounting_spec import accounting_spec
from tests._openapi import openapi
from tests._tap_support import RELAXED, catalog, refresh_token_config
from xero_api.resources import ACCOUNTING as ACCOUNTING_API
from xero_api.resources import RESOURCES
from xero_sandbox.launcher import Sandbox

ACCOUNTING = "/api.xro/2.0"
# Rows of the Accounting API (the other APIs' requests are checked in test_tap_other_apis).
ROWS = [r for r in RESOURCES if r.api is ACCOUNTING_API]


@pytest.fixture(scope="module")
def sent_requests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[httpx.Request]]:
    """Run a full sync in-process with every request the client sends recorded."""
    recorded: list[httpx.Request] = []
    original = httpx.Client.send

    def recording_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> Any:
        recorded.append(request)
        return original(self, request, **kwargs)

    tmp = tmp_path_factory.mktemp("contract")
    with Sandbox(tenants=2, scale=15, seed=3, **RELAXED) as sb:
        config = refresh_token_config(
            sb, tmp / "tokens.json", start_date="2026-01-01T00:00:00Z", page_size=5
        )
        everything = [r.stream for r in ROWS] + [
            "report_trial_balance",
            "report_profit_and_loss",
            "report_balance_sheet",
        ]
        tap = TapXero(config=config, catalog=catalog(config, everything), parse_env_config=False)
        patch = pytest.MonkeyPatch()
        patch.setattr(httpx.Client, "send", recording_send)
        try:
            with redirect_stdout(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")):
                tap.sync_all()
        finally:
            patch.undo()
        yield recorded


def _as_xero(request: httpx.Request, server: str) -> RequestsOpenAPIRequest:
    """The request as if sent to api.xero.com (the sandbox answers on loopback)."""
    url = urlsplit(str(request.url))
    base = urlsplit(server)
    path = url.path[len(ACCOUNTING) :] if url.path.startswith(ACCOUNTING) else url.path
    target = urlunsplit((base.scheme, base.netloc, base.path + path, url.query, ""))
    prepared = requests.Request(
        request.method, target, headers=dict(request.headers), data=request.content or None
    ).prepare()
    return RequestsOpenAPIRequest(prepared)


def test_every_request_matches_the_spec(sent_requests: list[httpx.Request]) -> None:
    accounting = accounting_spec()
    identity = openapi("xero-identity")
    api_calls = [r for r in sent_requests if r.url.path.startswith(ACCOUNTING)]
    paths = {r.url.path[len(ACCOUNTING) :] for r in api_calls}
    # Every stream's collection and the three reports were read.
    assert {f"/{r.path}" for r in ROWS} <= paths
    assert {"/Reports/TrialBalance", "/Reports/ProfitAndLoss", "/Reports/BalanceSheet"} <= paths

    problems: list[str] = []
    for request in sent_requests:
        path = request.url.path
        if path.startswith(ACCOUNTING):
            result = accounting.unmarshal_request(
                _as_xero(request, "https://api.xero.com/api.xro/2.0")
            )
        elif path.lower() == "/connections":
            # The identity spec spells it /Connections; Xero's path is case-insensitive.
            prepared = _as_xero(request, "https://api.xero.com")
            prepared.request.url = prepared.request.url.replace("/connections", "/Connections")
            result = identity.unmarshal_request(RequestsOpenAPIRequest(prepared.request))
        else:
            assert path == "/connect/token", path  # the token endpoint is not in these specs
            continue
        if result.errors:
            problems.append(f"{request.method} {request.url}: {result.errors[0]}")
        assert request.headers["accept"] == "application/json"
        assert request.headers["authorization"].startswith("Bearer ")
        if path.startswith(ACCOUNTING):
            assert request.headers.get("xero-tenant-id")
    assert not problems, "\n".join(problems[:10])


def test_paging_and_filters_are_xeros(sent_requests: list[httpx.Request]) -> None:
    by_path: dict[str, list[httpx.Request]] = {}
    for request in sent_requests:
        by_path.setdefault(request.url.path[len(ACCOUNTING) + 1 :], []).append(request)
    for row in ROWS:
        for request in by_path[row.path]:
            query = dict(request.url.params)
            for name, value in row.read.params:
                assert query.get(name) == value, (row.path, name)
            if row.read.modified_since:
                assert "if-modified-since" in request.headers, row.path
                assert query.get("order") == row.read.order, row.path
            else:
                assert "if-modified-since" not in request.headers or row.path == "Journals"
            if row.read.paging.value == "page":
                assert query["pageSize"] == "5", row.path
            else:
                assert "pageSize" not in query, row.path
    journals = by_path["Journals"]
    assert all("offset" in dict(r.url.params) for r in journals)

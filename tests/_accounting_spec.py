"""Xero's official Accounting API spec, loaded once per test process, and a response checker.

The spec is ``openapi/xero_accounting.json`` (``tests/_openapi.py``).
Any contract test can call :func:`assert_matches_spec` on an httpx response from the sandbox: the
request's method and path pick the operation, as if the call had gone to api.xero.com.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

import httpx
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests._openapi import openapi

XERO_API_HOST = "https://api.xero.com"


@cache
def accounting_spec() -> OpenAPI:
    """The parsed spec (read once per process; spec self-checks skipped)."""
    return openapi("xero_accounting")


def assert_matches_spec(answer: httpx.Response) -> None:
    """Raise when the sandbox's response is not what the spec allows for that operation."""
    sent = answer.request
    url = urlsplit(str(sent.url))
    request = MockRequest(
        XERO_API_HOST,
        sent.method.lower(),
        url.path,
        args=dict(httpx.QueryParams(url.query)),
        headers=dict(sent.headers),
        content_type=sent.headers.get("content-type", "application/json"),
        data=sent.content,
    )
    response = MockResponse(
        answer.content,
        status_code=answer.status_code,
        headers=dict(answer.headers),
        content_type=answer.headers.get("content-type", ""),
    )
    accounting_spec().validate_response(request, response)

"""Contract tests: identity responses against xero-identity.yaml, webhook payloads against
xero-webhooks.yaml (``openapi/xero-identity.json``, ``openapi/xero-webhooks.json``).

Two documented relaxations (README, sandbox edge section): ``date-time`` accepts ISO times without
a zone, because Xero writes ``/connections`` dates and ``eventDateUtc`` that way (the spec's own
examples do too); and the intent-to-receive probes carry sequence 0, below the spec's minimum of
1, because Xero's documentation says so. Everything else is checked as the spec states it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests._openapi import openapi, spec_document
from tests._sandbox_edge_support import (
    REDIRECT_URI,
    WebhookReceiver,
    authorize_code,
    redirect_query,
    token,
    wait_for,
)
from xero_sandbox.launcher import Sandbox

KEY = "contract-webhook-key"
ISO_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?(Z|[+-]\d\d:\d\d)?$")


def _iso_date_time(value: object) -> bool:
    return isinstance(value, str) and bool(ISO_DATE_TIME.match(value))


_FORMATS = FormatChecker()
_FORMATS.checkers["date-time"] = (_iso_date_time, ())


@cache
def identity_spec() -> OpenAPI:
    return openapi("xero-identity", Config(extra_format_validators={"date-time": _iso_date_time}))


def identity_document() -> dict[str, Any]:
    return spec_document("xero-identity")


@cache
def webhooks_registry() -> Registry:
    resource = Resource(contents=spec_document("xero-webhooks"), specification=DRAFT202012)
    registry: Registry = Registry().with_resource("urn:xero-webhooks", resource)
    return registry


def webhook_validator(schema_name: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"urn:xero-webhooks#/components/schemas/{schema_name}"},
        registry=webhooks_registry(),
        format_checker=_FORMATS,
    )


def check_identity(method: str, path: str, answer: httpx.Response, **args: str) -> None:
    """Validate a sandbox answer as the response of the spec's operation at ``path``."""
    request = MockRequest("https://api.xero.com", method, path, args=args)
    content_type = answer.headers.get("content-type", "").split(";")[0] or None
    response = MockResponse(
        answer.content, status_code=answer.status_code, content_type=content_type
    )
    identity_spec().validate_response(request, response)


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Sandbox, WebhookReceiver]]:
    with (
        WebhookReceiver(KEY) as receiver,
        Sandbox(tenants=2, scale=3, webhook_url=receiver.url, webhook_key=KEY, time_scale=10) as sb,
    ):
        yield sb, receiver


def test_token_response_matches_access_token_schema(world: tuple[Sandbox, WebhookReceiver]) -> None:
    sb, _ = world
    query = redirect_query(authorize_code(sb, "openid offline_access accounting.contacts"))
    answer = token(
        sb,
        {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT_URI},
    )
    assert answer.status_code == 200
    schema = identity_document()["components"]["schemas"]["AccessToken"]
    OAS30Validator(schema).validate(answer.json())
    assert set(schema["properties"]) <= set(answer.json())


def test_connections_match_the_spec(world: tuple[Sandbox, WebhookReceiver]) -> None:
    sb, _ = world
    tokens = sb.authorize()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    listing = httpx.get(f"{sb.url}/connections", headers=auth)
    check_identity("get", "/Connections", listing)
    rows = listing.json()
    properties = identity_document()["components"]["schemas"]["Connection"]["properties"]
    assert len(rows) == 2
    for row in rows:
        assert set(row) == set(properties)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}", row["createdDateUtc"])
    event = rows[0]["authEventId"]
    filtered = httpx.get(f"{sb.url}/Connections", params={"authEventId": event}, headers=auth)
    check_identity("get", "/Connections", filtered, authEventId=event)
    deleted = httpx.delete(f"{sb.url}/connections/{rows[1]['id']}", headers=auth)
    assert deleted.status_code == 204
    check_identity("delete", f"/Connections/{rows[1]['id']}", deleted)
    missing = httpx.delete(f"{sb.url}/connections/{rows[1]['id']}", headers=auth)
    assert missing.status_code == 404
    check_identity("delete", f"/Connections/{rows[1]['id']}", missing)
    sb.authorize()  # reconnect for the other tests


def test_webhook_payloads_match_the_spec(world: tuple[Sandbox, WebhookReceiver]) -> None:
    sb, receiver = world
    wait_for(lambda: sb.stats()["webhooks"]["intent_to_receive"]["status"] != "pending")
    for probe in receiver.payloads()[:4]:
        errors = [e.message for e in webhook_validator("WebhookEvent").iter_errors(probe)]
        assert errors == ["0 is less than the minimum of 1"] * 2  # the documented deviation
    tenant = sb.tenant_ids()[0]
    headers = sb.headers(tenant)
    contact = httpx.put(
        f"{sb.url}/api.xro/2.0/Contacts",
        headers=headers,
        json={"Contacts": [{"Name": "Contract Webhooks Ltd"}]},
    )
    assert contact.status_code == 200, contact.text
    contact_id = contact.json()["Contacts"][0]["ContactID"]
    credit = httpx.put(
        f"{sb.url}/api.xro/2.0/CreditNotes",
        headers=headers,
        json={
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": contact_id},
                    "Status": "DRAFT",
                    "LineItems": [
                        {
                            "Description": "Refund",
                            "Quantity": 1,
                            "UnitAmount": 10,
                            "AccountCode": "200",
                        }
                    ],
                }
            ]
        },
    )
    assert credit.status_code == 200, credit.text
    invoice = httpx.put(
        f"{sb.url}/api.xro/2.0/Invoices",
        headers=headers,
        json={
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": contact_id},
                    "Status": "DRAFT",
                    "LineItems": [
                        {
                            "Description": "Work",
                            "Quantity": 2,
                            "UnitAmount": 5,
                            "AccountCode": "200",
                        }
                    ],
                }
            ]
        },
    )
    assert invoice.status_code == 200, invoice.text
    wanted = {"CONTACT", "CREDITNOTE", "INVOICE"}
    wait_for(lambda: {e["eventCategory"] for e in receiver.events()} >= wanted)
    for _, _, payload in receiver.event_payloads():
        errors = list(webhook_validator("WebhookEvent").iter_errors(payload))
        assert errors == [], [e.message for e in errors]
        credit_notes = [e for e in payload["events"] if e["eventCategory"] == "CREDITNOTE"]
        if credit_notes:
            only = {**payload, "events": credit_notes}
            errors = list(webhook_validator("CreditNoteWebhookEvent").iter_errors(only))
            assert errors == [], [e.message for e in errors]
            assert credit_notes[0]["data"] == {"Type": "ACCRECCREDIT", "Status": "DRAFT"}

"""Identity over real HTTP: authorize + PKCE, token grants, rotation and grace, expiry, connections,
revocation, tenant and scope checks, JSON only."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests._sandbox_edge_support import (
    REDIRECT_URI,
    api_headers,
    authorize_code,
    jwt_claims,
    pkce_pair,
    redirect_query,
    refresh,
    token,
)
from xero_sandbox.gate import accepts_json, scope_allows
from xero_sandbox.launcher import Sandbox

SCOPE = (
    "openid profile email offline_access accounting.transactions accounting.contacts "
    "accounting.settings"
)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(tenants=2, scale=3) as sandbox:
        yield sandbox


def code_tokens(sb: Sandbox, scope: str = SCOPE) -> dict[str, str]:
    query = redirect_query(authorize_code(sb, scope))
    answer = token(
        sb,
        {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT_URI},
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return tokens


def contacts(sb: Sandbox, access: str, tenant: str | None) -> httpx.Response:
    return httpx.get(f"{sb.url}/api.xro/2.0/Contacts", headers=api_headers(access, tenant))


def test_pkce_flow_without_secret_returns_xero_token_set(sb: Sandbox) -> None:
    verifier, challenge = pkce_pair()
    query = redirect_query(authorize_code(sb, SCOPE, challenge=challenge, state="abc 123"))
    assert query["state"] == "abc 123"
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": sb.client_id,
    }
    answer = token(sb, form, basic=False)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {
        "id_token",
        "access_token",
        "expires_in",
        "token_type",
        "refresh_token",
        "scope",
    }
    assert body["expires_in"] == 1800
    assert body["token_type"] == "Bearer"
    assert body["scope"] == SCOPE
    assert answer.headers["cache-control"] == "no-store"
    claims = jwt_claims(body["access_token"])
    assert claims["client_id"] == sb.client_id
    assert set(claims["scope"]) == set(SCOPE.split())
    connections = httpx.get(
        f"{sb.url}/connections", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert {c["authEventId"] for c in connections} == {claims["authentication_event_id"]}
    assert sorted(c["tenantId"] for c in connections) == sorted(sb.tenant_ids())
    # The code is single use.
    again = token(sb, form, basic=False)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_pkce_wrong_verifier_is_invalid_grant(sb: Sandbox) -> None:
    _, challenge = pkce_pair()
    query = redirect_query(authorize_code(sb, SCOPE, challenge=challenge))
    answer = token(
        sb,
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce_pair()[0],
            "client_id": sb.client_id,
        },
        basic=False,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_no_openid_no_id_token_and_no_offline_access_no_refresh_token(sb: Sandbox) -> None:
    body = code_tokens(sb, "accounting.contacts.read")
    assert "id_token" not in body
    assert "refresh_token" not in body
    assert body["scope"] == "accounting.contacts.read"


def test_authorize_errors(sb: Sandbox) -> None:
    unknown = httpx.get(
        f"{sb.url}/identity/connect/authorize",
        params={"response_type": "code", "client_id": "nope", "redirect_uri": REDIRECT_URI,
                "scope": SCOPE},
        follow_redirects=False,
    )  # fmt: skip
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "unauthorized_client"
    no_redirect = httpx.get(
        f"{sb.url}/identity/connect/authorize",
        params={"response_type": "code", "client_id": sb.client_id, "scope": SCOPE},
        follow_redirects=False,
    )
    assert no_redirect.status_code == 400
    assert no_redirect.json()["error"] == "invalid_request"
    bad_scope = redirect_query(authorize_code(sb, "accounting.everything", state="s1"))
    assert bad_scope["error"] == "invalid_scope"
    assert bad_scope["state"] == "s1"
    assert "code" not in bad_scope
    # Any loopback redirect URI is registered by default; another host is not, and is never
    # redirected to.
    elsewhere = httpx.get(
        f"{sb.url}/identity/connect/authorize",
        params={"response_type": "code", "client_id": sb.client_id, "scope": SCOPE,
                "redirect_uri": "https://attacker.example/callback"},
        follow_redirects=False,
    )  # fmt: skip
    assert elsewhere.status_code == 400
    assert elsewhere.json()["error"] == "invalid_request"
    assert "redirect_uri" in elsewhere.json()["error_description"]


def test_registered_redirect_uris_and_an_app_limited_to_granular_scopes() -> None:
    with Sandbox(tenants=1, scale=1, redirect_uris=REDIRECT_URI, granular_scopes_only=True) as sb:
        assert "code" in redirect_query(authorize_code(sb, "offline_access accounting.invoices"))
        other_port = httpx.get(
            f"{sb.url}/identity/connect/authorize",
            params={"response_type": "code", "client_id": sb.client_id,
                    "scope": "accounting.invoices", "redirect_uri": "http://localhost:9/callback"},
            follow_redirects=False,
        )  # fmt: skip
        assert other_port.status_code == 400
        assert other_port.json()["error"] == "invalid_request"
        broad = redirect_query(authorize_code(sb, "offline_access accounting.transactions.read"))
        assert broad["error"] == "invalid_scope"
        assert "accounting.transactions.read" in broad["error_description"]


def test_wrong_secret_is_invalid_client(sb: Sandbox) -> None:
    for auth in ((sb.client_id, "wrong"), ("someone-else", sb.client_secret)):
        answer = httpx.post(
            f"{sb.url}/connect/token", data={"grant_type": "client_credentials"}, auth=auth
        )
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
    unsupported = token(sb, {"grant_type": "password"})
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    as_json = httpx.post(
        f"{sb.url}/connect/token",
        json={"grant_type": "client_credentials"},
        auth=(sb.client_id, sb.client_secret),
    )
    assert as_json.status_code == 400
    assert "x-www-form-urlencoded" in as_json.json()["error_description"]


def test_client_credentials_is_bound_to_the_first_tenant(sb: Sandbox) -> None:
    answer = token(sb, {"grant_type": "client_credentials"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "refresh_token" not in body
    assert body["expires_in"] == 1800
    first, second = sb.tenant_ids()[:2]
    without_header = contacts(sb, body["access_token"], None)
    assert without_header.status_code == 200, without_header.text
    with_own = contacts(sb, body["access_token"], first)
    assert with_own.json()["Contacts"] == without_header.json()["Contacts"]
    other = contacts(sb, body["access_token"], second)
    assert other.status_code == 403
    assert other.json()["Detail"] == "AuthenticationUnsuccessful"
    connections = httpx.get(
        f"{sb.url}/connections", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert [c["tenantId"] for c in connections] == [first]


def test_custom_connections_are_apps_of_their_own_bound_to_one_tenant() -> None:
    with Sandbox(tenants=3, scale=3, app_minute_limit=2, time_scale=1) as sandbox:
        tenants = sandbox.tenant_ids()
        client_id, secret = sandbox.custom_connection(2)
        assert client_id != sandbox.client_id
        assert secret not in (sandbox.client_secret, sandbox.custom_connection(1)[1])
        answer = httpx.post(
            f"{sandbox.url}/connect/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
        assert answer.status_code == 200, answer.text
        access = answer.json()["access_token"]
        bearer = {"Authorization": f"Bearer {access}"}
        listed = httpx.get(f"{sandbox.url}/connections", headers=bearer).json()
        assert [c["tenantId"] for c in listed] == [tenants[2]]
        assert contacts(sandbox, access, tenants[2]).status_code == 200
        assert contacts(sandbox, access, tenants[0]).status_code == 403
        # Its own app-minute window: after spending it, the web app still has its own.
        assert contacts(sandbox, access, None).status_code == 200
        spent = contacts(sandbox, access, None)
        assert spent.status_code == 429
        assert spent.headers["X-Rate-Limit-Problem"] == "appminute"
        web = sandbox.authorize()["access_token"]
        assert contacts(sandbox, web, tenants[0]).status_code == 200
        for wrong in ((client_id, sandbox.client_secret), (f"{sandbox.client_id}-custom-3", "x")):
            refused = httpx.post(
                f"{sandbox.url}/connect/token",
                data={"grant_type": "client_credentials"},
                auth=wrong,
            )
            assert refused.json()["error"] == "invalid_client", wrong[0]
        no_user = httpx.post(
            f"{sandbox.url}/connect/token",
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            auth=(client_id, secret),
        )
        assert no_user.json()["error"] == "unauthorized_client"


def test_401_and_403_shapes(sb: Sandbox) -> None:
    tokens = code_tokens(sb)
    missing_tenant = contacts(sb, tokens["access_token"], None)
    assert missing_tenant.status_code == 403
    body = missing_tenant.json()
    assert body["Title"] == "Forbidden"
    assert body["Status"] == 403
    assert body["Detail"] == "AuthenticationUnsuccessful"
    assert body["Type"] is None
    assert body["Extensions"] == {}
    assert body["Instance"]
    unknown_tenant = contacts(sb, tokens["access_token"], "00000000-0000-0000-0000-000000000000")
    assert unknown_tenant.status_code == 403
    garbage = contacts(sb, "not-a-token", sb.tenant_ids()[0])
    assert garbage.status_code == 401
    assert garbage.json()["Title"] == "Unauthorized"
    assert garbage.json()["Detail"] == "AuthenticationUnsuccessful"
    assert garbage.headers["www-authenticate"].startswith("Bearer")
    no_auth = httpx.get(
        f"{sb.url}/api.xro/2.0/Contacts",
        headers={"Accept": "application/json", "xero-tenant-id": sb.tenant_ids()[0]},
    )
    assert no_auth.status_code == 401


def test_tenant_header_is_case_insensitive(sb: Sandbox) -> None:
    tokens = code_tokens(sb)
    answer = contacts(sb, tokens["access_token"], sb.tenant_ids()[0].upper())
    assert answer.status_code == 200, answer.text


def test_only_json(sb: Sandbox) -> None:
    tokens = code_tokens(sb)
    tenant = sb.tenant_ids()[0]
    base = api_headers(tokens["access_token"], tenant)
    for accept in ("*/*", "application/xml", "text/html", "application/json;q=0"):
        answer = httpx.get(f"{sb.url}/api.xro/2.0/Contacts", headers={**base, "Accept": accept})
        assert answer.status_code == 406, accept
        assert "application/json" in answer.json()["Detail"]
    no_accept = {k: v for k, v in base.items() if k != "Accept"}
    answer = httpx.get(f"{sb.url}/api.xro/2.0/Contacts", headers={**no_accept, "Accept": ""})
    assert answer.status_code == 406
    ok = httpx.get(
        f"{sb.url}/api.xro/2.0/Contacts",
        headers={**base, "Accept": "application/xml;q=0.9, application/json"},
    )
    assert ok.status_code == 200


def test_scopes_broad_granular_and_read_only(sb: Sandbox) -> None:
    tenant = sb.tenant_ids()[0]
    read_contacts = code_tokens(sb, "offline_access accounting.contacts.read")["access_token"]
    assert contacts(sb, read_contacts, tenant).status_code == 200
    invoices = httpx.get(
        f"{sb.url}/api.xro/2.0/Invoices", headers=api_headers(read_contacts, tenant)
    )
    assert invoices.status_code == 401
    assert invoices.json()["Detail"] == "AuthorizationUnsuccessful"
    write = httpx.put(
        f"{sb.url}/api.xro/2.0/Contacts",
        headers=api_headers(read_contacts, tenant),
        json={"Contacts": [{"Name": "Scope Test"}]},
    )
    assert write.status_code == 401
    granular = code_tokens(sb, "accounting.invoices.read")["access_token"]
    assert (
        httpx.get(
            f"{sb.url}/api.xro/2.0/Invoices", headers=api_headers(granular, tenant)
        ).status_code
        == 200
    )
    broad = code_tokens(sb, "accounting.transactions.read")["access_token"]
    assert (
        httpx.get(f"{sb.url}/api.xro/2.0/Invoices", headers=api_headers(broad, tenant)).status_code
        == 200
    )


def test_connections_delete_and_reconnect(sb: Sandbox) -> None:
    tokens = code_tokens(sb)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    connections = httpx.get(f"{sb.url}/connections", headers=auth).json()
    assert len(connections) == 2
    event = connections[0]["authEventId"]
    filtered = httpx.get(f"{sb.url}/connections", params={"authEventId": event}, headers=auth)
    assert len(filtered.json()) == 2
    none = httpx.get(
        f"{sb.url}/connections",
        params={"authEventId": "00000000-0000-0000-0000-000000000000"},
        headers=auth,
    )
    assert none.json() == []
    gone = connections[1]
    assert httpx.delete(f"{sb.url}/connections/{gone['id']}", headers=auth).status_code == 204
    assert httpx.delete(f"{sb.url}/connections/{gone['id']}", headers=auth).status_code == 404
    assert contacts(sb, tokens["access_token"], gone["tenantId"]).status_code == 403
    assert contacts(sb, tokens["access_token"], connections[0]["tenantId"]).status_code == 200
    # Consenting again reconnects the tenant: same connection id, a newer updatedDateUtc.
    time.sleep(0.01)
    fresh = code_tokens(sb)
    again = httpx.get(
        f"{sb.url}/connections", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    ).json()
    back = next(c for c in again if c["tenantId"] == gone["tenantId"])
    assert back["id"] == gone["id"]
    assert back["updatedDateUtc"] > back["createdDateUtc"]
    assert contacts(sb, tokens["access_token"], gone["tenantId"]).status_code == 200
    assert httpx.get(f"{sb.url}/connections").status_code == 401


def test_revocation_kills_the_grant_and_disconnects(sb: Sandbox) -> None:
    tokens = code_tokens(sb)
    answer = httpx.post(
        f"{sb.url}/connect/revocation",
        data={"token": tokens["refresh_token"]},
        auth=(sb.client_id, sb.client_secret),
    )
    assert answer.status_code == 200
    assert refresh(sb, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert contacts(sb, tokens["access_token"], sb.tenant_ids()[0]).status_code == 401
    # A fresh consent connects again.
    fresh = code_tokens(sb)
    assert contacts(sb, fresh["access_token"], sb.tenant_ids()[0]).status_code == 200


# ----------------------------------------------------------------- time-scaled


def test_rotation_grace_and_access_token_expiry() -> None:
    # 400x: 30 sandbox minutes (access token, refresh grace) pass in 4.5 real seconds.
    with Sandbox(tenants=1, scale=2, time_scale=400) as sb:
        tenant = sb.tenant_ids()[0]
        first = code_tokens(sb)
        second = refresh(sb, first["refresh_token"])
        assert second.status_code == 200, second.text
        rotated = second.json()
        assert rotated["refresh_token"] != first["refresh_token"]
        assert rotated["access_token"] != first["access_token"]
        # Within the grace the previous token still gives a valid token set.
        retried = refresh(sb, first["refresh_token"])
        assert retried.status_code == 200, retried.text
        assert contacts(sb, retried.json()["access_token"], tenant).status_code == 200
        time.sleep(4.8)
        late = refresh(sb, first["refresh_token"])
        assert late.status_code == 400
        assert late.json()["error"] == "invalid_grant"
        expired = contacts(sb, rotated["access_token"], tenant)
        assert expired.status_code == 401
        assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")
        assert expired.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        # The newest refresh token is still good, and its access token works.
        newest = refresh(sb, rotated["refresh_token"])
        assert newest.status_code == 200
        assert contacts(sb, newest.json()["access_token"], tenant).status_code == 200
        assert sb.stats()["refreshes"] == 3


def test_refresh_token_unused_for_60_days_expires() -> None:
    # 2,500,000x: 60 sandbox days pass in about 2.1 real seconds.
    with Sandbox(tenants=1, scale=2, time_scale=2_500_000) as sb:
        tokens = code_tokens(sb)
        fresh = refresh(sb, tokens["refresh_token"])
        assert fresh.status_code == 200, fresh.text
        time.sleep(2.6)
        idle = refresh(sb, fresh.json()["refresh_token"])
        assert idle.status_code == 400
        assert idle.json()["error"] == "invalid_grant"


def test_tokens_survive_a_restart() -> None:
    with Sandbox(tenants=1, scale=2) as sb:
        tokens = code_tokens(sb)
        tenant = sb.tenant_ids()[0]
        sb.restart()
        assert contacts(sb, tokens["access_token"], tenant).status_code == 200
        assert refresh(sb, tokens["refresh_token"]).status_code == 200


# ----------------------------------------------------------------------- unit: tables


def test_scope_table() -> None:
    assert scope_allows(["accounting.transactions.read"], "GET", "/Invoices")
    assert not scope_allows(["accounting.transactions.read"], "PUT", "/Invoices")
    assert scope_allows(["accounting.payments"], "POST", "/Payments")
    assert not scope_allows(["accounting.payments"], "GET", "/Invoices")
    assert scope_allows(["accounting.settings.read"], "GET", "/Items")
    assert scope_allows(["accounting.reports.trialbalance.read"], "GET", "/Reports/TrialBalance")
    assert not scope_allows(
        ["accounting.reports.trialbalance.read"], "GET", "/Reports/BalanceSheet"
    )
    assert scope_allows(["accounting.reports.read"], "GET", "/Reports/BalanceSheet")
    assert not scope_allows(["accounting.journals.read"], "POST", "/Journals")
    assert scope_allows(["accounting.attachments"], "GET", "/Invoices/abc/Attachments")
    assert not scope_allows(["accounting.contacts"], "GET", "/Contacts/abc/Attachments")


def test_accept_header_parsing() -> None:
    assert accepts_json("application/json")
    assert accepts_json("text/xml;q=0.5, Application/JSON; charset=utf-8")
    assert not accepts_json(None)
    assert not accepts_json("*/*")
    assert not accepts_json("application/json;q=0")

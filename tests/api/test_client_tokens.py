"""Unit tests of the token store and the refresh_token rotation rules (MockTransport identity).

The identity stub here rotates like Xero (single-use tokens, a grace period for the previous
one); the same rules are proven end to end against xero-sandbox in ``test_client_sandbox.py``.
"""

from __future__ import annotations

import logging
import secrets
import stat
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from xero_api import XeroClient, XeroConfigError, XeroSettings, XeroTokenError
from xero_api.token_store import TokenSet, TokenStore

TENANT = "11111111-2222-3333-4444-555555555555"


class Identity:
    """Xero's rotation: each refresh token works once, then for ``grace`` seconds more."""

    def __init__(self, grace: float = 1800.0, lifetime: int = 1800) -> None:
        self.grace = grace
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.spent: dict[str, float] = {}
        self.valid: set[str] = set()
        self.access: set[str] = set()
        self.refreshes = 0
        self.events: list[str] = []

    def issue(self) -> str:
        token = "rt-" + secrets.token_hex(12)
        self.valid.add(token)
        return token

    def handler(self, store: TokenStore | None = None) -> Any:
        def handle(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/connect/token":
                form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
                with self.lock:
                    token = form.get("refresh_token", "")
                    spent_at = self.spent.get(token)
                    if token not in self.valid or (
                        spent_at is not None and time.monotonic() - spent_at > self.grace
                    ):
                        return httpx.Response(400, json={"error": "invalid_grant"})
                    self.spent.setdefault(token, time.monotonic())
                    self.refreshes += 1
                    access = "at-" + secrets.token_hex(12)
                    self.access.add(access)
                    self.events.append("refresh")
                    return httpx.Response(
                        200,
                        json={
                            "access_token": access,
                            "refresh_token": self.issue(),
                            "expires_in": self.lifetime,
                            "token_type": "Bearer",
                            "scope": "offline_access accounting.settings.read",
                        },
                    )
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
            if bearer not in self.access:
                return httpx.Response(401, json={"Title": "Unauthorized", "Detail": "TokenExpired"})
            if store is not None:
                # The rotated refresh token must already be durable when the access token is used.
                stored = store.read()
                assert stored is not None
                assert stored.access_token == bearer
                self.events.append("api-call-after-store")
            return httpx.Response(200, json={"Currencies": [{"Code": "NZD"}]})

        return handle


def _client(identity: Identity, store_path: Path, **config: Any) -> XeroClient:
    settings = XeroSettings.from_config(
        {
            "auth_mode": "refresh_token",
            "client_id": "client-1",
            "client_secret": "client-secret-1",
            "token_store_path": str(store_path),
            "api_url": "http://127.0.0.1:9",
            "identity_url": "http://127.0.0.1:9",
            **config,
        }
    )
    transport = httpx.MockTransport(identity.handler(TokenStore(store_path)))
    return XeroClient(settings, logging.getLogger("tokens"), transport=transport)


def test_store_write_is_atomic_0600_and_round_trips(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "deep" / "dir" / "t.json")
    tokens = TokenSet(client_id="c", refresh_token="r" * 20, access_token="a" * 20, expires_at=5.0)
    store.write(tokens)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.read() == tokens
    assert "r" * 20 not in repr(tokens)
    assert [p.name for p in store.path.parent.iterdir()] == ["t.json"]  # no temp files left


def test_corrupt_store_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("{not json")
    with pytest.raises(XeroConfigError, match="token_store_path"):
        TokenStore(path).read()


def test_rotated_token_is_stored_before_the_access_token_is_used(tmp_path: Path) -> None:
    identity = Identity()
    initial = identity.issue()
    client = _client(identity, tmp_path / "t.json", refresh_token=initial)
    assert client.get("Currencies", TENANT).records("Currencies")
    assert identity.events == ["refresh", "api-call-after-store"]
    stored = TokenStore(tmp_path / "t.json").read()
    assert stored is not None
    assert stored.generation == 1
    assert stored.previous_refresh_token == initial
    assert stored.knows(initial)


def test_a_second_run_with_the_already_rotated_config_token_uses_the_store(
    tmp_path: Path,
) -> None:
    identity = Identity(grace=0.0)  # the configured token dies as soon as it is used
    initial = identity.issue()
    _client(identity, tmp_path / "t.json", refresh_token=initial).get("Currencies", TENANT)
    second = _client(identity, tmp_path / "t.json", refresh_token=initial)
    # The stored access token is still valid: no refresh at all.
    assert second.get("Currencies", TENANT).records("Currencies")
    assert identity.refreshes == 1
    # Forced to refresh (e.g. after a 401), it spends the stored token, not the configured one.
    second.auth.renew(second.auth.token())
    assert identity.refreshes == 2


def test_fresh_configured_token_replaces_an_old_store(tmp_path: Path) -> None:
    identity = Identity()
    _client(identity, tmp_path / "t.json", refresh_token=identity.issue()).get("Currencies", TENANT)
    reauthorised = identity.issue()
    client = _client(identity, tmp_path / "t.json", refresh_token=reauthorised)
    client.auth.renew("none")
    stored = TokenStore(tmp_path / "t.json").read()
    assert stored is not None
    assert stored.previous_refresh_token == reauthorised


def test_no_token_anywhere_tells_how_to_authorise(tmp_path: Path) -> None:
    client = _client(Identity(), tmp_path / "t.json")
    with pytest.raises(XeroTokenError, match="xero-auth"):
        client.get("Currencies", TENANT)


def test_threads_and_clients_sharing_a_store_refresh_once(tmp_path: Path) -> None:
    identity = Identity(grace=0.0)  # any double spend would fail
    initial = identity.issue()
    clients = [_client(identity, tmp_path / "t.json", refresh_token=initial) for _ in range(3)]
    errors: list[Exception] = []

    def work(client: XeroClient) -> None:
        try:
            for _ in range(20):
                client.get("Currencies", TENANT)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert identity.refreshes == 1


def test_forced_renewals_across_clients_never_double_spend(tmp_path: Path) -> None:
    identity = Identity(grace=0.0)
    initial = identity.issue()
    clients = [_client(identity, tmp_path / "t.json", refresh_token=initial) for _ in range(4)]
    errors: list[Exception] = []

    def work(client: XeroClient) -> None:
        try:
            for _ in range(25):
                client.auth.renew(client.auth.token())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = TokenStore(tmp_path / "t.json").read()
    assert stored is not None
    assert stored.generation == identity.refreshes
    assert identity.refreshes >= 25


def test_lost_refresh_answer_is_retried_with_the_same_token(tmp_path: Path) -> None:
    identity = Identity()
    initial = identity.issue()
    inner = identity.handler()
    dropped: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token" and not dropped:
            inner(request)  # Xero rotated ...
            dropped.append("x")
            raise httpx.ReadTimeout("answer lost", request=request)  # ... but we never heard
        return inner(request)  # type: ignore[no-any-return]

    settings = XeroSettings.from_config(
        {
            "auth_mode": "refresh_token",
            "client_id": "client-1",
            "client_secret": "client-secret-1",
            "refresh_token": initial,
            "token_store_path": str(tmp_path / "t.json"),
            "api_url": "http://127.0.0.1:9",
            "identity_url": "http://127.0.0.1:9",
        }
    )
    client = XeroClient(settings, transport=httpx.MockTransport(flaky), sleep=lambda s: None)
    assert client.get("Currencies", TENANT).records("Currencies")
    assert identity.refreshes == 2  # the same token, accepted again within the grace period

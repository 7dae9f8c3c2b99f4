"""``xero-auth`` against the sandbox: the store path it writes and prints is absolute, and when the
authorize step refuses (unknown client ID, unregistered redirect URI, a scope the app may not ask
for) it stops at once with Xero's error and what to check, instead of waiting out ``--timeout``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from xero_api.authorize import main as xero_auth_main
from xero_api.scopes import DEFAULT_READ_SCOPES
from xero_api.token_store import TokenStore
from xero_sandbox.launcher import Sandbox

# A refusal that were not noticed would end in "no redirect reached ... within 30s" instead.
TIMEOUT = "30"


@pytest.fixture(scope="module")
def new_app() -> Iterator[Sandbox]:
    """An app created since March 2026 (granular scopes only), any loopback redirect URI."""
    with Sandbox(tenants=1, scale=1, granular_scopes_only=True) as sb:
        yield sb


def _xero_auth(sb: Sandbox, *args: str, client_id: str | None = None) -> int:
    return xero_auth_main(
        [
            "--client-id", client_id or sb.client_id, "--no-browser", "--port", "0",
            "--timeout", TIMEOUT, "--login-url", sb.url, "--identity-url", sb.url,
            "--api-url", sb.url, *args,
        ]
    )  # fmt: skip


def test_relative_store_is_written_and_printed_absolute(
    new_app: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _xero_auth(new_app, "--token-store", "tokens/") == 0  # the default scopes are granular
    out = capsys.readouterr().out
    snippet = json.loads(out[out.index("{", out.index("Config for")) :])
    printed = Path(snippet["token_store_path"])
    assert printed.is_absolute()
    assert printed == tmp_path / "tokens" / f"{new_app.client_id}.json"
    assert f"Token set stored in {printed} " in out
    stored = TokenStore(printed).read()
    assert stored is not None
    assert set(stored.scope.split()) == set(DEFAULT_READ_SCOPES)


def test_unknown_client_id_fails_at_once(
    new_app: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _xero_auth(new_app, "--token-store", str(tmp_path / "t.json"), client_id="not-my-app")
    err = capsys.readouterr().err
    assert code == 1
    assert "Xero refused the authorisation: unauthorized_client" in err
    assert "client ID (--client-id or XERO_CLIENT_ID)" in err
    assert not (tmp_path / "t.json").exists()


def test_a_scope_the_app_may_not_ask_for_fails_at_once(
    new_app: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _xero_auth(
        new_app,
        "--token-store", str(tmp_path / "t.json"),
        "--scopes", "offline_access accounting.transactions.read",
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "invalid_scope" in err
    assert "accounting.transactions.read" in err
    assert "granular scopes" in err


def test_an_unregistered_redirect_uri_fails_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registered = "http://localhost:8976/callback"
    with Sandbox(tenants=1, scale=1, redirect_uris=registered) as sb:
        code = _xero_auth(sb, "--token-store", str(tmp_path / "t.json"))  # --port 0: not 8976
    err = capsys.readouterr().err
    assert code == 1
    assert "invalid_request" in err
    assert "redirect URIs include http://localhost:" in err
    assert "--port" in err
    assert "no redirect reached" not in err

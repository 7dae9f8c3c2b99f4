"""``xero-auth``: from a client ID and secret to a working config in one command.

Runs Xero's authorization-code flow with PKCE and a loopback redirect
(``http://localhost:<port>/callback``, default port 8976), stores the first token set in the
token store and prints a config snippet naming the store; tokens are never printed. The steps
are :func:`run`'s; docs/authentication.md is the user's guide.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import os
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from .auth import TokenEndpoint, expiry, open_token_store
from .errors import XeroError
from .loopback import client_transport, is_loopback_host
from .redact import RedactingFilter, register_secret
from .scopes import DEFAULT_READ_SCOPES
from .settings import XeroSettings
from .token_store import TokenSet, TokenStorage, TokenStore

__all__ = ["DEFAULT_PORT", "main", "run"]

DEFAULT_PORT = 8976
_logger = logging.getLogger("xero_api.authorize")


class _Callback:
    """What the loopback server received."""

    def __init__(self) -> None:
        self.params: dict[str, str] | None = None
        self.received = threading.Event()


def _serve(port: int, callback: _Callback) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/callback":
                self.send_error(404)
                return
            query = parse_qs(parts.query)
            callback.params = {k: v[0] for k, v in query.items()}
            ok = "code" in callback.params
            text = (
                "Xero authorisation complete; you can close this window."
                if ok
                else "Xero authorisation failed; see the terminal."
            )
            body = f"<html><body><p>{text}</p></body></html>".encode()
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            callback.received.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the query string holds the authorisation code

    server = HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return verifier, challenge


def refusal(error: str, description: str, redirect_uri: str) -> str:
    """Xero's OAuth error from the authorize step, and what to check."""
    said = f"{error} ({description})" if description else error
    text = f"{error} {description}".lower()
    if "redirect" in text:
        advice = (
            f"Check that the app's redirect URIs include {redirect_uri} exactly, port included: "
            "add it in the Xero developer portal, or pass --port with the registered one's port."
        )
    elif error in ("unauthorized_client", "invalid_client"):
        advice = (
            "Check that the client ID (--client-id or XERO_CLIENT_ID) is your Xero app's, "
            "as the developer portal shows it."
        )
    elif error == "invalid_scope" or "scope" in text:
        advice = (
            "Check --scopes: apps created since 2 March 2026 may ask only for granular scopes "
            "(accounting.invoices.read, ...), not accounting.transactions or "
            "accounting.reports.read, and only for scopes the app may use."
        )
    elif error == "access_denied":
        advice = "The consent was declined: run xero-auth again and allow access."
    else:
        advice = "Check the client ID, the app's redirect URIs and --scopes."
    return f"Xero refused the authorisation: {said}. {advice}"


def _refused_at_authorize(answer: httpx.Response, redirect_uri: str) -> str | None:
    """Xero's refusal in the authorize endpoint's first answer, or None when it lets the user
    go on (to its login page, or for xero-sandbox straight back to us with a code)."""
    if answer.is_redirect:
        location = urljoin(str(answer.request.url), answer.headers.get("location", ""))
        if not location.startswith(redirect_uri):
            return None
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if "error" not in query:
            return None
        return refusal(query["error"], query.get("error_description", ""), redirect_uri)
    if answer.status_code < 400:
        return None
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return refusal(body["error"], str(body.get("error_description") or ""), redirect_uri)
    return refusal(f"HTTP {answer.status_code}", "", redirect_uri)


def run(
    settings: XeroSettings,
    *,
    port: int = DEFAULT_PORT,
    no_browser: bool = False,
    timeout_seconds: float = 300.0,
    out: Any = None,
) -> dict[str, Any]:
    """Authorise, store the first token set and return the config snippet (no secrets)."""
    out = out or sys.stdout
    callback = _Callback()
    server = _serve(port, callback)
    redirect_uri = f"http://localhost:{server.server_address[1]}/callback"
    state = secrets.token_urlsafe(24)
    verifier, challenge = _pkce()
    login = _login_url(settings, redirect_uri, state, challenge)
    http = httpx.Client(
        timeout=settings.request_timeout_seconds,
        headers={"User-Agent": settings.user_agent},
        **client_transport(settings.http_addresses),
    )
    try:
        headless = no_browser or is_loopback_host(urlsplit(settings.login_url).hostname or "")
        _ask_consent(http, login, redirect_uri, headless=headless, out=out)
        code = _authorization_code(callback, state, redirect_uri, timeout_seconds)
        store, access_token = _store_first_tokens(settings, http, code, redirect_uri, verifier)
        tenants = _connections(http, settings, access_token)
    finally:
        http.close()
        server.shutdown()
        server.server_close()
    private = "" if settings.token_store_dsn else " (mode 0600)"
    print(f"Token set stored in {store.location}{private}.", file=out)
    for tenant in tenants:
        print(f"  tenant {tenant.get('tenantId')}  {tenant.get('tenantName', '')}", file=out)
    snippet = _config_snippet(settings, store, tenants)
    print("Config for tap-xero / target-xero:\n" + json.dumps(snippet, indent=2), file=out)
    return snippet


def _login_url(settings: XeroSettings, redirect_uri: str, state: str, challenge: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(settings.scopes),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{settings.login_url}/identity/connect/authorize?{query}"


def _ask_consent(
    http: httpx.Client, login: str, redirect_uri: str, *, headless: bool, out: Any
) -> None:
    """Ask the authorize endpoint once (a refusal there stops at once, with Xero's words), then
    open the login URL in a browser, or, headless, follow the redirect to the callback."""
    first = http.get(login, follow_redirects=False)
    refused = _refused_at_authorize(first, redirect_uri)
    if refused:
        raise XeroError(refused)
    if headless:
        # xero-sandbox consents immediately: follow its redirect to our callback.
        if first.is_redirect:
            http.get(urljoin(login, first.headers["location"]), follow_redirects=True)
    else:
        print(f"Open this URL to authorise the app:\n\n  {login}\n", file=out)
        webbrowser.open(login)


def _authorization_code(
    callback: _Callback, state: str, redirect_uri: str, timeout_seconds: float
) -> str:
    """The code the redirect brought, once its ``state`` is checked (a secret from then on)."""
    if not callback.received.wait(timeout_seconds):
        raise XeroError(f"no redirect reached {redirect_uri} within {timeout_seconds:.0f}s")
    params = callback.params or {}
    if params.get("state") != state:
        raise XeroError("the redirect carried a wrong state parameter; start again")
    if "code" not in params:
        raise XeroError(
            refusal(
                params.get("error", "unknown error"),
                params.get("error_description", ""),
                redirect_uri,
            )
        )
    register_secret(params["code"])
    return params["code"]


def _store_first_tokens(
    settings: XeroSettings, http: httpx.Client, code: str, redirect_uri: str, verifier: str
) -> tuple[TokenStorage, str]:
    """Exchange the code and commit the token set; the store and the access token."""
    store: TokenStorage
    if settings.token_store_dsn:
        store = open_token_store(settings, _logger)
    else:
        # Absolute, so the printed config works from any directory.
        store = TokenStore(settings.token_store_path.expanduser().absolute(), logger=_logger)
    # The store is checked and its room claimed before the one-use code is spent.
    with store.locked(), store.pending() as pending:
        started = time.time()
        body = TokenEndpoint(settings, http, _logger).request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )
        refresh = body.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            raise XeroError(
                "Xero returned no refresh token: add the offline_access scope and run again"
            )
        pending.commit(
            TokenSet(
                client_id=settings.client_id,
                refresh_token=refresh,
                access_token=str(body["access_token"]),
                expires_at=expiry(body, started),
                scope=str(body.get("scope") or " ".join(settings.scopes)),
            )
        )
    return store, str(body["access_token"])


def _config_snippet(
    settings: XeroSettings, store: TokenStorage, tenants: list[dict[str, Any]]
) -> dict[str, Any]:
    """The config for tap-xero and target-xero: no secret, only where the tokens are."""
    snippet: dict[str, Any] = {
        "auth_mode": "refresh_token",
        "client_id": settings.client_id,
        "client_secret": "<your client secret>" if settings.client_secret else None,
        **(
            {"token_store_path": str(store.path)}
            if isinstance(store, TokenStore)
            else {"token_store_dsn": "<the same PostgreSQL URL, from the environment>"}
        ),
        "tenant_ids": [t["tenantId"] for t in tenants if t.get("tenantId")],
    }
    for key in ("api_url", "identity_url", "login_url"):
        value = getattr(settings, key)
        if value != XeroSettings.__dataclass_fields__[key].default:
            snippet[key] = value
    return {k: v for k, v in snippet.items() if v is not None}


def _connections(http: httpx.Client, settings: XeroSettings, token: str) -> list[dict[str, Any]]:
    response = http.get(
        f"{settings.api_url}/connections",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    if response.status_code != 200:
        return []
    data = response.json()
    return [c for c in data if isinstance(c, dict)] if isinstance(data, list) else []


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xero-auth",
        description="Authorise a Xero app once and store its tokens for tap-xero/target-xero.",
    )
    parser.add_argument("--client-id", default=os.environ.get("XERO_CLIENT_ID"))
    parser.add_argument(
        "--client-secret",
        default=os.environ.get("XERO_CLIENT_SECRET"),
        help="client secret (better: the XERO_CLIENT_SECRET environment variable); "
        "omit for a PKCE-only app",
    )
    parser.add_argument(
        "--scopes",
        default=" ".join(DEFAULT_READ_SCOPES),
        help="space- or comma-separated scopes (default: offline_access and the read scope of "
        "every stream tap-xero selects by default)",
    )
    parser.add_argument("--login-url", default="https://login.xero.com")
    parser.add_argument("--identity-url", default="https://identity.xero.com")
    parser.add_argument("--api-url", default="https://api.xero.com")
    parser.add_argument(
        "--token-store",
        default=None,
        help="token store file or directory (a PostgreSQL store instead: set the "
        "XERO_TOKEN_STORE_DSN environment variable)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="loopback port of the redirect URI"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="follow the redirect without a browser"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``xero-auth``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    # httpx logs request URLs at INFO; the callback URL carries the authorisation code.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    try:
        settings = XeroSettings.from_config(
            {
                "auth_mode": "refresh_token",
                "client_id": args.client_id,
                "client_secret": args.client_secret,
                "scopes": args.scopes,
                "login_url": args.login_url,
                "identity_url": args.identity_url,
                "api_url": args.api_url,
                "token_store_path": args.token_store,
                # Only from the environment: the URL may carry a password, and flags show in ps.
                "token_store_dsn": os.environ.get("XERO_TOKEN_STORE_DSN"),
            }
        )
        run(settings, port=args.port, no_browser=args.no_browser, timeout_seconds=args.timeout)
    except XeroError as exc:
        print(f"xero-auth: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"xero-auth: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Helpers for the sandbox edge tests: OAuth calls, PKCE, a webhook receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from xero_sandbox.launcher import Sandbox


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll until ``condition()`` holds (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


REDIRECT_URI = "http://localhost:8976/callback"


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_code(
    sb: Sandbox, scope: str, *, challenge: str | None = None, state: str = "st4te"
) -> httpx.Response:
    """GET the authorize endpoint without following the redirect."""
    params = {
        "response_type": "code",
        "client_id": sb.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return httpx.get(f"{sb.url}/identity/connect/authorize", params=params, follow_redirects=False)


def redirect_query(response: httpx.Response) -> dict[str, str]:
    """The query of a 302's Location as a flat dict."""
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {key: values[0] for key, values in query.items()}


def token(sb: Sandbox, data: dict[str, str], *, basic: bool = True) -> httpx.Response:
    """POST /connect/token (client secret by HTTP Basic unless ``basic`` is False)."""
    auth = (sb.client_id, sb.client_secret) if basic else None
    return httpx.post(f"{sb.url}/connect/token", data=data, auth=auth)


def refresh(sb: Sandbox, refresh_token: str) -> httpx.Response:
    """The refresh_token grant with the secret in form fields (as xero-python does)."""
    return token(
        sb,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
        basic=False,
    )


def api_headers(access_token: str, tenant_id: str | None = None) -> dict[str, str]:
    """Headers of an Accounting API call."""
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    if tenant_id:
        headers["xero-tenant-id"] = tenant_id
    return headers


def jwt_claims(token_text: str) -> dict[str, Any]:
    """The (unverified) claims of a JWT-shaped token."""
    payload = token_text.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


class WebhookReceiver:
    """A tiny webhook endpoint: 200 for correctly signed posts, 401 otherwise (or always 200)."""

    def __init__(self, key: str, *, verify: bool = True, fail_events: int = 0) -> None:
        self.key = key
        self.verify = verify
        self.fail_events = fail_events  # answer 500 to this many event-carrying posts first
        self.posts: list[tuple[bytes, str, int]] = []  # raw body, signature, status answered
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signature = self.headers.get("x-xero-signature", "")
                expected = base64.b64encode(
                    hmac.new(receiver.key.encode(), body, hashlib.sha256).digest()
                ).decode()
                good = hmac.compare_digest(signature, expected)
                status = 200 if good or not receiver.verify else 401
                with receiver._lock:
                    if status == 200 and receiver.fail_events and json.loads(body)["events"]:
                        receiver.fail_events -= 1
                        status = 500
                    receiver.posts.append((body, signature, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def payloads(self) -> list[dict[str, Any]]:
        """Every body received, parsed."""
        with self._lock:
            return [json.loads(body) for body, _, _ in self.posts]

    def event_payloads(self) -> list[tuple[bytes, str, dict[str, Any]]]:
        """Posts that carried events and were accepted: raw body, signature, parsed body."""
        with self._lock:
            posts = list(self.posts)
        return [
            (body, sig, json.loads(body))
            for body, sig, status in posts
            if status == 200 and json.loads(body)["events"]
        ]

    def events(self) -> list[dict[str, Any]]:
        """Every accepted event, in delivery order."""
        return [event for _, _, payload in self.event_payloads() for event in payload["events"]]


def raw_request(
    url: str, method: str, target: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request over a plain socket (status, lower-case headers, body).

    For requests httpx refuses to build (URLs over 64 KB) or malformed request lines.
    """
    parts = urlsplit(url)
    head = f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
    head += f"Content-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as conn:
        conn.sendall(head.encode("latin-1") + body)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    status_and_headers, _, content = received.partition(b"\r\n\r\n")
    lines = status_and_headers.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in fields.items()}, content

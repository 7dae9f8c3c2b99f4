"""TLS is verified: an https server whose certificate no trusted authority signed is never sent a
request, though it answers anyone who trusts its certificate.

The certificate and key in ``fixtures/tls`` are self-signed for localhost and exist only for this
test.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from xero_api import XeroClient, XeroConnectionError, XeroSettings

TLS = Path(__file__).parents[1] / "fixtures" / "tls"
CERT = TLS / "self-signed-test-only.crt"


class _Server(ThreadingHTTPServer):
    requests: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        body = json.dumps([]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def https_server() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT, TLS / "self-signed-test-only.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_an_untrusted_certificate_gets_no_request(
    https_server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("SSL_CERT_FILE", "SSL_CERT_DIR"):  # no trust added from outside
        monkeypatch.delenv(variable, raising=False)
    url = f"https://localhost:{https_server.server_address[1]}"
    # The server works for a client that trusts its certificate ...
    trusting = ssl.create_default_context(cafile=str(CERT))
    assert httpx.get(f"{url}/connections", verify=trusting).json() == []
    assert https_server.requests == ["/connections"]
    # ... and the Xero client, trusting only real authorities, refuses to talk to it.
    settings = XeroSettings.from_config(
        {"auth_mode": "access_token", "access_token": "t" * 20, "api_url": url, "max_retries": 0}
    )
    with XeroClient(settings) as client, pytest.raises(XeroConnectionError) as info:
        client.connections()
    assert "\n" not in info.value.message
    assert "tls_certificate_not_trusted" in info.value.message
    assert https_server.requests == ["/connections"]  # nothing more arrived

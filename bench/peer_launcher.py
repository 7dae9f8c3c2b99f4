"""Run singer-io/tap-xero 2.6.0 (the peer) against a xero-sandbox instead of Xero.

The peer hard-codes Xero's hosts: ``tap_xero.client.BASE_URL`` for the Accounting API and a
string literal ``https://identity.xero.com/connect/token`` inside
``XeroClient.refresh_credentials``. This launcher patches, it does not fork: it sets
``BASE_URL`` and swaps ``requests.Session`` for a subclass whose ``send`` rewrites the two Xero
origins to the sandbox's, then hands the command line to the peer's own ``main``.

One more bridge: the peer's access probe (``GET /Currencies`` in ``check_platform_access``,
run by discovery) sends no ``Accept`` header and only looks at the status. Xero answers such a
request with XML and 200; the sandbox, which speaks only JSON, answers 406. The session asks
for JSON on API calls that accept anything, so the probe passes as it does against Xero.

Runs under the peer's venv (``bench/.work/peer-venv/bin/python``), so it imports nothing from
this repository. Usage::

    BENCH_PEER_XERO_URL=http://127.0.0.1:PORT peer-venv/bin/python bench/peer_launcher.py \
        --config config.json --catalog catalog.json
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

URL_ENV = "BENCH_PEER_XERO_URL"
XERO_ORIGINS = ("https://api.xero.com", "https://identity.xero.com")


def patch_peer(sandbox_url: str) -> Any:
    """Point the installed peer at ``sandbox_url`` and return its package module."""
    requests: Any = importlib.import_module("requests")
    peer_client: Any = importlib.import_module("tap_xero.client")
    peer: Any = importlib.import_module("tap_xero")
    base = sandbox_url.rstrip("/")
    peer_client.BASE_URL = f"{base}/api.xro/2.0"

    original_session: Any = requests.Session

    class SandboxSession(original_session):  # type: ignore[misc]
        """A requests session that sends Xero-bound requests to the sandbox."""

        def send(self, request: Any, **kwargs: Any) -> Any:
            for origin in XERO_ORIGINS:
                if request.url.startswith(origin):
                    request.url = base + request.url[len(origin) :]
                    break
            if "/api.xro/" in request.url and request.headers.get("Accept", "*/*") == "*/*":
                request.headers["Accept"] = "application/json"
            return super().send(request, **kwargs)

    # The peer builds its session as `requests.Session()` through the module attribute.
    requests.Session = SandboxSession
    return peer


def main() -> None:
    """Patch the peer from ``$BENCH_PEER_XERO_URL`` and run its CLI with our arguments."""
    sandbox_url = os.environ.get(URL_ENV)
    if not sandbox_url:
        sys.exit(f"peer_launcher: set {URL_ENV} to the sandbox URL (http://127.0.0.1:PORT)")
    peer = patch_peer(sandbox_url)
    sys.argv = ["tap-xero", *sys.argv[1:]]
    peer.main()


if __name__ == "__main__":
    main()

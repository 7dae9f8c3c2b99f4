"""A minimal Xero webhook receiver (standard library only) built on ``xero_api.webhooks``.

    XERO_WEBHOOK_KEY=... python examples/webhook_receiver.py --port 8080

It answers 401 to a POST whose ``x-xero-signature`` is missing or wrong and 200 with an empty
body to a correctly signed one (which passes Xero's intent-to-receive handshake), and prints one
line per accepted event: category, type and resource ID. A real deployment would queue a sync
(for example ``meltano run tap-xero target-...``) instead of printing. Put it behind HTTPS:
Xero only delivers to ``https://`` URLs on port 443.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from xero_api.webhooks import SIGNATURE_HEADER, verify_signature

MAX_BODY = 1024 * 1024


def make_server(
    key: str, on_event: Callable[[dict[str, Any]], None], host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    """A server that verifies each POST against ``key`` and hands its events to ``on_event``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413)
                return
            body = self.rfile.read(length)
            # Verify the raw bytes before parsing anything.
            if not verify_signature(key, body, self.headers.get(SIGNATURE_HEADER)):
                self._answer(401)
                return
            try:
                events = json.loads(body).get("events") or []
            except (ValueError, AttributeError):
                self._answer(400)
                return
            for event in events:
                on_event(event)  # keep it quick (queue work): Xero waits 5 seconds at most
            self._answer(200)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines are noise; accepted events are printed by on_event

    return ThreadingHTTPServer((host, port), Handler)


def _print_event(event: dict[str, Any]) -> None:
    print(
        event.get("eventCategory"),
        event.get("eventType"),
        event.get("resourceId"),
        event.get("tenantId"),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; the key comes from XERO_WEBHOOK_KEY (never the command line)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    key = os.environ.get("XERO_WEBHOOK_KEY", "")
    if not key:
        print("webhook_receiver: set XERO_WEBHOOK_KEY to the webhook signing key", file=sys.stderr)
        return 2
    server = make_server(key, _print_event, args.host, args.port)
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

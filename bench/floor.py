"""The floor: the least a Xero tap must do, with no SDK, to compare our tap's CPU against.

Plain httpx, one GET per page of ``pageSize=1000``, msgspec JSON decode, every record written to
stdout as a Singer RECORD line. No schema, no conversion, no state. Usage::

    BENCH_ACCESS_TOKEN=... python -m bench.floor --api-url URL --tenant-id ID [--path Invoices]

The access token comes from the environment so that it never shows in a process listing.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx
import msgspec

PAGE_SIZE = 1000
TOKEN_ENV = "BENCH_ACCESS_TOKEN"


def run(api_url: str, access_token: str, tenant_id: str, path: str, stream: str) -> int:
    """Write every record of ``path`` as Singer RECORD lines; return how many."""
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Xero-Tenant-Id": tenant_id,
        "Accept": "application/json",
    }
    encoder = msgspec.json.Encoder()
    out = sys.stdout.buffer
    written = 0
    page = 1
    with httpx.Client(base_url=f"{api_url.rstrip('/')}/api.xro/2.0", headers=headers) as client:
        while True:
            response = client.get(path, params={"page": page, "pageSize": PAGE_SIZE})
            response.raise_for_status()
            body: dict[str, Any] = msgspec.json.decode(response.content)
            rows: list[Any] = body.get(path, [])
            out.write(
                b"".join(
                    encoder.encode({"type": "RECORD", "stream": stream, "record": row}) + b"\n"
                    for row in rows
                )
            )
            written += len(rows)
            if len(rows) < PAGE_SIZE:
                break
            page += 1
    out.flush()
    return written


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True, help="sandbox (or Xero API) origin")
    parser.add_argument("--tenant-id", required=True)
    parser.add_argument("--path", default="Invoices", help="collection, e.g. Invoices")
    parser.add_argument("--stream", default="invoices", help="Singer stream name to write")
    args = parser.parse_args()
    token = os.environ.get(TOKEN_ENV)
    if not token:
        parser.error(f"set {TOKEN_ENV} to an access token")
    count = run(args.api_url, token, args.tenant_id, args.path, args.stream)
    print(f"floor: {count} records", file=sys.stderr)


if __name__ == "__main__":
    main()

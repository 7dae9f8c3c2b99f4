"""Helpers for the sandbox write tests: a small Accounting API client and the seeded chart codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from xero_sandbox.launcher import Sandbox

# Codes of the seeded Demo Company chart of accounts (xero_sandbox/seed/settings.py), 15 % GST.
BANK = "090"
SALES = "200"
ADVERTISING = "400"
ARCHIVED_EXPENSE = "499"
EQUITY = "970"
GST_ON_INCOME = "OUTPUT2"
GST_ON_EXPENSES = "INPUT2"

#: Limits out of the way: these tests are about writes, not the 60-calls-a-minute budget.
UNLIMITED = {"minute_limit": 1_000_000, "day_limit": 10_000_000, "app_minute_limit": 1_000_000}


class Api:
    """PUT/POST/GET against one tenant of a running sandbox, bodies parsed with Decimal."""

    def __init__(self, sb: Sandbox, tenant_id: str | None = None) -> None:
        self.sb = sb
        self.tenant_id = tenant_id or sb.tenant_ids()[0]
        self.client = httpx.Client(
            base_url=f"{sb.url}/api.xro/2.0", headers=sb.headers(self.tenant_id), timeout=60
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        """PUT a JSON body."""
        return self.client.put(f"/{path}", json=body, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        """POST a JSON body."""
        return self.client.post(f"/{path}", json=body, **kwargs)

    def raw(self, method: str, path: str, content: bytes, **kwargs: Any) -> httpx.Response:
        """Send raw bytes (for malformed bodies)."""
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.client.request(method, f"/{path}", content=content, headers=headers, **kwargs)

    def get(self, path: str, **params: Any) -> httpx.Response:
        """GET a collection or record."""
        return self.client.get(f"/{path}", params=params)

    def created(self, path: str, body: Any, **kwargs: Any) -> dict[str, Any]:
        """PUT that must succeed; returns the one created element."""
        answer = self.put(path, body, **kwargs)
        assert answer.status_code == 200, answer.text
        elements: list[dict[str, Any]] = parsed(answer)[path.split("/")[0]]
        return elements[0]

    def one(self, collection: str, record_id: str) -> dict[str, Any]:
        """GET one record."""
        answer = self.get(f"{collection}/{record_id}")
        assert answer.status_code == 200, answer.text
        record: dict[str, Any] = parsed(answer)[collection][0]
        return record


def parsed(answer: httpx.Response) -> dict[str, Any]:
    """A response body with exact Decimal numbers."""
    import json

    body: dict[str, Any] = json.loads(answer.content, parse_float=Decimal)
    return body


def messages(element: dict[str, Any]) -> list[str]:
    """The ValidationErrors messages of one element."""
    return [error["Message"] for error in element.get("ValidationErrors") or []]


def line(
    description: str = "Widget",
    quantity: Any = 1,
    unit_amount: Any = 10,
    account: str = SALES,
    **extra: Any,
) -> dict[str, Any]:
    """A line item."""
    return {
        "Description": description,
        "Quantity": quantity,
        "UnitAmount": unit_amount,
        "AccountCode": account,
        **extra,
    }


def invoice(
    contact: str = "Writes Test Customer", *lines: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """An ACCREC invoice (DRAFT unless Status is given)."""
    return {
        "Type": "ACCREC",
        "Contact": {"Name": contact},
        "DueDate": "2026-12-31",
        "LineItems": list(lines) or [line()],
        **extra,
    }

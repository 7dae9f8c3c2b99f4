"""Write requests to Xero: up to :data:`IN_FLIGHT` in flight, answered in request order,
each with an ``Idempotency-Key`` that is a hash of tenant, method, path and canonical body, so
a replayed request can never create a second document."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from xero_api.codec import encode_json

from .organisation import Organisation, RequestRejected

__all__ = ["IN_FLIGHT", "Call", "Exchange", "chunked", "idempotency_key"]

# Write requests in flight at once (Xero allows 5 calls in progress per organisation; the
# client waits for the minute budget): overlapping round trips lets the target use its budget.
IN_FLIGHT = 3

# (method, path, params, body, Idempotency-Key) of one write request.
Call = tuple[str, str, Mapping[str, str], Any, str]


def idempotency_key(
    tenant_id: str, method: str, path: str, params: Mapping[str, str], body: Any
) -> str:
    """A key derived from everything the request says: the same request always has the same key."""
    digest = hashlib.sha256()
    query = "&".join(f"{k}={params[k]}" for k in sorted(params))
    digest.update(f"{tenant_id}\n{method}\n{path}?{query}\n".encode())
    digest.update(encode_json(_canonical(body)))
    return f"target-xero-{digest.hexdigest()}"


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


class Exchange:
    """Sends one organisation's write requests and numbers repeated ones apart."""

    def __init__(self, organisation: Organisation) -> None:
        """Bind the organisation written into; the sending threads start on first use."""
        self.organisation = organisation
        self._sent: Counter[str] = Counter()
        self._pool: ThreadPoolExecutor | None = None

    def key(self, method: str, path: str, params: Mapping[str, str], body: Any) -> str:
        """The Idempotency-Key of a request."""
        # Two identical requests in one run are two documents (two equal payments); numbering
        # repeats keeps their keys apart, and a replay of the same input numbers them alike.
        key = idempotency_key(self.organisation.tenant_id, method, path, params, body)
        self._sent[key] += 1
        if self._sent[key] > 1:
            key = idempotency_key(
                self.organisation.tenant_id,
                method,
                path,
                params,
                {"repeat": self._sent[key], "body": body},
            )
        return key

    def send(
        self, requests: list[Call], *, ordered: bool = False
    ) -> Iterator[Mapping[str, Any] | RequestRejected]:
        """Send write requests, up to :data:`IN_FLIGHT` at once unless ``ordered``; the
        answers (or Xero's refusals) in request order."""
        if ordered or len(requests) < 2:
            return map(self.write_one, requests)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="target-xero-write")
        return self._pool.map(self.write_one, requests)

    def write_one(self, call: Call) -> Mapping[str, Any] | RequestRejected:
        """One request's answer, or Xero's refusal of it."""
        method, path, params, body, key = call
        try:
            return self.organisation.write(method, path, params, body, key)
        except RequestRejected as exc:
            return exc

    def close(self) -> None:
        """Stop the sending threads (end of run)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def chunked(items: list[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of up to ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]

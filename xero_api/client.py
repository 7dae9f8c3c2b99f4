"""The one HTTP client for Xero, shared by tap-xero and target-xero.

``XeroClient(settings, logger)`` owns a pooled ``httpx.Client`` (a timeout on every request),
the authenticator of the configured auth mode, the :class:`RateLimiter` and the :class:`Usage`
counters; it is thread-safe. ``request`` builds a :class:`Call` and hands it to the send path,
one layer per concern, outermost first (docs/client.md)::

    ErrorMapping -> Retries -> Authentication -> RateLimits -> Transport

A ``path`` ``"Invoices"`` means ``{api_url}/api.xro/2.0/Invoices``; one starting with ``/`` is
taken from the API root (``"/connections"``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx

from .auth import Authenticator, make_authenticator
from .codec import encode_json
from .dates import if_modified_since_header
from .error_mapping import ErrorMapping
from .exchange import Call, Layer, Sink, Transport, Upload
from .layers import Authentication, RateLimits, Retries
from .limits import RateLimiter
from .loopback import client_transport
from .postgres import shared_app_budget
from .redact import RedactingFilter
from .settings import XeroSettings
from .usage import Usage

__all__ = ["ACCOUNTING_PREFIX", "Sink", "Upload", "XeroClient", "XeroResponse"]

ACCOUNTING_PREFIX = "/api.xro/2.0/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


@dataclass(frozen=True)
class XeroResponse:
    """A successful answer: status, headers and the decoded JSON body (None when empty)."""

    status: int
    headers: httpx.Headers
    data: Any
    tenant_id: str | None = None

    @property
    def correlation_id(self) -> str | None:
        """Xero's ``Xero-Correlation-Id`` (quote it to Xero support)."""
        value: str | None = self.headers.get("xero-correlation-id")
        return value

    def records(self, envelope: str) -> list[Any]:
        """The list under ``envelope`` (e.g. ``"Invoices"``); empty when absent."""
        if isinstance(self.data, dict):
            value = self.data.get(envelope)
            if isinstance(value, list):
                return value
        return []

    @property
    def pagination(self) -> dict[str, Any] | None:
        """The ``pagination`` object of paged endpoints, when present."""
        if isinstance(self.data, dict) and isinstance(self.data.get("pagination"), dict):
            pagination: dict[str, Any] = self.data["pagination"]
            return pagination
        return None


class XeroClient:
    """Thread-safe Xero API client (see module docstring)."""

    def __init__(
        self,
        settings: XeroSettings,
        logger: logging.Logger | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        usage: Usage | None = None,
    ) -> None:
        self.settings = settings
        self.logger = logger or logging.getLogger("xero_api")
        if not any(isinstance(f, RedactingFilter) for f in self.logger.filters):
            self.logger.addFilter(RedactingFilter())
        self.usage = usage or Usage()
        self.app_budget = shared_app_budget(settings)
        self.limiter = RateLimiter(app_budget=self.app_budget)
        timeout = httpx.Timeout(
            settings.request_timeout_seconds, connect=min(10.0, settings.request_timeout_seconds)
        )
        self._http = httpx.Client(
            timeout=timeout,
            headers={"User-Agent": settings.user_agent},
            follow_redirects=False,
            **client_transport(
                settings.http_addresses,
                transport,
                httpx.Limits(max_connections=64, max_keepalive_connections=32),
            ),
        )
        self.auth: Authenticator = make_authenticator(settings, self._http, self.logger, sleep)
        self._send_path = self._layers(sleep)
        self._tenants_lock = threading.Lock()
        self._connections: list[dict[str, Any]] | None = None

    def _layers(self, sleep: Callable[[float], None]) -> Layer:
        """The send path, outermost first (see module docstring)."""
        settings, usage, logger = self.settings, self.usage, self.logger
        layer: Layer = Transport(self._http)
        layer = RateLimits(
            layer,
            limiter=self.limiter,
            usage=usage,
            logger=logger,
            max_wait_seconds=settings.max_rate_limit_wait_seconds,
        )
        layer = Authentication(layer, auth=self.auth, usage=usage, logger=logger)
        layer = Retries(
            layer, max_retries=settings.max_retries, usage=usage, logger=logger, sleep=sleep
        )
        return ErrorMapping(layer, usage=usage, api_url=settings.api_url)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()
        if self.app_budget is not None:
            self.app_budget.close()

    def __enter__(self) -> XeroClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ tenants
    def connections(self) -> list[dict[str, Any]]:
        """``GET /connections``: the tenants this token may use (cached per client)."""
        with self._tenants_lock:
            if self._connections is None:
                data = self.request("GET", "/connections").data
                self._connections = [c for c in data or [] if isinstance(c, dict)]
            return list(self._connections)

    def tenant_ids(self) -> list[str]:
        """The configured ``tenant_ids``, or every organisation from ``/connections``."""
        if self.settings.tenant_ids:
            return list(self.settings.tenant_ids)
        return [
            str(c["tenantId"])
            for c in self.connections()
            if c.get("tenantId") and c.get("tenantType", "ORGANISATION") == "ORGANISATION"
        ]

    # ------------------------------------------------------------------ requests
    def get(
        self,
        path: str,
        tenant_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        if_modified_since: str | date | datetime | None = None,
        priority: float | None = None,
    ) -> XeroResponse:
        """Shorthand for ``request("GET", ...)``."""
        return self.request(
            "GET",
            path,
            tenant_id,
            params=params,
            if_modified_since=if_modified_since,
            priority=priority,
        )

    def download(
        self, path: str, tenant_id: str | None, sink: Sink, *, priority: float | None = None
    ) -> XeroResponse:
        """GET a body (file content) streamed into ``sink``; the response's ``data`` is None."""
        return self.request("GET", path, tenant_id, priority=priority, sink=sink)

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (see module docstring)."""
        if path.startswith("/"):
            return self.settings.api_url + path
        return self.settings.api_url + ACCOUNTING_PREFIX + path

    def request(
        self,
        method: str,
        path: str,
        tenant_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        if_modified_since: str | date | datetime | None = None,
        priority: float | None = None,
        sink: Sink | None = None,
        upload: Upload | None = None,
    ) -> XeroResponse:
        """Send one logical request through the send path; the answer when it is a success.

        Sends ``Accept: application/json``, ``xero-tenant-id`` when a tenant is given,
        ``Idempotency-Key`` and ``If-Modified-Since`` (UTC, to the second) when asked; ``json``
        is encoded with Decimals as JSON numbers, and answers decode every non-integer number
        as a Decimal. ``priority``: the caller's work still to do (calls left in a paged read):
        the rate limiter serves a tenant's longest work first. ``sink``: stream a success body
        into it instead of decoding it (``data`` is then None). ``upload``: stream the body
        from it (``application/octet-stream``, its ``Content-Length``; each attempt opens it
        again, see :class:`Upload`). Writes (POST, PUT, PATCH) are
        sent again after they may have reached Xero only when they carry an
        ``Idempotency-Key``. Raises the :mod:`xero_api.errors` tree (docs/client.md).
        """
        method = method.upper()
        content = None if json is None else encode_json(json)
        call = Call(
            method,
            path,
            self.url(path),
            tenant_id,
            params,
            content,
            _request_headers(
                tenant_id, idempotency_key, if_modified_since, content, upload, headers
            ),
            priority,
            sink,
            retry_safe=method in _SAFE_METHODS or bool(idempotency_key),
            upload=upload,
        )
        exchange = self._send_path.send(call)
        assert exchange.response is not None
        return XeroResponse(exchange.status, exchange.response.headers, exchange.body, tenant_id)


def _request_headers(
    tenant_id: str | None,
    idempotency_key: str | None,
    if_modified_since: str | date | datetime | None,
    content: bytes | None,
    upload: Upload | None,
    extra: Mapping[str, str] | None,
) -> dict[str, str]:
    """The headers every attempt of a request carries (the layers add ``Authorization``)."""
    sent = {"Accept": "application/json"}
    if tenant_id:
        sent["xero-tenant-id"] = tenant_id
    if idempotency_key:
        sent["Idempotency-Key"] = idempotency_key
    if if_modified_since is not None:
        sent["If-Modified-Since"] = if_modified_since_header(if_modified_since)
    if content is not None:
        sent["Content-Type"] = "application/json"
    if upload is not None:
        sent["Content-Type"] = "application/octet-stream"
        sent["Content-Length"] = str(upload.length)
    if extra:
        sent.update(extra)
    return sent

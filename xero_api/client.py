"""The one HTTP client for Xero, shared by tap-xero and target-xero.

``XeroClient(settings, logger)`` owns an ``httpx.Client`` (connection pooling, a timeout on every
request), the authenticator of the configured auth mode, the :class:`RateLimiter` and the
:class:`Usage` counters. It is thread-safe: the tap prefetches pages and syncs tenants from
threads.

``request(method, path, tenant_id=None, params=None, json=None, headers=None,
idempotency_key=None, if_modified_since=None, priority=None) -> XeroResponse``:

* ``path`` ``"Invoices"`` means ``{api_url}/api.xro/2.0/Invoices``; a path starting with ``/``
  is taken from the API root (``"/connections"``).
* Sends ``Accept: application/json``, the bearer token, ``xero-tenant-id`` (when a tenant is
  given), ``Idempotency-Key`` and ``If-Modified-Since`` (UTC, second resolution) when asked.
* ``priority``: the caller's work still to do (e.g. calls left in a paged read); the rate
  limiter serves a tenant's longest work first (:mod:`xero_api.limits`).
* Bodies decode with Decimal for every non-integer number; ``json=`` bodies encode Decimals as
  JSON numbers (:mod:`xero_api.codec`). ``download(path, tenant_id, sink)`` streams a success
  body (an attachment's content) into a :class:`Sink` in chunks instead, so memory stays flat
  for any size; a body cut short of its ``Content-Length`` is retried like a dropped
  connection, the sink reset first.
* Retries: 5xx, timeouts, dropped connections and truncated bodies with jittered exponential
  backoff (0.5 s doubling, capped at 30 s, ``max_retries`` times). Writes (POST/PUT/PATCH) are
  retried after the request may have reached Xero only when they carry an ``Idempotency-Key``.
* 429: waits ``Retry-After`` (through the rate limiter, so every thread of that tenant waits);
  a day-limit wait longer than ``max_rate_limit_wait_seconds`` raises
  :class:`XeroRateLimitExhausted`.
* 401: renews the token once and repeats (up to 3 times while Xero says ``TokenExpired``);
  then :class:`XeroAuthError`. A 401
  ``AuthorizationUnsuccessful`` (the app may not use this API, e.g. Journals) and every 403 raise
  :class:`XeroAuthError` at once, naming the tenant, Xero's words and the probable scope.
* Other 4xx are never retried: 400 :class:`XeroValidationError`, 404 :class:`XeroNotFound`,
  anything else :class:`XeroHTTPError`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
import msgspec

from .auth import Authenticator, make_authenticator
from .codec import decode_json, encode_json
from .dates import if_modified_since_header
from .errors import (
    XeroAuthError,
    XeroConnectionError,
    XeroError,
    XeroHTTPError,
    XeroNotFound,
    XeroRateLimitExhausted,
    XeroServerError,
    XeroValidationError,
    validation_messages,
)
from .limits import RateLimiter
from .loopback import client_transport
from .postgres import shared_app_budget
from .redact import RedactingFilter
from .scopes import describe_scope, probable_scope
from .settings import XeroSettings
from .usage import Usage

__all__ = ["ACCOUNTING_PREFIX", "Sink", "XeroClient", "XeroResponse"]

ACCOUNTING_PREFIX = "/api.xro/2.0/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
_MAX_RATE_LIMIT_RETRIES = 50
_MAX_RENEWALS = 3
_BACKOFF_BASE = 0.5
_BACKOFF_CAP = 30.0


class Sink(Protocol):
    """Where :meth:`XeroClient.download` writes a body: ``reset()`` before every attempt."""

    def reset(self) -> None:
        """Forget what an earlier attempt wrote."""

    def write(self, chunk: bytes) -> None:
        """Take the next chunk of the body."""


_CHUNK = 1 << 16


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


@dataclass
class _Outcome:
    response: httpx.Response | None = None
    body: Any = None
    fault: str | None = None  # transport fault or undecodable body
    may_have_reached_xero: bool = True


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
        self._sleep = sleep
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
        self._tenants_lock = threading.Lock()
        self._connections: list[dict[str, Any]] | None = None

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
    ) -> XeroResponse:
        """Send one logical request with retries, pacing and auth (see module docstring)."""
        method = method.upper()
        url = self.url(path)
        base_headers = {"Accept": "application/json"}
        if tenant_id:
            base_headers["xero-tenant-id"] = tenant_id
        if idempotency_key:
            base_headers["Idempotency-Key"] = idempotency_key
        if if_modified_since is not None:
            base_headers["If-Modified-Since"] = if_modified_since_header(if_modified_since)
        content: bytes | None = None
        if json is not None:
            content = encode_json(json)
            base_headers["Content-Type"] = "application/json"
        if headers:
            base_headers.update(headers)
        retry_safe = method in _SAFE_METHODS or bool(idempotency_key)
        where = f"{method} {path}" + (f" tenant={tenant_id}" if tenant_id else "")

        faults = 0
        rate_limited = 0
        renewals = 0
        while True:
            token = self.auth.token()
            outcome = self._send(
                method, url, tenant_id, params, content, base_headers, token, priority, sink
            )
            response = outcome.response

            if outcome.fault is not None:
                can_retry = faults < self.settings.max_retries and (
                    retry_safe or not outcome.may_have_reached_xero
                )
                if not can_retry:
                    self.usage.fault(tenant_id, outcome.fault)
                    raise XeroConnectionError(
                        f"{where} failed: {outcome.fault}"
                        + (f" after {faults} retries" if faults else "")
                        + (
                            ""
                            if retry_safe
                            else " (a write without Idempotency-Key is not retried)"
                        )
                        + (
                            f"; check the setting api_url ({self.settings.api_url})"
                            if not outcome.may_have_reached_xero
                            else ""
                        )
                    )
                faults += 1
                self._backoff(tenant_id, faults, outcome.fault, where, None)
                continue

            assert response is not None
            status = response.status_code
            if status < 300 or status == 304:
                return XeroResponse(status, response.headers, outcome.body, tenant_id)

            if status == 429:
                rate_limited += 1
                self._rate_limited(tenant_id, response, where, rate_limited)
                continue

            if status == 401:
                detail = _problem_detail(outcome.body)
                # Renew once; again only while Xero says the (new) token merely expired.
                limit = _MAX_RENEWALS if "tokenexpired" in detail.lower() else 1
                if renewals < limit and "authorizationunsuccessful" not in detail.lower():
                    renewals += 1
                    self.usage.retry(tenant_id, "http_401")
                    self.logger.info("%s: 401 (%s); renewing the access token", where, detail)
                    self.auth.renew(token)
                    continue
                self.usage.fault(tenant_id, "http_401")
                raise self._auth_error(status, method, path, tenant_id, outcome.body)

            if status == 403:
                self.usage.fault(tenant_id, "http_403")
                raise self._auth_error(status, method, path, tenant_id, outcome.body)

            if status >= 500:
                if faults < self.settings.max_retries and retry_safe:
                    faults += 1
                    retry_after = _retry_after(response.headers)
                    self._backoff(tenant_id, faults, f"http_{status}", where, retry_after)
                    continue
                self.usage.fault(tenant_id, f"http_{status}")
                raise XeroServerError(
                    f"{where}: Xero answered {status} {_summary(outcome.body)}"
                    + (f" after {faults} retries" if faults else ""),
                    status=status,
                    method=method,
                    path=path,
                    tenant_id=tenant_id,
                    body=outcome.body,
                    correlation_id=response.headers.get("xero-correlation-id"),
                )

            self.usage.fault(tenant_id, f"http_{status}")
            raise self._http_error(status, method, path, tenant_id, outcome.body, response)

    # ------------------------------------------------------------------ internals
    def _send(
        self,
        method: str,
        url: str,
        tenant_id: str | None,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str],
        token: str,
        priority: float | None,
        sink: Sink | None = None,
    ) -> _Outcome:
        with self.limiter.slot(tenant_id, priority) as wait_for_budget:
            before = time.monotonic()
            sent_at = wait_for_budget()
            after = time.monotonic()
            if after - before > 0.001:
                self.usage.waited(tenant_id, before, after)
            self.usage.call(tenant_id)
            observed = False
            sent = {**headers, "Authorization": f"Bearer {token}"}
            try:
                if sink is None:
                    response = self._http.request(
                        method, url, params=params, content=content, headers=sent
                    )
                    self._observe_limits(tenant_id, sent_at, response.headers)
                    observed = True
                else:
                    with self._http.stream(
                        method, url, params=params, content=content, headers=sent
                    ) as response:
                        self._observe_limits(tenant_id, sent_at, response.headers)
                        observed = True
                        if response.status_code < 300:
                            return _streamed(response, sink)
                        response.read()
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                return _Outcome(fault=_fault_name(exc), may_have_reached_xero=False)
            except httpx.TransportError as exc:
                return _Outcome(fault=_fault_name(exc))
            finally:
                if not observed:
                    self.limiter.abandon(tenant_id, sent_at)
        body: Any = None
        if response.content:
            try:
                body = decode_json(response.content)
            except msgspec.DecodeError:
                if response.status_code < 300:
                    return _Outcome(response=response, fault="truncated_or_invalid_json")
                body = response.text
        return _Outcome(response=response, body=body)

    def _observe_limits(
        self, tenant_id: str | None, sent_at: float, headers: httpx.Headers
    ) -> None:
        minute = _int_header(headers, "x-minlimit-remaining")
        day = _int_header(headers, "x-daylimit-remaining")
        app = _int_header(headers, "x-appminlimit-remaining")
        if day is not None:
            self.usage.day_quota(tenant_id, day)
        self.limiter.observe(tenant_id, sent_at, minute, day, app)

    def _backoff(
        self,
        tenant_id: str | None,
        attempt: int,
        fault: str,
        where: str,
        retry_after: float | None,
    ) -> None:
        delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, _BACKOFF_CAP))
        self.usage.retry(tenant_id, fault)
        now = time.monotonic()
        self.usage.waited(tenant_id, now, now + delay)
        self.logger.warning(
            "%s: %s; retry %d/%d in %.2fs", where, fault, attempt, self.settings.max_retries, delay
        )
        self._sleep(delay)

    def _rate_limited(
        self, tenant_id: str | None, response: httpx.Response, where: str, count: int
    ) -> None:
        problem = (response.headers.get("x-rate-limit-problem") or "").strip().lower()
        retry_after = _retry_after(response.headers)
        self.usage.rate_limited(tenant_id, problem)
        if problem in ("day", "daily"):
            wait = retry_after if retry_after is not None else float("inf")
            if wait > self.settings.max_rate_limit_wait_seconds:
                seconds = wait if wait != float("inf") else 86400.0
                retry_at = datetime.now(UTC) + timedelta(seconds=seconds)
                raise XeroRateLimitExhausted(tenant_id, seconds, retry_at)
        if count > _MAX_RATE_LIMIT_RETRIES:
            raise XeroHTTPError(
                f"{where}: still rate limited (429 {problem or 'unknown'}) after {count} waits",
                status=429,
                method=where.split()[0],
                path=where.split()[1],
                tenant_id=tenant_id,
            )
        if retry_after is None:
            retry_after = min(_BACKOFF_CAP, _BACKOFF_BASE * 2**count)
        self.logger.info(
            "%s: rate limited (%s); waiting %.1fs as Retry-After says",
            where,
            problem or "unknown",
            retry_after,
        )
        self.limiter.block(tenant_id, problem, retry_after)

    def _auth_error(
        self, status: int, method: str, path: str, tenant_id: str | None, body: Any
    ) -> XeroAuthError:
        detail = _problem_detail(body)
        title = _problem_field(body, "title")
        scope = probable_scope(method, path)
        said = " / ".join(x for x in (title, detail) if x) or "no details"
        who = f"tenant {tenant_id}" if tenant_id else "this connection"
        if status == 403:
            advice = (
                f"check that {who} is connected to this app (GET /connections lists them), that "
                "tenant_ids is right, and that the user's role may see this data"
            )
        elif "authorizationunsuccessful" in detail.lower():
            advice = "the app is not permitted to use this API for " + who
            if path.strip("/").lower().startswith("journals"):
                advice += (
                    " (Journals need accounting.journals.read and, since 2026, an Advanced-tier "
                    "app; custom connections created since April 2026 cannot read Journals)"
                )
        else:
            advice = "the token was refused even after renewing it; re-authorise with xero-auth"
        if scope:
            advice += f"; the probable missing scope is {describe_scope(scope)}"
        return XeroAuthError(
            f"Xero refused {method} {path} for {who} ({status}: {said}); {advice}",
            status=status,
            tenant_id=tenant_id,
            detail=detail or None,
            scope=scope,
        )

    def _http_error(
        self,
        status: int,
        method: str,
        path: str,
        tenant_id: str | None,
        body: Any,
        response: httpx.Response,
    ) -> XeroError:
        cls: type[XeroHTTPError] = XeroHTTPError
        if status == 400:
            cls = XeroValidationError
        elif status == 404:
            cls = XeroNotFound
        who = f" tenant={tenant_id}" if tenant_id else ""
        return cls(
            f"{method} {path}{who}: Xero answered {status} {_summary(body)}",
            status=status,
            method=method,
            path=path,
            tenant_id=tenant_id,
            body=body,
            correlation_id=response.headers.get("xero-correlation-id"),
        )


def _fault_name(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "tls_certificate_not_trusted"
    names: dict[type[Exception], str] = {
        httpx.ConnectTimeout: "connect_timeout",
        httpx.ReadTimeout: "read_timeout",
        httpx.WriteTimeout: "write_timeout",
        httpx.PoolTimeout: "pool_timeout",
        httpx.ConnectError: "connect_error",
        httpx.RemoteProtocolError: "dropped_connection",
        httpx.ReadError: "read_error",
    }
    return names.get(type(exc), type(exc).__name__)


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _problem_field(body: Any, name: str) -> str:
    if isinstance(body, dict):
        for key, value in body.items():
            if key.lower() == name and isinstance(value, str):
                return value
    return ""


def _problem_detail(body: Any) -> str:
    return _problem_field(body, "detail") or _problem_field(body, "message")


def _summary(body: Any) -> str:
    messages = validation_messages(body)
    if not messages:
        return ""
    text = "; ".join(messages[:5])
    if len(messages) > 5:
        text += f"; and {len(messages) - 5} more"
    return f"({text})"


def _streamed(response: httpx.Response, sink: Sink) -> _Outcome:
    """Copy a success body into ``sink`` chunk by chunk; a short body is a fault to retry."""
    sink.reset()
    received = 0
    for chunk in response.iter_bytes(_CHUNK):
        sink.write(chunk)
        received += len(chunk)
    expected = response.headers.get("content-length")
    if expected is not None and expected.isdigit() and int(expected) != received:
        return _Outcome(response=response, fault="truncated_body")
    return _Outcome(response=response)

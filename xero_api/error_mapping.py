"""The outermost layer of the client's send path: an outcome that is not a success becomes the
exception of :mod:`xero_api.errors` that says what went wrong and what to do about it."""

from __future__ import annotations

from .errors import (
    XeroAuthError,
    XeroConnectionError,
    XeroHTTPError,
    XeroNotFound,
    XeroServerError,
    XeroValidationError,
    problem_detail,
    problem_field,
    validation_messages,
)
from .exchange import Call, Exchange, Layer
from .scopes import describe_scope, probable_scope
from .usage import Usage

__all__ = ["ErrorMapping", "auth_error", "connection_error", "status_error"]


class ErrorMapping:
    """Returns successes (2xx, 304) and raises for everything else, counting it as a fault."""

    def __init__(self, inner: Layer, *, usage: Usage, api_url: str) -> None:
        self._inner = inner
        self._usage = usage
        self._api_url = api_url

    def send(self, call: Call) -> Exchange:
        """Send ``call``; the outcome when it is a success, else raise."""
        exchange = self._inner.send(call)
        if exchange.fault is not None:
            self._usage.fault(call.tenant_id, exchange.fault)
            raise connection_error(call, exchange, self._api_url)
        status = exchange.status
        if status < 300 or status == 304:
            return exchange
        self._usage.fault(call.tenant_id, f"http_{status}")
        raise status_error(call, exchange)


def connection_error(call: Call, exchange: Exchange, api_url: str) -> XeroConnectionError:
    """The fault, the retries spent, and why it was not retried (more)."""
    message = f"{call.where} failed: {exchange.fault}"
    if call.retries:
        message += f" after {call.retries} retries"
    if not call.retry_safe:
        message += " (a write without Idempotency-Key is not retried)"
    if not exchange.may_have_reached_xero:
        message += f"; check the setting api_url ({api_url})"
    return XeroConnectionError(message)


def status_error(call: Call, exchange: Exchange) -> XeroAuthError | XeroHTTPError:
    """The exception for an answer that is not a success, by its status."""
    status = exchange.status
    if status in (401, 403):
        return auth_error(call, exchange)
    cls: type[XeroHTTPError] = XeroHTTPError
    if status == 400:
        cls = XeroValidationError
    elif status == 404:
        cls = XeroNotFound
    elif status >= 500:
        cls = XeroServerError
    message = f"{call.where}: Xero answered {status} {_summary(exchange)}"
    if status >= 500 and call.retries:
        message += f" after {call.retries} retries"
    assert exchange.response is not None
    return cls(
        message,
        status=status,
        method=call.method,
        path=call.path,
        tenant_id=call.tenant_id,
        body=exchange.body,
        correlation_id=exchange.response.headers.get("xero-correlation-id"),
    )


def auth_error(call: Call, exchange: Exchange) -> XeroAuthError:
    """A 401/403: the tenant, Xero's words, the probable missing scope, and what to check."""
    status, body = exchange.status, exchange.body
    detail = problem_detail(body)
    said = " / ".join(x for x in (problem_field(body, "title"), detail) if x) or "no details"
    who = f"tenant {call.tenant_id}" if call.tenant_id else "this connection"
    scope = probable_scope(call.method, call.path)
    advice = _auth_advice(status, detail, call.path, who)
    if scope:
        advice += f"; the probable missing scope is {describe_scope(scope)}"
    return XeroAuthError(
        f"Xero refused {call.method} {call.path} for {who} ({status}: {said}); {advice}",
        status=status,
        tenant_id=call.tenant_id,
        detail=detail or None,
        scope=scope,
    )


def _auth_advice(status: int, detail: str, path: str, who: str) -> str:
    if status == 403:
        return (
            f"check that {who} is connected to this app (GET /connections lists them), that "
            "tenant_ids is right, and that the user's role may see this data"
        )
    if "authorizationunsuccessful" not in detail.lower():
        return "the token was refused even after renewing it; re-authorise with xero-auth"
    advice = "the app is not permitted to use this API for " + who
    if path.strip("/").lower().startswith("journals"):
        # Xero's documentation: Journals need the journals scope and, since 2026, an
        # Advanced-tier app; custom connections created since April 2026 cannot read them.
        advice += (
            " (Journals need accounting.journals.read and, since 2026, an Advanced-tier "
            "app; custom connections created since April 2026 cannot read Journals)"
        )
    return advice


def _summary(exchange: Exchange) -> str:
    messages = validation_messages(exchange.body)
    if not messages:
        return ""
    text = "; ".join(messages[:5])
    if len(messages) > 5:
        text += f"; and {len(messages) - 5} more"
    return f"({text})"

"""The exceptions of the Xero client: one tree under :class:`XeroError`.

::

    XeroError                      base class: every error the client raises
    ├── XeroConfigError            a setting is missing or invalid (names the setting)
    ├── XeroAuthError              Xero refused the credentials or the tenant (401, 403)
    │   └── XeroTokenError         the identity server refused a token request (invalid_grant …)
    ├── XeroRateLimitExhausted     the day limit is spent and the wait is longer than allowed
    ├── XeroConnectionError        no answer: timeouts, dropped connections, after every retry
    ├── UploadLengthError          an upload's source gave more or fewer bytes than it declared
    └── XeroHTTPError              any other answer that is not a success
        ├── XeroValidationError    400: Xero refused the request and says why
        ├── XeroNotFound           404: no such resource or ID
        ├── XeroRateLimited        429 still, after every wait
        └── XeroServerError        5xx, after every retry

Every message is one line and passes through :func:`~xero_api.redact.redact`, so no token or
secret reaches it. :mod:`xero_api.error_mapping` maps answers to these classes; the rate
limits layer (:mod:`xero_api.layers`) raises the two rate-limit ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .redact import redact

__all__ = [
    "UploadLengthError",
    "XeroAuthError",
    "XeroConfigError",
    "XeroConnectionError",
    "XeroError",
    "XeroHTTPError",
    "XeroNotFound",
    "XeroRateLimitExhausted",
    "XeroRateLimited",
    "XeroServerError",
    "XeroTokenError",
    "XeroValidationError",
]

REAUTHORISE_ADVICE = (
    "re-authorise with `xero-auth --client-id <id>` (it writes a fresh token set to the token "
    "store), then run again"
)


class XeroError(Exception):
    """Base class of every error this package raises; catch it to catch them all."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(" ".join(message.split())))

    @property
    def message(self) -> str:
        """The one-line, redacted message."""
        return str(self.args[0])


class XeroConfigError(XeroError):
    """A setting is missing or invalid, or what it points at (a token store, a database)
    cannot be used; raised before or instead of a call to Xero. ``setting`` names it."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"config setting '{setting}': {problem}")


class XeroAuthError(XeroError):
    """Xero refused the credentials or the tenant: a 403, or a 401 that renewing the token
    did not cure. The message names the tenant, Xero's words and the probable missing
    ``scope``; never retried."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        tenant_id: str | None = None,
        detail: str | None = None,
        scope: str | None = None,
    ) -> None:
        self.status = status
        self.tenant_id = tenant_id
        self.detail = detail
        self.scope = scope
        super().__init__(message)


class XeroTokenError(XeroAuthError):
    """The identity server refused a token request (``invalid_grant``, ``invalid_client`` …);
    the message says how to re-authorise."""

    def __init__(self, message: str, *, error: str | None = None) -> None:
        self.error = error
        super().__init__(message, status=400, detail=error)


class XeroRateLimitExhausted(XeroError):
    """Xero's day limit for a tenant is spent and its ``Retry-After`` is longer than
    ``max_rate_limit_wait_seconds``; ``retry_at`` says when to run again."""

    def __init__(self, tenant_id: str | None, retry_after: float, retry_at: datetime) -> None:
        self.tenant_id = tenant_id
        self.retry_after = retry_after
        self.retry_at = retry_at
        hours = retry_after / 3600
        super().__init__(
            f"Xero's daily API limit is used up for tenant {tenant_id or '(custom connection)'}; "
            f"try again after {retry_at.strftime('%Y-%m-%d %H:%M:%S')} UTC "
            f"(in {hours:.1f} h). The run stopped cleanly; bookmarks reached so far are kept. "
            "Raise max_rate_limit_wait_seconds to wait instead."
        )


class XeroConnectionError(XeroError):
    """No usable answer (timeouts, refused or dropped connections, bodies cut short) after
    every retry, or at once for a write that may have reached Xero without an
    ``Idempotency-Key``."""


class UploadLengthError(XeroError):
    """An upload's source gave another number of bytes than it declared, or a one-shot
    stream was asked for again; the request stops (Xero would take a short body as the
    whole file)."""


class XeroHTTPError(XeroError):
    """Xero answered with a status that is not a success and that the client does not retry
    or has stopped retrying; ``status``, ``body`` and ``correlation_id`` say what it was. Other
    4xx than those below raise this class itself."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        path: str,
        tenant_id: str | None = None,
        body: Any = None,
        correlation_id: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.tenant_id = tenant_id
        self.body = body
        self.correlation_id = correlation_id
        super().__init__(message)


class XeroValidationError(XeroHTTPError):
    """400: Xero rejected the request; ``messages`` lists what it said, ``elements`` the
    submitted elements echoed back with their ``ValidationErrors`` (writes)."""

    @property
    def messages(self) -> list[str]:
        """Every message in the body: top-level ``Message`` and each element's errors."""
        return validation_messages(self.body)

    @property
    def elements(self) -> list[dict[str, Any]]:
        """The echoed elements of a write, in request order (empty for other 400s)."""
        if isinstance(self.body, dict):
            elements = self.body.get("Elements")
            if isinstance(elements, list):
                return [e for e in elements if isinstance(e, dict)]
        return []


class XeroNotFound(XeroHTTPError):
    """404: the resource or ID does not exist (also Xero's answer to over-long query strings).
    Never retried."""


class XeroServerError(XeroHTTPError):
    """5xx that persisted through every retry (a write without ``Idempotency-Key``: at
    once)."""


class XeroRateLimited(XeroHTTPError):
    """429 that persisted through every wait: the limits never let the call through."""


def problem_field(body: Any, name: str) -> str:
    """The string ``name`` (any case: ``Detail``, ``detail``) of an error body; "" if none."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key.lower() == name and isinstance(value, str):
                return value
    return ""


def problem_detail(body: Any) -> str:
    """What an error body says went wrong (``Detail``, else ``Message``); "" if nothing."""
    return problem_field(body, "detail") or problem_field(body, "message")


def validation_messages(body: Any) -> list[str]:
    """Xero's messages from an error body (``Message``, ``Detail``, each ``ValidationErrors``)."""
    messages: list[str] = []
    if isinstance(body, dict) and isinstance(body.get("invalidFields"), list):
        # Payroll UK and NZ's Problem: each refused field with its reason (the ``detail``
        # only says "Validation error occurred.").
        for problem in body["invalidFields"]:
            if isinstance(problem, dict) and isinstance(problem.get("reason"), str):
                messages.append(
                    f"{problem.get('name') or ''}: {problem['reason']}".removeprefix(": ")
                )
        if messages:
            return messages
    if isinstance(body, dict):
        for key in ("Message", "message", "Detail", "detail", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value and value not in messages:
                messages.append(value)
        # The Fixed Assets API's 400: ``fieldValidationErrors``, one per refused field.
        for problem in body.get("fieldValidationErrors") or ():
            text = problem.get("localisedMessage") if isinstance(problem, dict) else None
            if isinstance(text, str) and text not in messages:
                line = f"{problem.get('fieldName') or ''}: {text}"
                if line not in messages:
                    messages.append(line.removeprefix(": "))
        # The Projects API's 400: ``modelState`` maps each refused field to its messages.
        model_state = body.get("modelState")
        for field, problems in (model_state if isinstance(model_state, dict) else {}).items():
            for text in problems if isinstance(problems, list) else ():
                line = f"{field}: {text}" if field else str(text)
                if line not in messages:
                    messages.append(line)
        for element in body.get("Elements") or ():
            if not isinstance(element, dict):
                continue
            for problem in element.get("ValidationErrors") or ():
                if isinstance(problem, dict):
                    text = problem.get("Message")
                    if isinstance(text, str) and text not in messages:
                        messages.append(text)
    elif isinstance(body, list):
        # The Files API's 400: a list of ``{"type", "title", "detail"}`` problems.
        for problem in body:
            text = problem_detail(problem) or problem_field(problem, "title")
            if text and text not in messages:
                messages.append(text)
    elif isinstance(body, str) and body.strip():
        messages.append(body.strip()[:500])
    return messages

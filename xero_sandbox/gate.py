"""The gate before the APIs: JSON only, auth, tenant, scopes, faults, limits, latency."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xero_sandbox.api_collections import API_PREFIXES, API_SCOPES
from xero_sandbox.faults import OUTAGE_MESSAGE, Faults
from xero_sandbox.identity import (
    AuthFailure,
    Authority,
    EdgeContext,
    Principal,
    auth_failure_response,
    authority_for,
    problem_body,
)
from xero_sandbox.limits import Admission, Limits

__all__ = ["API_PREFIX", "Gate", "accepts_json", "scope_allows"]

API_PREFIX = "/api.xro/2.0"

_TRANSACTIONS = ("accounting.transactions",)
# First path segment (lower case) -> scope families that cover it, as Xero's scopes do. A family
# covers reads with itself or its ``.read`` variant, writes with itself; ``.read`` families are
# read-only.
_ENDPOINT_SCOPES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("invoices", "creditnotes", "linkedtransactions", "purchaseorders", "quotes",
         "repeatinginvoices"),
        (*_TRANSACTIONS, "accounting.invoices"),
    ),
    "items": (*_TRANSACTIONS, "accounting.invoices", "accounting.settings"),
    **dict.fromkeys(
        ("batchpayments", "overpayments", "payments", "prepayments"),
        (*_TRANSACTIONS, "accounting.payments"),
    ),
    **dict.fromkeys(
        ("banktransactions", "banktransfers"), (*_TRANSACTIONS, "accounting.banktransactions")
    ),
    "manualjournals": (*_TRANSACTIONS, "accounting.manualjournals"),
    **dict.fromkeys(
        ("expenseclaims", "receipts"), (*_TRANSACTIONS, "accounting.classicexpenses")
    ),
    **dict.fromkeys(("contacts", "contactgroups"), ("accounting.contacts",)),
    **dict.fromkeys(
        ("accounts", "brandingthemes", "currencies", "organisation", "taxrates",
         "trackingcategories", "users", "invoicereminders", "setup"),
        ("accounting.settings",),
    ),
    "journals": ("accounting.journals.read",),
    "budgets": ("accounting.budgets.read",),
}  # fmt: skip
_REPORT_SCOPES: dict[str, str] = {
    "trialbalance": "accounting.reports.trialbalance.read",
    "profitandloss": "accounting.reports.profitandloss.read",
    "balancesheet": "accounting.reports.balancesheet.read",
    "banksummary": "accounting.reports.banksummary.read",
    "budgetsummary": "accounting.reports.budgetsummary.read",
    "executivesummary": "accounting.reports.executivesummary.read",
    "agedpayablesbycontact": "accounting.reports.aged.read",
    "agedreceivablesbycontact": "accounting.reports.aged.read",
    "tenninetynine": "accounting.reports.tenninetynine.read",
}


def _families(segments: list[str]) -> tuple[str, ...] | None:
    if not segments:
        return None
    head = segments[0].lower()
    if head == "reports":
        report = segments[1].lower() if len(segments) > 1 else ""
        granular = _REPORT_SCOPES.get(report)
        return ("accounting.reports.read", granular) if granular else ("accounting.reports.read",)
    if len(segments) >= 3 and segments[2].lower() == "attachments":
        return ("accounting.attachments",)
    return _ENDPOINT_SCOPES.get(head)


# Base path (lower case) of every API behind the gate -> the scope family of each first path
# segment ("" for all of them; None: Accounting, whose families are in the tables above).
_PREFIX_FAMILIES: dict[str, dict[str, str] | None] = {
    API_PREFIX.lower(): None,
    **{prefix.lower(): API_SCOPES[api] for api, prefix in API_PREFIXES.items()},
}


def _api_prefix(path: str) -> str | None:
    """The base path (lower case) of the API ``path`` is under, or None."""
    for prefix in _PREFIX_FAMILIES:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return None


def scope_allows(
    scopes: Iterable[str], method: str, api_path: str, prefix: str = API_PREFIX
) -> bool:
    """Whether ``scopes`` cover ``method`` on a path relative to the API's base ``prefix``.

    Accounting paths the table does not know are allowed, so the API itself can answer (e.g.
    with a 404).
    """
    by_segment = _PREFIX_FAMILIES.get(prefix.lower())
    segments = [part for part in api_path.split("/") if part]
    families: tuple[str, ...] | None
    if by_segment is None:
        families = _families(segments)
    else:
        head = segments[0].lower() if segments else ""
        family = by_segment.get(head) or by_segment.get("")
        families = (family,) if family else None
    if families is None:
        return True
    granted = set(scopes)
    reading = method.upper() in ("GET", "HEAD")
    for family in families:
        if family.endswith(".read") and not reading:
            continue
        if family in granted:
            return True
        if reading and not family.endswith(".read") and f"{family}.read" in granted:
            return True
    return False


def accepts_json(accept: str | None) -> bool:
    """True when an ``Accept`` header explicitly allows ``application/json``."""
    for item in (accept or "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media.lower() != "application/json":
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            return True
    return False


def _not_json() -> Response:
    body = problem_body(
        406,
        "xero-sandbox answers only JSON: send 'Accept: application/json' "
        "(Xero answers XML to requests that do not ask for JSON)",
    )
    return JSONResponse(body, status_code=406, headers={"Xero-Correlation-Id": body["Instance"]})


def _too_many(admission: Admission) -> Response:
    headers = dict(admission.headers)
    headers["Retry-After"] = str(admission.retry_after or 1)
    headers["X-Rate-Limit-Problem"] = admission.problem or "minute"
    return PlainTextResponse(
        "oauth_problem=rate limit exceeded"
        "&oauth_problem_advice=please wait before retrying the xero api",
        status_code=429,
        headers=headers,
    )


class Gate:
    """ASGI middleware applying Xero's edge behaviour to the APIs.

    For ``/api.xro/2.0/...`` and the other APIs' base paths (``/projects.xro/2.0``,
    ``/assets.xro/1.0``: scope ``<api>`` or ``<api>.read``; ``/payroll.xro/1.0``:
    ``payroll.employees``, ``.settings``, ``.payruns``, ``.payslip`` or ``.timesheets`` by
    endpoint, or their ``.read``) it, in order:

    1. refuses a request whose ``Accept`` does not name ``application/json`` (406, see below);
    2. checks the Bearer token (401 ``AuthenticationUnsuccessful`` or ``TokenExpired``);
    3. resolves ``xero-tenant-id`` against the token's connections (403
       ``AuthenticationUnsuccessful``) and sets ``scope["state"]["tenant_id"]`` (and
       ``client_id``) for the handlers;
    4. checks that the token's scopes cover the endpoint (401 ``AuthorizationUnsuccessful``);
    5. draws a seeded fault (``faults.py``);
    6. applies the rate limits (``limits.py``), adding Xero's ``X-*Limit-Remaining`` headers;
    7. delays ``http.response.start`` by ``--latency-ms`` plus ``latency_per_record_ms`` times the
       ``scope["state"]["record_count"]`` the read handler set, in sandbox time.

    ``/connections`` passes through the app-minute limit only (tenantless calls carry only
    ``X-AppMinLimit-Remaining``); everything else passes untouched.

    Xero answers XML unless asked for JSON; the sandbox speaks only JSON, so instead of XML it
    answers 406 with Xero's problem body saying ``Accept: application/json`` is required.
    """

    def __init__(self, app: ASGIApp, ctx: EdgeContext) -> None:
        self.app = app
        self.ctx = ctx
        self.limits = Limits(ctx.config, ctx.clock)
        self.faults = Faults(ctx.config)

    @property
    def authority(self) -> Authority:
        """The sandbox's token and connection registry."""
        return authority_for(self.ctx)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._on_startup(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        if server and server[1] is not None:
            host = f"[{server[0]}]" if ":" in str(server[0]) else server[0]
            self.ctx.webhooks.learn_base_url(f"{scope.get('scheme', 'http')}://{host}:{server[1]}")
        path = str(scope["path"]).lower()
        prefix = _api_prefix(path)
        if prefix is not None:
            await self._api(scope, receive, send, prefix)
        elif path == "/connections" or path.startswith("/connections/"):
            await self._tenantless(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _on_startup(self, send: Send) -> Send:
        """Start webhook delivery (and its handshake) once the app has started."""

        async def watched(message: Message) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                self.ctx.webhooks.start()

        return watched

    async def _admitted(
        self, tenant_id: str | None, scope: Scope, receive: Receive, send: Send, client_id: str = ""
    ) -> Admission | None:
        """Count the call against the limits; None once a 429 has been answered instead."""
        admission = self.limits.admit(tenant_id, client_id or self.ctx.config.client_id)
        if not admission.allowed:
            fallback = "appminute" if tenant_id is None else "minute"
            self.ctx.stats.count_rate_limited(tenant_id, admission.problem or fallback)
            await _too_many(admission)(scope, receive, send)
            return None
        self.ctx.stats.count_call(tenant_id)
        return admission

    async def _tenantless(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission = await self._admitted(None, scope, receive, send)
        if admission is None:
            return
        await self.app(scope, receive, self._decorate(scope, send, admission.headers))

    async def _api(self, scope: Scope, receive: Receive, send: Send, prefix: str) -> None:
        headers = Headers(scope=scope)
        if not accepts_json(headers.get("accept")):
            await _not_json()(scope, receive, send)
            return
        try:
            principal, tenant_id = self._authorised(scope, headers, prefix)
        except AuthFailure as failure:
            await auth_failure_response(failure)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["tenant_id"] = tenant_id
        state["client_id"] = principal.client_id

        fault = self.faults.draw()
        refusal = self._refused_by_fault(fault, tenant_id, principal)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        admission = await self._admitted(tenant_id, scope, receive, send, principal.client_id)
        if admission is None:
            return
        try:
            await self._answer(scope, receive, send, fault, tenant_id, admission.headers)
        finally:
            self.limits.release(tenant_id)

    def _authorised(self, scope: Scope, headers: Headers, prefix: str) -> tuple[Principal, str]:
        """Who calls, for which tenant; raises AuthFailure unless their scopes cover the call."""
        authority = self.authority
        principal = authority.authenticate(headers.get("authorization"))
        tenant_id = authority.tenant_for(principal, headers.get("xero-tenant-id"))
        api_path = str(scope["path"])[len(prefix) :]
        if not scope_allows(principal.scopes, str(scope["method"]), api_path, prefix):
            raise AuthFailure(401, "AuthorizationUnsuccessful")
        return principal, tenant_id

    def _refused_by_fault(
        self, fault: str | None, tenant_id: str, principal: Principal
    ) -> Response | None:
        """The answer of a fault that refuses the call before it is admitted, else None."""
        if fault == "token_expired":
            self.ctx.stats.count_fault(tenant_id, fault)
            return auth_failure_response(AuthFailure(401, self.authority.expire_now(principal)))
        if fault == "rate_limit":
            self.ctx.stats.count_fault(tenant_id, fault)
            return _too_many(self.limits.minute_breach(tenant_id, principal.client_id))
        return None

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        fault: str | None,
        tenant_id: str,
        limit_headers: dict[str, str],
    ) -> None:
        """An admitted call: the API's answer, or the fault drawn for it."""
        if fault is not None:
            self.ctx.stats.count_fault(tenant_id, fault)
        if fault == "server_error":
            body = problem_body(500, "An unexpected error occurred (xero-sandbox fault)")
            answer: Response = JSONResponse(body, status_code=500, headers=limit_headers)
            await answer(scope, receive, send)
        elif fault == "outage":
            answer = PlainTextResponse(OUTAGE_MESSAGE, status_code=503, headers=limit_headers)
            await answer(scope, receive, send)
        elif fault == "dropped_connection":
            await self.app(scope, receive, self._truncate(send, limit_headers))
        else:
            if fault == "slow_response":
                await self.ctx.clock.sleep(self.ctx.config.slow_response_s)
            await self.app(scope, receive, self._decorate(scope, send, limit_headers))

    def _decorate(self, scope: Scope, send: Send, extra: dict[str, str]) -> Send:
        """Add the limit headers and hold the response start for the configured latency."""
        config = self.ctx.config

        async def decorated(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(extra)
                records = int(scope.get("state", {}).get("record_count", 0) or 0)
                delay_ms = config.latency_ms + config.latency_per_record_ms * records
                if delay_ms > 0:
                    await self.ctx.clock.sleep(delay_ms / 1000.0)
            await send(message)

        return decorated

    @staticmethod
    def _truncate(send: Send, extra: dict[str, str]) -> Send:
        """Send the status, headers and half of the first body chunk, then nothing more.

        When the app returns the server finds the response incomplete and closes the
        connection, which the client sees as a connection dropped mid-body.
        """
        cut = False

        async def truncated(message: Message) -> None:
            nonlocal cut
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(extra)
                await send(message)
            elif message["type"] == "http.response.body" and not cut:
                cut = True
                chunk = bytes(message.get("body", b""))
                await send(
                    {
                        "type": "http.response.body",
                        "body": chunk[: len(chunk) // 2],
                        "more_body": True,
                    }
                )

        return truncated

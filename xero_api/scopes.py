"""Which OAuth scope each endpoint needs (Xero's scopes documentation; other APIs: one scope each).

Apps created since 2 March 2026 may only request the *granular* scopes (``accounting.invoices``
…); older apps may still hold the broad ``accounting.transactions`` until September 2027. Reads
need the ``.read`` variant, writes the plain scope. Used to say which scope is probably missing
when Xero answers 401/403, and for the default scope lists.

The default scopes come from the resource table: every scope its rows (and the report streams)
need, except the scopes of optional APIs (Projects, Fixed Assets: not every organisation has
them) and :data:`OPT_IN_SCOPES`. A stream is selected by default exactly when its scope is among
the default read scopes, so a first run with ``xero-auth``'s defaults reads every stream it
selects.
"""

from __future__ import annotations

from .resources import ACCOUNTING, REPORTS, RESOURCES

__all__ = [
    "BROAD_EQUIVALENT",
    "DEFAULT_READ_SCOPES",
    "OPT_IN_SCOPES",
    "REPORT_SCOPES",
    "describe_scope",
    "probable_scope",
    "selected_by_default",
]

# Accounting scopes of the resource table that are not asked for by default, and why: their
# streams are left out of the default selection (a catalog or `meltano select` opts back in).
OPT_IN_SCOPES: dict[str, str] = {
    "accounting.transactions.read": (
        "the broad scope, which apps created since 2 March 2026 cannot request "
        "(ExpenseClaims and Receipts have no granular scope Xero documents)"
    ),
    "paymentservices": "a scope of its own, for apps that work with payment services",
}

REPORT_SCOPES: dict[str, str] = {
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


def _unique(scopes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for s in scopes if s not in OPT_IN_SCOPES))


_REQUIRED = [r for r in RESOURCES if not r.api.optional]

# What the tap reads. `offline_access` is what makes Xero return a refresh token.
DEFAULT_READ_SCOPES: tuple[str, ...] = (
    "offline_access",
    *_unique(
        [r.scope for r in _REQUIRED] + [REPORT_SCOPES[r.name.lower()] for r in REPORTS.values()]
    ),
)


def selected_by_default(scope: str) -> bool:
    """Whether a stream that needs ``scope`` is selected when no catalog says otherwise."""
    return scope in DEFAULT_READ_SCOPES


# Granular scope -> the broad scope that covered it before 2026 (for apps that still use them).
BROAD_EQUIVALENT: dict[str, str] = {
    "accounting.invoices": "accounting.transactions",
    "accounting.payments": "accounting.transactions",
    "accounting.banktransactions": "accounting.transactions",
    "accounting.manualjournals": "accounting.transactions",
}

_BY_PATH: dict[str, str] = {r.path.lower(): r.scope for r in RESOURCES if r.api is ACCOUNTING}
_BY_PATH.update(
    {
        "organisation": "accounting.settings.read",
        "invoicereminders": "accounting.settings.read",
        "attachments": "accounting.attachments.read",
    }
)


# "<base path>/<first path segment>" of the other APIs' rows ("payroll.xro/1.0/employees") ->
# the scope the row reads with; "<base path>" alone -> the scope of the API's first row.
_BY_API: dict[str, str] = {}
for _row in RESOURCES:
    if _row.api is not ACCOUNTING:
        _base = _row.api.base_path.strip("/").lower()
        _BY_API.setdefault(_base, _row.scope)
        _BY_API[f"{_base}/{_row.path.split('/')[0].lower()}"] = _row.scope


def _for_method(method: str, scope: str) -> str:
    return scope.removesuffix(".read") if method.upper() != "GET" else scope


def probable_scope(method: str, path: str) -> str | None:
    """The scope a call most likely needs, or None when the path is no API's we know.

    ``path`` is what was passed to the client (``Invoices``, ``Reports/TrialBalance``,
    ``/api.xro/2.0/Contacts/…``, ``/projects.xro/2.0/Projects``); writes (any method but GET)
    need the scope without ``.read``.
    """
    parts = [p for p in path.split("?")[0].strip("/").split("/") if p]
    base = "/".join(parts[:2]).lower()
    other_api = _BY_API.get(f"{base}/{parts[2].lower()}" if len(parts) > 2 else base)
    other_api = other_api or _BY_API.get(base)
    if other_api is not None:
        return _for_method(method, other_api)
    if parts[:2] == ["api.xro", "2.0"]:
        parts = parts[2:]
    elif parts and parts[0].lower() == "connections":
        return None
    if not parts:
        return None
    head = parts[0].lower()
    if head == "reports":
        name = parts[1].lower() if len(parts) > 1 else ""
        return REPORT_SCOPES.get(name, "accounting.reports.read")
    if len(parts) > 2 and parts[2].lower() == "attachments":
        head = "attachments"
    scope = _BY_PATH.get(head)
    return None if scope is None else _for_method(method, scope)


def describe_scope(scope: str) -> str:
    """``scope`` plus, where one exists, the broad scope an older app holds instead."""
    base = scope.removesuffix(".read")
    broad = BROAD_EQUIVALENT.get(base)
    if broad is None:
        return scope
    suffix = ".read" if scope.endswith(".read") else ""
    return f"{scope} (or the broad {broad}{suffix} on apps created before March 2026)"

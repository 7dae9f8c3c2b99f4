"""Which OAuth scope each endpoint needs (xero-api-facts §7.1; other APIs: one scope each).

Apps created since 2 March 2026 may only request the *granular* scopes (``accounting.invoices``
…); older apps may still hold the broad ``accounting.transactions`` until September 2027. Reads
need the ``.read`` variant, writes the plain scope. Used to say which scope is probably missing
when Xero answers 401/403, and for the default scope lists.
"""

from __future__ import annotations

from .resources import ACCOUNTING, RESOURCES

__all__ = [
    "BROAD_EQUIVALENT",
    "DEFAULT_READ_SCOPES",
    "DEFAULT_WRITE_SCOPES",
    "REPORT_SCOPES",
    "describe_scope",
    "probable_scope",
]

# What the tap reads. `offline_access` is what makes Xero return a refresh token.
DEFAULT_READ_SCOPES: tuple[str, ...] = (
    "offline_access",
    "accounting.settings.read",
    "accounting.contacts.read",
    "accounting.invoices.read",
    "accounting.payments.read",
    "accounting.banktransactions.read",
    "accounting.manualjournals.read",
    "accounting.budgets.read",
    "accounting.journals.read",
    "accounting.reports.trialbalance.read",
    "accounting.reports.profitandloss.read",
    "accounting.reports.balancesheet.read",
)

# What the target writes (and reads back to match natural keys).
DEFAULT_WRITE_SCOPES: tuple[str, ...] = (
    "offline_access",
    "accounting.settings",
    "accounting.contacts",
    "accounting.invoices",
    "accounting.payments",
    "accounting.banktransactions",
    "accounting.manualjournals",
)

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


# Base path of each API beside Accounting ("projects.xro/2.0") -> the scope its rows read with.
_BY_API: dict[str, str] = {
    r.api.base_path.strip("/").lower(): r.scope for r in RESOURCES if r.api is not ACCOUNTING
}


def _for_method(method: str, scope: str) -> str:
    return scope.removesuffix(".read") if method.upper() != "GET" else scope


def probable_scope(method: str, path: str) -> str | None:
    """The scope a call most likely needs, or None when the path is no API's we know.

    ``path`` is what was passed to the client (``Invoices``, ``Reports/TrialBalance``,
    ``/api.xro/2.0/Contacts/…``, ``/projects.xro/2.0/Projects``); writes (any method but GET)
    need the scope without ``.read``.
    """
    parts = [p for p in path.split("?")[0].strip("/").split("/") if p]
    other_api = _BY_API.get("/".join(parts[:2]).lower())
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

"""Settings of one xero-sandbox server, as given on the `xero-sandbox serve` command line."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SandboxConfig", "custom_connection"]


def custom_connection(client_id: str, client_secret: str, index: int) -> tuple[str, str]:
    """The client ID and secret of the custom connection bound to tenant ``index`` (from 1).

    Each is an app of its own, as at Xero; the secret is derived from the web app's secret, so
    whoever holds that one (the launcher, a test) can compute it and nobody else can guess it.
    Tenant 0 is served by the web app's own ``client_credentials`` grant.
    """
    custom_id = f"{client_id}-custom-{index}"
    secret = hmac.new(client_secret.encode(), custom_id.encode(), hashlib.sha256).hexdigest()
    return custom_id, secret[:40]


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a running sandbox is configured with; defaults match `xero-sandbox serve`."""

    host: str = "127.0.0.1"
    port: int = 8765
    db: Path = Path("xero-sandbox.db")
    tenants: int = 2
    scale: int = 100  # invoices per tenant; other resources grow in proportion
    empty_tenants: int = 0  # extra tenants with only settings (accounts, tax rates...)
    overlap: int = 0  # first contacts and invoices drawn alike in every Demo Company
    seed: int = 42
    regions: str = "NZ"  # comma list: tenant i is an organisation of region i modulo the list
    latency_ms: float = 0.0  # base latency per API call
    latency_per_record_ms: float = 0.0  # extra latency per record returned
    time_scale: float = 1.0  # every window and expiry is divided by this
    fault_rate: float = 0.0  # share of API calls that fail in one of Xero's ways
    slow_response_s: float = 120.0  # a 'slow response' fault waits this long (sandbox seconds)
    webhook_batch_s: float = 5.0  # webhook events are collected this long before one POST
    client_id: str = "sandbox-client"
    # The app's registered redirect URIs, comma-separated and matched exactly as Xero does;
    # empty: every http(s) URI on a loopback host (xero-auth picks its port).
    redirect_uris: str = ""
    # An app created since 2 March 2026: it may ask only for granular scopes.
    granular_scopes_only: bool = False
    client_secret: str = "sandbox-secret"  # noqa: S105 - the documented sandbox default
    webhook_url: str | None = None
    webhook_key: str | None = None
    idempotency_window_s: float = 360.0  # Xero keeps Idempotency-Key responses for 6 minutes
    minute_limit: int = 60
    day_limit: int = 5000
    concurrent_limit: int = 5
    app_minute_limit: int = 10000
    high_volume_threshold: int = 100_000  # records a where/order may scan (Xero's threshold)
    log_requests: bool = False  # one stderr line per request: method, path, tenant, status, ms

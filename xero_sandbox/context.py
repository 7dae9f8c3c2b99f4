"""What every handler of one running sandbox shares, kept at ``app.state.ctx``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xero_sandbox.clock import Clock
from xero_sandbox.config import SandboxConfig
from xero_sandbox.ledger import Ledger
from xero_sandbox.stats import Stats
from xero_sandbox.store import Store
from xero_sandbox.webhooks import Webhooks

__all__ = ["SandboxContext"]


@dataclass
class SandboxContext:
    """Config, store, ledger, clock, webhooks and stats of one server.

    Handlers reach it as ``request.app.state.ctx``. ``extras`` is for state a module keeps per
    server (token tables, limits...) under a key named after the module.
    """

    config: SandboxConfig
    store: Store
    clock: Clock
    webhooks: Webhooks
    stats: Stats
    ledger: Ledger
    extras: dict[str, Any] = field(default_factory=dict)

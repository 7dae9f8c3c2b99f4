"""Seeded faults: ``--fault-rate P`` makes that share of API calls fail in one of Xero's ways.

The draw comes from one ``random.Random`` seeded by ``--seed``, advanced once per authenticated
Accounting API call in arrival order, so the same seed and the same sequence of calls give the
same faults. The kinds, each as Xero answers it:

``server_error``        500, an unhandled error
``outage``              503 with Xero's plain-text maintenance message
``rate_limit``          429 with ``X-Rate-Limit-Problem: minute`` and ``Retry-After``
``dropped_connection``  status line, headers and part of the body, then the connection closes
``slow_response``       the answer starts only after ``slow_response_s`` sandbox seconds
``token_expired``       the access token expires early: 401 ``TokenExpired`` now and afterwards
"""

from __future__ import annotations

import random
import threading

from xero_sandbox.config import SandboxConfig

__all__ = ["FAULT_KINDS", "OUTAGE_MESSAGE", "Faults"]

FAULT_KINDS = (
    "server_error",
    "outage",
    "rate_limit",
    "dropped_connection",
    "slow_response",
    "token_expired",
)
OUTAGE_MESSAGE = "The Xero API is currently offline for maintenance"


class Faults:
    """Decides, call by call and reproducibly, whether and how a call fails."""

    def __init__(self, config: SandboxConfig) -> None:
        if not 0.0 <= config.fault_rate <= 1.0:
            raise ValueError(f"--fault-rate must be between 0 and 1, got {config.fault_rate}")
        self.rate = config.fault_rate
        self._rng = random.Random(f"xero-sandbox faults {config.seed}")
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        """The fault for the next call, or None for a normal answer."""
        if self.rate <= 0.0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            return self._rng.choice(FAULT_KINDS)

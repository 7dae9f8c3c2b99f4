"""Sandbox time: every window and expiry runs `time_scale` times faster than the wall clock."""

from __future__ import annotations

import asyncio
import time

__all__ = ["Clock"]


class Clock:
    """Scaled time for limits, token lifetimes and latency; real UTC for record timestamps.

    ``now()`` is in *sandbox seconds*: with ``time_scale=60`` a 60-second rate-limit window or a
    1800-second token lifetime passes in 1 or 30 real seconds. Record timestamps
    (``UpdatedDateUTC``) stay real, so If-Modified-Since behaves as it does against Xero.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("--time-scale must be greater than 0")
        self.time_scale = time_scale

    def now(self) -> float:
        """Sandbox seconds since the epoch (scaled)."""
        return time.time() * self.time_scale

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long a sandbox duration lasts on the wall clock."""
        return sandbox_seconds / self.time_scale

    async def sleep(self, sandbox_seconds: float) -> None:
        """Sleep for a sandbox duration."""
        await asyncio.sleep(self.real_seconds(sandbox_seconds))

    @staticmethod
    def utc_ms() -> int:
        """Real UTC epoch milliseconds, for timestamps stored on records."""
        return time.time_ns() // 1_000_000

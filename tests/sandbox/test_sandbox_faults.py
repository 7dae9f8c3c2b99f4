"""Seeded faults over real HTTP: every kind shows up, and the same seed gives the same faults."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from tests._sandbox_edge_support import api_headers, refresh
from xero_sandbox.config import SandboxConfig
from xero_sandbox.faults import FAULT_KINDS, OUTAGE_MESSAGE, Faults
from xero_sandbox.launcher import Sandbox

CALLS = 40
KIND_OF_OUTCOME = {
    "500": "server_error",
    "503": "outage",
    "429": "rate_limit",
    "dropped": "dropped_connection",
    "timeout": "slow_response",
    "401": "token_expired",
}


def run(seed: int, fault_rate: float = 0.5) -> tuple[list[str], dict[str, int]]:
    """Make CALLS calls; return what each one saw and the sandbox's fault counters."""
    # 100x: a slow response (120 sandbox seconds) takes 1.2 real seconds, beyond our 0.5 s timeout.
    with Sandbox(
        tenants=1, scale=2, seed=seed, fault_rate=fault_rate, time_scale=100, concurrent_limit=50
    ) as sb:
        tenant = sb.tenant_ids()[0]
        tokens = sb.authorize()
        outcomes: list[str] = []
        for _ in range(CALLS):
            try:
                answer = httpx.get(
                    f"{sb.url}/api.xro/2.0/Currencies",
                    headers=api_headers(tokens["access_token"], tenant),
                    timeout=httpx.Timeout(10.0, read=0.5),
                )
            except httpx.ReadTimeout:
                outcomes.append("timeout")
                continue
            except httpx.RemoteProtocolError:
                outcomes.append("dropped")
                continue
            if answer.status_code == 401:
                assert answer.json()["Detail"].startswith("TokenExpired")
                renewed = refresh(sb, tokens["refresh_token"])
                assert renewed.status_code == 200, renewed.text
                tokens = renewed.json()
            elif answer.status_code == 503:
                assert answer.text == OUTAGE_MESSAGE
            elif answer.status_code == 429:
                assert answer.headers["x-rate-limit-problem"] == "minute"
                assert int(answer.headers["retry-after"]) >= 1
            else:
                assert answer.status_code in (200, 500), answer.text
            outcomes.append(str(answer.status_code))
        faults: dict[str, int] = sb.stats()["faults"]
    return outcomes, faults


def test_same_seed_same_faults_and_every_kind_appears() -> None:
    first, first_stats = run(seed=11)
    second, second_stats = run(seed=11)
    assert first == second
    assert first_stats == second_stats
    seen = Counter(KIND_OF_OUTCOME[o] for o in first if o in KIND_OF_OUTCOME)
    assert set(seen) == set(KIND_OF_OUTCOME.values())
    assert dict(seen) == first_stats
    assert 0 < sum(seen.values()) < CALLS


def test_another_seed_other_faults_and_zero_rate_none() -> None:
    other, _ = run(seed=12)
    first, _ = run(seed=11)
    assert other != first
    clean, clean_stats = run(seed=11, fault_rate=0.0)
    assert clean == ["200"] * CALLS
    assert clean_stats == {}


def test_draws_depend_only_on_seed_and_rate() -> None:
    def draws(seed: int, rate: float) -> list[str | None]:
        faults = Faults(SandboxConfig(seed=seed, fault_rate=rate))
        return [faults.draw() for _ in range(500)]

    assert draws(3, 0.2) == draws(3, 0.2)
    assert draws(3, 0.2) != draws(4, 0.2)
    share = sum(kind is not None for kind in draws(3, 0.2)) / 500
    assert 0.12 < share < 0.28
    assert set(draws(3, 1.0)) == set(FAULT_KINDS)
    assert draws(3, 0.0) == [None] * 500
    with pytest.raises(ValueError, match="--fault-rate"):
        Faults(SandboxConfig(fault_rate=1.5))

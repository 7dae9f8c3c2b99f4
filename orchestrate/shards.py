"""Tenant shards: many Xero organisations spread over parallel Meltano processes, each shard a
named list of tenant IDs with bookmarks of its own (docs/scaling-out.md). No dependencies, so
orchestrator code and the tests share it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "APP_CALLS_PER_MINUTE",
    "TENANT_CALLS_PER_MINUTE",
    "ShardError",
    "load_shards",
    "max_parallel_shards",
    "plan_shards",
    "shard_el_args",
    "shard_env",
    "shard_state_id",
]

APP_CALLS_PER_MINUTE = 10_000  # Xero: per app, across every tenant it is connected to
TENANT_CALLS_PER_MINUTE = 60  # Xero: per app and tenant; tap-xero never exceeds it
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class ShardError(ValueError):
    """A shard plan or shard file is invalid; the message names the shard or file."""


def plan_shards(tenant_ids: Sequence[str], shard_size: int) -> dict[str, list[str]]:
    """Split ``tenant_ids`` (in order) into shards of at most ``shard_size`` tenants.

    Names are ``shard_000``, ``shard_001``, ...: stable as long as the tenant list only grows
    at the end, so each shard keeps finding its state.
    """
    if shard_size < 1:
        raise ShardError(f"shard_size must be at least 1, got {shard_size}")
    seen: set[str] = set()
    for tenant in tenant_ids:
        if tenant in seen:
            raise ShardError(f"tenant {tenant} is listed twice")
        seen.add(tenant)
    return {
        f"shard_{n:03d}": list(tenant_ids[start : start + shard_size])
        for n, start in enumerate(range(0, len(tenant_ids), shard_size))
    }


def load_shards(path: Path) -> dict[str, list[str]]:
    """Read a shard file: ``{"<shard name>": ["<tenant id>", ...], ...}`` (JSON)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShardError(f"shard file {path} does not exist") from None
    except ValueError as exc:
        raise ShardError(f"shard file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise ShardError(f"shard file {path} must be a non-empty JSON object of shard -> tenants")
    shards: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for name, tenants in raw.items():
        if not _NAME.match(name):
            raise ShardError(f"shard name {name!r} in {path}: use letters, digits and _ only")
        if (
            not isinstance(tenants, list)
            or not tenants
            or not all(isinstance(t, str) and t for t in tenants)
        ):
            raise ShardError(f"shard {name} in {path} must list at least one tenant ID")
        for tenant in tenants:
            if tenant in owner:
                raise ShardError(f"tenant {tenant} is in shards {owner[tenant]} and {name}")
            owner[tenant] = name
        shards[name] = list(tenants)
    return shards


def shard_env(
    shard: str, tenant_ids: Sequence[str], extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for one shard's ``meltano run``: its tenants and its state id suffix."""
    if not _NAME.match(shard):
        raise ShardError(f"shard name {shard!r}: use letters, digits and _ only")
    if not tenant_ids:
        raise ShardError(f"shard {shard} has no tenants")
    return {
        "TAP_XERO_TENANT_IDS": json.dumps(list(tenant_ids)),
        "MELTANO_RUN_STATE_ID_SUFFIX": shard,
        **(extra or {}),
    }


def shard_state_id(environment: str, loader: str, shard: str) -> str:
    """``<environment>:tap-xero-to-<loader>:<shard>``, as ``meltano run --state-id-suffix``."""
    if not _NAME.match(shard):
        raise ShardError(f"shard name {shard!r}: use letters, digits and _ only")
    return f"{environment}:tap-xero-to-{loader}:{shard}"


def shard_el_args(environment: str, loader: str, shard: str) -> list[str]:
    """Meltano arguments that sync one shard in a run directory of its own."""
    return [
        f"--environment={environment}",
        "el",
        "tap-xero",
        loader,
        f"--state-id={shard_state_id(environment, loader, shard)}",
    ]


def max_parallel_shards(shard_size: int, headroom: float = 0.8) -> int:
    """How many shards may sync at once without nearing Xero's app-wide minute limit.

    tap-xero syncs a shard's tenants in parallel and holds each to 60 calls a minute, so a
    shard spends at most ``60 * shard_size`` calls a minute; ``headroom`` leaves room for
    target-xero, xero-auth and anything else using the same app.
    """
    if shard_size < 1:
        raise ShardError(f"shard_size must be at least 1, got {shard_size}")
    budget = APP_CALLS_PER_MINUTE * headroom
    return max(1, math.floor(budget / (TENANT_CALLS_PER_MINUTE * shard_size)))

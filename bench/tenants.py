"""``tenants_per_hour``: Xero organisations synced per sandbox hour at Xero's real limits.

The same world (full size: 100 Demo Companies) is synced twice on a time-scaled sandbox with
Xero's limits as they are (60 calls a minute, 5 at once and 5,000 a day per organisation;
10,000 a minute per app): once by one tap process reading every organisation, then by a pool
of processes, one organisation each, sharing one token store, as tenant partitions run. The
selection is the tap's default (every stream its default scopes cover). Wall seconds times the
time scale are sandbox seconds, so the figure is what Xero's limits allow this machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import world
from .procs import Measured, run_measured

__all__ = ["tenants_case"]

Log = Callable[[str], None]
WORKERS = 8  # processes at once in the pool: four run pods on each of two hosts, say
# Two years of history: the report streams read one period a call from the start date, so the
# bench's usual 2000 would make this a measure of 26 years of monthly reports.
START_DATE = "2024-12-01T00:00:00Z"


def _per_hour(tenants: int, wall_s: float, time_scale: float) -> float:
    return tenants / (wall_s * time_scale / 3600.0)


def _one_tenant_configs(config: Path, tenant_ids: list[str], run_dir: Path) -> list[Path]:
    """A config per organisation, all sharing the one token store (and its refresh token)."""
    shared = json.loads(config.read_text())
    return [
        world.write_json(run_dir / f"tenant-{n}.json", {**shared, "tenant_ids": [tenant]})
        for n, tenant in enumerate(tenant_ids)
    ]


def _pool(configs: list[Path], catalog: Path, run_dir: Path) -> tuple[float, list[Measured]]:
    def one(n_config: tuple[int, Path]) -> Measured:
        n, config = n_config
        return run_measured(
            f"tenants: organisation {n}",
            world.tap_argv(config, catalog),
            stderr_path=run_dir / f"tenant-{n}.stderr",
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        runs = list(pool.map(one, enumerate(configs)))
    return time.perf_counter() - started, runs


def tenants_case(sizes: Any, log: Log) -> dict[str, Any]:
    """One process for every organisation beside one process per organisation."""
    smoke = sizes.name == "smoke"
    tenants, scale, time_scale = (3, 10, 60.0) if smoke else (100, 20, 20.0)
    dataset = world.Dataset(tenants=tenants, scale=scale)
    run_dir = world.WORK / "runs" / f"tenants-{sizes.name}"
    run_dir.mkdir(parents=True, exist_ok=True)
    with world.serve(dataset, run_dir, fresh=True, time_scale=time_scale) as sandbox:
        tenant_ids = sandbox.tenant_ids()
        config = world.tap_config(sandbox, run_dir, tenant_ids)
        world.write_json(config, {**json.loads(config.read_text()), "start_date": START_DATE})
        catalog = world.tap_catalog(config, run_dir, _default_streams(config, run_dir))
        log(f"tenants: one tap process for {tenants} organisations")
        single = run_measured(
            "tenants: one process",
            world.tap_argv(config, catalog),
            stderr_path=run_dir / "single.stderr",
        )
        after_single = sandbox.stats()
        time.sleep(60.0 / time_scale + 1)  # the organisations' minute windows start afresh
        log(f"tenants: {tenants} tap processes, {WORKERS} at a time")
        pool_wall, runs = _pool(_one_tenant_configs(config, tenant_ids, run_dir), catalog, run_dir)
        after_pool = sandbox.stats()
    single_limited = after_single.get("rate_limited", {})
    pool_limited = {
        k: int(v) - int(single_limited.get(k, 0))
        for k, v in after_pool.get("rate_limited", {}).items()
    }
    return {
        "tenants": tenants,
        "invoices_per_tenant": scale,
        "time_scale": time_scale,
        "workers": WORKERS,
        "single": {
            "wall_s": single.wall_s,
            "cpu_s": single.cpu_s,
            "records": single.records,
            "calls": int(after_single["calls"]),
            "rate_limited": single_limited,
            "tenants_per_hour": _per_hour(tenants, single.wall_s, time_scale),
        },
        "pool": {
            "wall_s": pool_wall,
            "cpu_s": sum(m.cpu_s for m in runs),
            "records": sum(m.records for m in runs),
            "calls": int(after_pool["calls"]) - int(after_single["calls"]),
            "rate_limited": pool_limited,
            "tenants_per_hour": _per_hour(tenants, pool_wall, time_scale),
        },
    }


def _default_streams(config: Path, run_dir: Path) -> list[str]:
    """The streams a run without a catalog syncs: those the discovered catalog selects."""
    catalog = json.loads(world.tap_catalog(config, run_dir, []).read_text())
    chosen = []
    for entry in catalog["streams"]:
        top = next((m for m in entry.get("metadata", []) if not m.get("breadcrumb")), {})
        if top.get("metadata", {}).get("selected-by-default"):
            chosen.append(entry["tap_stream_id"])
    return chosen

"""Dagster definitions: every Xero tenant shard as a parallel Meltano op (dagster-meltano).

    python3 -m venv .venv-dagster
    .venv-dagster/bin/pip install dagster-meltano==1.5.5 dagster-webserver
    PATH="$PWD/.venv-meltano/bin:$PATH" XERO_TENANT_SHARDS=orchestrate/tenant_shards.json \\
        MELTANO_STATE_BACKEND_URI=s3://bucket/meltano-state \\
        .venv-dagster/bin/dagster dev -f orchestrate/dagster/definitions.py

One op per shard of ``XERO_TENANT_SHARDS`` (JSON ``{"shard_000": ["<tenant id>", ...]}``;
``orchestrate/shards.py`` plans one). Each op runs
``meltano --environment=<env> el tap-xero <loader> --state-id=<env>:tap-xero-to-<loader>:<shard>``
with the shard's tenants in ``TAP_XERO_TENANT_IDS`` and its own target schema, so shards keep
their own bookmarks, get a run directory each and never race on DDL. The multiprocess executor
runs at most ``max_parallel_shards(...)`` at once, which keeps the app under Xero's 10,000 calls
a minute. The state backend must take concurrent writers (file/S3/GCS/Azure, or a PostgreSQL
``MELTANO_DATABASE_URI``), never the default SQLite system database.

Environment: ``XERO_TENANT_SHARDS`` (required), ``MELTANO_ENVIRONMENT`` (default ``prod``),
``XERO_LOADER`` (default ``target-postgres``), ``XERO_SYNC_CRON`` (default hourly),
``MELTANO_PROJECT_ROOT`` (default: this repository).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster import Definitions, ScheduleDefinition, job, multiprocess_executor
from dagster_meltano import meltano_command_op, meltano_resource

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "orchestrate"))

from shards import load_shards, max_parallel_shards, shard_el_args, shard_env  # noqa: E402

PROJECT_ROOT = Path(os.environ.get("MELTANO_PROJECT_ROOT", REPO))
ENVIRONMENT = os.environ.get("MELTANO_ENVIRONMENT", "prod")
LOADER = os.environ.get("XERO_LOADER", "target-postgres")
SHARDS = load_shards(
    Path(os.environ.get("XERO_TENANT_SHARDS", REPO / "orchestrate" / "tenant_shards.json"))
)
LARGEST_SHARD = max(len(tenants) for tenants in SHARDS.values())


def _op_name(shard: str) -> str:
    return f"xero_{shard}"


def _loader_env(shard: str) -> dict[str, str]:
    """Where a shard loads: its own schema, so parallel first runs never race to create tables.

    DuckDB takes one writing process per file, so there each shard gets a file of its own.
    """
    if LOADER == "target-duckdb":
        folder = Path(os.environ.get("XERO_DUCKDB_DIR", PROJECT_ROOT / "output"))
        folder.mkdir(parents=True, exist_ok=True)
        return {"TARGET_DUCKDB_FILEPATH": str(folder / f"xero_{shard}.duckdb")}
    return {LOADER.upper().replace("-", "_") + "_DEFAULT_TARGET_SCHEMA": f"xero_{shard}"}


# One op per shard (the command carries the shard's state id); --force because a shard whose
# previous run crashed must not wait for Meltano to time that run out.
SHARD_OPS = {
    shard: meltano_command_op(
        " ".join([*shard_el_args(ENVIRONMENT, LOADER, shard), "--force"]),
        dagster_name=_op_name(shard),
    )
    for shard in SHARDS
}


@job(
    name="xero_tenant_shards",
    description=f"tap-xero -> {LOADER} for {len(SHARDS)} tenant shard(s), in parallel.",
    resource_defs={"meltano": meltano_resource.configured({"project_dir": str(PROJECT_ROOT)})},
    executor_def=multiprocess_executor.configured(
        {"max_concurrent": max_parallel_shards(LARGEST_SHARD)}
    ),
    config={
        "ops": {
            _op_name(shard): {"config": {"env": shard_env(shard, tenants, _loader_env(shard))}}
            for shard, tenants in SHARDS.items()
        }
    },
)
def xero_tenant_shards() -> None:
    """Every shard as an independent op (no dependencies: they run side by side)."""
    for op in SHARD_OPS.values():
        op()


defs = Definitions(
    jobs=[xero_tenant_shards],
    schedules=[
        ScheduleDefinition(
            name="xero_tenant_shards_schedule",
            job=xero_tenant_shards,
            cron_schedule=os.environ.get("XERO_SYNC_CRON", "0 * * * *"),
        )
    ],
)

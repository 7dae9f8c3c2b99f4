"""Dagster definitions: every Xero tenant shard as a parallel ``meltano run`` op.

    python -m venv .venv-dagster && .venv-dagster/bin/pip install dagster-meltano==1.5.5 \\
        dagster-webserver
    PATH="$PWD/.venv-meltano/bin:$PATH" MELTANO_ENVIRONMENT=prod \\
        XERO_TENANT_SHARDS=orchestrate/tenant_shards.json \\
        .venv-dagster/bin/dagster dev -f orchestrate/dagster/definitions.py

One op per shard of ``XERO_TENANT_SHARDS`` (a JSON file ``{"shard_000": ["<tenant id>", ...]}``;
``orchestrate/shards.py`` can plan one). Each op runs ``meltano run tap-xero <loader> --force``
in this project with the shard's tenants (``TAP_XERO_TENANT_IDS``) and its own state id suffix
(``MELTANO_RUN_STATE_ID_SUFFIX``), and loads into a schema of its own, so shards never race
on DDL. The multiprocess executor runs at most ``max_parallel_shards(...)`` shards at once,
which keeps the app under Xero's 10,000 calls a minute. Configure a state backend that takes
concurrent writers (``MELTANO_STATE_BACKEND_URI=s3://...`` or a PostgreSQL
``MELTANO_DATABASE_URI``), never the default SQLite system database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster import Definitions, ScheduleDefinition, job, multiprocess_executor
from dagster_meltano import meltano_resource, meltano_run_op

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "orchestrate"))

from shards import load_shards, max_parallel_shards, shard_env  # noqa: E402

PROJECT_ROOT = Path(os.environ.get("MELTANO_PROJECT_ROOT", REPO))
LOADER = os.environ.get("XERO_LOADER", "target-postgres")
SHARDS = load_shards(
    Path(os.environ.get("XERO_TENANT_SHARDS", REPO / "orchestrate" / "tenant_shards.json"))
)
LARGEST_SHARD = max(len(tenants) for tenants in SHARDS.values())

# One op definition, reused under one alias per shard; dagster-meltano adds --force.
sync_shard = meltano_run_op(f"tap-xero {LOADER}")


def _op_name(shard: str) -> str:
    return f"xero_{shard}"


def _loader_env(shard: str) -> dict[str, str]:
    """Each shard loads into its own schema: parallel first runs never race to create tables."""
    schema_var = LOADER.upper().replace("-", "_") + "_DEFAULT_TARGET_SCHEMA"
    return {schema_var: f"xero_{shard}"}


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
    for shard in SHARDS:
        sync_shard.alias(_op_name(shard))()


defs = Definitions(
    jobs=[xero_tenant_shards],
    schedules=[
        ScheduleDefinition(
            name="xero_tenant_shards_hourly",
            job=xero_tenant_shards,
            cron_schedule=os.environ.get("XERO_SYNC_CRON", "0 * * * *"),
        )
    ],
)

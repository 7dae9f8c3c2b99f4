"""Dagster definitions for many hosts: one dynamic partition per Xero organisation, added by a
sensor, synced by a schedule, one run per tenant at a time by tag limits, retried with backoff.
How to run it (daemon, PostgreSQL storage, executors): docs/deployment.md.
"""

import os
import sys
from datetime import datetime
from pathlib import Path

from dagster import (
    Backoff,
    DagsterInstance,
    Definitions,
    DynamicPartitionsDefinition,
    ExecutorDefinition,
    Jitter,
    OpExecutionContext,
    Output,
    RetryPolicy,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    in_process_executor,
    job,
    multiprocess_executor,
    op,
    schedule,
    sensor,
)

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "orchestrate"))

from tenant_runs import TenantRunConfig, discover_partitions, sync_partition  # noqa: E402

TENANTS = DynamicPartitionsDefinition(name="xero_tenants")
APP = os.environ.get("TAP_XERO_CLIENT_ID", "xero")


def run_config() -> TenantRunConfig:
    """Read at run time, so a running deployment picks up a new connections file."""
    return TenantRunConfig.from_environ(os.environ, REPO)


def _executor() -> ExecutorDefinition:
    chosen = os.environ.get("XERO_EXECUTOR", "multiprocess")
    if chosen == "multiprocess":
        return multiprocess_executor
    if chosen == "in_process":
        return in_process_executor
    if chosen == "k8s":
        from dagster_k8s import k8s_job_executor  # type: ignore[import-not-found]

        return k8s_job_executor  # type: ignore[no-any-return]
    if chosen == "docker":
        from dagster_docker import docker_executor  # type: ignore[import-not-found]

        return docker_executor  # type: ignore[no-any-return]
    raise ValueError(f"XERO_EXECUTOR={chosen!r}: use multiprocess, in_process, k8s or docker")


def tenant_tags(key: str) -> dict[str, str]:
    """The tags the run queue limits: one run per tenant, a ceiling per app."""
    return {"xero/tenant": key, "xero/app": APP}


@op(
    retry_policy=RetryPolicy(
        max_retries=int(os.environ.get("XERO_RETRIES", "3")),
        delay=float(os.environ.get("XERO_RETRY_DELAY_SECONDS", "30")),
        backoff=Backoff.EXPONENTIAL,
        jitter=Jitter.PLUS_MINUS,
    ),
)
def sync_tenant(context: OpExecutionContext) -> Output[dict[str, str]]:
    """``meltano el tap-xero <loader>`` for this run's partition, in its own directory."""
    key = context.partition_key
    done = sync_partition(key, run_config(), context.log.info)
    return Output(done, metadata={"state_id": done["state_id"]})


@job(partitions_def=TENANTS, executor_def=_executor(), tags={"xero/app": APP})
def xero_tenant_sync() -> None:
    """One organisation (partition) from Xero into the loader."""
    sync_tenant()


def _known(instance: DagsterInstance) -> set[str]:
    return set(instance.get_dynamic_partitions(TENANTS.name or ""))


@sensor(
    job=xero_tenant_sync,
    minimum_interval_seconds=int(os.environ.get("XERO_DISCOVERY_SECONDS", "600")),
)
def xero_tenants_sensor(context: SensorEvaluationContext) -> SensorResult:
    """Adds every organisation and custom connection not yet a partition, and syncs it."""
    found = discover_partitions(run_config())
    new = [key for key in found if key not in _known(context.instance)]
    return SensorResult(
        run_requests=[
            RunRequest(run_key=f"new:{key}", partition_key=key, tags=tenant_tags(key))
            for key in new
        ],
        dynamic_partitions_requests=[TENANTS.build_add_request(new)] if new else [],
    )


@schedule(
    job=xero_tenant_sync,
    cron_schedule=os.environ.get("XERO_SYNC_CRON", "0 * * * *"),
)
def xero_tenants_schedule(context: ScheduleEvaluationContext) -> list[RunRequest]:
    """One run of every partition per tick."""
    tick = (context.scheduled_execution_time or datetime.now()).isoformat()
    return [
        RunRequest(run_key=f"{tick}:{key}", partition_key=key, tags=tenant_tags(key))
        for key in sorted(_known(context.instance))
    ]


defs = Definitions(
    jobs=[xero_tenant_sync],
    sensors=[xero_tenants_sensor],
    schedules=[xero_tenants_schedule],
)

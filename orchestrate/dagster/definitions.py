"""Dagster definitions for one host: every tenant shard of ``XERO_TENANT_SHARDS`` as a parallel
Meltano op (dagster-meltano), a webhook sensor that starts the shards with new events, and a
failed-run alert. How to run it and its environment: docs/scaling-out.md and docs/webhooks.md.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    Definitions,
    JobDefinition,
    OpDefinition,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    in_process_executor,
    job,
    multiprocess_executor,
    op,
    run_failure_sensor,
    sensor,
)
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


# One op per shard (the command carries the shard's state id). Never --force: it would start a
# second run of a shard beside one still running (a first sync longer than the schedule's
# interval). A run whose process died stops heartbeating, and Meltano itself fails it once the
# heartbeat is 5 minutes old, so the next hourly run starts normally.
SHARD_OPS = {
    shard: meltano_command_op(
        " ".join(shard_el_args(ENVIRONMENT, LOADER, shard)),
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
    for shard_op in SHARD_OPS.values():
        shard_op()


WEBHOOK_QUEUE = os.environ.get("XERO_WEBHOOK_QUEUE", "")
# How long a shard's event run stays up after its last batch: its one `meltano el` keeps
# following the queue (tap-xero's webhook_follow_seconds), so each later batch costs one API
# call and the target's write, not a sensor tick, a Dagster run and a Meltano start.
# 0: the run is a single sync.
FOLLOW_SECONDS = float(os.environ.get("XERO_WEBHOOK_FOLLOW_SECONDS", "900"))
# Rows the loader buffers before writing, in a following run: 1 writes each event's record
# as it comes (singer-sdk targets flush on a full batch, or when a record is 5 minutes old).
BATCH_ROWS = os.environ.get("XERO_WEBHOOK_BATCH_ROWS", "1")
LOADED_TAG = "xero/loaded_positions"  # set by a shard's run after its `meltano el`
FAILURES_IN_A_ROW = 3  # e.g. the hourly run of the same shard holding its state ID
RETRY_SECONDS = 5.0
# tap-xero's last line after following the queue (tap_xero/follow.py), relayed by Meltano.
READ_UP_TO = re.compile(r"every event up to position (\d+) of these tenants is read")


def el_with_retries(
    run_el: Callable[[], str], log: Any, retry_seconds: float = RETRY_SECONDS
) -> str:
    """``run_el()``'s output; a failure is retried after ``retry_seconds``, and the
    ``FAILURES_IN_A_ROW``-th failure in a row is raised."""
    failures = 0
    while True:
        try:
            return run_el()
        except Exception:
            failures += 1
            if failures >= FAILURES_IN_A_ROW:
                raise
            log.warning(f"meltano el failed ({failures} in a row); retrying")
            time.sleep(retry_seconds)


def read_up_to(output: str) -> int | None:
    """The queue position up to which a following `meltano el` read every event of its
    tenants, from its output (None when it did not say: it did not follow to the end)."""
    found = READ_UP_TO.findall(output)
    return int(found[-1]) if found else None


def _follow_op(shard: str, tenants: list[str]) -> OpDefinition:
    """The shard's `meltano el`, following the queue until ``FOLLOW_SECONDS`` pass without a
    new event of its tenants; what it read is tagged on the run for the sensor."""
    command = " ".join(shard_el_args(ENVIRONMENT, LOADER, shard))

    @op(name=f"{_op_name(shard)}_events", required_resource_keys={"meltano"})
    def follow(context) -> None:  # no hint: Dagster refuses a postponed (string) one
        env = shard_env(shard, tenants, _loader_env(shard))
        if WEBHOOK_QUEUE and FOLLOW_SECONDS > 0:
            env["TAP_XERO_WEBHOOK_FOLLOW_SECONDS"] = str(math.ceil(FOLLOW_SECONDS))
            env[LOADER.upper().replace("-", "_") + "_BATCH_SIZE_ROWS"] = BATCH_ROWS
        began, children = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
        output = el_with_retries(
            lambda: context.resources.meltano.execute_command(command, env, context.log),
            context.log,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        # Wall and CPU time of the run's pipeline (Meltano, tap and target): what to chart.
        context.log.info(
            f"meltano el for {shard}: {time.monotonic() - began:.1f} s, {cpu:.1f} CPU s"
        )
        position = read_up_to(output)
        if position is not None:
            loaded = dict.fromkeys(tenants, position)
            context.instance.add_run_tags(
                context.run_id, {LOADED_TAG: json.dumps(loaded, sort_keys=True)}
            )

    return follow


def _shard_job(shard: str, tenants: list[str]) -> JobDefinition:
    """One shard on its own, in the run's own process: what the webhook sensor starts."""
    follow = _follow_op(shard, tenants)

    @job(
        name=f"xero_shard_{shard}",
        description=f"tap-xero -> {LOADER} for shard {shard} ({len(tenants)} tenant(s)), and "
        f"following the webhook queue until {FOLLOW_SECONDS:g} s pass without a new event.",
        resource_defs={"meltano": meltano_resource.configured({"project_dir": str(PROJECT_ROOT)})},
        executor_def=in_process_executor,
    )
    def shard_job() -> None:
        follow()

    return shard_job


SHARD_JOBS = {shard: _shard_job(shard, tenants) for shard, tenants in SHARDS.items()}
ACTIVE = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


def queue_positions(dsn: str) -> dict[str, int]:
    """The newest queue position per tenant (``xero-webhooks positions``)."""
    done = subprocess.run(
        ["xero-webhooks", "positions", "--queue", dsn],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or "xero-webhooks positions failed")
    positions: dict[str, int] = json.loads(done.stdout)
    return positions


@sensor(
    name="xero_webhook_events",
    jobs=list(SHARD_JOBS.values()),
    # 5: dagster-daemon evaluates sensors at most every 5 seconds, so less gains nothing.
    minimum_interval_seconds=int(os.environ.get("XERO_WEBHOOK_SENSOR_SECONDS", "5")),
    # On from the start when there is a queue to watch (Dagster's default is off).
    default_status=DefaultSensorStatus.RUNNING if WEBHOOK_QUEUE else DefaultSensorStatus.STOPPED,
    description="Starts a shard's run when the webhook queue has new events for its tenants.",
)
def xero_webhook_events(context: SensorEvaluationContext) -> Iterator[RunRequest | SkipReason]:
    """A run per shard with events newer than the cursor's positions (none while it runs)."""
    if not WEBHOOK_QUEUE:
        yield SkipReason("XERO_WEBHOOK_QUEUE is not set")
        return
    started: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
    newest = queue_positions(WEBHOOK_QUEUE)
    requested = False
    for shard, tenants in SHARDS.items():
        fresh = {t: newest[t] for t in tenants if newest.get(t, 0) > started.get(t, 0)}
        if not fresh:
            continue
        job_name = SHARD_JOBS[shard].name
        last = context.instance.get_runs(filters=RunsFilter(job_name=job_name), limit=1)
        if last and last[0].status in ACTIVE:
            continue  # its events stay newer than the cursor: the next tick starts it
        if last:  # what the last run loaded while it followed the queue needs no new run
            loaded: dict[str, int] = json.loads(last[0].tags.get(LOADED_TAG, "{}"))
            fresh = {t: p for t, p in fresh.items() if p > loaded.get(t, 0)}
            if not fresh:
                continue
        started.update(fresh)
        requested = True
        yield RunRequest(
            run_key=f"{shard}:" + ",".join(f"{t}={p}" for t, p in sorted(fresh.items())),
            job_name=job_name,
            tags={"xero/shard": shard, "xero/trigger": "webhook"},
        )
    if requested:
        context.update_cursor(json.dumps(started, sort_keys=True))
    else:
        yield SkipReason("no new webhook events (or their shards are still running)")


@run_failure_sensor(
    name="xero_run_failed",
    description="Logs (and POSTs) every failed run.",
    default_status=DefaultSensorStatus.RUNNING,
)
def xero_run_failed(context: RunFailureSensorContext) -> None:
    """Say which run failed and why; POST it to ``XERO_ALERT_WEBHOOK_URL`` when set."""
    run = context.dagster_run
    message = f"Dagster run {run.run_id} of {run.job_name} failed: {context.failure_event.message}"
    context.log.error(message)
    url = os.environ.get("XERO_ALERT_WEBHOOK_URL")
    if url:
        body = json.dumps({"text": message, "run_id": run.run_id, "job": run.job_name}).encode()
        request = urllib.request.Request(  # noqa: S310 - an operator-configured URL
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass


defs = Definitions(
    jobs=[xero_tenant_shards, *SHARD_JOBS.values()],
    sensors=[xero_webhook_events, xero_run_failed],
    schedules=[
        ScheduleDefinition(
            name="xero_tenant_shards_schedule",
            job=xero_tenant_shards,
            cron_schedule=os.environ.get("XERO_SYNC_CRON", "0 * * * *"),
        )
    ],
)

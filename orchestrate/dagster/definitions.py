"""Dagster definitions for one host: every tenant shard of ``XERO_TENANT_SHARDS`` as a parallel
Meltano op (dagster-meltano), a webhook sensor that starts the shards with new events, and a
failed-run alert. How to run it and its environment: docs/scaling-out.md and docs/webhooks.md.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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
# How long a shard's event run stays up after its last batch, watching the queue: events in
# that time are loaded by a `meltano el` started at once, without a new Dagster run (whose
# launch is most of a cold run's time). 0: one `meltano el` per run.
FOLLOW_SECONDS = float(os.environ.get("XERO_WEBHOOK_FOLLOW_SECONDS", "900"))
QUEUE_LOOK_SECONDS = 1.0
LOADED_TAG = "xero/loaded_positions"  # set by a shard's run after each `meltano el`
FAILURES_IN_A_ROW = 3  # e.g. the hourly run of the same shard holding its state ID


def _watch_queue(dsn: str) -> Iterator[dict[str, int] | None]:
    """The queue's newest positions each time they change (``xero-webhooks positions
    --watch``), and ``None`` after each second without a change."""
    watcher = subprocess.Popen(
        ["xero-webhooks", "positions", "--queue", dsn, "--watch", str(QUEUE_LOOK_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:
        for line in watcher.stdout or ():
            lines.put(line)

    threading.Thread(target=read_lines, daemon=True).start()
    try:
        while True:
            try:
                yield json.loads(lines.get(timeout=QUEUE_LOOK_SECONDS))
            except queue.Empty:
                if watcher.poll() is not None:
                    raise RuntimeError("xero-webhooks positions --watch stopped") from None
                yield None
    finally:
        watcher.terminate()
        watcher.wait(30)


def _follow_op(shard: str, tenants: list[str]) -> OpDefinition:
    """The shard's `meltano el`, then again for each new batch of its tenants' events until
    ``FOLLOW_SECONDS`` pass without one."""
    command = " ".join(shard_el_args(ENVIRONMENT, LOADER, shard))

    @op(name=f"{_op_name(shard)}_events", required_resource_keys={"meltano"})
    def follow(context) -> None:  # no hint: Dagster refuses a postponed (string) one
        env = shard_env(shard, tenants, _loader_env(shard))
        if not WEBHOOK_QUEUE:  # started by hand: one sync
            context.resources.meltano.execute_command(command, env, context.log)
            return
        latest: dict[str, int] | None = None  # the queue's newest positions, once known
        loaded: dict[str, int] = {}
        due = True  # the events the sensor started this run for
        quiet_since = time.monotonic()
        failures = 0
        for newest in _watch_queue(WEBHOOK_QUEUE):
            if newest is not None:
                latest = newest
                due = due or any(newest.get(t, 0) > loaded.get(t, 0) for t in tenants)
            if due and latest is not None:
                began, children = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
                try:
                    context.resources.meltano.execute_command(command, env, context.log)
                except Exception:
                    failures += 1
                    if failures >= FAILURES_IN_A_ROW:
                        raise
                    context.log.warning(f"meltano el failed ({failures} in a row); retrying")
                    time.sleep(5 * QUEUE_LOOK_SECONDS)
                    continue
                failures, due = 0, False
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
                # Wall and CPU time of the batch (Meltano, tap and target): what to chart.
                context.log.info(
                    f"meltano el for {shard}: {time.monotonic() - began:.1f} s, {cpu:.1f} CPU s"
                )
                loaded = {t: latest.get(t, 0) for t in tenants}
                context.instance.add_run_tags(
                    context.run_id, {LOADED_TAG: json.dumps(loaded, sort_keys=True)}
                )
                quiet_since = time.monotonic()
            if not due and time.monotonic() - quiet_since >= FOLLOW_SECONDS:
                return

    return follow


def _shard_job(shard: str, tenants: list[str]) -> JobDefinition:
    """One shard on its own, in the run's own process: what the webhook sensor starts."""
    follow = _follow_op(shard, tenants)

    @job(
        name=f"xero_shard_{shard}",
        description=f"tap-xero -> {LOADER} for shard {shard} ({len(tenants)} tenant(s)), and "
        f"again for new webhook events for up to {FOLLOW_SECONDS:g} s after the last.",
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

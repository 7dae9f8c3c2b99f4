"""``event_freshness_p95_s``: seconds from a write in the sandbox to the row in PostgreSQL.

The whole event path, as deployed: the sandbox (time scale 1, so Xero's 5-second webhook
batching is real) delivers signed webhooks to ``xero-webhooks serve``; ``dagster-daemon run``
evaluates the ``xero_webhook_events`` sensor at ``XERO_WEBHOOK_SENSOR_SECONDS`` = 5 (the
documented default and shortest: the daemon looks at sensors every 5 s) and starts the shard's
job, which runs ``meltano el tap-xero target-postgres`` with ``webhook_queue`` set (invoices
selected); with ``XERO_WEBHOOK_FOLLOW_SECONDS`` that one pipeline stays warm, its tap following
the queue and target-postgres writing each row as it comes (``batch_size_rows`` 1), until the
queue is quiet that long. Each sample changes one invoice's Reference and polls
PostgreSQL every 0.2 s until the row carries it; it also reads when the receiver committed the
event, which splits the time into delivery (sandbox batching and POST) and the rest.

Two series, one after another on the same sandbox, queue and warehouse:

* ``follow`` (the default, 900 s): samples 1 to 3 s apart, so the shard's pipeline is up;
* ``cold`` (``XERO_WEBHOOK_FOLLOW_SECONDS`` = 0): each sample waits until no run is active,
  so each pays the sensor tick, Dagster's run launch and Meltano's start.

A run logs the wall and CPU seconds of its `meltano el`: in the cold series one per sample; in
the follow series one pipeline loads every sample, so there is no per-batch figure.

The first sample of each series (the shard's first read, or the switch of daemons) is not
counted. Meltano is given the tap's catalog once (``TAP_XERO__CATALOG``), as it caches it itself
for an installed tap: the shared test install is editable (``pip_url: -e``), for which Meltano
re-runs discovery on every run (docs/webhooks.md).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from tests._webhooks_support import Receiver, draft_ids, sandbox_for, touch, wait_for_handshake
from tests.meltano_support import (
    PostgresServer,
    dagster_env,
    dagster_python,
    descendants,
    new_project,
)

from . import world

__all__ = ["freshness_case"]

Log = Callable[[str], None]
REPO = Path(__file__).resolve().parents[1]
DEFINITIONS = REPO / "orchestrate" / "dagster" / "definitions.py"
LIMITS = {"minute_limit": 100_000, "day_limit": 1_000_000, "app_minute_limit": 1_000_000}
SENSOR_SECONDS = 5
SERIES = {"follow": 900, "cold": 0}
# What the shard's run logs after each batch (orchestrate/dagster/definitions.py).
BATCH_LINE = re.compile(r"meltano el for \w+: (?P<wall>[\d.]+) s, (?P<cpu>[\d.]+) CPU s")


def _reference(pg: PostgresServer, schema: str, invoice_id: str) -> str | None:
    try:
        # Autocommit and a statement timeout: a look never holds or waits on the target's locks.
        with psycopg.connect(
            pg.url("warehouse"),
            connect_timeout=5,
            autocommit=True,
            options="-c statement_timeout=2000",
        ) as conn:
            columns: dict[str, str] = dict(
                conn.execute(
                    "SELECT replace(lower(column_name), '_', ''), column_name "
                    "FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = 'invoices'",
                    [schema],
                ).fetchall()
            )
            if "invoiceid" not in columns or "reference" not in columns:
                return None
            row = conn.execute(
                f'SELECT "{columns["reference"]}" FROM "{schema}".invoices '  # noqa: S608
                f'WHERE "{columns["invoiceid"]}" = %s',
                [invoice_id],
            ).fetchone()
    except psycopg.Error:
        return None
    return str(row[0]) if row else None


def _wait_for_row(
    pg: PostgresServer, schema: str, invoice_id: str, tag: str, timeout: float
) -> float:
    started = time.monotonic()
    while _reference(pg, schema, invoice_id) != tag:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"invoice {invoice_id} did not reach PostgreSQL in {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - started


def _queued_at(queue: str, invoice_id: str) -> float | None:
    """When the receiver committed the newest event for ``invoice_id`` (epoch seconds)."""
    with sqlite3.connect(queue, timeout=30) as conn:
        row = conn.execute(
            "SELECT max(received_at) FROM xero_webhook_events WHERE lower(resource_id) = ?",
            [invoice_id.lower()],
        ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def _runs_active(home: Path) -> bool:
    """Whether the Dagster instance in ``home`` has a run not yet finished."""
    try:
        with sqlite3.connect(home / "history" / "runs.db", timeout=30) as conn:
            row = conn.execute(
                "SELECT count(*) FROM runs WHERE status IN "
                "('QUEUED', 'NOT_STARTED', 'STARTING', 'STARTED', 'CANCELING')"
            ).fetchone()
    except sqlite3.Error:
        return False
    return bool(row and row[0])


def _batches(home: Path) -> list[tuple[float, float]]:
    """(wall s, CPU s) of every `meltano el` the instance's runs logged, in order."""
    found: list[tuple[float, float]] = []
    for path in sorted((home / "history" / "runs").glob("*.db"), key=lambda p: p.stat().st_mtime):
        with sqlite3.connect(path, timeout=30) as conn:
            for (body,) in conn.execute("SELECT event FROM event_logs ORDER BY id"):
                match = BATCH_LINE.search(json.loads(body).get("user_message", ""))
                if match:
                    found.append((float(match["wall"]), float(match["cpu"])))
    return found


def _daemon(home: Path, env: dict[str, str], run_dir: Path) -> subprocess.Popen[bytes]:
    home.mkdir()
    daemon_bin = dagster_python().with_name("dagster-daemon")
    with (home / "daemon.log").open("w") as daemon_log:
        return subprocess.Popen(
            [str(daemon_bin), "run", "-f", str(DEFINITIONS)],
            env={**env, "DAGSTER_HOME": str(home)},
            cwd=run_dir,
            stdout=daemon_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its runs too: _stop ends them all
        )


def _stop(daemon: subprocess.Popen[bytes]) -> None:
    """Stop the daemon and every process below it: a following run's `meltano el` runs in a
    session of its own (dagster-shell starts it so), outlives the daemon's group, and would
    hold the shard's state ID and load the next series' events."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in [*descendants(daemon.pid), daemon.pid]:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(5)  # the others end on the same signal


def _summary(samples: list[dict[str, float]], batches: list[tuple[float, float]]) -> dict[str, Any]:
    seconds = sorted(s["total_s"] for s in samples)
    p95 = seconds[min(len(seconds) - 1, max(0, round(0.95 * len(seconds)) - 1))]
    delivery = [s["delivery_s"] for s in samples]
    return {
        "p95_s": round(p95, 1),
        "median_s": round(statistics.median(seconds), 1),
        "min_s": round(seconds[0], 1),
        "max_s": round(seconds[-1], 1),
        "samples_s": [round(s["total_s"], 1) for s in samples],
        "delivery_median_s": round(statistics.median(delivery), 1),
        "after_delivery_median_s": round(
            statistics.median(s["total_s"] - s["delivery_s"] for s in samples), 1
        ),
        "load_average_median": round(statistics.median(s["load"] for s in samples), 1),
        # The first batch of a series is the shard's first read (or a daemon switch): left out.
        "batch_wall_median_s": round(statistics.median(w for w, _ in batches[1:]), 1)
        if len(batches) > 1
        else None,
        "batch_cpu_median_s": round(statistics.median(c for _, c in batches[1:]), 1)
        if len(batches) > 1
        else None,
    }


def freshness_case(sizes: Any, log: Log) -> dict[str, Any]:
    """Seconds from a sandbox write to the row in PostgreSQL, through the Dagster sensor."""
    counts = {"follow": 4, "cold": 2} if sizes.name == "smoke" else {"follow": 12, "cold": 5}
    run_dir = world.WORK / "runs" / "freshness"
    run_dir.mkdir(parents=True, exist_ok=True)
    series: dict[str, Any] = {}
    with (
        PostgresServer() as pg,
        Receiver() as receiver,
        sandbox_for(receiver, scale=10, time_scale=1, **LIMITS) as sb,
    ):
        pg.create_database("warehouse")
        if wait_for_handshake(sb) != "passed":
            raise RuntimeError("the receiver failed the sandbox's handshake")
        tenant = sb.tenant_ids()[0]
        project = new_project(
            run_dir / f"project-{time.time_ns()}",
            sandbox_url=sb.url,
            refresh_token=sb.authorize()["refresh_token"],
            extra_env={
                "MELTANO_STATE_BACKEND_URI": (run_dir / f"state-{time.time_ns()}").as_uri(),
                "TAP_XERO_WEBHOOK_QUEUE": receiver.queue,
                "TAP_XERO__SELECT": '["invoices.*"]',
                **pg.target_env("warehouse"),
            },
        )
        dumped = project.run("invoke", "--dump=catalog", "tap-xero").output
        catalog = run_dir / "catalog.json"
        catalog.write_text(
            json.dumps(json.JSONDecoder().raw_decode(dumped[dumped.index("{") :])[0])
        )
        project.env["TAP_XERO__CATALOG"] = str(catalog)
        invoices = draft_ids(sb, tenant, "invoices", 2)
        for name, follow in SERIES.items():
            # A shard (state ID, schema) per series: one series' end never holds the next's.
            shards = run_dir / f"shards-{name}.json"
            shards.write_text(json.dumps({name: [tenant]}))
            env = dagster_env(
                project,
                XERO_LOADER="target-postgres",
                XERO_TENANT_SHARDS=str(shards),
                XERO_WEBHOOK_QUEUE=receiver.queue,
                XERO_WEBHOOK_SENSOR_SECONDS=str(SENSOR_SECONDS),
                XERO_WEBHOOK_FOLLOW_SECONDS=str(follow),
            )
            home = run_dir / f"dagster-{name}-{time.time_ns()}"
            daemon = _daemon(home, env, run_dir)
            samples: list[dict[str, float]] = []
            try:
                for sample in range(counts[name] + 1):
                    if daemon.poll() is not None:
                        raise RuntimeError(f"dagster-daemon stopped: see {home / 'daemon.log'}")
                    if follow:
                        time.sleep(random.uniform(1, 3))
                    else:
                        while _runs_active(home):
                            time.sleep(0.5)
                    invoice, tag = invoices[sample % 2], f"fresh-{name}-{sample}-{time.time_ns()}"
                    written = time.time()
                    touch(sb, tenant, "invoices", [invoice], tag)
                    took = _wait_for_row(pg, f"xero_{name}", invoice, tag, 600)
                    queued = _queued_at(receiver.queue, invoice) or written
                    log(
                        f"freshness {name} sample {sample}: {took:.1f} s "
                        f"(delivered after {queued - written:.1f} s)"
                        + (" (not counted)" if not sample else "")
                    )
                    if sample:
                        samples.append(
                            {
                                "total_s": took,
                                "delivery_s": queued - written,
                                "load": os.getloadavg()[0],
                            }
                        )
            finally:
                _stop(daemon)
            series[name] = {"follow_seconds": follow, **_summary(samples, _batches(home))}
    return {
        "event_freshness_p95_s": series["follow"]["p95_s"],
        "median_s": series["follow"]["median_s"],
        "samples_s": series["follow"]["samples_s"],
        "series": series,
        "sensor_seconds": SENSOR_SECONDS,
        "finished_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }

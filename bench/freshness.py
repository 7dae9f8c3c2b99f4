"""``event_freshness_p95_s``: seconds from a write in the sandbox to the row in PostgreSQL.

The whole event path, as deployed: the sandbox (time scale 1, so Xero's 5-second webhook
batching is real) delivers signed webhooks to ``xero-webhooks serve``; ``dagster-daemon run``
evaluates the ``xero_webhook_events`` sensor at ``XERO_WEBHOOK_SENSOR_SECONDS`` = 10 (the
documented default) and starts the shard's job, which runs ``meltano el tap-xero
target-postgres`` with ``webhook_queue`` set (invoices selected). Each sample changes one
invoice's Reference and polls PostgreSQL every 0.2 s until the row carries it; samples are
taken one after another (the first, the shard's initial full read, is not counted).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from tests._webhooks_support import Receiver, draft_ids, sandbox_for, touch, wait_for_handshake
from tests.meltano_support import PostgresServer, dagster_env, dagster_python, new_project

from . import world

__all__ = ["freshness_case"]

Log = Callable[[str], None]
REPO = Path(__file__).resolve().parents[1]
DEFINITIONS = REPO / "orchestrate" / "dagster" / "definitions.py"
LIMITS = {"minute_limit": 100_000, "day_limit": 1_000_000, "app_minute_limit": 1_000_000}
SENSOR_SECONDS = 10


def _reference(pg: PostgresServer, invoice_id: str) -> str | None:
    try:
        with psycopg.connect(pg.url("warehouse"), connect_timeout=5) as conn:
            columns = dict(
                conn.execute(
                    "SELECT replace(lower(column_name), '_', ''), column_name "
                    "FROM information_schema.columns "
                    "WHERE table_schema = 'xero_shard_a' AND table_name = 'invoices'"
                ).fetchall()
            )
            if "invoiceid" not in columns or "reference" not in columns:
                return None
            row = conn.execute(
                f'SELECT "{columns["reference"]}" FROM xero_shard_a.invoices '  # noqa: S608
                f'WHERE "{columns["invoiceid"]}" = %s',
                [invoice_id],
            ).fetchone()
    except psycopg.Error:
        return None
    return str(row[0]) if row else None


def _wait_for_row(pg: PostgresServer, invoice_id: str, tag: str, timeout: float) -> float:
    started = time.monotonic()
    while _reference(pg, invoice_id) != tag:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"invoice {invoice_id} did not reach PostgreSQL in {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - started


def freshness_case(sizes: Any, log: Log) -> dict[str, Any]:
    """Seconds from a sandbox write to the row in PostgreSQL, through the Dagster sensor."""
    count = 3 if sizes.name == "smoke" else 6
    run_dir = world.WORK / "runs" / "freshness"
    run_dir.mkdir(parents=True, exist_ok=True)
    with (
        PostgresServer() as pg,
        Receiver() as receiver,
        sandbox_for(receiver, scale=10, time_scale=1, **LIMITS) as sb,
    ):
        pg.create_database("warehouse")
        if wait_for_handshake(sb) != "passed":
            raise RuntimeError("the receiver failed the sandbox's handshake")
        tenant = sb.tenant_ids()[0]
        shards = run_dir / "shards.json"
        shards.write_text(f'{{"shard_a": ["{tenant}"]}}')
        project = new_project(
            run_dir / f"project-{time.time_ns()}",
            sandbox_url=sb.url,
            refresh_token=sb.authorize()["refresh_token"],
            extra_env={
                "MELTANO_STATE_BACKEND_URI": (run_dir / f"state-{time.time_ns()}").as_uri(),
                "TAP_XERO_WEBHOOK_QUEUE": receiver.queue,
                "TAP_XERO__SELECT": '["invoices.*"]',
                "TARGET_POSTGRES_HOST": pg.host,
                "TARGET_POSTGRES_PORT": str(pg.port),
                "TARGET_POSTGRES_USER": pg.user,
                "TARGET_POSTGRES_PASSWORD": "trust-auth-ignores-it",
                "TARGET_POSTGRES_DATABASE": "warehouse",
            },
        )
        project.run("state", "list")
        home = run_dir / f"dagster-{time.time_ns()}"
        home.mkdir()
        env = dagster_env(
            project,
            XERO_LOADER="target-postgres",
            XERO_TENANT_SHARDS=str(shards),
            XERO_WEBHOOK_QUEUE=receiver.queue,
            XERO_WEBHOOK_SENSOR_SECONDS=str(SENSOR_SECONDS),
            DAGSTER_HOME=str(home),
        )
        daemon_bin = dagster_python().with_name("dagster-daemon")
        with (home / "daemon.log").open("w") as daemon_log:
            daemon = subprocess.Popen(
                [str(daemon_bin), "run", "-f", str(DEFINITIONS)],
                env=env,
                cwd=run_dir,
                stdout=daemon_log,
                stderr=subprocess.STDOUT,
            )
        try:
            invoices = draft_ids(sb, tenant, "invoices", 2)
            seconds: list[float] = []
            for sample in range(count + 1):
                if daemon.poll() is not None:
                    raise RuntimeError("dagster-daemon stopped: see " + str(home / "daemon.log"))
                invoice, tag = invoices[sample % 2], f"fresh-{sample}-{time.time_ns()}"
                touch(sb, tenant, "invoices", [invoice], tag)
                took = _wait_for_row(pg, invoice, tag, 600)
                log(
                    f"freshness sample {sample}: {took:.1f} s"
                    + (" (initial)" if not sample else "")
                )
                if sample:
                    seconds.append(took)
        finally:
            daemon.terminate()
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(30)
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "event_freshness_p95_s": round(p95, 1),
        "median_s": round(statistics.median(ordered), 1),
        "samples_s": [round(s, 1) for s in seconds],
        "sensor_seconds": SENSOR_SECONDS,
        "finished_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }

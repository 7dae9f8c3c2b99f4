"""The Dagster definition runs its tenant shards in parallel, against the sandbox.

dagster-meltano lives in a venv of its own (made once per machine, like Meltano's). The job is
executed with Dagster's multiprocess executor, so the shards really run side by side.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests._sandbox_edge_support import wait_for
from tests._webhooks_support import (
    Receiver,
    deliveries_settled,
    draft_ids,
    sandbox_for,
    touch,
    wait_for_handshake,
)
from tests.meltano_support import (
    MELTANO,
    REPO,
    SANDBOX_FLAGS,
    MeltanoProject,
    dagster_env,
    dagster_python,
    descendants,
    expected_rows,
    new_project,
)
from xero_api.event_queue import EventQueue
from xero_sandbox.launcher import Sandbox

pytestmark = pytest.mark.meltano

DEFINITIONS = REPO / "orchestrate" / "dagster" / "definitions.py"
RUNNER = """
import json, runpy, sys
from dagster import execute_job, instance_for_test, reconstructable

def shards_job():
    return runpy.run_path(sys.argv[1])["xero_tenant_shards"]

if __name__ == "__main__":
    with instance_for_test() as instance:
        result = execute_job(reconstructable(shards_job), instance=instance)
        steps = {
            event.step_key: event.event_type_value
            for event in result.all_events
            if event.is_step_success or event.is_step_failure
        }
        if not result.success:  # what Meltano said, for the assertion message
            for entry in instance.all_logs(result.run_id)[-60:]:
                print(entry.step_key, entry.user_message[:400], file=sys.stderr)
        print(json.dumps({"success": result.success, "steps": steps}))
"""


def run_in_dagster(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[dict[str, Any], str]:
    """Run ``tmp_path/runner.py`` on the definitions in the Dagster venv: its last stdout line
    as JSON, and its stderr."""
    return run_in_dagster_script(tmp_path, "runner.py", env, *args)


def run_in_dagster_script(
    tmp_path: Path, script: str, env: dict[str, str], *args: str
) -> tuple[dict[str, Any], str]:
    """Run ``tmp_path/script`` on the definitions in the Dagster venv: its last stdout line as
    JSON, and its stderr."""
    done = subprocess.run(
        [str(dagster_python()), str(tmp_path / script), str(DEFINITIONS), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result, done.stderr


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(**{**SANDBOX_FLAGS, "tenants": 3, "scale": 6}) as running:
        yield running


def test_definitions_load_with_one_op_per_shard(tmp_path: Path) -> None:
    shards = tmp_path / "shards.json"
    shards.write_text(json.dumps({"shard_a": ["t1", "t2"], "shard_b": ["t3"]}))
    check = (
        "import json, runpy, sys\n"
        "ns = runpy.run_path(sys.argv[1])\n"
        "job = ns['defs'].get_job_def('xero_tenant_shards')\n"
        "print(json.dumps({'ops': sorted(n.name for n in job.graph.nodes),\n"
        "  'commands': sorted(op.description for op in ns['SHARD_OPS'].values()),\n"
        "  'schedules': [s.name for s in ns['defs'].schedules],\n"
        "  'sensors': sorted(s.name for s in ns['defs'].sensors),\n"
        "  'shard_jobs': sorted(j.name for j in ns['SHARD_JOBS'].values())}))\n"
    )
    done = subprocess.run(
        [str(dagster_python()), "-c", check, str(DEFINITIONS)],
        env={**os.environ, "XERO_TENANT_SHARDS": str(shards)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["ops"] == ["xero_shard_a", "xero_shard_b"]
    assert loaded["commands"] == [
        "Run `meltano --environment=prod el tap-xero target-postgres "
        f"--state-id=prod:tap-xero-to-target-postgres:{shard}`."
        for shard in ("shard_a", "shard_b")
    ]
    assert loaded["schedules"] == ["xero_tenant_shards_schedule"]
    assert loaded["sensors"] == ["xero_run_failed", "xero_webhook_events"]
    assert loaded["shard_jobs"] == ["xero_shard_shard_a", "xero_shard_shard_b"]


def test_dagster_job_syncs_each_shard_with_its_own_state(sandbox: Sandbox, tmp_path: Path) -> None:
    tenants = sandbox.tenant_ids()
    shards = {"shard_a": tenants[:2], "shard_b": tenants[2:]}
    (tmp_path / "shards.json").write_text(json.dumps(shards))
    state_dir = tmp_path / "state"
    project = new_project(
        tmp_path / "project",
        sandbox_url=sandbox.url,
        refresh_token=sandbox.authorize()["refresh_token"],
        extra_env={
            "MELTANO_STATE_BACKEND_URI": state_dir.as_uri(),
            "TAP_XERO__SELECT": '["invoices.*", "contacts.*"]',
        },
    )
    project.run("state", "list")  # create the system database before the shards start
    (tmp_path / "runner.py").write_text(RUNNER)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
        **project.env,
        "PATH": f"{MELTANO.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MELTANO_PROJECT_ROOT": str(project.root),
        "MELTANO_ENVIRONMENT": "sandbox",
        "XERO_LOADER": "target-duckdb",
        "XERO_DUCKDB_DIR": str(tmp_path / "warehouse"),
        "XERO_TENANT_SHARDS": str(tmp_path / "shards.json"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }
    (tmp_path / "dagster").mkdir()
    result, stderr = run_in_dagster(tmp_path, env)
    print(stderr[-3000:])
    assert result == {  # on failure, Dagster's reasons are in stderr
        "success": True,
        "steps": {"xero_shard_a": "STEP_SUCCESS", "xero_shard_b": "STEP_SUCCESS"},
    }

    expected, _ = expected_rows(sandbox.counts())
    for shard, shard_tenants in shards.items():
        database = tmp_path / "warehouse" / f"xero_{shard}.duckdb"
        with duckdb.connect(str(database), read_only=True) as db:
            rows = dict(
                db.execute("SELECT tenantid, count(*) FROM xero.invoices GROUP BY 1").fetchall()
            )
        assert rows == {t: expected["invoices"][t] for t in shard_tenants}, shard
        state = project.state(f"sandbox:tap-xero-to-target-duckdb:{shard}")
        partitions = state["singer_state"]["bookmarks"]["invoices"]["partitions"]
        assert sorted(p["context"]["TenantID"] for p in partitions) == sorted(shard_tenants)


SENSOR_RUNNER = """
import json, os, runpy, sys
from dagster import DagsterInstance, build_sensor_context, execute_job, reconstructable

def requested_job():
    return runpy.run_path(sys.argv[1])["SHARD_JOBS"][os.environ["XERO_RUN_SHARD"]]

if __name__ == "__main__":
    sensor = runpy.run_path(sys.argv[1])["xero_webhook_events"]
    cursor = sys.argv[2] or None
    instance = DagsterInstance.get()  # DAGSTER_HOME: runs and their keys persist between ticks
    tick = sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))
    runs = {}
    for request in tick.run_requests:
        shard = request.tags["xero/shard"]
        os.environ["XERO_RUN_SHARD"] = shard
        result = execute_job(reconstructable(requested_job), instance=instance)
        runs[shard] = result.success
        if not result.success:
            for entry in instance.all_logs(result.run_id)[-40:]:
                print(entry.step_key, entry.user_message[:400], file=sys.stderr)
    print(json.dumps({"runs": runs, "cursor": tick.cursor, "skip": tick.skip_message}))
"""


def _webhook_deployment(
    tmp_path: Path,
    sb: Sandbox,
    queue: str,
    shards: dict[str, list[str]],
    streams: list[str],
    follow_seconds: int,
) -> tuple[MeltanoProject, dict[str, str]]:
    """A Meltano project reading ``queue`` into DuckDB, and Dagster's environment for it."""
    (tmp_path / "shards.json").write_text(json.dumps(shards))
    project = new_project(
        tmp_path / "project",
        sandbox_url=sb.url,
        refresh_token=sb.authorize()["refresh_token"],
        extra_env={
            "MELTANO_STATE_BACKEND_URI": (tmp_path / "state").as_uri(),
            "TAP_XERO_WEBHOOK_QUEUE": queue,
            "TAP_XERO__SELECT": json.dumps([f"{stream}.*" for stream in streams]),
        },
    )
    project.run("state", "list")
    (tmp_path / "dagster").mkdir()
    env = dagster_env(
        project,
        XERO_LOADER="target-duckdb",
        XERO_DUCKDB_DIR=str(tmp_path / "warehouse"),
        XERO_TENANT_SHARDS=str(tmp_path / "shards.json"),
        XERO_WEBHOOK_QUEUE=queue,
        XERO_WEBHOOK_FOLLOW_SECONDS=str(follow_seconds),
        DAGSTER_HOME=str(tmp_path / "dagster"),
    )
    return project, env


def test_webhook_sensor_starts_the_shards_with_new_events(tmp_path: Path) -> None:
    """Sandbox webhooks -> xero-webhooks -> the sensor starts only the shard whose tenant
    changed, its run loads the changed documents, and nothing starts while nothing changes."""
    # Time scale 2: a test longer than 3 wall minutes (a busy machine) keeps its token.
    with Receiver() as receiver, sandbox_for(receiver, **SANDBOX_FLAGS, time_scale=2) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenants = sb.tenant_ids()
        shards = {"shard_a": [tenants[0]], "shard_b": [tenants[1]]}
        (tmp_path / "runner.py").write_text(SENSOR_RUNNER)
        # Each run one `meltano el` (a run following the queue: the next test).
        _, env = _webhook_deployment(
            tmp_path, sb, receiver.queue, shards, ["invoices", "contacts", "credit_notes"], 0
        )

        def tick(cursor: str | None) -> dict[str, Any]:
            result, stderr = run_in_dagster(tmp_path, env, cursor or "")
            assert all(result["runs"].values()), stderr[-4000:]
            return result

        assert tick(None)["runs"] == {}  # an empty queue starts nothing

        invoices = draft_ids(sb, tenants[0], "invoices", 2)
        touch(sb, tenants[0], "invoices", invoices, "sensed")
        wait_for(lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= 2)
        first = tick(None)
        assert first["runs"] == {"shard_a": True}  # shard_b's tenant has no events
        idle = tick(first["cursor"])
        assert idle["runs"] == {}
        assert idle["skip"]

        touch(sb, tenants[0], "invoices", invoices[:1], "sensed again")
        wait_for(lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= 3)
        again = tick(first["cursor"])
        assert again["runs"] == {"shard_a": True}
        database = tmp_path / "warehouse" / "xero_shard_a.duckdb"
        with duckdb.connect(str(database), read_only=True) as db:
            rows = dict(
                db.execute(
                    "SELECT invoiceid, reference FROM xero.invoices WHERE reference LIKE 'sensed%'"
                ).fetchall()
            )
        assert rows == {invoices[0]: "sensed again", invoices[1]: "sensed"}
        assert not (tmp_path / "warehouse" / "xero_shard_b.duckdb").exists()


def _run_logs(tmp_path: Path) -> str:
    """Every message in the event logs of the Dagster instance in ``tmp_path/dagster``."""
    messages = []
    for path in (tmp_path / "dagster" / "history" / "runs").glob("*.db"):
        try:
            with sqlite3.connect(path, timeout=30) as conn:
                rows = conn.execute("SELECT event FROM event_logs ORDER BY id").fetchall()
        except sqlite3.Error:
            continue  # a run's log not yet set up
        messages.extend(str(json.loads(body).get("user_message", "")) for (body,) in rows)
    return "\n".join(messages)


FOLLOW_RUNNER = """
import json, runpy, sys
from dagster import DagsterInstance, execute_job, reconstructable

def shard_job():
    return runpy.run_path(sys.argv[1])["SHARD_JOBS"]["shard_a"]

if __name__ == "__main__":
    instance = DagsterInstance.get()
    result = execute_job(reconstructable(shard_job), instance=instance)
    logs = [entry.user_message for entry in instance.all_logs(result.run_id)]
    if not result.success:
        print("\\n".join(m[:400] for m in logs[-40:]), file=sys.stderr)
    run = instance.get_run_by_id(result.run_id)
    print(json.dumps({
        "success": result.success,
        "meltano_runs": sum(m.startswith("Running command:") for m in logs),
        "retried": sum("meltano el failed" in m for m in logs),
        "loaded": json.loads(run.tags.get("xero/loaded_positions", "{}")),
    }))
"""


def test_a_shards_run_follows_the_queue_and_the_sensor_skips_what_it_loaded(
    tmp_path: Path,
) -> None:
    """The sensor's shard run loads its events, its `meltano el` stays up following the queue,
    loads a later event in that same pipeline (no new Dagster run, no new Meltano), ends after
    its quiet time, and the sensor then starts nothing for the events that run loaded."""
    # Time scale 2: a test longer than 3 wall minutes (a busy machine) keeps its token.
    with Receiver() as receiver, sandbox_for(receiver, **SANDBOX_FLAGS, time_scale=2) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        (tmp_path / "runner.py").write_text(FOLLOW_RUNNER)
        (tmp_path / "sensor.py").write_text(SENSOR_RUNNER)
        project, env = _webhook_deployment(
            tmp_path, sb, receiver.queue, {"shard_a": [tenant]}, ["invoices"], 15
        )
        first, second = draft_ids(sb, tenant, "invoices", 2)
        touch(sb, tenant, "invoices", [first], "followed")
        wait_for(lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= 1)
        run = subprocess.Popen(
            [str(dagster_python()), str(tmp_path / "runner.py"), str(DEFINITIONS)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        queue = EventQueue(receiver.queue)
        try:
            # Its `meltano el` has read the first event and follows the queue (the target
            # holds the DuckDB file, and passes the STATE to Meltano when the run ends).
            wait_for(lambda: "Following the webhook queue" in _run_logs(tmp_path), timeout=300)
            assert run.poll() is None, "the run should still be watching the queue"
            touch(sb, tenant, "invoices", [second], "followed later")
            wait_for(
                lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= 2
            )
            out, err = run.communicate(timeout=600)
        finally:
            if run.poll() is None:  # a failed wait: end the run and its pipeline too
                for pid in descendants(run.pid):
                    os.kill(pid, signal.SIGKILL)
                run.kill()
                run.communicate()
        assert run.returncode == 0, (out + err)[-4000:]
        result = json.loads(out.strip().splitlines()[-1])
        assert result["success"], err[-4000:]
        assert result["meltano_runs"] == 1  # the later event: the same warm `meltano el`
        assert result["loaded"] == {tenant: queue.last_position()}
        database = tmp_path / "warehouse" / "xero_shard_a.duckdb"
        with duckdb.connect(str(database), read_only=True) as db:
            rows = dict(
                db.execute(
                    "SELECT invoiceid, reference FROM xero.invoices "
                    "WHERE reference LIKE 'followed%'"
                ).fetchall()
            )
        assert rows == {first: "followed", second: "followed later"}
        # Meltano stored a STATE past the first event. target-duckdb passes a STATE on only
        # when it writes the next record (or at the end, if records were left): the last
        # batch's STATE waits for the next run, which reads that batch again (rows are keyed).
        stored = project.state("sandbox:tap-xero-to-target-duckdb:shard_a")["singer_state"]
        (partition,) = stored["bookmarks"]["invoices"]["partitions"]
        assert 1 <= partition["queue_position"] <= queue.last_position()
        # A fresh sensor (no cursor) sees both events as new, but the run loaded them.
        tick, stderr = run_in_dagster_script(tmp_path, "sensor.py", env, "")
        assert tick["runs"] == {}, stderr[-4000:]
        queue.close()


STAND_IN_MELTANO = """#!{python}
# Stands in for `meltano` on PATH: fails while {failures} holds a count above 0, else ends
# as a following `meltano el` does (tap-xero's last line, relayed).
import json, os, sys
from pathlib import Path

left = Path({failures!r})
calls = Path({calls!r})
with calls.open("a") as log:
    log.write(json.dumps({{
        "argv": sys.argv[1:],
        "follow": os.environ.get("TAP_XERO_WEBHOOK_FOLLOW_SECONDS"),
        "batch_rows": os.environ.get("TARGET_DUCKDB_BATCH_SIZE_ROWS"),
    }}) + "\\n")
count = int(left.read_text())
if count > 0:
    left.write_text(str(count - 1))
    print("tap-xero | cannot reach Xero", file=sys.stderr)
    sys.exit(1)
print("tap-xero | Followed the webhook queue: every event up to position 7 of these tenants "
      "is read")
"""


def test_a_following_run_retries_a_failed_meltano_el_and_fails_after_three(
    tmp_path: Path,
) -> None:
    """The shard run's one warm `meltano el` (a stand-in on PATH): one failure is retried and
    the run succeeds, tagged with what the retry read; three failures in a row fail the run."""
    stand_in = tmp_path / "bin" / "meltano"
    stand_in.parent.mkdir()
    failures, calls = tmp_path / "failures", tmp_path / "calls.jsonl"
    stand_in.write_text(
        STAND_IN_MELTANO.format(python=sys.executable, failures=str(failures), calls=str(calls))
    )
    stand_in.chmod(0o755)
    (tmp_path / "shards.json").write_text(json.dumps({"shard_a": ["tenant-1", "tenant-2"]}))
    (tmp_path / "runner.py").write_text(FOLLOW_RUNNER)
    (tmp_path / "dagster").mkdir()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(stand_in.parent), os.environ.get("PATH", "")]),
        "MELTANO_PROJECT_ROOT": str(tmp_path),
        "MELTANO_ENVIRONMENT": "sandbox",
        "XERO_LOADER": "target-duckdb",
        "XERO_DUCKDB_DIR": str(tmp_path / "warehouse"),
        "XERO_TENANT_SHARDS": str(tmp_path / "shards.json"),
        "XERO_WEBHOOK_QUEUE": str(tmp_path / "queue.db"),
        "XERO_WEBHOOK_FOLLOW_SECONDS": "60",
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }

    failures.write_text("1")
    once, _ = run_in_dagster(tmp_path, env)
    assert once == {
        "success": True,
        "meltano_runs": 2,
        "retried": 1,
        "loaded": {"tenant-1": 7, "tenant-2": 7},
    }
    attempts = [json.loads(line) for line in calls.read_text().splitlines()]
    assert len(attempts) == 2
    assert all(a["follow"] == "60" and a["batch_rows"] == "1" for a in attempts)
    assert attempts[0]["argv"] == [
        "--environment=sandbox",
        "el",
        "tap-xero",
        "target-duckdb",
        "--state-id=sandbox:tap-xero-to-target-duckdb:shard_a",
    ]

    failures.write_text("3")
    thrice, _ = run_in_dagster(tmp_path, env)
    assert thrice == {"success": False, "meltano_runs": 3, "retried": 2, "loaded": {}}
    assert len(calls.read_text().splitlines()) == 2 + 3

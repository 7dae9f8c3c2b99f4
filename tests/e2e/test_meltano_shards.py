"""Scaling out: tenant shards as parallel `meltano run` processes sharing one state backend."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.meltano_support import REPO, SANDBOX_FLAGS, expected_rows, new_project
from xero_sandbox.launcher import Sandbox

sys.path.insert(0, str(REPO / "orchestrate"))

from shards import plan_shards, shard_el_args, shard_env

pytestmark = pytest.mark.meltano

STATE_ID = "sandbox:tap-xero-to-target-duckdb"
STREAMS = '["invoices.*", "contacts.*", "accounts.*", "payments.*"]'


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(**{**SANDBOX_FLAGS, "tenants": 3, "scale": 8}) as running:
        yield running


def _tenant_rows(path: Path, stream: str) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.execute(
            f"SELECT tenantid, count(*) FROM xero.{stream} GROUP BY 1"  # noqa: S608
        ).fetchall()
    return {str(tenant): int(n) for tenant, n in rows}


def test_two_shards_run_in_parallel_with_their_own_tenants_and_state(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    tenants = sandbox.tenant_ids()
    shards = plan_shards(tenants, 2)
    assert [len(t) for t in shards.values()] == [2, 1]
    state_dir = tmp_path / "state"
    project = new_project(
        tmp_path / "project",
        sandbox_url=sandbox.url,
        refresh_token=sandbox.authorize()["refresh_token"],
        extra_env={
            # A state backend with per-state-id lock files: safe for concurrent writers.
            "MELTANO_STATE_BACKEND_URI": state_dir.as_uri(),
            "TAP_XERO__SELECT": STREAMS,
        },
    )
    warehouse = {shard: project.root / "output" / f"{shard}.duckdb" for shard in shards}

    # Create/migrate the system database once: parallel first starts would race to create it.
    project.run("state", "list")
    processes = {}
    started = time.monotonic()
    for shard, shard_tenants in shards.items():
        env = shard_env(shard, shard_tenants, {"TARGET_DUCKDB_FILEPATH": str(warehouse[shard])})
        processes[shard] = project.popen(*shard_el_args("sandbox", "target-duckdb", shard), env=env)
    # Both shards are alive at once (Meltano alone takes seconds to start).
    assert all(p.poll() is None for p in processes.values())
    outputs = {shard: p.communicate(timeout=600)[0] for shard, p in processes.items()}
    for shard, process in processes.items():
        assert process.returncode == 0, f"{shard} failed:\n{outputs[shard][-3000:]}"
    assert time.monotonic() - started < 600

    expected, _ = expected_rows(sandbox.counts())
    for shard, shard_tenants in shards.items():
        # Each shard loaded exactly its own tenants, completely.
        for stream in ("invoices", "payments", "accounts"):
            rows = _tenant_rows(warehouse[shard], stream)
            assert rows == {t: expected[stream][t] for t in shard_tenants}, (shard, stream)
        contacts = _tenant_rows(warehouse[shard], "contacts")  # archived ones come too
        assert set(contacts) == set(shard_tenants)
        assert all(contacts[t] >= expected["contacts"][t] for t in shard_tenants)
        # ... and keeps its own bookmarks under its own state id, in the shared backend.
        state = project.state(f"{STATE_ID}:{shard}")
        partitions = state["singer_state"]["bookmarks"]["invoices"]["partitions"]
        assert sorted(p["context"]["TenantID"] for p in partitions) == sorted(shard_tenants)
        stored = json.loads((state_dir / f"{STATE_ID}:{shard}" / "state.json").read_text())
        assert stored["completed"]["singer_state"] == state["singer_state"]
    assert sorted(p.name for p in state_dir.iterdir()) == [f"{STATE_ID}:{s}" for s in shards]

"""Nothing doubled: a killed target re-run on the same input, and retries through faults."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._target_support import (
    FIXTURES,
    TARGET,
    Org,
    OrgPool,
    read_jsonl,
    run_target,
    sandbox_pool,
)

INVOICES = 40  # replay.singer: one contact, 40 invoices, one payment on each


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    # Latency keeps the run long enough to be killed in the middle of it.
    yield from sandbox_pool(empty=2, latency_ms=40)


def _assert_loaded_once(org: Org) -> None:
    invoices = [
        i for i in org.all("Invoices", "Invoices") if i["InvoiceNumber"].startswith("TX-R-")
    ]
    numbers = Counter(i["InvoiceNumber"] for i in invoices)
    assert len(numbers) == INVOICES
    assert set(numbers.values()) == {1}, [n for n, c in numbers.items() if c > 1]
    ids = {i["InvoiceID"] for i in invoices}
    paid = Counter(p["Invoice"]["InvoiceID"] for p in org.all("Payments", "Payments"))
    assert set(paid) == ids
    assert set(paid.values()) == {1}
    assert [c["Name"] for c in org.all("Contacts", "Contacts")].count("Replay Customer") == 1


def test_killed_mid_run_then_replayed_creates_no_duplicates(pool: OrgPool, tmp_path: Path) -> None:
    org = pool.take()
    config = org.config(tmp_path, batch_size=5, batch_size_rows=10)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    audit = Path(config["audit_file"])
    with (FIXTURES / "replay.singer").open() as data:
        proc = subprocess.Popen(
            [TARGET, "--config", str(config_path)],
            stdin=data,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        # Kill once some, but not all, invoices are in: the middle of the run.
        while len([a for a in read_jsonl(audit) if a["stream"] == "invoices"]) < 12:
            assert proc.poll() is None, "the target finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    first = read_jsonl(audit)
    assert 0 < len([a for a in first if a["stream"] == "invoices"]) < INVOICES

    run = run_target(config, tmp_path, "replay.singer")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.rejects == []
    _assert_loaded_once(org)
    # Whatever the first run wrote is recognised, not created again.
    created_before = {a["xero_id"] for a in first if a["action"] == "created"}
    created_now = {a["xero_id"] for a in run.audit if a["action"] == "created"}
    assert not created_before & created_now


def test_faults_and_retries_create_no_duplicates(tmp_path: Path) -> None:
    # Dropped connections and 5xx after Xero may have committed: the client retries each write
    # with the same Idempotency-Key, so Xero answers a repeat with the first answer.
    pools = sandbox_pool(empty=1, fault_rate=0.15, time_scale=60)
    pool = next(pools)
    try:
        org = pool.take()
        run = run_target(org.refresh_config(tmp_path, batch_size=5), tmp_path, "replay.singer")
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.rejects == []
        _assert_loaded_once(org)
        # batch_size=5: the 40 invoices went in 8 requests of 5, one Idempotency-Key each.
        keys = Counter(a["idempotency_key"] for a in run.audit if a["stream"] == "invoices")
        assert sorted(keys.values()) == [5] * 8
        faults = pool.sandbox.stats()["tenants"][org.tenant_id]["faults"]
        assert sum(faults.values()) > 0, "no fault was injected: the test proves nothing"
    finally:
        pools.close()

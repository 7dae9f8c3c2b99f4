"""An outside client against the sandbox: singer-io/tap-xero 2.6.0 (Meltano's default Xero tap)
syncs every one of its streams, and each stream's record count equals what the sandbox serves.

The peer runs from its own venv through ``bench/peer_launcher.py`` (which points its hard-coded
Xero hosts at the sandbox), exactly as the benchmark runs it. It reads Organisation through the
plural ``GET /Organisations`` and pages with ``page`` and ``order=UpdatedDateUTC ASC``.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
from pathlib import Path

from bench.world import ensure_peer, peer_argv, peer_catalog, peer_config, peer_env
from xero_sandbox.launcher import Sandbox

# The peer's stream name -> the sandbox collection it reads (the peer title-cases the name).
COLLECTION_OF = {"organisations": "Organisation"}


def _collection(stream: str) -> str:
    return COLLECTION_OF.get(stream) or stream.title().replace("_", "")


def test_peer_tap_syncs_every_stream_with_the_sandbox_counts(tmp_path: Path) -> None:
    ensure_peer(log=lambda *_: None)
    with Sandbox(tenants=1, scale=150, seed=7) as sb:
        tenant = sb.tenant_ids()[0]
        config = peer_config(sb, tmp_path, tenant)
        env = {**os.environ, **peer_env(sb)}
        discovered = subprocess.run(
            peer_argv(config, discover=True), env=env, capture_output=True, check=True, timeout=300
        )
        streams = sorted(s["tap_stream_id"] for s in json.loads(discovered.stdout)["streams"])
        assert len(streams) == 23, streams  # 2.6.0 dropped employees, expense_claims, receipts
        catalog = peer_catalog(sb, config, tmp_path, streams)
        done = subprocess.run(
            peer_argv(config, catalog), env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        synced: collections.Counter[str] = collections.Counter()
        for line in done.stdout.splitlines():
            message = json.loads(line)
            if message["type"] == "RECORD":
                synced[message["stream"]] += 1
        served = sb.counts()[tenant]

    expected = {stream: served[_collection(stream)] for stream in streams}
    assert {stream: synced[stream] for stream in streams} == expected
    # Paging really happened: the biggest paged streams span several pages of 100.
    assert expected["invoices"] > 100
    assert expected["journals"] > 100

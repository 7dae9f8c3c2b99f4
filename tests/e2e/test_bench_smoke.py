"""The benchmark runs end to end at a tiny size and writes its figures (no goal is asserted)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from bench import other_apis

REPO = Path(__file__).resolve().parents[2]

HEADLINE = (
    "tap_calls_ratio_vs_peer",
    "tap_limit_fraction",
    "multi_tenant_speedup",
    "tap_cpu_ratio_vs_peer",
    "tap_cpu_fraction_of_floor",
    "target_calls_per_record",
    "target_limit_fraction",
    "target_records_per_s",
)


def test_bench_smoke_writes_every_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads((tmp_path / "results.json").read_text())
    for key in HEADLINE:
        assert isinstance(results[key], int | float), key
        assert math.isfinite(results[key]), key
    for side in ("tap", "target"):
        assert math.isfinite(results["rss_ratio_1m_vs_100k"][side]), side
        assert results["rss_mb"][f"{side}_big"] > 0
    assert results["ours_calls"] > 0
    assert results["peer_calls"] > 0
    assert results["errors"] == {}
    for k, row in results["event_calls_per_run"].items():
        assert isinstance(row["events"], int), k
        assert isinstance(row["polling"], int), k
    assert all(isinstance(v, int) for v in results["idle_calls_per_day"].values())
    for side in ("single", "pool"):
        assert results["tenants_per_hour"][side] > 0, side
    assert results["cases"]["tenants"]["pool"]["records"] > 0
    # The other APIs' calls (issue 15): every organisation within its bound.
    assert results["other_apis_calls_within_bound"] is True
    groups = results["cases"]["other_apis"]["groups"]
    assert sorted(s for g in groups for s in g["streams"]) == sorted(other_apis.STREAMS)
    for group in groups:
        for name, tenant in group["tenants"].items():
            assert 0 < tenant["calls"] <= tenant["bound"], (group["streams"], name)

    markdown = (tmp_path / "RESULTS.md").read_text()
    assert "python -m bench.run --smoke" in markdown
    assert "tap_calls_ratio_vs_peer" in markdown
    assert "`tenants_per_hour`" in markdown
    assert f"{results['machine']['cores']} cores" in markdown

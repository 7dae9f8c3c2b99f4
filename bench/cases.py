"""The five measurements of issue 6: calls, time under Xero's limits, CPU, target, memory.

Each case serves the same seeded data to our programs and to the peer, side by side in one run,
and returns plain numbers; ``bench.run`` turns them into ratios, RESULTS.md and results.json.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import world
from .procs import Measured, Program, run_measured, run_rounds, spread
from .world import NO_LIMITS, WORK, Dataset, serve

__all__ = [
    "LATENCY_MS",
    "LATENCY_PER_RECORD_MS",
    "SYNC_STREAMS",
    "Sizes",
    "calls_case",
    "cpu_case",
    "cpu_ratios",
    "limits_case",
    "memory_case",
    "target_case",
]

Log = Callable[[str], None]

SYNC_STREAMS = ("invoices", "contacts", "payments")
LATENCY_MS = 300.0  # per call, sandbox milliseconds
LATENCY_PER_RECORD_MS = 1.0  # per record returned (or sent)
# Invoices with what they reference: contacts, items and tracking categories (a few rows).
TARGET_STREAMS = ("contacts", "items", "tracking_categories", "invoices")


@dataclass(frozen=True)
class Sizes:
    """How big each case is. ``full`` is ``make bench``; ``smoke`` is the test's."""

    name: str
    calls_invoices: int  # one tenant: calls, CPU and the target's source
    limit_invoices: int  # one tenant under real limits (tap_limit_fraction)
    limit_time_scale: float
    multi_tenants: int
    multi_invoices: int  # per tenant
    multi_time_scale: float  # the headline speed-up's
    multi_reference_time_scale: float  # the same runs again, reported beside it
    peer_time_scale: float
    target_limit_time_scale: float
    mem_small: int
    mem_big: int
    target_mem_small: int  # target memory: peak RSS at target_mem_big vs at this many invoices
    target_mem_big: int
    target_limit_invoices: int  # the target under real limits (it runs in sandbox time)
    repeats: int = 2  # each program's runs in the CPU case (best, median and worst reported)
    startup_repeats: int = 5  # each command's runs in the start-up case
    # The peer's runs in the CPU case when fewer than ``repeats`` (at 100,000 invoices one run
    # is about 75 CPU s); 0 leaves it out, for before/after runs of ours alone.
    peer_repeats: int | None = None
    other_apis_scale: int = 200  # the 4-region sandbox of the other APIs' call counts
    other_apis_per_stream: bool = True  # a tap process a stream (else one for all)


def _run_dir(name: str) -> Path:
    path = WORK / "runs" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sandbox_minutes(measured: Measured, time_scale: float) -> float:
    return measured.wall_s * time_scale / 60.0


# -- 1. calls ---------------------------------------------------------------------------------


def calls_case(sizes: Sizes, log: Log) -> dict[str, Any]:
    """API calls of a full sync (invoices, contacts, payments) of one tenant: ours vs the peer.

    Measured at two sizes: ``calls_invoices`` and the limits case's ``limit_invoices``. The
    headline ratio is the larger one's (see ``_calls_at`` for why the size matters).
    """
    runs = [
        _calls_at(Dataset(1, sizes.calls_invoices, empty_tenants=1), "calls", log),
        _calls_at(Dataset(1, sizes.limit_invoices), "calls-large", log),
    ]
    return {**runs[-1], "by_size": runs}


def _calls_at(dataset: Dataset, run_name: str, log: Log) -> dict[str, Any]:
    """Calls of ours and of the peer on one dataset.

    Each side pays at least one call per page, so the ratio approaches the page-size ratio
    (1000 / 100) only when every stream spans many pages: a stream of 3,600 contacts costs us 5
    calls (the cursor's last page re-reads its boundary second) and the peer 37.
    """
    run_dir = _run_dir(run_name)
    with serve(dataset, run_dir, fresh=False, **NO_LIMITS) as sandbox:
        tenant = sandbox.tenant_ids()[0]
        counts = sandbox.counts().get(tenant, {})
        tap_cfg = world.tap_config(sandbox, run_dir, [tenant])
        catalog = world.tap_catalog(tap_cfg, run_dir, SYNC_STREAMS)
        before = sandbox.stats()
        ours = run_measured(
            "ours", world.tap_argv(tap_cfg, catalog), stderr_path=run_dir / "ours.log"
        )
        ours_calls = world.calls_by_tenant(before, sandbox.stats()).get(tenant, 0)
        log(f"calls: ours {ours_calls} calls for {ours.records} records")

        peer_cfg = world.peer_config(sandbox, run_dir, tenant)
        peer_cat = world.peer_catalog(sandbox, peer_cfg, run_dir, SYNC_STREAMS)
        before = sandbox.stats()
        peer = run_measured(
            "peer",
            world.peer_argv(peer_cfg, peer_cat),
            env=world.peer_env(sandbox),
            stderr_path=run_dir / "peer.log",
        )
        peer_calls = world.calls_by_tenant(before, sandbox.stats()).get(tenant, 0)
        log(f"calls: peer {peer_calls} calls for {peer.records} records")
    served = {s: _count(counts, s) for s in SYNC_STREAMS}
    bound = sum(math.ceil(n / 1000) + 1 for n in served.values())
    return {
        "invoices": dataset.scale,
        "records_served": served,
        "ours_calls": ours_calls,
        "ours_records": ours.records,
        "peer_calls": peer_calls,
        "peer_records": peer.records,
        "goal_bound_calls": bound,
        "tap_calls_ratio_vs_peer": peer_calls / ours_calls if ours_calls else math.nan,
    }


def _count(counts: dict[str, Any], stream: str) -> int:
    """Records of ``stream`` in a ``/_sandbox/counts`` tenant entry (keys vary in case)."""
    wanted = stream.replace("_", "").lower()
    for key, value in counts.items():
        if key.replace("_", "").lower() == wanted:
            return int(value)
    return 0


# -- 3. CPU -----------------------------------------------------------------------------------


def _floor_program(sandbox: Any, tenant: str) -> Program:
    token = sandbox.authorize()["access_token"]
    argv = [sys.executable, "-m", "bench.floor", "--api-url", sandbox.url, "--tenant-id", tenant]
    return Program("floor", argv, {"BENCH_ACCESS_TOKEN": token})


def _tap_programs(
    sandbox: Any,
    run_dir: Path,
    tenant: str,
    streams: Sequence[str],
    baselines: Mapping[str, str],
) -> list[Program]:
    """Ours, then each baseline tap (another checkout's ``tap-xero``), each with its own config."""
    programs = []
    for label, executable in {"ours": world.tap_executable(), **baselines}.items():
        config = world.tap_config(sandbox, run_dir, [tenant], name=label)
        catalog = world.tap_catalog(config, run_dir, streams, executable)
        programs.append(Program(label, world.tap_argv(config, catalog, executable)))
    return programs


def _peer_program(
    sandbox: Any, run_dir: Path, tenant: str, streams: Sequence[str], runs: int | None
) -> Program:
    config = world.peer_config(sandbox, run_dir, tenant)
    catalog = world.peer_catalog(sandbox, config, run_dir, streams)
    return Program("peer", world.peer_argv(config, catalog), world.peer_env(sandbox), runs)


def cpu_case(sizes: Sizes, log: Log, baselines: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Whole-process CPU seconds of syncing every invoice: ours, the peer, the floor (, baselines).

    Zero latency and no limits, at ``calls_invoices`` and ``limit_invoices``. CPU is the
    kernel's user + system time of each process and the children it waited for, start-up
    included; every program runs ``repeats`` times, interleaved, on the same served data.
    Ratios divide best by best, and median by median.
    """
    datasets = [Dataset(1, sizes.limit_invoices)]
    if sizes.calls_invoices != sizes.limit_invoices:  # the smoke sizes are one size
        datasets.insert(0, Dataset(1, sizes.calls_invoices, empty_tenants=1))
    by_size = [_cpu_at(dataset, sizes, log, baselines or {}) for dataset in datasets]
    return {**by_size[-1], "by_size": by_size}


def _cpu_at(
    dataset: Dataset, sizes: Sizes, log: Log, baselines: Mapping[str, str]
) -> dict[str, Any]:
    run_dir = _run_dir(f"cpu-{dataset.scale}")
    with serve(dataset, run_dir, fresh=False, **NO_LIMITS) as sandbox:
        tenant = sandbox.tenant_ids()[0]
        programs = [
            _floor_program(sandbox, tenant),
            *_tap_programs(sandbox, run_dir, tenant, ("invoices",), baselines),
            _peer_program(sandbox, run_dir, tenant, ("invoices",), sizes.peer_repeats),
        ]
        runs = run_rounds(programs, sizes.repeats, run_dir, log, f"cpu {dataset.scale:,}")
    out: dict[str, Any] = {
        "invoices": dataset.scale,
        "repeats": sizes.repeats,
        "programs": {label: spread(measured) for label, measured in runs.items()},
    }
    return {**out, **cpu_ratios(out["programs"])}


def cpu_ratios(programs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The CPU case's ratios: others' CPU seconds over ours (higher is better for us)."""

    def ratio(other: str, key: str) -> float:
        ours = programs["ours"][key]
        if other not in programs or not ours:
            return math.nan
        return float(programs[other][key] / ours)

    out: dict[str, Any] = {
        "tap_cpu_ratio_vs_peer": ratio("peer", "best_cpu_s"),
        "tap_cpu_fraction_of_floor": ratio("floor", "best_cpu_s"),
        "median_ratio_vs_peer": ratio("peer", "median_cpu_s"),
        "median_fraction_of_floor": ratio("floor", "median_cpu_s"),
    }
    for label in programs:
        if label not in ("ours", "peer", "floor"):
            out.setdefault("baselines", {})[label] = {
                "best": ratio(label, "best_cpu_s"),
                "median": ratio(label, "median_cpu_s"),
            }
    return out


# The target case's zero-latency run doubles as the memory case's small target run.
_TARGET_RUNS: dict[str, dict[str, Any]] = {}


def _figures(m: Measured) -> dict[str, Any]:
    return {
        "records": m.records,
        "wall_s": round(m.wall_s, 3),
        "cpu_s": round(m.cpu_s, 3),
        "first_record_s": None if m.first_record_s is None else round(m.first_record_s, 3),
        "records_per_s": round(m.records_per_s, 1),
        "steady_records_per_s": round(m.steady_records_per_s, 1),
        "steady_records_per_cpu_s": round(m.steady_records_per_cpu_s, 1),
        "max_rss_mb": round(m.max_rss_mb, 1),
    }


# -- 2. time under Xero's limits --------------------------------------------------------------


def _limited(time_scale: float) -> dict[str, Any]:
    return {
        "time_scale": time_scale,
        "latency_ms": LATENCY_MS,
        "latency_per_record_ms": LATENCY_PER_RECORD_MS,
    }


def _tap_under_limits(
    dataset: Dataset, run_name: str, time_scale: float, tenants: int, log: Log
) -> dict[str, Any]:
    run_dir = _run_dir(run_name)
    with serve(dataset, run_dir, fresh=True, **_limited(time_scale)) as sandbox:
        chosen = sandbox.tenant_ids()[:tenants]
        tap_cfg = world.tap_config(sandbox, run_dir, chosen)
        catalog = world.tap_catalog(tap_cfg, run_dir, SYNC_STREAMS)
        before = sandbox.stats()
        m = run_measured("ours", world.tap_argv(tap_cfg, catalog), stderr_path=run_dir / "ours.log")
        after = sandbox.stats()
    calls = world.calls_by_tenant(before, after)
    minutes = _sandbox_minutes(m, time_scale)
    result = {
        "tenants": len(chosen),
        "time_scale": time_scale,
        "records": m.records,
        "calls": sum(calls.get(t, 0) for t in chosen),
        "rate_limited": after.get("rate_limited", {}),
        "wall_s": round(m.wall_s, 2),
        "sandbox_minutes": round(minutes, 3),
        "records_per_min": m.records / minutes,
        "records_per_min_per_tenant": m.records / minutes / len(chosen),
        "calls_per_min_per_tenant": sum(calls.get(t, 0) for t in chosen) / minutes / len(chosen),
    }
    log(
        f"limits: ours {len(chosen)} tenant(s) {m.records} records in {minutes:.2f} sandbox min "
        f"= {result['records_per_min_per_tenant']:,.0f} records/min/tenant"
    )
    return result


def _peer_under_limits(dataset: Dataset, time_scale: float, log: Log) -> dict[str, Any]:
    run_dir = _run_dir("limits-peer")
    with serve(dataset, run_dir, fresh=True, **_limited(time_scale)) as sandbox:
        tenant = sandbox.tenant_ids()[0]
        cfg = world.peer_config(sandbox, run_dir, tenant)
        cat = world.peer_catalog(sandbox, cfg, run_dir, SYNC_STREAMS)
        before = sandbox.stats()
        m = run_measured(
            "peer",
            world.peer_argv(cfg, cat),
            env=world.peer_env(sandbox),
            stderr_path=run_dir / "peer.log",
        )
        after = sandbox.stats()
    minutes = _sandbox_minutes(m, time_scale)
    calls = world.calls_by_tenant(before, after).get(tenant, 0)
    log(f"limits: peer {m.records} records in {minutes:.2f} sandbox min")
    return {
        "tenants": 1,
        "time_scale": time_scale,
        "records": m.records,
        "calls": calls,
        "rate_limited": after.get("rate_limited", {}),
        "wall_s": round(m.wall_s, 2),
        "sandbox_minutes": round(minutes, 3),
        "records_per_min_per_tenant": m.records / minutes,
        "calls_per_min_per_tenant": calls / minutes,
    }


def _speedup(dataset: Dataset, time_scale: float, tenants: int, log: Log) -> dict[str, Any]:
    """Records per sandbox minute of all ``tenants`` together over one tenant alone."""
    tag = f"{time_scale:g}"
    one = _tap_under_limits(dataset, f"limits-multi-1-x{tag}", time_scale, 1, log)
    many = _tap_under_limits(dataset, f"limits-multi-n-x{tag}", time_scale, tenants, log)
    return {
        "multi_one_tenant": one,
        "multi_all_tenants": many,
        "multi_tenant_speedup": many["records_per_min"] / one["records_per_min"],
    }


def limits_case(sizes: Sizes, log: Log, peer: bool = True) -> dict[str, Any]:
    """Records per minute under real limits and latency; one tenant vs ten; the peer beside."""
    single = _tap_under_limits(
        Dataset(1, sizes.limit_invoices), "limits-one", sizes.limit_time_scale, 1, log
    )
    multi_data = Dataset(sizes.multi_tenants, sizes.multi_invoices)
    speedups = [
        _speedup(multi_data, scale, sizes.multi_tenants, log)
        for scale in (sizes.multi_time_scale, sizes.multi_reference_time_scale)
    ]
    out: dict[str, Any] = {
        "page_size": 1000,
        "latency": f"{LATENCY_MS:.0f} ms + {LATENCY_PER_RECORD_MS:.0f} ms/record (sandbox time)",
        "one_tenant": single,
        **speedups[0],
        "reference": speedups[1],
        "tap_limit_fraction": single["records_per_min_per_tenant"] / (60 * 1000),
    }
    if peer:
        out["peer"] = _peer_under_limits(multi_data, sizes.peer_time_scale, log)
        out["peer_limit_fraction"] = out["peer"]["records_per_min_per_tenant"] / (60 * 100)
    return out


# -- 4. target --------------------------------------------------------------------------------


def singer_input(dataset: Dataset, log: Log) -> Path:
    """Invoices with what they reference, from the first tenant, as a .singer file (cached).

    Our tap writes streams in its own order (invoices before items); the file puts the
    referenced streams first, as a migration would feed them, by running the tap twice.
    """
    path = WORK / "singer" / f"{'-'.join(TARGET_STREAMS)}-{dataset.path.stem}.singer"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    run_dir = _run_dir(f"singer-{dataset.scale}")
    records = 0
    with serve(dataset, run_dir, fresh=False, **NO_LIMITS) as sandbox:
        tenant = sandbox.tenant_ids()[0]
        cfg = world.tap_config(sandbox, run_dir, [tenant])
        parts = []
        for group in (TARGET_STREAMS[:-1], TARGET_STREAMS[-1:]):
            catalog = world.tap_catalog(cfg, run_dir, group)
            part = path.with_suffix(f".{group[-1]}.partial")
            m = run_measured(
                "tap",
                world.tap_argv(cfg, catalog),
                copy_stdout_to=part,
                stderr_path=run_dir / "tap.log",
            )
            records += m.records
            parts.append(part)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as chunk:
                shutil.copyfileobj(chunk, out, 1 << 20)
            part.unlink()
    partial.rename(path)
    log(f"target input: {records} records from tenant A -> {path.name}")
    return path


def _target_run(
    source: Path, dataset: Dataset, run_name: str, log: Log, **flags: Any
) -> dict[str, Any]:
    """Load ``source`` into the empty tenant of a fresh copy of ``dataset``."""
    run_dir = _run_dir(run_name)
    with serve(dataset, run_dir, fresh=True, **flags) as sandbox:
        tenants = sandbox.tenants()
        empty = next(t["tenantId"] for t in tenants if t.get("empty"))
        cfg = world.target_config(sandbox, run_dir, empty)
        before = sandbox.stats()
        m = run_measured(
            "target",
            world.target_argv(cfg),
            stdin_path=source,
            count_records=False,
            stderr_path=run_dir / "target.log",
        )
        calls = world.calls_by_tenant(before, sandbox.stats()).get(empty, 0)
        counts = sandbox.counts().get(empty, {})
    audit = _audit(run_dir / "audit.jsonl")
    rejected = _lines(run_dir / "rejects.jsonl")
    records = _records_in(source)
    by_path = _requests_by_path(run_dir / "target.log")
    logged_writes = sum(n for key, n in by_path.items() if not key.startswith("GET "))
    # httpx logs every request the target sends; without those lines, fall back to counting
    # one write per distinct Idempotency-Key in the audit file.
    writes = logged_writes if by_path else audit["write_requests"]
    out = {
        "records_in": records,
        "written": audit["written"],
        "rejected": rejected,
        "calls": calls,
        "write_calls": writes,
        "lookup_calls": calls - writes,
        "wall_s": round(m.wall_s, 2),
        "cpu_s": round(m.cpu_s, 2),
        "max_rss_mb": round(m.max_rss_mb, 1),
        "records_per_s": records / m.wall_s if m.wall_s else 0.0,
        "tenant_b_counts": {s: _count(counts, s) for s in TARGET_STREAMS},
        "requests_by_path": by_path,
    }
    log(
        f"target {run_name}: {records} records, {writes} writes + {calls - writes} lookups, "
        f"{out['records_per_s']:,.0f} records/s, {m.max_rss_mb:.0f} MB"
    )
    return out


def _audit(path: Path) -> dict[str, int]:
    """Written records, and write requests = distinct idempotency keys (one per request)."""
    keys: set[str] = set()
    written = 0
    if path.exists():
        with path.open() as lines:
            for line in lines:
                entry = json.loads(line)
                if entry.get("action") in ("created", "updated"):
                    written += 1
                    if entry.get("idempotency_key"):
                        keys.add(entry["idempotency_key"])
    return {"written": written, "write_requests": len(keys)}


_REQUEST_LINE = re.compile(rb"HTTP Request: ([A-Z]+) https?://[^/ ]+(/api\.xro/2\.0/[^ ?\"]*)")
_GUID = re.compile(rb"/[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}")


def _requests_by_path(log: Path) -> dict[str, int]:
    """Accounting API requests in a target log (httpx's INFO lines), by method and path shape."""
    counts: Counter[str] = Counter()
    if log.exists():
        with log.open("rb") as lines:
            for line in lines:
                match = _REQUEST_LINE.search(line)
                if match:
                    path = _GUID.sub(b"/{id}", match.group(2)).decode()
                    counts[f"{match.group(1).decode()} {path}"] += 1
    return dict(counts.most_common())


def _lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as f:
        return sum(1 for _ in f)


def _records_in(path: Path) -> int:
    count = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b'"type":"RECORD"')
    return count


def target_case(sizes: Sizes, log: Log) -> dict[str, Any]:
    """Write calls per record, rate under limits and throughput with zero latency."""
    dataset = Dataset(1, sizes.calls_invoices, empty_tenants=1)
    source = singer_input(dataset, log)
    fast = _target_run(source, dataset, "target-fast", log, **NO_LIMITS)
    _TARGET_RUNS["fast"] = fast
    scale = sizes.target_limit_time_scale
    small = Dataset(1, sizes.target_limit_invoices, empty_tenants=1)
    limited = _target_run(singer_input(small, log), small, "target-limits", log, **_limited(scale))
    minutes = limited["wall_s"] * scale / 60.0
    limited["time_scale"] = scale
    limited["sandbox_minutes"] = round(minutes, 3)
    limited["records_per_min"] = limited["records_in"] / minutes
    return {
        "invoices": sizes.calls_invoices,
        "invoices_under_limits": sizes.target_limit_invoices,
        "zero_latency": fast,
        "under_limits": limited,
        "target_calls_per_record": fast["write_calls"] / fast["records_in"],
        "target_lookups_per_record": fast["lookup_calls"] / fast["records_in"],
        "target_limit_fraction": limited["records_per_min"] / (60 * 50),
        "target_records_per_s": fast["records_per_s"],
    }


# -- 5. memory --------------------------------------------------------------------------------


def _tap_rss(invoices: int, log: Log) -> dict[str, Any]:
    dataset = Dataset(1, invoices)
    run_dir = _run_dir(f"memory-tap-{invoices}")
    with serve(dataset, run_dir, fresh=False, **NO_LIMITS) as sandbox:
        tenant = sandbox.tenant_ids()[0]
        cfg = world.tap_config(sandbox, run_dir, [tenant])
        catalog = world.tap_catalog(cfg, run_dir, ("invoices",))
        m = run_measured("tap", world.tap_argv(cfg, catalog), stderr_path=run_dir / "tap.log")
    log(
        f"memory: tap {m.records} invoices, peak RSS {m.max_rss_mb:.0f} MB, "
        f"{m.records_per_s:,.0f} records/s"
    )
    return {"invoices": invoices, **_figures(m)}


def memory_case(sizes: Sizes, log: Log) -> dict[str, Any]:
    """Peak RSS of the tap, and of the target, at two sizes each.

    The target loads ``target_mem_small`` and ``target_mem_big`` invoices with zero latency;
    the target case's zero-latency run is reused for the big one when it ran first.
    """
    tap_small = _tap_rss(sizes.mem_small, log)
    tap_big = _tap_rss(sizes.mem_big, log)
    target_small = _target_rss(sizes.target_mem_small, log)
    target_big = (
        _TARGET_RUNS.get("fast")
        if sizes.target_mem_big == sizes.calls_invoices and "fast" in _TARGET_RUNS
        else None
    ) or _target_rss(sizes.target_mem_big, log)
    return {
        "tap": {
            "small": tap_small,
            "big": tap_big,
            "ratio": tap_big["max_rss_mb"] / tap_small["max_rss_mb"],
        },
        "target": {
            "small": {"invoices": sizes.target_mem_small, **target_small},
            "big": {"invoices": sizes.target_mem_big, **target_big},
            "ratio": target_big["max_rss_mb"] / target_small["max_rss_mb"],
        },
    }


def _target_rss(invoices: int, log: Log) -> dict[str, Any]:
    dataset = Dataset(1, invoices, empty_tenants=1)
    return _target_run(
        singer_input(dataset, log), dataset, f"memory-target-{invoices}", log, **NO_LIMITS
    )


def seed_all(sizes: Sizes, log: Log, datasets: Sequence[Dataset]) -> None:
    """Seed every dataset up front so that seeding never lands inside a measurement."""
    for dataset in datasets:
        dataset.ensure(log)

"""``python -m bench.run``: run every case and write bench/RESULTS.md and bench/results.json.

    python -m bench.run            # full size (make bench)
    python -m bench.run --smoke    # tiny sizes, what make test runs
    python -m bench.run --only calls,cpu --out-dir /tmp/x
    python -m bench.run --only cpu,startup --merge --baseline before=../old/.venv/bin/tap-xero

Figures are ratios measured side by side in one run, so a slower or busier machine moves both
sides together. Goals (issue 6) are stated in RESULTS.md, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import cases, events, freshness, other_apis, startup, tenants, world
from .cases import Sizes
from .report import write_markdown

__all__ = ["FULL", "SMOKE", "main", "run"]

FULL = Sizes(
    name="full",
    calls_invoices=20_000,
    limit_invoices=100_000,
    limit_time_scale=2.0,
    multi_tenants=10,
    multi_invoices=10_000,
    multi_time_scale=0.25,
    multi_reference_time_scale=1.0,
    peer_time_scale=2.0,
    target_limit_time_scale=1.0,
    mem_small=100_000,
    mem_big=1_000_000,
    target_mem_small=2_000,
    target_mem_big=20_000,
    target_limit_invoices=10_000,
    repeats=3,
    startup_repeats=7,
    other_apis_scale=2000,
)

SMOKE = Sizes(
    name="smoke",
    calls_invoices=300,
    limit_invoices=300,
    limit_time_scale=60.0,
    multi_tenants=2,
    multi_invoices=200,
    multi_time_scale=60.0,
    multi_reference_time_scale=30.0,
    peer_time_scale=60.0,
    target_limit_time_scale=60.0,
    mem_small=200,
    mem_big=400,
    target_mem_small=150,
    target_mem_big=300,
    target_limit_invoices=150,
    repeats=1,
    startup_repeats=1,
    other_apis_scale=20,
    other_apis_per_stream=False,
)

CASES = (
    "calls",
    "cpu",
    "startup",
    "limits",
    "target",
    "memory",
    "events",
    "tenants",
    "freshness",
    "other_apis",
)
# Not at smoke size unless named: it runs dagster-daemon and PostgreSQL for minutes.
FULL_ONLY = ("freshness",)

# results.json keys (issue 6) and where each comes from.
HEADLINE_KEYS = (
    "tap_calls_ratio_vs_peer",
    "tap_limit_fraction",
    "multi_tenant_speedup",
    "tap_cpu_ratio_vs_peer",
    "tap_cpu_fraction_of_floor",
    "target_calls_per_record",
    "target_limit_fraction",
    "target_records_per_s",
    "rss_ratio_1m_vs_100k",
    "event_calls_per_run",
    "idle_calls_per_day",
    "event_freshness_p95_s",
    "tenants_per_hour",
    "other_apis_calls_within_bound",
)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "singer_xero": _version("singer-xero"),
        "singer_sdk": _version("singer-sdk"),
        "httpx": _version("httpx"),
        "msgspec": _version("msgspec"),
        "peer": f"tap-xero {world.PEER_VERSION} (singer-io), " + world.peer_versions(),
    }


def _cpu_ratios(cpu: dict[str, Any]) -> None:
    """(Re)derive the CPU case's ratios from its per-program figures, at each size."""
    for at_size in [cpu, *cpu.get("by_size", [])]:
        if "programs" in at_size:
            at_size.update(cases.cpu_ratios(at_size["programs"]))


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The flat results.json figures from the cases' results."""
    if "cpu" in results:
        _cpu_ratios(results["cpu"])
    return {**_goal_figures(results), **_supporting_figures(results)}


def _goal_figures(results: dict[str, Any]) -> dict[str, Any]:
    """The figures the issues set goals for (and the RESULTS.md headline table shows)."""
    out: dict[str, Any] = {}
    calls = results.get("calls", {})
    cpu = results.get("cpu", {})
    limits = results.get("limits", {})
    target = results.get("target", {})
    memory = results.get("memory", {})
    out["tap_calls_ratio_vs_peer"] = calls.get("tap_calls_ratio_vs_peer", math.nan)
    out["tap_limit_fraction"] = limits.get("tap_limit_fraction", math.nan)
    out["multi_tenant_speedup"] = limits.get("multi_tenant_speedup", math.nan)
    out["tap_cpu_ratio_vs_peer"] = cpu.get("tap_cpu_ratio_vs_peer", math.nan)
    out["tap_cpu_fraction_of_floor"] = cpu.get("tap_cpu_fraction_of_floor", math.nan)
    out["target_calls_per_record"] = target.get("target_calls_per_record", math.nan)
    out["target_limit_fraction"] = target.get("target_limit_fraction", math.nan)
    out["target_records_per_s"] = target.get("target_records_per_s", math.nan)
    out["rss_ratio_1m_vs_100k"] = {
        "tap": memory.get("tap", {}).get("ratio", math.nan),
        "target": memory.get("target", {}).get("ratio", math.nan),
    }
    webhooks = results.get("events", {})
    out["event_calls_per_run"] = {
        k: {"events": row["event_calls"], "polling": row["polling_calls"]}
        for k, row in webhooks.get("event_calls_per_run", {}).items()
    }
    out["idle_calls_per_day"] = webhooks.get("idle_calls_per_day", {})
    out["event_freshness_p95_s"] = results.get("freshness", {}).get(
        "event_freshness_p95_s", math.nan
    )
    many = results.get("tenants", {})
    out["tenants_per_hour"] = {
        side: many.get(side, {}).get("tenants_per_hour", math.nan) for side in ("single", "pool")
    }
    other = results.get("other_apis", {})
    out["other_apis_calls_within_bound"] = other.get("all_within_bound", math.nan)
    return out


def _supporting_figures(results: dict[str, Any]) -> dict[str, Any]:
    """The figures beside the goals: calls, CPU seconds, peak RSS and the like."""
    calls = results.get("calls", {})
    cpu = results.get("cpu", {})
    limits = results.get("limits", {})
    target = results.get("target", {})
    memory = results.get("memory", {})
    out: dict[str, Any] = {}
    out["target_lookups_per_record"] = target.get("target_lookups_per_record", math.nan)
    out["multi_tenant_speedup_reference"] = limits.get("reference", {}).get(
        "multi_tenant_speedup", math.nan
    )
    out["peer_records_per_min_under_limits"] = limits.get("peer", {}).get(
        "records_per_min_per_tenant", math.nan
    )
    out["ours_records_per_min_under_limits"] = limits.get("one_tenant", {}).get(
        "records_per_min_per_tenant", math.nan
    )
    out["ours_calls"] = calls.get("ours_calls", math.nan)
    out["peer_calls"] = calls.get("peer_calls", math.nan)
    out["cpu_s"] = {
        label: figures.get("best_cpu_s", math.nan)
        for label, figures in cpu.get("programs", {}).items()
    }
    tap_mem = memory.get("tap", {})
    target_mem = memory.get("target", {})
    out["rss_mb"] = {
        "tap_small": tap_mem.get("small", {}).get("max_rss_mb", math.nan),
        "tap_big": tap_mem.get("big", {}).get("max_rss_mb", math.nan),
        "target_small": target_mem.get("small", {}).get("max_rss_mb", math.nan),
        "target_big": target_mem.get("big", {}).get("max_rss_mb", math.nan),
    }
    return out


def _kept(
    out_dir: Path, only: tuple[str, ...], merge: bool
) -> tuple[dict[str, Any], dict[str, str], dict[str, float]]:
    """The results, errors and timings of the cases not run now (with ``merge``), else none."""
    previous = out_dir / "results.json"
    if not (merge and previous.exists()):
        return {}, {}, {}
    kept = json.loads(previous.read_text())

    def others(section: str) -> dict[str, Any]:
        return {k: v for k, v in kept.get(section, {}).items() if k not in only}

    return others("cases"), others("errors"), others("case_seconds")


def _runners(
    baselines: Mapping[str, str] | None,
) -> dict[str, Callable[[Sizes, Callable[[str], None]], dict[str, Any]]]:
    """Each case's function, by name."""
    return {
        "calls": cases.calls_case,
        "cpu": functools.partial(cases.cpu_case, baselines=baselines),
        "startup": functools.partial(startup.startup_case, baselines=baselines),
        "limits": cases.limits_case,
        "target": cases.target_case,
        "memory": cases.memory_case,
        "events": events.events_case,
        "freshness": freshness.freshness_case,
        "tenants": tenants.tenants_case,
        "other_apis": other_apis.other_apis_case,
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run(
    sizes: Sizes,
    only: tuple[str, ...] = CASES,
    out_dir: Path = world.BENCH_DIR,
    command: str = "",
    log: Callable[[str], None] = lambda line: print(line, flush=True),
    baselines: Mapping[str, str] | None = None,
    merge: bool = False,
) -> dict[str, Any]:
    """Run the cases named in ``only`` at ``sizes``; write RESULTS.md and results.json.

    ``baselines`` (label -> another checkout's ``tap-xero``) run beside ours in the CPU and
    start-up cases. With ``merge``, the other cases' figures already in ``out_dir`` are kept.
    """
    started = time.perf_counter()
    world.ensure_peer(log)
    results, errors, timings = _kept(out_dir, only, merge)
    runners = _runners(baselines)
    out_dir.mkdir(parents=True, exist_ok=True)

    def write() -> dict[str, Any]:
        report = {
            **headline(results),
            "sizes": sizes.__dict__,
            "machine": machine(),
            "command": command,
            "finished_utc": _now(),
            "seconds": round(time.perf_counter() - started, 1),
            "case_seconds": timings,
            "errors": errors,
            "cases": results,
        }
        _write_report(out_dir, report)
        return report

    for name in only:
        log(f"== {name}")
        case_started = time.perf_counter()
        try:
            results[name] = runners[name](sizes, log)
            results[name].setdefault("command", command)
            results[name].setdefault("finished_utc", _now())
        except Exception as exc:  # one failed case must not hide the others' figures
            errors[name] = f"{type(exc).__name__}: {exc}"
            log(f"{name} failed: {errors[name]}")
        timings[name] = round(time.perf_counter() - case_started, 1)
        write()  # a run stopped midway still leaves the figures measured so far
    report = write()
    log(f"wrote {out_dir / 'RESULTS.md'} and results.json in {report['seconds']:.0f} s")
    return report


def _write_report(out_dir: Path, report: dict[str, Any]) -> None:
    """results.json and RESULTS.md in ``out_dir``."""
    (out_dir / "results.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    write_markdown(out_dir / "RESULTS.md", report)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (make test)")
    parser.add_argument("--only", default=None, help="comma list of cases (default: all)")
    parser.add_argument("--out-dir", type=Path, default=world.BENCH_DIR)
    parser.add_argument(
        "--sizes", default=None, help="JSON object overriding fields of the chosen sizes"
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="LABEL=TAP",
        help="another checkout's tap-xero, run beside ours in the cpu and startup cases "
        "(e.g. before=/path/to/old/.venv/bin/tap-xero); may be repeated",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the figures of cases not run now from --out-dir/results.json",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only re-render RESULTS.md from --out-dir/results.json (after editing NOTES.md)",
    )
    return parser


def _render(out_dir: Path) -> None:
    """Derive the headline again from results.json's cases and write both files."""
    report = json.loads((out_dir / "results.json").read_text())
    report.update(headline(report["cases"]))
    _write_report(out_dir, report)


def _baselines(parser: argparse.ArgumentParser, specs: list[str]) -> dict[str, str]:
    """``--baseline LABEL=TAP`` options as label -> tap."""
    baselines = {}
    for spec in specs:
        label, _, tap = spec.partition("=")
        if not tap or label in ("ours", "peer", "floor"):
            parser.error(f"--baseline {spec!r}: give LABEL=PATH, LABEL not ours, peer or floor")
        baselines[label] = tap
    return baselines


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.render:
        _render(args.out_dir)
        return 0
    default = [c for c in CASES if not (args.smoke and c in FULL_ONLY)]
    only = tuple(c for c in (args.only or ",".join(default)).split(",") if c)
    unknown = [c for c in only if c not in CASES]
    if unknown:
        parser.error(f"--only: unknown case(s) {', '.join(unknown)}; choose from {CASES}")
    sizes = SMOKE if args.smoke else FULL
    if args.sizes:
        sizes = Sizes(**{**sizes.__dict__, **json.loads(args.sizes), "name": "custom"})
    baselines = _baselines(parser, args.baseline)
    command = "python -m bench.run " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    report = run(sizes, only, args.out_dir, command.strip(), baselines=baselines, merge=args.merge)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

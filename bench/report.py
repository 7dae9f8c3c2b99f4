"""Write bench/RESULTS.md from a run's report (the same data as results.json).

The generated part is the figures; the hand-written part (method, where the peer cannot run a
case, profiles and findings) lives in ``bench/NOTES.md`` and is copied in below the tables.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["write_markdown"]

NOTES = Path(__file__).resolve().parent / "NOTES.md"

# (key, what it is, goal text, goal test)
GOALS: tuple[tuple[str, str, str, Any], ...] = (
    (
        "tap_calls_ratio_vs_peer",
        "API calls of a full sync, peer / ours",
        ">= 9.5",
        lambda v: v >= 9.5,
    ),
    (
        "tap_limit_fraction",
        "records/min/tenant under limits / (60 x 1000)",
        ">= 0.9",
        lambda v: v >= 0.9,
    ),
    ("multi_tenant_speedup", "records/min, 10 tenants / 1 tenant", ">= 8", lambda v: v >= 8),
    (
        "tap_cpu_ratio_vs_peer",
        "whole-process CPU s syncing the invoices, peer / ours (best of each, largest size)",
        ">= 20",
        lambda v: v >= 20,
    ),
    (
        "tap_cpu_fraction_of_floor",
        "whole-process CPU s syncing the invoices, floor / ours (best of each, largest size)",
        ">= 0.6",
        lambda v: v >= 0.6,
    ),
    (
        "target_calls_per_record",
        "write calls per record (lookups apart)",
        "<= 0.021",
        lambda v: v <= 1.05 / 50,
    ),
    ("target_limit_fraction", "records/min under limits / (60 x 50)", ">= 0.9", lambda v: v >= 0.9),
    ("target_records_per_s", "target records/s, zero latency", "(figure)", None),
)


def _num(value: Any, digits: int = 2) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def _verdict(value: Any, test: Any) -> str:
    if test is None:
        return ""
    if not isinstance(value, int | float) or math.isnan(value):
        return "not measured"
    return "met" if test(value) else "**missed**"


def _figures_table(report: dict[str, Any]) -> list[str]:
    lines = ["| figure | value | goal | verdict | what |", "|---|---|---|---|---|"]
    for key, what, goal, test in GOALS:
        value = report.get(key)
        lines.append(f"| `{key}` | {_num(value)} | {goal} | {_verdict(value, test)} | {what} |")
    rss = report.get("rss_ratio_1m_vs_100k", {})
    mb = report.get("rss_mb", {})
    sizes = report.get("sizes", {})
    for side in ("tap", "target"):
        value = rss.get(side, math.nan)
        small = mb.get(f"{side}_small", math.nan)
        big = mb.get(f"{side}_big", math.nan)
        if side == "tap":
            span = f"{_num(sizes.get('mem_big'))} vs {_num(sizes.get('mem_small'))} invoices"
        else:
            span = (
                f"{_num(sizes.get('target_mem_big'))} vs "
                f"{_num(sizes.get('target_mem_small'))} invoices (+ contacts)"
            )
        lines.append(
            f"| `rss_ratio_1m_vs_100k.{side}` | {_num(value)} | <= 1.2 | "
            f"{_verdict(value, lambda v: v <= 1.2)} | peak RSS {span}: "
            f"{_num(big, 0)} MB / {_num(small, 0)} MB |"
        )
    return lines


def _case_lines(report: dict[str, Any]) -> list[str]:
    cases = report.get("cases", {})
    return [
        *_calls_lines(cases.get("calls")),
        *_cpu_lines(cases.get("cpu")),
        *_startup_lines(cases.get("startup")),
        *_limits_lines(cases.get("limits")),
        *_target_lines(cases.get("target")),
        *_memory_lines(cases.get("memory")),
        *_webhook_lines(cases.get("events")),
        *_freshness_lines(cases.get("freshness")),
        *_tenants_lines(cases.get("tenants")),
        *_other_apis_lines(cases.get("other_apis")),
    ]


def _calls_lines(calls: dict[str, Any] | None) -> list[str]:
    """Section 1: calls of a full sync at each size, ours and the peer's."""
    if not calls:
        return []
    out = [
        "### 1. Calls (one tenant; invoices, contacts, payments; zero latency)",
        "",
        "| invoices | served (invoices, contacts, payments) | ours: calls | peer: calls | "
        "ours: records per call | peer: records per call | bound: sum of ceil(n/1000)+1 | "
        "peer / ours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in calls.get("by_size", [calls]):
        served = run["records_served"]
        out.append(
            f"| {_num(run['invoices'])} | "
            + ", ".join(_num(served.get(s, 0)) for s in ("invoices", "contacts", "payments"))
            + f" | {_num(run['ours_calls'])} | {_num(run['peer_calls'])} | "
            f"{_num(run['ours_records'] / max(run['ours_calls'], 1), 1)} | "
            f"{_num(run['peer_records'] / max(run['peer_calls'], 1), 1)} | "
            f"{_num(run['goal_bound_calls'])} | {_num(run['tap_calls_ratio_vs_peer'])} |"
        )
    out += [
        "",
        f"The headline `tap_calls_ratio_vs_peer` is the {_num(calls['invoices'])}-invoice "
        "row (why the size matters: NOTES, finding 2).",
        "",
    ]
    return out


def _limits_lines(limits: dict[str, Any] | None) -> list[str]:
    """Section 2: records and calls a minute under Xero's limits."""
    if not limits:
        return []
    out = [
        f"### 2. Time under Xero's limits ({limits['latency']}, pageSize 1000)",
        "",
        "| run | tenants | time scale | records | calls | sandbox min | records/min/tenant |"
        " calls/min/tenant | 429s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    reference = limits.get("reference", {})
    for label, r in (
        ("ours, one tenant (tap_limit_fraction)", limits.get("one_tenant")),
        ("ours, 1 tenant of the multi-tenant data", limits.get("multi_one_tenant")),
        ("ours, all tenants (multi_tenant_speedup)", limits.get("multi_all_tenants")),
        ("ours, 1 tenant (reference)", reference.get("multi_one_tenant")),
        ("ours, all tenants (reference)", reference.get("multi_all_tenants")),
        ("peer, 1 tenant of the multi-tenant data", limits.get("peer")),
    ):
        if r:
            out.append(
                f"| {label} | {r['tenants']} | {_num(r['time_scale'])} | "
                f"{_num(r['records'])} | {_num(r['calls'])} | {_num(r['sandbox_minutes'])} | "
                f"{_num(r['records_per_min_per_tenant'])} | "
                f"{_num(r['calls_per_min_per_tenant'], 1)} | {r.get('rate_limited') or 0} |"
            )
    if reference:
        out += [
            "",
            f"Speed-up of all tenants over one: {_num(limits['multi_tenant_speedup'])} at "
            f"time scale {_num(limits['multi_all_tenants']['time_scale'])} (the headline), "
            f"{_num(reference['multi_tenant_speedup'])} at time scale "
            f"{_num(reference['multi_all_tenants']['time_scale'])} (NOTES, finding 4).",
        ]
    if "peer_limit_fraction" in limits:
        out += [
            "",
            f"The peer reaches {_num(limits['peer_limit_fraction'])} of its own "
            "ceiling (60 calls x 100 records a minute).",
        ]
    out.append("")
    return out


def _target_lines(target: dict[str, Any] | None) -> list[str]:
    """Section 4: the target at zero latency and under the limits."""
    if not target:
        return []
    out = [
        f"### 4. Target ({_num(target['invoices'])} invoices with their contacts, "
        "tenant A -> empty tenant B)",
        "",
        "| run | records | written | rejected | write calls | lookup calls | wall s | "
        "records/s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, key in (("zero latency", "zero_latency"), ("under limits", "under_limits")):
        r = target[key]
        out.append(
            f"| {label} | {_num(r['records_in'])} | {_num(r['written'])} | "
            f"{_num(r['rejected'])} | {_num(r['write_calls'])} | {_num(r['lookup_calls'])} | "
            f"{_num(r['wall_s'])} | {_num(r['records_per_s'])} | {_num(r['max_rss_mb'], 0)} |"
        )
    lim = target["under_limits"]
    out += [
        "",
        f"Under limits (time scale {_num(lim['time_scale'])}): "
        f"{_num(lim['records_per_min'])} records per sandbox minute. Lookups per record: "
        f"{_num(target['target_lookups_per_record'], 4)}. Write calls are counted as distinct "
        "Idempotency-Keys in the audit file (one per request); lookups are the tenant's other "
        "calls in `/_sandbox/stats`.",
        "",
    ]
    return out


def _memory_lines(memory: dict[str, Any] | None) -> list[str]:
    """Section 5: peak RSS of the tap and the target at two sizes."""
    if not memory:
        return []
    out = [
        "### 5. Memory (peak RSS from the kernel, `wait4`)",
        "",
        "| program | size | peak RSS MB | records/s |",
        "|---|---|---|---|",
    ]
    for side in ("tap", "target"):
        for size in ("small", "big"):
            r = memory[side][size]
            rate = r.get("records_per_s", math.nan)
            out.append(
                f"| {side} | {_num(r['invoices'])} invoices | "
                f"{_num(r['max_rss_mb'], 0)} | {_num(rate)} |"
            )
    out.append("")
    return out


def _other_apis_lines(other: dict[str, Any] | None) -> list[str]:
    """Section 9: calls of a full sync of the APIs beside Accounting, each against its bound
    (issue 15)."""
    if not other:
        return []
    regions = other["regions"].split(",")
    out = [
        f"### 9. The other APIs' calls (4 Demo Companies, regions {other['regions']}, scale "
        f"{_num(other['scale'])}, content downloaded)",
        "",
        "One tap process a row, every organisation at once; each organisation's calls / its "
        "bound: each paged stream's pages plus one, plus one call per parent for a child "
        "collection, plus one per file downloaded (attachments: one list per document with "
        "attachments, counted as one per file). For Payroll AU, UK and NZ each organisation "
        "is asked its region once a process, and only the Australian, British or New Zealand "
        "one is read. "
        "`other_apis_calls_within_bound`: "
        f"{other['all_within_bound']}.",
        "",
        _measured_by(other) + ".",
        "",
        "| stream | records | " + " | ".join(regions) + " | within |",
        "|---|---|" + "---|" * len(regions) + "---|",
    ]
    for row in other["groups"]:
        cells = [f"{_num(t['calls'])} / {_num(t['bound'])}" for t in row["tenants"].values()]
        out.append(
            f"| {', '.join(row['streams'])} | {_num(row['records'])} | "
            + " | ".join(cells)
            + f" | {'yes' if row['within_bound'] else '**no**'} |"
        )
    out.append("")
    return out


def _tenants_lines(many: dict[str, Any] | None) -> list[str]:
    """Section 8: organisations synced per sandbox hour at Xero's real limits (issue 18)."""
    if not many:
        return []
    out = [
        f"### 8. Many organisations ({many['tenants']} Demo Companies of "
        f"{many['invoices_per_tenant']} invoices, Xero's real limits, time scale "
        f"{_num(many['time_scale'], 0)})",
        "",
        "The tap's default selection from a two-year start date, synced by one tap process for "
        f"every organisation, then by one process per organisation, {many['workers']} at a time, "
        "sharing one token store (what tenant partitions run, without Meltano's own start-up). "
        "Sandbox hours are wall hours times the time scale.",
        "",
        f"Measured {many.get('finished_utc', '?')}"
        + (f" by `{many['command']}`" if many.get("command") else "")
        + ".",
        "",
        "| how | `tenants_per_hour` | wall s | CPU s | calls | 429s | records |",
        "|---|---|---|---|---|---|---|",
    ]
    for side, label in (("single", "one process"), ("pool", "a process per organisation")):
        r = many[side]
        limited = sum(int(v) for v in r["rate_limited"].values())
        out.append(
            f"| {label} | {_num(r['tenants_per_hour'], 0)} | {_num(r['wall_s'], 1)} | "
            f"{_num(r['cpu_s'], 1)} | {_num(r['calls'])} | {limited} | {_num(r['records'])} |"
        )
    out.append("")
    return out


def _measured_by(case: dict[str, Any]) -> str:
    when = case.get("finished_utc")
    command = case.get("command")
    # A case merged from several runs (say each size measured alone) lists every command.
    commands = command if isinstance(command, list) else [command] if command else []
    return f"Measured {when or '?'}" + (
        " by " + " and ".join(f"`{c}`" for c in commands) if commands else ""
    )


def _cpu_lines(cpu: dict[str, Any] | None) -> list[str]:
    """Section 3: whole-process CPU seconds of each program syncing every invoice."""
    if not cpu or "programs" not in cpu:
        return []
    out = [
        "### 3. CPU (one tenant's invoices, zero latency, limits lifted; whole process)",
        "",
        _measured_by(cpu) + ".",
        "",
        "| invoices | program | runs | records | CPU s best | median | worst | spread | "
        "CPU s to 1st record | wall s best | peak RSS MB | its CPU s / ours (best; median) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for at_size in cpu.get("by_size", [cpu]):
        programs = at_size["programs"]
        ours = programs.get("ours", {})
        for label, m in programs.items():
            ratio = ""
            if label != "ours" and ours.get("best_cpu_s"):
                ratio = (
                    f"{_num(m['best_cpu_s'] / ours['best_cpu_s'])}; "
                    f"{_num(m['median_cpu_s'] / ours['median_cpu_s'])}"
                )
            if m.get("note"):
                mark = f"({'abcdefgh'[len(notes)]})"
                notes.append(f"{mark} {label} at {_num(at_size['invoices'])} invoices: {m['note']}")
                label += f" {mark}"
            out.append(
                f"| {_num(at_size['invoices'])} | {label} | {m['runs']} | {_num(m['records'])} | "
                f"{_num(m['best_cpu_s'])} | {_num(m['median_cpu_s'])} | "
                f"{_num(m['worst_cpu_s'])} | {_num(100 * m['spread'], 0)}% | "
                f"{_num(m['cpu_to_first_record_s'])} | {_num(m['best_wall_s'])} | "
                f"{_num(m['max_rss_mb'], 0)} | {ratio} |"
            )
    out.append("")
    if notes:
        out += [*(f"{note}." for note in notes), ""]
    out += [
        "CPU s = the kernel's user + system seconds of the process and the children it waited "
        "for (`wait4`), start-up, discovery of nothing (the catalog is given), authentication "
        "and every page included. The programs' runs were interleaved on the same served data; "
        "spread = (worst - best) / best. The headline ratios are the largest size's best over "
        "best.",
        "",
    ]
    return out


def _startup_lines(start: dict[str, Any] | None) -> list[str]:
    """Section 3b: start-up, ours beside the peer's."""
    if not start:
        return []
    out = [
        "### 3b. Start-up (whole process, no volume)",
        "",
        _measured_by(start) + ".",
        "",
        "| command | CPU s best | median | worst | wall s best | median | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, m in start["programs"].items():
        out.append(
            f"| `{label}` | {_num(m['best_cpu_s'], 3)} | {_num(m['median_cpu_s'], 3)} | "
            f"{_num(m['worst_cpu_s'], 3)} | {_num(m['best_wall_s'], 3)} | "
            f"{_num(m['median_wall_s'], 3)} | {_num(m['max_rss_mb'], 0)} |"
        )
    out += [
        "",
        f"Each command ran {start['repeats']} times, interleaved. `--about` (ours) and "
        "`--help` (the peer has no `--about`) import the program and exit; `--discover` is the "
        "peer's token refresh and `/Currencies` probe, and our offline catalog; "
        f"`sync {start['stream']}` selects one small stream and reads it from the sandbox, "
        "token refresh included.",
        "",
    ]
    return out


def _webhook_lines(events: dict[str, Any] | None) -> list[str]:
    """Section 6: event-driven calls per run and idle calls per day (issue 17's goals)."""
    if not events:
        return []
    out = [
        "### 6. Webhooks (one tenant; sandbox webhooks -> xero-webhooks -> tap-xero)",
        "",
        _measured_by(events) + ".",
        "",
        "| changed invoices k | event run: calls | records | goal: 0 or ceil(k/50)+1 | verdict "
        "| polling run: calls | records |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, row in events["event_calls_per_run"].items():
        goal = row["goal_calls"]
        out.append(
            f"| {k} | {row['event_calls']} | {row['event_records']} | {goal} | "
            f"{'met' if row['event_calls'] <= goal else '**missed**'} | "
            f"{row['polling_calls']} | {row['polling_records']} |"
        )
    idle = events["idle"]
    one = idle["calls_one_read"]
    day = idle["idle_calls_per_day"]
    out += [
        "",
        f"Idle day, {idle['streams']} streams (every Accounting stream selected by default, "
        "and the reports), hourly runs, nothing changing. One read of each class, measured: "
        f"everything polled {one['everything_polling']} calls; event streams with no events "
        f"{one['event_streams_no_events']}, their daily sweep {one['event_streams_sweep']}; "
        f"reference data ({len(idle['reference_streams'])} streams) {one['reference']}; the "
        f"other {len(idle['polled_streams'])} streams {one['polled']}. An idle run right "
        "after the first, with the defaults: "
        f"{one.get('idle_run_after_the_first_defaults', one.get('first_idle_run_with_webhooks'))}"
        " calls.",
        "",
        "| setup | `idle_calls_per_day` | goal <= 150 |",
        "|---|---|---|",
    ]
    labels = {
        "polling_only": "polling only (24 runs of everything)",
        "webhooks_defaults": "webhooks, the defaults (reference_refresh_hours 24, poll_hours 3)",
        "webhooks_poll_every_run": "webhooks, reference_refresh_hours 24, poll_hours 0",
        "webhooks_poll_hours_6": "webhooks, reference_refresh_hours 24, poll_hours 6",
    }
    for key, value in day.items():
        verdict = "met" if value <= 150 else "**missed**"
        out.append(f"| {labels.get(key, key)} | {value} | {verdict} |")
    out.append("")
    return out


def _maybe(value: float | None) -> str:
    """One decimal, or "-" for a figure that run did not record."""
    return "-" if value is None else _num(value, 1)


def _freshness_lines(fresh: dict[str, Any] | None) -> list[str]:
    """Section 7: seconds from a sandbox write to the row in PostgreSQL (Dagster sensor)."""
    if not fresh:
        return []
    p95 = fresh["event_freshness_p95_s"]
    out = [
        "### 7. Freshness (sandbox write -> webhook -> xero-webhooks -> Dagster sensor -> "
        "meltano el tap-xero target-postgres -> row)",
        "",
        _measured_by(fresh) + f"; sensor interval {fresh.get('sensor_seconds')} s; sandbox at "
        "time scale 1 (Xero's 5-second batching).",
        "",
        "| figure | value | goal | verdict |",
        "|---|---|---|---|",
        f"| `event_freshness_p95_s` | {_num(p95, 1)} | < 30 | "
        f"{'met' if p95 < 30 else '**missed**'} |",
        f"| median s | {_num(fresh.get('median_s'), 1)} | | |",
        "",
    ]
    series = fresh.get("series")
    if not series:
        samples = ", ".join(_num(s, 1) for s in fresh.get("samples_s", []))
        return [*out[:-1], f"| samples s | {samples} | | |", ""]
    out += _freshness_series_lines(series)
    if fresh.get("note"):
        out += [str(fresh["note"]), ""]
    return out


def _freshness_series_lines(series: dict[str, Any]) -> list[str]:
    """Section 7's table of one row per way an event may find the pipeline."""
    labels = {
        "follow": "the shard's run is up (the default: it stays {f:g} s after its last batch)",
        "cold": "each event starts a new Dagster run (`XERO_WEBHOOK_FOLLOW_SECONDS` 0)",
    }
    out = [
        "| when the event comes | samples | p95 s | median s | min-max s | delivery s "
        "| after delivery s | one `meltano el`: wall s, CPU s | load average | every sample s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in series.items():
        label = labels.get(name, name).format(f=row.get("follow_seconds", 0))
        out.append(
            f"| {label} | {len(row['samples_s'])} | {_num(row['p95_s'], 1)} "
            f"| {_num(row['median_s'], 1)} | {_num(row['min_s'], 1)}-{_num(row['max_s'], 1)} "
            f"| {_num(row['delivery_median_s'], 1)} | {_num(row['after_delivery_median_s'], 1)} "
            f"| {_maybe(row.get('batch_wall_median_s'))}, {_maybe(row.get('batch_cpu_median_s'))} "
            f"| {_maybe(row.get('load_average_median'))} "
            f"| {', '.join(_num(s, 1) for s in row['samples_s'])} |"
        )
    out += [
        "",
        "Delivery, after delivery, one `meltano el` and load average are medians over the "
        "samples; delivery is from the write to the receiver's commit (the sandbox batches "
        "for 5 s, as Xero does); CPU s is every process of the batch (Meltano, tap, target), "
        "from the kernel's accounting of waited-for children.",
        "",
    ]
    return out


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    """Render ``report`` as RESULTS.md."""
    m = report.get("machine", {})
    sizes = report.get("sizes", {})
    lines = [
        "# Benchmark results",
        "",
        "Generated by `bench/run.py`; do not edit by hand (method and findings: "
        "`bench/NOTES.md`, copied below).",
        "",
        "| | |",
        "|---|---|",
        f"| command | `{report.get('command', '')}` |",
        f"| finished | {report.get('finished_utc', '')} in {_num(report.get('seconds'))} s |",
        f"| machine | {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB, "
        f"{m.get('os')} |",
        f"| versions | Python {m.get('python')}, singer-xero {m.get('singer_xero')}, singer-sdk "
        f"{m.get('singer_sdk')}, httpx {m.get('httpx')}, msgspec {m.get('msgspec')} |",
        f"| peer | {m.get('peer')} |",
        f"| sizes ({sizes.get('name')}) | "
        + ", ".join(f"{k}={_num(v)}" for k, v in sizes.items() if k != "name")
        + " |",
        f"| seconds per case | {report.get('case_seconds')} |",
        "",
    ]
    if report.get("errors"):
        lines += ["**Cases that failed in this run:**", ""]
        lines += [f"- {name}: `{err}`" for name, err in report["errors"].items()]
        lines.append("")
    lines += ["## Figures", "", *_figures_table(report), "", "## Details", "", *_case_lines(report)]
    if NOTES.exists():
        lines += [NOTES.read_text().rstrip(), ""]
    path.write_text("\n".join(lines))

"""``other_apis_calls``: API calls of a full sync of the APIs beside Accounting, against bounds.

A 4-region sandbox (NZ, AU, UK, US: Payroll AU in the Australian organisation only, Payroll UK
and NZ in the British and the New Zealand one, each organisation asked its region once a
process for them) is synced
by our tap, one group of streams a process (a stream each in ``make bench``; all of them in
one in the smoke run), every organisation at once, with attachment and file content
downloaded. The sandbox counts each organisation's calls; each is held to a bound made from
what the sandbox serves and the resource table: at most each paged stream's pages plus one
(the last short page, or the time cursor's re-read of its last second), plus one call per
parent for a child collection, plus one per file downloaded. Calls are deterministic, so the
bound is exact arithmetic, not a timing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from xero_api.paging import page_size
from xero_api.resources import (
    ACCOUNTING,
    ATTACHMENT_PARENTS,
    RESOURCES,
    Paging,
    Resource,
    resource_for_stream,
)
from xero_sandbox.launcher import ALL_SCOPES, Sandbox

from . import world
from .procs import run_measured

__all__ = ["REGIONS", "STREAMS", "call_bound", "measure", "other_apis_case"]

Log = Callable[[str], None]
REGIONS = "NZ,AU,UK,US"
PAYROLL_V2 = "/payroll.xro/2.0"  # Payroll UK and NZ: the sandbox counts both as payroll-2
STREAMS: tuple[str, ...] = (
    *(r.stream for r in RESOURCES if r.api is not ACCOUNTING),
    "attachments",
)
SCOPES = (
    f"{ALL_SCOPES} projects.read assets.read files.read payroll.employees.read "
    "payroll.payruns.read payroll.payslip.read payroll.settings.read payroll.timesheets.read"
)
PAGE_SIZE = 1000  # the tap's page_size setting in these runs (each API's maximum applies)
# Collections the sandbox counts under another name than the row's path ends with.
_COUNTED_AS = {
    "payroll_payslips": "payroll-au/Payslips",
    "payroll_payslip_details": "payroll-au/Payslips",  # one record per payslip
    "payroll_uk_statutory_leaves": "payroll-2/StatutoryLeaves",
    # One working pattern in each NZ employee's details: a call each for the pattern in full.
    "payroll_nz_employee_working_patterns": "payroll-2/EmployeeDetails",
}


def _served(row: Resource, counts: Mapping[str, int]) -> int:
    if row.api is ACCOUNTING:
        return int(counts.get(row.path, 0))
    api = "payroll-2" if row.api.base_path == PAYROLL_V2 else row.api.name
    named = [part for part in row.path.split("/") if not part.startswith("{")]
    return int(counts.get(_COUNTED_AS.get(row.stream, f"{api}/{named[-1]}"), 0))


def _values(row: Resource) -> int:
    """Times a collection is read: once per value of its ``each`` parameter, else once."""
    return len(row.read.each.values) if row.read.each is not None else 1


def _pages(row: Resource, served: int) -> int:
    """Calls to read every page of a collection: its pages plus one (the last short page, or
    the cursor's re-read of its last second); one per value for an ``each`` read."""
    if row.read.paging is Paging.NONE:
        return _values(row)
    return served // page_size(row.read, PAGE_SIZE) + _values(row)


def _read_bound(row: Resource, counts: Mapping[str, int]) -> int:
    """Calls to read ``row`` whole: its pages, or for a child collection its parent's read
    plus one call per parent (and ``each`` value), and a call per further page of children."""
    served = _served(row, counts)
    if row.read.parent is None:
        return _pages(row, served)
    parent = resource_for_stream(row.read.parent.stream)
    size = 1 if row.read.paging is Paging.NONE else page_size(row.read, PAGE_SIZE)
    extra_pages = 0 if row.read.paging is Paging.NONE else served // size
    per_parent = _served(parent, counts) * _values(row)
    return _read_bound(parent, counts) + per_parent + extra_pages


def call_bound(stream: str, counts: Mapping[str, int], region: str = "") -> int:
    """The most calls a full sync of ``stream`` may make for one organisation (``counts``:
    what the sandbox serves it; ``region``: its own), content downloads included. A stream of
    an API served by region asks the organisation's region once, and reads only in those
    regions."""
    if stream == "attachments":
        files = int(counts.get("accounting/Attachments", 0))
        rows = map(resource_for_stream, ATTACHMENT_PARENTS)
        parents = sum(_pages(row, _served(row, counts)) for row in rows)
        # A list call per document with attachments (at most one per file), a call per file.
        return parents + 2 * files
    row = resource_for_stream(stream)
    if row.api.regional and region not in row.api.regions:
        return 1
    bound = _read_bound(row, counts) + (1 if row.api.regional else 0)
    if row.read.content is not None:
        bound += _served(row, counts)  # one download per file
    return bound


def _group_bound(group: Sequence[str], counts: Mapping[str, int], region: str) -> int:
    """The bounds of streams synced by one process: the region is asked once for them all."""
    bound = sum(call_bound(s, counts, region) for s in group)
    asking = sum(resource_for_stream(s).api.regional for s in group if s != "attachments")
    return bound - max(0, asking - 1)


def _config(sandbox: Sandbox, run_dir: Path) -> Path:
    base = json.loads(world.tap_config(sandbox, run_dir, sandbox.tenant_ids()).read_text())
    config = {
        **base,
        "refresh_token": sandbox.authorize(SCOPES)["refresh_token"],
        "page_size": PAGE_SIZE,
        "attachments_path": str(run_dir / "attachments"),
        "files_path": str(run_dir / "files"),
    }
    return world.write_json(run_dir / "other-apis-config.json", config)


def measure(
    sandbox: Sandbox, run_dir: Path, groups: Sequence[Sequence[str]], log: Log = print
) -> dict[str, Any]:
    """Sync each group of streams in a process of its own; each organisation's calls beside
    the sum of its streams' bounds."""
    tenants = {t["tenantId"]: t["tenantName"] for t in sandbox.tenants()}
    regions = dict(zip(sandbox.tenant_ids(), REGIONS.split(","), strict=False))
    counts = sandbox.counts()
    config = _config(sandbox, run_dir)
    rows = []
    for group in groups:
        catalog = world.tap_catalog(config, run_dir, group)
        before = sandbox.stats()
        measured = run_measured(
            "other APIs: " + ",".join(group),
            world.tap_argv(config, catalog),
            stderr_path=run_dir / f"{group[0]}.log",
        )
        calls = world.calls_by_tenant(before, sandbox.stats())
        per_tenant = {
            name: {
                "calls": calls.get(tenant, 0),
                "bound": _group_bound(group, counts[tenant], regions.get(tenant, "")),
            }
            for tenant, name in tenants.items()
        }
        within = all(v["calls"] <= v["bound"] for v in per_tenant.values())
        log(f"other APIs: {','.join(group)}: {per_tenant}{'' if within else ' OVER BOUND'}")
        rows.append(
            {
                "streams": list(group),
                "records": measured.records,
                "tenants": per_tenant,
                "within_bound": within,
            }
        )
    return {"groups": rows, "all_within_bound": all(r["within_bound"] for r in rows)}


def other_apis_case(sizes: Any, log: Log) -> dict[str, Any]:
    """A stream a process (the smoke run: all in one) on a 4-region sandbox of
    ``other_apis_scale``."""
    run_dir = world.WORK / "runs" / f"other-apis-{sizes.name}"
    shutil.rmtree(run_dir, ignore_errors=True)  # content saved by a run before is not fetched
    run_dir.mkdir(parents=True)
    with Sandbox(
        tenants=4, scale=sizes.other_apis_scale, seed=42, regions=REGIONS, **world.NO_LIMITS
    ) as sandbox:
        groups = [[s] for s in STREAMS] if sizes.other_apis_per_stream else [list(STREAMS)]
        result = measure(sandbox, run_dir, groups, log)
    return {"scale": sizes.other_apis_scale, "regions": REGIONS, **result}

"""``make demo``: tap-xero -> DuckDB through Meltano, against a local xero-sandbox, twice.

1. starts xero-sandbox (two Demo Company tenants, Xero's rate limits time-scaled) on a free port;
2. authorises once with ``xero-auth`` (tokens go to a token store, as with real Xero);
3. ``meltano install``, then ``meltano run tap-xero target-duckdb``;
4. changes the books through the Accounting API (an updated invoice, a new contact);
5. runs again: only what changed moves;
6. prints rows per DuckDB table and the API calls each run spent, then stops the sandbox.

Every step shows progress; a failing step names itself, quotes the end of its log and exits
non-zero. Output lands in ``output/demo/`` (the DuckDB file and the logs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from meltano_sandbox import (
    MELTANO,
    REPO,
    MeltanoError,
    MeltanoResult,
    change_the_books,
    records_moved,
    run_meltano,
    sandbox_env,
    tail,
)
from rich.console import Console
from rich.table import Table

from xero_api.resources import resource_for_stream
from xero_sandbox.launcher import Sandbox

T = TypeVar("T")
OUT = REPO / "output" / "demo"
LOG = OUT / "demo.log"
console = Console(highlight=False)


class StepFailed(Exception):
    """A demo step failed; carries the step name and what to show."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(step)
        self.step = step
        self.detail = detail


@contextmanager
def step(name: str) -> Iterator[None]:
    """Show a spinner while ``name`` runs, then a tick and its duration (or fail clearly)."""
    started = time.monotonic()
    with console.status(f"[bold]{name}[/] …"):
        try:
            yield
        except StepFailed:
            raise
        except MeltanoError as exc:
            raise StepFailed(name, str(exc)) from None
        except Exception as exc:  # every failure becomes one clear message, not a traceback
            raise StepFailed(name, f"    {type(exc).__name__}: {exc}") from None
    console.print(f"[green]✔[/] {name} [dim]({time.monotonic() - started:.1f} s)[/]")


def timed(name: str, action: Callable[[], T]) -> T:
    """Run ``action`` as a step and return its result."""
    with step(name):
        return action()


# --------------------------------------------------------------------------- sandbox side


def api_calls(sandbox: Sandbox) -> dict[str, int]:
    """API calls served so far, per tenant name (from the sandbox's own counters)."""
    names = {t["tenantId"]: t["tenantName"] for t in sandbox.tenants()}
    stats = sandbox.stats()
    per_tenant = stats.get("tenants", stats)
    names["_app"] = "(no tenant: GET /connections)"
    calls: dict[str, int] = {}
    for tenant_id, counters in per_tenant.items():
        if isinstance(counters, dict) and tenant_id in names:
            calls[names[tenant_id]] = int(counters.get("calls", 0))
    return calls


# --------------------------------------------------------------------------- meltano side


def duckdb_rows(path: Path) -> dict[str, int]:
    """Rows per table in the DuckDB file."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as db:
        tables = db.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2"
        ).fetchall()
        rows: dict[str, int] = {}
        for schema, table in tables:
            # Names come from information_schema, not from users.
            found = db.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()  # noqa: S608
            rows[f"{schema}.{table}"] = int(found[0]) if found else 0
    return rows


def _sync_mode(stream: str) -> str:
    if stream.startswith("report_"):
        return "report, by month"
    try:
        resource = resource_for_stream(stream)
    except KeyError:
        return ""
    if resource.read.replication_key:
        return f"incremental ({resource.read.replication_key})"
    return "full table"


def report(
    rows: dict[str, int],
    moved: list[Counter[str]],
    calls: list[dict[str, int]],
    changes: list[str],
    db_path: Path,
) -> None:
    """The tables the demo ends with."""
    table = Table(title=f"DuckDB {db_path.relative_to(REPO)}", show_lines=False)
    table.add_column("table")
    table.add_column("sync")
    table.add_column("rows", justify="right")
    table.add_column("run 1 moved", justify="right")
    table.add_column("run 2 moved", justify="right")
    for name, count in rows.items():
        stream = name.split(".", 1)[-1]
        table.add_row(
            name,
            _sync_mode(stream),
            str(count),
            str(moved[0].get(stream, 0)),
            str(moved[1].get(stream, 0)),
        )
    table.add_row(
        "[bold]total[/]",
        "",
        f"[bold]{sum(rows.values())}[/]",
        f"[bold]{sum(moved[0].values())}[/]",
        f"[bold]{sum(moved[1].values())}[/]",
    )
    console.print(table)

    usage = Table(title="Xero API calls (counted by the sandbox)")
    usage.add_column("tenant")
    usage.add_column("run 1", justify="right")
    usage.add_column("run 2 (incremental)", justify="right")
    for tenant in calls[0]:
        usage.add_row(tenant, str(calls[0][tenant]), str(calls[1].get(tenant, 0)))
    console.print(usage)
    console.print("Changed between the runs: " + "; ".join(changes))
    console.print(
        f'Explore: [bold]{sys.executable} -c "import duckdb; '
        f"print(duckdb.connect('{db_path}').sql('FROM xero.invoices LIMIT 5'))\"[/]"
    )


def _authorise(sandbox: Sandbox, tokens: Path) -> None:
    """Authorise once, as a user would: xero-auth fills the token store."""
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("xero-auth")),
            "--client-id",
            sandbox.client_id,
            "--login-url",
            sandbox.url,
            "--identity-url",
            sandbox.url,
            "--api-url",
            sandbox.url,
            "--token-store",
            str(tokens),
            "--no-browser",
            "--port",
            "0",
        ],
        env={**os.environ, "XERO_CLIENT_SECRET": sandbox.client_secret},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    with LOG.open("a", encoding="utf-8") as log:
        log.write(f"$ xero-auth ...\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise StepFailed("authorise with xero-auth", tail(done.stdout + done.stderr, 15))


def _sync(env: dict[str, str]) -> MeltanoResult:
    return run_meltano(
        ["--log-format=json", "run", "tap-xero", "target-duckdb"],
        project=REPO,
        env=env,
        log=LOG,
        timeout=1200,
    )


@dataclass
class _Runs:
    """What the two runs moved, the API calls each spent, and what changed between them."""

    moved: list[Counter[str]]
    calls: list[dict[str, int]]
    changes: list[str]


def _two_runs(sandbox: Sandbox, env: dict[str, str]) -> _Runs:
    """Run everything, change the books, then run again incrementally."""
    before = api_calls(sandbox)
    first = timed("meltano run tap-xero target-duckdb (first run: everything)", lambda: _sync(env))
    after_first = api_calls(sandbox)
    first_tenant, second_tenant = sandbox.tenant_ids()[:2]
    changes = timed(
        "change the books through the Accounting API",
        lambda: change_the_books(
            sandbox.url, sandbox.headers(), first_tenant, second_tenant
        ).describe(),
    )
    for change in changes:
        console.print(f"  [dim]{change}[/]")
    after_change = api_calls(sandbox)
    second = timed("meltano run tap-xero target-duckdb (incremental)", lambda: _sync(env))
    after_second = api_calls(sandbox)
    return _Runs(
        moved=[records_moved(first.output), records_moved(second.output)],
        calls=[
            {t: after_first.get(t, 0) - before.get(t, 0) for t in after_first},
            {t: after_second.get(t, 0) - after_change.get(t, 0) for t in after_second},
        ],
        changes=changes,
    )


def demo(scale: int) -> None:
    """The whole demo; raises StepFailed when a step fails."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="singer-xero-demo-"))
    db_path = OUT / "warehouse.duckdb"
    if not MELTANO.exists():
        raise StepFailed("find Meltano", f"{MELTANO} is missing: run `make demo`, not the script")
    sandbox = Sandbox(tenants=2, scale=scale, seed=2026, time_scale=20, db=work / "sandbox.db")
    try:
        timed("start xero-sandbox (2 Demo Company tenants)", sandbox.start)
        console.print(f"  [dim]sandbox at {sandbox.url}[/]")
        tokens = work / "tokens"
        env = {
            **sandbox_env(sandbox.url, tokens),
            "MELTANO_DATABASE_URI": f"sqlite:///{work / 'meltano.db'}",
            "TARGET_DUCKDB_FILEPATH": str(db_path),
        }
        timed("authorise once with xero-auth (token store)", lambda: _authorise(sandbox, tokens))
        timed(
            "meltano install",
            lambda: run_meltano(["install"], project=REPO, env=env, log=LOG, timeout=1500),
        )
        runs = _two_runs(sandbox, env)
        rows = timed("count rows in DuckDB", lambda: duckdb_rows(db_path))
    finally:
        with console.status("stopping xero-sandbox …"):
            sandbox.stop()
            shutil.rmtree(work, ignore_errors=True)
        console.print("[green]✔[/] stopped xero-sandbox")
    report(rows, runs.moved, runs.calls, runs.changes, db_path)


def main() -> int:
    """Entry point: run the demo, turn failures into a short message and exit code 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=200, help="invoices per tenant")
    args = parser.parse_args()
    console.rule("[bold]singer-xero demo[/]: Xero → Meltano → DuckDB, offline")
    try:
        demo(args.scale)
    except StepFailed as exc:
        console.print(f"[red]✘ {exc.step} failed[/]\n{exc.detail}")
        console.print(f"[dim]full log: {LOG}[/]")
        return 1
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130
    console.rule("[green]done[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Incremental behaviour of tap-xero against a real sandbox: paging edges, bookmarks per tenant,
resuming after a kill, the If-Modified-Since boundary, auth modes, faults and limits."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._tap_support import (
    RELAXED,
    TapRun,
    client_credentials_config,
    parse_output,
    partition_bookmark,
    refresh_token_config,
    run_tap,
    write_inputs,
)
from xero_sandbox.launcher import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=3, empty_tenants=1, scale=23, seed=5, **RELAXED) as sb:
        yield sb


def _invoice_ids(run: TapRun, tenant: str | None = None) -> list[str]:
    return [
        r["InvoiceID"]
        for r in run.records.get("invoices", [])
        if tenant is None or r["TenantID"] == tenant
    ]


def _served(sb: Sandbox, tenant: str, resource: str) -> int:
    return int(sb.counts()[tenant][resource])


# -- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["size 1", "count - 1", "count", "count + 1", "1000"])
def test_paging_edges(sandbox: Sandbox, tmp_path: Path, shape: str) -> None:
    """Page size = count - 1 (a last page of 1), = count (a full page, then an empty one),
    = count + 1 (one short page), 1 and Xero's 1000: every invoice exactly once."""
    tenant = sandbox.tenant_ids()[0]
    count = _served(sandbox, tenant, "Invoices")
    assert count >= 20
    page_size = {"size 1": 1, "count - 1": count - 1, "count": count, "count + 1": count + 1}
    config = client_credentials_config(sandbox, page_size=page_size.get(shape, 1000))
    run = run_tap(tmp_path, config, ["invoices"])
    ids = _invoice_ids(run, tenant)
    assert len(ids) == len(set(ids)) == count


def test_empty_tenant_yields_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    empty = [t["tenantId"] for t in sandbox.tenants() if t.get("empty")]
    assert empty
    config = refresh_token_config(sandbox, tmp_path / "tokens.json", tenant_ids=empty)
    run = run_tap(tmp_path, config, ["invoices", "accounts"])
    assert _invoice_ids(run) == []
    assert run.records["accounts"]  # an empty tenant still has its chart of accounts
    assert partition_bookmark(run.state, "invoices", empty[0]).get("replication_key_value") in (
        None,
        config["start_date"],
    )


# -- tenants and bookmarks --------------------------------------------------------------------


def test_each_tenant_has_its_own_bookmark(sandbox: Sandbox, tmp_path: Path) -> None:
    tenants = sandbox.tenant_ids()[:3]
    config = refresh_token_config(sandbox, tmp_path / "tokens.json", tenant_ids=tenants)
    first = run_tap(tmp_path / "first", config, ["contacts"])
    for tenant in tenants:
        assert {r["ContactID"] for r in first.records["contacts"] if r["TenantID"] == tenant}
        mark = partition_bookmark(first.state, "contacts", tenant)
        assert mark["replication_key_value"]
        assert mark["boundary_ids"]

    # Nothing changed: the boundary records Xero sends again are not emitted twice.
    again = run_tap(tmp_path / "again", config, ["contacts"], first.state)
    assert again.records.get("contacts", []) == []

    # One contact changes in the second tenant only.
    changed = _touch_contact(sandbox, tenants[1])
    third = run_tap(tmp_path / "third", config, ["contacts"], again.state)
    assert [(r["TenantID"], r["ContactID"]) for r in third.records["contacts"]] == [
        (tenants[1], changed)
    ]
    before = partition_bookmark(again.state, "contacts", tenants[0])
    after = partition_bookmark(third.state, "contacts", tenants[0])
    assert before["replication_key_value"] == after["replication_key_value"]
    assert (
        partition_bookmark(third.state, "contacts", tenants[1])["replication_key_value"]
        > partition_bookmark(again.state, "contacts", tenants[1])["replication_key_value"]
    )


def _touch_contact(sb: Sandbox, tenant: str) -> str:
    contacts = httpx.get(
        f"{sb.url}/api.xro/2.0/Contacts", headers=sb.headers(tenant), timeout=30
    ).json()["Contacts"]
    contact = contacts[0]
    answer = httpx.post(
        f"{sb.url}/api.xro/2.0/Contacts/{contact['ContactID']}",
        headers={**sb.headers(tenant), "Content-Type": "application/json"},
        content=json.dumps(
            {"Contacts": [{"ContactID": contact["ContactID"], "Website": "https://x.test"}]}
        ),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return str(contact["ContactID"])


def _new_contacts(sb: Sandbox, tenant: str, names: list[str]) -> list[dict[str, Any]]:
    answer = httpx.put(
        f"{sb.url}/api.xro/2.0/Contacts",
        headers={**sb.headers(tenant), "Content-Type": "application/json"},
        content=json.dumps({"Contacts": [{"Name": n} for n in names]}),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    created: list[dict[str, Any]] = answer.json()["Contacts"]
    return created


def test_if_modified_since_boundary(sandbox: Sandbox, tmp_path: Path) -> None:
    """Records updated in the bookmark's own second: emitted once, none lost."""
    tenant = sandbox.tenant_ids()[0]
    config = client_credentials_config(sandbox)
    base = run_tap(tmp_path / "base", config, ["contacts"])
    # One batch: the new contacts share their UpdatedDateUTC second (and maybe the instant).
    created = _new_contacts(sandbox, tenant, [f"Boundary {i} {time.time()}" for i in range(5)])
    after = run_tap(tmp_path / "after", config, ["contacts"], base.state)
    ordered = after.records["contacts"]
    assert sorted(r["ContactID"] for r in ordered) == sorted(c["ContactID"] for c in created)
    # Running again right away: Xero resends the bookmark's second, the tap emits nothing.
    again = run_tap(tmp_path / "again", config, ["contacts"], after.state)
    assert again.records.get("contacts", []) == []

    # A run interrupted after emitting two of them: STATE holds the second one's timestamp and
    # the IDs emitted at exactly that instant.
    mark_at = ordered[1]["UpdatedDateUTC"]
    assert ordered[0]["UpdatedDateUTC"][:19] == mark_at[:19], "batch not within one second"
    boundary = [r["ContactID"] for r in ordered[:2] if r["UpdatedDateUTC"] == mark_at]
    mark = {
        **partition_bookmark(after.state, "contacts", tenant),
        "replication_key_value": mark_at,
        "boundary_value": mark_at,
        "boundary_ids": boundary,
    }
    resumed = run_tap(
        tmp_path / "resumed",
        config,
        ["contacts"],
        {"bookmarks": {"contacts": {"partitions": [mark]}}},
    )
    expected = [
        r["ContactID"]
        for r in ordered[2:]
        if r["UpdatedDateUTC"] > mark_at or r["ContactID"] not in boundary
    ]
    assert [r["ContactID"] for r in resumed.records.get("contacts", [])] == expected
    assert len(expected) == 3


# -- interruption ---------------------------------------------------------------------------


def test_resume_after_kill_has_no_gap(tmp_path: Path) -> None:
    with Sandbox(tenants=1, scale=400, seed=9, latency_ms=40, **RELAXED) as sb:
        tenant = sb.tenant_ids()[0]
        total = _served(sb, tenant, "Invoices")
        config = client_credentials_config(sb, page_size=25)
        argv = write_inputs(tmp_path / "killed", config, ["invoices"])
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        lines: list[str] = []
        states = 0
        for line in proc.stdout:
            lines.append(line)
            states += '"type":"STATE"' in line
            if states >= 3:  # the initial STATE, then at least one bookmark mid-stream
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = parse_output(proc.returncode, "".join(lines), "")
        assert killed.returncode != 0
        assert 0 < len(_invoice_ids(killed)) < total
        state = killed.state
        mark = partition_bookmark(state, "invoices", tenant)
        done = [
            r["InvoiceID"]
            for r in killed.records["invoices"]
            if r["UpdatedDateUTC"] <= mark["replication_key_value"]
        ]
        resumed = run_tap(tmp_path / "resumed", config, ["invoices"], state)
        again = _invoice_ids(resumed)
        assert not set(again) & set(done), "records before the bookmark were emitted twice"
        assert set(done) | set(again) == set(
            _invoice_ids(run_tap(tmp_path / "all", config, ["invoices"]))
        )
        assert len(set(done) | set(again)) == total


# -- auth modes -----------------------------------------------------------------------------


def test_client_credentials_reads_the_bound_tenant(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_tap(tmp_path, client_credentials_config(sandbox), ["accounts"])
    assert {r["TenantID"] for r in run.records["accounts"]} == {sandbox.tenant_ids()[0]}


def test_refresh_token_uses_the_store(sandbox: Sandbox, tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    config = refresh_token_config(sandbox, store)
    first = run_tap(tmp_path / "first", config, ["currencies"])
    assert len({r["TenantID"] for r in first.records["currencies"]}) >= 3
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    # The configured token was rotated by the first run; a second run reads the store.
    second = run_tap(tmp_path / "second", config, ["currencies"])
    assert second.records["currencies"]


def test_access_token_mode(sandbox: Sandbox, tmp_path: Path) -> None:
    tokens = sandbox.authorize()
    tenant = sandbox.tenant_ids()[1]
    config = {
        **client_credentials_config(sandbox),
        "auth_mode": "access_token",
        "access_token": tokens["access_token"],
        "tenant_ids": [tenant],
    }
    run = run_tap(tmp_path, config, ["currencies"])
    assert {r["TenantID"] for r in run.records["currencies"]} == {tenant}
    assert tokens["access_token"] not in "\n".join(run.lines) + run.stderr


def test_forbidden_tenant_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    unknown = "00000000-0000-0000-0000-00000000abcd"
    config = refresh_token_config(sandbox, tmp_path / "tokens.json", tenant_ids=[unknown])
    run = run_tap(tmp_path, config, ["contacts"], check=False)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert unknown in run.stderr
    assert "403" in run.stderr
    assert "Traceback" not in run.stderr, last


def test_missing_scope_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    """A stream the token may not read is named with its scope; the others are still read."""
    tokens = sandbox.authorize("offline_access accounting.settings.read")
    config = {
        **client_credentials_config(sandbox),
        "auth_mode": "access_token",
        "access_token": tokens["access_token"],
        "tenant_ids": [sandbox.tenant_ids()[0]],
    }
    run = run_tap(tmp_path, config, ["contacts", "currencies"], check=False)
    assert run.returncode == 1
    assert "accounting.contacts.read" in run.stderr
    assert sandbox.tenant_ids()[0] in run.stderr
    # The streams the token may read are still synced, with their bookmarks.
    assert run.records["currencies"]
    assert "contacts" not in run.records
    assert "Traceback" not in run.stderr


# -- faults and limits ----------------------------------------------------------------------


def test_faults_and_429s_lose_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    tenant = sandbox.tenant_ids()[0]
    with Sandbox(
        db=sandbox.db.parent / "faulty.db", tenants=1, scale=60, seed=5, fault_rate=0.25
    ) as faulty:
        config = client_credentials_config(faulty, page_size=10, max_retries=12)
        run = run_tap(tmp_path, config, ["invoices", "contacts"])
        served = faulty.counts()[faulty.tenant_ids()[0]]
        assert len(set(_invoice_ids(run))) == len(_invoice_ids(run)) == int(served["Invoices"])
        stats = faulty.stats()
    assert tenant
    assert "retries=" in run.stderr
    retried = [int(x) for x in re.findall(r"retries=(\d+)", run.stderr)]
    assert sum(retried) > 0, stats


def test_minute_limit_is_respected(tmp_path: Path) -> None:
    with Sandbox(tenants=1, scale=40, seed=3, minute_limit=5, time_scale=30) as sb:
        config = client_credentials_config(sb, page_size=5)
        started = time.monotonic()
        run = run_tap(tmp_path, config, ["invoices"])
        elapsed = time.monotonic() - started
        assert len(set(_invoice_ids(run))) == _served(sb, sb.tenant_ids()[0], "Invoices")
    # 9+ calls against 5 a (scaled) minute: the client waited instead of failing.
    waited = [float(x) for x in re.findall(r"waited_s=([\d.]+)", run.stderr)]
    assert sum(waited) > 0
    # Pages read at once wait at once: each tenant's figure is wall-clock time, within the run's.
    assert max(waited) < elapsed, (waited, elapsed)


def test_day_limit_ends_cleanly_with_state(tmp_path: Path) -> None:
    # One stream: with several, read-ahead shares the 6-call day budget between them in an
    # order set by thread timing, and this test is about the stream that got some of it.
    with Sandbox(tenants=1, scale=40, seed=3, day_limit=6) as sb:
        tenant = sb.tenant_ids()[0]
        config = client_credentials_config(sb, page_size=5, max_rate_limit_wait_seconds=1)
        run = run_tap(tmp_path, config, ["invoices"], check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert tenant in run.stderr
    assert "try again after" in run.stderr
    mark = partition_bookmark(run.state, "invoices", tenant)
    emitted = _invoice_ids(run)
    assert emitted
    assert mark["replication_key_value"] == max(
        r["UpdatedDateUTC"] for r in run.records["invoices"]
    )


def test_offset_fixed_pages_and_full_scans(tmp_path: Path) -> None:
    """Journals by offset (100 a call), Quotes at Xero's fixed 100 a page, LinkedTransactions
    scanned in full: everything once, and nothing again on the next run."""
    streams = ["journals", "quotes", "linked_transactions", "manual_journals"]
    with Sandbox(tenants=1, scale=2200, seed=4, **RELAXED) as sb:
        tenant = sb.tenant_ids()[0]
        served = sb.counts()[tenant]
        config = client_credentials_config(sb)
        first = run_tap(tmp_path / "first", config, streams)
        second = run_tap(tmp_path / "second", config, streams, first.state)
    assert int(served["Journals"]) > 300
    assert int(served["Quotes"]) > 100
    for stream, resource, key in (
        ("journals", "Journals", "JournalID"),
        ("quotes", "Quotes", "QuoteID"),
        ("linked_transactions", "LinkedTransactions", "LinkedTransactionID"),
        ("manual_journals", "ManualJournals", "ManualJournalID"),
    ):
        ids = [r[key] for r in first.records.get(stream, [])]
        assert len(ids) == len(set(ids)) == int(served[resource]), stream
        assert second.records.get(stream, []) == [], stream
    numbers = [r["JournalNumber"] for r in first.records["journals"]]
    assert numbers == sorted(numbers)
    mark = partition_bookmark(first.state, "journals", tenant)
    assert mark["replication_key_value"] == max(numbers)


def test_reports_resume_at_their_last_month(sandbox: Sandbox, tmp_path: Path) -> None:
    """Month by month from report_start_date; the next run re-reads only the latest month."""
    today = datetime.now(UTC).date()
    three_back = date(today.year - (today.month <= 3), (today.month - 4) % 12 + 1, 1)
    config = client_credentials_config(sandbox, report_start_date=f"{three_back}T00:00:00Z")
    first = run_tap(tmp_path / "first", config, ["report_profit_and_loss"])
    months = sorted({r["PeriodStart"][:7] for r in first.records["report_profit_and_loss"]})
    assert months[0] == f"{three_back:%Y-%m}"
    assert months[-1] == f"{today:%Y-%m}"
    assert len(months) == 4
    again = run_tap(tmp_path / "again", config, ["report_profit_and_loss"], first.state)
    rows = again.records["report_profit_and_loss"]
    assert {r["PeriodStart"][:7] for r in rows} == {f"{today:%Y-%m}"}
    latest = [
        r for r in first.records["report_profit_and_loss"] if r["PeriodStart"][:7] == months[-1]
    ]
    assert sorted(r["RowKey"] for r in rows) == sorted(r["RowKey"] for r in latest)


def test_two_runs_share_one_rotating_token_store(tmp_path: Path) -> None:
    """Two tap processes at once on one token store, with tokens expiring every half second:
    every rotation is stored before use and no run spends a token the other already spent."""
    with Sandbox(tenants=2, scale=60, seed=8, time_scale=3600, latency_ms=30, **RELAXED) as sb:
        config = refresh_token_config(sb, tmp_path / "tokens.json", page_size=5)
        runs = []
        for name in ("one", "two"):
            argv = write_inputs(tmp_path / name, config, ["invoices", "contacts"])
            with (
                (tmp_path / name / "out").open("w") as out,
                (tmp_path / name / "err").open("w") as err,
            ):
                runs.append(subprocess.Popen(argv, stdout=out, stderr=err, text=True))
        codes = [p.wait(timeout=300) for p in runs]
        results = [
            parse_output(
                code,
                (tmp_path / name / "out").read_text(),
                (tmp_path / name / "err").read_text(),
            )
            for code, name in zip(codes, ("one", "two"), strict=True)
        ]
        served = sum(int(sb.counts()[t]["Invoices"]) for t in sb.tenant_ids())
        third = run_tap(tmp_path / "three", config, ["currencies"])
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
        assert len(set(_invoice_ids(result))) == served
    # Each refresh is logged with the generation it stored: a token spent twice would show up
    # as the same generation written by both runs.
    generations = [
        int(g)
        for result in results
        for g in re.findall(r"refreshed the Xero access token.*\(generation (\d+)\)", result.stderr)
    ]
    assert len(generations) >= 3
    assert len(generations) == len(set(generations))
    assert third.records["currencies"]

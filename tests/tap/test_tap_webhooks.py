"""The tap on the webhook queue: sandbox webhooks -> xero-webhooks -> tap (STATE round trip)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests._sandbox_edge_support import wait_for
from tests._tap_support import client_credentials_config, partition_bookmark, run_tap
from tests._webhooks_support import (
    Receiver,
    calls,
    create_invoices,
    deliveries_settled,
    draft_ids,
    sandbox_for,
    touch,
    wait_for_handshake,
)
from tests.meltano_support import SANDBOX_FLAGS, new_project, records_moved
from xero_api.event_queue import EventQueue
from xero_api.resources import ACCOUNTING, REPORTS, RESOURCES
from xero_sandbox.launcher import Sandbox

EVENT_STREAMS = ["contacts", "invoices", "credit_notes"]
KEYS = {"contacts": "ContactID", "invoices": "InvoiceID", "credit_notes": "CreditNoteID"}


def _ids(run: Any, stream: str) -> set[str]:
    return {r[KEYS[stream]] for r in run.records.get(stream, [])}


def test_event_runs_read_exactly_the_changed_documents(tmp_path: Path) -> None:
    with Receiver() as receiver, sandbox_for(receiver, scale=30) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        config = client_credentials_config(sb, webhook_queue=receiver.queue, reconcile_hours=24)
        first = run_tap(tmp_path / "first", config, EVENT_STREAMS)
        # The first run is a sweep: everything, and the queue position it started from.
        assert all(first.records.get(s) for s in EVENT_STREAMS)
        assert "queue_position" in partition_bookmark(first.state, "invoices", tenant)

        changed = {
            "contacts": draft_ids(sb, tenant, "contacts", 3),
            "invoices": draft_ids(sb, tenant, "invoices", 2),
            "credit_notes": draft_ids(sb, tenant, "credit_notes", 1),
        }
        for stream, ids in changed.items():
            touch(sb, tenant, stream, ids, "webhook-change")
        wait_for(lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= 6)

        second = run_tap(tmp_path / "second", config, EVENT_STREAMS, state=first.state)
        for stream, ids in changed.items():
            assert _ids(second, stream) == set(ids), stream
        # One call per stream with changes (IDs lists / where of Guids), nothing else.
        assert calls(second.stderr, tenant) == 3
        for record in second.records["invoices"]:
            assert record["Reference"] == "webhook-change"
            assert record["LineItems"], "read by ID, the invoice still has its lines"

        # A run killed anywhere resumes from the last STATE it printed: the new queue position
        # may appear only after the stream's last record, or a crash would lose records.
        for stream in EVENT_STREAMS:
            old = partition_bookmark(first.state, stream, tenant)["queue_position"]
            last_record = max(
                i
                for i, line in enumerate(second.lines)
                if f'"stream":"{stream}"' in line and '"type":"RECORD"' in line
            )
            moved = [
                i
                for i, line in enumerate(second.lines)
                if line.startswith('{"type":"STATE"')
                and partition_bookmark(json.loads(line)["value"], stream, tenant)["queue_position"]
                != old
            ]
            assert moved, stream
            assert moved[0] > last_record, stream
        killed = run_tap(tmp_path / "killed", config, EVENT_STREAMS, state=first.state)
        assert {s: _ids(killed, s) for s in EVENT_STREAMS} == {
            s: set(ids) for s, ids in changed.items()
        }

        third = run_tap(tmp_path / "third", config, EVENT_STREAMS, state=second.state)
        assert not any(third.records.get(s) for s in EVENT_STREAMS)
        assert calls(third.stderr, tenant) == 0

        # The STATE the third run received acknowledged every event: nothing left unconsumed.
        with EventQueue(receiver.queue) as queue:
            assert queue.stats().depth == 0
        assert receiver.metrics()["xero_webhooks_queue_depth"] == 0


def test_the_sweep_catches_a_change_no_event_announced(tmp_path: Path) -> None:
    with Receiver() as receiver, sandbox_for(receiver, scale=30) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        config = client_credentials_config(sb, webhook_queue=receiver.queue, reconcile_hours=24)
        first = run_tap(tmp_path / "first", config, ["invoices"])
        announced, dropped = draft_ids(sb, tenant, "invoices", 2)
        touch(sb, tenant, "invoices", [dropped], "never-announced")
        touch(sb, tenant, "invoices", [announced], "announced")
        wait_for(lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= 2)
        with EventQueue(receiver.queue) as queue:
            # Webhooks are not guaranteed: this one never arrived.
            conn = queue._conn
            conn.execute("DELETE FROM xero_webhook_events WHERE resource_id = ?", (dropped,))

        events_only = run_tap(tmp_path / "events", config, ["invoices"], state=first.state)
        assert _ids(events_only, "invoices") == {announced}

        time.sleep(1.5)  # reconcile_hours below is 1.4 seconds
        sweep_config = {**config, "reconcile_hours": 0.0004}
        sweep = run_tap(tmp_path / "sweep", sweep_config, ["invoices"], state=events_only.state)
        assert dropped in _ids(sweep, "invoices")
        assert "1 change(s) no webhook announced" in sweep.stderr
        assert (
            receiver.metrics()[
                f'xero_webhooks_reconcile_misses{{stream="invoices",tenant="{tenant}"}}'
            ]
            == 1
        )
        bookmark = partition_bookmark(sweep.state, "invoices", tenant)
        assert (
            bookmark["reconciled_at"]
            > partition_bookmark(first.state, "invoices", tenant)["reconciled_at"]
        )


@pytest.mark.meltano
def test_meltano_webhooks_to_duckdb_moves_exactly_the_changed_records(tmp_path: Path) -> None:
    """Sandbox webhooks -> xero-webhooks -> `meltano run tap-xero target-duckdb`: the second run
    moves exactly the documents changed, and Meltano's stored STATE acknowledges the events."""
    with Receiver() as receiver, sandbox_for(receiver, **SANDBOX_FLAGS, time_scale=10) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenants = sb.tenant_ids()
        project = new_project(
            tmp_path / "project",
            sandbox_url=sb.url,
            refresh_token=sb.authorize()["refresh_token"],
            extra_env={
                "TAP_XERO_WEBHOOK_QUEUE": receiver.queue,
                "TAP_XERO__SELECT": json.dumps([f"{s}.*" for s in EVENT_STREAMS]),
            },
        )
        database = project.root / "output" / "warehouse.duckdb"
        first = project.run("--log-format=json", "run", "tap-xero", "target-duckdb")
        first_moved = records_moved(first.output)
        assert set(first_moved) == set(EVENT_STREAMS)

        changed = {
            ("contacts", tenants[1]): draft_ids(sb, tenants[1], "contacts", 2),
            ("invoices", tenants[0]): draft_ids(sb, tenants[0], "invoices", 2),
            ("credit_notes", tenants[0]): draft_ids(sb, tenants[0], "credit_notes", 1),
        }
        for (stream, tenant), ids in changed.items():
            touch(sb, tenant, stream, ids, "via-webhook")
        wait_for(lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= 5)

        second = project.run("--log-format=json", "run", "tap-xero", "target-duckdb")
        assert records_moved(second.output) == {"contacts": 2, "invoices": 2, "credit_notes": 1}
        with duckdb.connect(str(database), read_only=True) as db:
            for (stream, tenant), ids in changed.items():
                key = KEYS[stream].lower()
                column = "emailaddress" if stream == "contacts" else "reference"
                rows = db.execute(
                    f"SELECT {key}, {column}, tenantid FROM xero.{stream} "  # noqa: S608
                    f"WHERE {key} IN ({', '.join('?' for _ in ids)})",
                    ids,
                ).fetchall()
                assert len(rows) == len(ids), f"{stream}: a changed row is missing or doubled"
                assert all("via-webhook" in str(value) for _, value, _ in rows), rows
                assert {t for _, _, t in rows} == {tenant}
            for stream in EVENT_STREAMS:
                total, distinct = db.execute(
                    f"SELECT count(*), count(DISTINCT {KEYS[stream].lower()}) "  # noqa: S608
                    f"FROM xero.{stream}"
                ).fetchone() or (0, 0)
                assert total == distinct == first_moved[stream], stream

        third = project.run("--log-format=json", "run", "tap-xero", "target-duckdb")
        assert not any(records_moved(third.output).values())
        # The third run received the second run's STATE from Meltano: every event consumed.
        assert receiver.metrics()["xero_webhooks_queue_depth"] == 0


def test_reference_data_and_polled_streams_wait_for_their_interval(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    tenant = sandbox.tenant_ids()[0]
    streams = ["tax_rates", "accounts", "report_trial_balance", "payments"]
    config = client_credentials_config(
        sandbox,
        tenant_ids=[tenant],
        reference_refresh_hours=24,
        poll_hours=0,
        report_start_date=datetime.now(UTC).strftime("%Y-%m-01T00:00:00Z"),
    )
    first = run_tap(tmp_path / "first", config, streams)
    assert all(first.records.get(s) for s in ["tax_rates", "accounts", "report_trial_balance"])
    for stream in ["tax_rates", "accounts", "report_trial_balance"]:
        assert "refreshed_at" in partition_bookmark(first.state, stream, tenant), stream
    second = run_tap(tmp_path / "second", config, streams, state=first.state)
    # Reference data is not due for 24 hours; payments are polled on every run (1 call).
    assert not any(second.records.get(s) for s in ["tax_rates", "accounts", "report_trial_balance"])
    assert calls(second.stderr, tenant) == 1
    for stream in ["tax_rates", "accounts", "report_trial_balance"]:
        assert (
            partition_bookmark(second.state, stream, tenant)["refreshed_at"]
            == (partition_bookmark(first.state, stream, tenant)["refreshed_at"])
        )
    # Due again (the interval is up): read in full.
    third = run_tap(
        tmp_path / "third", {**config, "reference_refresh_hours": 1e-9}, streams, state=second.state
    )
    assert len(third.records["tax_rates"]) == len(first.records["tax_rates"])


def test_many_events_are_read_by_if_modified_since_in_one_call(tmp_path: Path) -> None:
    with Receiver() as receiver, sandbox_for(receiver, scale=10) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        config = client_credentials_config(sb, webhook_queue=receiver.queue)
        first = run_tap(tmp_path / "first", config, ["invoices"])
        created = create_invoices(sb, tenant, 120)  # 3 calls by ID (50 a call)
        wait_for(lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= 120)
        second = run_tap(tmp_path / "second", config, ["invoices"], state=first.state)
        assert set(created) <= _ids(second, "invoices")
        assert calls(second.stderr, tenant) == 1
        # The bookmark the sweep needs did not move.
        assert (
            partition_bookmark(second.state, "invoices", tenant)["replication_key_value"]
            == (partition_bookmark(first.state, "invoices", tenant)["replication_key_value"])
        )


def test_idle_runs_with_webhooks_and_default_settings_cost_only_what_is_due(
    tmp_path: Path,
) -> None:
    """Every default Accounting stream and the reports, webhook_queue set, no interval set:
    right after a first run nothing is due (0 calls); 4 hours later only the streams Xero sends
    no events for and that are not reference data are (poll_hours 3: one call each)."""
    with Receiver() as receiver, sandbox_for(receiver, scale=10) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        not_selected = {"expense_claims", "receipts", "payment_services"}  # as meltano.yml
        accounting = [r for r in RESOURCES if r.api is ACCOUNTING and r.stream not in not_selected]
        streams = [*(r.stream for r in accounting), *REPORTS]
        polled = [
            r.stream for r in accounting if r.stream not in EVENT_STREAMS and not r.reference_data
        ]
        config = client_credentials_config(
            sb,
            tenant_ids=[tenant],
            webhook_queue=receiver.queue,
            report_start_date=datetime.now(UTC).strftime("%Y-%m-01T00:00:00Z"),
        )
        first = run_tap(tmp_path / "first", config, streams)
        second = run_tap(tmp_path / "second", config, streams, state=first.state)
        assert calls(second.stderr, tenant) == 0
        assert not any(second.records.values())

        aged = json.loads(json.dumps(second.state))
        four_hours_ago = (datetime.now(UTC) - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for bookmark in aged["bookmarks"].values():
            for partition in bookmark.get("partitions", []):
                if "refreshed_at" in partition:
                    partition["refreshed_at"] = four_hours_ago
        third = run_tap(tmp_path / "third", config, streams, state=aged)
        assert calls(third.stderr, tenant) == len(polled)
        for stream in polled:
            assert partition_bookmark(third.state, stream, tenant)["refreshed_at"] > four_hours_ago

"""A warm pipeline: `meltano el tap-xero target-postgres` following the webhook queue, killed
with `kill -9` mid-follow and started again: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import random
import signal
import threading
from pathlib import Path

import psycopg
import pytest

from tests._sandbox_edge_support import wait_for
from tests._webhooks_support import Receiver, draft_ids, sandbox_for, touch, wait_for_handshake
from tests.meltano_support import PostgresServer, new_project
from xero_api.event_queue import EventQueue

pytestmark = [pytest.mark.meltano, pytest.mark.postgres]

STATE_ID = "follow-test"
EL = ("el", "tap-xero", "target-postgres", f"--state-id={STATE_ID}")


def _invoices(pg: PostgresServer) -> list[tuple[str, str]]:
    """(InvoiceID, Reference) of every row of the warehouse's invoices table."""
    with psycopg.connect(pg.url("warehouse"), autocommit=True) as conn:
        columns: dict[str, str] = dict(
            conn.execute(
                "SELECT replace(lower(column_name), '_', ''), column_name "
                "FROM information_schema.columns "
                "WHERE table_schema = 'xero' AND table_name = 'invoices'"
            ).fetchall()
        )
        rows = conn.execute(
            f'SELECT "{columns["invoiceid"]}", "{columns["reference"]}" '  # noqa: S608
            "FROM xero.invoices"
        ).fetchall()
    return [(str(i), str(r)) for i, r in rows]


def test_a_following_pipeline_killed_mid_follow_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    with (
        PostgresServer() as pg,
        Receiver() as receiver,
        sandbox_for(receiver, scale=6) as sb,
    ):
        pg.create_database("warehouse")
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        project = new_project(
            tmp_path / "project",
            sandbox_url=sb.url,
            refresh_token=sb.authorize()["refresh_token"],
            extra_env={
                "MELTANO_STATE_BACKEND_URI": (tmp_path / "state").as_uri(),
                "TAP_XERO_WEBHOOK_QUEUE": receiver.queue,
                "TAP_XERO__SELECT": '["invoices.*"]',
                **pg.target_env("warehouse"),
            },
        )
        project.run(*EL)  # the first run: a sweep of every invoice
        every = {i for i, _ in _invoices(pg)}
        before, killed = draft_ids(sb, tenant, "invoices", 2)

        follow = {"TAP_XERO_WEBHOOK_FOLLOW_SECONDS": "300", "TARGET_POSTGRES_BATCH_SIZE_ROWS": "1"}
        pipeline = project.popen(*EL, env=follow, own_group=True)
        output: list[str] = []
        threading.Thread(target=lambda: output.extend(pipeline.stdout or ()), daemon=True).start()
        try:
            wait_for(lambda: "Following the webhook queue" in "".join(output), 300)
            touch(sb, tenant, "invoices", [before], "loaded while following")
            # The warm pipeline writes the row while it keeps running.
            wait_for(lambda: (before, "loaded while following") in _invoices(pg), 120)
            assert pipeline.poll() is None, "".join(output)[-3000:]
            touch(sb, tenant, "invoices", [killed], "killed around")
            # Anywhere from before its delivery to after its row is written.
            threading.Event().wait(random.uniform(0, 6))
        finally:
            os.killpg(pipeline.pid, signal.SIGKILL)
            pipeline.wait(60)

        # The killed run's job looks alive to Meltano until its heartbeat is stale: --force.
        project.run(*EL, "--force")
        rows = _invoices(pg)
        assert len(rows) == len({i for i, _ in rows}), "an invoice row is doubled"
        assert {i for i, _ in rows} == every
        loaded = dict(rows)
        assert loaded[before] == "loaded while following"
        assert loaded[killed] == "killed around"
        with EventQueue(receiver.queue) as queue:
            last = queue.read(tenant, "INVOICE", 0)[-1].position
        stored = project.state(STATE_ID)["singer_state"]["bookmarks"]["invoices"]
        assert [p["queue_position"] for p in stored["partitions"]] == [last]

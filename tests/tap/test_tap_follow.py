"""The tap following the webhook queue (``webhook_follow_seconds``): real tap, receiver and
sandbox processes; events that arrive after the tap started are read as they come."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

from tests._sandbox_edge_support import wait_for
from tests._tap_support import (
    client_credentials_config,
    parse_output,
    partition_bookmark,
    run_tap,
    write_inputs,
)
from tests._webhooks_support import (
    Receiver,
    calls,
    draft_ids,
    sandbox_for,
    touch,
    wait_for_handshake,
)
from xero_api.event_queue import EventQueue

EVENT_STREAMS = ["contacts", "invoices", "credit_notes"]
FOLLOW_SECONDS = 12  # real seconds: the sandbox (time scale 10) delivers well within them


def _lines_with(lines: list[str], text: str) -> list[str]:
    return [line for line in list(lines) if text in line]


def test_a_following_tap_reads_events_that_arrive_after_it_started(tmp_path: Path) -> None:
    with Receiver() as receiver, sandbox_for(receiver, scale=30) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        config = client_credentials_config(sb, webhook_queue=receiver.queue)
        first = run_tap(tmp_path / "first", config, EVENT_STREAMS)  # the sweep

        following = {**config, "webhook_follow_seconds": FOLLOW_SECONDS}
        argv = write_inputs(tmp_path / "follow", following, EVENT_STREAMS, first.state)
        stderr_path = tmp_path / "follow" / "stderr.txt"
        with stderr_path.open("w") as stderr:
            tap = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(tap.stdout or ()), daemon=True)
        reader.start()
        try:
            wait_for(lambda: "Following the webhook queue" in stderr_path.read_text(), 120)
            invoices = draft_ids(sb, tenant, "invoices", 2)
            touch(sb, tenant, "invoices", invoices, "followed-1")
            # Records reach stdout while the tap keeps following (it has not exited).
            wait_for(lambda: len(_lines_with(lines, '"stream":"invoices"')) >= 2, 60)
            assert tap.poll() is None
            contact = draft_ids(sb, tenant, "contacts", 1)
            touch(sb, tenant, "contacts", contact, "followed-2")
            tap.wait(FOLLOW_SECONDS + 120)
        finally:
            tap.kill()
            tap.wait()
        reader.join(10)
        run = parse_output(tap.returncode, "".join(lines), stderr_path.read_text())
        assert run.returncode == 0, run.stderr[-3000:]
        with EventQueue(receiver.queue) as queue:
            newest = queue.last_position()
            events = {
                "invoices": queue.read(tenant, "INVOICE", 0),
                "contacts": queue.read(tenant, "CONTACT", 0),
            }
            # Following emits positions no target has confirmed yet: still counted as waiting.
            assert queue.stats().depth == 3
        # The next run receives the last STATE back: it reads nothing and confirms them all.
        after = run_tap(tmp_path / "after", config, EVENT_STREAMS, state=run.state)
        assert not any(after.records.get(s) for s in EVENT_STREAMS)
        assert calls(after.stderr, tenant) == 0
        with EventQueue(receiver.queue) as queue:
            assert queue.stats().depth == 0

    # Exactly the documents changed after it started, each once, and nothing else.
    assert sorted(r["InvoiceID"] for r in run.records["invoices"]) == sorted(invoices)
    assert [r["ContactID"] for r in run.records["contacts"]] == contact
    assert "credit_notes" not in run.records
    assert {r["Reference"] for r in run.records["invoices"]} == {"followed-1"}
    # One call per batch read by ID, none while idle.
    batches = len(re.findall(r"event\(s\), \d+ document\(s\) to read", run.stderr))
    assert calls(run.stderr, tenant) == batches >= 2
    # Each position enters STATE only after its records; the last STATE has them all.
    for stream, queued in events.items():
        position = queued[-1].position
        assert partition_bookmark(run.state, stream, tenant)["queue_position"] == position
        last_record = max(i for i, line in enumerate(run.lines) if f'"stream":"{stream}"' in line)
        first_moved = min(
            i
            for i, line in enumerate(run.lines)
            if line.startswith('{"type":"STATE"') and f'"queue_position":{position}' in line
        )
        assert first_moved > last_record, stream
    assert f"every event up to position {newest} of these tenants is read" in run.stderr

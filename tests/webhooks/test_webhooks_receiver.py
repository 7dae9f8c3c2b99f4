"""xero-webhooks serve over real HTTP: the sandbox's signed webhooks in, a durable queue out."""

from __future__ import annotations

import json
import random
import socket
import threading
import time

import httpx
import psutil
import pytest

from tests._sandbox_edge_support import wait_for
from tests._webhooks_support import (
    KEY,
    Receiver,
    create_contacts,
    deliveries_settled,
    sandbox_for,
    wait_for_handshake,
)
from tests.meltano_support import PostgresServer
from xero_api.event_queue import EventQueue
from xero_api.webhooks import sign


def _payload(events: list[dict[str, str]]) -> bytes:
    body = {"events": events, "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "X"}
    return json.dumps(body).encode()


def _event(resource: str, when: str = "2026-12-04T10:00:00.000") -> dict[str, str]:
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{resource}",
        "resourceId": resource,
        "eventDateUtc": when,
        "eventType": "UPDATE",
        "eventCategory": "CONTACT",
        "tenantId": "tenant-1",
        "tenantType": "ORGANISATION",
    }


def _post(receiver: Receiver, body: bytes, signature: str | None = None) -> httpx.Response:
    headers = {"x-xero-signature": signature if signature is not None else sign(KEY, body)}
    return httpx.post(receiver.url, content=body, headers=headers, timeout=30)


def test_sandbox_webhooks_are_queued_once(tmp_path: object) -> None:
    with Receiver() as receiver, sandbox_for(receiver) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        ids = create_contacts(sb, tenant, ["Queue One Ltd", "Queue Two Ltd"])
        wait_for(lambda: deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] == 2)
        with EventQueue(receiver.queue) as queue:
            stored = queue.all_events()
            assert sorted(e.resource_id for _, e in stored) == sorted(ids)
            assert {(e.tenant_id, e.category, e.event_type) for _, e in stored} == {
                (tenant, "CONTACT", "CREATE")
            }
            # A repeat of a delivered payload (Xero retries when it saw no 200) adds nothing.
            events = [
                {
                    "resourceUrl": "x",
                    "resourceId": e.resource_id,
                    "eventDateUtc": e.event_date,
                    "eventType": e.event_type,
                    "eventCategory": e.category,
                    "tenantId": e.tenant_id,
                    "tenantType": "ORGANISATION",
                }
                for _, e in stored
            ]
            assert _post(receiver, _payload(events)).status_code == 200
            assert len(queue.all_events()) == 2
        metrics = receiver.metrics()
        assert metrics["xero_webhooks_queue_depth"] == 2
        assert metrics["xero_webhooks_oldest_unconsumed_event_age_seconds"] >= 0
        assert metrics["xero_webhooks_events_queued_total"] == 2
        assert metrics["xero_webhooks_events_received_total"] == 4
        assert metrics['xero_webhooks_deliveries_rejected_total{reason="signature"}'] >= 1
        assert httpx.get(f"{receiver.base}/healthz").status_code == 200


def _rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def _raw_request(port: int, head: bytes, body_chunks: int, chunk: bytes) -> bytes:
    """Send ``head`` then up to ``body_chunks`` chunks; the answer (b"" if none came)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for _ in range(body_chunks):
                sock.sendall(chunk)
        except OSError:
            pass  # the receiver stopped reading and closed: expected for oversized bodies
        try:
            return sock.recv(4096)
        except OSError:
            return b""


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_bad_signatures_malformed_oversized_and_slow_bodies_are_rejected() -> None:
    with Receiver(max_body=65536, body_timeout=1) as receiver:
        good = _payload([_event("c-1")])
        assert _post(receiver, good).status_code == 200
        base_rss = _rss(receiver.pid)
        assert _post(receiver, good, signature="").status_code == 401
        assert _post(receiver, good, signature=sign("another key", good)).status_code == 401
        assert _post(receiver, good + b" ", signature=sign(KEY, good)).status_code == 401
        assert _post(receiver, b"{not json").status_code == 400
        assert _post(receiver, b'{"events": [{"resourceId": "x"}]}').status_code == 400
        assert _post(receiver, b'{"events": "none"}').status_code == 400
        mib = b"x" * (1024 * 1024)
        head = "POST /webhooks HTTP/1.1\r\nHost: t\r\nx-xero-signature: AAAA\r\n"
        port = receiver.port
        # The old example's killer: a negative length with 300 MB behind it.
        answer = _raw_request(port, f"{head}Content-Length: -1\r\n\r\n".encode(), 300, mib)
        assert _status(answer) == 400
        # A declared length over the limit is refused before the body is read.
        answer = _raw_request(port, f"{head}Content-Length: {300 << 20}\r\n\r\n".encode(), 300, mib)
        assert _status(answer) == 413
        # Chunked, no length: counted as it arrives and cut off at the limit.
        chunk = b"100000\r\n" + mib + b"\r\n"
        answer = _raw_request(
            port, f"{head}Transfer-Encoding: chunked\r\n\r\n".encode(), 300, chunk
        )
        assert _status(answer) == 413
        # Slow: a small body promised, a trickle sent; the receiver gives up after 1 second.
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(f"{head}Content-Length: 1000\r\n\r\n".encode() + b"{")
            assert _status(sock.recv(4096)) == 408
        # Many slow senders at once: each holds a connection, not memory.
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
        for sock in sockets:
            sock.sendall(f"{head}Content-Length: 60000\r\n\r\n".encode() + b"x" * 50_000)
        for sock in sockets:
            sock.settimeout(30)
            assert _status(sock.recv(4096)) == 408
            sock.close()
        grown = _rss(receiver.pid) - base_rss
        assert grown < 20 * 1024 * 1024, f"receiver memory grew by {grown / 2**20:.0f} MiB"
        assert _post(receiver, good).status_code == 200  # still serving
        metrics = receiver.metrics()
        assert metrics['xero_webhooks_deliveries_rejected_total{reason="signature"}'] == 3
        assert metrics['xero_webhooks_deliveries_rejected_total{reason="malformed"}'] == 3
        assert metrics['xero_webhooks_deliveries_rejected_total{reason="too_large"}'] == 2
        assert metrics['xero_webhooks_deliveries_rejected_total{reason="slow"}'] == 51
        with EventQueue(receiver.queue) as queue:
            assert len(queue.all_events()) == 1


def test_missing_key_is_one_line() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "xero_webhooks", "serve"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "xero-webhooks: set XERO_WEBHOOK_KEY to the webhook signing key"


def _burst_with_kills(receiver: Receiver, events: int, kills: int) -> None:
    """``events`` contact creations from the sandbox while the receiver is killed ``kills``
    times at random moments; every event must land exactly once."""
    # 100x: the batch window is 50 ms and Xero's first retries come 0.1 s and 0.6 s later.
    with sandbox_for(receiver, time_scale=100) as sb:
        assert wait_for_handshake(sb) == "passed"
        tenant = sb.tenant_ids()[0]
        created: list[str] = []
        rng = random.Random(17)
        writer_done = threading.Event()

        def write() -> None:
            for start in range(0, events, 50):
                names = [f"Burst {n:04d} Ltd" for n in range(start, min(events, start + 50))]
                created.extend(create_contacts(sb, tenant, names))
                time.sleep(rng.uniform(0, 0.05))
            writer_done.set()

        writer = threading.Thread(target=write)
        writer.start()
        for _ in range(kills):
            time.sleep(rng.uniform(0.05, 0.6))
            receiver.kill()
            time.sleep(rng.uniform(0, 0.3))
            receiver.restart()
        writer.join(120)
        assert writer_done.is_set()
        wait_for(lambda: deliveries_settled(sb), timeout=120)
        stats = sb.stats()["webhooks"]
        assert stats["events_queued"] == events
        assert stats["events_abandoned"] == 0
        assert stats["failed_attempts"] >= 1, "no delivery met a dead receiver: kills too early"
        with EventQueue(receiver.queue) as queue:
            stored = queue.all_events()
        ids = [e.resource_id for _, e in stored]
        assert len(ids) == len(set(ids)), "an event was stored twice"
        assert sorted(ids) == sorted(created), "an event was lost"


def test_kill_9_during_a_burst_loses_and_doubles_nothing() -> None:
    with Receiver() as receiver:
        _burst_with_kills(receiver, events=1000, kills=6)


@pytest.mark.postgres
def test_postgres_queue_under_kill_9() -> None:
    with PostgresServer() as pg:
        pg.create_database("webhooks")
        with Receiver(queue=pg.url("webhooks")) as receiver:
            _burst_with_kills(receiver, events=300, kills=3)
            metrics = receiver.metrics()
            assert metrics["xero_webhooks_queue_depth"] == 300

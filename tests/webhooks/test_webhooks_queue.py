"""The event queue on its own (SQLite): positions, repeats, consumers, misses, pruning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xero_api.errors import XeroConfigError
from xero_api.event_queue import Event, open_queue


def _event(resource: str, tenant: str = "t1", when: str = "2026-12-04T10:00:00.000") -> Event:
    return Event(tenant, "INVOICE", "UPDATE", resource, when)


def test_positions_repeats_consumers_and_pruning(tmp_path: Path) -> None:
    with open_queue(f"sqlite:///{tmp_path}/q.db") as queue:
        assert queue.append([_event("a"), _event("b"), _event("a")]) == 2  # a repeat in a batch
        assert queue.append([_event("a"), _event("c", tenant="t2")]) == 1  # Xero's retry
        assert queue.append([_event("a", when="2026-12-04T10:00:01.000")]) == 1  # a new change
        stored = queue.all_events()
        assert [e.resource_id for _, e in stored] == ["a", "b", "c", "a"]
        a, b, c, a2 = (p for p, _ in stored)
        assert a < b < c < a2  # increasing in commit order (repeats may leave gaps)
        assert queue.last_positions() == {"t1": a2, "t2": c}
        assert [e.resource_id for e in queue.read("t1", "INVOICE", after=a)] == ["b", "a"]
        assert queue.read("t1", "CONTACT", after=0) == []
        assert queue.stats().depth == 4
        queue.acknowledge("t1", "INVOICE", b)
        queue.acknowledge("t1", "INVOICE", a)  # never backwards
        assert queue.stats().depth == 2
        queue.record_misses("t1", "invoices", 2)
        queue.record_misses("t1", "invoices", 1)
        assert queue.stats().misses == {("t1", "invoices"): 3}
        # Only consumed events go, unconsumed ones stay however old.
        assert queue.prune(older_than_s=-1) == 2
        assert [p for p, _ in queue.all_events()] == [c, a2]


def test_a_bad_event_names_its_field() -> None:
    with pytest.raises(ValueError, match="resourceId"):
        Event.from_payload(
            {"tenantId": "t", "eventCategory": "INVOICE", "eventType": "UPDATE", "resourceId": 7}
        )


def test_postgres_without_psycopg_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real = builtins.__import__

    def no_psycopg(name: str, *args: object, **kwargs: object) -> object:
        if name == "psycopg":
            raise ImportError(name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(RuntimeError, match=r"pip install 'singer-xero\[webhooks\]'"):
        open_queue("postgresql://nobody@127.0.0.1:1/none")


def test_an_unreachable_postgresql_queue_is_one_line_naming_the_setting() -> None:
    with pytest.raises(XeroConfigError) as caught:
        open_queue("postgresql://someone:hunter2@127.0.0.1:1/none")
    message = str(caught.value)
    assert message.startswith("config setting 'webhook_queue': cannot connect to")
    assert "hunter2" not in message  # the password never reaches a message
    assert "\n" not in message


def test_positions_watch_prints_a_line_each_time_the_positions_change(tmp_path: Path) -> None:
    """``xero-webhooks positions --watch``: one process a scheduler can wait on."""
    dsn = f"sqlite:///{tmp_path}/q.db"
    with open_queue(dsn) as queue:
        first = queue.append([_event("a")])
        assert first == 1
        watcher = subprocess.Popen(
            [sys.executable, "-m", "xero_webhooks", "positions", "--queue", dsn, "--watch", "0.05"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert watcher.stdout is not None
            assert json.loads(watcher.stdout.readline()) == queue.last_positions()
            queue.append([_event("b", tenant="t2")])
            assert json.loads(watcher.stdout.readline()) == queue.last_positions()
            assert set(queue.last_positions()) == {"t1", "t2"}
        finally:
            watcher.terminate()
            watcher.wait(30)

"""The webhook case: API calls of event-driven runs, and of a day of idle hourly runs.

* ``event_calls_per_run``: one tenant, invoices only. After a first (sweep) run, k new invoices
  are written to the sandbox, which delivers their CREATE webhooks to ``xero-webhooks serve``;
  then one event-driven run (``webhook_queue``) and, beside it, one polling run
  (If-Modified-Since from the same starting bookmark) read them. Calls are counted by the
  sandbox.
* ``idle_calls_per_day``: one tenant, every Accounting stream selected by default, nothing
  changing. A day of hourly runs is 24 runs; each stream class is read when due: event streams
  cost nothing without events and one sweep a day (``reconcile_hours`` 24), reference data
  every ``reference_refresh_hours``, the other streams every ``poll_hours``. The calls of
  one read of each class are measured (a run with only that class selected and due), and the
  day is composed from them, for the defaults with ``webhook_queue`` (24 and 3 hours) and for
  ``poll_hours`` 0 (every run). An idle run right after the first, with the defaults, is
  measured too. Polling only (no webhooks, nothing skipped) is 24 runs of everything.

Freshness (``event_freshness_p95_s``) is not measured here yet.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tap_xero.changes import EVENT_MODE_REFRESH_HOURS
from tap_xero.tap import TapXero
from tests._tap_support import client_credentials_config
from tests._webhooks_support import (
    Receiver,
    create_invoices,
    deliveries_settled,
    sandbox_for,
    wait_for_handshake,
)
from xero_api.event_queue import CATEGORY_STREAMS
from xero_api.resources import ACCOUNTING, REPORTS, RESOURCES
from xero_sandbox.launcher import Sandbox

from . import world

__all__ = ["events_case"]

Log = Callable[[str], None]
# What meltano.yml leaves out of the default selection (removed by Xero, or extra scope).
NOT_SELECTED = {"expense_claims", "receipts", "payment_services"}
LIMITS = {"minute_limit": 100_000, "day_limit": 1_000_000, "app_minute_limit": 1_000_000}


def _tap(
    run_dir: Path,
    sb: Sandbox,
    config: dict[str, Any],
    streams: Sequence[str],
    state: dict[str, Any] | None,
) -> tuple[int, dict[str, Any], int]:
    """Run the tap once: (API calls the sandbox counted, last STATE, records)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = world.write_json(run_dir / "config.json", config)
    catalog = world.tap_catalog(config_path, run_dir, streams)
    argv = world.tap_argv(config_path, catalog)
    if state is not None:
        argv += ["--state", str(world.write_json(run_dir / "state.json", state))]
    before = sb.stats()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"tap-xero failed: {done.stderr[-2000:]}")
    calls = sum(world.calls_by_tenant(before, sb.stats()).values())
    last: dict[str, Any] = state or {}
    records = 0
    for line in done.stdout.splitlines():
        if line.startswith('{"type":"STATE"'):
            last = json.loads(line)["value"]
        elif line.startswith('{"type":"RECORD"'):
            records += 1
    return calls, last, records


def _wait_delivered(sb: Sandbox, queued: int) -> None:
    deadline = time.monotonic() + 300
    while not (deliveries_settled(sb) and sb.stats()["webhooks"]["events_queued"] >= queued):
        if time.monotonic() > deadline:
            raise RuntimeError("the sandbox did not deliver its webhooks in time")
        time.sleep(0.1)


def _event_calls(run_dir: Path, ks: Sequence[int], log: Log) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    with Receiver() as receiver, sandbox_for(receiver, scale=20, time_scale=10, **LIMITS) as sb:
        if wait_for_handshake(sb) != "passed":
            raise RuntimeError("the receiver failed the sandbox's handshake")
        tenant = sb.tenant_ids()[0]
        events = client_credentials_config(sb, webhook_queue=receiver.queue, tenant_ids=[tenant])
        polling = client_credentials_config(sb, tenant_ids=[tenant])
        _, event_state, _ = _tap(run_dir / "first", sb, events, ["invoices"], None)
        queued = 0
        for k in ks:
            # Polling starts from the same bookmark the event run's last sweep left.
            poll_state = event_state
            create_invoices(sb, tenant, k)
            queued += k
            _wait_delivered(sb, queued)
            calls, event_state, records = _tap(
                run_dir / f"events-{k}", sb, events, ["invoices"], event_state
            )
            poll_calls, _, poll_records = _tap(
                run_dir / f"poll-{k}", sb, polling, ["invoices"], poll_state
            )
            rows[str(k)] = {
                "event_calls": calls,
                "event_records": records,
                "polling_calls": poll_calls,
                "polling_records": poll_records,
                "goal_calls": 0 if k == 0 else math.ceil(k / 50) + 1,
            }
            log(f"events k={k}: {calls} call(s) ({records} records); polling {poll_calls}")
    return rows


def _default_streams() -> list[str]:
    """The Accounting API's streams meltano.yml selects, and the reports (the 31 of issue 17's
    744 calls a day; Projects and Fixed Assets need scopes of their own)."""
    streams = [r.stream for r in RESOURCES if r.stream not in NOT_SELECTED and r.api is ACCOUNTING]
    return [*streams, *REPORTS]


def _idle_calls(run_dir: Path, log: Log) -> dict[str, Any]:
    """Calls of one read of each stream class with nothing changed, and the day they make."""
    with Receiver() as receiver, sandbox_for(receiver, scale=20, time_scale=10, **LIMITS) as sb:
        if wait_for_handshake(sb) != "passed":
            raise RuntimeError("the receiver failed the sandbox's handshake")
        tenant = sb.tenant_ids()[0]
        streams = _default_streams()
        # The defaults with webhook_queue: reference_refresh_hours and poll_hours unset.
        config = client_credentials_config(
            sb,
            tenant_ids=[tenant],
            webhook_queue=receiver.queue,
            report_start_date=time.strftime("%Y-%m-01T00:00:00Z", time.gmtime()),
        )
        _, state, _ = _tap(run_dir / "idle-first", sb, config, streams, None)
        polling = {**_without_queue(config), "reference_refresh_hours": 0, "poll_hours": 0}
        everything, _, _ = _tap(run_dir / "idle-all", sb, polling, streams, state)
        probe = _tap(run_dir / "idle-probe", sb, config, streams, state)[0]
        # Classify as the tap does (TenantStream.refresh_hours): 1 marks reference data.
        event = sorted(CATEGORY_STREAMS.values())
        probe_config = {
            **_without_queue(config),
            "reference_refresh_hours": 1,
            "poll_hours": 2,
        }
        tap = TapXero(config=probe_config, parse_env_config=False)
        reference = [
            name
            for name, stream in tap.streams.items()
            if name in streams and name not in event and stream.refresh_hours == 1
        ]
        polled = [s for s in streams if s not in event and s not in reference]
        due = {"reconcile_hours": 1e-9, "reference_refresh_hours": 1e-9, "poll_hours": 0}
        sweep, _, _ = _tap(run_dir / "idle-sweep", sb, {**config, **due}, event, state)
        ref, _, _ = _tap(run_dir / "idle-ref", sb, {**config, **due}, reference, state)
        poll, _, _ = _tap(run_dir / "idle-poll", sb, {**config, **due}, polled, state)
        quiet = _tap(run_dir / "idle-events", sb, config, event, state)[0]
    reference_hours = EVENT_MODE_REFRESH_HOURS["reference_refresh_hours"]
    poll_hours = EVENT_MODE_REFRESH_HOURS["poll_hours"]
    sweeps = math.ceil(24 / 24)  # reconcile_hours 24
    per_day = {
        "polling_only": 24 * everything,
        "webhooks_defaults": 24 * quiet
        + math.ceil(24 / poll_hours) * poll
        + math.ceil(24 / reference_hours) * ref
        + sweeps * sweep,
        "webhooks_poll_every_run": 24 * (quiet + poll) + ref + sweep,
    }
    log(f"idle calls/day: {per_day}")
    return {
        "streams": len(streams),
        "reference_streams": reference,
        "polled_streams": polled,
        "event_streams": event,
        "calls_one_read": {
            "everything_polling": everything,
            "event_streams_no_events": quiet,
            "event_streams_sweep": sweep,
            "reference": ref,
            "polled": poll,
            "idle_run_after_the_first_defaults": probe,
        },
        "defaults": {"reference_refresh_hours": reference_hours, "poll_hours": poll_hours},
        "idle_calls_per_day": per_day,
    }


def _without_queue(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "webhook_queue"}


def events_case(sizes: Any, log: Log) -> dict[str, Any]:
    """Event-driven calls per run for k changed invoices, and idle calls per day."""
    run_dir = world.WORK / "runs" / "events"
    ks = (0, 1, 5) if sizes.name == "smoke" else (0, 1, 50, 500)
    rows = _event_calls(run_dir, ks, log)
    idle = _idle_calls(run_dir, log)
    return {
        "event_calls_per_run": rows,
        "idle": idle,
        "idle_calls_per_day": idle["idle_calls_per_day"],
        "finished_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }

"""Xero's webhooks: signed, batched CONTACT, INVOICE and CREDITNOTE events."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import random
import secrets
import sqlite3
import string
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from xero_sandbox.clock import Clock
from xero_sandbox.config import SandboxConfig
from xero_sandbox.stats import Stats
from xero_sandbox.store import side_connection, write_lock

__all__ = ["CATEGORIES", "EVENT_TYPES", "Webhooks", "sign"]

CATEGORIES = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}
EVENT_TYPES = ("CREATE", "UPDATE")
RETRY_DELAYS = (10.0, 60.0, 300.0, 900.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)
RECEIVER_TIMEOUT = 5.0  # real seconds, as Xero's documented 5-second limit
MAX_EVENTS_PER_BATCH = 250
HANDSHAKE_ROUNDS = 4

log = logging.getLogger("xero_sandbox.webhooks")


def sign(key: str, body: bytes) -> str:
    """Xero's ``x-xero-signature``: base64 of HMAC-SHA256 of the raw body under the webhook key."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def _entropy(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(20))


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


class Webhooks:
    """Queues events and delivers them to ``--webhook-url`` (a no-op when it is not set).

    ``notify(...)`` (called by the write handlers) queues an event with the next sequence number.
    A background task collects events for ``webhook_batch_s`` sandbox seconds, then POSTs one
    payload ``{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}`` to
    ``--webhook-url`` with ``x-xero-signature`` = base64(HMAC-SHA256(webhook key, raw body)).
    A delivery that fails (no answer within 5 seconds, or not a 2xx) is retried with growing
    delays, in sandbox time, for up to 24 sandbox hours; then the batch is abandoned.

    At startup the sandbox runs Xero's intent-to-receive handshake: a series of POSTs with no
    events, some correctly signed and some not. The receiver must answer 200 and 401 respectively.
    As at Xero, events are delivered only after the receiver passed; until then they wait, and if
    it failed they are counted as suppressed. The results are in ``snapshot()``
    (``/_sandbox/stats``). The key is never logged or reported.

    ``stats`` is accepted for symmetry with the other edge parts; webhook results are kept
    here and merged into ``/_sandbox/stats`` by the stats route.
    """

    def __init__(self, config: SandboxConfig, clock: Clock, stats: Stats | None = None) -> None:
        if bool(config.webhook_url) != bool(config.webhook_key):
            raise ValueError("--webhook-url and --webhook-key go together")
        self._url = config.webhook_url
        self._key = config.webhook_key or ""
        self._batch_s = config.webhook_batch_s
        self._clock = clock
        self._stats = stats
        self._rng = random.Random(f"xero-sandbox webhooks {config.seed}")
        self.base_url = f"http://{config.host}:{config.port}"
        self._base_url_known = config.port != 0
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._db: sqlite3.Connection | None = None
        self._db_path = config.db
        self._sequence = 0
        if self._url:
            self._db = side_connection(config.db)
            with write_lock(self._db_path):
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS edge_webhook_sequence "
                    "(id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL)"
                )
            row = self._db.execute("SELECT last FROM edge_webhook_sequence").fetchone()
            self._sequence = int(row[0]) if row else 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._handshake: dict[str, Any] = {"status": "pending" if self._url else "not configured"}
        self._counts = {
            "events_queued": 0,
            "events_delivered": 0,
            "events_suppressed": 0,
            "events_abandoned": 0,
            "batches_delivered": 0,
            "failed_attempts": 0,
            "batches_abandoned": 0,
        }
        self._last_status: int | None = None

    @property
    def configured(self) -> bool:
        """True when ``--webhook-url`` is set."""
        return self._url is not None

    def learn_base_url(self, base_url: str) -> None:
        """Set the origin used in ``resourceUrl`` once the server knows its real port."""
        if not self._base_url_known:
            self.base_url = base_url.rstrip("/")
            self._base_url_known = True

    # ------------------------------------------------------------------ events
    def notify(
        self,
        tenant_id: str,
        category: str,
        event_type: str,
        resource_id: str,
        *,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue one event; CREDITNOTE events take ``data={"Type": ..., "Status": ...}``."""
        if category not in CATEGORIES:
            raise ValueError(f"webhook category must be one of {sorted(CATEGORIES)}: {category}")
        if event_type not in EVENT_TYPES:
            raise ValueError(f"webhook event type must be CREATE or UPDATE: {event_type}")
        if not self.configured:
            return
        moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        event: dict[str, Any] = {
            "resourceUrl": f"{self.base_url}/api.xro/2.0/{CATEGORIES[category]}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": moment,
            "eventType": event_type,
            "eventCategory": category,
            "tenantId": tenant_id,
            "tenantType": "ORGANISATION",
        }
        if category == "CREDITNOTE" and data:
            event["data"] = {"Type": data.get("Type"), "Status": data.get("Status")}
        with self._lock:
            self._sequence += 1
            event["_sequence"] = self._sequence
            if self._db is not None:
                with write_lock(self._db_path):
                    self._db.execute(
                        "INSERT INTO edge_webhook_sequence (id, last) VALUES (1, ?) "
                        "ON CONFLICT (id) DO UPDATE SET last = excluded.last",
                        (self._sequence,),
                    )
            self._pending.append(event)
            self._counts["events_queued"] += 1
        self._ensure_started()
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def _ensure_started(self) -> None:
        if self._task is not None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.start()

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start the delivery task (and the handshake) in the running event loop."""
        if self._task is not None or not self.configured:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = self._loop.create_task(self._run())

    async def aclose(self) -> None:
        """Stop delivering; events still queued are dropped."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._db is not None:
            self._db.close()
            self._db = None

    def snapshot(self) -> dict[str, Any]:
        """Handshake and delivery results as a JSON-ready dict (never the key)."""
        with self._lock:
            return {
                "configured": self.configured,
                "intent_to_receive": dict(self._handshake),
                **self._counts,
                "events_pending": len(self._pending),
                "last_status": self._last_status,
            }

    # ----------------------------------------------------------------- delivery
    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=RECEIVER_TIMEOUT) as client:
            await self._intent_to_receive(client)
            assert self._wake is not None
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self._clock.sleep(self._batch_s)
                while True:
                    with self._lock:
                        batch = self._pending[:MAX_EVENTS_PER_BATCH]
                        del self._pending[:MAX_EVENTS_PER_BATCH]
                        passed = self._handshake.get("status") == "passed"
                        if batch and not passed:
                            self._counts["events_suppressed"] += len(batch)
                    if not batch:
                        break
                    if passed:
                        try:
                            await self._deliver(client, batch)
                        except Exception:  # keep delivering later batches whatever happens
                            log.exception("webhook batch could not be delivered")
                            with self._lock:
                                self._counts["batches_abandoned"] += 1
                                self._counts["events_abandoned"] += len(batch)

    async def _post(self, client: httpx.AsyncClient, body: bytes, signature: str) -> int | None:
        assert self._url is not None
        headers = {"Content-Type": "application/json", "x-xero-signature": signature}
        try:
            response = await client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as error:
            log.warning("webhook delivery to %s failed: %s", self._url, type(error).__name__)
            return None
        return response.status_code

    async def _intent_to_receive(self, client: httpx.AsyncClient) -> None:
        plan = [True, False] * (HANDSHAKE_ROUNDS // 2)
        self._rng.shuffle(plan)
        attempts: list[dict[str, Any]] = []
        for correctly_signed in plan:
            body = _encode(
                {
                    "events": [],
                    "firstEventSequence": 0,
                    "lastEventSequence": 0,
                    "entropy": _entropy(self._rng),
                }
            )
            key = self._key if correctly_signed else secrets.token_urlsafe(24)
            status = await self._post(client, body, sign(key, body))
            expected = 200 if correctly_signed else 401
            attempts.append(
                {"correctly_signed": correctly_signed, "status": status, "ok": status == expected}
            )
        passed = all(attempt["ok"] for attempt in attempts)
        with self._lock:
            self._handshake = {"status": "passed" if passed else "failed", "attempts": attempts}
        if not passed:
            log.warning("webhook receiver %s failed the intent-to-receive handshake", self._url)

    async def _deliver(self, client: httpx.AsyncClient, batch: list[dict[str, Any]]) -> None:
        first, last = batch[0]["_sequence"], batch[-1]["_sequence"]
        events = [{k: v for k, v in event.items() if k != "_sequence"} for event in batch]
        body = _encode(
            {
                "events": events,
                "firstEventSequence": first,
                "lastEventSequence": last,
                "entropy": _entropy(self._rng),
            }
        )
        signature = sign(self._key, body)
        for delay in (*RETRY_DELAYS, None):
            status = await self._post(client, body, signature)
            with self._lock:
                self._last_status = status
                if status is not None and 200 <= status < 300:
                    self._counts["batches_delivered"] += 1
                    self._counts["events_delivered"] += len(batch)
                    return
                self._counts["failed_attempts"] += 1
            if delay is None:
                break
            await self._clock.sleep(delay)
        with self._lock:
            self._counts["batches_abandoned"] += 1
            self._counts["events_abandoned"] += len(batch)

"""The receiver's ASGI app: ``POST`` deliveries are verified, bounded and committed to the
queue before the answer; ``GET /healthz`` and ``GET /metrics`` (Prometheus) beside them."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from xero_api.event_queue import Event, EventQueue
from xero_api.webhooks import SIGNATURE_HEADER, verify_signature

__all__ = ["ReceiverConfig", "build_app"]

log = logging.getLogger("xero_webhooks")


@dataclass(frozen=True)
class ReceiverConfig:
    """What the receiver needs; ``key`` is the webhook signing key (never logged)."""

    key: str
    queue_dsn: str
    path: str = "/webhooks"
    max_body: int = 1024 * 1024
    body_timeout: float = 3.0
    retain_days: float = 31.0  # consumed events are kept this long to recognise late repeats

    def __repr__(self) -> str:  # the key stays out of every log and traceback
        return f"ReceiverConfig(queue_dsn=<set>, path={self.path!r}, max_body={self.max_body})"


class _Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _QueueCollector(Collector):
    """Queue depth, oldest unconsumed event and sweep misses, read at scrape time."""

    def __init__(self, queue: EventQueue) -> None:
        self.queue = queue

    def collect(self) -> list[Metric]:
        stats = self.queue.stats()
        depth = GaugeMetricFamily(
            "xero_webhooks_queue_depth", "Events not yet consumed by a confirmed tap run."
        )
        depth.add_metric([], stats.depth)
        age = GaugeMetricFamily(
            "xero_webhooks_oldest_unconsumed_event_age_seconds",
            "Seconds since the oldest unconsumed event was received (0 when none).",
        )
        age.add_metric([], stats.oldest_unconsumed_age_s or 0.0)
        misses = GaugeMetricFamily(
            "xero_webhooks_reconcile_misses",
            "Changes the tap's reconciliation sweep found that no webhook event announced.",
            labels=["tenant", "stream"],
        )
        for (tenant, stream), count in sorted(stats.misses.items()):
            misses.add_metric([tenant, stream], count)
        return [depth, age, misses]


class _Metrics:
    def __init__(self, queue: EventQueue) -> None:
        self.registry = CollectorRegistry()
        self.received = Counter(
            "xero_webhooks_deliveries_received",
            "Webhook POSTs received.",
            registry=self.registry,
        )
        self.verified = Counter(
            "xero_webhooks_deliveries_verified",
            "Webhook POSTs with a valid signature and payload, committed to the queue.",
            registry=self.registry,
        )
        self.rejected = Counter(
            "xero_webhooks_deliveries_rejected",
            "Webhook POSTs rejected, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.events = Counter(
            "xero_webhooks_events_received",
            "Events in verified deliveries, including repeats.",
            registry=self.registry,
        )
        self.queued = Counter(
            "xero_webhooks_events_queued",
            "Events new to the queue (repeats are not counted).",
            registry=self.registry,
        )
        self.registry.register(_QueueCollector(queue))


def _declared_length(request: Request, max_body: int) -> int | None:
    header = request.headers.get("content-length")
    if header is None:
        return None
    if not header.isdigit() or not header.isascii():
        raise _Rejected(400, "bad_length")
    if int(header) > max_body:
        raise _Rejected(413, "too_large")
    return int(header)


async def _read_body(request: Request, max_body: int, timeout: float) -> bytes:
    _declared_length(request, max_body)
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_body:
                    raise _Rejected(413, "too_large")
                chunks.append(chunk)
    except TimeoutError:
        raise _Rejected(408, "slow") from None
    except ClientDisconnect:
        raise _Rejected(400, "disconnected") from None
    return b"".join(chunks)


def _parse(body: bytes) -> list[Event]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise _Rejected(400, "malformed") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise _Rejected(400, "malformed")
    events = []
    for item in payload["events"]:
        if not isinstance(item, dict):
            raise _Rejected(400, "malformed")
        try:
            events.append(Event.from_payload(item))
        except ValueError:
            raise _Rejected(400, "malformed") from None
    return events


def build_app(config: ReceiverConfig, queue: EventQueue | None = None) -> Starlette:
    """The receiver; opens the queue at ``config.queue_dsn`` unless one is given."""
    if not config.key:
        raise ValueError("XERO_WEBHOOK_KEY is empty: set it to the webhook signing key")
    receiver = _Receiver(config, queue or EventQueue(config.queue_dsn))
    routes = [
        Route(config.path, receiver.receive, methods=["POST"]),
        Route("/healthz", receiver.healthz, methods=["GET"]),
        Route("/metrics", receiver.prometheus, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=receiver.lifespan)
    app.state.queue = receiver.queue
    app.state.metrics = receiver.metrics
    return app


class _Receiver:
    """The app's handlers over one queue and one set of metrics."""

    def __init__(self, config: ReceiverConfig, queue: EventQueue) -> None:
        self.config = config
        self.queue = queue
        self.metrics = _Metrics(queue)

    async def receive(self, request: Request) -> Response:
        """One delivery, each step before the next.

        1. ``Content-Length``, when given, must be a whole number no larger than ``max_body``
           (else 400 or 413, before a byte is read); a chunked body is counted as it arrives
           and cut off at ``max_body`` (413).
        2. The whole body must arrive within ``body_timeout`` seconds (else 408): a slow sender
           holds a connection, never the receiver's memory, and Xero's 5-second window is kept.
        3. ``x-xero-signature`` must be base64(HMAC-SHA256(key, raw body)), compared in constant
           time, else 401. Xero's intent-to-receive handshake is exactly this check.
        4. The body must be Xero's payload (``events``, each with every field), else 400.
        5. The events are committed to the queue, deduplicated, and only then the answer is an
           empty 200: a crash before the commit leaves Xero without a 200, so Xero retries.
        """
        config, metrics = self.config, self.metrics
        metrics.received.inc()
        try:
            body = await _read_body(request, config.max_body, config.body_timeout)
            if not verify_signature(config.key, body, request.headers.get(SIGNATURE_HEADER)):
                raise _Rejected(401, "signature")
            events = _parse(body)
        except _Rejected as rejected:
            metrics.rejected.labels(rejected.reason).inc()
            # Close the connection: an unread or oversized body must not be read any further.
            return Response(status_code=rejected.status, headers={"connection": "close"})
        if events:
            added = await run_in_threadpool(self.queue.append, events)
            metrics.events.inc(len(events))
            metrics.queued.inc(added)
            if added < len(events):
                log.info("%d repeated event(s) ignored", len(events) - added)
        metrics.verified.inc()
        return Response(status_code=200)

    async def healthz(self, _request: Request) -> Response:
        """200 when the queue answers, else 503."""
        try:
            await run_in_threadpool(self.queue.ping)
        except Exception as error:
            log.error("queue unavailable: %s", type(error).__name__)
            return PlainTextResponse("queue unavailable\n", status_code=503)
        return PlainTextResponse("ok\n")

    async def prometheus(self, _request: Request) -> Response:
        text = await run_in_threadpool(generate_latest, self.metrics.registry)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    async def prune_hourly(self) -> None:
        """Delete consumed events older than ``retain_days``, once an hour."""
        while True:
            try:
                removed = await run_in_threadpool(self.queue.prune, self.config.retain_days * 86400)
                if removed:
                    log.info(
                        "pruned %d consumed event(s) older than %g days",
                        removed,
                        self.config.retain_days,
                    )
            except Exception as error:  # the queue may be briefly away; try again later
                log.warning("pruning the queue failed: %s", type(error).__name__)
            await anyio.sleep(3600)

    @asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self.prune_hourly)
                yield
                tasks.cancel_scope.cancel()
        finally:
            self.queue.close()

"""The middle layers of the client's send path, outermost first: retries, authentication and
rate limits. Each wraps the next (a :class:`~xero_api.exchange.Layer`) and handles one concern;
counts that span attempts live on the :class:`~xero_api.exchange.Call`."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from .auth import Authenticator
from .errors import XeroRateLimited, XeroRateLimitExhausted, problem_detail
from .exchange import Call, Exchange, Layer
from .limits import RateLimiter
from .usage import Usage

__all__ = ["Authentication", "RateLimits", "Retries", "backoff_delay", "retry_after"]

MAX_RATE_LIMIT_WAITS = 50
MAX_RENEWALS = 3
_BACKOFF_BASE = 0.5
_BACKOFF_CAP = 30.0


class Retries:
    """Sends again after transport faults and 5xx answers, with jittered exponential backoff.

    At most ``max_retries`` times per call. A call that is not retry-safe (a write without an
    ``Idempotency-Key``) is sent again only when its connection never opened; an upload from a
    one-shot stream, only while none of it has been sent.
    """

    def __init__(
        self,
        inner: Layer,
        *,
        max_retries: int,
        usage: Usage,
        logger: logging.Logger,
        sleep: Callable[[float], None],
    ) -> None:
        self._inner = inner
        self._max_retries = max_retries
        self._usage = usage
        self._logger = logger
        self._sleep = sleep

    def send(self, call: Call) -> Exchange:
        """Send ``call``; return the first outcome that is not worth retrying, or the last."""
        while True:
            exchange = self._inner.send(call)
            if not self._retryable(call, exchange):
                return exchange
            call.retries += 1
            if exchange.fault is not None:
                self._back_off(call, exchange.fault, None)
            else:
                assert exchange.response is not None
                self._back_off(
                    call, f"http_{exchange.status}", retry_after(exchange.response.headers)
                )

    def _retryable(self, call: Call, exchange: Exchange) -> bool:
        if call.retries >= self._max_retries:
            return False
        if call.upload is not None and not call.upload.can_resend:
            return False
        if exchange.fault is not None:
            return call.retry_safe or not exchange.may_have_reached_xero
        return exchange.status >= 500 and call.retry_safe

    def _back_off(self, call: Call, fault: str, wait_at_least: float | None) -> None:
        delay = backoff_delay(call.retries)
        if wait_at_least is not None:
            delay = max(delay, min(wait_at_least, _BACKOFF_CAP))
        self._usage.retry(call.tenant_id, fault)
        now = time.monotonic()
        self._usage.waited(call.tenant_id, now, now + delay)
        self._logger.warning(
            "%s: %s; retry %d/%d in %.2fs",
            call.where,
            fault,
            call.retries,
            self._max_retries,
            delay,
        )
        self._sleep(delay)


class Authentication:
    """Attaches the access token to every attempt; after a 401 renews it and sends again.

    Once per call, or up to :data:`MAX_RENEWALS` times while Xero says the (new) token merely
    expired (``TokenExpired``); never for ``AuthorizationUnsuccessful`` (the app may not use
    this API: renewing cannot help).
    """

    def __init__(
        self, inner: Layer, *, auth: Authenticator, usage: Usage, logger: logging.Logger
    ) -> None:
        self._inner = inner
        self._auth = auth
        self._usage = usage
        self._logger = logger

    def send(self, call: Call) -> Exchange:
        """Send ``call`` with a current token, renewing it after a 401 as described above."""
        while True:
            token = self._auth.token()
            call.headers["Authorization"] = f"Bearer {token}"
            exchange = self._inner.send(call)
            if exchange.status != 401 or not self._may_renew(call, exchange):
                return exchange
            call.renewals += 1
            self._usage.retry(call.tenant_id, "http_401")
            self._logger.info(
                "%s: 401 (%s); renewing the access token",
                call.where,
                problem_detail(exchange.body),
            )
            self._auth.renew(token)

    @staticmethod
    def _may_renew(call: Call, exchange: Exchange) -> bool:
        detail = problem_detail(exchange.body).lower()
        if "authorizationunsuccessful" in detail:
            return False
        return call.renewals < (MAX_RENEWALS if "tokenexpired" in detail else 1)


class RateLimits:
    """Paces calls within Xero's limits: each attempt holds a slot of the tenant and waits for
    budget before it goes (:class:`~xero_api.limits.RateLimiter`), and the limit headers of its
    answer are learned. A 429 blocks the breached budget for ``Retry-After`` (so every thread of
    the tenant waits) and the call goes again.

    Raises :class:`XeroRateLimitExhausted` when the day limit's wait is longer than
    ``max_wait_seconds``, and :class:`XeroRateLimited` after :data:`MAX_RATE_LIMIT_WAITS` waits.
    """

    def __init__(
        self,
        inner: Layer,
        *,
        limiter: RateLimiter,
        usage: Usage,
        logger: logging.Logger,
        max_wait_seconds: float,
    ) -> None:
        self._inner = inner
        self._limiter = limiter
        self._usage = usage
        self._logger = logger
        self._max_wait_seconds = max_wait_seconds

    def send(self, call: Call) -> Exchange:
        """Send ``call`` when the budget allows; wait out 429s."""
        while True:
            exchange = self._paced(call)
            if exchange.status != 429:
                return exchange
            assert exchange.response is not None
            call.rate_limit_waits += 1
            self._wait_out(call, exchange.response.headers)

    def _paced(self, call: Call) -> Exchange:
        tenant_id = call.tenant_id
        with self._limiter.slot(tenant_id, call.priority) as wait_for_budget:
            before = time.monotonic()
            sent_at = wait_for_budget()
            after = time.monotonic()
            if after - before > 0.001:
                self._usage.waited(tenant_id, before, after)
            self._usage.call(tenant_id)
            try:
                exchange = self._inner.send(call)
            except BaseException:
                self._limiter.abandon(tenant_id, sent_at)
                raise
            if exchange.response is None:
                self._limiter.abandon(tenant_id, sent_at)  # no headers: let another call probe
            else:
                self._learn(tenant_id, sent_at, exchange.response.headers)
            return exchange

    def _learn(self, tenant_id: str | None, sent_at: float, headers: httpx.Headers) -> None:
        day = _int_header(headers, "x-daylimit-remaining")
        if day is not None:
            self._usage.day_quota(tenant_id, day)
        self._limiter.observe(
            tenant_id,
            sent_at,
            _int_header(headers, "x-minlimit-remaining"),
            day,
            _int_header(headers, "x-appminlimit-remaining"),
        )

    def _wait_out(self, call: Call, headers: httpx.Headers) -> None:
        problem = (headers.get("x-rate-limit-problem") or "").strip().lower()
        wait = retry_after(headers)
        self._usage.rate_limited(call.tenant_id, problem)
        if problem in ("day", "daily"):
            seconds = wait if wait is not None else 86400.0
            if wait is None or wait > self._max_wait_seconds:
                retry_at = datetime.now(UTC) + timedelta(seconds=seconds)
                raise XeroRateLimitExhausted(call.tenant_id, seconds, retry_at)
        if call.rate_limit_waits > MAX_RATE_LIMIT_WAITS:
            raise XeroRateLimited(
                f"{call.where}: still rate limited (429 {problem or 'unknown'}) "
                f"after {call.rate_limit_waits} waits",
                status=429,
                method=call.method,
                path=call.path,
                tenant_id=call.tenant_id,
            )
        if wait is None:
            wait = backoff_delay(call.rate_limit_waits + 1, jitter=False)
        self._logger.info(
            "%s: rate limited (%s); waiting %.1fs as Retry-After says",
            call.where,
            problem or "unknown",
            wait,
        )
        self._limiter.block(call.tenant_id, problem, wait)


def backoff_delay(attempt: int, *, jitter: bool = True) -> float:
    """The wait before retry number ``attempt`` (from 1): 0.5 s doubling, capped at 30 s;
    with jitter, a random 50-100 % of it so that callers refused together spread out."""
    delay: float = min(_BACKOFF_CAP, _BACKOFF_BASE * 2.0 ** (attempt - 1))
    return delay * random.uniform(0.5, 1.0) if jitter else delay


def retry_after(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds (a number, or an HTTP date); None when absent or unreadable."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None

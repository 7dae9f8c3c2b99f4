"""Each layer of the client's send path alone, over a scripted inner layer (or MockTransport).

The layers together are proved in ``test_client_units.py`` (MockTransport) and
``test_client_sandbox.py`` (the sandbox over HTTP).
"""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from xero_api import XeroClient, XeroSettings
from xero_api.error_mapping import ErrorMapping
from xero_api.errors import (
    XeroAuthError,
    XeroConnectionError,
    XeroHTTPError,
    XeroNotFound,
    XeroRateLimited,
    XeroRateLimitExhausted,
    XeroServerError,
    XeroValidationError,
)
from xero_api.exchange import Call, Exchange, Transport
from xero_api.layers import Authentication, RateLimits, Retries, backoff_delay, retry_after
from xero_api.limits import RateLimiter
from xero_api.usage import Usage

TENANT = "11111111-2222-3333-4444-555555555555"
LOG = logging.getLogger("test_client_layers")


def call(method: str = "GET", path: str = "Invoices", **fields: Any) -> Call:
    return Call(method, path, f"http://127.0.0.1:9/{path}", TENANT, None, None, {}, **fields)


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Exchange:
    return Exchange(response=httpx.Response(status, headers=headers), body=body)


class Scripted:
    """An inner layer that answers from a list and records the calls it was given."""

    def __init__(self, *outcomes: Exchange | Callable[[Call], Exchange]) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[dict[str, str]] = []

    def send(self, call: Call) -> Exchange:
        self.sent.append(dict(call.headers))
        outcome = self.outcomes.pop(0)
        return outcome if isinstance(outcome, Exchange) else outcome(call)


# ---------------------------------------------------------------------------- transport
def transport(handler: Callable[[httpx.Request], httpx.Response]) -> Transport:
    return Transport(httpx.Client(transport=httpx.MockTransport(handler)))


def raises(exc: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handler


def test_transport_faults_say_whether_the_request_may_have_reached_xero() -> None:
    never = transport(raises(httpx.ConnectError)).send(call())
    assert (never.fault, never.may_have_reached_xero, never.status) == ("connect_error", False, 0)
    maybe = transport(raises(httpx.ReadTimeout)).send(call())
    assert (maybe.fault, maybe.may_have_reached_xero) == ("read_timeout", True)


def test_transport_decodes_bodies_and_a_cut_success_body_is_a_fault() -> None:
    cut = transport(lambda r: httpx.Response(200, content=b'{"Invoices": [')).send(call())
    assert cut.fault == "truncated_or_invalid_json"
    error = transport(lambda r: httpx.Response(500, text="upstream down")).send(call())
    assert (error.fault, error.status, error.body) == (None, 500, "upstream down")
    fine = transport(lambda r: httpx.Response(200, content=b'{"Total": 1.10}')).send(call())
    assert str(fine.body["Total"]) == "1.10"


def test_transport_leaves_no_reference_cycle_holding_an_answer() -> None:
    # httpx's response and its bound stream refer to each other; the transport cuts that,
    # so a page's bytes go as soon as the answer is dropped, not at the next collection.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        answered = transport(lambda r: httpx.Response(200, content=b'{"A": [1]}')).send(call())
        assert answered.body == {"A": [1]}
        assert answered.response is not None
        assert answered.response.content == b'{"A": [1]}'  # still readable
        freed = weakref.ref(answered.response)
        del answered
        assert freed() is None
    finally:
        if was_enabled:
            gc.enable()


class Chunks:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.resets = 0

    def reset(self) -> None:
        self.parts.clear()
        self.resets += 1

    def write(self, chunk: bytes) -> None:
        self.parts.append(chunk)


def test_transport_streams_into_the_sink_and_a_short_body_is_a_fault() -> None:
    sink = Chunks()
    whole = transport(lambda r: httpx.Response(200, content=b"%PDF-1.7 ...")).send(call(sink=sink))
    assert (whole.fault, b"".join(sink.parts), sink.resets) == (None, b"%PDF-1.7 ...", 1)

    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"half", headers={"Content-Length": "8"})

    cut = transport(short).send(call(sink=sink))
    assert cut.fault == "truncated_body"
    assert cut.response is not None  # its limit headers are still learned


# ---------------------------------------------------------------------------- retries
def retries(inner: Scripted, sleeps: list[float], max_retries: int = 3) -> Retries:
    return Retries(inner, max_retries=max_retries, usage=Usage(), logger=LOG, sleep=sleeps.append)


def test_retries_faults_and_5xx_with_growing_backoff_then_returns_the_answer() -> None:
    inner = Scripted(Exchange(fault="read_timeout"), answer(503), answer(200))
    sleeps: list[float] = []
    the_call = call()
    assert retries(inner, sleeps).send(the_call).status == 200
    assert the_call.retries == 2
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_retries_honour_retry_after_on_5xx_up_to_the_cap() -> None:
    sleeps: list[float] = []
    inner = Scripted(answer(503, headers={"Retry-After": "7"}), answer(503), answer(200))
    retries(inner, sleeps).send(call())
    assert sleeps[0] == 7.0
    inner = Scripted(answer(503, headers={"Retry-After": "3600"}), answer(200))
    sleeps.clear()
    retries(inner, sleeps).send(call())
    assert sleeps == [30.0]


def test_retries_stop_at_the_bound_and_return_the_last_outcome() -> None:
    inner = Scripted(*[answer(500)] * 3)
    sleeps: list[float] = []
    the_call = call()
    assert retries(inner, sleeps, max_retries=2).send(the_call).status == 500
    assert (the_call.retries, len(sleeps), inner.outcomes) == (2, 2, [])


def test_a_write_without_key_is_sent_again_only_if_it_never_left() -> None:
    sleeps: list[float] = []
    landed = Scripted(Exchange(fault="read_timeout"), answer(200))
    assert retries(landed, sleeps).send(call("PUT", retry_safe=False)).fault == "read_timeout"
    refused_5xx = Scripted(answer(502), answer(200))
    assert retries(refused_5xx, sleeps).send(call("PUT", retry_safe=False)).status == 502
    never_left = Scripted(Exchange(fault="connect_error", may_have_reached_xero=False), answer(200))
    assert retries(never_left, sleeps).send(call("PUT", retry_safe=False)).status == 200
    assert len(sleeps) == 1


def test_4xx_are_not_retried() -> None:
    inner = Scripted(answer(400), answer(200))
    assert retries(inner, []).send(call()).status == 400


# ---------------------------------------------------------------------------- authentication
class Tokens:
    def __init__(self) -> None:
        self.current = "token-1"
        self.renewed: list[str] = []

    def token(self) -> str:
        return self.current

    def renew(self, rejected: str) -> str:
        self.renewed.append(rejected)
        self.current = f"token-{len(self.renewed) + 1}"
        return self.current


def authenticated(inner: Scripted, tokens: Tokens) -> Authentication:
    return Authentication(inner, auth=tokens, usage=Usage(), logger=LOG)


def test_token_is_attached_and_a_401_renews_it_once() -> None:
    tokens = Tokens()
    inner = Scripted(answer(401, {"Detail": "Unauthorized"}), answer(401), answer(200))
    assert authenticated(inner, tokens).send(call()).status == 401
    assert [sent["Authorization"] for sent in inner.sent] == ["Bearer token-1", "Bearer token-2"]
    assert tokens.renewed == ["token-1"]


def test_token_expired_renews_up_to_three_times() -> None:
    tokens = Tokens()
    expired = answer(401, {"Detail": "TokenExpired: token expired at 01/01/2026"})
    inner = Scripted(expired, expired, expired, answer(200))
    assert authenticated(inner, tokens).send(call()).status == 200
    inner = Scripted(*[expired] * 4)
    assert authenticated(inner, tokens).send(call()).status == 401
    assert len(tokens.renewed) == 6


def test_authorization_unsuccessful_and_403_are_not_renewed() -> None:
    tokens = Tokens()
    inner = Scripted(answer(401, {"Detail": "AuthorizationUnsuccessful"}), answer(403))
    assert authenticated(inner, tokens).send(call()).status == 401
    assert authenticated(inner, tokens).send(call()).status == 403
    assert tokens.renewed == []


# ---------------------------------------------------------------------------- rate limits
def paced(inner: Scripted, usage: Usage, limiter: RateLimiter | None = None) -> RateLimits:
    return RateLimits(
        inner,
        limiter=limiter or RateLimiter(),
        usage=usage,
        logger=LOG,
        max_wait_seconds=3600,
    )


def test_a_429_is_waited_out_and_the_call_goes_again() -> None:
    usage = Usage()
    limited = answer(429, headers={"Retry-After": "0", "X-Rate-Limit-Problem": "minute"})
    inner = Scripted(limited, limited, answer(200, headers={"X-DayLimit-Remaining": "4321"}))
    the_call = call()
    assert paced(inner, usage).send(the_call).status == 200
    tenant = usage.tenant(TENANT)
    assert (the_call.rate_limit_waits, tenant.calls, tenant.rate_limited) == (2, 3, 2)
    assert tenant.day_quota_left == 4321  # learned from the answer's headers


def test_a_day_limit_longer_than_allowed_ends_the_call() -> None:
    day = answer(429, headers={"Retry-After": "7200", "X-Rate-Limit-Problem": "day"})
    inner = Scripted(day)
    layer = RateLimits(
        inner, limiter=RateLimiter(), usage=Usage(), logger=LOG, max_wait_seconds=3600
    )
    with pytest.raises(XeroRateLimitExhausted) as info:
        layer.send(call())
    assert info.value.retry_after == 7200


def test_a_429_that_never_ends_is_an_error_after_fifty_waits() -> None:
    limited = answer(429, headers={"Retry-After": "0", "X-Rate-Limit-Problem": "minute"})
    inner = Scripted(*[limited] * 51)
    with pytest.raises(XeroRateLimited, match="after 51 waits") as info:
        paced(inner, Usage()).send(call())
    assert isinstance(info.value, XeroHTTPError)
    assert info.value.status == 429


def test_a_fault_or_an_exception_leaves_no_call_in_flight() -> None:
    limiter = RateLimiter()

    def fails(the_call: Call) -> Exchange:
        raise KeyboardInterrupt

    inner = Scripted(Exchange(fault="read_timeout"), fails)
    layer = paced(inner, Usage(), limiter)
    assert layer.send(call()).fault == "read_timeout"
    with pytest.raises(KeyboardInterrupt):
        layer.send(call())
    assert limiter._budget(TENANT, "minute").in_flight == []


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after(httpx.Headers({"Retry-After": "12"})) == 12.0
    assert retry_after(httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after(httpx.Headers()) is None
    assert backoff_delay(1, jitter=False) == 0.5
    assert backoff_delay(20, jitter=False) == 30.0


# ---------------------------------------------------------------------------- error mapping
def mapped(outcome: Exchange, usage: Usage | None = None, **fields: Any) -> Exchange:
    layer = ErrorMapping(Scripted(outcome), usage=usage or Usage(), api_url="http://127.0.0.1:9")
    return layer.send(call(**fields))


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, XeroValidationError),
        (401, XeroAuthError),
        (403, XeroAuthError),
        (404, XeroNotFound),
        (409, XeroHTTPError),
        (500, XeroServerError),
        (503, XeroServerError),
    ],
)
def test_statuses_map_to_the_exception_tree(status: int, error: type[Exception]) -> None:
    usage = Usage()
    with pytest.raises(error) as info:
        mapped(answer(status, {"Message": "said so"}), usage)
    assert type(info.value) is error
    assert usage.tenant(TENANT).faults[f"http_{status}"] == 1


def test_successes_pass_through() -> None:
    assert mapped(answer(200, {"Invoices": []})).body == {"Invoices": []}
    assert mapped(answer(304)).status == 304


def test_a_fault_is_a_connection_error_saying_why_it_was_not_retried() -> None:
    with pytest.raises(XeroConnectionError, match="read_timeout after 2 retries") as info:
        mapped(Exchange(fault="read_timeout"), retries=2)
    assert "api_url" not in str(info.value)
    with pytest.raises(XeroConnectionError, match=r"not retried.*api_url \(http://127"):
        mapped(
            Exchange(fault="connect_error", may_have_reached_xero=False),
            method="PUT",
            retry_safe=False,
        )


def test_a_server_error_counts_its_retries_and_keeps_the_correlation_id() -> None:
    outcome = answer(502, "bad gateway", headers={"Xero-Correlation-Id": "c-1"})
    with pytest.raises(XeroServerError, match="502 \\(bad gateway\\) after 3 retries") as info:
        mapped(outcome, retries=3)
    assert info.value.correlation_id == "c-1"
    assert info.value.tenant_id == TENANT


# ---------------------------------------------------------------------------- the chain
def test_the_client_chains_the_layers_so_each_retry_gets_a_current_token() -> None:
    """Authentication sits inside Retries: a retry after a 503 carries the token of its time."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(503 if len(seen) == 1 else 200, json={})

    settings = XeroSettings.from_config(
        {"auth_mode": "access_token", "access_token": "a" * 30, "api_url": "http://127.0.0.1:9"}
    )
    client = XeroClient(settings, LOG, transport=httpx.MockTransport(handler), sleep=lambda s: None)
    tokens = iter(["token-1", "token-2"])
    client.auth.token = lambda: next(tokens)  # type: ignore[method-assign]
    assert client.get("Invoices", TENANT).status == 200
    assert seen == ["Bearer token-1", "Bearer token-2"]
    assert client.usage.tenant(TENANT).calls == 2  # each attempt paced by the rate limits

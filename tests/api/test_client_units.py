"""Unit tests of the shared Xero client: dates, JSON, settings, retry/limit logic (MockTransport).

End-to-end proof against a running xero-sandbox is in ``test_client_sandbox.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest

from xero_api import (
    SETTINGS,
    XeroAuthError,
    XeroClient,
    XeroConfigError,
    XeroConnectionError,
    XeroNotFound,
    XeroRateLimitExhausted,
    XeroServerError,
    XeroSettings,
    XeroValidationError,
    decode_json,
    encode_json,
)
from xero_api.codec import numbers_as_text
from xero_api.dates import (
    convert_msdates,
    format_utc,
    if_modified_since_header,
    msdate_to_date,
    msdate_to_datetime,
    msdate_to_iso,
    parse_datetime,
    to_xero_date,
    to_xero_datetime,
)
from xero_api.limits import RateLimiter
from xero_api.scopes import probable_scope
from xero_api.usage import Usage

TENANT = "11111111-2222-3333-4444-555555555555"
SECRET_TOKEN = "planted-access-token-0123456789"


# ---------------------------------------------------------------------------- dates
def test_msdate_is_utc_epoch_ms_and_ignores_offset_annotation() -> None:
    expected = datetime(2014, 12, 30, 11, 0, tzinfo=UTC)
    assert msdate_to_datetime("/Date(1419937200000+0000)/") == expected
    assert msdate_to_datetime("/Date(1419937200000+1300)/") == expected
    assert msdate_to_datetime("/Date(1419937200000)/") == expected
    assert msdate_to_iso("/Date(1419937200123)/") == "2014-12-30T11:00:00.123000+00:00"


def test_negative_msdate_and_date_only_fields() -> None:
    assert msdate_to_datetime("/Date(-86400000)/") == datetime(1969, 12, 31, tzinfo=UTC)
    assert msdate_to_date("/Date(1709251200000+0000)/") == date(2024, 3, 1)
    with pytest.raises(ValueError, match="not a Xero"):
        msdate_to_datetime("/Date(abc)/")


def test_msdate_to_iso_is_format_utc_of_the_instant_across_the_calendar() -> None:
    first = "/Date(-62135596800000)/"  # 0001-01-01
    last = "/Date(253402300799999+1300)/"  # 9999-12-31 23:59:59.999
    assert msdate_to_iso(first) == "0001-01-01T00:00:00.000000+00:00"
    assert msdate_to_iso(last) == "9999-12-31T23:59:59.999000+00:00"
    step = 7_919_131_337  # ~92 days and an odd number of milliseconds
    for ms in [*range(-62135596800000, 253402300799999, step), -1, 0, 1, 86_399_999]:
        for suffix in ("", "+0000", "-0530"):
            value = f"/Date({ms}{suffix})/"
            assert msdate_to_iso(value) == format_utc(msdate_to_datetime(value)), value
    with pytest.raises(OverflowError):
        msdate_to_iso("/Date(253402300800000)/")
    with pytest.raises(ValueError, match="not a Xero"):
        msdate_to_iso("/Date(12.5)/")


def test_convert_msdates_walks_nested_records() -> None:
    record = {
        "UpdatedDateUTC": "/Date(0+0000)/",
        "LineItems": [{"Date": "/Date(1000)/", "Name": "/Date(x)/"}],
        "Total": Decimal("1.10"),
    }
    out = convert_msdates(record)
    assert out["UpdatedDateUTC"] == "1970-01-01T00:00:00.000000+00:00"
    assert out["LineItems"][0]["Date"] == "1970-01-01T00:00:01.000000+00:00"
    assert out["LineItems"][0]["Name"] == "/Date(x)/"
    assert out["Total"] == Decimal("1.10")


def test_parse_and_write_formats() -> None:
    assert parse_datetime("2019-12-07T18:46:19.5165400") == datetime(
        2019, 12, 7, 18, 46, 19, 516540, tzinfo=UTC
    )
    assert parse_datetime("2024-05-01T12:00:00+02:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert to_xero_date("2024-05-01T23:30:00-02:00") == "2024-05-02"
    assert to_xero_date(date(2024, 5, 1)) == "2024-05-01"
    assert to_xero_datetime(datetime(2024, 5, 1, 10, 20, 30, 999999, tzinfo=UTC)) == (
        "2024-05-01T10:20:30"
    )
    # Floored to the second, never rounded up past the bookmark.
    assert if_modified_since_header("2024-05-01T10:20:30.999+00:00") == "2024-05-01T10:20:30Z"
    with pytest.raises(ValueError, match="not an ISO-8601"):
        parse_datetime("yesterday")


# ---------------------------------------------------------------------------- JSON
def test_money_decodes_exactly_and_encodes_as_numbers() -> None:
    data = decode_json(b'{"Total": 1.10, "Qty": 1.0000, "Rate": 0.1234567891, "Count": 3}')
    assert data == {
        "Total": Decimal("1.10"),
        "Qty": Decimal("1.0000"),
        "Rate": Decimal("0.1234567891"),
        "Count": 3,
    }
    assert str(data["Qty"]) == "1.0000"
    assert isinstance(data["Count"], int)
    assert encode_json({"UnitAmount": Decimal("10.0050")}) == b'{"UnitAmount":10.0050}'


EXTREME_NUMBERS = [
    "12345678901234567.123456789",
    "-98765432109876.54321",
    "0.0000000000000000001",
    "-0.00",
    "1E-7",
    "2.5e+12",
    "-1.5E-300",
    "1e400",
    "3.14159265358979323846264338327950288",
]


def test_numbers_as_text_keep_xeros_exact_digits() -> None:
    body = "[" + ", ".join(EXTREME_NUMBERS) + ", 7, 123456789012345678901234567890]"
    with numbers_as_text():
        values = decode_json(body.encode())
    *texts, small, big = values
    assert [bytes(v).decode() for v in texts] == EXTREME_NUMBERS
    assert (small, big) == (7, 123456789012345678901234567890)
    written = msgspec.json.encode({"v": texts})
    assert written == ('{"v":[' + ",".join(EXTREME_NUMBERS) + "]}").encode()
    # the same digits as the Decimal path, whose values they are
    assert [Decimal(bytes(v).decode()) for v in texts] == decode_json(body.encode())[:-2]


def test_numbers_as_text_is_scoped_to_its_block_and_thread() -> None:
    seen: list[Any] = []
    with numbers_as_text():
        assert isinstance(decode_json(b"1.5"), msgspec.Raw)
        with numbers_as_text(False):
            assert decode_json(b"1.5") == Decimal("1.5")
        worker = threading.Thread(target=lambda: seen.append(decode_json(b"1.5")))
        worker.start()
        worker.join()
    assert seen == [Decimal("1.5")]
    assert decode_json(b"1.5") == Decimal("1.5")


# ---------------------------------------------------------------------------- settings
def test_settings_defaults_and_descriptions() -> None:
    settings = XeroSettings.from_config({"auth_mode": "access_token", "access_token": "x" * 20})
    assert settings.api_url == "https://api.xero.com"
    assert settings.max_retries == 8
    assert "offline_access" in settings.scopes
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.description for s in SETTINGS)
    assert {s.name for s in SETTINGS if s.secret} == {
        "client_secret",
        "refresh_token",
        "access_token",
        "token_store_dsn",  # the URL may carry the database password
        "app_budget_dsn",
    }
    assert "x" * 20 not in repr(settings)


@pytest.mark.parametrize(
    ("config", "setting"),
    [
        ({}, "auth_mode"),
        ({"auth_mode": "password"}, "auth_mode"),
        ({"auth_mode": "client_credentials", "client_id": "a"}, "client_secret"),
        ({"auth_mode": "refresh_token"}, "client_id"),
        ({"auth_mode": "access_token"}, "access_token"),
        ({"auth_mode": "access_token", "access_token": "t" * 9, "api_url": "ftp://x"}, "api_url"),
        (
            {"auth_mode": "access_token", "access_token": "t" * 9, "tenant_ids": ["x y"]},
            "tenant_ids",
        ),
        (
            {"auth_mode": "access_token", "access_token": "t" * 9, "max_retries": "many"},
            "max_retries",
        ),
        (
            {"auth_mode": "access_token", "access_token": "t" * 9, "request_timeout_seconds": -1},
            "request_timeout_seconds",
        ),
    ],
)
def test_bad_config_names_the_setting(config: dict[str, Any], setting: str) -> None:
    with pytest.raises(XeroConfigError) as info:
        XeroSettings.from_config(config)
    assert info.value.setting == setting
    assert f"'{setting}'" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://api.example.com", False),
        ("http://10.0.0.1:8080", False),
        ("http://127.0.0.1:8765", True),
        ("http://localhost:1234/", True),
        ("http://[::1]:80", True),
        ("https://api.example.com", True),
    ],
)
def test_plain_http_only_on_loopback(url: str, ok: bool) -> None:
    for key in ("api_url", "identity_url", "login_url"):
        config = {"auth_mode": "access_token", "access_token": "t" * 9, key: url}
        if ok:
            assert getattr(XeroSettings.from_config(config), key) == url.rstrip("/")
        else:
            with pytest.raises(XeroConfigError, match=f"'{key}'.*only https"):
                XeroSettings.from_config(config)


def test_tenant_ids_accept_meltano_strings() -> None:
    base = {"auth_mode": "access_token", "access_token": "t" * 9}
    assert XeroSettings.from_config({**base, "tenant_ids": f'["{TENANT}"]'}).tenant_ids == (TENANT,)
    assert XeroSettings.from_config({**base, "tenant_ids": f"{TENANT},{TENANT}"}).tenant_ids == (
        TENANT,
        TENANT,
    )


# ---------------------------------------------------------------------------- scopes
def test_probable_scopes() -> None:
    assert probable_scope("GET", "Invoices") == "accounting.invoices.read"
    assert probable_scope("POST", "Invoices") == "accounting.invoices"
    assert probable_scope("GET", "Journals") == "accounting.journals.read"
    assert probable_scope("GET", "Reports/TrialBalance") == "accounting.reports.trialbalance.read"
    assert probable_scope("GET", "/connections") is None


# ---------------------------------------------------------------------------- client
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(
    handler: Handler, *, max_retries: int = 3, sleeps: list[float] | None = None, **config: Any
) -> XeroClient:
    settings = XeroSettings.from_config(
        {
            "auth_mode": "access_token",
            "access_token": SECRET_TOKEN,
            "api_url": "http://127.0.0.1:9",
            "max_retries": max_retries,
            **config,
        }
    )
    recorded = sleeps if sleeps is not None else []
    return XeroClient(
        settings,
        logging.getLogger("test_client_units"),
        transport=httpx.MockTransport(handler),
        sleep=recorded.append,
    )


def ok(body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"Invoices": []}, headers=headers)


def test_request_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok({"Invoices": [{"Total": 1.5}]})

    client = make_client(handler)
    response = client.request(
        "POST",
        "Invoices",
        TENANT,
        params={"summarizeErrors": "false"},
        json={"Invoices": [{"Total": Decimal("1.50")}]},
        idempotency_key="key-1",
        if_modified_since=datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
    )
    request = seen[0]
    assert str(request.url) == "http://127.0.0.1:9/api.xro/2.0/Invoices?summarizeErrors=false"
    assert request.headers["accept"] == "application/json"
    assert request.headers["xero-tenant-id"] == TENANT
    assert request.headers["authorization"] == f"Bearer {SECRET_TOKEN}"
    assert request.headers["idempotency-key"] == "key-1"
    assert request.headers["if-modified-since"] == "2024-01-02T03:04:05Z"
    assert request.content == b'{"Invoices":[{"Total":1.50}]}'
    assert response.records("Invoices") == [{"Total": Decimal("1.5")}]
    assert client.url("/connections") == "http://127.0.0.1:9/connections"


def test_5xx_and_dropped_connections_are_retried_with_growing_jittered_backoff() -> None:
    answers: list[Callable[[httpx.Request], httpx.Response]] = [
        lambda r: httpx.Response(503, text="The Xero API is temporarily unavailable"),
        lambda r: (_ for _ in ()).throw(httpx.RemoteProtocolError("peer closed", request=r)),
        lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
        lambda r: ok(headers={"X-DayLimit-Remaining": "4321"}),
    ]
    sleeps: list[float] = []
    client = make_client(lambda r: answers.pop(0)(r), sleeps=sleeps)
    client.get("Invoices", TENANT)
    assert len(sleeps) == 3
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0
    assert 1.0 <= sleeps[2] <= 2.0
    usage = client.usage.tenant(TENANT)
    assert usage.calls == 4
    assert usage.retries == 3
    assert dict(usage.faults) == {"http_503": 1, "dropped_connection": 1, "read_timeout": 1}


def test_retries_are_bounded() -> None:
    client = make_client(lambda r: httpx.Response(500), max_retries=2)
    with pytest.raises(XeroServerError, match="500 after 2 retries"):
        client.get("Invoices", TENANT)
    assert client.usage.tenant(TENANT).calls == 3


def test_write_without_idempotency_key_is_not_retried_after_it_may_have_landed() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("slow", request=request)

    client = make_client(handler)
    with pytest.raises(XeroConnectionError, match="not retried"):
        client.request("PUT", "Invoices", TENANT, json={"Invoices": []})
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(XeroConnectionError, match="after 3 retries"):
        client.request("PUT", "Invoices", TENANT, json={"Invoices": []}, idempotency_key="k")
    assert len(calls) == 4


def test_429_waits_retry_after_then_succeeds() -> None:
    answers = [
        httpx.Response(
            429,
            headers={
                "Retry-After": "1",
                "X-Rate-Limit-Problem": "Minute",
                "X-MinLimit-Remaining": "0",
            },
        ),
        ok(),
    ]
    client = make_client(lambda r: answers.pop(0))
    started = time.monotonic()
    client.get("Invoices", TENANT)
    assert time.monotonic() - started >= 0.95
    usage = client.usage.tenant(TENANT)
    assert usage.rate_limited == 1
    assert usage.faults["429_minute"] == 1


def test_day_limit_longer_than_max_wait_ends_cleanly() -> None:
    client = make_client(
        lambda r: httpx.Response(
            429, headers={"Retry-After": "66975", "X-Rate-Limit-Problem": "day"}
        ),
        max_rate_limit_wait_seconds=3600,
    )
    with pytest.raises(XeroRateLimitExhausted) as info:
        client.get("Invoices", TENANT)
    assert info.value.tenant_id == TENANT
    assert info.value.retry_after == 66975
    assert TENANT in str(info.value)
    assert "try again after" in str(info.value)


def test_401_renews_once_then_names_tenant() -> None:
    renewals: list[str] = []
    body = {"Title": "Unauthorized", "Detail": "TokenExpired: token expired at 01/01/2026"}
    client = make_client(lambda r: httpx.Response(401, json=body))
    original = client.auth.renew

    def renew(rejected: str) -> str:
        renewals.append(rejected)
        return original(rejected)

    client.auth.renew = renew  # type: ignore[method-assign]
    with pytest.raises(XeroAuthError, match="cannot refresh"):
        client.get("Invoices", TENANT)
    assert renewals == [SECRET_TOKEN]


def test_401_authorization_unsuccessful_explains_journals() -> None:
    body = {"Title": "Unauthorized", "Detail": "AuthorizationUnsuccessful", "Status": 401}
    client = make_client(lambda r: httpx.Response(401, json=body))
    with pytest.raises(XeroAuthError) as info:
        client.get("Journals", TENANT)
    message = str(info.value)
    assert TENANT in message
    assert "AuthorizationUnsuccessful" in message
    assert "accounting.journals.read" in message
    assert info.value.scope == "accounting.journals.read"


def test_403_names_tenant_xero_detail_and_probable_scope() -> None:
    body = {"title": "Forbidden", "detail": "AuthenticationUnsuccessful", "status": 403}
    client = make_client(lambda r: httpx.Response(403, json=body))
    with pytest.raises(XeroAuthError) as info:
        client.get("BankTransactions", TENANT)
    message = str(info.value)
    assert TENANT in message
    assert "AuthenticationUnsuccessful" in message
    assert "accounting.banktransactions.read" in message
    assert "accounting.transactions.read" in message  # the broad equivalent
    assert client.usage.tenant(TENANT).calls == 1  # never retried


def test_400_carries_validation_messages_and_elements() -> None:
    body = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{"InvoiceNumber": "X", "ValidationErrors": [{"Message": "Bad date"}]}],
    }
    client = make_client(lambda r: httpx.Response(400, json=body))
    with pytest.raises(XeroValidationError) as info:
        client.request("POST", "Invoices", TENANT, json={})
    assert info.value.messages == ["A validation exception occurred", "Bad date"]
    assert info.value.elements[0]["InvoiceNumber"] == "X"
    assert "Bad date" in str(info.value)
    assert client.usage.tenant(TENANT).calls == 1


def test_404_is_not_found() -> None:
    client = make_client(lambda r: httpx.Response(404, text="not here"))
    with pytest.raises(XeroNotFound):
        client.get("Invoices/abc", TENANT)


def test_truncated_json_body_is_retried() -> None:
    answers = [httpx.Response(200, content=b'{"Invoices": [{"To'), ok()]
    client = make_client(lambda r: answers.pop(0))
    client.get("Invoices", TENANT)
    assert client.usage.tenant(TENANT).faults["truncated_or_invalid_json"] == 1


def test_secrets_never_reach_exceptions_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    # A hostile server echoing the bearer token back in its error text.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"Message": "bad token " + request.headers["authorization"]}
        )

    client = make_client(handler)
    with caplog.at_level(logging.DEBUG), pytest.raises(XeroValidationError) as info:
        client.get("Invoices", TENANT)
    assert SECRET_TOKEN not in str(info.value)
    assert "[redacted]" in str(info.value)
    client.logger.warning("echo %s", SECRET_TOKEN)
    assert SECRET_TOKEN not in caplog.text


def test_usage_summary_lines() -> None:
    client = make_client(lambda r: ok(headers={"X-DayLimit-Remaining": "4999"}))
    client.get("Invoices", TENANT)
    client.get("Invoices", TENANT)
    (line,) = client.usage.summary_lines()
    assert line.startswith(f"tenant={TENANT} calls=2 retries=0 rate_limited=0 day_quota_left=4999")
    assert client.usage.as_dict()[TENANT]["calls"] == 2


def test_waits_that_overlap_count_once() -> None:
    usage = Usage()
    total = []
    for start, end in [(10, 20), (12, 18), (15, 25), (30, 31), (0, 1), (26, 26), (0.5, 30.5)]:
        usage.waited(TENANT, start, end)
        total.append(usage.tenant(TENANT).waited_seconds)
    assert total == [10, 10, 15, 16, 17, 17, 31]
    assert usage.tenant(TENANT).waiting == [(0, 31)]
    assert usage.summary_lines()[0].endswith("waited_s=31.0")


def test_threads_backing_off_together_wait_once() -> None:
    together = threading.Barrier(5)
    failed: set[int] = set()

    def handler(request: httpx.Request) -> httpx.Response:
        me = threading.get_ident()
        if me in failed:
            return ok()
        failed.add(me)
        together.wait(timeout=10)  # all five are refused at once
        return httpx.Response(503, headers={"Retry-After": "20"})

    client = make_client(handler)
    threads = [threading.Thread(target=client.get, args=("Invoices", TENANT)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = client.usage.tenant(TENANT)
    assert (usage.calls, usage.retries) == (10, 5)
    # Five 20-second waits side by side are 20 seconds of waiting, not 100.
    assert 20 <= usage.waited_seconds < 21


# ---------------------------------------------------------------------------- limiter
def test_at_most_five_in_flight_per_tenant() -> None:
    lock = threading.Lock()
    in_flight = {"now": 0, "max": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        time.sleep(0.02)
        with lock:
            in_flight["now"] -= 1
        return ok()

    client = make_client(handler)
    threads = [threading.Thread(target=client.get, args=("Invoices", TENANT)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert in_flight["max"] == 5
    assert client.usage.tenant(TENANT).calls == 20


def test_spent_minute_budget_holds_calls_until_the_window_answers() -> None:
    """After X-MinLimit-Remaining: 0 only one probe goes out; its 429 blocks everyone."""
    lock = threading.Lock()
    state = {"remaining": 3, "reset_at": 0.0, "429s": 0, "sent": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            now = time.monotonic()
            if state["reset_at"] and now >= state["reset_at"]:
                state["remaining"], state["reset_at"] = 60, 0.0
            if state["remaining"] <= 0:
                state["429s"] += 1
                if not state["reset_at"]:
                    state["reset_at"] = now + 1.0
                return httpx.Response(
                    429, headers={"Retry-After": "1", "X-Rate-Limit-Problem": "minute"}
                )
            state["remaining"] -= 1
            state["sent"] += 1
            return ok(headers={"X-MinLimit-Remaining": str(state["remaining"])})

    client = make_client(handler)
    client.get("Invoices", TENANT)  # learn: 2 left
    threads = [threading.Thread(target=client.get, args=("Invoices", TENANT)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert state["sent"] == 9
    assert state["429s"] == 1  # one probe; a blind client would have had six


def test_budget_counts_calls_sent_after_the_reporting_request() -> None:
    limiter = RateLimiter()
    with limiter.slot(TENANT) as wait:
        first = wait()
    with limiter.slot(TENANT) as wait:
        second = wait()  # in flight, not yet reflected in the first call's header
    limiter.observe(TENANT, first, minute_remaining=1, day_remaining=100, app_remaining=100)
    budget = limiter._budget(TENANT, "minute")
    # 1 left minus 1 sent since = 0: wait for the unanswered call rather than probe.
    assert budget.delay(time.monotonic()) is None
    limiter.observe(TENANT, second, minute_remaining=0, day_remaining=99, app_remaining=99)
    assert budget.delay(time.monotonic()) == -1.0  # nothing out: one probe may go


def test_window_length_is_learned_so_later_windows_need_no_429() -> None:
    """Fixed 1 s windows of 3 calls: after two Retry-After answers the client knows the
    boundaries and waits them out itself."""
    window, limit = 1.0, 3
    origin = time.monotonic()
    lock = threading.Lock()
    used: dict[int, int] = {}
    refused: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            now = time.monotonic() - origin
            index = int(now // window)
            if used.get(index, 0) >= limit:
                refused.append(now)
                wait = (index + 1) * window - now
                return httpx.Response(
                    429, headers={"Retry-After": f"{wait:.4f}", "X-Rate-Limit-Problem": "minute"}
                )
            used[index] = used.get(index, 0) + 1
            return ok(headers={"X-MinLimit-Remaining": str(limit - used[index])})

    client = make_client(handler)
    for _ in range(24):
        client.get("Invoices", TENANT)
    assert sum(used.values()) == 24
    assert max(used.values()) <= limit
    assert len(refused) <= 3  # two to learn the window (a third if a wait lands on the edge)


def test_unreachable_host_names_the_setting() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    client = make_client(handler, max_retries=1)
    with pytest.raises(XeroConnectionError, match=r"connect_error after 1 retries.*api_url"):
        client.get("Invoices", TENANT)

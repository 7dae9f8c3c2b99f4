"""TLS only: every base URL setting refuses plain ``http://`` unless the host is loopback, judged
on the addresses it resolves to, once, and the client connects to those addresses only."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests._tap_support import client_credentials_config
from xero_api import XeroClient, XeroConfigError, XeroSettings
from xero_api.loopback import PinnedTransport
from xero_api.settings import check_url
from xero_sandbox.launcher import Sandbox

URL_SETTINGS = ("api_url", "identity_url", "login_url")
REFUSED = [
    "http://api.xero.com",
    "http://identity.xero.com/",
    "http://10.0.0.5:8080",
    "http://192.168.1.10",
    "http://127.0.0.1.nip.io",  # a name that only looks like loopback
    "http://localhost.evil.com",
    "http://127.0.0.1@evil.com",  # userinfo trick: the host is evil.com
    "http://[::ffff:8.8.8.8]",
    "ftp://api.xero.com",
    "api.xero.com",
    "https://",
]
ALLOWED = [
    "https://api.xero.com",
    "https://identity.xero.com/",
    "http://127.0.0.1:8765",
    "http://127.8.9.10:1",
    "http://localhost:8765",
    "http://[::1]:8765",
]


def _config(setting: str, url: str) -> dict[str, str]:
    return {"auth_mode": "access_token", "access_token": "t", setting: url}


@pytest.mark.parametrize("setting", URL_SETTINGS)
@pytest.mark.parametrize("url", REFUSED)
def test_plain_http_off_loopback_is_refused_naming_the_setting(setting: str, url: str) -> None:
    with pytest.raises(XeroConfigError) as info:
        XeroSettings.from_config(_config(setting, url))
    assert info.value.setting == setting
    assert setting in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("setting", URL_SETTINGS)
@pytest.mark.parametrize("url", ALLOWED)
def test_https_and_loopback_http_are_accepted(setting: str, url: str) -> None:
    settings = XeroSettings.from_config(_config(setting, url))
    assert getattr(settings, setting) == url.rstrip("/")


def test_check_url_is_the_one_gate() -> None:
    assert check_url("api_url", " https://api.xero.com/ ") == "https://api.xero.com"
    with pytest.raises(XeroConfigError, match="only https"):
        check_url("api_url", "http://api.xero.com")


# ----------------------------------------------------------------- resolved, not named
# The loopback rule is judged on what the system resolver answers. These tests stand in for the
# resolver (socket.getaddrinfo) to give the answers a hostile or careless DNS server could give;
# every other name still goes to the real one.

REAL_GETADDRINFO = socket.getaddrinfo


class Resolver:
    """Answers for chosen names, in turn (the last one repeats); counts every lookup."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        self.lookups.append(name)
        turns = self.answers[name]
        addresses = turns[min(len(self.lookups) - 1, len(turns) - 1)]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port or 0, 0, 0) if ":" in a else (a, port or 0),
            )
            for a in addresses
        ]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    fake = Resolver({})
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (["10.0.0.5"], "10.0.0.5"),  # the probe: foo.localhost sent to a network resolver
        (["127.0.0.1", "192.168.1.10"], "192.168.1.10"),  # one loopback answer is not enough
        (["::1", "2001:db8::1"], "2001:db8::1"),
        ([], "does not resolve"),
    ],
)
@pytest.mark.parametrize("setting", URL_SETTINGS)
def test_a_loopback_name_is_refused_unless_every_address_is_loopback(
    resolver: Resolver, setting: str, answer: list[str], said: str
) -> None:
    resolver.answers["foo.localhost"] = [answer]
    with pytest.raises(XeroConfigError) as info:
        XeroSettings.from_config(_config(setting, "http://foo.localhost:8765"))
    assert info.value.setting == setting
    assert said in str(info.value)
    assert "\n" not in str(info.value)


def test_only_loopback_names_are_looked_up(resolver: Resolver) -> None:
    resolver.answers.update({"api.xero.com": [["127.0.0.1"]], "sandbox.localhost": [["::1"]]})
    with pytest.raises(XeroConfigError):
        XeroSettings.from_config(_config("api_url", "http://api.xero.com"))
    settings = XeroSettings.from_config(_config("api_url", "https://api.xero.com"))
    assert resolver.lookups == []  # neither leaves the machine as a DNS question
    assert settings.http_addresses == {}
    settings = XeroSettings.from_config(_config("api_url", "http://sandbox.localhost:1"))
    assert resolver.lookups == ["sandbox.localhost"]
    assert settings.http_addresses == {"sandbox.localhost": ("::1",)}


def test_the_checked_address_is_used_with_the_original_host_header() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    pinned = PinnedTransport(httpx.MockTransport(answer), {"foo.localhost": ("127.0.0.2",)})
    with httpx.Client(transport=pinned) as http:
        http.get("http://foo.localhost:8765/api.xro/2.0/Contacts?page=2")
        http.get("https://api.xero.com/connections")
    assert str(seen[0].url) == "http://127.0.0.2:8765/api.xro/2.0/Contacts?page=2"
    assert seen[0].headers["host"] == "foo.localhost:8765"
    assert str(seen[1].url) == "https://api.xero.com/connections"  # TLS: name kept for SNI


def test_an_unchecked_plain_http_host_is_refused_at_connect(resolver: Resolver) -> None:
    resolver.answers["evil.localhost"] = [["203.0.113.7"]]
    pinned = PinnedTransport(httpx.MockTransport(lambda r: httpx.Response(200)), {})
    with httpx.Client(transport=pinned) as http, pytest.raises(httpx.ConnectError) as info:
        http.get("http://evil.localhost:1/")
    assert "203.0.113.7" in str(info.value)
    with httpx.Client(transport=pinned) as http, pytest.raises(httpx.ConnectError):
        http.get("http://example.com/")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=5) as sb:
        yield sb


def _sandbox_config(sb: Sandbox, host: str) -> dict[str, Any]:
    url = sb.url.replace("127.0.0.1", host)
    return {**client_credentials_config(sb), "api_url": url, "identity_url": url, "login_url": url}


def test_a_name_is_resolved_once_and_a_rebound_answer_never_used(
    sandbox: Sandbox, resolver: Resolver
) -> None:
    """DNS rebinding: the first answer is loopback, every later one a network address. The
    client connects to the first answer only, and never asks again."""
    resolver.answers["sandbox.localhost"] = [["127.0.0.1"], ["203.0.113.7"]]
    settings = XeroSettings.from_config(_sandbox_config(sandbox, "sandbox.localhost"))
    with XeroClient(settings) as client:
        tenant = client.tenant_ids()[0]
        assert client.get("Currencies", tenant).records("Currencies")
    assert resolver.lookups == ["sandbox.localhost"]


def test_every_checked_address_is_tried_in_turn(sandbox: Sandbox, resolver: Resolver) -> None:
    """localhost answering ::1 first while the sandbox listens on 127.0.0.1 only: the second
    checked address is used, as socket.create_connection would."""
    resolver.answers["localhost"] = [["::1", "127.0.0.1"]]
    settings = XeroSettings.from_config(_sandbox_config(sandbox, "localhost"))
    assert settings.api_url.startswith("http://localhost:")
    with XeroClient(settings) as client:
        assert client.tenant_ids()
    assert resolver.lookups == ["localhost"]

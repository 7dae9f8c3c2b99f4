"""TLS only: every base URL setting refuses plain ``http://`` unless the host is loopback."""

from __future__ import annotations

import pytest

from xero_api import XeroConfigError, XeroSettings
from xero_api.settings import check_url

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

"""Connection settings shared by tap-xero and target-xero: :data:`SETTINGS` describes every key
once (both sides build their ``config_jsonschema`` from it), and :meth:`XeroSettings.from_config`
checks a config, raising :class:`XeroConfigError` in one line naming the bad setting."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import XeroConfigError
from .redact import register_secret
from .scopes import DEFAULT_READ_SCOPES

__all__ = [
    "AUTH_MODES",
    "DEFAULT_TOKEN_DIR",
    "SETTINGS",
    "AuthMode",
    "Setting",
    "XeroSettings",
    "check_url",
    "default_token_store_path",
    "is_postgres_url",
]

AuthMode = Literal["client_credentials", "refresh_token", "access_token"]
AUTH_MODES: tuple[AuthMode, ...] = ("client_credentials", "refresh_token", "access_token")
DEFAULT_TOKEN_DIR = Path("~/.config/singer-xero/tokens")
DEFAULT_USER_AGENT = "singer-xero/0.1"


@dataclass(frozen=True)
class Setting:
    """One config key as documented to users (types are JSON Schema type names)."""

    name: str
    type: Literal["string", "integer", "number", "boolean", "array"]
    description: str
    secret: bool = False
    default: Any = None
    required: bool = False
    allowed: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "auth_mode",
        "string",
        "How to authenticate: `client_credentials` (Xero custom connection), `refresh_token` "
        "(web app authorised once with `xero-auth`; rotated tokens live in the token store) or "
        "`access_token` (a short-lived token for a one-off run).",
        required=True,
        allowed=AUTH_MODES,
    ),
    Setting("client_id", "string", "Client ID of the Xero app or custom connection."),
    Setting(
        "client_secret",
        "string",
        "Client secret of the Xero app or custom connection.",
        secret=True,
    ),
    Setting(
        "refresh_token",
        "string",
        "Initial refresh token (auth_mode=refresh_token). Optional once `xero-auth` has filled "
        "the token store; after the first refresh the rotated token in the store is used.",
        secret=True,
    ),
    Setting(
        "access_token",
        "string",
        "Bearer access token for auth_mode=access_token (valid 30 minutes, never refreshed).",
        secret=True,
    ),
    Setting(
        "token_store_path",
        "string",
        "Token store file (or directory; one file per client ID). Must outlive the run: Meltano "
        "deletes its generated config, so rotated tokens are kept here, mode 0600, under a lock. "
        "Default: ~/.config/singer-xero/tokens/<client_id>.json.",
    ),
    Setting(
        "token_store_dsn",
        "string",
        "PostgreSQL URL (postgresql://user:password@host/db) of a token store shared by many "
        "hosts, in place of token_store_path: one row per client ID, rotated under a row lock. "
        "For pods and containers without a shared volume.",
        secret=True,
    ),
    Setting(
        "app_budget_dsn",
        "string",
        "PostgreSQL URL of the app-wide call budget: every tap-xero and target-xero process of "
        "this client ID, on any host, draws each call from it, so overlapping runs stay under "
        "Xero's per-app minute limit. Unset: each process paces itself alone.",
        secret=True,
    ),
    Setting(
        "app_calls_per_minute",
        "integer",
        "Calls a minute that all processes sharing app_budget_dsn may make together (Xero allows "
        "10,000 per app; the default leaves room for xero-auth and anything not drawing from it).",
        default=9000,
    ),
    Setting(
        "app_budget_window_seconds",
        "number",
        "Length of Xero's minute for app_budget_dsn: 60, or 60 divided by xero-sandbox's "
        "--time-scale when testing against the sandbox.",
        default=60,
    ),
    Setting(
        "tenant_ids",
        "array",
        "Xero tenant (organisation) IDs to use; empty means every tenant the connection can "
        "reach (GET /connections).",
        default=[],
    ),
    Setting("api_url", "string", "Base URL of the Xero API.", default="https://api.xero.com"),
    Setting(
        "identity_url",
        "string",
        "Base URL of Xero's token endpoint.",
        default="https://identity.xero.com",
    ),
    Setting(
        "login_url",
        "string",
        "Base URL of Xero's authorisation page.",
        default="https://login.xero.com",
    ),
    Setting(
        "scopes",
        "array",
        "OAuth scopes to request (xero-auth; client_credentials sends them only when set). "
        "Default: offline_access and the read scope of every stream selected by default.",
    ),
    Setting(
        "request_timeout_seconds",
        "number",
        "Timeout of every HTTP request, in seconds.",
        default=60,
    ),
    Setting(
        "max_retries",
        "integer",
        "Retries of one request after 5xx, timeouts, dropped connections and 429s.",
        default=8,
    ),
    Setting(
        "max_rate_limit_wait_seconds",
        "number",
        "Longest wait for Xero's daily limit; a longer Retry-After ends the run cleanly with a "
        "message saying when to try again.",
        default=3600,
    ),
    Setting(
        "user_agent",
        "string",
        "User-Agent sent to Xero (Xero asks apps to identify themselves).",
        default=DEFAULT_USER_AGENT,
    ),
)

SETTING_NAMES = frozenset(s.name for s in SETTINGS)
_DEFAULTS = {s.name: s.default for s in SETTINGS}


def check_url(
    setting: str, value: object, resolved: dict[str, tuple[str, ...]] | None = None
) -> str:
    """``value`` as a base URL without trailing slash; refuses plain http except to loopback
    (:mod:`xero_api.loopback`). The checked addresses of a plain-http host go into ``resolved``,
    so the client connects to them and never asks the resolver again."""
    if not isinstance(value, str) or not value.strip():
        raise XeroConfigError(setting, "must be a URL such as https://api.xero.com")
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise XeroConfigError(setting, f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and (resolved is None or parts.hostname not in resolved):
        from .loopback import loopback_addresses  # httpx under it: not for --about

        try:
            addresses = loopback_addresses(parts.hostname)
        except ValueError as exc:
            raise XeroConfigError(
                setting,
                f"{url!r} uses plain http; only https is allowed, and http only to this "
                f"machine (loopback): {exc}",
            ) from None
        if resolved is not None:
            resolved[parts.hostname] = addresses
    return url


def is_postgres_url(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return url.startswith(("postgresql://", "postgres://"))


def default_token_store_path(client_id: str) -> Path:
    """``~/.config/singer-xero/tokens/<client_id>.json`` (client ID made filename-safe)."""
    return (DEFAULT_TOKEN_DIR / f"{_safe_name(client_id)}.json").expanduser()


def _safe_name(client_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", client_id) or "default"


def resolve_token_store_path(value: str | None, client_id: str) -> Path:
    """The store file: the configured file, ``<dir>/<client_id>.json`` for a directory, or the
    default location."""
    if not value:
        return default_token_store_path(client_id)
    path = Path(value).expanduser()
    if path.is_dir() or value.endswith(("/", "\\")):
        return path / f"{_safe_name(client_id)}.json"
    return path


@dataclass(frozen=True)
class XeroSettings:
    """Validated connection settings; secrets are excluded from ``repr``."""

    auth_mode: AuthMode
    client_id: str = ""
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    token_store_path: Path = field(default_factory=lambda: default_token_store_path("default"))
    token_store_dsn: str | None = field(default=None, repr=False)
    app_budget_dsn: str | None = field(default=None, repr=False)
    app_calls_per_minute: int = 9000
    app_budget_window_seconds: float = 60.0
    tenant_ids: tuple[str, ...] = ()
    api_url: str = "https://api.xero.com"
    identity_url: str = "https://identity.xero.com"
    login_url: str = "https://login.xero.com"
    scopes: tuple[str, ...] = DEFAULT_READ_SCOPES
    scopes_configured: bool = False
    request_timeout_seconds: float = 60.0
    max_retries: int = 8
    max_rate_limit_wait_seconds: float = 3600.0
    user_agent: str = DEFAULT_USER_AGENT
    http_addresses: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """The checked loopback addresses of each plain-http host above (resolved once)."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> XeroSettings:
        """Validate the connection keys of a tap/target config (other keys are ignored)."""

        def get(name: str) -> Any:
            value = config.get(name)
            return _DEFAULTS[name] if value is None or value == "" else value

        mode = _auth_mode(config)
        client_id = _optional_str(config, "client_id") or ""
        client_secret, refresh_token, access_token, store_dsn, budget_dsn = _secrets(config)
        _require_credentials(
            mode, client_id=client_id, client_secret=client_secret, access_token=access_token
        )
        tenant_ids = _tenant_ids(config)
        scopes = _str_list(config, "scopes") or DEFAULT_READ_SCOPES
        # A host that fills in documented defaults must not turn them into an explicit request.
        scopes_configured = scopes != DEFAULT_READ_SCOPES
        store = config.get("token_store_path")
        if store is not None and not isinstance(store, str):
            raise XeroConfigError("token_store_path", "must be a file or directory path")
        user_agent = get("user_agent")
        if not isinstance(user_agent, str):
            raise XeroConfigError("user_agent", "must be a string")

        http_addresses: dict[str, tuple[str, ...]] = {}
        return cls(
            auth_mode=mode,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            access_token=access_token,
            token_store_path=resolve_token_store_path(store, client_id or "access-token"),
            token_store_dsn=store_dsn,
            app_budget_dsn=budget_dsn,
            app_calls_per_minute=int(
                _number(get, "app_calls_per_minute", 2, 1_000_000, integer=True)
            ),
            app_budget_window_seconds=_number(get, "app_budget_window_seconds", 0.01, 3600),
            tenant_ids=tenant_ids,
            api_url=check_url("api_url", get("api_url"), http_addresses),
            identity_url=check_url("identity_url", get("identity_url"), http_addresses),
            login_url=check_url("login_url", get("login_url"), http_addresses),
            scopes=scopes,
            scopes_configured=scopes_configured,
            request_timeout_seconds=_number(get, "request_timeout_seconds", 0.001, 3600),
            max_retries=int(_number(get, "max_retries", 0, 100, integer=True)),
            max_rate_limit_wait_seconds=_number(get, "max_rate_limit_wait_seconds", 0, 86400 * 2),
            user_agent=user_agent,
            http_addresses=http_addresses,
        )


def _secrets(config: Mapping[str, Any]) -> tuple[str | None, ...]:
    """The config's secrets (client secret, refresh and access tokens, the two PostgreSQL
    URLs), each registered for redaction before anything can log it; the URLs checked."""
    names = ("client_secret", "refresh_token", "access_token", "token_store_dsn", "app_budget_dsn")
    values = tuple(_optional_str(config, name) for name in names)
    for value in values:
        register_secret(value)
    for name, value in zip(names, values, strict=True):
        if name.endswith("_dsn") and value is not None and not is_postgres_url(value):
            raise XeroConfigError(name, "must be a PostgreSQL URL (postgresql://user@host/db)")
    return values


def _auth_mode(config: Mapping[str, Any]) -> AuthMode:
    mode = config.get("auth_mode")
    for allowed in AUTH_MODES:
        if mode == allowed:
            return allowed
    shown = "missing" if mode in (None, "") else f"{mode!r} is not allowed"
    raise XeroConfigError("auth_mode", f"{shown}; choose one of {', '.join(AUTH_MODES)}")


def _require_credentials(
    mode: AuthMode, *, client_id: str, client_secret: str | None, access_token: str | None
) -> None:
    """The credentials ``mode`` needs are there, or the first missing one is named."""
    if mode == "access_token":
        if not access_token:
            raise XeroConfigError("access_token", "required for auth_mode=access_token")
        return
    if not client_id:
        raise XeroConfigError("client_id", f"required for auth_mode={mode}")
    if mode == "client_credentials" and not client_secret:
        raise XeroConfigError("client_secret", "required for auth_mode=client_credentials")


def _tenant_ids(config: Mapping[str, Any]) -> tuple[str, ...]:
    tenant_ids = _str_list(config, "tenant_ids")
    for tenant in tenant_ids:
        if not re.fullmatch(r"[0-9A-Fa-f-]{8,64}", tenant):
            raise XeroConfigError("tenant_ids", f"{tenant!r} is not a Xero tenant ID (a UUID)")
    return tenant_ids


def _optional_str(config: Mapping[str, Any], name: str) -> str | None:
    value = config.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise XeroConfigError(name, "must be a string")
    return value.strip()


def _str_list(config: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = config.get(name)
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        # Meltano passes arrays from env vars as JSON or comma lists; accept both.
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise XeroConfigError(name, "is not a valid JSON list") from None
        else:
            value = [v for v in re.split(r"[,\s]+", text) if v]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise XeroConfigError(name, "must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _number(get: Any, name: str, low: float, high: float, *, integer: bool = False) -> float:
    value = get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise XeroConfigError(name, f"must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise XeroConfigError(name, f"must be a number, got {value!r}") from None
    if integer and number != int(number):
        raise XeroConfigError(name, f"must be a whole number, got {value!r}")
    if not low <= number <= high:
        raise XeroConfigError(name, f"must be between {low:g} and {high:g}, got {value!r}")
    return number

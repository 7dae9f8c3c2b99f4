"""Access tokens for the three auth modes.

* ``client_credentials`` -- a Xero custom connection: the client ID and secret buy a 30-minute
  token from ``/connect/token``; fetched again shortly before expiry and once after a 401. The
  connection is bound to one organisation, so no ``xero-tenant-id`` is required.
* ``refresh_token`` -- a web app authorised once (``xero-auth``). Each refresh rotates the refresh
  token; the new one is written to the :class:`~xero_api.token_store.TokenStore` *before* the new
  access token is used, under the store's file lock. A process that waited for the lock re-reads
  the store and adopts the token another process just obtained instead of refreshing again. A
  refresh whose answer was lost (timeout, crash before the store write) is retried with the same
  token, which Xero still accepts within its 30-minute grace period.
* ``access_token`` -- a token given in the config, for one-off runs; never refreshed.

Tokens are refreshed ahead of expiry (60 s, or a tenth of the lifetime when that is shorter) and
once when the API answers 401.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import msgspec

from .errors import (
    REAUTHORISE_ADVICE,
    XeroAuthError,
    XeroConfigError,
    XeroConnectionError,
    XeroTokenError,
)
from .redact import register_secret
from .settings import XeroSettings
from .token_store import TokenSet, TokenStorage, TokenStore

__all__ = [
    "AccessTokenAuth",
    "Authenticator",
    "ClientCredentialsAuth",
    "RefreshTokenAuth",
    "TokenEndpoint",
    "expiry",
    "make_authenticator",
]

GRACE_SECONDS = 30 * 60
_MAX_SKEW = 60.0


def _skew(lifetime: float) -> float:
    return min(_MAX_SKEW, max(lifetime, 0.0) * 0.1)


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT access token (unverified: only used to refresh early)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims: Any = msgspec.json.decode(payload)
    except (ValueError, msgspec.DecodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


def expiry(body: dict[str, Any], started: float) -> float:
    """When to stop using the token in ``body``: ``expires_in`` or the JWT ``exp``, whichever is
    sooner, less a safety margin of 60 s (a tenth of the lifetime for short-lived tokens)."""
    lifetime = body.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or not lifetime > 0:
        lifetime = 1800  # Xero's access-token lifetime; never fail on a token already rotated
    # Capped at a day so the store always holds a finite number (JSON has no infinity).
    expires_at = started + min(float(lifetime), 86400.0)
    jwt_exp = _jwt_expiry(str(body.get("access_token") or ""))
    if jwt_exp is not None:
        expires_at = min(expires_at, jwt_exp)
    return expires_at - _skew(expires_at - started)


class Authenticator(Protocol):
    """What the client needs from an auth mode."""

    def token(self) -> str:
        """A valid access token (refreshed when close to expiry)."""
        ...

    def renew(self, rejected: str) -> str:
        """A new token after the API rejected ``rejected`` with 401; XeroAuthError if impossible."""
        ...


class TokenEndpoint:
    """POSTs to Xero's ``/connect/token``; retries transport faults and 5xx with backoff.

    Retrying a refresh with the same token after a lost answer is safe within Xero's 30-minute
    grace period, which is what makes a dropped connection during rotation recoverable.
    """

    def __init__(
        self,
        settings: XeroSettings,
        http: httpx.Client,
        logger: logging.Logger,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = f"{settings.identity_url}/connect/token"
        self._settings = settings
        self._http = http
        self._logger = logger
        self._sleep = sleep

    def request(self, form: dict[str, str]) -> dict[str, Any]:
        """Send ``form`` (client authentication added) and return the token response."""
        settings = self._settings
        headers = {"Accept": "application/json", "User-Agent": settings.user_agent}
        form = dict(form)
        if settings.client_secret:
            basic = f"{settings.client_id}:{settings.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(basic).decode()
        else:
            form["client_id"] = settings.client_id  # PKCE app: no secret
        grant = form.get("grant_type", "?")
        attempts = settings.max_retries + 1
        for attempt in range(attempts):
            try:
                response = self._http.post(self.url, data=form, headers=headers)
            except httpx.TransportError as exc:
                fault = type(exc).__name__
                if attempt + 1 >= attempts:
                    raise XeroConnectionError(
                        f"token request ({grant}) to {self.url} failed: {fault}; check the "
                        "setting identity_url"
                    ) from None
                self._backoff(attempt, f"token request ({grant}) failed: {fault}")
                continue
            if response.status_code >= 500 and attempt + 1 < attempts:
                self._backoff(attempt, f"token endpoint answered {response.status_code}")
                continue
            return self._parse(response, grant)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int, why: str) -> None:
        delay = min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
        self._logger.warning("%s; retrying in %.1fs", why, delay)
        self._sleep(delay)

    def _parse(self, response: httpx.Response, grant: str) -> dict[str, Any]:
        try:
            body: Any = msgspec.json.decode(response.content) if response.content else {}
        except msgspec.DecodeError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code == 200 and isinstance(body.get("access_token"), str):
            for key in ("access_token", "refresh_token", "id_token"):
                register_secret(body.get(key))
            token_body: dict[str, Any] = body
            return token_body
        error = str(body.get("error") or f"http_{response.status_code}")
        description = str(body.get("error_description") or "")
        said = f"{error}{': ' + description if description else ''}"
        if error == "invalid_grant":
            hint = (
                "the refresh token is expired, revoked or was already used (rotated) more than "
                f"30 minutes ago; {REAUTHORISE_ADVICE}"
            )
        elif error in ("invalid_client", "unauthorized_client"):
            hint = (
                "check client_id/client_secret and the app type (custom connection for "
                "client_credentials, web app for refresh_token); apps created since March 2026 "
                "must request granular scopes"
            )
        elif error == "invalid_scope":
            hint = (
                "a requested scope is not allowed for this app: apps created since March 2026 "
                "may only use the granular scopes (e.g. accounting.invoices.read)"
            )
        else:
            hint = "see Xero's message"
        raise XeroTokenError(
            f"Xero refused the {grant} token request ({said}): {hint}", error=error
        )


class AccessTokenAuth:
    """``auth_mode=access_token``: the configured token, never refreshed."""

    def __init__(self, settings: XeroSettings) -> None:
        if not settings.access_token:
            raise XeroAuthError("auth_mode=access_token needs access_token")
        self._token = settings.access_token

    def token(self) -> str:
        """The configured token."""
        return self._token

    def renew(self, rejected: str) -> str:
        """Cannot renew: explain what to do instead."""
        raise XeroAuthError(
            "Xero rejected the configured access_token (401: expired after 30 minutes or "
            "revoked); access_token mode cannot refresh -- use auth_mode=refresh_token "
            "(see xero-auth) or client_credentials",
            status=401,
        )


class _CachedTokenAuth:
    """An access token kept until it nears expiry; subclasses say how to obtain a new one."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._access: str | None = None
        self._expires_at = 0.0

    def _obtain(self, rejected: str | None) -> str:
        raise NotImplementedError

    def token(self) -> str:
        """The current token, obtained again when it is about to expire."""
        with self._mutex:
            if self._access and time.time() < self._expires_at:
                return self._access
            return self._obtain(rejected=None)

    def renew(self, rejected: str) -> str:
        """After a 401: a token other than ``rejected`` (another thread may have one already)."""
        with self._mutex:
            if self._access and self._access != rejected and time.time() < self._expires_at:
                return self._access
            return self._obtain(rejected=rejected)


class ClientCredentialsAuth(_CachedTokenAuth):
    """``auth_mode=client_credentials``: a custom connection's token, fetched on demand."""

    def __init__(self, settings: XeroSettings, endpoint: TokenEndpoint) -> None:
        super().__init__()
        self._settings = settings
        self._endpoint = endpoint

    def _obtain(self, rejected: str | None) -> str:
        """A new token from the token endpoint (a custom connection has nothing to rotate)."""
        form = {"grant_type": "client_credentials"}
        if self._settings.scopes_configured:
            form["scope"] = " ".join(self._settings.scopes)
        started = time.time()
        body = self._endpoint.request(form)
        self._access = str(body["access_token"])
        self._expires_at = expiry(body, started)
        return self._access


class RefreshTokenAuth(_CachedTokenAuth):
    """``auth_mode=refresh_token`` with durable, locked rotation through the token store."""

    def __init__(
        self,
        settings: XeroSettings,
        endpoint: TokenEndpoint,
        store: TokenStorage,
        logger: logging.Logger,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._endpoint = endpoint
        self._store = store
        self._logger = logger

    def _adopt(self, tokens: TokenSet) -> str:
        assert tokens.access_token is not None
        self._access = tokens.access_token
        self._expires_at = tokens.expires_at
        return tokens.access_token

    def _obtain(self, rejected: str | None) -> str:
        """The stored token if another process refreshed it, else a rotation."""
        with self._store.locked():
            stored = self._store.read()
            configured = self._settings.refresh_token
            if stored is not None and (configured is None or stored.knows(configured)):
                # Another process may have refreshed while we waited for the lock.
                if (
                    stored.access_token
                    and stored.access_token != rejected
                    and time.time() < stored.expires_at
                ):
                    return self._adopt(stored)
                return self._rotate(stored, self._require(stored.refresh_token))
            if configured is None:
                raise XeroTokenError(
                    f"no refresh token: the token store {self._store.location} does not exist and "
                    f"refresh_token is not set; {REAUTHORISE_ADVICE}",
                    error="no_token",
                )
            # A configured token the store has never seen: a fresh authorisation.
            fresh = TokenSet(client_id=self._settings.client_id, refresh_token=configured)
            try:
                return self._rotate(fresh, configured, fallback_ok=False)
            except XeroTokenError as exc:
                if exc.error != "invalid_grant" or stored is None or not stored.refresh_token:
                    raise
                self._logger.warning(
                    "the configured refresh_token was refused (already used); continuing with "
                    "the token store %s",
                    self._store.location,
                )
                return self._rotate(stored, stored.refresh_token)

    def _require(self, token: str | None) -> str:
        if not token:
            raise XeroTokenError(
                f"the token store {self._store.location} holds no refresh token; "
                f"{REAUTHORISE_ADVICE}",
                error="no_token",
            )
        return token

    def _rotate(self, current: TokenSet, spend: str, *, fallback_ok: bool = True) -> str:
        """Spend ``spend``, store the rotated set, then adopt its access token.

        ``current`` was validated when read and the store's room for the new set is claimed
        before the request: once Xero has rotated, only the commit can still go wrong.
        """
        with self._store.pending() as pending:
            started = time.time()
            body, spend = self._refresh(current, spend, started, fallback_ok=fallback_ok)
            new_refresh = body.get("refresh_token")
            if not isinstance(new_refresh, str) or not new_refresh:
                raise XeroTokenError(
                    "Xero returned no refresh token: the authorisation lacks the offline_access "
                    f"scope; {REAUTHORISE_ADVICE}",
                    error="no_offline_access",
                )
            rotated = current.rotated(
                spend,
                refresh_token=new_refresh,
                access_token=str(body["access_token"]),
                expires_at=expiry(body, started),
                scope=str(body.get("scope") or ""),
            )
            try:
                # Durable before use: a crash after this line loses nothing.
                pending.commit(rotated)
            except OSError as exc:
                raise XeroConfigError(
                    self._store.setting,
                    f"Xero rotated the refresh token but saving it to {self._store.location} "
                    f"failed ({exc.strerror or exc}); the stored token stays usable for 30 "
                    "minutes: fix the store and run again within them, or re-authorise with "
                    "`xero-auth --client-id <id>`",
                ) from None
        self._logger.info(
            "refreshed the Xero access token; rotated refresh token saved to %s (generation %d)",
            self._store.location,
            rotated.generation,
        )
        return self._adopt(rotated)

    def _refresh(
        self, current: TokenSet, spend: str, started: float, *, fallback_ok: bool
    ) -> tuple[dict[str, Any], str]:
        """The token response for ``spend`` (or its predecessor, within the grace period) and
        the token actually spent."""
        previous = current.previous_refresh_token
        within_grace = (
            current.rotated_at is not None and started - current.rotated_at < GRACE_SECONDS
        )
        try:
            return self._endpoint.request(
                {"grant_type": "refresh_token", "refresh_token": spend}
            ), spend
        except XeroTokenError as exc:
            if not (fallback_ok and exc.error == "invalid_grant" and previous and within_grace):
                raise
        # The stored token was refused but its predecessor is still in Xero's grace period.
        self._logger.warning("stored refresh token refused; retrying its predecessor")
        body = self._endpoint.request({"grant_type": "refresh_token", "refresh_token": previous})
        return body, previous


def open_token_store(settings: XeroSettings, logger: logging.Logger) -> TokenStorage:
    """The PostgreSQL store when ``token_store_dsn`` is set, else the file store."""
    if settings.token_store_dsn:
        from .postgres import PostgresTokenStore

        return PostgresTokenStore(settings.token_store_dsn, settings.client_id, logger=logger)
    return TokenStore(settings.token_store_path, logger=logger)


def make_authenticator(
    settings: XeroSettings,
    http: httpx.Client,
    logger: logging.Logger,
    sleep: Callable[[float], None] = time.sleep,
) -> Authenticator:
    """The authenticator for ``settings.auth_mode``."""
    endpoint = TokenEndpoint(settings, http, logger, sleep)
    if settings.auth_mode == "client_credentials":
        return ClientCredentialsAuth(settings, endpoint)
    if settings.auth_mode == "refresh_token":
        return RefreshTokenAuth(settings, endpoint, open_token_store(settings, logger), logger)
    return AccessTokenAuth(settings)

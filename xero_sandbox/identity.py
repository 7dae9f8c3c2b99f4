"""Xero's identity service, headless: authorize, token, revocation, connections, token checks.

Endpoints (as Xero's OAuth 2.0 documentation describes them), all on the sandbox origin:

- ``GET /identity/connect/authorize``: consents for the one sandbox user, connects every tenant
  and redirects to ``redirect_uri`` with ``code`` and ``state`` (PKCE ``S256`` supported).
- ``POST /connect/token``: ``authorization_code`` (single use, 5 sandbox minutes but at least
  10 wall-clock seconds, so a headless flow finishes even at a large ``--time-scale``),
  ``refresh_token`` (rotation with a 30-minute grace for the previous token, 60-day idle expiry)
  and ``client_credentials`` (a custom connection bound to the first tenant).
- ``POST /connect/revocation``: revokes the grant and disconnects the user's tenants.
- ``GET /connections`` (optional ``authEventId``) and ``DELETE /connections/{id}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.clock import Clock
from xero_sandbox.config import SandboxConfig, custom_connection
from xero_sandbox.stats import Stats
from xero_sandbox.store import side_connection, write_lock
from xero_sandbox.webhooks import Webhooks

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "AUTH_CODE_LIFETIME",
    "KNOWN_SCOPES",
    "REFRESH_GRACE",
    "REFRESH_IDLE_LIFETIME",
    "AuthFailure",
    "Authority",
    "EdgeContext",
    "Principal",
    "TenantDirectory",
    "authority_for",
    "problem_body",
    "routes",
]

ACCESS_TOKEN_LIFETIME = 1800.0
AUTH_CODE_LIFETIME = 300.0
AUTH_CODE_MIN_REAL_SECONDS = 10.0  # so a headless flow completes at any --time-scale
REFRESH_GRACE = 1800.0
REFRESH_IDLE_LIFETIME = 60 * 86_400.0

_ACCOUNTING = (
    "accounting.transactions",
    "accounting.settings",
    "accounting.contacts",
    "accounting.attachments",
    "accounting.invoices",
    "accounting.payments",
    "accounting.banktransactions",
    "accounting.manualjournals",
    "accounting.classicexpenses",
)
_READ_ONLY = (
    "accounting.reports.read",
    "accounting.reports.tenninetynine.read",
    "accounting.journals.read",
    "accounting.budgets.read",
    "accounting.reports.aged.read",
    "accounting.reports.balancesheet.read",
    "accounting.reports.banksummary.read",
    "accounting.reports.budgetsummary.read",
    "accounting.reports.executivesummary.read",
    "accounting.reports.profitandloss.read",
    "accounting.reports.trialbalance.read",
    "accounting.reports.taxreports.read",
    "finance.statements.read",
    "finance.cashvalidation.read",
    "finance.bankstatementsplus.read",
)
_OTHER_APIS = (
    "payroll.employees",
    "payroll.payruns",
    "payroll.payslip",
    "payroll.settings",
    "payroll.timesheets",
    "assets",
    "files",
    "projects",
)
# Broad scopes that apps created since 2 March 2026 cannot request (granular ones replace them).
BROAD_SCOPES = frozenset(
    {"accounting.transactions", "accounting.transactions.read", "accounting.reports.read"}
)
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
KNOWN_SCOPES = frozenset(
    {"openid", "profile", "email", "offline_access", "paymentservices", "bankfeeds"}
    | set(_ACCOUNTING)
    | {f"{scope}.read" for scope in _ACCOUNTING + _OTHER_APIS}
    | set(_OTHER_APIS)
    | set(_READ_ONLY)
)
# What a custom connection gets when the token request names no scope.
_CUSTOM_DEFAULT_SCOPES = (
    "accounting.transactions",
    "accounting.settings",
    "accounting.contacts",
    "accounting.attachments",
    "accounting.reports.read",
    "accounting.journals.read",
    "accounting.budgets.read",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS edge_grants (
    grant_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,              -- 'user' (authorization code) or 'custom' (client credentials)
    public INTEGER NOT NULL,         -- 1 when created with PKCE and no client secret
    scope TEXT NOT NULL,
    auth_event_id TEXT NOT NULL,
    tenant_id TEXT,                  -- the bound tenant of a custom connection
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS edge_codes (
    code_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    challenge TEXT,
    expires REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS edge_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    expires REAL NOT NULL,           -- idle expiry: issued + 60 days
    superseded REAL                  -- when it was first exchanged; grace runs from here
);
CREATE TABLE IF NOT EXISTS edge_access_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS edge_connections (
    connection_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    auth_event_id TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    active INTEGER NOT NULL,
    UNIQUE (client_id, user_id, tenant_id)
);
"""


class _TenantLike(Protocol):
    @property
    def tenant_id(self) -> str: ...

    @property
    def name(self) -> str: ...


class TenantDirectory(Protocol):
    """Where the organisations (and, for webhooks, stored records) come from: the ``Store``."""

    def tenants(self) -> Sequence[_TenantLike]:
        """All tenants, in registration order."""
        ...

    def get(self, tenant_id: str, resource: str, record_id: str) -> dict[str, Any] | None:
        """One stored record, or None."""
        ...


class EdgeContext(Protocol):
    """The parts of the sandbox context the edge uses."""

    @property
    def config(self) -> SandboxConfig: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def stats(self) -> Stats: ...

    @property
    def store(self) -> TenantDirectory: ...

    @property
    def webhooks(self) -> Webhooks: ...

    @property
    def extras(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Principal:
    """Who an access token speaks for."""

    grant_id: str
    client_id: str
    user_id: str
    kind: str
    scopes: frozenset[str]
    token_hash: str
    bound_tenant: str | None  # custom connections only


class AuthFailure(Exception):
    """A request that cannot be served: status plus Xero's problem ``Detail``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class OAuthError(Exception):
    """An OAuth error answered as ``{"error": ..., "error_description": ...}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: Mapping[str, Any]) -> str:
    """A JWT-shaped token: Xero's access tokens are RS256 JWTs; ours are checked by lookup."""
    header = {"alg": "RS256", "kid": "xero-sandbox", "typ": "JWT", "x5t": "xero-sandbox"}
    head = _b64url(json.dumps(header, separators=(",", ":")).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{head}.{body}.{_b64url(secrets.token_bytes(64))}"


def _iso7(moment: datetime) -> str:
    """``2019-12-07T18:46:19.5165400``: the connections' date format (UTC, 7 digits, no zone)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def problem_body(status: int, detail: str) -> dict[str, Any]:
    """Xero's RFC 7807-style error body for 401/403."""
    titles = {401: "Unauthorized", 403: "Forbidden", 406: "Not Acceptable", 500: "Server Error"}
    return {
        "Type": None,
        "Title": titles.get(status, "Error"),
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


class Authority:
    """Grants, codes, tokens and connections of one sandbox, persisted in its database.

    They live in SQLite tables of their own (``edge_*``) in the store's database. Tokens are kept
    only as SHA-256 digests, so the database never holds a usable secret. Every lifetime is in
    sandbox seconds (``Clock``), so ``--time-scale`` shortens it.
    """

    def __init__(
        self, config: SandboxConfig, clock: Clock, directory: TenantDirectory, stats: Stats
    ) -> None:
        self.config = config
        self.clock = clock
        self.directory = directory
        self.stats = stats
        self.user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-sandbox user {config.client_id}"))
        self._lock = threading.Lock()
        self._db = side_connection(config.db)
        self._write_turn = write_lock(config.db)
        with self._write_turn:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @contextmanager
    def _immediate(self) -> Iterator[None]:
        """One write transaction on the identity tables (callers hold ``_lock``), in its turn
        among the database's writers."""
        with self._write_turn:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ clients
    def check_client(self, client_id: str | None, client_secret: str | None) -> bool:
        """Authenticate the web app or a custom connection; True when it proved its secret."""
        expected = self._secret_of(client_id)
        if expected is None:
            raise OAuthError("invalid_client", "Unknown client or client not enabled", 401)
        if client_secret is None:
            return False
        if not hmac.compare_digest(client_secret.encode(), expected.encode()):
            raise OAuthError("invalid_client", "Invalid client secret", 401)
        return True

    def _secret_of(self, client_id: str | None) -> str | None:
        config = self.config
        if client_id is None:
            return None
        if hmac.compare_digest(client_id, config.client_id):
            return config.client_secret
        index = self._custom_index(client_id)
        if index is None:
            return None
        return custom_connection(config.client_id, config.client_secret, index)[1]

    def is_custom(self, client_id: str | None) -> bool:
        """Whether the client is a custom connection (which has only ``client_credentials``)."""
        return client_id is not None and self._custom_index(client_id) is not None

    def _custom_index(self, client_id: str) -> int | None:
        """The tenant index a custom connection's client ID names, if it names one."""
        number = client_id.removeprefix(f"{self.config.client_id}-custom-")
        if number == client_id or not number.isdigit() or number != str(int(number)):
            return None
        index = int(number)
        return index if 1 <= index < len(self.directory.tenants()) else None

    def parse_scope(self, raw: str | None) -> list[str]:
        """Split and check a space-separated scope list (known, and allowed for this app)."""
        scopes = [s for s in (raw or "").split(" ") if s]
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            raise OAuthError("invalid_scope", f"Unknown scope: {' '.join(unknown)}")
        broad = [s for s in scopes if s in BROAD_SCOPES]
        if broad and self.config.granular_scopes_only:
            raise OAuthError(
                "invalid_scope",
                f"The app may not request {' '.join(broad)}: apps created since 2 March 2026 "
                "use granular scopes",
            )
        return scopes

    def redirect_registered(self, redirect_uri: str) -> bool:
        """Whether the app registered ``redirect_uri`` (any loopback URI when none are set)."""
        registered = [u.strip() for u in self.config.redirect_uris.split(",") if u.strip()]
        if registered:
            return redirect_uri in registered
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and parts.hostname in _LOOPBACK_HOSTS

    # ---------------------------------------------------------------- authorize
    def authorize(self, redirect_uri: str, scope: list[str], challenge: str | None) -> str:
        """Consent for the sandbox user, connect every tenant and return a fresh code."""
        grant_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
        code = secrets.token_urlsafe(32)
        now = self.clock.now()
        stamp = _iso7(datetime.now(UTC))
        with self._lock, self._immediate():
            self._db.execute(
                "INSERT INTO edge_grants (grant_id, client_id, user_id, kind, public, scope, "
                "auth_event_id) VALUES (?, ?, ?, 'user', ?, ?, ?)",
                (grant_id, self.config.client_id, self.user_id, int(challenge is not None),
                 " ".join(scope), event_id),
            )  # fmt: skip
            self._db.execute(
                "INSERT INTO edge_codes (code_hash, grant_id, redirect_uri, challenge, "
                "expires) VALUES (?, ?, ?, ?, ?)",
                (_digest(code), grant_id, redirect_uri, challenge, now + self._code_lifetime()),
            )
            for tenant in self.directory.tenants():
                self._db.execute(
                    "INSERT INTO edge_connections (connection_id, client_id, user_id, "
                    "tenant_id, auth_event_id, created, updated, active) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 1) "
                    "ON CONFLICT (client_id, user_id, tenant_id) DO UPDATE SET "
                    "auth_event_id = excluded.auth_event_id, updated = excluded.updated, "
                    "active = 1",
                    (str(uuid.uuid4()), self.config.client_id, self.user_id,
                     tenant.tenant_id, event_id, stamp, stamp),
                )  # fmt: skip
        return code

    def _code_lifetime(self) -> float:
        """5 sandbox minutes, but never under 10 wall-clock seconds."""
        floor = AUTH_CODE_MIN_REAL_SECONDS * self.clock.time_scale
        return max(AUTH_CODE_LIFETIME, floor)

    # -------------------------------------------------------------------- token
    def _grant(self, grant_id: str) -> sqlite3.Row | None:
        cursor = self._db.execute(
            "SELECT grant_id, client_id, user_id, kind, public, scope, auth_event_id, tenant_id, "
            "revoked FROM edge_grants WHERE grant_id = ?",
            (grant_id,),
        )
        cursor.row_factory = sqlite3.Row
        row: sqlite3.Row | None = cursor.fetchone()
        return row

    def _token_set(self, grant: sqlite3.Row, *, with_refresh: bool) -> dict[str, Any]:
        now = self.clock.now()
        real_now = int(now / self.clock.time_scale)
        real_exp = real_now + int(self.clock.real_seconds(ACCESS_TOKEN_LIFETIME))
        scopes = str(grant["scope"]).split()
        claims = {
            "nbf": real_now,
            "exp": real_exp,
            "iss": "https://identity.xero.com",
            "aud": "https://identity.xero.com/resources",
            "client_id": grant["client_id"],
            "sub": grant["user_id"].replace("-", ""),
            "auth_time": real_now,
            "xero_userid": grant["user_id"],
            "global_session_id": grant["grant_id"].replace("-", ""),
            "jti": secrets.token_hex(16),
            "authentication_event_id": grant["auth_event_id"],
            "scope": scopes,
        }
        access = _jwt(claims)
        self._db.execute(
            "INSERT INTO edge_access_tokens (token_hash, grant_id, expires) VALUES (?, ?, ?)",
            (_digest(access), grant["grant_id"], now + ACCESS_TOKEN_LIFETIME),
        )
        body: dict[str, Any] = {}
        if "openid" in scopes:
            body["id_token"] = self._id_token(grant, real_now)
        body.update(
            access_token=access,
            expires_in=int(ACCESS_TOKEN_LIFETIME),
            token_type="Bearer",  # noqa: S106 - the token type, not a secret
        )
        if with_refresh and "offline_access" in scopes:
            refresh = secrets.token_urlsafe(32)
            self._db.execute(
                "INSERT INTO edge_refresh_tokens (token_hash, grant_id, expires) VALUES (?, ?, ?)",
                (_digest(refresh), grant["grant_id"], now + REFRESH_IDLE_LIFETIME),
            )
            body["refresh_token"] = refresh
        body["scope"] = " ".join(scopes)
        return body

    def _id_token(self, grant: sqlite3.Row, real_now: int) -> str:
        """The OpenID Connect ID token of a grant's user, valid for five minutes."""
        return _jwt(
            {
                "nbf": real_now,
                "exp": real_now + int(self.clock.real_seconds(300)),
                "iss": "https://identity.xero.com",
                "aud": grant["client_id"],
                "sub": grant["user_id"].replace("-", ""),
                "auth_time": real_now,
                "xero_userid": grant["user_id"],
                "global_session_id": grant["grant_id"].replace("-", ""),
                "preferred_username": "demo@xero-sandbox.invalid",
                "email": "demo@xero-sandbox.invalid",
                "given_name": "Demo",
                "family_name": "User",
            }
        )

    def exchange_code(
        self, code: str, redirect_uri: str | None, verifier: str | None, *, secret_ok: bool
    ) -> dict[str, Any]:
        """The authorization_code grant."""
        with self._lock:
            row = self._db.execute(
                "SELECT grant_id, redirect_uri, challenge, expires, used FROM edge_codes "
                "WHERE code_hash = ?",
                (_digest(code),),
            ).fetchone()
            if row is None or row[4] or row[3] <= self.clock.now():
                raise OAuthError("invalid_grant", "The authorization code is invalid or expired")
            grant_id, expected_redirect, challenge = row[0], row[1], row[2]
            if redirect_uri != expected_redirect:
                raise OAuthError("invalid_grant", "redirect_uri does not match the authorize call")
            if challenge is not None:
                if not verifier:
                    raise OAuthError("invalid_grant", "code_verifier is required")
                computed = _b64url(hashlib.sha256(verifier.encode()).digest())
                if not hmac.compare_digest(computed, challenge):
                    raise OAuthError("invalid_grant", "code_verifier does not match")
            elif not secret_ok:
                raise OAuthError("invalid_client", "client_secret is required", 401)
            grant = self._grant(grant_id)
            if grant is None or grant["revoked"]:
                raise OAuthError("invalid_grant", "The grant has been revoked")
            with self._immediate():
                self._db.execute(
                    "UPDATE edge_codes SET used = 1 WHERE code_hash = ?", (_digest(code),)
                )
                body = self._token_set(grant, with_refresh=True)
        self.stats.count_token("authorization_code")
        return body

    def refresh(self, refresh_token: str, *, secret_ok: bool) -> dict[str, Any]:
        """The refresh_token grant with Xero's rotation and 30-minute grace."""
        token_hash = _digest(refresh_token)
        with self._lock:
            now = self.clock.now()
            row = self._db.execute(
                "SELECT grant_id, expires, superseded FROM edge_refresh_tokens "
                "WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
            if row is None:
                raise OAuthError("invalid_grant", "The refresh token is invalid")
            grant_id, expires, superseded = row
            grant = self._grant(grant_id)
            if grant is None or grant["revoked"]:
                raise OAuthError("invalid_grant", "The refresh token has been revoked")
            if not grant["public"] and not secret_ok:
                raise OAuthError("invalid_client", "client_secret is required", 401)
            if expires <= now:
                raise OAuthError("invalid_grant", "The refresh token has expired")
            if superseded is not None and superseded + REFRESH_GRACE <= now:
                raise OAuthError("invalid_grant", "The refresh token has already been used")
            with self._immediate():
                if superseded is None:
                    self._db.execute(
                        "UPDATE edge_refresh_tokens SET superseded = ? WHERE token_hash = ?",
                        (now, token_hash),
                    )
                body = self._token_set(grant, with_refresh=True)
        self.stats.count_token("refresh_token")
        return body

    def client_credentials(self, client_id: str, scope: list[str]) -> dict[str, Any]:
        """The client_credentials grant: a custom connection bound to its one tenant (the web
        app's own credentials are bound to the first)."""
        tenants = self.directory.tenants()
        if not tenants:
            raise OAuthError("unauthorized_client", "No organisation to connect")
        bound = tenants[self._custom_index(client_id) or 0].tenant_id
        scopes = [s for s in scope if s not in ("openid", "profile", "email", "offline_access")]
        grant_id = str(uuid.uuid4())
        with self._lock, self._immediate():
            self._db.execute(
                "INSERT INTO edge_grants (grant_id, client_id, user_id, kind, public, scope, "
                "auth_event_id, tenant_id) VALUES (?, ?, ?, 'custom', 0, ?, ?, ?)",
                (grant_id, client_id, self.user_id,
                 " ".join(scopes or _CUSTOM_DEFAULT_SCOPES), str(uuid.uuid4()), bound),
            )  # fmt: skip
            grant = self._grant(grant_id)
            assert grant is not None
            body = self._token_set(grant, with_refresh=False)
        self.stats.count_token("client_credentials")
        return body

    def revoke(self, token: str) -> None:
        """Revoke the grant of a refresh (or access) token and disconnect the user's tenants."""
        token_hash = _digest(token)
        with self._lock:
            row = self._db.execute(
                "SELECT grant_id FROM edge_refresh_tokens WHERE token_hash = ? UNION ALL "
                "SELECT grant_id FROM edge_access_tokens WHERE token_hash = ?",
                (token_hash, token_hash),
            ).fetchone()
            if row is None:
                return  # RFC 7009: an unknown token is not an error
            grant = self._grant(row[0])
            if grant is None:
                return
            with self._immediate():
                self._db.execute(
                    "UPDATE edge_grants SET revoked = 1 WHERE grant_id = ?", (grant["grant_id"],)
                )
                if grant["kind"] == "user":
                    self._db.execute(
                        "UPDATE edge_connections SET active = 0 "
                        "WHERE client_id = ? AND user_id = ?",
                        (grant["client_id"], grant["user_id"]),
                    )

    # ------------------------------------------------------------- access tokens
    def authenticate(self, authorization: str | None) -> Principal:
        """Check an ``Authorization: Bearer`` header; raises AuthFailure (401)."""
        if not authorization or not authorization[:7].lower() == "bearer ":
            raise AuthFailure(401, "AuthenticationUnsuccessful")
        token_hash = _digest(authorization[7:].strip())
        with self._lock:
            row = self._db.execute(
                "SELECT grant_id, expires FROM edge_access_tokens WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
            grant = None if row is None else self._grant(row[0])
        if row is None or grant is None or grant["revoked"]:
            raise AuthFailure(401, "AuthenticationUnsuccessful")
        if row[1] <= self.clock.now():
            raise AuthFailure(401, self.expired_detail(row[1]))
        return Principal(
            grant_id=grant["grant_id"],
            client_id=grant["client_id"],
            user_id=grant["user_id"],
            kind=grant["kind"],
            scopes=frozenset(str(grant["scope"]).split()),
            token_hash=token_hash,
            bound_tenant=grant["tenant_id"],
        )

    def expired_detail(self, expires: float) -> str:
        """``TokenExpired: token expired at <wall-clock UTC time>``."""
        moment = datetime.fromtimestamp(expires / self.clock.time_scale, UTC)
        return f"TokenExpired: token expired at {moment:%m/%d/%Y %H:%M:%S}"

    def expire_now(self, principal: Principal) -> str:
        """Expire an access token early (a fault); returns the 401 ``Detail``."""
        now = self.clock.now()
        with self._lock, self._write_turn:
            self._db.execute(
                "UPDATE edge_access_tokens SET expires = ? WHERE token_hash = ?",
                (now, principal.token_hash),
            )
        return self.expired_detail(now)

    def connections(self, principal: Principal) -> list[dict[str, Any]]:
        """The principal's connections in Xero's shape (active ones only)."""
        names = {t.tenant_id: t.name for t in self.directory.tenants()}
        if principal.kind == "custom":
            tenant_id = principal.bound_tenant or ""
            with self._lock:
                grant = self._grant(principal.grant_id)
            stamp = _iso7(datetime.now(UTC))
            return [
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"custom {tenant_id}")),
                    "authEventId": grant["auth_event_id"] if grant else None,
                    "tenantId": tenant_id,
                    "tenantType": "ORGANISATION",
                    "tenantName": names.get(tenant_id, ""),
                    "createdDateUtc": stamp,
                    "updatedDateUtc": stamp,
                }
            ]
        with self._lock:
            rows = self._db.execute(
                "SELECT connection_id, auth_event_id, tenant_id, created, updated "
                "FROM edge_connections WHERE client_id = ? AND user_id = ? AND active = 1 "
                "ORDER BY rowid",
                (principal.client_id, principal.user_id),
            ).fetchall()
        return [
            {
                "id": row[0],
                "authEventId": row[1],
                "tenantId": row[2],
                "tenantType": "ORGANISATION",
                "tenantName": names.get(row[2], ""),
                "createdDateUtc": row[3],
                "updatedDateUtc": row[4],
            }
            for row in rows
        ]

    def disconnect(self, principal: Principal, connection_id: str) -> bool:
        """Disconnect one tenant; False when the connection is unknown or already gone."""
        if principal.kind == "custom":
            return False
        with self._lock, self._write_turn:
            cursor = self._db.execute(
                "UPDATE edge_connections SET active = 0 WHERE lower(connection_id) = lower(?) "
                "AND client_id = ? AND user_id = ? AND active = 1",
                (connection_id, principal.client_id, principal.user_id),
            )
        return cursor.rowcount > 0

    def tenant_for(self, principal: Principal, header: str | None) -> str:
        """The tenant a call addresses; raises AuthFailure (403) when it is not connected."""
        wanted = (header or "").strip().lower()
        if principal.kind == "custom":
            bound = principal.bound_tenant or ""
            if not wanted or wanted == bound.lower():
                return bound
            raise AuthFailure(403, "AuthenticationUnsuccessful")
        if not wanted:
            raise AuthFailure(403, "AuthenticationUnsuccessful")
        with self._lock:
            row = self._db.execute(
                "SELECT tenant_id FROM edge_connections WHERE client_id = ? AND user_id = ? "
                "AND lower(tenant_id) = ? AND active = 1",
                (principal.client_id, principal.user_id, wanted),
            ).fetchone()
        if row is None:
            raise AuthFailure(403, "AuthenticationUnsuccessful")
        return str(row[0])


_AUTHORITY_LOCK = threading.Lock()


def authority_for(ctx: EdgeContext) -> Authority:
    """The one Authority of a sandbox (kept in ``ctx.extras["identity"]``), made on first use."""
    with _AUTHORITY_LOCK:
        authority = ctx.extras.get("identity")
        if not isinstance(authority, Authority):
            authority = Authority(ctx.config, ctx.clock, ctx.store, ctx.stats)
            ctx.extras["identity"] = authority
        return authority


# ------------------------------------------------------------------------ routes
def _oauth_error(error: OAuthError) -> JSONResponse:
    body = {"error": error.error, "error_description": error.description}
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="xero-sandbox"'
    return JSONResponse(body, status_code=error.status, headers=headers)


def auth_failure_response(failure: AuthFailure) -> JSONResponse:
    """Xero's 401/403 problem response."""
    body = problem_body(failure.status, failure.detail)
    headers = {"Xero-Correlation-Id": body["Instance"]}
    if failure.status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse(body, status_code=failure.status, headers=headers)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _authorize(request: Request) -> Response:
    authority = authority_for(request.app.state.ctx)
    params = request.query_params
    try:
        authority.check_client(params.get("client_id"), None)
        if authority.is_custom(params.get("client_id")):
            raise OAuthError("unauthorized_client", "A custom connection has no user to authorise")
    except OAuthError as error:
        return _oauth_error(OAuthError("unauthorized_client", error.description, 400))
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        return _oauth_error(OAuthError("invalid_request", "redirect_uri is required"))
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return _oauth_error(OAuthError("invalid_request", "redirect_uri must be an http(s) URL"))
    if not authority.redirect_registered(redirect_uri):
        # Never redirect to a URI the app did not register: an error page instead.
        return _oauth_error(
            OAuthError("invalid_request", f"Invalid redirect_uri: {redirect_uri} is not registered")
        )
    state = params.get("state")

    def bounce(error: str, description: str) -> Response:
        answer = {"error": error, "error_description": description}
        if state is not None:
            answer["state"] = state
        return RedirectResponse(_with_query(redirect_uri, answer), status_code=302)

    if params.get("response_type") != "code":
        return bounce("unsupported_response_type", "response_type must be code")
    try:
        scope = authority.parse_scope(params.get("scope"))
    except OAuthError as error:
        return bounce(error.error, error.description)
    if not scope:
        return bounce("invalid_scope", "scope is required")
    challenge = params.get("code_challenge")
    if challenge is not None and params.get("code_challenge_method", "plain") != "S256":
        return bounce("invalid_request", "code_challenge_method must be S256")
    code = authority.authorize(redirect_uri, scope, challenge)
    answer = {"code": code, "scope": " ".join(scope)}
    if state is not None:
        answer["state"] = state
    return RedirectResponse(_with_query(redirect_uri, answer), status_code=302)


def _client_from(request: Request, form: Mapping[str, str]) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Malformed Basic authorization", 401) from None
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return form.get("client_id"), form.get("client_secret")


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError(
            "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
        )
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _token(request: Request) -> Response:
    try:
        form = await _form(request)
    except OAuthError as error:
        return _oauth_error(error)
    return await run_in_threadpool(_grant_tokens, request, form)


def _grant_tokens(request: Request, form: Mapping[str, str]) -> Response:
    """The token endpoint's work, in a worker thread: it waits its turn to write."""
    authority = authority_for(request.app.state.ctx)
    try:
        client_id, client_secret = _client_from(request, form)
        secret_ok = authority.check_client(client_id, client_secret)
        grant_type = form.get("grant_type")
        if authority.is_custom(client_id) and grant_type != "client_credentials":
            raise OAuthError("unauthorized_client", "A custom connection uses client_credentials")
        if grant_type == "authorization_code":
            code = form.get("code")
            if not code:
                raise OAuthError("invalid_request", "code is required")
            body = authority.exchange_code(
                code, form.get("redirect_uri"), form.get("code_verifier"), secret_ok=secret_ok
            )
        elif grant_type == "refresh_token":
            token = form.get("refresh_token")
            if not token:
                raise OAuthError("invalid_request", "refresh_token is required")
            body = authority.refresh(token, secret_ok=secret_ok)
        elif grant_type == "client_credentials":
            if not secret_ok:
                raise OAuthError("invalid_client", "client_secret is required", 401)
            scope = authority.parse_scope(form.get("scope"))
            body = authority.client_credentials(str(client_id), scope)
        else:
            raise OAuthError("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")
    except OAuthError as error:
        return _oauth_error(error)
    return JSONResponse(body, headers=_NO_STORE)


async def _revocation(request: Request) -> Response:
    try:
        form = await _form(request)
    except OAuthError as error:
        return _oauth_error(error)
    return await run_in_threadpool(_revoke, request, form)


def _revoke(request: Request, form: Mapping[str, str]) -> Response:
    authority = authority_for(request.app.state.ctx)
    try:
        client_id, client_secret = _client_from(request, form)
        authority.check_client(client_id, client_secret)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required")
    except OAuthError as error:
        return _oauth_error(error)
    authority.revoke(token)
    return Response(status_code=200)


def _connections(request: Request) -> Response:
    authority = authority_for(request.app.state.ctx)
    try:
        principal = authority.authenticate(request.headers.get("authorization"))
    except AuthFailure as failure:
        return auth_failure_response(failure)
    rows = authority.connections(principal)
    event = request.query_params.get("authEventId")
    if event:
        rows = [row for row in rows if str(row["authEventId"]).lower() == event.lower()]
    return JSONResponse(rows)


def _delete_connection(request: Request) -> Response:
    authority = authority_for(request.app.state.ctx)
    try:
        principal = authority.authenticate(request.headers.get("authorization"))
    except AuthFailure as failure:
        return auth_failure_response(failure)
    if authority.disconnect(principal, request.path_params["connection_id"]):
        return Response(status_code=204)
    return Response(status_code=404)


routes: list[BaseRoute] = [
    Route("/identity/connect/authorize", _authorize, methods=["GET"]),
    Route("/connect/token", _token, methods=["POST"]),
    Route("/connect/revocation", _revocation, methods=["POST"]),
    Route("/connections", _connections, methods=["GET"]),
    Route("/Connections", _connections, methods=["GET"]),
    Route("/connections/{connection_id}", _delete_connection, methods=["DELETE"]),
    Route("/Connections/{connection_id}", _delete_connection, methods=["DELETE"]),
]

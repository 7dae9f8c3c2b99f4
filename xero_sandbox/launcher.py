"""Start a real ``xero-sandbox serve`` subprocess for tests, demos and benchmarks.

    with Sandbox(tenants=2, scale=50) as sb:
        tokens = sb.authorize()
        httpx.get(f"{sb.url}/api.xro/2.0/Invoices", headers=sb.headers(sb.tenant_ids()[0]))

Keyword arguments are ``serve`` flags (``latency_ms=5`` becomes ``--latency-ms 5``; True
becomes a bare flag, None leaves it out). Without ``db`` the database lives in a temporary
directory removed by ``stop()`` (as is the server's stderr log); ``restart()`` serves the same
database on the same port. ``start_timeout`` defaults to 2 minutes plus time for the seed.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from xero_sandbox.cli import SECRET_ENV
from xero_sandbox.config import custom_connection

__all__ = ["ALL_SCOPES", "Sandbox", "SandboxError"]

ALL_SCOPES = (
    "openid profile email offline_access accounting.transactions accounting.settings "
    "accounting.contacts accounting.journals.read accounting.reports.read "
    "accounting.budgets.read accounting.attachments paymentservices"
)
_READY = "xero-sandbox listening on "
REDIRECT_URI = "http://localhost:8976/callback"


class SandboxError(RuntimeError):
    """The sandbox did not start, or an admin call failed."""


class Sandbox:
    """A running ``xero-sandbox serve`` subprocess (context manager)."""

    def __init__(self, start_timeout: float | None = None, **flags: Any) -> None:
        # The temporary directory holds the server's stderr log, and the database when no
        # ``db`` is given; stop() removes it.
        self._tmp: str | None = tempfile.mkdtemp(prefix="xero-sandbox-")
        if flags.get("db") is None:
            flags["db"] = Path(self._tmp) / "sandbox.db"
        self.db = Path(flags["db"])
        self.client_id = str(flags.get("client_id", "sandbox-client"))
        self.client_secret = str(flags.get("client_secret", "sandbox-secret"))
        self.flags = flags
        if start_timeout is None:
            # A new database is seeded before the server listens: allow for the seed's size.
            world = int(flags.get("scale", 100)) * int(flags.get("tenants", 2))
            start_timeout = 120.0 + (0.002 * world if not self.db.exists() else 0.0)
        self.start_timeout = start_timeout
        self.url = ""
        self.port = int(flags.get("port", 0))
        self._proc: subprocess.Popen[str] | None = None
        self._log: Any = None
        self._tokens: dict[str, Any] | None = None

    # ----------------------------------------------------------------- lifecycle
    def _argv(self) -> list[str]:
        argv = [sys.executable, "-m", "xero_sandbox", "serve"]
        flags = {"host": "127.0.0.1", **self.flags, "port": self.port}
        for key, value in flags.items():
            if value is None or value is False or key in SECRET_ENV:
                continue
            argv.append("--" + key.replace("_", "-"))
            if value is not True:
                argv.append(str(value))
        return argv

    def _environment(self) -> dict[str, str]:
        # Secrets travel in the environment, not on the command line that ps shows; one the
        # caller did not give must not leak in from the caller's own environment either.
        env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV.values()}
        env[SECRET_ENV["client_secret"]] = self.client_secret
        if self.flags.get("webhook_key") is not None:
            env[SECRET_ENV["webhook_key"]] = str(self.flags["webhook_key"])
        return {**env, "PYTHONUNBUFFERED": "1"}

    def start(self) -> Sandbox:
        """Start the server and wait for its ready line."""
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="xero-sandbox-")
        self._log = open(  # noqa: SIM115 - closed in stop()
            Path(self._tmp) / "stderr.log", "a+", encoding="utf-8"
        )
        self._proc = subprocess.Popen(
            self._argv(),
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=self._environment(),
        )
        line_box: list[str] = []

        def read_line() -> None:
            stdout = self._proc.stdout if self._proc is not None else None
            line_box.append(stdout.readline() if stdout is not None else "")

        reader = threading.Thread(target=read_line, daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        line = line_box[0].strip() if line_box else ""
        if not line.startswith(_READY):
            self.kill()
            raise SandboxError(f"xero-sandbox did not start: {self._last_error() or line!r}")
        self.url = line[len(_READY) :]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def stderr_text(self) -> str:
        """Everything the server has written to stderr so far (e.g. ``--log-requests`` lines)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        text: str = self._log.read()
        return text

    def _last_error(self) -> str:
        lines = [ln.strip() for ln in self.stderr_text().splitlines() if ln.strip()]
        return lines[-1] if lines else ""

    def _end(self, sig: int) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(sig)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        """Stop cleanly (SIGTERM) and remove the temporary database, if any."""
        self._end(signal.SIGTERM)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def kill(self) -> None:
        """Kill the server at once (SIGKILL); the database stays."""
        self._end(signal.SIGKILL)

    def restart(self) -> Sandbox:
        """Stop (keeping the database) and serve the same database on the same port again."""
        self._end(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.start()
            except SandboxError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @property
    def pid(self) -> int | None:
        """Process id of the running server (None when stopped)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the subprocess is alive."""
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- helpers
    def authorize(self, scope: str | None = None) -> dict[str, Any]:
        """Run the headless authorization-code flow; return the token set."""
        state = secrets.token_urlsafe(8)
        with httpx.Client(base_url=self.url, timeout=30) as client:
            answer = client.get(
                "/identity/connect/authorize",
                params={
                    "response_type": "code",
                    "client_id": self.client_id,
                    "redirect_uri": REDIRECT_URI,
                    "scope": scope or ALL_SCOPES,
                    "state": state,
                },
                follow_redirects=False,
            )
            if answer.status_code not in (302, 303, 307):
                raise SandboxError(f"authorize answered {answer.status_code}: {answer.text}")
            query = parse_qs(urlparse(answer.headers["location"]).query)
            if query.get("state") != [state] or "code" not in query:
                raise SandboxError("authorize redirect lacks code or state")
            token = client.post(
                "/connect/token",
                data={
                    "grant_type": "authorization_code",
                    "code": query["code"][0],
                    "redirect_uri": REDIRECT_URI,
                },
                auth=(self.client_id, self.client_secret),
            )
            if token.status_code != 200:
                raise SandboxError(f"token endpoint answered {token.status_code}")
            tokens: dict[str, Any] = token.json()
        return tokens

    def custom_connection(self, index: int) -> tuple[str, str]:
        """Client ID and secret of the custom connection bound to tenant ``index`` (from 1)."""
        return custom_connection(self.client_id, self.client_secret, index)

    def headers(self, tenant_id: str | None = None) -> dict[str, str]:
        """Headers for an API call: JSON, a bearer token (authorized once) and the tenant."""
        if self._tokens is None:
            self._tokens = self.authorize()
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self._tokens['access_token']}",
        }
        if tenant_id:
            headers["xero-tenant-id"] = tenant_id
        return headers

    def _admin(self, path: str) -> Any:
        answer = httpx.get(f"{self.url}/_sandbox/{path}", timeout=60)
        if answer.status_code != 200:
            raise SandboxError(f"/_sandbox/{path} answered {answer.status_code}")
        return answer.json()

    def tenant_ids(self) -> list[str]:
        """Tenant ids in seed order (Demo Companies first, then empty tenants)."""
        return [t["tenantId"] for t in self._admin("tenants")]

    def tenants(self) -> list[dict[str, Any]]:
        """``/_sandbox/tenants``: id, name, short code and whether the tenant is empty."""
        result: list[dict[str, Any]] = self._admin("tenants")
        return result

    def counts(self) -> dict[str, dict[str, int]]:
        """``/_sandbox/counts``: records served per tenant and collection."""
        result: dict[str, dict[str, int]] = self._admin("counts")
        return result

    def stats(self) -> dict[str, Any]:
        """``/_sandbox/stats``: calls, 429s and faults per tenant."""
        result: dict[str, Any] = self._admin("stats")
        return result

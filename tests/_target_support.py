"""Helpers of the target tests: a sandbox with empty organisations, configs, running target-xero."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tap_xero.tap import TapXero
from xero_api.codec import decode_json, encode_json
from xero_sandbox.launcher import Sandbox

FIXTURES = Path(__file__).parent / "fixtures" / "target"
TARGET = str(Path(sys.executable).parent / "target-xero")
TAP = str(Path(sys.executable).parent / "tap-xero")
# Generous limits: the target tests are about writes, not about Xero's rate limits.
SANDBOX_FLAGS: dict[str, Any] = {
    "minute_limit": 100000,
    "day_limit": 1000000,
    "concurrent_limit": 50,
}


@dataclass
class Org:
    """One empty organisation of a running sandbox (chart of accounts only)."""

    sandbox: Sandbox
    tenant_id: str
    token: str

    def get(self, path: str, **params: str) -> dict[str, Any]:
        """GET an Accounting API path in this organisation, straight over HTTP (riding out the
        faults a ``fault_rate`` sandbox injects: 429, 5xx, dropped connections, expired tokens)."""
        for _ in range(30):
            try:
                response = httpx.get(
                    f"{self.sandbox.url}/api.xro/2.0/{path}",
                    params=params,
                    headers=self.headers,
                    timeout=60,
                )
            except httpx.TransportError:
                continue
            if response.status_code == 401:
                self.token = str(self.sandbox.authorize()["access_token"])
                continue
            if response.status_code == 429 or response.status_code >= 500:
                time.sleep(min(float(response.headers.get("Retry-After") or 0.2), 2.0))
                continue
            response.raise_for_status()
            try:
                body: dict[str, Any] = decode_json(response.content)
            except ValueError:
                continue  # a body cut short
            return body
        pytest.fail(f"GET {path} kept failing")

    @property
    def headers(self) -> dict[str, str]:
        """Headers of a call to this organisation with the current token."""
        return {
            "Authorization": f"Bearer {self.token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
        }

    def api(self, path: str, **params: str) -> Any:
        """GET a path of another API in this organisation (``/projects.xro/2.0/Projects``)."""
        answer = httpx.get(self.sandbox.url + path, params=params, headers=self.headers, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def all(self, path: str, envelope: str, **params: str) -> list[dict[str, Any]]:
        """Every document of a collection (paged where the collection pages)."""
        docs: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get(path, page=str(page), **params)
            batch = body.get(envelope) or []
            docs.extend(batch)
            if "pagination" not in body or len(batch) == 0 or page >= 50:
                return docs
            page += 1

    def counts(self) -> dict[str, int]:
        """Documents per resource in this organisation (the sandbox's admin view)."""
        counts: dict[str, int] = self.sandbox.counts().get(self.tenant_id, {})
        return counts

    def config(self, tmp_path: Path, **extra: Any) -> dict[str, Any]:
        """A target config writing into this organisation, with audit and rejects files."""
        return {
            "auth_mode": "access_token",
            "access_token": self.token,
            "api_url": self.sandbox.url,
            "identity_url": self.sandbox.url,
            "login_url": self.sandbox.url,
            "tenant_id": self.tenant_id,
            "audit_file": str(tmp_path / "audit.jsonl"),
            "rejects_file": str(tmp_path / "rejects.jsonl"),
            **extra,
        }

    def refresh_config(self, tmp_path: Path, **extra: Any) -> dict[str, Any]:
        """Like :meth:`config` but as a web app with a fresh refresh token and a token store,
        so the client can renew an access token Xero expires early."""
        tokens = self.sandbox.authorize()
        config = self.config(tmp_path, **extra)
        del config["access_token"]
        config.update(
            {
                "auth_mode": "refresh_token",
                "client_id": self.sandbox.client_id,
                "client_secret": self.sandbox.client_secret,
                "refresh_token": tokens["refresh_token"],
                "token_store_path": str(tmp_path / "tokens.json"),
            }
        )
        return config


class OrgPool:
    """Hands out a fresh empty organisation to each test of a module."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.token = str(sandbox.authorize()["access_token"])
        self._free = [str(t["tenantId"]) for t in sandbox.tenants() if t.get("empty")]

    def take(self) -> Org:
        if not self._free:
            pytest.fail("the sandbox has no empty organisation left; raise empty_tenants")
        return Org(self.sandbox, self._free.pop(0), self.token)


def sandbox_pool(empty: int, **flags: Any) -> Iterator[OrgPool]:
    """A sandbox with one Demo Company and ``empty`` empty organisations (module fixture body)."""
    with Sandbox(
        tenants=1, empty_tenants=empty, scale=flags.pop("scale", 5), **{**SANDBOX_FLAGS, **flags}
    ) as sb:
        yield OrgPool(sb)


@dataclass
class TargetRun:
    """What one target-xero process did."""

    returncode: int
    stdout: str
    stderr: str
    audit: list[dict[str, Any]]
    rejects: list[dict[str, Any]]

    @property
    def states(self) -> list[dict[str, Any]]:
        """STATE values the target emitted, in order."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def actions(self, stream: str) -> list[str]:
        """Audit actions of one stream, in order."""
        return [a["action"] for a in self.audit if a["stream"] == stream]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Lines of a JSONL file (empty when it does not exist)."""
    if not path.exists():
        return []
    return [decode_json(line) for line in path.read_text().splitlines() if line.strip()]


def run_target(
    config: dict[str, Any], tmp_path: Path, *inputs: Path | str, timeout: float = 600
) -> TargetRun:
    """Feed fixture files (names or paths) through a target-xero process; audit and rejects
    are those appended by this run only."""
    config_path = tmp_path / "target-config.json"
    config_path.write_text(json.dumps(config))
    audit_path = Path(config["audit_file"]) if config.get("audit_file") else tmp_path / "none"
    rejects_path = Path(config["rejects_file"]) if config.get("rejects_file") else tmp_path / "none"
    audit_before = len(read_jsonl(audit_path))
    rejects_before = len(read_jsonl(rejects_path))
    data = "".join(_path(i).read_text() for i in inputs)
    proc = subprocess.run(
        [TARGET, "--config", str(config_path)],
        input=data,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return TargetRun(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        read_jsonl(audit_path)[audit_before:],
        read_jsonl(rejects_path)[rejects_before:],
    )


def copy_into(org: Org, tmp_path: Path, *inputs: Path | str, **settings: Any) -> TargetRun:
    """Run target-xero on Singer files into ``org`` (with the extra config ``settings``), its
    audit and rejects under ``tmp_path``; the run must end well."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    run = run_target(org.config(tmp_path, **settings), tmp_path, *inputs)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def _path(value: Path | str) -> Path:
    return value if isinstance(value, Path) else FIXTURES / value


# Every stream the target writes from a Demo Company, in the order a copy loads them.
DOCUMENT_STREAMS = [
    "accounts",
    "tracking_categories",
    "contacts",
    "items",
    "invoices",
    "credit_notes",
    "payments",
    "manual_journals",
    "bank_transactions",
    "purchase_orders",
    "quotes",
]


def tap_records(
    pool: OrgPool,
    tmp_path: Path,
    name: str,
    tenant_id: str,
    streams: list[str],
    **settings: Any,
) -> dict[str, list[Any]]:
    """Run tap-xero on one organisation for ``streams`` (and the tap ``settings`` given): its
    records per stream; the output is kept as ``{name}.singer`` in ``tmp_path`` (to feed a
    target)."""
    config = {
        "auth_mode": "access_token",
        "access_token": pool.token,
        "tenant_ids": [tenant_id],
        "api_url": pool.sandbox.url,
        "identity_url": pool.sandbox.url,
        "login_url": pool.sandbox.url,
        "start_date": "2000-01-01T00:00:00Z",
        **settings,
    }
    discovered: dict[str, Any] = TapXero(config=config, parse_env_config=False).catalog_dict
    for entry in discovered["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    (tmp_path / f"{name}.json").write_text(json.dumps(config))
    (tmp_path / f"{name}-catalog.json").write_text(json.dumps(discovered))
    proc = subprocess.run(
        [
            TAP,
            "--config",
            str(tmp_path / f"{name}.json"),
            "--catalog",
            str(tmp_path / f"{name}-catalog.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (tmp_path / f"{name}.singer").write_text(proc.stdout)
    records: dict[str, list[Any]] = {s: [] for s in streams}
    for line in proc.stdout.splitlines():
        message = decode_json(line)
        if message.get("type") == "RECORD":
            records[message["stream"]].append(message["record"])
    return records


def singer_file(tmp_path: Path, name: str, messages: list[dict[str, Any]]) -> Path:
    """Write messages as a ``.singer`` file for one test."""
    path = tmp_path / name
    path.write_bytes(b"".join(encode_json(m) + b"\n" for m in messages))
    return path


def fixture_messages(name: str) -> list[dict[str, Any]]:
    """The messages of a committed fixture file (numbers as Decimal)."""
    return [decode_json(line) for line in (FIXTURES / name).read_text().splitlines() if line]

"""Helpers of the tap tests: configs for a sandbox, catalogs, and running tap-xero for real."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tap_xero.tap import TapXero
from xero_sandbox.launcher import Sandbox

START_DATE = "2000-01-01T00:00:00Z"
# Limits high enough for many runs against one sandbox; limit tests start their own.
RELAXED: dict[str, Any] = {
    "minute_limit": 100_000,
    "day_limit": 1_000_000,
    "app_minute_limit": 1_000_000,
}


def client_credentials_config(sb: Sandbox, **extra: Any) -> dict[str, Any]:
    """A custom connection to the sandbox (bound to its first tenant)."""
    return {
        "auth_mode": "client_credentials",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "api_url": sb.url,
        "identity_url": sb.url,
        "login_url": sb.url,
        "start_date": START_DATE,
        **extra,
    }


def refresh_token_config(
    sb: Sandbox, store: Path, scopes: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A web app authorised once (headless) with every tenant of the sandbox (with ``scopes``,
    else the sandbox's default ones)."""
    tokens = sb.authorize(scopes) if scopes else sb.authorize()
    return {
        "auth_mode": "refresh_token",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "refresh_token": tokens["refresh_token"],
        "token_store_path": str(store),
        "api_url": sb.url,
        "identity_url": sb.url,
        "login_url": sb.url,
        "start_date": START_DATE,
        **extra,
    }


def served_json(sb: Sandbox, tenant: str, path: str, scopes: str, **params: str) -> Any:
    """One GET straight from the sandbox as ``scopes`` allow, amounts as Decimals."""
    headers = {
        "Accept": "application/json",
        "Authorization": f"Bearer {sb.authorize(scopes)['access_token']}",
        "xero-tenant-id": tenant,
    }
    answer = httpx.get(sb.url + path, params=params, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return json.loads(answer.text, parse_float=Decimal)


def catalog(config: dict[str, Any], streams: list[str]) -> dict[str, Any]:
    """The tap's discovered catalog with only ``streams`` selected."""
    discovered: dict[str, Any] = TapXero(config=config, parse_env_config=False).catalog_dict
    for entry in discovered["streams"]:
        chosen = entry["tap_stream_id"] in streams
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = chosen
    return discovered


@dataclass
class TapRun:
    """What one tap-xero process printed."""

    returncode: int
    lines: list[str]
    stderr: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    raw_records: dict[str, list[str]] = field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)

    @property
    def state(self) -> dict[str, Any]:
        """The last STATE the tap emitted."""
        return self.states[-1] if self.states else {}


def parse_output(returncode: int, stdout: str, stderr: str) -> TapRun:
    """Split Singer output by message type (numbers parsed as Decimal)."""
    run = TapRun(returncode, stdout.splitlines(), stderr)
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    raw: dict[str, list[str]] = defaultdict(list)
    for line in run.lines:
        try:
            message = json.loads(line, parse_float=Decimal)
        except ValueError:
            continue  # a line cut short by a kill
        kind = message.get("type")
        if kind == "RECORD":
            records[message["stream"]].append(message["record"])
            raw[message["stream"]].append(line)
        elif kind == "SCHEMA":
            run.schemas[message["stream"]] = message
        elif kind == "STATE":
            run.states.append(message["value"])
    run.records = dict(records)
    run.raw_records = dict(raw)
    return run


def write_inputs(
    tmp: Path,
    config: dict[str, Any],
    streams: list[str] | None = None,
    state: dict[str, Any] | None = None,
) -> list[str]:
    """Write config, catalog and state files; return the tap's command line."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "config.json").write_text(json.dumps(config))
    argv = [sys.executable, "-m", "tap_xero.tap", "--config", str(tmp / "config.json")]
    if streams is not None:
        (tmp / "catalog.json").write_text(json.dumps(catalog(config, streams)))
        argv += ["--catalog", str(tmp / "catalog.json")]
    if state is not None:
        (tmp / "state.json").write_text(json.dumps(state))
        argv += ["--state", str(tmp / "state.json")]
    return argv


def run_tap(
    tmp: Path,
    config: dict[str, Any],
    streams: list[str] | None = None,
    state: dict[str, Any] | None = None,
    *,
    check: bool = True,
    timeout: float = 300,
) -> TapRun:
    """Run tap-xero as a real process against the sandbox and parse what it printed."""
    argv = write_inputs(tmp, config, streams, state)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    run = parse_output(done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        raise AssertionError(f"tap-xero exited {done.returncode}:\n{done.stderr[-3000:]}")
    return run


def sync_in_process(
    config: dict[str, Any], streams: list[str], state: dict[str, Any] | None = None
) -> TapRun:
    """Run tap-xero's sync in this process (so a test may patch it) and parse its output."""
    tap = TapXero(
        config=config, catalog=catalog(config, streams), state=state, parse_env_config=False
    )
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        tap.sync_all()
        tap.message_writer.flush()  # type: ignore[attr-defined]
    return parse_output(0, out.buffer.getvalue().decode(), "")


def plain(value: Any) -> Any:
    """A record with Decimals as floats (for JSON Schema validators)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def partition_bookmark(
    state: dict[str, Any], stream: str, tenant: str, **context: str
) -> dict[str, Any]:
    """The STATE entry of one stream and tenant (and the partition's other ``context``
    fields, for a stream with several partitions a tenant)."""
    for partition in state["bookmarks"][stream]["partitions"]:
        if partition["context"] == {"TenantID": tenant, **context}:
            return dict(partition)
    raise KeyError(f"no bookmark for {stream} / {tenant} {context or ''}")

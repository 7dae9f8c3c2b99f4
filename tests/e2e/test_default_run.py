"""A first run as a new user makes it: ``xero-auth`` with its default scopes, then tap-xero with
the config it printed and no catalog. Every stream selected by default is readable with those
scopes, so the run exits 0; the streams they do not cover are left out, not refused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests._tap_support import RELAXED, parse_output
from xero_api.resources import ACCOUNTING, REPORTS, RESOURCES
from xero_api.scopes import DEFAULT_READ_SCOPES
from xero_api.token_store import TokenStore
from xero_sandbox.launcher import Sandbox

BIN = Path(sys.executable).parent
NOT_BY_DEFAULT = {"expense_claims", "receipts", "payment_services"}


def test_default_scopes_and_default_selection_make_a_run_that_exits_0(tmp_path: Path) -> None:
    # An app created since March 2026: it may not even ask for a broad scope.
    with Sandbox(tenants=2, scale=5, seed=11, granular_scopes_only=True, **RELAXED) as sb:
        env = {**os.environ, "XERO_CLIENT_SECRET": sb.client_secret}
        auth = subprocess.run(
            [
                str(BIN / "xero-auth"), "--client-id", sb.client_id, "--no-browser", "--port", "0",
                "--login-url", sb.url, "--identity-url", sb.url, "--api-url", sb.url,
                "--token-store", "tokens/",
            ],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert auth.returncode == 0, auth.stderr
        printed = auth.stdout[auth.stdout.index("{", auth.stdout.index("Config for")) :]
        config = {
            **json.loads(printed),
            "client_secret": sb.client_secret,
            "start_date": "2026-01-01T00:00:00Z",  # reports cost a call a month
        }
        (tmp_path / "config.json").write_text(json.dumps(config))
        elsewhere = tmp_path / "elsewhere"  # the printed store path is absolute
        elsewhere.mkdir()
        tap = subprocess.run(
            [str(BIN / "tap-xero"), "--config", str(tmp_path / "config.json")],
            cwd=elsewhere, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        stored = TokenStore(Path(config["token_store_path"])).read()
    assert stored is not None
    assert set(stored.scope.split()) == set(DEFAULT_READ_SCOPES)
    run = parse_output(tap.returncode, tap.stdout, tap.stderr)
    assert run.returncode == 0, tap.stderr[-3000:]
    assert not re.search(r"Skipping \S+ for tenant", tap.stderr)  # no stream was refused
    emitted = {json.loads(line)["stream"] for line in run.lines if '"type":"SCHEMA"' in line}
    expected = {r.stream for r in RESOURCES if r.api is ACCOUNTING} - NOT_BY_DEFAULT | set(REPORTS)
    assert emitted == expected
    assert run.records["invoices"]

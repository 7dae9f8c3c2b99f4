"""xero-sandbox takes its client secret and webhook key from the environment (issue 13 item 4),
so they need not appear on a command line that every user of the machine can read in ``ps``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from xero_sandbox import cli
from xero_sandbox.launcher import Sandbox

SECRET = "env-only-client-secret-4b1d"
KEY = "env-only-webhook-key-93c2"


def _token(sb: Sandbox, secret: str) -> httpx.Response:
    return httpx.post(
        f"{sb.url}/connect/token",
        data={"grant_type": "client_credentials"},
        auth=(sb.client_id, secret),
        timeout=30,
    )


def test_the_secrets_reach_the_sandbox_through_the_environment_only(tmp_path: Path) -> None:
    # The launcher (like a careful user) passes both secrets as environment variables.
    with Sandbox(
        tenants=1,
        scale=1,
        client_secret=SECRET,
        webhook_url="http://127.0.0.1:9/webhooks",
        webhook_key=KEY,
    ) as sb:
        command_line = Path(f"/proc/{sb.pid}/cmdline").read_bytes().decode()
        assert "--webhook-url" in command_line  # the flags that are not secret are there
        assert SECRET not in command_line
        assert KEY not in command_line
        assert _token(sb, SECRET).status_code == 200
        refused = _token(sb, "sandbox-secret")  # the default no longer applies
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"


def _resolved(argv: list[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[str, str]:
    for variable in cli.SECRET_ENV.values():
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    args = cli._parser().parse_args(["serve", *argv])
    cli._secrets_from_environment(args)
    return args.client_secret, args.webhook_key


def test_a_flag_wins_over_the_environment_and_the_default_comes_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"XERO_SANDBOX_CLIENT_SECRET": "from-env", "XERO_SANDBOX_WEBHOOK_KEY": "key-env"}
    assert _resolved([], monkeypatch, **env) == ("from-env", "key-env")
    flags = ["--client-secret", "from-flag", "--webhook-key", "key-flag"]
    assert _resolved(flags, monkeypatch, **env) == ("from-flag", "key-flag")
    assert _resolved([], monkeypatch) == ("sandbox-secret", None)


def test_a_webhook_url_without_any_key_names_both_ways_to_give_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in cli.SECRET_ENV.values()}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "xero_sandbox", "serve", "--db", str(tmp_path / "x.db")),
            *("--webhook-url", "http://127.0.0.1:9/webhooks"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--webhook-key" in done.stderr
    assert "XERO_SANDBOX_WEBHOOK_KEY" in done.stderr

"""Token store and app budget in PostgreSQL, as pods on many hosts share them.

Every worker is a separate process in a working directory (and HOME) of its own, so the only
thing the workers share is a real PostgreSQL server, as pods without a shared volume would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.meltano_support import PostgresServer
from xero_api import XeroClient, XeroSettings
from xero_api.authorize import main as xero_auth_main
from xero_api.errors import XeroConfigError
from xero_api.postgres import PostgresTokenStore
from xero_sandbox.launcher import Sandbox

REPO = Path(__file__).resolve().parents[2]

# Forces renewals (as after 401s) until the stored set is `goal` generations on; a spent
# token used again would come back from the sandbox as invalid_grant.
_RENEWER = """
import json, logging, sys
from xero_api import XeroClient, XeroError, XeroSettings
from xero_api.postgres import PostgresTokenStore
config = json.loads(sys.argv[1]); goal = int(sys.argv[2])
client = XeroClient(XeroSettings.from_config(config), logging.getLogger("worker"))
store = PostgresTokenStore(config["token_store_dsn"], config["client_id"])
errors = renewals = 0
tenant = client.tenant_ids()[0]
while store.read().generation < goal:
    try:
        client.auth.renew(client.auth.token())
        renewals += 1
        if renewals % 10 == 0:
            client.get("Currencies", tenant)
    except XeroError as exc:
        errors += 1
        print("ERROR", exc, file=sys.stderr)
        if errors > 5:
            break
print(json.dumps({"errors": errors, "renewals": renewals}))
"""

# Rotates once, then dies by SIGKILL as it commits: Xero has rotated, the row has not.
_DIE_BEFORE_STORING = """
import json, os, signal, sys
from xero_api import XeroClient, XeroSettings
from xero_api.authorize import main as xero_auth_main
from xero_api import postgres
postgres._RowWrite.commit = lambda self, tokens: os.kill(os.getpid(), signal.SIGKILL)
XeroClient(XeroSettings.from_config(json.loads(sys.argv[1]))).tenant_ids()
print("survived")
"""

# `calls` GETs over every tenant from 8 threads, as a tap's parallel streams make them.
_CALLER = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from xero_api import XeroClient, XeroSettings
from xero_api.authorize import main as xero_auth_main
config = json.loads(sys.argv[1]); calls = int(sys.argv[2])
with XeroClient(XeroSettings.from_config(config)) as client:
    tenants = client.tenant_ids()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: client.get("Currencies", tenants[n % len(tenants)]), range(calls)))
print("done")
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def _database(server: PostgresServer, name: str) -> str:
    server.create_database(name)
    return server.url(name)


def _config(sb: Sandbox, **extra: Any) -> dict[str, Any]:
    return {
        "auth_mode": "refresh_token",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "refresh_token": sb.authorize()["refresh_token"],
        "api_url": sb.url,
        "identity_url": sb.url,
        "login_url": sb.url,
        **extra,
    }


def _pod(root: Path, name: str, argv: list[str]) -> subprocess.Popen[str]:
    """A process with a working directory and HOME of its own (no file it could share)."""
    home = root / name
    home.mkdir(parents=True)
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", *argv],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_pods_sharing_a_postgres_store_never_spend_the_same_token(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dsn = _database(postgres, "tokens_race")
    with Sandbox(tenants=1, scale=3, seed=5) as sb:
        # Every pod's config carries the first refresh token, as Meltano regenerates it per run.
        config = _config(sb, token_store_dsn=dsn)
        with XeroClient(XeroSettings.from_config(config)) as client:
            client.tenant_ids()
        store = PostgresTokenStore(dsn, sb.client_id)
        start = store.read()
        assert start is not None
        assert start.generation == 1
        goal = start.generation + 200
        pods = [
            _pod(tmp_path, f"pod{n}", [_RENEWER, json.dumps(config), str(goal)]) for n in range(4)
        ]
        outputs = [pod.communicate(timeout=600) for pod in pods]
        issued = sb.stats()["tokens_issued"]["refresh_token"]
    stderr = "".join(err for _, err in outputs)
    assert stderr.count("invalid_grant") == 0, stderr[-3000:]
    assert all(pod.returncode == 0 for pod in pods), stderr[-3000:]
    assert [json.loads(out.splitlines()[-1])["errors"] for out, _ in outputs] == [0, 0, 0, 0]
    end = store.read()
    assert end is not None
    assert end.generation >= goal
    # One refresh per generation: no pod ever refreshed with a token another had rotated.
    assert issued == end.generation
    assert not any((tmp_path / f"pod{n}" / ".config").exists() for n in range(4))


def test_a_pod_killed_between_rotation_and_commit_leaves_a_usable_row(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dsn = _database(postgres, "tokens_crash")
    with Sandbox(tenants=1, scale=3, seed=6) as sb:
        config = _config(sb, token_store_dsn=dsn)
        with XeroClient(XeroSettings.from_config(config)) as client:
            client.tenant_ids()
        before = PostgresTokenStore(dsn, sb.client_id).read()
        assert before is not None
        # Force the next run to refresh: the stored access token has expired.
        expired = {**json.loads(_row(dsn, sb.client_id)), "expires_at": 0.0}
        _set_row(dsn, sb.client_id, json.dumps(expired))
        died = _pod(tmp_path, "dies", [_DIE_BEFORE_STORING, json.dumps(config)])
        died.communicate(timeout=120)
        assert died.returncode == -9
        # Its connection died with it: the lock is free, the row still holds the spent token,
        # which Xero (the sandbox) accepts again within the grace period.
        survivor = _pod(tmp_path, "next", [_RENEWER, json.dumps(config), "3"])
        _out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err[-2000:]
    assert "invalid_grant" not in err
    after = PostgresTokenStore(dsn, sb.client_id).read()
    assert after is not None
    assert after.generation >= 3


def test_xero_auth_fills_a_postgres_store_that_runs_then_use(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = _database(postgres, "tokens_auth")
    with Sandbox(tenants=2, scale=3, seed=9) as sb:
        monkeypatch.setenv("XERO_TOKEN_STORE_DSN", dsn)
        monkeypatch.setenv("XERO_CLIENT_SECRET", sb.client_secret)
        code = xero_auth_main(
            [
                "--client-id", sb.client_id, "--login-url", sb.url, "--identity-url", sb.url,
                "--api-url", sb.url, "--port", "0", "--no-browser",
            ]
        )  # fmt: skip
        assert code == 0
        stored = PostgresTokenStore(dsn, sb.client_id).read()
        assert stored is not None
        assert stored.refresh_token
        # A run on another host: no refresh_token in its config, only the store's URL.
        config = {**_config(sb, token_store_dsn=dsn), "refresh_token": None}
        done = _pod(tmp_path, "pod", [_RENEWER, json.dumps(config), str(stored.generation + 2)])
        _out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err[-2000:]
    assert "invalid_grant" not in err
    assert not (tmp_path / "pod" / ".config").exists()


def test_a_damaged_row_stops_the_run_in_one_line_naming_the_setting(
    postgres: PostgresServer,
) -> None:
    dsn = _database(postgres, "tokens_damaged")
    store = PostgresTokenStore(dsn, "some-client")
    with store.locked():
        assert store.read() is None
    _set_row(dsn, "some-client", '{"version": 1, "client_id": "some-client", "generation": "x"}')
    with pytest.raises(XeroConfigError) as caught:
        store.read()
    message = str(caught.value)
    assert message.startswith("config setting 'token_store_dsn': xero_token_store[some-client]")
    assert "field `generation" in message
    assert "\n" not in message
    assert "postgres@" not in message  # the user (and any password) stays out of messages


def test_a_bad_dsn_is_one_line_without_the_password(postgres: PostgresServer) -> None:
    with pytest.raises(XeroConfigError, match="must be a PostgreSQL URL"):
        XeroSettings.from_config(
            {"auth_mode": "refresh_token", "client_id": "c", "token_store_dsn": "/tmp/x.json"}
        )
    unreachable = f"postgresql://someone:hunter2@127.0.0.1:{postgres.port}/no_such_db"
    with pytest.raises(XeroConfigError) as caught:
        PostgresTokenStore(unreachable, "c").read()
    assert "hunter2" not in str(caught.value)  # the password never reaches a message
    assert "cannot connect to postgresql://127.0.0.1" in str(caught.value)


def test_pods_drawing_from_one_app_budget_get_no_app_limit_429(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """4 pods, 8 threads each, against an app limit of 120 calls a sandbox minute (3 s).

    The pods draw 108 a window: the default's tenth of headroom (9,000 of Xero's 10,000), which
    covers calls that reach the server later than they were drawn on a loaded machine.
    """
    dsn = _database(postgres, "budget")
    flags = {
        "tenants": 4,
        "scale": 2,
        "seed": 8,
        "time_scale": 20,
        "app_minute_limit": 120,
        "minute_limit": 100_000,
        "day_limit": 1_000_000,
        "concurrent_limit": 50,
    }
    budget = {"app_budget_dsn": dsn, "app_calls_per_minute": 108, "app_budget_window_seconds": 3}

    def run(extra: dict[str, Any], name: str) -> dict[str, Any]:
        with Sandbox(**flags) as sb:
            config = _config(sb, token_store_dsn=_database(postgres, f"tokens_{name}"), **extra)
            with XeroClient(XeroSettings.from_config(config)) as client:
                client.tenant_ids()  # one refresh before the pods start
            pods = [
                _pod(tmp_path / name, f"pod{n}", [_CALLER, json.dumps(config), "90"])
                for n in range(4)
            ]
            outputs = [pod.communicate(timeout=600) for pod in pods]
            assert all(pod.returncode == 0 for pod in pods), outputs[0][1][-2000:]
            stats: dict[str, Any] = sb.stats()
        return stats

    shared = run(budget, "shared")
    assert shared["rate_limited"].get("appminute", 0) == 0, shared["rate_limited"]
    assert shared["calls"] >= 4 * 90
    # The same pods pacing themselves alone do overrun the app limit: the test can fail.
    alone = run({}, "alone")
    assert alone["rate_limited"].get("appminute", 0) > 0, alone["rate_limited"]


def _row(dsn: str, client_id: str) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT tokens FROM xero_token_store WHERE client_id = %s", (client_id,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def _set_row(dsn: str, client_id: str, tokens: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE xero_token_store SET tokens = %s WHERE client_id = %s", (tokens, client_id)
        )

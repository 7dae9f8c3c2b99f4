"""issue-7 §3 with a real crash: a process is SIGKILLed after Xero rotated its refresh token and
before the new token reached the store.

The rest of §3 lives with the client's own tests in ``test_client_sandbox.py``: 2 and then 10
processes sharing one store through 1,000 refreshes with zero invalid_grant
(``test_processes_sharing_one_store_never_spend_the_same_token``), the simulated crash and the
token past the 30-minute grace with its re-authorise advice. Here the crash is a real SIGKILL of
a real process, at the one moment that matters.
"""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._reliability import shared_token_store
from tests._tap_support import refresh_token_config
from xero_api.token_store import TokenSet, TokenStore
from xero_sandbox.launcher import Sandbox

# A run that refreshes, then dies by SIGKILL as it commits the new set to the store: Xero has
# rotated the token, the store still holds the spent one.
_DIE_BEFORE_STORING = """
import json, os, signal, sys
from xero_api import XeroClient, XeroSettings
from xero_api import token_store

def die(self, tokens):
    os.kill(os.getpid(), signal.SIGKILL)

token_store._FileWrite.commit = die
client = XeroClient(XeroSettings.from_config(json.loads(sys.argv[1])))
client.tenant_ids()
print("survived")
"""

_RUN = """
import json, sys
from xero_api import XeroClient, XeroSettings, XeroError
client = XeroClient(XeroSettings.from_config(json.loads(sys.argv[1])))
try:
    tenant = client.tenant_ids()[0]
    print(len(client.get("Currencies", tenant).records("Currencies")))
except XeroError as exc:
    print(exc.message, file=sys.stderr)
    sys.exit(1)
"""


def _config(sb: Sandbox, tmp_path: Path) -> dict[str, Any]:
    config = refresh_token_config(sb, tmp_path / "store.json")
    config["max_retries"] = 3
    return config


def _crash_after_rotation(config: dict[str, Any]) -> None:
    store = TokenStore(Path(config["token_store_path"]))
    # First a normal run fills the store; then its access token is made stale so the next
    # run must refresh.
    assert (
        subprocess.run([sys.executable, "-c", _RUN, json.dumps(config)], check=False).returncode
        == 0
    )
    tokens = store.read()
    assert tokens is not None
    tokens.expires_at = 0.0
    store.write(tokens)
    crashed = subprocess.run(
        [sys.executable, "-c", _DIE_BEFORE_STORING, json.dumps(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert "survived" not in crashed.stdout
    # It died holding the room it had claimed for the new tokens before asking Xero.
    assert list(store.file.parent.glob("store.json.*.tmp"))


@pytest.fixture(scope="module")
def normal_time() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=5, seed=4) as sb:
        yield sb


def test_sigkill_between_rotation_and_store_recovers_within_grace(
    normal_time: Sandbox, tmp_path: Path
) -> None:
    config = _config(normal_time, tmp_path)
    _crash_after_rotation(config)
    before = TokenStore(Path(config["token_store_path"])).read()
    assert before is not None
    # The next run, moments later (well inside Xero's 30 minutes), still works ...
    again = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "invalid_grant" not in again.stderr
    after = TokenStore(Path(config["token_store_path"])).read()
    assert after is not None
    # ... and has stored a newer generation, in a store only its owner can read.
    assert after.generation > before.generation
    assert after.refresh_token != before.refresh_token
    assert stat.S_IMODE(Path(config["token_store_path"]).stat().st_mode) == 0o600
    # The killed run's temporary file (room claimed before the refresh) was cleared under the lock.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.json", "store.json.lock"]


def test_sigkill_then_past_grace_tells_how_to_reauthorise(tmp_path: Path) -> None:
    # 900x: Xero's 30-minute grace lasts 2 s.
    with Sandbox(tenants=1, scale=5, seed=4, time_scale=900) as sb:
        config = _config(sb, tmp_path)
        _crash_after_rotation(config)
        time.sleep(2.5)
        late = subprocess.run(
            [sys.executable, "-c", _RUN, json.dumps(config)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert late.returncode == 1
    assert "Traceback" not in late.stderr
    message = late.stderr.strip().splitlines()[-1]  # XeroError.message, as the CLIs print it
    assert "xero-auth" in message  # the command that re-authorises
    assert "re-authorise" in message
    stored = TokenStore(Path(config["token_store_path"])).read()
    assert stored is not None
    assert stored.refresh_token is not None
    assert stored.refresh_token not in message
    assert config["client_secret"] not in message


def test_a_long_chain_still_knows_the_token_it_started_from() -> None:
    """A config keeps carrying the first refresh token; after any number of rotations the store
    must still recognise it as spent history, not take it for a fresh authorisation."""
    root = "configured-root-token"
    tokens = TokenSet(client_id="c", refresh_token=root).rotated(root, "t0", "a0", 0.0, "")
    for n in range(1, 1_000):
        tokens = tokens.rotated(tokens.refresh_token or "", f"t{n}", f"a{n}", 0.0, "")
    assert tokens.generation == 1_000
    assert tokens.knows(root)
    assert tokens.knows("t998")  # the one it was just rotated from
    assert len(tokens.lineage) <= 200  # bounded all the same


def test_processes_with_the_config_token_share_a_store_past_the_lineage_window(
    tmp_path: Path,
) -> None:
    """Two processes, config carrying the initial refresh token (Meltano style), 300 forced
    refreshes: more rotations than the store keeps hashes of, yet no reset, no invalid_grant."""
    figures = shared_token_store(tmp_path, processes=2, refreshes=300, timeout=600)
    assert figures.records >= 300, figures
    assert figures.notes["invalid_grant"] == 0, figures
    assert figures.lost == 0, figures
    assert figures.leaked == 0, figures

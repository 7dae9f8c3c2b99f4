"""The token store distrusts its own file (issue 13): every probe that broke it, kept.

Against xero-sandbox over HTTP wherever a rotation is at stake: the sandbox counts the refresh
tokens it rotates (``/_sandbox/stats``), so "failed before Xero rotated" is checked on Xero's
side, not inferred from our own file.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._tap_support import refresh_token_config, write_inputs
from tests._target_support import FIXTURES, TARGET
from xero_api import XeroClient, XeroConfigError, XeroSettings
from xero_api import auth as auth_module
from xero_api import token_store as token_store_module
from xero_api.token_store import TokenStore
from xero_sandbox.launcher import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Normal time: a spent refresh token stays usable for Xero's 30-minute grace."""
    with Sandbox(tenants=1, scale=5, seed=13) as sb:
        yield sb


def _refreshes(sb: Sandbox) -> int:
    return int(sb.stats()["refreshes"])


def _stored_run(sb: Sandbox, store: Path) -> dict[str, Any]:
    """A config whose store holds a token set from one real rotation, its access token made
    stale so the next use must rotate again."""
    config = refresh_token_config(sb, store)
    with XeroClient(XeroSettings.from_config(config)) as client:
        client.tenant_ids()
    data = json.loads(store.read_text())
    data["expires_at"] = 0.0
    store.write_text(json.dumps(data))
    return config


def _client(config: dict[str, Any]) -> XeroClient:
    return XeroClient(XeroSettings.from_config(config))


DAMAGE = {
    "refresh_token": 12345,
    "generation": "x",
    "lineage": [1],
    "expires_at": "soon",
    "previous_refresh_token": ["a"],
    "rotated_at": "yesterday",
    "version": 2,
}


@pytest.mark.parametrize("field", sorted(DAMAGE))
def test_a_field_of_the_wrong_type_stops_before_any_token_is_spent(
    sandbox: Sandbox, tmp_path: Path, field: str
) -> None:
    store = tmp_path / "store.json"
    config = _stored_run(sandbox, store)
    data = json.loads(store.read_text())
    secret = data["refresh_token"]
    data[field] = DAMAGE[field]
    store.write_text(json.dumps(data))
    before = _refreshes(sandbox)
    with _client(config) as client, pytest.raises(XeroConfigError) as info:
        client.tenant_ids()
    message = info.value.message
    assert "\n" not in message
    assert str(store) in message
    assert f"field `{field}" in message
    assert "xero-auth" in message
    assert "30 minutes" in message  # the other way back: a copy still inside Xero's grace
    assert secret not in message
    assert _refreshes(sandbox) == before  # Xero rotated nothing


def test_a_store_that_is_not_a_token_set_says_so(tmp_path: Path) -> None:
    store = tmp_path / "store.json"
    for text in ("[1, 2]", "{not json", '{"refresh_token": "abcdefgh"}'):
        store.write_text(text)
        with pytest.raises(XeroConfigError) as info:
            TokenStore(store).read()
        assert str(store) in info.value.message
        assert "xero-auth" in info.value.message
        assert "abcdefgh" not in info.value.message


def test_tap_and_target_report_a_damaged_store_in_one_line_and_the_token_survives(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = tmp_path / "store.json"
    config = _stored_run(sandbox, store)
    intact = store.read_text()
    data = json.loads(intact)
    data["generation"] = "x"  # the probe that used to crash after Xero had rotated
    store.write_text(json.dumps(data))
    before = _refreshes(sandbox)

    tap = subprocess.run(
        write_inputs(tmp_path / "tap", config, ["currencies"]),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    config_path = tmp_path / "target.json"
    config_path.write_text(json.dumps({**config, "tenant_id": sandbox.tenant_ids()[0]}))
    target = subprocess.run(
        [TARGET, "--config", str(config_path)],
        input=(FIXTURES / "base.singer").read_text(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    for name, run in (("tap", tap), ("target", target)):
        assert run.returncode != 0, name
        assert "Traceback" not in run.stderr, name
        said = [line for line in run.stderr.splitlines() if str(store) in line]
        assert said, f"{name} never named the store:\n{run.stderr[-2000:]}"
        assert "`generation`" in said[-1]
        assert "xero-auth" in said[-1]
    assert _refreshes(sandbox) == before

    # Nothing was spent: the repaired store rotates on as if the damage never happened.
    store.write_text(intact)
    with _client(config) as client:
        client.tenant_ids()
    assert _refreshes(sandbox) == before + 1


_UNWRITABLE = """
import json, resource, signal, sys
from xero_api import XeroClient, XeroError, XeroSettings
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    XeroClient(XeroSettings.from_config(json.loads(sys.argv[1]))).tenant_ids()
except XeroError as exc:
    print(exc.message, file=sys.stderr)
    sys.exit(1)
"""


def test_a_store_that_cannot_be_written_fails_before_xero_rotates(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Here the filesystem refuses the write (a file-size limit stands in for a full disk:
    it binds root too): the run stops before the refresh, so no token is left unsaved."""
    store = tmp_path / "store.json"
    config = _stored_run(sandbox, store)
    spent = json.loads(store.read_text())["refresh_token"]
    before = _refreshes(sandbox)
    run = subprocess.run(
        [sys.executable, "-c", _UNWRITABLE, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert "token_store_path" in run.stderr
    assert str(store) in run.stderr
    assert _refreshes(sandbox) == before
    assert json.loads(store.read_text())["refresh_token"] == spent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.json", "store.json.lock"]


class _StoreNamedByDsn(TokenStore):
    """A store another setting names, as ``token_store_dsn`` names the PostgreSQL store."""

    setting = "token_store_dsn"


@pytest.mark.parametrize("store_class", [TokenStore, _StoreNamedByDsn])
def test_a_commit_that_fails_after_rotation_says_how_to_recover(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_class: type[TokenStore]
) -> None:
    """The one step left after Xero rotated is the commit; if the disk fails it, the message
    names the store's own setting, says what still works, and the next run does exactly that."""
    store = tmp_path / "store.json"
    config = _stored_run(sandbox, store)
    before = json.loads(store.read_text())

    def fail(self: object, tokens: object) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with monkeypatch.context() as patch:
        patch.setattr(token_store_module._FileWrite, "commit", fail)
        patch.setattr(
            auth_module,
            "open_token_store",
            lambda settings, logger: store_class(settings.token_store_path, logger=logger),
        )
        with _client(config) as client, pytest.raises(XeroConfigError) as info:
            client.tenant_ids()
    assert info.value.setting == store_class.setting
    message = info.value.message
    assert "Xero rotated the refresh token" in message
    assert "30 minutes" in message
    assert str(store) in message
    assert before["refresh_token"] not in message
    assert json.loads(store.read_text())["generation"] == before["generation"]
    with _client(config) as client:  # within the grace: the stored token still rotates
        client.tenant_ids()
    assert json.loads(store.read_text())["generation"] == before["generation"] + 1


def test_a_symlinked_store_is_written_through_to_its_target(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    volume.mkdir(mode=0o700)
    project = tmp_path / "project"
    project.mkdir(mode=0o700)
    real = volume / "tokens.json"
    link = project / "tokens.json"
    link.symlink_to(real)
    config = refresh_token_config(sandbox, link)
    for _ in range(2):
        with _client(config) as client:
            client.tenant_ids()
        data = json.loads(real.read_text())
        data["expires_at"] = 0.0
        real.write_text(json.dumps(data))
    assert link.is_symlink()
    assert link.resolve() == real
    assert json.loads(real.read_text())["generation"] == 2
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    # One lock, beside the file: a process naming the file directly takes the same one.
    assert TokenStore(link).lock_path == TokenStore(real).lock_path == volume / "tokens.json.lock"
    assert sorted(p.name for p in volume.iterdir()) == ["tokens.json", "tokens.json.lock"]
    assert [p.name for p in project.iterdir()] == ["tokens.json"]


def test_a_symlinked_lock_is_refused_in_one_line(sandbox: Sandbox, tmp_path: Path) -> None:
    store = tmp_path / "store.json"
    config = _stored_run(sandbox, store)
    lock = tmp_path / "store.json.lock"
    lock.unlink()
    lock.symlink_to(tmp_path / "elsewhere")
    before = _refreshes(sandbox)
    with _client(config) as client, pytest.raises(XeroConfigError) as info:
        client.tenant_ids()
    assert "symbolic link" in info.value.message
    assert str(lock) in info.value.message
    assert _refreshes(sandbox) == before
    assert not (tmp_path / "elsewhere").exists()


def test_a_store_open_to_others_is_tightened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = TokenStore(tmp_path / "store.json")
    store.write(token_store_module.TokenSet(client_id="c", refresh_token="r" * 20))
    store.path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="xero_api"):
        assert store.read() is not None
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert "0644" in caplog.text
    assert "tightened to 0600" in caplog.text
    assert str(store.path) in caplog.text
    caplog.clear()
    store.read()
    assert caplog.text == ""  # once tightened, nothing more to say


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_directory_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(mode)
    store = TokenStore(directory / "store.json")
    for attempt in (store.read, lambda: store.write(token_store_module.TokenSet(client_id="c"))):
        with pytest.raises(XeroConfigError) as info:
            attempt()
        assert f"{mode:04o}" in info.value.message
        assert f"chmod go-w {directory}" in info.value.message
    assert list(directory.iterdir()) == []


def test_a_directory_others_can_only_read_is_accepted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "project"
    directory.mkdir()
    directory.chmod(0o755)
    store = TokenStore(directory / "store.json")
    with caplog.at_level(logging.WARNING, logger="xero_api"):
        store.write(token_store_module.TokenSet(client_id="c", refresh_token="r" * 20))
        assert store.read() is not None
    assert caplog.text == ""
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600

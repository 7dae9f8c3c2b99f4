"""Bad input to target-xero, and bad config to both programs: a clear line or a reject with its
reason, never a traceback wall and never a silent drop.

The corpus is ``tests/fixtures/bad_input`` (written by its ``build.py``); ``expected.json`` says
what each file must produce.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._target_support import TAP, TARGET, Org, OrgPool, run_target, sandbox_pool

CORPUS = Path(__file__).parents[1] / "fixtures" / "bad_input"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
GOOD_LAST = "Corpus Good Last"


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(empty=len(EXPECTED) + 1)


def _records(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == "RECORD":
            records.append(message["record"])
    return records


def _marker(record: Any) -> str:
    """What names a corpus record: its name, number, e-mail or reference."""
    for field in ("InvoiceNumber", "Name", "EmailAddress", "Reference"):
        if isinstance(record, dict) and field in record:
            if field == "Reference" and "InvoiceNumber" not in record and "Amount" not in record:
                continue
            return str(record[field])
    return json.dumps(record)


def _one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if "| ERROR" in line]
    assert len(errors) <= 2, errors  # the logged error and, at most, the SDK's own summary
    return stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_input_is_named_or_rejected_never_dropped(
    pool: OrgPool, tmp_path: Path, case: str
) -> None:
    org = pool.take()
    path = CORPUS / f"{case}.singer"
    expected = EXPECTED[case]
    run = run_target(org.config(tmp_path), tmp_path, path)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]

    if "error" in expected:
        assert run.returncode != 0
        message = _one_line_error(run.stderr)
        assert message.startswith("target-xero: bad input: "), message
        for word in expected["error"]:
            assert word in message
        assert run.audit == []  # it stopped before writing anything of a broken stream
        assert run.states == []  # and no STATE claims the records before it were done
        return

    assert run.returncode == 0, run.stderr[-3000:]
    records = _records(path)
    # Every record is accounted for: written (audit) or rejected with reasons.
    assert len(run.audit) + len(run.rejects) == len(records)
    assert all(
        r["reasons"] and all(isinstance(x, str) and x for x in r["reasons"]) for r in run.rejects
    )
    rejected = {_marker(r["record"]): " ".join(r["reasons"]) for r in run.rejects}
    for marker, words in expected.get("rejects", {}).items():
        assert marker in rejected, (marker, rejected)
        for word in words:
            assert word in rejected[marker], (marker, rejected[marker])
    assert set(rejected) <= set(expected.get("rejects", {}))
    assert GOOD_LAST in {c["Name"] for c in org.all("Contacts", "Contacts")}
    assert run.states, "the STATE after the records was not emitted"
    if case == "mixed_script_unicode":
        _assert_unicode_round_trip(org, records)


def _assert_unicode_round_trip(org: Org, records: list[dict[str, Any]]) -> None:
    names = {c["Name"] for c in org.all("Contacts", "Contacts")}
    for record in records:
        if "Name" in record:
            assert record["Name"] in names  # byte for byte, confusable letters included
    invoice = next(r for r in records if "InvoiceNumber" in r)
    stored = org.all("Invoices", "Invoices")
    assert invoice["Reference"] in {i.get("Reference") for i in stored}


# ------------------------------------------------------------------------------------ config
LOOPBACK_DEAD = "http://127.0.0.1:9"  # discard port: nothing listens, connections are refused


def _config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "auth_mode": "client_credentials",
        "client_id": "config-test",
        "client_secret": "config-secret",
        "api_url": LOOPBACK_DEAD,
        "identity_url": LOOPBACK_DEAD,
        "login_url": LOOPBACK_DEAD,
        "start_date": "2024-01-01T00:00:00Z",
        "tenant_id": "00000000-0000-0000-0000-000000000001",
        "max_retries": 0,
    }
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


BAD_CONFIGS: dict[str, tuple[dict[str, Any], str]] = {
    "missing auth_mode": ({"auth_mode": None}, "auth_mode"),
    "unknown auth_mode": ({"auth_mode": "magic"}, "auth_mode"),
    "wrong type": ({"request_timeout_seconds": "soon"}, "request_timeout_seconds"),
    "plain http to a remote host": ({"api_url": "http://api.xero.com"}, "api_url"),
    "not a URL": ({"identity_url": "identity.xero.com"}, "identity_url"),
    "unreachable host": ({}, "identity_url"),
    "missing client secret": ({"client_secret": None}, "client_secret"),
}
TAP_ONLY: dict[str, tuple[dict[str, Any], str]] = {
    "bad start_date": ({"start_date": "last tuesday"}, "start_date"),
    "impossible start_date": ({"start_date": "2024-02-30"}, "start_date"),
    "missing start_date": ({"start_date": None}, "start_date"),
}

ONE_CONTACT = (
    '{"type": "SCHEMA", "stream": "contacts", "key_properties": [], "schema": '
    '{"type": "object", "properties": {"Name": {"type": "string"}}}}\n'
    '{"type": "RECORD", "stream": "contacts", "record": {"Name": "Config Test"}}\n'
)


def _run(program: str, config: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [program, "--config", str(path)],
        input=ONE_CONTACT if program == TARGET else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_names_setting(done: subprocess.CompletedProcess[str], setting: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line or ": " in line[:40]]
    assert any(setting in line for line in errors), done.stderr[-2000:]
    # No secret in the message either.
    assert "config-secret" not in done.stderr


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS | TAP_ONLY))
def test_tap_bad_config_names_the_setting(tmp_path: Path, case: str) -> None:
    overrides, setting = (BAD_CONFIGS | TAP_ONLY)[case]
    config = _config(**overrides)
    config.pop("tenant_id")
    _assert_names_setting(_run(TAP, config, tmp_path), setting)


TARGET_ONLY: dict[str, tuple[dict[str, Any], str]] = {
    "unknown write_mode": ({"write_mode": "sometimes"}, "write_mode"),
    "natural_keys not an object": ({"natural_keys": ["Name"]}, "natural_keys"),
    "natural_keys of an unknown stream": ({"natural_keys": {"people": ["Name"]}}, "natural_keys"),
    "natural_keys with no key": ({"natural_keys": {"contacts": []}}, "natural_keys"),
    "natural_keys with an empty part": ({"natural_keys": {"contacts": ["Name+"]}}, "natural_keys"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS | TARGET_ONLY))
def test_target_bad_config_names_the_setting(tmp_path: Path, case: str) -> None:
    overrides, setting = (BAD_CONFIGS | TARGET_ONLY)[case]
    config = _config(**overrides)
    config.pop("start_date")
    _assert_names_setting(_run(TARGET, config, tmp_path), setting)

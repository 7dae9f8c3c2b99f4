"""The README's "Add an endpoint" is exactly true: its row pasted into a copy of the resource
table, then `make schemas`' script, gives a stream tap-xero reads from the sandbox."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._tap_support import RELAXED, START_DATE, parse_output
from xero_sandbox.launcher import Sandbox

REPO = Path(__file__).resolve().parents[2]
TABLE_START = "RESOURCES: tuple[Resource, ...] = (\n"


def _readme_row() -> tuple[str, str]:
    """The README's row, and the stream it names."""
    section = (REPO / "README.md").read_text().split("## Add an endpoint", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the README's Add an endpoint section has no python block"
    assert found[1].startswith(TABLE_START), "the README's block is not the table's start"
    row = found[1].removeprefix(TABLE_START).split("    # ", 1)[0]
    stream = re.search(r'stream="(\w+)"', row)
    assert stream, "the README's row names no stream"
    return row, stream[1]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=5, seed=3, **RELAXED) as sb:
        yield sb


def test_the_readmes_row_and_a_generated_schema_make_a_stream(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    row, stream = _readme_row()
    copy = tmp_path / "checkout"
    for package in ("tap_xero", "xero_api"):
        shutil.copytree(REPO / package, copy / package, ignore=shutil.ignore_patterns("schemas"))
    (copy / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "generate_schemas.py", copy / "scripts")
    table = copy / "xero_api" / "resources.py"
    assert TABLE_START in table.read_text()
    table.write_text(table.read_text().replace(TABLE_START, TABLE_START + row, 1))
    env = {**os.environ, "PYTHONPATH": str(copy)}
    spec = REPO / "openapi" / "xero_accounting.json"
    subprocess.run(
        [sys.executable, "scripts/generate_schemas.py", str(spec), "--out", str(copy / "schemas")],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    assert (copy / "schemas" / f"{stream}.json").is_file()

    tokens = sandbox.authorize("offline_access files.read")
    config = {
        "auth_mode": "refresh_token",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "refresh_token": tokens["refresh_token"],
        "token_store_path": str(tmp_path / "tokens.json"),
        "api_url": sandbox.url,
        "identity_url": sandbox.url,
        "login_url": sandbox.url,
        "start_date": START_DATE,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    tap = [sys.executable, "-m", "tap_xero.tap", "--config", str(tmp_path / "config.json")]
    found = subprocess.run(
        [*tap, "--discover"], cwd=copy, env=env, check=True, capture_output=True, text=True
    )
    catalog = json.loads(found.stdout)
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] == stream
        for metadata in entry["metadata"]:
            if not metadata["breadcrumb"]:
                metadata["metadata"]["selected"] = selected
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    done = subprocess.run(
        [*tap, "--catalog", str(tmp_path / "catalog.json")],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    run = parse_output(done.returncode, done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    records = run.records[stream]
    assert len(records) == 1  # one inbox folder per organisation
    assert records[0]["IsInbox"] is True
    assert records[0]["TenantID"] == sandbox.tenant_ids()[0]

"""Installs as a user makes them, outside this checkout.

* The built wheel in a clean venv: tap-xero and target-xero run and report the package's version,
  a default tap run succeeds, and the sandbox's server stack (starlette, uvicorn, lark: the
  ``sandbox`` extra) is not pulled in; ``xero-sandbox`` then says which extra it needs.
* A new Meltano project in a temporary directory with the plugin definitions of this checkout's
  ``meltano.yml`` (``pip_url`` at the checkout, as docs/meltano.md shows) runs
  ``tap-xero → target-jsonl`` against the sandbox.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.meltano_support import SANDBOX_FLAGS, jsonl_lines, run_meltano, sandbox_env, xero_get_all
from xero_sandbox.launcher import Sandbox

REPO = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["version"]
SANDBOX_EXTRA = ("starlette", "uvicorn", "lark")


def _run(*argv: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv}: {done.stderr[-3000:]}"
    return done


def test_the_wheel_installs_tap_and_target_without_the_sandbox_stack(tmp_path: Path) -> None:
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path, REPO)
    (wheel,) = tmp_path.glob("singer_xero-*.whl")
    _run(sys.executable, "-m", "venv", tmp_path / "venv")
    bin_dir = tmp_path / "venv" / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", "--no-compile", wheel)
    for program in ("tap-xero", "target-xero"):
        about: dict[str, Any] = json.loads(
            _run(bin_dir / program, "--about", "--format=json").stdout
        )
        assert about["name"] == program
        assert about["version"] == VERSION, about["version"]
    catalog = json.loads(_run(bin_dir / "tap-xero", "--discover").stdout)  # schemas are packaged
    assert {"invoices", "report_balance_sheet"} <= {s["tap_stream_id"] for s in catalog["streams"]}
    # A whole default run from that venv, against a sandbox served from the test's own.
    with Sandbox(**{**SANDBOX_FLAGS, "tenants": 1, "scale": 2}) as sb:
        config = {
            "auth_mode": "client_credentials", "client_id": sb.client_id,
            "client_secret": sb.client_secret, "api_url": sb.url, "identity_url": sb.url,
            "login_url": sb.url, "start_date": "2026-01-01T00:00:00Z",
        }  # fmt: skip
        (tmp_path / "config.json").write_text(json.dumps(config), "utf-8")
        synced = _run(bin_dir / "tap-xero", "--config", tmp_path / "config.json")
    assert '"stream":"invoices"' in synced.stdout.replace(" ", "")
    found = _run(
        bin_dir / "python",
        "-c",
        "import importlib.util as u, sys; print(*[m for m in sys.argv[1:] if u.find_spec(m)])",
        *SANDBOX_EXTRA,
    )
    assert found.stdout.split() == []
    sandbox = subprocess.run(
        [bin_dir / "xero-sandbox", "serve", "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert sandbox.returncode == 1
    assert "pip install 'singer-xero[sandbox]'" in sandbox.stderr
    assert "Traceback" not in sandbox.stderr


def _documented_plugins() -> dict[str, list[dict[str, Any]]]:
    """tap-xero and target-xero as this checkout's meltano.yml defines them, installed from the
    checkout itself (not editable), and target-jsonl from PyPI."""
    ours = yaml.safe_load((REPO / "meltano.yml").read_text("utf-8"))["plugins"]
    pick = {"extractors": "tap-xero", "loaders": "target-xero"}
    plugins = {
        kind: [{**p, "pip_url": str(REPO)} for p in ours[kind] if p["name"] == name]
        for kind, name in pick.items()
    }
    plugins["loaders"].append(
        {
            "name": "target-jsonl",
            "namespace": "target_jsonl",
            "pip_url": "target-jsonl==0.1.4",
            "executable": "target-jsonl",
            "settings": [
                {"name": "destination_path"},
                {"name": "do_timestamp_file", "kind": "boolean"},
            ],
            "config": {"destination_path": "output", "do_timestamp_file": False},
        }
    )
    return plugins


@pytest.mark.meltano
def test_a_new_meltano_project_outside_the_checkout_runs_tap_xero_to_target_jsonl(
    tmp_path: Path,
) -> None:
    project = tmp_path / "my-project"
    project.mkdir()
    (project / "output").mkdir()
    meltano_yml = {
        "requires_meltano": ">=4.0",
        "project_id": str(uuid.uuid4()),
        "send_anonymous_usage_stats": False,
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "venv": {"backend": "uv"},
        "plugins": _documented_plugins(),
    }
    (project / "meltano.yml").write_text(yaml.safe_dump(meltano_yml, sort_keys=False), "utf-8")
    run_meltano(["install"], project=project, timeout=900, log=project / "install.log")
    with Sandbox(**SANDBOX_FLAGS) as sb:
        env = {
            **sandbox_env(sb.url, project / "tokens"),
            "TAP_XERO_AUTH_MODE": "client_credentials",  # bound to the sandbox's first tenant
            "TAP_XERO_START_DATE": "2020-01-01T00:00:00Z",
            "TAP_XERO_REPORT_START_DATE": "2026-01-01T00:00:00Z",
        }
        run_meltano(["run", "tap-xero", "target-jsonl"], project=project, env=env, timeout=600)
        invoices = jsonl_lines(project / "output" / "invoices.jsonl")
        served = {i["InvoiceID"] for i in xero_get_all(sb, sb.tenant_ids()[0], "Invoices")}
    about = run_meltano(["invoke", "target-xero", "--about"], project=project).output
    assert f"Version: {VERSION}" in about
    assert invoices
    assert {row["InvoiceID"] for row in invoices} == served
    # The default selection travels with the definition: no stream a new app cannot read.
    assert not (project / "output" / "expense_claims.jsonl").exists()

"""orchestrate/tenant_runs.py without Dagster: connections files, partition environments."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "orchestrate"))

from tenant_runs import (  # noqa: E402
    TenantRunError,
    load_connections,
    partition_env,
    partition_state_id,
)

TENANT = "dfdb9e1d-e950-4951-b4f0-0123456789ab"


def _file(tmp_path: Path, entries: object) -> Path:
    path = tmp_path / "connections.json"
    path.write_text(json.dumps(entries))
    return path


def test_secrets_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "bobs"
    secret_file.write_text("file-secret\n")
    path = _file(
        tmp_path,
        [
            {"name": "acme", "client_id": "A", "client_secret_env": "SECRET_ACME"},
            {"name": "bobs", "client_id": "B", "client_secret_file": str(secret_file)},
        ],
    )
    found = load_connections(path, {"SECRET_ACME": "env-secret"})
    assert {n: (c.client_id, c.client_secret) for n, c in found.items()} == {
        "acme": ("A", "env-secret"),
        "bobs": ("B", "file-secret"),
    }
    assert "secret" not in repr(found["acme"])


@pytest.mark.parametrize(
    ("entries", "environ", "message"),
    [
        (
            [{"name": "acme", "client_id": "A", "client_secret": "x"}],
            {},
            "never put client_secret in the file",
        ),
        (
            [{"name": "acme", "client_id": "A", "client_secret_env": "NOPE"}],
            {},
            "environment variable NOPE is not set",
        ),
        ([{"name": "a b", "client_id": "A"}], {}, "letters, digits and _ only"),
        ([{"name": "acme"}], {}, "client_id is required"),
        ({"acme": "A"}, {}, "must be a JSON list"),
    ],
)
def test_bad_connections_files_are_one_line(
    tmp_path: Path, entries: object, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(TenantRunError, match=message) as caught:
        load_connections(_file(tmp_path, entries), environ)
    assert "\n" not in str(caught.value)


def test_partition_environments(tmp_path: Path) -> None:
    path = _file(tmp_path, [{"name": "acme", "client_id": "A", "client_secret_env": "S"}])
    connections = load_connections(path, {"S": "secret"})
    assert partition_env(TENANT, connections, "target-postgres") == {
        "TAP_XERO_TENANT_IDS": json.dumps([TENANT]),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": "xero_" + TENANT.replace("-", "_"),
    }
    custom = partition_env("acme", connections, "target-postgres")
    assert custom["TAP_XERO_AUTH_MODE"] == "client_credentials"
    assert (custom["TAP_XERO_CLIENT_ID"], custom["TAP_XERO_CLIENT_SECRET"]) == ("A", "secret")
    assert custom["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] == "xero_acme"
    with pytest.raises(TenantRunError, match="neither a tenant ID nor a custom connection"):
        partition_env("gone", connections, "target-postgres")
    assert partition_state_id("prod", "target-postgres", "acme") == (
        "prod:tap-xero-to-target-postgres:acme"
    )

"""One Meltano run per Xero organisation (a tenant ID or a custom connection's name), in a
project directory of its own, never with ``--force``: what the Dagster tenant partitions run,
with no Dagster here so any orchestrator (and the tests) can use it. Settings and the custom
connections file: docs/deployment.md.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xero_api import XeroSettings

__all__ = [
    "CustomConnection",
    "TenantRunConfig",
    "TenantRunError",
    "discover_partitions",
    "fail_dead_runs",
    "load_connections",
    "partition_env",
    "partition_state_id",
    "sync_partition",
]

_NAME = re.compile(r"^[A-Za-z0-9_]{1,48}$")
_TENANT = re.compile(r"^[0-9A-Fa-f-]{8,64}$")


class TenantRunError(RuntimeError):
    """A partition cannot run; the message names the partition, the file or the setting."""


@dataclass(frozen=True)
class CustomConnection:
    """A Xero custom connection: one organisation, its own client ID and secret."""

    name: str
    client_id: str
    client_secret: str = field(repr=False)


def load_connections(path: Path | None, environ: Mapping[str, str]) -> dict[str, CustomConnection]:
    """The custom connections of ``path`` by name, secrets read from the environment or files."""
    if path is None:
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TenantRunError(f"connections file {path} does not exist") from None
    except ValueError as exc:
        raise TenantRunError(f"connections file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, list):
        raise TenantRunError(f"connections file {path} must be a JSON list of connections")
    found: dict[str, CustomConnection] = {}
    for n, entry in enumerate(raw):
        where = f"connection {n + 1} of {path}"
        if not isinstance(entry, dict):
            raise TenantRunError(f"{where} must be an object")
        name, client_id = entry.get("name"), entry.get("client_id")
        if not isinstance(name, str) or not _NAME.match(name) or name in found:
            raise TenantRunError(f"{where}: name must be unique, letters, digits and _ only")
        if not isinstance(client_id, str) or not client_id:
            raise TenantRunError(f"{where} ({name}): client_id is required")
        if "client_secret" in entry:
            raise TenantRunError(
                f"{where} ({name}): never put client_secret in the file; use client_secret_env "
                "or client_secret_file"
            )
        secret = _secret(entry, environ, f"{where} ({name})")
        found[name] = CustomConnection(name, client_id, secret)
    return found


def _secret(entry: Mapping[str, object], environ: Mapping[str, str], where: str) -> str:
    variable, file = entry.get("client_secret_env"), entry.get("client_secret_file")
    if isinstance(variable, str) and variable:
        value = environ.get(variable, "")
        if not value:
            raise TenantRunError(f"{where}: environment variable {variable} is not set")
        return value
    if isinstance(file, str) and file:
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise TenantRunError(f"{where}: cannot read {file}: {exc.strerror}") from None
        if not value:
            raise TenantRunError(f"{where}: {file} is empty")
        return value
    raise TenantRunError(f"{where}: give client_secret_env or client_secret_file")


@dataclass(frozen=True)
class TenantRunConfig:
    """Where and how partitions run (see the module docstring for the variables)."""

    project_root: Path
    environment: str = "prod"
    loader: str = "target-postgres"
    runs_dir: Path | None = None
    connections_file: Path | None = None
    dead_run_seconds: float = 60.0
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], default_root: Path) -> TenantRunConfig:
        """The config the variables give."""
        connections = environ.get("XERO_CONNECTIONS_FILE")
        runs = environ.get("XERO_RUNS_DIR")
        try:
            dead = float(environ.get("XERO_DEAD_RUN_SECONDS", "60"))
        except ValueError:
            raise TenantRunError("XERO_DEAD_RUN_SECONDS must be a number of seconds") from None
        return cls(
            project_root=Path(environ.get("MELTANO_PROJECT_ROOT", default_root)),
            environment=environ.get("MELTANO_ENVIRONMENT", "prod"),
            loader=environ.get("XERO_LOADER", "target-postgres"),
            runs_dir=Path(runs) if runs else None,
            connections_file=Path(connections) if connections else None,
            dead_run_seconds=dead,
            environ=dict(environ),
        )

    def connections(self) -> dict[str, CustomConnection]:
        """The custom connections, secrets resolved."""
        return load_connections(self.connections_file, self.environ)


def _web_app_config(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The web app's tap settings from ``TAP_XERO_*`` (None when no client ID is set)."""
    from xero_api.settings import SETTINGS

    config = {
        s.name: environ[f"TAP_XERO_{s.name.upper()}"]
        for s in SETTINGS
        if environ.get(f"TAP_XERO_{s.name.upper()}")
    }
    if not config.get("client_id"):
        return None
    config.setdefault("auth_mode", "refresh_token")
    return config


def discover_partitions(config: TenantRunConfig) -> list[str]:
    """Every partition key: the web app's organisations (``GET /connections``), less those a
    custom connection serves, then the custom connections by name."""
    from xero_api import XeroClient, XeroSettings

    connections = config.connections()
    served: set[str] = set()
    for connection in connections.values():
        settings = _custom_settings(config.environ, connection)
        with XeroClient(settings) as client:
            served.update(client.tenant_ids())
    keys: list[str] = []
    web_app = _web_app_config(config.environ)
    if web_app is not None:
        with XeroClient(XeroSettings.from_config(web_app)) as client:
            keys = [t for t in client.tenant_ids() if t not in served]
    return keys + sorted(connections)


def _custom_settings(environ: Mapping[str, str], connection: CustomConnection) -> XeroSettings:
    from xero_api import XeroSettings

    web_app = _web_app_config(environ) or {}
    return XeroSettings.from_config(
        {
            **{k: v for k, v in web_app.items() if k.endswith("_url") or k.startswith("app_")},
            "auth_mode": "client_credentials",
            "client_id": connection.client_id,
            "client_secret": connection.client_secret,
        }
    )


def partition_state_id(environment: str, loader: str, key: str) -> str:
    """``<environment>:tap-xero-to-<loader>:<key>``: each partition's bookmarks."""
    return f"{environment}:tap-xero-to-{loader}:{key}"


def _schema(key: str) -> str:
    return "xero_" + re.sub(r"[^a-z0-9_]", "_", key.lower())


def partition_env(
    key: str, connections: Mapping[str, CustomConnection], loader: str
) -> dict[str, str]:
    """What one partition's run adds to the environment: its tenant or its credentials, and a
    destination of its own (so first runs never race to create the same tables)."""
    env: dict[str, str] = {}
    connection = connections.get(key)
    if connection is not None:
        env.update(
            {
                "TAP_XERO_AUTH_MODE": "client_credentials",
                "TAP_XERO_CLIENT_ID": connection.client_id,
                "TAP_XERO_CLIENT_SECRET": connection.client_secret,
                "TAP_XERO_TENANT_IDS": "[]",  # its one organisation, from /connections
            }
        )
    elif _TENANT.match(key):
        env["TAP_XERO_TENANT_IDS"] = json.dumps([key])
    else:
        raise TenantRunError(
            f"partition {key!r} is neither a tenant ID nor a custom connection of "
            "XERO_CONNECTIONS_FILE (was the connection removed?)"
        )
    env[loader.upper().replace("-", "_") + "_DEFAULT_TARGET_SCHEMA"] = _schema(key)
    return env


def fail_dead_runs(database_uri: str, state_id: str, silent_seconds: float) -> int:
    """Mark as failed the Meltano runs of ``state_id`` still 'RUNNING' whose heartbeat (Meltano
    writes one a second) has been silent for ``silent_seconds``: their process is gone. A run
    that still beats is left alone, and ``meltano el`` then refuses to start, as it should."""
    import psycopg

    from xero_api.settings import is_postgres_url

    dsn = re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", database_uri)
    if not is_postgres_url(dsn):
        raise TenantRunError(
            "MELTANO_DATABASE_URI must be a PostgreSQL URL (postgresql+psycopg://...): every run "
            "shares Meltano's system database"
        )
    with psycopg.connect(dsn) as conn:
        tables = conn.execute("SELECT to_regclass('runs') IS NOT NULL").fetchone()
        if not tables or not tables[0]:
            return 0  # a new system database: no run yet
        # Meltano keeps naive UTC times (its DateTimeUTC columns).
        done = conn.execute(
            "UPDATE runs SET state = 'FAIL', ended_at = now() AT TIME ZONE 'UTC' "
            "WHERE job_name = %s AND state = 'RUNNING' AND COALESCE(last_heartbeat_at, "
            "started_at) < now() AT TIME ZONE 'UTC' - make_interval(secs => %s)",
            (state_id, silent_seconds),
        )
        return done.rowcount


def _run_directory(config: TenantRunConfig) -> Path:
    """A project directory of its own: ``meltano.yml`` and the installed plugins (linked)."""
    root = config.project_root
    if config.runs_dir is not None:
        config.runs_dir.mkdir(parents=True, exist_ok=True)
    run = Path(tempfile.mkdtemp(prefix="xero-run-", dir=config.runs_dir))
    shutil.copy2(root / "meltano.yml", run / "meltano.yml")
    for extra in ("examples",):
        if (root / extra).is_dir():
            shutil.copytree(root / extra, run / extra, symlinks=True)
    system = run / ".meltano"
    system.mkdir()
    for kind in ("extractors", "loaders", "utilities"):
        if (root / ".meltano" / kind).is_dir():
            (system / kind).symlink_to((root / ".meltano" / kind).resolve(), True)
    return run


def sync_partition(
    key: str, config: TenantRunConfig, log: Callable[[str], None] = print
) -> dict[str, str]:
    """Run ``meltano el`` for partition ``key`` in a new project directory; raises
    :class:`TenantRunError` with Meltano's last lines when it fails. Returns the state id."""
    database_uri = config.environ.get("MELTANO_DATABASE_URI", "")
    state_id = partition_state_id(config.environment, config.loader, key)
    env = {
        **config.environ,
        **partition_env(key, config.connections(), config.loader),
        "MELTANO_DATABASE_URI": database_uri,
        "MELTANO_AUTO_INSTALL": "false",
    }
    stale = fail_dead_runs(database_uri, state_id, config.dead_run_seconds)
    if stale:
        log(f"{key}: marked {stale} run(s) whose process died as failed")
    run = _run_directory(config)
    env["MELTANO_PROJECT_ROOT"] = str(run)
    argv = [
        "meltano",
        f"--environment={config.environment}",
        "el",
        "tap-xero",
        config.loader,
        f"--state-id={state_id}",
    ]
    try:
        done = subprocess.run(
            argv, cwd=run, env=env, capture_output=True, text=True, check=False, timeout=86_400
        )
    finally:
        shutil.rmtree(run, ignore_errors=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise TenantRunError(f"{key}: meltano el exited {done.returncode}:\n{tail}")
    log(f"{key}: synced ({state_id})")
    return {"state_id": state_id}

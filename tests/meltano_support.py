"""Helpers for the Meltano tests: one shared plugin install, throwaway projects, PostgreSQL.

* :func:`installed_plugins` runs ``meltano install`` (once for all xdist workers, through a file
  lock, and only when ``meltano.yml`` or ``pyproject.toml`` changed) in
  ``.meltano/pytest-project/``, a copy of ``meltano.yml`` whose ``pip_url: -e .`` points at this
  checkout.
* :func:`new_project` makes a project in a temporary directory that reuses those plugin venvs
  (symlinked) but has its own system database, state and run files, so nothing leaks between
  tests.
* :class:`PostgresServer` starts a real PostgreSQL server in a temporary directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import filelock
import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from meltano_sandbox import (  # noqa: E402
    MELTANO,
    MeltanoError,
    MeltanoResult,
    change_the_books,
    records_moved,
    run_meltano,
    sandbox_env,
)

from xero_api.resources import ACCOUNTING, RESOURCES  # noqa: E402

__all__ = [
    "MELTANO",
    "MeltanoError",
    "MeltanoProject",
    "PostgresServer",
    "change_the_books",
    "dagster_env",
    "dagster_python",
    "expected_rows",
    "installed_plugins",
    "jsonl_lines",
    "new_project",
    "records_moved",
    "sandbox_env",
    "xero_get_all",
]

SHARED = REPO / ".meltano" / "pytest-project"
# Keep the sandbox generous: these tests are about composition, not Xero's rate limits.
SANDBOX_FLAGS: dict[str, Any] = {
    "tenants": 2,
    "scale": 12,
    "seed": 7,
    "minute_limit": 100_000,
    "day_limit": 1_000_000,
    "app_minute_limit": 1_000_000,
    "concurrent_limit": 50,
}


def _project_yaml() -> str:
    """``meltano.yml`` with ``pip_url: -e .`` pointing at this checkout."""
    text = (REPO / "meltano.yml").read_text(encoding="utf-8")
    return text.replace("pip_url: -e .\n", f"pip_url: -e {REPO}\n")


def installed_plugins() -> Path:
    """The shared ``.meltano`` directory, with every plugin installed.

    ``meltano install`` runs when ``meltano.yml`` or ``pyproject.toml`` changed since the last
    install (the project itself is installed editable, so code changes need none); all test
    workers wait on one lock, so it runs once.
    """
    SHARED.mkdir(parents=True, exist_ok=True)
    yaml = _project_yaml()
    wanted = hashlib.sha256(
        (yaml + (REPO / "pyproject.toml").read_text(encoding="utf-8")).encode()
    ).hexdigest()
    with filelock.FileLock(str(SHARED / "install.lock"), timeout=1800):
        stamp = SHARED / "installed"
        if stamp.exists() and stamp.read_text() == wanted:
            return SHARED / ".meltano"
        (SHARED / "meltano.yml").write_text(yaml, encoding="utf-8")
        run_meltano(
            ["install"],
            project=SHARED,
            env={"MELTANO_DATABASE_URI": f"sqlite:///{SHARED / 'install.db'}"},
            timeout=1500,
            log=SHARED / "install.log",
        )
        stamp.write_text(wanted)
    return SHARED / ".meltano"


DAGSTER_MELTANO = "dagster-meltano==1.5.5"
# The tenant sensor asks Xero for organisations, so the code location has singer-xero too.
DAGSTER_STAMP = f"{DAGSTER_MELTANO} -e {REPO}"


def dagster_env(project: MeltanoProject, **settings: str) -> dict[str, str]:
    """Environment for Dagster running ``project``'s Meltano: meltano from its venv and the
    checkout's console scripts (``xero-webhooks``) on PATH, environment ``sandbox``, plus
    ``settings`` (``XERO_LOADER``, ``XERO_TENANT_SHARDS``, ``DAGSTER_HOME``, ...)."""
    return {
        **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
        **project.env,
        "PATH": os.pathsep.join(
            [str(MELTANO.parent), str(REPO / ".venv" / "bin"), os.environ.get("PATH", "")]
        ),
        "MELTANO_PROJECT_ROOT": str(project.root),
        "MELTANO_ENVIRONMENT": "sandbox",
        **settings,
    }


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def dagster_python() -> Path:
    """Python of a venv with dagster-meltano and this checkout (made once, with the uv that
    Meltano ships)."""
    venv = REPO / ".meltano" / "pytest-dagster"
    python = venv / "bin" / "python"
    uv = MELTANO.with_name("uv")
    SHARED.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(SHARED / "dagster.lock"), timeout=900):
        stamp = venv / "installed"
        if stamp.exists() and stamp.read_text() == DAGSTER_STAMP:
            return python
        install = [str(uv), "pip", "install", "--quiet", "--python", str(python)]
        for argv in (
            [str(uv), "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(venv)],
            [*install, DAGSTER_MELTANO, "-e", str(REPO)],
        ):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()[-2000:]}")
        stamp.write_text(DAGSTER_STAMP)
    return python


class MeltanoProject:
    """A throwaway Meltano project in ``root``; commands run with ``env`` added."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self.env = dict(env)
        self.log = root / "meltano.log"

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 600
    ) -> MeltanoResult:
        """``meltano <args>``; a failure raises :class:`MeltanoError` with the log tail."""
        return run_meltano(
            args,
            project=self.root,
            env={**self.env, **(env or {})},
            timeout=timeout,
            log=self.log,
        )

    def popen(
        self, *args: str, env: Mapping[str, str] | None = None, own_group: bool = False
    ) -> subprocess.Popen[str]:
        """Start ``meltano <args>`` without waiting (output captured); ``own_group``: in a
        process group of its own, which ``os.killpg`` ends with its plugins."""
        full_env = {
            **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
            "MELTANO_PROJECT_ROOT": str(self.root),
            "NO_COLOR": "1",
            **self.env,
            **(env or {}),
        }
        return subprocess.Popen(
            [str(MELTANO), *args],
            cwd=self.root,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=own_group,
        )

    def state(self, state_id: str) -> dict[str, Any]:
        """The stored Singer state of ``state_id`` (``meltano state get``)."""
        out = self.run("state", "get", state_id).output
        start = out.index("{")
        state: dict[str, Any] = json.JSONDecoder().raw_decode(out[start:])[0]
        return state


def new_project(
    root: Path,
    *,
    sandbox_url: str,
    refresh_token: str | None,
    extra_env: Mapping[str, str] | None = None,
) -> MeltanoProject:
    """A project in ``root`` that reuses the shared plugin venvs and talks to the sandbox."""
    shared = installed_plugins()
    root.mkdir(parents=True, exist_ok=True)
    (root / "meltano.yml").write_text(_project_yaml(), encoding="utf-8")
    shutil.copytree(REPO / "examples", root / "examples", dirs_exist_ok=True)
    sys_dir = root / ".meltano"
    sys_dir.mkdir(exist_ok=True)
    for kind in ("extractors", "loaders"):
        (sys_dir / kind).symlink_to(shared / kind, target_is_directory=True)
    env = {
        # The venvs are shared and already installed: never reinstall from a test project.
        "MELTANO_AUTO_INSTALL": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{sys_dir / 'meltano.db'}",
        **sandbox_env(sandbox_url, root / "tokens", refresh_token),
        "TARGET_DUCKDB_FILEPATH": str(root / "output" / "warehouse.duckdb"),
        **(extra_env or {}),
    }
    (root / "output").mkdir(exist_ok=True)
    return MeltanoProject(root, env)


def target_xero_env(root: Path, tenant_id: str, *, fail_on_reject: bool) -> dict[str, str]:
    """target-xero writing into ``tenant_id``, its audit and rejects files in ``root/output``."""
    out = root / "output"
    env = {
        "TARGET_XERO_TENANT_ID": tenant_id,
        "TARGET_XERO_AUDIT_FILE": str(out / "audit.jsonl"),
        "TARGET_XERO_REJECTS_FILE": str(out / "rejects.jsonl"),
    }
    if fail_on_reject:
        env["TARGET_XERO_FAIL_ON_REJECT"] = "true"
    return env


def sandbox_call(
    sandbox: Any, base: str, method: str, path: str, body: Any = None, **params: str
) -> Any:
    """One call to the sandbox's first organisation, at ``base`` (an API's path) + ``path``."""
    answer = httpx.request(
        method,
        sandbox.url + base + path,
        json=body,
        params=params or None,
        headers=sandbox.headers(sandbox.tenant_ids()[0]),
        timeout=60,
    )
    answer.raise_for_status()
    return answer.json()


class RecipeRun:
    """An example recipe's tap run into target-xero by Meltano, writing into the sandbox's
    first organisation, failing on any reject."""

    def __init__(self, root: Path, sandbox: Any, scopes: str, tap: str) -> None:
        self.tap = tap
        self.out = root / "output"
        self.meltano = new_project(
            root,
            sandbox_url=sandbox.url,
            refresh_token=sandbox.authorize(scopes)["refresh_token"],
            extra_env=target_xero_env(root, sandbox.tenant_ids()[0], fail_on_reject=True),
        )
        self._seen = 0

    def load(self, *flags: str) -> list[dict[str, Any]]:
        """Runs the recipe once; the audit lines this run added."""
        self.meltano.run("run", *flags, self.tap, "target-xero")
        assert jsonl_lines(self.out / "rejects.jsonl") == []
        audit = jsonl_lines(self.out / "audit.jsonl")
        added, self._seen = audit[self._seen :], len(audit)
        return added


def jsonl_lines(path: Path) -> list[dict[str, Any]]:
    """The lines of a JSONL file a pipeline wrote (empty when it wrote none)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def xero_get_all(sandbox: Any, tenant: str, collection: str, **params: str) -> list[Any]:
    """Up to 1,000 documents of a collection in one sandbox organisation, straight over HTTP."""
    answer = httpx.get(
        f"{sandbox.url}/api.xro/2.0/{collection}",
        params={"page": "1", "pageSize": "1000", **params},
        headers=sandbox.headers(tenant),
        timeout=60,
    )
    answer.raise_for_status()
    found: list[Any] = answer.json()[collection]
    return found


def expected_rows(
    counts: Mapping[str, Mapping[str, int]],
) -> tuple[dict[str, dict[str, int]], set[str]]:
    """The sandbox's ``/_sandbox/counts`` as ``{stream: {tenant: rows}}`` (zeros left out).

    Also returns the streams the tap reads with includeArchived/includeDeleted: the sandbox
    counts what a default GET serves, so for those the tap may rightly load more.
    """
    accounting = [r for r in RESOURCES if r.api is ACCOUNTING]
    stream_of = {r.path: r.stream for r in accounting} | {r.envelope: r.stream for r in accounting}
    # Other APIs' collections are counted as `<api>/<last path segment>` (`projects/Tasks`).
    # (Rows taken from inside a settings object, PayItems' earnings rates, are not counted.)
    stream_of |= {
        f"{r.api.name}/{r.path.rsplit('/', 1)[-1]}": r.stream
        for r in RESOURCES
        if r.api is not ACCOUNTING and not (r.read.nested and r.read.parent is None)
    }
    stream_of["accounting/Attachments"] = "attachments"
    stream_of["payroll-au/Payslips"] = "payroll_payslips"  # read per pay run
    expected: dict[str, dict[str, int]] = {}
    for tenant, per_resource in counts.items():
        for name, rows in per_resource.items():
            stream = stream_of.get(name)
            if stream is not None and rows:
                expected.setdefault(stream, {})[tenant] = rows
    if "payroll_payslips" in expected:  # each payslip read whole: one record per payslip
        expected["payroll_payslip_details"] = dict(expected["payroll_payslips"])
    inclusive = {
        r.stream
        for r in RESOURCES
        if any(key in ("includeArchived", "includeDeleted") for key, _ in r.read.params)
    }
    return expected, inclusive


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin(name: str) -> Path:
    """A PostgreSQL server program from PATH or Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found on PATH or under /usr/lib/postgresql/*/bin; "
            "install the server (Debian: apt-get install postgresql; .ci/run does it)"
        )
    return candidates[-1]


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """A PostgreSQL server in a temporary directory, on a free loopback port.

    ``initdb`` refuses to run as root, so as root every server command runs as ``nobody`` in a
    directory owned by ``nobody``. Trust authentication on loopback only; the unix socket
    lives in the temporary directory.
    """

    user = "postgres"

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="singer-xero-pg-"))
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "sock"
        self.logfile = self.dir / "server.log"
        self.port = free_port()
        self.host = "127.0.0.1"
        self._as: list[str] = []
        self._started = False

    def _runas_prefix(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        nobody = pwd.getpwnam("nobody")
        for path in (self.dir, self.socket_dir):
            path.mkdir(exist_ok=True)
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", "nobody", "--"]
        return ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]

    def _run(self, argv: Sequence[str], what: str) -> None:
        done = subprocess.run(
            [*self._as, *argv],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.dir,
            timeout=120,
        )
        if done.returncode != 0:
            log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
            raise RuntimeError(
                f"PostgreSQL {what} failed ({done.returncode}): "
                f"{(done.stdout + done.stderr).strip()[-1500:]}\n{log[-1500:]}"
            )

    def start(self) -> PostgresServer:
        """initdb, then start the server and wait until it accepts connections."""
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._as = self._runas_prefix()
        self._run(
            [
                str(_pg_bin("initdb")),
                "-D",
                str(self.data),
                "-U",
                self.user,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            "initdb",
        )
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            [
                str(_pg_bin("pg_ctl")),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.logfile),
                "-w",
                "-t",
                "60",
                "start",
            ],
            "start",
        )
        self._started = True
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        if self._started:
            subprocess.run(
                [
                    *self._as,
                    str(_pg_bin("pg_ctl")),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
                timeout=120,
            )
            self._started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A psycopg connection URL."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def target_env(self, database: str) -> dict[str, str]:
        """target-postgres's settings (Meltano's environment variables) to load ``database``."""
        return {
            "TARGET_POSTGRES_HOST": self.host,
            "TARGET_POSTGRES_PORT": str(self.port),
            "TARGET_POSTGRES_USER": self.user,
            "TARGET_POSTGRES_PASSWORD": "trust-auth-ignores-it",
            "TARGET_POSTGRES_DATABASE": database,
        }

    def create_database(self, name: str) -> None:
        """CREATE DATABASE ``name``."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    """Poll ``predicate()`` until true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)

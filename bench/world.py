"""The bench's world: seeded sandbox databases (cached), running sandboxes, configs, the peer.

Databases are seeded once by ``xero-sandbox seed`` into ``bench/.work/db/`` and reused by later
runs. A run that needs Xero's real limits serves a fresh copy (the sandbox keeps day counters in
the database); runs with the limits lifted serve the cached file itself.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xero_sandbox.launcher import Sandbox

from .procs import child_env

__all__ = [
    "BENCH_DIR",
    "NO_LIMITS",
    "PEER_VERSION",
    "WORK",
    "Dataset",
    "calls_by_tenant",
    "ensure_peer",
    "peer_catalog",
    "peer_config",
    "serve",
    "tap_argv",
    "tap_catalog",
    "tap_config",
    "tap_executable",
    "target_config",
    "write_json",
]

BENCH_DIR = Path(__file__).resolve().parent
WORK = BENCH_DIR / ".work"
PEER_VERSION = "2.6.0"
START_DATE = "2000-01-01T00:00:00Z"

# Limits lifted (for CPU and memory runs): calls are never refused, so only the programs count.
NO_LIMITS: dict[str, Any] = {
    "minute_limit": 100_000_000,
    "day_limit": 1_000_000_000,
    "app_minute_limit": 100_000_000,
}


@dataclass(frozen=True)
class Dataset:
    """One seeded database: ``tenants`` Demo Companies of ``scale`` invoices, plus empty ones."""

    tenants: int
    scale: int
    empty_tenants: int = 0
    seed: int = 42

    @property
    def path(self) -> Path:
        """Where the cached database lives."""
        name = f"t{self.tenants}-e{self.empty_tenants}-n{self.scale}-s{self.seed}.db"
        return WORK / "db" / name

    def ensure(self, log: Any = print) -> Path:
        """Seed the database unless it is cached; return its path."""
        if self.path.exists():
            return self.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        log(f"seeding {self.path.name} (once; cached under bench/.work/db)")
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "xero_sandbox",
                "seed",
                "--db",
                str(partial),
                "--tenants",
                str(self.tenants),
                "--empty-tenants",
                str(self.empty_tenants),
                "--scale",
                str(self.scale),
                "--seed",
                str(self.seed),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        partial.rename(self.path)
        log(f"seeded {self.path.name} in {time.perf_counter() - started:.0f} s")
        return self.path


@contextmanager
def serve(dataset: Dataset, run_dir: Path, *, fresh: bool, **flags: Any) -> Iterator[Sandbox]:
    """Serve ``dataset`` (a fresh copy when ``fresh``) with ``flags``; stop it afterwards."""
    source = dataset.ensure()
    if fresh:
        run_dir.mkdir(parents=True, exist_ok=True)
        db = run_dir / "sandbox.db"
        shutil.copyfile(source, db)
    else:
        db = source
    sandbox = Sandbox(db=db, **flags)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
        if fresh:
            for leftover in run_dir.glob("sandbox.db*"):
                leftover.unlink(missing_ok=True)


def calls_by_tenant(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """API calls per tenant between two ``/_sandbox/stats`` snapshots."""

    def calls(snapshot: dict[str, Any]) -> dict[str, int]:
        return {t: int(v.get("calls", 0)) for t, v in snapshot.get("tenants", {}).items()}

    old, new = calls(before), calls(after)
    return {t: n - old.get(t, 0) for t, n in new.items() if n - old.get(t, 0)}


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON (mode 0600: configs hold sandbox secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    path.chmod(0o600)
    return path


def _connection(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "api_url": sandbox.url,
        "identity_url": sandbox.url,
        "login_url": sandbox.url,
    }


def tap_config(
    sandbox: Sandbox,
    run_dir: Path,
    tenant_ids: Sequence[str],
    page_size: int = 1000,
    name: str = "tap",
) -> Path:
    """Config of our tap: refresh_token mode (as the peer), a token store of its own.

    ``name`` keeps the files of two taps measured side by side (ours and a baseline) apart.
    """
    tokens = sandbox.authorize()
    config = {
        **_connection(sandbox),
        "auth_mode": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "token_store_path": str(run_dir / f"{name}-tokens.json"),
        "tenant_ids": list(tenant_ids),
        "start_date": START_DATE,
        "page_size": page_size,
    }
    return write_json(run_dir / f"{name}-config.json", config)


def target_config(sandbox: Sandbox, run_dir: Path, tenant_id: str) -> Path:
    """Config of our target, writing into ``tenant_id`` with an audit file."""
    tokens = sandbox.authorize()
    config = {
        **_connection(sandbox),
        "auth_mode": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "token_store_path": str(run_dir / "target-tokens.json"),
        "tenant_id": tenant_id,
        "audit_file": str(run_dir / "audit.jsonl"),
        "rejects_file": str(run_dir / "rejects.jsonl"),
        "batch_size": 50,
    }
    (run_dir / "audit.jsonl").unlink(missing_ok=True)
    (run_dir / "rejects.jsonl").unlink(missing_ok=True)
    return write_json(run_dir / "target-config.json", config)


def _label(streams: Sequence[str]) -> str:
    """A file-name part for a stream selection (every stream makes too long a name)."""
    joined = "-".join(streams)
    return joined if len(joined) <= 100 else f"{len(streams)}-streams"


def _select(catalog: dict[str, Any], streams: Sequence[str]) -> dict[str, Any]:
    for entry in catalog["streams"]:
        chosen = entry["tap_stream_id"] in streams
        metadata = entry.setdefault("metadata", [])
        top = next((m for m in metadata if not m.get("breadcrumb")), None)
        if top is None:
            top = {"breadcrumb": [], "metadata": {}}
            metadata.append(top)
        top["metadata"]["selected"] = chosen
    return catalog


def tap_catalog(
    config: Path, run_dir: Path, streams: Sequence[str], executable: str | None = None
) -> Path:
    """Discover the catalog of our tap (or of ``executable``) and select ``streams``."""
    tap = executable or tap_executable()
    # Discovery is also the warm-up: it writes the checkout's bytecode cache (child_env).
    out = subprocess.run(
        [tap, "--config", str(config), "--discover"],
        check=True,
        capture_output=True,
        env=child_env(),
    ).stdout
    catalog = _select(json.loads(out), streams)
    return write_json(run_dir / f"{config.stem}-catalog-{_label(streams)}.json", catalog)


def tap_executable() -> str:
    """Our tap's console script, beside the interpreter running the bench."""
    return str(Path(sys.executable).with_name("tap-xero"))


def tap_argv(config: Path, catalog: Path, executable: str | None = None) -> list[str]:
    """Command line of our tap (or of another checkout's ``executable``)."""
    tap = executable or tap_executable()
    return [tap, "--config", str(config), "--catalog", str(catalog)]


def target_argv(config: Path) -> list[str]:
    """Command line of our target."""
    return [str(Path(sys.executable).with_name("target-xero")), "--config", str(config)]


# -- the peer: singer-io/tap-xero 2.6.0 in a venv of its own ---------------------------------

PEER_VENV = WORK / "peer-venv"


def peer_python() -> Path:
    """The peer venv's interpreter."""
    return PEER_VENV / "bin" / "python"


PEER_DEPENDENCIES = ("singer-python", "requests", "python-dateutil", "simplejson", "backoff")


def peer_versions() -> str:
    """The versions of the peer's dependencies that pip resolved in its venv."""
    script = (
        "from importlib import metadata as m\n"
        f"for d in {PEER_DEPENDENCIES!r}:\n"
        "    try: print(d, m.version(d))\n"
        "    except m.PackageNotFoundError: print(d, '?')\n"
    )
    if not peer_python().exists():
        return "not installed"
    done = subprocess.run(
        [str(peer_python()), "-c", script], capture_output=True, text=True, check=False
    )
    return ", ".join(done.stdout.split("\n")[:-1]) or "?"


def ensure_peer(log: Any = print) -> Path:
    """Install tap-xero 2.6.0 and ``six`` (an undeclared dependency) into the peer venv."""
    stamp = PEER_VENV / f".tap-xero-{PEER_VERSION}"
    if stamp.exists():
        return peer_python()
    WORK.mkdir(parents=True, exist_ok=True)
    # Test workers may ask at once (the bench smoke test and the peer contract test): one
    # installs, the others wait for it instead of clearing the venv under it.
    with open(WORK / ".peer-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return peer_python()
        log(f"installing the peer (tap-xero=={PEER_VERSION}, six) into {PEER_VENV}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(peer_python()), "-m", "pip", "install", "-q", f"tap-xero=={PEER_VERSION}", "six"],
            check=True,
            capture_output=True,
        )
        stamp.touch()
    return peer_python()


def peer_argv(config: Path, catalog: Path | None = None, discover: bool = False) -> list[str]:
    """Command line of the peer through ``bench/peer_launcher.py``."""
    argv = [str(peer_python()), str(BENCH_DIR / "peer_launcher.py"), "--config", str(config)]
    if discover:
        argv.append("--discover")
    if catalog is not None:
        argv += ["--catalog", str(catalog)]
    return argv


def peer_env(sandbox: Sandbox) -> dict[str, str]:
    """Environment that points the peer launcher at ``sandbox``."""
    return {"BENCH_PEER_XERO_URL": sandbox.url}


def peer_config(sandbox: Sandbox, run_dir: Path, tenant_id: str) -> Path:
    """A temporary peer config (the peer rewrites it with each rotated refresh token)."""
    tokens = sandbox.authorize()
    config = {
        "start_date": START_DATE,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "tenant_id": tenant_id,
        "refresh_token": tokens["refresh_token"],
    }
    return write_json(run_dir / "peer-config.json", config)


def peer_catalog(sandbox: Sandbox, config: Path, run_dir: Path, streams: Sequence[str]) -> Path:
    """Discover the peer's catalog (it refreshes and calls /Currencies) and select ``streams``."""
    out = subprocess.run(
        peer_argv(config, discover=True),
        check=True,
        capture_output=True,
        env=child_env(peer_env(sandbox)),
    ).stdout
    catalog = _select(json.loads(out), streams)
    return write_json(run_dir / f"peer-catalog-{_label(streams)}.json", catalog)

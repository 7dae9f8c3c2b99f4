"""The seed writes the same world it always has: a small world's every table, digested per
table (and per resource), against the digests in ``seed_golden.json``.

Tests, the bench and users compare figures across runs and versions, so a change to the seed's
code must not change its output by accident. The digests may legitimately change when the seed
is meant to write something new (a field, a resource, another draw) or when a Python release
changes what ``random.Random`` draws; then refresh them and say why in the commit:

    .venv/bin/python tests/sandbox/test_sandbox_seed_golden.py
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path

from xero_sandbox.config import SandboxConfig
from xero_sandbox.seed import seed_if_empty
from xero_sandbox.store import Store

GOLDEN = Path(__file__).with_name("seed_golden.json")
# Two Demo Companies (one Australian, so Payroll AU too), an empty tenant, --overlap.
WORLD = SandboxConfig(tenants=2, empty_tenants=1, scale=60, seed=14, overlap=5, regions="NZ,AU")


def world_digests(directory: Path) -> dict[str, str]:
    """Seed ``WORLD`` under ``directory``; a sha256 of every table's rows (sorted) and, for the
    records table, of each resource's."""
    path = directory / "golden.db"
    store = Store(path)
    try:
        assert seed_if_empty(store, WORLD)
    finally:
        store.close()
    digests: dict[str, str] = {}
    with sqlite3.connect(path) as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in sorted(tables):
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            order = ", ".join(str(n) for n in range(1, len(columns) + 1))
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY {order}"):  # noqa: S608
                name = f"records/{row[1]}" if table == "records" else table
                digests.setdefault(name, hashlib.sha256(repr(columns).encode()).hexdigest())
                digest = hashlib.sha256((digests[name] + repr(row)).encode()).hexdigest()
                digests[name] = digest
    return dict(sorted(digests.items()))


def test_seed_writes_the_world_it_always_has(tmp_path: Path) -> None:
    expected = json.loads(GOLDEN.read_text())
    actual = world_digests(tmp_path)
    changed = sorted(
        name for name in expected.keys() | actual.keys() if expected.get(name) != actual.get(name)
    )
    assert not changed, (
        f"the seed now writes other {', '.join(changed)} (see this module's docstring)"
    )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        GOLDEN.write_text(json.dumps(world_digests(Path(directory)), indent=1) + "\n")
    print(f"wrote {GOLDEN}", file=sys.stderr)

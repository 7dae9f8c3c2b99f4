"""Start-up: what a run costs before any volume, ours beside the peer's.

Three commands each, whole process (the kernel's user + system CPU seconds and wall time):

- **no work**: ``tap-xero --about`` (ours) and ``tap-xero --help`` (the peer has no ``--about``;
  ``--help`` imports the whole package and exits), beside a bare ``python -c pass``;
- **discovery**: ``--discover`` (the peer refreshes its token and probes ``/Currencies``);
- **one small stream**: a sync of ``currencies`` (a few records) against the sandbox, token
  refresh included, as a scheduler's run of a small selection pays it.

Every command runs ``startup_repeats`` times, interleaved with the others.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from . import world
from .cases import Sizes
from .procs import Program, run_rounds, spread
from .world import NO_LIMITS, WORK, Dataset, serve

__all__ = ["SMALL_STREAM", "startup_case"]

SMALL_STREAM = "currencies"


def startup_case(
    sizes: Sizes, log: Callable[[str], None], baselines: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Whole-process CPU and wall seconds of ours, the baselines and the peer doing little."""
    taps = {"ours": world.tap_executable(), **(baselines or {})}
    run_dir = WORK / "runs" / "startup"
    run_dir.mkdir(parents=True, exist_ok=True)
    dataset = Dataset(1, sizes.calls_invoices, empty_tenants=1)
    with serve(dataset, run_dir, fresh=False, **NO_LIMITS) as sandbox:
        tenant = sandbox.tenant_ids()[0]
        peer_env = world.peer_env(sandbox)
        peer_config = world.peer_config(sandbox, run_dir, tenant)
        peer_catalog = world.peer_catalog(sandbox, peer_config, run_dir, (SMALL_STREAM,))
        programs = [
            Program("python -c pass", [sys.executable, "-c", "pass"]),
            Program("peer --help", [str(world.peer_python().with_name("tap-xero")), "--help"]),
            Program("peer --discover", world.peer_argv(peer_config, discover=True), peer_env),
            Program(
                f"peer sync {SMALL_STREAM}", world.peer_argv(peer_config, peer_catalog), peer_env
            ),
        ]
        for label, tap in taps.items():
            config = world.tap_config(sandbox, run_dir, [tenant], name=label)
            catalog = world.tap_catalog(config, run_dir, (SMALL_STREAM,), tap)
            programs += [
                Program(f"{label} --about", [tap, "--about"]),
                Program(f"{label} --discover", [tap, "--config", str(config), "--discover"]),
                Program(f"{label} sync {SMALL_STREAM}", world.tap_argv(config, catalog, tap)),
            ]
        runs = run_rounds(programs, sizes.startup_repeats, run_dir, log, "startup")
    return {
        "repeats": sizes.startup_repeats,
        "stream": SMALL_STREAM,
        "programs": {label: spread(measured) for label, measured in runs.items()},
    }

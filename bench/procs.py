"""Run one child process and measure it: wall time, CPU time, peak RSS and the records it wrote.

CPU comes from ``os.wait4`` (the kernel's own accounting of that child and the children it
waited for). Peak RSS is the child's ``VmHWM`` in ``/proc/PID/status``, read each time the
parent polls for the exit (every 20 ms): ``wait4``'s ``ru_maxrss`` is no measure of a child
spawned from a large parent, because Linux carries the parent's peak into the child's at
``exec`` (``python -c pass`` reports the bench's own ~85 MB there). Stdout, when counted, is read
in large chunks by a thread and only the Singer RECORD markers are counted, so the sink costs
almost nothing next to the tap.
"""

from __future__ import annotations

import math
import os
import re
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BenchProcessError",
    "Measured",
    "Program",
    "child_env",
    "run_measured",
    "run_rounds",
    "spread",
]

REPO = Path(__file__).resolve().parent.parent

_RECORD_MARKERS = (b'"type":"RECORD"', b'"type": "RECORD"')
_CHUNK = 1 << 20


class BenchProcessError(RuntimeError):
    """A measured program exited non-zero."""


@dataclass
class Measured:
    """What one run of a program cost and produced."""

    label: str
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mb: float
    records: int = 0
    first_record_s: float | None = None  # since start
    last_record_s: float | None = None
    cpu_at_first_record_s: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        """User plus system CPU seconds."""
        return self.user_s + self.sys_s

    @property
    def records_per_s(self) -> float:
        """Records per wall second over the whole run, start-up included."""
        return self.records / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def steady_records_per_s(self) -> float:
        """Records per wall second from the first record to the last (start-up excluded)."""
        if self.first_record_s is None or self.last_record_s is None or self.records < 2:
            return self.records_per_s
        span = self.last_record_s - self.first_record_s
        return self.records / span if span > 0 else self.records_per_s

    @property
    def steady_records_per_cpu_s(self) -> float:
        """Records per CPU second spent after the first record arrived."""
        if self.cpu_at_first_record_s is None:
            return self.records / self.cpu_s if self.cpu_s > 0 else 0.0
        spent = self.cpu_s - self.cpu_at_first_record_s
        return self.records / spent if spent > 0 else 0.0


class _RecordCounter:
    """Drains a pipe, counting Singer RECORD lines and noting when the first and last came."""

    def __init__(self, fd: int, started: float, pid: int, copy_to: Path | None) -> None:
        self.records = 0
        self.first: float | None = None
        self.last: float | None = None
        self.cpu_at_first: float | None = None
        self._fd = fd
        self._started = started
        self._pid = pid
        self._copy_to = copy_to
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        tail = b""
        sink = self._copy_to.open("wb") if self._copy_to else None
        try:
            while chunk := os.read(self._fd, _CHUNK):
                if sink is not None:
                    sink.write(chunk)
                # A marker may straddle two chunks: keep a short tail from the previous one.
                data = tail + chunk
                found = sum(data.count(marker) for marker in _RECORD_MARKERS)
                tail = data[-24:]
                found -= sum(tail.count(marker) for marker in _RECORD_MARKERS)
                if found:
                    now = time.perf_counter() - self._started
                    if self.first is None:
                        self.first = now
                        self.cpu_at_first = _cpu_seconds(self._pid)
                    self.last = now
                    self.records += found
            self.records += sum(tail.count(marker) for marker in _RECORD_MARKERS)
        finally:
            os.close(self._fd)
            if sink is not None:
                sink.close()

    def join(self) -> None:
        self._thread.join()


def _cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds of a running process, from /proc (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a measured program: ours, with ``extra``, caching bytecode.

    A ``PYTHONDONTWRITEBYTECODE`` inherited from the caller would make a checkout's modules
    compile from source at every start (a tenth of a small sync), while the peer's come from
    the ``.pyc`` files pip wrote: installed programs run from cached bytecode, so do these.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def run_measured(
    label: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin_path: Path | None = None,
    count_records: bool = True,
    copy_stdout_to: Path | None = None,
    stderr_path: Path | None = None,
    cwd: Path | None = None,
    timeout_s: float = 3600.0,
) -> Measured:
    """Run ``argv`` to completion and return its measurements; raise if it fails."""
    full_env = child_env(env)
    stdin = stdin_path.open("rb") if stdin_path else subprocess.DEVNULL
    stderr = stderr_path.open("wb") if stderr_path else subprocess.DEVNULL
    read_fd, write_fd = os.pipe() if count_records else (-1, -1)
    stdout: int = write_fd if count_records else subprocess.DEVNULL
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            list(argv), stdin=stdin, stdout=stdout, stderr=stderr, env=full_env, cwd=cwd
        )
        counter = None
        if count_records:
            os.close(write_fd)
            counter = _RecordCounter(read_fd, started, proc.pid, copy_stdout_to)
        status, usage, peak_kib = _wait(proc, timeout_s)
        wall = time.perf_counter() - started
        if counter is not None:
            counter.join()
    finally:
        if stdin_path and not isinstance(stdin, int):
            stdin.close()
        if stderr_path and not isinstance(stderr, int):
            stderr.close()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        where = f"; see {stderr_path}" if stderr_path else ""
        raise BenchProcessError(f"{label}: {argv[0]} exited with {code}{where}")
    return _measured(label, wall, usage, peak_kib, counter)


def _measured(
    label: str,
    wall: float,
    usage: resource.struct_rusage,
    peak_kib: int,
    counter: _RecordCounter | None,
) -> Measured:
    """A finished run's figures: the kernel's CPU and peak memory, the records it wrote."""
    measured = Measured(
        label=label,
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        max_rss_mb=(peak_kib or usage.ru_maxrss) / 1024.0,  # both in KiB on Linux
    )
    if counter is not None:
        measured.records = counter.records
        measured.first_record_s = counter.first
        measured.last_record_s = counter.last
        measured.cpu_at_first_record_s = counter.cpu_at_first
    return measured


def _wait(
    proc: subprocess.Popen[bytes], timeout_s: float
) -> tuple[int, resource.struct_rusage, int]:
    """Wait for ``proc``; return its status, its rusage and the last ``VmHWM`` read (KiB)."""
    deadline = time.monotonic() + timeout_s
    peak_kib = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            return status, usage, peak_kib
        peak_kib = max(peak_kib, _peak_rss_kib(proc.pid))
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            raise BenchProcessError(f"{proc.args!r} ran longer than {timeout_s:.0f} s; killed")
        time.sleep(0.02)


def _peak_rss_kib(pid: int) -> int:
    """The high-water mark of a running process's resident set (``VmHWM``), 0 if unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@dataclass(frozen=True)
class Program:
    """One program measured side by side with others: a label, its command line, its env."""

    label: str
    argv: list[str]
    env: dict[str, str] | None = None
    runs: int | None = None  # at most this many rounds (None: every round)


def run_rounds(
    programs: Sequence[Program],
    repeats: int,
    run_dir: Path,
    log: Callable[[str], None],
    what: str,
) -> dict[str, list[Measured]]:
    """Run every program ``repeats`` times, interleaved, so machine noise falls on all alike.

    Each round starts one program later than the last (floor, ours, peer; then ours, peer,
    floor; ...), so no program always runs first after an idle sandbox or last on a warm one.
    """
    programs = [p for p in programs if p.runs != 0]
    runs: dict[str, list[Measured]] = {p.label: [] for p in programs}
    for round_ in range(repeats):
        shift = round_ % len(programs)
        for program in [*programs[shift:], *programs[:shift]]:
            if program.runs is not None and len(runs[program.label]) >= program.runs:
                continue
            measured = run_measured(
                program.label,
                program.argv,
                env=program.env,
                stderr_path=run_dir / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', program.label)}.log",
                cwd=REPO,
            )
            runs[program.label].append(measured)
            log(
                f"{what}: {program.label} {measured.records:,} records, "
                f"{measured.cpu_s:.2f} CPU s, {measured.wall_s:.2f} wall s"
            )
    return runs


def spread(runs: Sequence[Measured]) -> dict[str, Any]:
    """Best, median and worst whole-process CPU seconds of a program's runs, and more."""
    cpu = sorted(m.cpu_s for m in runs)
    best = min(runs, key=lambda m: m.cpu_s)
    return {
        "runs": len(runs),
        "records": best.records,
        "cpu_s": [round(c, 3) for c in cpu],
        "best_cpu_s": round(cpu[0], 3),
        "median_cpu_s": round(statistics.median(cpu), 3),
        "worst_cpu_s": round(cpu[-1], 3),
        "spread": round((cpu[-1] - cpu[0]) / cpu[0], 3) if cpu[0] > 0 else math.nan,
        "best_wall_s": round(min(m.wall_s for m in runs), 3),
        "median_wall_s": round(statistics.median(m.wall_s for m in runs), 3),
        # CPU spent before the first RECORD line left the program (start-up, discovery,
        # authentication, the first page), in the run with the least CPU.
        "cpu_to_first_record_s": None
        if best.cpu_at_first_record_s is None
        else round(best.cpu_at_first_record_s, 3),
        "max_rss_mb": round(max(m.max_rss_mb for m in runs), 1),
    }

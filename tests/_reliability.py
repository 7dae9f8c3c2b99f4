"""Reliability scenarios shared by the ``test_reliability_*`` tests and the reliability report.

Each scenario starts its own sandbox(es), runs the real ``tap-xero`` / ``target-xero`` processes
against them and returns :class:`Figures`: how many records went through, how many faults the
sandbox injected, how many retries the client made, and how many records were lost, duplicated
or leaked. Everything is seeded: the same arguments give the same faults and the same kill points.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests._tap_support import RELAXED, refresh_token_config, write_inputs
from tests._target_support import TARGET, Org, OrgPool, read_jsonl
from xero_api.codec import encode_json
from xero_api.event_queue import EventQueue
from xero_sandbox.launcher import Sandbox

# Stream -> primary key of the tap's records (TenantID completes every key).
TAP_KEYS = {"invoices": "InvoiceID", "journals": "JournalID", "contacts": "ContactID"}
# Slow responses last 120 sandbox seconds: 0.2 s here. Tokens live 3 s, so early and
# regular expiry both happen many times in a run.
TIME_SCALE = 600
LIMITS: dict[str, Any] = {**RELAXED, "concurrent_limit": 100}
# Planted so that a leak is unmistakable: every scenario's sandbox uses this client secret.
PLANTED_SECRET = "planted-client-secret-0a9f3e7c51"
PLANTED_WEBHOOK_KEY = "planted-webhook-key-b84d2c6e"


def stored_secrets(*stores: Path) -> list[str]:
    """Every token a token store holds (current, access and the one it was rotated from)."""
    found = []
    for store in stores:
        if store.exists():
            data = json.loads(store.read_text())
            for name in ("refresh_token", "access_token", "previous_refresh_token"):
                if data.get(name):
                    found.append(str(data[name]))
    return found


def count_leaks(paths: list[Path], secrets: list[str], *texts: str) -> int:
    """Occurrences of any secret in the files (and texts) a run produced."""
    needles = [s.encode() for s in secrets if s]
    leaks = 0
    for path in paths:
        if path.is_file():
            data = path.read_bytes()
            leaks += sum(data.count(n) for n in needles)
    for text in texts:
        leaks += sum(text.encode().count(n) for n in needles)
    return leaks


def outputs(workdir: Path) -> list[Path]:
    """Every file a run wrote under ``workdir``, except its inputs (configs) and token stores
    (which hold tokens by design, mode 0600), and the sandbox database."""
    skip = ("config.json", "tokens.json", ".lock", ".db", ".db-wal", ".db-shm", "state.json")
    return [p for p in sorted(workdir.rglob("*")) if p.is_file() and not p.name.endswith(skip)]


@dataclass
class Figures:
    """The outcome of one scenario, as the reliability table shows it."""

    scenario: str
    records: int
    faults_injected: int = 0
    retries: int = 0
    lost: int = 0
    duplicated: int = 0
    leaked: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------ tap output
@dataclass
class TapOutput:
    """Digest of a tap's stdout: content hash per record key, duplicates, states."""

    hashes: dict[tuple[str, str, str], str] = field(default_factory=dict)
    duplicates: int = 0
    emitted: int = 0
    states: list[dict[str, Any]] = field(default_factory=list)

    def add_line(self, line: str) -> None:
        """Take one complete Singer line (a line cut short by a kill is not complete)."""
        try:
            message = json.loads(line, parse_float=Decimal)
        except ValueError:
            return
        kind = message.get("type")
        if kind == "STATE":
            self.states.append(message["value"])
        elif kind == "RECORD":
            stream = message["stream"]
            record = message["record"]
            key = (stream, str(record.get("TenantID")), str(record[TAP_KEYS[stream]]))
            digest = hashlib.sha256(
                json.dumps(record, sort_keys=True, default=str).encode()
            ).hexdigest()
            self.emitted += 1
            if key in self.hashes:
                self.duplicates += 1
            self.hashes[key] = digest


def usage_retries(stderr: str) -> int:
    """Retries (5xx, dropped, 401 renewals) plus 429 waits from the client's usage lines."""
    retries = sum(int(n) for n in re.findall(r"\bretries=(\d+)", stderr))
    limited = sum(int(n) for n in re.findall(r"\brate_limited=(\d+)", stderr))
    return retries + limited


def injected(stats: dict[str, Any]) -> int:
    """Faults the sandbox injected, all tenants together."""
    return int(sum(stats.get("faults", {}).values()))


def run_tap_to_file(
    workdir: Path, config: dict[str, Any], streams: list[str], state: dict[str, Any] | None = None
) -> tuple[TapOutput, str]:
    """Run tap-xero to completion with stdout in a file; digest it. Fails on a non-zero exit."""
    argv = write_inputs(workdir, config, streams, state)
    out_path, err_path = workdir / "stdout.singer", workdir / "stderr.log"
    with out_path.open("w") as out, err_path.open("w") as err:
        code = subprocess.run(argv, stdout=out, stderr=err, timeout=1200, check=False).returncode
    stderr = err_path.read_text()
    if code != 0:
        raise AssertionError(f"tap-xero exited {code}:\n{stderr[-3000:]}")
    digest = TapOutput()
    with out_path.open() as lines:
        for line in lines:
            digest.add_line(line)
    return digest, stderr


def compare(clean: TapOutput, other: TapOutput) -> tuple[int, int]:
    """(lost, changed): keys of the clean run missing from ``other``, and keys whose content
    differs. Keys ``other`` has that the clean run lacks count as changed too."""
    lost = len(clean.hashes.keys() - other.hashes.keys())
    changed = sum(1 for k, h in other.hashes.items() if clean.hashes.get(k) != h)
    return lost, changed


# ------------------------------------------------------------------------------ §1 tap faults
def tap_under_faults(
    workdir: Path, *, scale: int = 17_500, seed: int = 11, fault_rate: float = 0.1
) -> Figures:
    """A clean sync, then the same sync at ``fault_rate``: compared by key and content."""
    streams = list(TAP_KEYS)
    workdir.mkdir(parents=True, exist_ok=True)
    with Sandbox(
        db=workdir / "world.db",
        tenants=2,
        scale=scale,
        seed=seed,
        time_scale=TIME_SCALE,
        client_secret=PLANTED_SECRET,
        **LIMITS,
    ) as sb:
        config = refresh_token_config(sb, workdir / "clean-tokens.json", page_size=1000)
        clean, _ = run_tap_to_file(workdir / "clean", config, streams)
        sb.flags["fault_rate"] = fault_rate
        sb.restart()
        config = refresh_token_config(
            sb, workdir / "faulty-tokens.json", page_size=1000, max_retries=15
        )
        faulty, stderr = run_tap_to_file(workdir / "faulty", config, streams)
        stats = sb.stats()
    secrets = [PLANTED_SECRET, config["refresh_token"]]
    secrets += stored_secrets(workdir / "clean-tokens.json", workdir / "faulty-tokens.json")
    lost, changed = compare(clean, faulty)
    return Figures(
        "tap sync, 10% faults",
        records=len(clean.hashes),
        faults_injected=injected(stats),
        retries=usage_retries(stderr),
        lost=lost + changed,
        duplicated=faulty.duplicates + clean.duplicates,
        leaked=count_leaks(outputs(workdir), secrets),
        notes={
            "faulty_records": len(faulty.hashes),
            "changed": changed,
            "fault_kinds": stats.get("faults", {}),
            "by_stream": dict(Counter(k[0] for k in clean.hashes)),
        },
    )


# ------------------------------------------------------------------------------ §2 tap crashes
def tap_killed_and_resumed(
    workdir: Path, *, kills: int = 20, seed: int = 23, scale: int = 1_200
) -> Figures:
    """SIGKILL the tap at ``kills`` seeded points; each run resumes from the last STATE line
    read in full (what a target would have emitted after persisting the records before it)."""
    streams = list(TAP_KEYS)
    rng = random.Random(f"tap kills {seed}")
    workdir.mkdir(parents=True, exist_ok=True)
    with Sandbox(tenants=1, scale=scale, seed=seed, latency_ms=5, **LIMITS) as sb:
        config = refresh_token_config(sb, workdir / "tokens.json", page_size=100)
        clean, _ = run_tap_to_file(workdir / "clean", config, streams)
        union = TapOutput()
        state: dict[str, Any] | None = None
        killed = 0
        attempt = 0
        while killed < kills:
            attempt += 1
            if attempt > kills * 3:
                raise AssertionError("the tap kept finishing before it could be killed")
            run_dir = workdir / f"run-{attempt:02d}"
            argv = write_inputs(run_dir, config, streams, state)
            kill_after = rng.randint(1, 400)
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            assert proc.stdout is not None
            # Only records followed by a STATE count as delivered: a target persists them
            # before it emits that STATE. Records after the last STATE are lost with the kill.
            since_state = TapOutput()
            for lines, line in enumerate(proc.stdout, start=1):
                if not line.endswith("\n"):
                    break  # cut short: a target never saw it
                since_state.add_line(line)
                if since_state.states:
                    for key, digest in since_state.hashes.items():
                        union.duplicates += key in union.hashes
                        union.hashes[key] = digest
                    state = since_state.states[-1]
                    since_state = TapOutput()
                if lines >= kill_after:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
            proc.stdout.close()
            proc.wait()
            if proc.returncode == -signal.SIGKILL:
                killed += 1
        final, _ = run_tap_to_file(workdir / "final", config, streams, state)
        reemitted = union.duplicates
        for key, digest in final.hashes.items():
            reemitted += key in union.hashes
            union.hashes[key] = digest
    lost, changed = compare(clean, union)
    return Figures(
        f"tap SIGKILLed {killed}x, resumed",
        records=len(clean.hashes),
        lost=lost + changed,
        duplicated=0,  # the union is keyed: what counts is that nothing is missing or different
        notes={"kills": killed, "runs": attempt + 1, "re_emitted_after_resume": reemitted},
    )


# ------------------------------------------------------------------------------ target input
def schema_message(stream: str) -> dict[str, Any]:
    """The committed schema of a stream as a SCHEMA message."""
    path = Path(__file__).parents[1] / "schemas" / f"{stream}.json"
    return {
        "type": "SCHEMA",
        "stream": stream,
        "key_properties": [],
        "schema": json.loads(path.read_text()),
    }


def target_input(path: Path, *, contacts: int, invoices: int, prefix: str, bad: int = 0) -> int:
    """Write a load of contacts and invoices (each invoice on one of the contacts); ``bad``
    invoices name a contact that exists nowhere. Returns the number of RECORD lines."""
    rng = random.Random(f"target input {prefix}")
    messages: list[dict[str, Any]] = [schema_message("contacts"), schema_message("invoices")]
    for n in range(contacts):
        messages.append(
            {
                "type": "RECORD",
                "stream": "contacts",
                "record": {"Name": f"{prefix} Contact {n:05d}", "ContactNumber": f"{prefix}-C{n}"},
            }
        )
    messages.append({"type": "STATE", "value": {"bookmarks": {"load": {"contacts": contacts}}}})
    for n in range(invoices + bad):
        contact = (
            {"ContactNumber": f"{prefix}-C{rng.randrange(contacts)}"}
            if n < invoices
            else {"Name": f"{prefix} Nobody {n}"}
        )
        messages.append(
            {
                "type": "RECORD",
                "stream": "invoices",
                "record": {
                    "Type": "ACCREC",
                    "InvoiceNumber": f"{prefix}-I{n:06d}",
                    "Contact": contact,
                    "Date": "2026-10-01T00:00:00.000000+00:00",
                    "DueDate": "2026-10-31T00:00:00.000000+00:00",
                    "Status": "AUTHORISED" if n % 3 == 0 else "DRAFT",
                    "LineAmountTypes": "Exclusive",
                    "LineItems": [
                        {
                            "Description": f"item {n}",
                            "Quantity": Decimal(1 + n % 4),
                            "UnitAmount": Decimal(rng.randint(100, 99_999)) / 100,
                            "AccountCode": "200",
                        }
                    ],
                },
            }
        )
        if n % 500 == 499:
            messages.append({"type": "STATE", "value": {"bookmarks": {"load": {"invoices": n}}}})
    path.write_bytes(b"".join(encode_json(m) + b"\n" for m in messages))
    return contacts + invoices + bad


@dataclass
class LoadCheck:
    """What the organisation holds after loads of :func:`target_input`."""

    duplicated: int
    missing: int
    rejected: int
    covered: bool


def check_load(
    org: Org,
    prefix: str,
    *,
    contacts: int,
    invoices: int,
    bad: int,
    audit: list[Any],
    rejects: list[Any],
    one_run: bool = True,
) -> LoadCheck:
    """Every good record exactly once in Xero, every bad one rejected with a reason, and the
    audit and rejects files together accounting for every input record."""
    numbers = Counter(
        i["InvoiceNumber"]
        for i in org.all(
            "Invoices", "Invoices", pageSize="1000", where=f'InvoiceNumber.StartsWith("{prefix}-I")'
        )
    )
    names = Counter(
        c["Name"]
        for c in org.all(
            "Contacts", "Contacts", pageSize="1000", where=f'Name.StartsWith("{prefix} Contact")'
        )
    )
    wanted_invoices = {f"{prefix}-I{n:06d}" for n in range(invoices)}
    wanted_contacts = {f"{prefix} Contact {n:05d}" for n in range(contacts)}
    duplicated = sum(c - 1 for c in numbers.values()) + sum(c - 1 for c in names.values())
    missing = len(wanted_invoices - numbers.keys()) + len(wanted_contacts - names.keys())
    stray = set(numbers) - wanted_invoices
    rejected_numbers = {r["record"].get("InvoiceNumber") for r in rejects if r.get("reasons")}
    bad_numbers = {f"{prefix}-I{n:06d}" for n in range(invoices, invoices + bad)}
    per_stream = Counter(a["stream"] for a in audit) + Counter(r["stream"] for r in rejects)
    covered = (
        bad_numbers <= rejected_numbers
        and not stray
        # One run: one audit or reject line per record, no more (a retry is not a new line).
        # Replays append theirs to the same files, so there it is at least one per record.
        and (per_stream["contacts"] == contacts or not one_run)
        and (per_stream["invoices"] == invoices + bad or not one_run)
        and per_stream["contacts"] >= contacts
        and per_stream["invoices"] >= invoices + bad
    )
    return LoadCheck(duplicated, missing + len(stray), len(rejected_numbers), covered)


# ------------------------------------------------------------------------------ §1 target faults
def target_under_faults(
    workdir: Path, *, contacts: int = 1_000, invoices: int = 9_000, bad: int = 10, seed: int = 5
) -> Figures:
    """Load ``contacts + invoices + bad`` records at a 10% fault rate; every record is written
    once or rejected with a reason."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "load.singer"
    total = target_input(data, contacts=contacts, invoices=invoices, prefix="RF", bad=bad)
    with Sandbox(
        tenants=1,
        empty_tenants=1,
        scale=5,
        seed=seed,
        fault_rate=0.1,
        time_scale=TIME_SCALE,
        client_secret=PLANTED_SECRET,
        **LIMITS,
    ) as sb:
        org = OrgPool(sb).take()
        config = org.refresh_config(workdir, batch_size=50, max_retries=15)
        run = _run_target(config, workdir, data)
        if run[0] != 0:
            raise AssertionError(f"target-xero exited {run[0]}:\n{run[2][-3000:]}")
        audit = read_jsonl(Path(config["audit_file"]))
        rejects = read_jsonl(Path(config["rejects_file"]))
        check = check_load(
            org, "RF", contacts=contacts, invoices=invoices, bad=bad, audit=audit, rejects=rejects
        )
        stats = sb.stats()
    secrets = [PLANTED_SECRET, config["refresh_token"], *stored_secrets(workdir / "tokens.json")]
    return Figures(
        "target load, 10% faults",
        records=total,
        faults_injected=injected(stats),
        retries=usage_retries(run[2]),
        lost=check.missing + (0 if check.covered else 1),
        duplicated=check.duplicated,
        leaked=count_leaks(outputs(workdir), secrets, run[1], run[2]),
        notes={"rejected_with_reason": check.rejected, "covered": check.covered},
    )


def _run_target(config: dict[str, Any], workdir: Path, data: Path) -> tuple[int, str, str]:
    config_path = workdir / "target-config.json"
    config_path.write_text(json.dumps(config))
    with data.open() as stdin:
        done = subprocess.run(
            [TARGET, "--config", str(config_path)],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    return done.returncode, done.stdout, done.stderr


# ------------------------------------------------------------------------------ §2 target crashes
def target_killed_and_replayed(
    workdir: Path, *, kills: int = 5, seed: int = 31, contacts: int = 60, invoices: int = 240
) -> Figures:
    """SIGKILL the target at ``kills`` seeded points mid-batch, re-running the same input each
    time, then once to the end: no document is in the organisation twice."""
    rng = random.Random(f"target kills {seed}")
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "load.singer"
    total = target_input(data, contacts=contacts, invoices=invoices, prefix="RK")
    with Sandbox(tenants=1, empty_tenants=1, scale=5, seed=seed, latency_ms=30, **LIMITS) as sb:
        org = OrgPool(sb).take()
        config = org.config(workdir, batch_size=10)
        config_path = workdir / "target-config.json"
        config_path.write_text(json.dumps(config))
        audit_path = Path(config["audit_file"])
        killed = 0
        for _ in range(kills):
            before = len(read_jsonl(audit_path))
            kill_at = before + rng.randint(1, 25)
            with data.open() as stdin:
                proc = subprocess.Popen(
                    [TARGET, "--config", str(config_path)],
                    stdin=stdin,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                deadline = time.monotonic() + 300
                while len(read_jsonl(audit_path)) < kill_at and proc.poll() is None:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    killed += 1
                proc.wait()
        code, _, stderr = _run_target(config, workdir, data)
        if code != 0:
            raise AssertionError(f"target-xero exited {code}:\n{stderr[-3000:]}")
        audit = read_jsonl(audit_path)
        rejects = read_jsonl(Path(config["rejects_file"]))
        check = check_load(
            org,
            "RK",
            contacts=contacts,
            invoices=invoices,
            bad=0,
            audit=audit,
            rejects=rejects,
            one_run=False,
        )
    return Figures(
        f"target SIGKILLed {killed}x, replayed",
        records=total,
        lost=check.missing + len(rejects),
        duplicated=check.duplicated,
        notes={"kills": killed},
    )


# ------------------------------------------------------------------------------ §5 secrets
@dataclass
class SecretsRun:
    """What :func:`secrets_scan` saw: the figures, plus what a test wants to look at."""

    figures: Figures
    secrets: list[str]
    scanned: list[Path]
    store_modes: dict[str, int]
    failure_messages: list[str]


def secrets_scan(workdir: Path, *, seed: int = 3) -> SecretsRun:
    """Plant a client secret and a webhook key, run tap-xero into target-xero through faults
    and token rotations (tokens live 3 s here), plus runs that fail on a bad token; then look
    for every secret in every output: stdout (records and STATE), stderr, audit, rejects,
    webhook deliveries and error messages."""
    import stat

    from tests._webhooks_support import Receiver

    workdir.mkdir(parents=True, exist_ok=True)
    receiver = Receiver(queue=str(workdir / "webhooks-queue.db"), key=PLANTED_WEBHOOK_KEY).start()
    hook_url = receiver.url
    events: list[dict[str, Any]] = []
    bad_refresh = "planted-dead-refresh-token-77c1e0"
    bad_access = "planted-dead-access-token-3b9a41"
    failures: list[str] = []
    try:
        with Sandbox(
            tenants=1,
            empty_tenants=1,
            scale=40,
            seed=seed,
            time_scale=TIME_SCALE,
            fault_rate=0.1,
            client_secret=PLANTED_SECRET,
            webhook_url=hook_url,
            webhook_key=PLANTED_WEBHOOK_KEY,
            **LIMITS,
        ) as sb:
            demo = sb.tenant_ids()[0]
            tap_config = refresh_token_config(
                sb, workdir / "tap-tokens.json", tenant_ids=[demo], max_retries=15
            )
            streams = ["contacts", "invoices"]
            tap_out, tap_err = run_tap_to_file(workdir / "tap", tap_config, streams)
            data = workdir / "tap" / "stdout.singer"
            # One record the target must reject, so the rejects file has something in it.
            with data.open("a") as extra:
                bad = {"Type": "ACCREC", "InvoiceNumber": "LEAK-BAD", "Date": "31/12/2026"}
                extra.write(json.dumps({"type": "RECORD", "stream": "invoices", "record": bad}))
                extra.write("\n")
            org = OrgPool(sb).take()
            target_dir = workdir / "target"
            target_dir.mkdir()
            target_config = org.refresh_config(target_dir, batch_size=20, max_retries=15)
            code, target_out, target_err = _run_target(target_config, target_dir, data)
            if code != 0:
                raise AssertionError(f"target-xero exited {code}:\n{target_err[-3000:]}")
            (target_dir / "stdout.txt").write_text(target_out)
            (target_dir / "stderr.txt").write_text(target_err)
            # Runs that fail on a dead token: their messages must not quote it.
            dead = {**target_config, "refresh_token": bad_refresh}
            dead["token_store_path"] = str(workdir / "dead" / "tokens.json")
            (workdir / "dead").mkdir()
            code, out, err = _run_target(dead, workdir / "dead", data)
            failures.append(err.strip().splitlines()[-1] if err.strip() else "")
            (workdir / "dead" / "stderr.txt").write_text(out + err)
            tap_dead = {**tap_config, "auth_mode": "access_token", "access_token": bad_access}
            del tap_dead["refresh_token"]
            done = subprocess.run(
                write_inputs(workdir / "tap-dead", tap_dead, ["contacts"]),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            failures.append(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "")
            (workdir / "tap-dead" / "stderr.txt").write_text(done.stdout + done.stderr)
            stats = sb.stats()
            deadline = time.monotonic() + 30
            while not events and time.monotonic() < deadline:
                time.sleep(0.1)  # the sandbox batches webhook events for 5 sandbox seconds
                with EventQueue(receiver.queue) as queue:
                    events = [vars(event) for _, event in queue.all_events()]
            (workdir / "webhook-events.json").write_text(json.dumps(events))
    finally:
        receiver.stop()
        (workdir / "webhooks-stderr.txt").write_text(receiver.stderr.read_text())
    stores = [workdir / "tap-tokens.json", workdir / "target" / "tokens.json"]
    secrets = [
        PLANTED_SECRET,
        PLANTED_WEBHOOK_KEY,
        bad_refresh,
        bad_access,
        tap_config["refresh_token"],
        target_config["refresh_token"],
        *stored_secrets(*stores),
    ]
    scanned = outputs(workdir)
    leaked = count_leaks(scanned, secrets, *failures, tap_err)
    modes = {str(p): stat.S_IMODE(p.stat().st_mode) for p in stores if p.exists()}
    figures = Figures(
        "secrets planted, tap -> target",
        records=tap_out.emitted,
        faults_injected=injected(stats),
        retries=usage_retries(tap_err + target_err),
        leaked=leaked,
        notes={"secrets": len(set(secrets)), "files_scanned": len(scanned), "events": len(events)},
    )
    return SecretsRun(figures, secrets, scanned, modes, failures)


# ------------------------------------------------------------------------------ §3 tokens
def shared_token_store(
    workdir: Path, *, processes: int = 10, refreshes: int = 1_000, timeout: float = 900
) -> Figures:
    """``processes`` processes force refreshes through one token store until it is
    ``refreshes`` generations further (the worker of ``test_client_sandbox``); a spent token
    reused would come back as invalid_grant. Unlike that test, the config carries the initial
    refresh token, as a Meltano config regenerated for every run does."""
    from tests.api.test_client_sandbox import _WORKER
    from xero_api import XeroClient, XeroSettings
    from xero_api.token_store import TokenStore

    workdir.mkdir(parents=True, exist_ok=True)
    store_path = workdir / "tokens.json"
    with Sandbox(tenants=1, scale=5, client_secret=PLANTED_SECRET, **LIMITS) as sb:
        config = refresh_token_config(sb, store_path, max_retries=8)
        with XeroClient(XeroSettings.from_config(config)) as client:
            client.tenant_ids()  # fills the store
        start = TokenStore(store_path).read()
        assert start is not None
        goal = start.generation + refreshes
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, json.dumps(config), str(goal)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        errors = invalid_grants = 0
        stderr = ""
        deadline = time.monotonic() + timeout
        for worker in workers:
            try:
                out, err = worker.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()  # the store never got there (e.g. it kept being reset)
                out, err = worker.communicate()
            stderr += err
            invalid_grants += err.count("invalid_grant")
            lines = out.strip().splitlines()
            errors += json.loads(lines[-1])["errors"] if lines and lines[-1][:1] == "{" else 1
            errors += worker.returncode != 0
        end = TokenStore(store_path).read()
        assert end is not None
        issued = int(sb.stats().get("tokens_issued", {}).get("refresh_token", 0))
    secrets = [PLANTED_SECRET, config["refresh_token"], *stored_secrets(store_path)]
    return Figures(
        f"token store, {processes} processes",
        records=end.generation - start.generation,
        lost=invalid_grants + errors + (end.generation < goal),
        leaked=count_leaks([], secrets, stderr),
        notes={"refreshes_issued": issued, "invalid_grant": invalid_grants, "errors": errors},
    )


def iter_figures(workdir: Path) -> Iterator[Figures]:
    """Every reliability scenario in turn (the report's order)."""
    yield tap_under_faults(workdir / "tap-faults")
    yield target_under_faults(workdir / "target-faults")
    yield tap_killed_and_resumed(workdir / "tap-kills")
    yield target_killed_and_replayed(workdir / "target-kills")
    yield shared_token_store(workdir / "tokens-2", processes=2)
    yield shared_token_store(workdir / "tokens-10", processes=10)
    yield secrets_scan(workdir / "secrets").figures


if __name__ == "__main__":  # pragma: no cover - a manual probe of one scenario
    name = sys.argv[1]
    print(globals()[name](Path(sys.argv[2])))

"""A real ``xero-webhooks serve`` subprocess for tests and benchmarks, and sandbox helpers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from typing import Any

import httpx

from xero_sandbox.launcher import Sandbox

_READY = "xero-webhooks listening on "
KEY = "receiver-test-key-5d2c81"


class Receiver:
    """``xero-webhooks serve`` on loopback; ``kill()`` is ``kill -9``, ``restart()`` reuses the
    port and queue."""

    def __init__(self, queue: str | None = None, key: str = KEY, **flags: Any) -> None:
        self._tmp = tempfile.mkdtemp(prefix="xero-webhooks-")
        self.queue = queue or str(Path(self._tmp) / "queue.db")
        self.key = key
        self.flags = flags
        self.port = 0
        self.url = ""
        self.base = ""
        self._proc: subprocess.Popen[str] | None = None
        self.stderr = Path(self._tmp) / "stderr.log"

    def start(self) -> Receiver:
        """Start and wait until it listens."""
        argv = [sys.executable, "-m", "xero_webhooks", "serve", "--port", str(self.port)]
        argv += ["--queue", self.queue]
        for name, value in self.flags.items():
            argv += ["--" + name.replace("_", "-"), str(value)]
        env = {**os.environ, "XERO_WEBHOOK_KEY": self.key}
        with self.stderr.open("a", encoding="utf-8") as log:
            self._proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=log, text=True, env=env
            )
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self._proc.stdout.readline() if self._proc else ""),
            daemon=True,
        )
        reader.start()
        reader.join(60)
        if not line or not line[0].startswith(_READY):
            self.kill()
            raise RuntimeError(f"xero-webhooks did not start: {self.stderr.read_text()[-2000:]}")
        self.url = line[0][len(_READY) :].strip()
        self.base = self.url.rsplit("/", 1)[0]
        self.port = int(self.base.rsplit(":", 1)[1])
        return self

    @property
    def pid(self) -> int:
        """The server's process ID."""
        assert self._proc is not None
        return self._proc.pid

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flush."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(30)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None

    def stop(self) -> None:
        """Graceful stop (SIGTERM)."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(30)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None

    def restart(self) -> Receiver:
        """Start again on the same port and queue."""
        return self.start()

    def metrics(self) -> dict[str, float]:
        """``/metrics`` parsed to {sample name with labels: value}."""
        text = httpx.get(f"{self.base}/metrics", timeout=10).text
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: types.TracebackType
    ) -> None:
        self.stop()


def sandbox_for(receiver: Receiver, **flags: Any) -> Sandbox:
    """A sandbox that delivers its webhooks to ``receiver`` (limits out of the way)."""
    defaults: dict[str, Any] = {
        "tenants": 1,
        "scale": 2,
        "seed": 7,
        "time_scale": 10,
        "minute_limit": 100_000,
        "day_limit": 1_000_000,
        "app_minute_limit": 1_000_000,
    }
    return Sandbox(
        **{**defaults, **flags, "webhook_url": receiver.url, "webhook_key": receiver.key}
    )


def wait_for_handshake(sb: Sandbox, timeout: float = 30.0) -> str:
    """The intent-to-receive outcome once known ("passed" or "failed")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = str(sb.stats()["webhooks"]["intent_to_receive"]["status"])
        if status != "pending":
            return status
        time.sleep(0.05)
    raise AssertionError("the sandbox's intent-to-receive handshake did not finish")


def create_contacts(sb: Sandbox, tenant: str, names: list[str]) -> list[str]:
    """PUT contacts in one call; their IDs."""
    answer = httpx.put(
        f"{sb.url}/api.xro/2.0/Contacts",
        headers=sb.headers(tenant),
        json={"Contacts": [{"Name": name} for name in names]},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return [c["ContactID"] for c in answer.json()["Contacts"]]


def deliveries_settled(sb: Sandbox) -> bool:
    """Every event the sandbox queued was delivered or given up."""
    stats = sb.stats()["webhooks"]
    done = stats["events_delivered"] + stats["events_abandoned"] + stats["events_suppressed"]
    return bool(done == stats["events_queued"] and stats["events_pending"] == 0)


_ENVELOPES = {
    "contacts": ("Contacts", "ContactID"),
    "invoices": ("Invoices", "InvoiceID"),
    "credit_notes": ("CreditNotes", "CreditNoteID"),
}


def draft_ids(sb: Sandbox, tenant: str, stream: str, count: int) -> list[str]:
    """IDs of ``count`` documents whose Reference (email for contacts) can be edited."""
    envelope, key = _ENVELOPES[stream]
    where = {"contacts": None, "invoices": 'Status=="DRAFT"', "credit_notes": 'Status!="VOIDED"'}
    params = {"page": "1", **({"where": where[stream]} if where[stream] else {})}
    answer = httpx.get(
        f"{sb.url}/api.xro/2.0/{envelope}", params=params, headers=sb.headers(tenant), timeout=60
    )
    assert answer.status_code == 200, answer.text
    ids = [doc[key] for doc in answer.json()[envelope]][:count]
    assert len(ids) == count, f"only {len(ids)} editable {stream}"
    return ids


def touch(sb: Sandbox, tenant: str, stream: str, ids: list[str], tag: str) -> None:
    """Change each document (a new Reference, or a contact's email), one POST per document."""
    envelope, key = _ENVELOPES[stream]
    for doc_id in ids:
        change = (
            {"EmailAddress": f"{tag}@example.com"} if stream == "contacts" else {"Reference": tag}
        )
        answer = httpx.post(
            f"{sb.url}/api.xro/2.0/{envelope}",
            json={envelope: [{key: doc_id, **change}]},
            headers=sb.headers(tenant),
            timeout=60,
        )
        assert answer.status_code == 200, answer.text


def calls(stderr: str, tenant: str) -> int:
    """API calls the tap reported for ``tenant`` (its usage line), 0 when it made none."""
    marker = f"Xero API usage: tenant={tenant} calls="
    for line in stderr.splitlines():
        if marker in line:
            return int(line.split(marker, 1)[1].split()[0])
    return 0


def create_invoices(sb: Sandbox, tenant: str, count: int) -> list[str]:
    """PUT ``count`` sales invoices, 50 a call (each is an INVOICE CREATE webhook); their IDs."""
    headers = sb.headers(tenant)
    api = f"{sb.url}/api.xro/2.0"
    contact = httpx.get(f"{api}/Contacts", headers=headers, timeout=60).json()["Contacts"][0]
    accounts = httpx.get(f"{api}/Accounts", headers=headers, timeout=60).json()["Accounts"]
    code = next(a["Code"] for a in accounts if a.get("Type") == "REVENUE")
    line = {"Description": "bench", "Quantity": 1, "UnitAmount": 10, "AccountCode": code}
    invoice = {"Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}}
    ids: list[str] = []
    for start in range(0, count, 50):
        batch = [{**invoice, "LineItems": [line]} for _ in range(min(50, count - start))]
        answer = httpx.put(
            f"{api}/Invoices", headers=headers, json={"Invoices": batch}, timeout=120
        )
        assert answer.status_code == 200, answer.text
        ids += [doc["InvoiceID"] for doc in answer.json()["Invoices"]]
    return ids

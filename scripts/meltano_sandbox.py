"""Run this repository's Meltano project against a running xero-sandbox.

Shared by ``scripts/demo.py`` and the Meltano tests: the environment variables that point the
``sandbox`` environment of ``meltano.yml`` at a sandbox on any port, and a runner for Meltano
commands whose failures say which step failed and show the tail of its log.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "MELTANO",
    "REPO",
    "BookChanges",
    "MeltanoError",
    "MeltanoResult",
    "change_the_books",
    "records_moved",
    "run_meltano",
    "sandbox_env",
    "tail",
]

REPO = Path(__file__).resolve().parents[1]
MELTANO = REPO / ".venv-meltano" / "bin" / "meltano"

_XERO_PLUGINS = ("TAP_XERO", "TARGET_XERO")


def sandbox_env(
    url: str,
    token_store: Path,
    refresh_token: str | None = None,
    *,
    client_id: str = "sandbox-client",
    client_secret: str = "sandbox-secret",  # noqa: S107 - the documented sandbox default
) -> dict[str, str]:
    """Settings that aim tap-xero and target-xero (and their inheritors) at ``url``.

    Shell variables beat ``meltano.yml``, and the namespace prefixes (``TAP_XERO_``,
    ``TARGET_XERO_``) also reach plugins that ``inherit_from`` them. ``refresh_token`` seeds
    the token store; once rotated, the store's token is used.
    """
    env: dict[str, str] = {}
    for prefix in _XERO_PLUGINS:
        env.update(
            {
                f"{prefix}_API_URL": url,
                f"{prefix}_IDENTITY_URL": url,
                f"{prefix}_LOGIN_URL": url,
                f"{prefix}_CLIENT_ID": client_id,
                f"{prefix}_CLIENT_SECRET": client_secret,
                f"{prefix}_TOKEN_STORE_PATH": str(token_store),
            }
        )
        if refresh_token:
            env[f"{prefix}_AUTH_MODE"] = "refresh_token"
            env[f"{prefix}_REFRESH_TOKEN"] = refresh_token
    return env


@dataclass(frozen=True)
class MeltanoResult:
    """A finished Meltano command: its arguments and its combined output."""

    args: tuple[str, ...]
    output: str


class MeltanoError(RuntimeError):
    """A Meltano command failed; the message names it and quotes the end of its log."""

    def __init__(self, args: Sequence[str], code: int, output: str, log: Path | None) -> None:
        self.command = "meltano " + " ".join(args)
        self.code = code
        self.output = output
        where = f" (full log: {log})" if log else ""
        super().__init__(
            f"`{self.command}` exited with {code}{where}; last lines:\n{tail(output, 25)}"
        )


def tail(text: str, lines: int) -> str:
    """The last ``lines`` non-empty lines of ``text``, indented, errors first.

    Meltano's JSON log lines are shown as ``level plugin: event``.
    """
    readable = [_readable(line) for line in text.splitlines() if line.strip()]
    errors = [line for line in readable if line.startswith(("error", "critical"))]
    shown = readable[-lines:]
    if errors:
        shown = [*errors[:8], "...", *[line for line in shown if line not in errors]]
    return "\n".join("    " + line for line in shown)


def _readable(line: str) -> str:
    if not line.startswith("{"):
        return line
    try:
        event = json.loads(line)
    except ValueError:
        return line
    if not isinstance(event, dict) or "event" not in event:
        return line
    source = event.get("string_id") or event.get("name") or "meltano"
    return f"{event.get('level', 'info')} {source}: {event['event']}"


def run_meltano(
    args: Sequence[str],
    *,
    project: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    log: Path | None = None,
) -> MeltanoResult:
    """Run ``meltano <args>`` in ``project``; raise :class:`MeltanoError` when it fails.

    Meltano's own venv must not leak into plugins, and the project's venv must not leak into
    Meltano: both run with a clean ``VIRTUAL_ENV``. Output is also appended to ``log``.
    """
    full_env = {
        **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
        "MELTANO_PROJECT_ROOT": str(project),
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "NO_COLOR": "1",
        **(env or {}),
    }
    try:
        done = subprocess.run(
            [str(MELTANO), *args],
            cwd=project,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = _text(exc.stdout) + _text(exc.stderr)
        _append(log, args, output)
        raise MeltanoError(args, -1, output + f"\n(timed out after {timeout:g} s)", log) from None
    output = done.stdout + done.stderr
    _append(log, args, output)
    if done.returncode != 0:
        raise MeltanoError(args, done.returncode, output, log)
    return MeltanoResult(tuple(args), output)


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _append(log: Path | None, args: Sequence[str], output: str) -> None:
    if log is None:
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ meltano {' '.join(args)}\n{output}\n")


def records_moved(output: str, plugin: str = "tap-xero") -> Counter[str]:
    """Records ``plugin`` emitted per stream, from its singer-sdk ``record_count`` metrics.

    Reads Meltano's JSON logs (``meltano --log-format=json run ...``), where each metric keeps
    its tags; the plain console format drops them.
    """
    moved: Counter[str] = Counter()
    for line in output.splitlines():
        if '"metric_info"' not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        metric = event.get("metric_info") if isinstance(event, dict) else None
        if event.get("string_id") != plugin or not isinstance(metric, dict):
            continue
        if metric.get("metric") == "record_count":
            stream = (metric.get("tags") or {}).get("stream")
            if stream:
                moved[stream] += int(metric.get("value", 0))
    return moved


@dataclass(frozen=True)
class BookChanges:
    """What :func:`change_the_books` did."""

    invoice_id: str
    invoice_number: str
    reference: str
    contact_name: str

    def describe(self) -> list[str]:
        """One line per change, for people."""
        return [
            f"invoice {self.invoice_number}: Reference -> {self.reference!r}",
            f"new contact {self.contact_name!r}",
        ]


def change_the_books(
    api_url: str, headers: Mapping[str, str], invoice_tenant: str, contact_tenant: str
) -> BookChanges:
    """POST an update to one draft invoice and PUT a new contact, as any Xero app would.

    ``headers`` carry the bearer token; the tenant header is set per call.
    """
    api = f"{api_url}/api.xro/2.0"
    tag = uuid.uuid4().hex[:8]
    base = {**headers, "Accept": "application/json", "Content-Type": "application/json"}
    with httpx.Client(timeout=60) as client:
        invoice_headers = {**base, "xero-tenant-id": invoice_tenant}
        page = client.get(
            f"{api}/Invoices",
            params={"page": "1", "where": 'Status=="DRAFT"'},
            headers=invoice_headers,
        )
        page.raise_for_status()
        invoices: list[dict[str, Any]] = page.json().get("Invoices") or []
        reference = f"changed {tag}"
        refusals: list[str] = []
        for invoice in invoices:
            answer = client.post(
                f"{api}/Invoices",
                json={"Invoices": [{"InvoiceID": invoice["InvoiceID"], "Reference": reference}]},
                headers=invoice_headers,
            )
            if answer.status_code == 200:
                break
            refusals.append(f"{invoice.get('InvoiceNumber')}: {_xero_messages(answer)}")
        else:
            raise RuntimeError(
                "no DRAFT invoice could be updated: " + ("; ".join(refusals) or "none found")
            )
        name = f"Newcomer {tag}"
        answer = client.put(
            f"{api}/Contacts",
            json={"Contacts": [{"Name": name, "EmailAddress": f"{tag}@example.com"}]},
            headers={**base, "xero-tenant-id": contact_tenant},
        )
        answer.raise_for_status()
    return BookChanges(invoice["InvoiceID"], str(invoice.get("InvoiceNumber")), reference, name)


def _xero_messages(answer: httpx.Response) -> str:
    """Xero's validation messages from an error answer, else its status line."""
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    messages = [
        str(error.get("Message"))
        for element in body.get("Elements") or []
        for error in element.get("ValidationErrors") or []
    ]
    return "; ".join(messages) or str(body.get("Message") or f"HTTP {answer.status_code}")

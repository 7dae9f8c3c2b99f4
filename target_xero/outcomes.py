"""Where every record ends: the audit file (written), the rejects file, and the run summary."""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import IO, Any

from xero_api.codec import encode_json

__all__ = ["ACTIONS", "Outcomes"]

# created: a document the organisation did not have; updated: the document the record matched;
# unchanged: the matched document already says what the record says (nothing sent); exists:
# create_only found a match and left it alone; superseded: a later record of the batch with
# the same key was written instead; would_*: what a dry run would have done.
ACTIONS = (
    "created",
    "updated",
    "unchanged",
    "exists",
    "superseded",
    "would_create",
    "would_update",
)


class Outcomes:
    """Where each record ended: appends JSON lines to the audit file (written) and the rejects
    file, and counts outcomes per stream for the run summary."""

    def __init__(
        self, audit_file: str | None, rejects_file: str | None, logger: logging.Logger
    ) -> None:
        """Open (append) the files that are configured; counting works without them."""
        self._logger = logger
        self._lock = threading.Lock()
        self._audit = _open(audit_file)
        self._rejects = _open(rejects_file)
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)

    def written(
        self,
        stream: str,
        action: str,
        xero_id: str | None,
        idempotency_key: str | None,
        *,
        source_id: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        """Record a record that is now in Xero (or would be, in a dry run)."""
        entry: dict[str, Any] = {
            "stream": stream,
            "action": action,
            "xero_id": xero_id,
            "idempotency_key": idempotency_key,
        }
        if source_id:
            entry["source_id"] = source_id
        if warnings:
            entry["warnings"] = warnings
        with self._lock:
            self.counts[stream][action] += 1
            _write(self._audit, entry)

    def rejected(self, stream: str, record: Any, reasons: list[str]) -> None:
        """Record a record that will not be written, with every reason known."""
        with self._lock:
            self.counts[stream]["rejected"] += 1
            _write(self._rejects, {"stream": stream, "record": record, "reasons": reasons})
        self._logger.warning("rejected a %s record: %s", stream, "; ".join(reasons))

    @property
    def rejected_total(self) -> int:
        """Records rejected in this run, over all streams."""
        return sum(c["rejected"] for c in self.counts.values())

    def summary_lines(self) -> list[str]:
        """One line per stream: created, updated, unchanged, rejected (and dry-run counts)."""
        lines = []
        for stream in sorted(self.counts):
            c = self.counts[stream]
            parts = [
                f"{name}={c[name]}"
                for name in (*ACTIONS, "rejected")
                if c[name] or name in ("created", "updated", "rejected")
            ]
            lines.append(f"summary {stream}: " + " ".join(parts))
        return lines

    def close(self) -> None:
        """Flush and close the files."""
        for handle in (self._audit, self._rejects):
            if handle is not None:
                handle.close()


def _open(path: str | None) -> IO[bytes] | None:
    if not path:
        return None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab")


def _write(handle: IO[bytes] | None, entry: dict[str, Any]) -> None:
    if handle is None:
        return
    handle.write(encode_json(entry) + b"\n")
    handle.flush()

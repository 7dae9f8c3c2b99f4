"""The tap's Singer output: msgspec lines, RECORDs in blocks, Xero's exact money."""

from __future__ import annotations

import atexit
import sys
from datetime import datetime
from typing import Any

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.contrib.msgspec import encoder as sdk_encoder
from singer_sdk.singerlib import RecordMessage

__all__ = ["XeroMessageWriter"]


class XeroMessageWriter(MsgSpecWriter):
    """msgspec writer: Decimal (and ``msgspec.Raw`` number text) is written as a JSON number
    with Xero's exact digits.

    RECORD lines are collected and written in blocks; every other message (STATE above all)
    writes out everything before it and flushes, so a STATE line never precedes its records.
    """

    BLOCK = 256 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = bytearray()
        atexit.register(self.flush)

    def write_message(self, message: Any) -> None:
        """Queue one message; write out the block unless it is a RECORD in a small block."""
        self._pending += self.format_message(message)
        if not isinstance(message, RecordMessage) or len(self._pending) >= self.BLOCK:
            self.flush()

    def write_record(
        self, stream: str, record: dict[str, Any], version: int | None, extracted: datetime
    ) -> None:
        """Queue the RECORD line a ``RecordMessage`` would make, without making one.

        The per-record message object and its dict conversion cost as much as encoding the
        record; the line is byte for byte the same (same encoder, same keys and order).
        """
        message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = extracted
        pending = self._pending
        sdk_encoder.encode_into(message, pending, -1)
        pending += b"\n"
        if len(pending) >= self.BLOCK:
            self.flush()

    def flush(self) -> None:
        """Write out and flush everything queued."""
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()
        sys.stdout.flush()

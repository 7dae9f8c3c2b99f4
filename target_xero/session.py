"""The write session: one run's way from a sink's batch to Xero and to the outcome files.

Sinks hand it their checked records; it connects on first use, writes each batch after the
buffered records it may refer to, holds back records whose references may still arrive, and
settles everything held at the end of input.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from xero_api.resources import RESOURCES, Key, Resource
from xero_api.settings import XeroSettings

from .directory import Directory
from .held import HeldRecords, dependency_order
from .loader import Loader
from .organisation import XeroOrganisation
from .outcomes import Outcomes
from .rows import OrganisationFacts

__all__ = ["BUFFERED_REQUESTS", "WRITABLE", "Buffer", "Finisher", "WriteSession", "buffer_size"]

WRITABLE = tuple(r.stream for r in RESOURCES if r.write is not None)
BUFFERED_REQUESTS = 40


def buffer_size(config: Mapping[str, Any]) -> int:
    """Records written as one batch: ``batch_size_rows`` when set, else
    :data:`BUFFERED_REQUESTS` full requests, so memory is bounded by a batch, never by the
    input, and the status steps of a batch still share their requests."""
    rows = config.get("batch_size_rows")
    return int(rows) if rows else BUFFERED_REQUESTS * int(config.get("batch_size") or 50)


class Buffer(Protocol):
    """A sink as the session sees it: the resource it writes and how many records it holds."""

    @property
    def resource(self) -> Resource | None:
        """The resource its records are written as (None: rejected, never buffered)."""
        ...

    @property
    def current_size(self) -> int:
        """Records buffered, not written yet."""
        ...


class Finisher(Protocol):
    """Input that can only be written once the input has ended (rows grouped into documents)."""

    @property
    def pending(self) -> int:
        """Records waiting for the end of input."""
        ...

    def finish(self) -> None:
        """Write what waited for the end of input."""
        ...


_F = TypeVar("_F", bound=Finisher)


@dataclass(frozen=True)
class _StreamShape:
    """What a stream's SCHEMA says about its records: their key and their date conversion."""

    key_properties: tuple[str, ...] = ()
    convert: Callable[[dict[str, Any]], None] | None = None


class WriteSession:
    """One run's writes into one organisation, and the account of every record."""

    def __init__(
        self,
        config: Mapping[str, Any],
        logger: logging.Logger,
        *,
        settings: XeroSettings | None,
        write_mode: str,
        natural_keys: Mapping[str, tuple[Key, ...]],
        drain: Callable[[Any], None],
    ) -> None:
        """Nothing connects yet; ``drain`` writes the records one :class:`Buffer` holds (the
        SDK's ``drain_one``, which takes its own sink type)."""
        self.config = config
        self.logger = logger
        self.batch_records = buffer_size(config)
        self._settings = settings
        self._write_mode = write_mode
        self._natural_keys = natural_keys
        self._drain = drain
        self._lock = threading.RLock()
        self._organisation: XeroOrganisation | None = None
        self._directory: Directory | None = None
        self._loader: Loader | None = None
        self._outcomes: Outcomes | None = None
        self._facts: OrganisationFacts | None = None
        self._buffers: list[Buffer] = []
        self._finishers: dict[str, Finisher] = {}
        self._last_finishers: dict[str, Finisher] = {}
        self._shapes: dict[str, _StreamShape] = {}
        # Resource -> input stream -> its held records, in arrival order.
        self._held: dict[Resource, dict[str, HeldRecords]] = {}
        self._input_ended = False

    # -- what the run is connected to ----------------------------------------------------

    @property
    def outcomes(self) -> Outcomes:
        """Audit file, rejects file and counters of this run."""
        with self._lock:
            if self._outcomes is None:
                self._outcomes = Outcomes(
                    self.config.get("audit_file"), self.config.get("rejects_file"), self.logger
                )
            return self._outcomes

    @property
    def loader(self) -> Loader:
        """The write path, bound to the target organisation (connects on first use)."""
        with self._lock:
            if self._loader is None:
                settings = self._settings or XeroSettings.from_config(self.config)
                organisation = XeroOrganisation.connect(
                    settings, self.config.get("tenant_id"), self.logger
                )
                self._organisation = organisation
                self._directory = Directory(organisation, self._natural_keys)
                self._loader = Loader(
                    organisation,
                    self.outcomes,
                    self._directory,
                    batch_size=int(self.config.get("batch_size") or 50),
                    dry_run=bool(self.config.get("dry_run")),
                    write_mode=self._write_mode,
                )
                if self.config.get("dry_run"):
                    self.logger.info("dry run: only GET requests are sent; nothing is written")
            return self._loader

    @property
    def organisation(self) -> XeroOrganisation:
        """The organisation written into (connects on first use)."""
        _ = self.loader
        assert self._organisation is not None
        return self._organisation

    @property
    def write_mode(self) -> str:
        """The ``write_mode`` setting: upsert, create_only or update_only."""
        return self._write_mode

    @property
    def dry_run(self) -> bool:
        """Whether only GET requests are sent."""
        return bool(self.config.get("dry_run"))

    @property
    def directory(self) -> Directory:
        """What the run knows of the organisation's documents (the loader's cache)."""
        _ = self.loader
        assert self._directory is not None
        return self._directory

    @property
    def facts(self) -> OrganisationFacts:
        """Country, tax rates and branding themes of the organisation, for row streams."""
        with self._lock:
            if self._facts is None:
                _ = self.loader
                assert self._organisation is not None
                self._facts = OrganisationFacts(
                    self._organisation, self.config.get("row_date_order")
                )
            return self._facts

    # -- streams -------------------------------------------------------------------------

    def mapped(self, stream_name: str) -> str:
        """The stream ``stream_resource_map`` maps an input stream to (else its own name)."""
        return str((self.config.get("stream_resource_map") or {}).get(stream_name) or stream_name)

    def resource_for(self, stream_name: str) -> Resource | None:
        """The resource a stream lands on, or None when it is not mapped."""
        name = self.mapped(stream_name)
        return next((r for r in RESOURCES if r.stream == name and r.write is not None), None)

    def unmapped_reason(self, stream_name: str) -> str:
        """Why records of a stream that lands on no writable resource are rejected."""
        mapped = (self.config.get("stream_resource_map") or {}).get(stream_name)
        if mapped:
            return f"stream_resource_map maps {stream_name!r} to {mapped!r}, which is not writable"
        return (
            f"stream {stream_name!r} is not a Xero resource ({', '.join(WRITABLE)}); "
            "map it with the stream_resource_map setting"
        )

    def add_buffer(self, buffer: Buffer) -> None:
        """A sink whose buffered records later batches may depend on."""
        self._buffers.append(buffer)

    def finisher(self, stream_name: str, make: Callable[[], _F], *, last: bool = False) -> _F:
        """A stream's input written at the end of input, before the held records are settled
        (``last``: after them, as attachments wait for their documents): made once a run (a
        SCHEMA that changes makes a new sink, not a new stream)."""
        finishers = self._last_finishers if last else self._finishers
        if stream_name not in finishers:
            finishers[stream_name] = make()
        return cast(_F, finishers[stream_name])

    def shape_stream(
        self,
        stream_name: str,
        key_properties: Sequence[str] | None,
        convert: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        """The SCHEMA's key properties and the date conversion of a stream's records."""
        self._shapes[stream_name] = _StreamShape(tuple(key_properties or ()), convert)

    def reject(self, stream_name: str, record: Any, reasons: list[str]) -> None:
        """Account for a record that will not be written."""
        self.outcomes.rejected(stream_name, record, reasons)

    # -- writing -------------------------------------------------------------------------

    def write(self, stream_name: str, resource: Resource, records: list[dict[str, Any]]) -> int:
        """Write a sink's batch after every buffered record of the resources it depends on;
        how many records were held back (see :meth:`load`)."""
        rule = resource.write
        assert rule is not None
        self.drain_streams(rule.depends_on)
        return self.load(stream_name, resource, records)

    def drain_streams(self, streams: Sequence[str]) -> None:
        """Write every buffered record of the resource streams named."""
        for buffer in list(self._buffers):
            dependency = buffer.resource
            if dependency and dependency.stream in streams and buffer.current_size:
                self._drain(buffer)

    def load(self, stream_name: str, resource: Resource, records: list[dict[str, Any]]) -> int:
        """Write or reject a batch; hold back records whose references may still arrive (how
        many were held), then retry the records held for what this batch wrote."""
        rule = resource.write
        assert rule is not None
        held = self._load(stream_name, resource, records, waiting=rule.depends_on)
        if held:
            spools = self._held.setdefault(resource, {})
            spools.setdefault(stream_name, HeldRecords()).add(held)
            self.logger.info(
                "%s: %d record(s) refer to something not written yet; held until it arrives "
                "or the input ends",
                stream_name,
                len(held),
            )
        self._retry_held(resource)
        return len(held)

    def _load(
        self,
        stream_name: str,
        resource: Resource,
        records: list[dict[str, Any]],
        waiting: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        shape = self._shapes.get(stream_name, _StreamShape())
        return self.loader.load(
            stream_name,
            resource,
            records,
            waiting=waiting,
            key_properties=shape.key_properties,
            convert=shape.convert,
        )

    def _retry_held(self, written: Resource) -> None:
        """Load again the held records of every resource that depends on ``written``."""
        for resource in list(self._held):
            assert resource.write is not None
            if written.stream not in resource.write.depends_on:
                continue
            for stream_name, spool in self._held.pop(resource, {}).items():
                for records in spool.chunks(self.batch_records):
                    self.load(stream_name, resource, records)

    # -- end of input --------------------------------------------------------------------

    def end_input(self) -> None:
        """The input has ended: the next STATE settles everything first."""
        self._input_ended = True

    def state_may_be_written(self) -> bool:
        """Whether every record before a STATE is written or rejected (after settling all
        once the input has ended); a STATE while some are held waits for a later one."""
        if self._input_ended:
            self.finish_input()
        finishers = (*self._finishers.values(), *self._last_finishers.values())
        if self._held or any(f.pending for f in finishers):
            self.logger.info("STATE held back: records before it wait for their references")
            return False
        return True

    def finish_input(self) -> None:
        """At end of input: the documents of the row streams, then every held record one last
        time, dependencies first, then the attachments that waited for their documents; what
        still resolves to nothing is rejected with its reasons."""
        for finisher in self._finishers.values():
            finisher.finish()
        for resource in dependency_order(list(self._held)):
            for stream_name, spool in self._held.pop(resource, {}).items():
                self.logger.info(
                    "%s: loading %d held record(s) at end of input", stream_name, spool.count
                )
                for records in spool.chunks(self.batch_records):
                    self._load(stream_name, resource, records)
        for finisher in self._last_finishers.values():
            finisher.finish()

    def report(self) -> int:
        """Stop the write threads, log the summary and the API usage; records rejected."""
        if self._loader is not None:
            self._loader.close()
        outcomes = self.outcomes
        for line in outcomes.summary_lines():
            self.logger.info(line)
        if self._organisation is not None:
            for line in self._organisation.client.usage.summary_lines():
                self.logger.info("usage %s", line)
        return outcomes.rejected_total

    def close(self) -> None:
        """Close the outcome files and the client."""
        if self._outcomes is not None:
            self._outcomes.close()
        if self._organisation is not None:
            self._organisation.client.close()

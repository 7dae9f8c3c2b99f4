"""One batch of records of one resource on its way into Xero, in order: each record is
prepared (:mod:`.pending`), its references resolved (:mod:`.references`), matched to the
organisation's documents (:mod:`.matching`), sent (:mod:`.sending` over :mod:`.exchange`) and
moved through its status steps (:mod:`.status_steps`); every record ends written, held (its
references may still arrive) or rejected with its reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from xero_api.resources import Resource

from .directory import Directory
from .exchange import Exchange
from .matching import WRITE_MODES, Matcher
from .organisation import Organisation
from .outcomes import Outcomes
from .pending import Pending, prepare
from .references import References
from .sending import Sender
from .status_steps import StatusSteps

__all__ = ["WRITE_MODES", "Loader"]


class Loader:
    """Writes batches of records into one organisation and accounts for every record."""

    def __init__(
        self,
        organisation: Organisation,
        outcomes: Outcomes,
        directory: Directory,
        *,
        batch_size: int,
        dry_run: bool,
        write_mode: str = "upsert",
    ) -> None:
        """Bind the organisation, the outcomes and the shared cache of the organisation."""
        self._outcomes = outcomes
        self._dir = directory
        self._exchange = Exchange(organisation)
        self._references = References(directory)
        self._matcher = Matcher(directory, outcomes, write_mode)
        self._sender = Sender(
            self._exchange, directory, outcomes, batch_size=batch_size, dry_run=dry_run
        )
        self._steps = StatusSteps(self._exchange, directory, outcomes)

    def load(
        self,
        stream: str,
        resource: Resource,
        records: Sequence[dict[str, Any]],
        *,
        waiting: Collection[str] = (),
        key_properties: Sequence[str] = (),
        convert: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Write (or reject) every record of one batch, except those returned: records whose
        only problems are references to resources in ``waiting`` (streams that may still
        deliver them), to be loaded again later. A record is superseded by a later one of
        the batch with the same key (:meth:`Matcher.supersede`); ``convert`` shapes a copy of
        each record for Xero (dates), the record itself is kept as it arrived."""
        pending = [prepare(stream, resource, r, convert) for r in records]
        self._references.resolve(resource, pending)
        pending = self._matcher.supersede(resource, pending, key_properties)
        held = [
            p
            for p in pending
            if p.missing and len(p.missing) == len(p.reasons) and set(p.missing) <= set(waiting)
        ]
        live = self._reject_failed([p for p in pending if p not in held])
        while live:
            deferred = self._matcher.match(resource, live)
            live = self._reject_failed(live)
            self._write(resource, [p for p in live if p not in deferred])
            live = deferred
        return [p.record for p in held]

    def _write(self, resource: Resource, matched: list[Pending]) -> None:
        """Send the documents, move their statuses, then account for the quiet records."""
        batch = self._sender.send(resource, matched)
        moved = self._steps.follow(resource, batch.moving)
        self._sender.account_quiet(batch.quiet, moved)

    def _reject_failed(self, pending: list[Pending]) -> list[Pending]:
        live = []
        for item in pending:
            if item.reasons:
                self._outcomes.rejected(item.stream, item.record, item.reasons)
            else:
                live.append(item)
        return live

    def close(self) -> None:
        """Stop the threads that send writes and drop the directory's spool (end of run)."""
        self._exchange.close()
        self._dir.close()

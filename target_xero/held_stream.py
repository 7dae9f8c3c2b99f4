"""A stream object whose records may be held until what they name is written: the base of the
attachments and Files streams (the session's own held records are :mod:`.held`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .content import Refused

if TYPE_CHECKING:
    from .session import WriteSession

__all__ = ["HeldStream"]


class HeldStream:
    """A stream object whose records may name what is still to arrive (a document, a folder,
    a file): such a record is held, and written one last time at the end of input, when what
    it names still missing rejects it."""

    depends_on: tuple[str, ...] = ()  # streams whose buffered records are written first

    def __init__(self, session: WriteSession, stream_name: str) -> None:
        """Bind the stream to the run's session; nothing connects yet."""
        self._session = session
        self.name = stream_name
        self._held: list[dict[str, Any]] = []

    @property
    def pending(self) -> int:
        """Records waiting for the end of input."""
        return len(self._held)

    def write(self, records: list[dict[str, Any]]) -> None:
        """Write a batch after the buffered records it may name."""
        self._session.drain_streams(self.depends_on)
        for record in records:
            self._write(record, last_chance=False)

    def finish(self) -> None:
        """At end of input: the held records, one last time."""
        held, self._held = self._held, []
        for record in held:
            self._write(record, last_chance=True)

    def _write(self, record: dict[str, Any], *, last_chance: bool) -> None:
        try:
            missing = self.write_one(record)
            if missing is not None:
                if not last_chance:
                    self._held.append(record)
                    return
                if self._session.dry_run:
                    missing += " (in a dry run, what the run would create does not exist yet)"
                raise Refused(missing)
        except Refused as exc:
            self._session.reject(self.name, record, [str(exc)])

    def write_one(self, record: dict[str, Any]) -> str | None:
        """Write (or account for) one record; what it names that does not exist, if so."""
        raise NotImplementedError

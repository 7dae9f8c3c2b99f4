"""Matching a batch's records to the organisation's documents: by the record's own ID, then
by natural keys; a match is an update (or ``exists`` in create_only), no match a create."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xero_api.resources import Key, Resource

from .directory import Directory, key_value
from .outcomes import Outcomes
from .pending import Pending, strip_line_ids
from .records import get_path

__all__ = ["WRITE_MODES", "Matcher"]

WRITE_MODES = ("upsert", "create_only", "update_only")


class Matcher:
    """Decides what each record of a batch becomes, by the write mode."""

    def __init__(self, directory: Directory, outcomes: Outcomes, write_mode: str) -> None:
        """Match against ``directory``; account superseded records in ``outcomes``."""
        assert write_mode in WRITE_MODES
        self._dir = directory
        self._outcomes = outcomes
        self._write_mode = write_mode

    def supersede(
        self, resource: Resource, pending: list[Pending], key_properties: Sequence[str]
    ) -> list[Pending]:
        """Singer's rule: of the records of a batch with the same key, the last is written
        and each earlier one is reported ``superseded``. The key is the stream's
        ``key_properties`` when it declares them, else each natural key of a resource whose
        keys name one document (not payments, bank transactions, manual journals, where
        equal records are separate documents)."""
        rule = resource.write
        assert rule is not None
        if not key_properties and rule.repeats:
            return pending
        keys = self._dir.natural_keys(resource)
        seen: set[tuple[Key | None, str]] = set()
        kept: list[Pending] = []
        for item in reversed(pending):
            found: set[tuple[Key | None, str]]
            if key_properties:
                values = [item.record.get(name) for name in key_properties]
                found = {(None, repr(values))} if None not in values else set()
            else:
                found = {
                    (key, repr(value))
                    for key in keys
                    if (value := key_value(item.keyed, key)) is not None
                }
            if found & seen:
                self._outcomes.written(
                    item.stream, "superseded", None, None, source_id=item.source_id
                )
                continue
            seen |= found
            kept.append(item)
        kept.reverse()
        return kept

    def match(self, resource: Resource, pending: list[Pending]) -> list[Pending]:
        """Decide create/update/exists per record (or reject it, by the write mode); returns
        records deferred to a later request because an earlier record of the batch creates
        the same key."""
        rule = resource.write
        assert rule is not None
        pk = resource.id_field
        natural_keys = self._dir.natural_keys(resource)
        self._find(resource, pending, natural_keys)
        deferred: list[Pending] = []
        creating: set[tuple[Key, Any]] = set()
        unmatched = (
            f"no {resource.noun} in the target organisation matches this record (by {pk} or "
            f"{' or '.join(map(str, natural_keys)) or 'no natural key'})"
        )
        for item in pending:
            if item.target_id and self._write_mode == "create_only":
                item.action = "exists"
                continue
            if not item.target_id and not rule.creatable:
                item.reasons.append(f"{unmatched}, and Xero's API cannot create one")
                continue
            if not item.target_id and self._write_mode == "update_only":
                item.reasons.append(f"write_mode is update_only and {unmatched}")
                continue
            if item.target_id:
                if item.target_id != item.source_id:
                    strip_line_ids(item.payload, rule.lines)
                item.payload[pk] = item.target_id
                item.action = "update"
                self._plan_status(resource, item)
                continue
            item.payload.pop(pk, None)
            strip_line_ids(item.payload, rule.lines)
            keys = {(key, key_value(item.keyed, key)) for key in natural_keys}
            keys = {k for k in keys if k[1] is not None and not k[0].compound}
            if keys & creating:
                deferred.append(item)
                continue
            creating |= keys
            item.action = "create"
            self._plan_status(resource, item)
        return deferred

    def _find(
        self, resource: Resource, pending: list[Pending], natural_keys: tuple[Key, ...]
    ) -> None:
        """Set each record's ``target_id``: its own ID if the organisation has that document,
        else the first natural key that finds one (a compound key's document is claimed)."""
        pk = resource.id_field
        with_ids = [p for p in pending if p.source_id]
        self._dir.ensure(resource, Key(pk), [p.source_id for p in with_ids])
        for item in with_ids:
            item.target_id = self._dir.find(resource, Key(pk), item.source_id)
        for key in natural_keys:
            open_items = [p for p in pending if not p.target_id]
            if not open_items:
                break
            self._dir.ensure(resource, key, [get_path(p.keyed, key.first) for p in open_items])
            for item in open_items:
                value = key_value(item.keyed, key)
                if value is None:
                    continue
                found = self._dir.find(resource, key, value)
                if found:
                    item.target_id = found
                    if key.compound:
                        self._dir.claim(found)

    def _plan_status(self, resource: Resource, item: Pending) -> None:
        """Send a status Xero takes now; remember the steps to the record's own status."""
        assert resource.write is not None
        status_name = resource.write.status_field
        status = item.payload.get(status_name)
        steps = resource.write.steps_to(status) if isinstance(status, str) else None
        if not steps:
            return
        doc = self._dir.doc(resource, item.target_id) if item.target_id else None
        current = doc.get(status_name) if doc else None
        if current == status:
            return
        if current in steps:
            item.payload.pop(status_name)
            item.follow = steps[steps.index(current) + 1 :]
        else:
            item.payload[status_name] = steps[0]
            item.follow = steps[1:]

"""Updates written line by line: Payroll UK and NZ have no timesheet update, only its lines
(``POST /Timesheets/{id}/Lines``, ``PUT`` and ``DELETE`` ``.../Lines/{line id}``) and its
status actions (``Approve``, ``RevertToDraft``).

A record's lines are the document's lines: a record line and a document line in the same
slot (day, earnings rate, tracking) are one line, changed in place when its hours differ; a
record line without one is added; a document line the record does not list is deleted. Lines
are only written while the document is in its editable status (a draft): an approved
timesheet is reverted first and approved again after. Each request carries its own
``Idempotency-Key``; a refusal stops that record's writes and rejects it with Xero's reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xero_api.resources import Resource

from .directory import Directory, norm
from .exchange import Exchange
from .organisation import RequestRejected
from .outcomes import Outcomes
from .pending import Pending, collection_path, contains

__all__ = ["LineWriter"]

# One request of a line-by-line update: method, path and body.
_Step = tuple[str, str, Any]


class LineWriter:
    """Writes matched documents' changes line by line (see the module docstring)."""

    def __init__(self, exchange: Exchange, directory: Directory, outcomes: Outcomes) -> None:
        """Send through ``exchange``; remember what is written; account for every record."""
        self._exchange = exchange
        self._dir = directory
        self._outcomes = outcomes

    def update(self, resource: Resource, items: list[Pending]) -> None:
        """Write each matched record's changes; the document read back is remembered."""
        for item in items:
            doc = self._dir.doc(resource, item.target_id or "") or {}
            keys = self._send(item, plan(resource, item, doc))
            if keys is None:
                continue
            path = f"{collection_path(resource, item)}/{item.target_id}"
            assert resource.write is not None
            fresh = (self._exchange.organisation.get(path) or {}).get(resource.write.answer_key)
            if isinstance(fresh, Mapping):
                self._dir.remember(resource, fresh, source_id=item.source_id)
            item.written = True
            self._outcomes.written(
                item.stream,
                "updated" if keys else "unchanged",
                item.target_id,
                keys[-1] if keys else None,
                source_id=item.source_id,
            )

    def _send(self, item: Pending, steps: list[_Step]) -> list[str] | None:
        """The keys of the requests sent, or None when Xero refused one (the record is
        rejected with its reasons; the requests before it stay written)."""
        keys: list[str] = []
        for method, path, body in steps:
            key = self._exchange.key(method, path, {}, body)
            answer = self._exchange.write_one((method, path, {}, body, key))
            if isinstance(answer, RequestRejected):
                self._outcomes.rejected(item.stream, item.record, answer.messages)
                return None
            keys.append(key)
        return keys


def plan(resource: Resource, item: Pending, doc: Mapping[str, Any]) -> list[_Step]:
    """The requests that make the document ``doc`` say what the record says."""
    rule = resource.write
    assert rule is not None
    assert rule.lines is not None
    lines, line_id = rule.lines, rule.lines.id_field
    at = f"{collection_path(resource, item)}/{item.target_id}"
    have = [line for line in doc.get(lines.field) or () if isinstance(line, Mapping)]
    unused = list(range(len(have)))
    steps: list[_Step] = []
    for line in item.payload.get(lines.field) or ():
        body = {k: v for k, v in line.items() if k != line_id}
        slot = _slot(body, lines.slot)
        match = next((i for i in unused if _slot(have[i], lines.slot) == slot), None)
        if match is None:
            steps.append(("POST", f"{at}/{rule.lines_path}", body))
            continue
        unused.remove(match)
        if not contains(have[match], body):
            steps.append(("PUT", f"{at}/{rule.lines_path}/{have[match][line_id]}", body))
    steps += [("DELETE", f"{at}/{rule.lines_path}/{have[i][line_id]}", None) for i in unused]
    actions = dict(rule.status_actions)
    editable, current = rule.statuses[0], doc.get(rule.status_field)
    wanted = item.payload.get(rule.status_field) or current
    if current == editable or not (steps or wanted == editable):
        return steps
    steps.insert(0, ("POST", f"{at}/{actions[editable]}", {}))
    if wanted in actions and wanted != editable and not item.follow:
        steps.append(("POST", f"{at}/{actions[wanted]}", {}))
    return steps


def _slot(line: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(norm(line.get(name)) for name in fields)

"""Sending a batch's document writes and accounting for each record from Xero's answer.

Creates go with ``PUT`` and updates with ``POST`` carrying the ID, up to ``batch_size``
elements a request with ``summarizeErrors=false`` (one where Xero takes a single object);
each answer element is matched back to its record by position and checked to echo it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from xero_api.resources import ACCOUNTING, Key, Resource

from .directory import Directory, key_value, norm
from .exchange import Call, Exchange, chunked
from .line_writes import LineWriter
from .organisation import RequestRejected
from .outcomes import Outcomes
from .pending import (
    Pending,
    collection_path,
    contains,
    element_messages,
    only_changes,
    write_shape,
)
from .refusals import Refusals, Verdict

__all__ = ["Sender", "Sorted"]

# A write request still to send: method, path, parameters and the records it carries.
_Planned = tuple[str, str, dict[str, str], list[Pending]]


@dataclass
class Sorted:
    """A matched batch sorted by what each record needs: a create, an update, or no document
    write (``quiet``: accounted once its statuses moved, with the keys of any writes made for
    it); ``moving`` are records whose statuses still move."""

    creates: list[Pending] = field(default_factory=list)
    updates: list[Pending] = field(default_factory=list)
    quiet: list[tuple[Pending, list[str]]] = field(default_factory=list)
    moving: list[Pending] = field(default_factory=list)


class Sender:
    """Writes a batch's documents (or, in a dry run, says what it would write)."""

    def __init__(
        self,
        exchange: Exchange,
        directory: Directory,
        outcomes: Outcomes,
        *,
        batch_size: int,
        dry_run: bool,
    ) -> None:
        """Send through ``exchange``; ``batch_size`` elements a request."""
        self._exchange = exchange
        self._dir = directory
        self._outcomes = outcomes
        self._refusals = Refusals(directory)
        self._batch_size = batch_size
        self._dry_run = dry_run
        self._placeholders = 0
        self._lines = LineWriter(exchange, directory, outcomes)

    def send(self, resource: Resource, pending: list[Pending]) -> Sorted:
        """Write the documents of a matched batch; what is left to do: the quiet records to
        account for and the records whose statuses still move."""
        batch = self._sort(resource, pending)
        calls = self._calls(resource, batch)
        # Xero numbers a document created without its number in the order it arrives: such
        # requests go one at a time, so a replay numbers them alike.
        natural_keys = self._dir.natural_keys(resource)
        numbered = all(
            any(key_value(item.keyed, spec) is not None for spec in natural_keys)
            for item in batch.creates
        )
        batch.moving += self._requests(resource, calls, ordered=not numbered)
        if resource.write and resource.write.lines_path:
            batch.moving += self._line_updates(resource, batch.updates)
        return batch

    def _line_updates(self, resource: Resource, updates: list[Pending]) -> list[Pending]:
        """Updates written line by line (:mod:`.line_writes`); the written records whose
        statuses still move."""
        if self._dry_run:
            for item in updates:
                path = f"{collection_path(resource, item)}/{item.target_id}"
                self._dry_result(resource, item, self._exchange.key("PUT", path, {}, item.payload))
            return []
        self._lines.update(resource, updates)
        return [item for item in updates if item.follow and item.written]

    def _sort(self, resource: Resource, pending: list[Pending]) -> Sorted:
        rule = resource.write
        assert rule is not None
        batch = Sorted()
        for item in pending:
            status = item.payload.get(rule.status_field)
            if rule.statuses and status is not None and status not in rule.statuses:
                allowed = " or ".join(rule.statuses)
                reason = f"{rule.status_field} {status} cannot be set through the API ({allowed})"
                self._outcomes.rejected(item.stream, item.record, [reason])
            elif item.action == "exists":
                # create_only: the document is not touched.
                self._known_as_own(resource, item)
                batch.quiet.append((item, []))
            elif item.action == "update" and (doc := self._unchanged(resource, item)) is not None:
                self._known_as_own(resource, item, doc)
                keys = []
                if not self._dry_run and rule.children:
                    keys += self.write_children(resource, item, dict(doc))
                if not self._dry_run and item.follow:
                    batch.moving.append(item)
                batch.quiet.append((item, keys))
            elif item.action == "update" and not rule.updatable:
                # Matched, never changed: references to the record still resolve to it.
                self._known_as_own(resource, item)
                batch.quiet.append((item, []))
            elif item.action == "update":
                batch.updates.append(item)
            else:
                batch.creates.append(item)
        return batch

    def _calls(self, resource: Resource, batch: Sorted) -> list[_Planned]:
        rule = resource.write
        assert rule is not None
        creates, updates = batch.creates, batch.updates
        calls: list[_Planned] = []
        size = max(1, self._batch_size)
        params: dict[str, str] = {k: v for k, v in resource.read.params if k == "unitdp"}
        if rule.lines_path:
            # Updates go line by line (_line_updates).
            calls += [(rule.create_method, collection_path(resource, i), {}, [i]) for i in creates]
        elif rule.bare_list:
            # Lists of elements on the collection, updates first (as Accounting's batches).
            path = resource.write_path()
            calls += [(rule.update_method, path, {}, c) for c in chunked(updates, size)]
            calls += [(rule.create_method, path, {}, c) for c in chunked(creates, size)]
        elif resource.api is not ACCOUNTING:
            # One bare object a request: created on the collection, updated at its ID.
            for item in creates:
                calls.append((rule.create_method, collection_path(resource, item), {}, [item]))
            for item in updates:
                path = collection_path(resource, item)
                if rule.update_at_id:
                    path += f"/{item.target_id}"
                calls.append((rule.update_method, path, {}, [item]))
        elif rule.single_object:
            calls += [("PUT", resource.path, {}, [item]) for item in creates]
            for item in updates:
                only_changes(
                    item.payload,
                    self._dir.doc(resource, item.target_id or ""),
                    resource.id_field,
                )
                calls.append(("POST", f"{resource.path}/{item.target_id}", {}, [item]))
        else:
            # Creates go with PUT, which only creates: Xero's POST creates or updates, and
            # without an ID it updates the document with the same number or name, which no
            # matching rule chose. Updates first: one may free a name or number a create takes.
            params["summarizeErrors"] = "false"
            calls += [("POST", resource.path, params, c) for c in chunked(updates, size)]
            calls += [("PUT", resource.path, params, c) for c in chunked(creates, size)]
        return calls

    def account_quiet(
        self, quiet: list[tuple[Pending, list[str]]], moved: dict[int, list[str]]
    ) -> None:
        """Account, in order, for the records that needed no document write (``moved``: the
        keys of the status steps that moved each, by ``id(item)``)."""
        for item, keys in quiet:
            keys += moved.get(id(item), [])
            # Options added or a status moved: the document did change.
            self._outcomes.written(
                item.stream,
                "exists" if item.action == "exists" else "updated" if keys else "unchanged",
                item.target_id,
                keys[-1] if keys else None,
                source_id=item.source_id,
            )

    def _known_as_own(
        self, resource: Resource, item: Pending, doc: Mapping[str, Any] | None = None
    ) -> None:
        """The document a record matched (``doc`` when the caller read it already) is known
        under the record's own ID from now on, so references to the record resolve to it."""
        if doc is None:
            doc = self._dir.doc(resource, item.target_id or "") or {}
        self._dir.remember(resource, doc, source_id=item.source_id)

    def _unchanged(self, resource: Resource, item: Pending) -> Mapping[str, Any] | None:
        """The document an update matched, when it already says all the record says."""
        doc = self._dir.doc(resource, item.target_id or "")
        if doc is None:
            return None
        assert resource.write is not None
        return doc if contains(write_shape(resource.write, dict(doc)), item.payload) else None

    def _requests(
        self,
        resource: Resource,
        calls: list[_Planned],
        *,
        ordered: bool,
    ) -> list[Pending]:
        """Send the document writes and settle each record in request order; the written
        records that still have statuses to move."""
        requests: list[Call] = []
        for method, path, params, chunk in calls:
            body = _body(resource, [item.payload for item in chunk])
            requests.append(
                (method, path, params, body, self._exchange.key(method, path, params, body))
            )
        if self._dry_run:
            refused = self._refusals.predict(resource, [i for c in calls for i in c[3]])
            for (*_, key), (_, _, _, chunk) in zip(requests, calls, strict=True):
                for item in chunk:
                    if id(item) in refused:
                        self._outcomes.rejected(item.stream, item.record, refused[id(item)])
                    else:
                        self._dry_result(resource, item, key)
            return []
        moving: list[Pending] = []
        answers = self._exchange.send(requests, ordered=ordered)
        again: list[_Planned] = []
        for (method, path, _, _, key), (_, _, params, chunk), answer in zip(
            requests, calls, answers, strict=True
        ):
            unsaved = self._settle_request(resource, method, path, chunk, key, answer)
            if unsaved:
                again.append((method, path, params, unsaved))
            moving += [item for item in chunk if item.follow and item.written]
        if again:
            moving += self._requests(resource, again, ordered=ordered)
        return moving

    def _settle_request(
        self,
        resource: Resource,
        method: str,
        path: str,
        chunk: list[Pending],
        key: str,
        answer: Mapping[str, Any] | RequestRejected,
    ) -> list[Pending]:
        """Account for one request's records from Xero's answer; the records to send again
        (a refused list that saved nothing: the elements Xero found no fault with)."""
        rule = resource.write
        assert rule is not None
        if isinstance(answer, RequestRejected):
            return self._settle_rejection(resource, chunk, key, answer)
        elements = self._answer_elements(resource, chunk, answer)
        if not isinstance(elements, list) or len(elements) != len(chunk):
            for item in chunk:
                self._outcomes.rejected(
                    item.stream,
                    item.record,
                    [
                        f"Xero's answer to {method} {path} did not list one element per "
                        f"record sent (sent {len(chunk)}); re-run to reconcile"
                    ],
                )
            return []
        refused = []
        for item, element in zip(chunk, elements, strict=True):
            messages = self._settle(resource, item, element, key)
            if messages:
                refused.append((item, messages))
        self._refuse(resource, refused, key)
        for item, element in zip(chunk, elements, strict=True):
            if rule.children and isinstance(element, dict):
                self.write_children(resource, item, element)
        return []

    def _settle_rejection(
        self, resource: Resource, chunk: list[Pending], key: str, answer: RequestRejected
    ) -> list[Pending]:
        """Refuse a rejected request's records with what Xero said of each; from a bare list
        where only some elements were faulted, the others are returned to send again."""
        rule = resource.write
        assert rule is not None
        aligned = len(answer.elements) == len(chunk)
        told = [element_messages(resource, e) for e in answer.elements] if aligned else []
        if rule.bare_list and aligned and any(told) and not all(told):
            paired = list(zip(chunk, told, strict=True))
            self._refuse(resource, [(item, said) for item, said in paired if said], key)
            return [item for item, said in paired if not said]
        refused = [
            (item, (told[index] if aligned else []) or answer.messages)
            for index, item in enumerate(chunk)
        ]
        self._refuse(resource, refused, key)
        return []

    def _answer_elements(
        self, resource: Resource, chunk: list[Pending], answer: Mapping[str, Any]
    ) -> Any:
        """The answer's elements, one per record sent when Xero kept to that."""
        rule = resource.write
        assert rule is not None
        if resource.api is ACCOUNTING or rule.bare_list:
            return answer.get(resource.envelope)
        # A create answers the record; an update answers 204: the document is what it was
        # plus what was sent.
        item = chunk[0]
        known = self._dir.doc(resource, item.target_id or "") or {}
        if rule.answer_key:  # Payroll UK and NZ: the object under its name
            answer = answer.get(rule.answer_key) or {}
        return [dict(answer) if answer else {**known, **item.payload}]

    def _settle(
        self, resource: Resource, item: Pending, element: Any, key: str
    ) -> list[str] | None:
        """Account for one answer element; Xero's messages when it refused the element
        (rejected by the caller, which names what a clash clashed with)."""
        pk = resource.id_field
        if not isinstance(element, dict):
            return ["Xero's answer element is not an object"]
        messages = element_messages(resource, element)
        failed = (
            element.get("StatusAttributeString") == "ERROR"
            or element.get("HasErrors") is True
            or element.get("HasValidationErrors") is True
            or bool(messages)
        )
        if failed:
            return messages or ["Xero reported an error"]
        xero_id = element.get(pk)
        echo_problem = _echo_problem(resource, self._dir.natural_keys(resource), item, element)
        if not isinstance(xero_id, str) or echo_problem:
            self._outcomes.rejected(
                item.stream,
                item.record,
                [echo_problem or f"Xero's answer carries no {pk}; re-run to reconcile"],
            )
            return None
        warnings = [
            w.get("Message", "") for w in element.get("Warnings") or () if isinstance(w, dict)
        ]
        # The audit says "created" only for an ID the organisation did not have.
        known = item.action == "create" and self._dir.doc(resource, xero_id) is not None
        if known:
            warnings.append(
                f"Xero answered this create with {pk} {xero_id}, a document the organisation "
                "already had: that document was updated"
            )
        self._accept(resource, item, element, key, "updated" if known else None, warnings)
        return None

    def _accept(
        self,
        resource: Resource,
        item: Pending,
        element: Mapping[str, Any],
        key: str,
        action: str | None,
        warnings: list[str],
    ) -> None:
        """Account for a document Xero holds as the record says (``action`` defaults to what
        the record was sent as)."""
        xero_id = str(element[resource.id_field])
        self._dir.remember(resource, element, source_id=item.source_id)
        self._dir.claim(xero_id)
        item.target_id = xero_id
        dropped = [w for w in warnings if any(t in w for t in resource.api.dropped_warnings)]
        if dropped:
            # Xero kept the document but without the line's account: not what was sent.
            self._outcomes.rejected(
                item.stream,
                item.record,
                [f"written as {xero_id} without an account: {w}" for w in dropped],
            )
            return
        item.written = True
        action = action or ("created" if item.action == "create" else "updated")
        self._outcomes.written(
            item.stream, action, xero_id, key, source_id=item.source_id, warnings=warnings or None
        )

    def _refuse(
        self, resource: Resource, refused: list[tuple[Pending, list[str]]], key: str
    ) -> None:
        """Reject what Xero refused, named in full; accept what was the record's own."""
        for verdict in self._refusals.explain(resource, refused):
            self._settle_verdict(resource, verdict, key)

    def _settle_verdict(self, resource: Resource, verdict: Verdict, key: str) -> None:
        item = verdict.item
        if verdict.own is not None:
            self._accept(resource, item, verdict.own, key, None, verdict.reasons)
        else:
            self._outcomes.rejected(item.stream, item.record, verdict.reasons)

    def _dry_result(self, resource: Resource, item: Pending, key: str) -> None:
        if item.action == "update":
            self._known_as_own(resource, item)
            self._outcomes.written(
                item.stream, "would_update", item.target_id, key, source_id=item.source_id
            )
            return
        self._placeholders += 1
        placeholder = f"dry-run-{self._placeholders:08d}"
        doc = {**item.keyed, resource.id_field: placeholder}
        self._dir.remember(resource, doc, source_id=item.source_id)
        self._outcomes.written(item.stream, "would_create", None, key, source_id=item.source_id)

    def write_children(
        self, resource: Resource, item: Pending, element: dict[str, Any]
    ) -> list[str]:
        """Add missing sub-collection members; the idempotency keys of the writes sent."""
        assert resource.write is not None
        sent: list[str] = []
        xero_id = element.get(resource.id_field)
        existing = self._dir.doc(resource, str(xero_id)) or element
        for child in resource.write.children:
            have = {norm(c.get("Name")) for c in existing.get(child) or () if isinstance(c, dict)}
            missing = [
                {"Name": c["Name"]}
                for c in item.keyed.get(child) or ()
                if isinstance(c, dict) and c.get("Name") and norm(c["Name"]) not in have
            ]
            if not missing:
                continue
            path = f"{resource.path}/{xero_id}/{child}"
            body = {child: missing}
            key = self._exchange.key("PUT", path, {}, body)
            try:
                reply = self._exchange.organisation.write("PUT", path, {}, body, key)
            except RequestRejected as exc:
                self._outcomes.rejected(
                    item.stream, item.record, [f"{child}: {m}" for m in exc.messages]
                )
                continue
            sent.append(key)
            merged = dict(existing)
            merged[child] = [*(existing.get(child) or []), *(reply.get(child) or [])]
            self._dir.remember(resource, merged, source_id=item.source_id)
        return sent


def _body(resource: Resource, payloads: list[dict[str, Any]]) -> Any:
    """A write request's body: Accounting's envelope of elements, Payroll AU's bare list, or
    the other APIs' bare object, with only the fields the API takes."""
    if resource.api is ACCOUNTING:
        return {resource.envelope: payloads}
    assert resource.write is not None
    kept = {*resource.write.fields, resource.id_field, resource.write.status_field}
    if resource.write.bare_list:
        return [{k: v for k, v in payload.items() if k in kept} for payload in payloads]
    return {k: v for k, v in payloads[0].items() if k in resource.write.fields}


def _echo_problem(
    resource: Resource, natural_keys: Sequence[Key], item: Pending, element: Mapping[str, Any]
) -> str | None:
    """Why an answer element is not the echo of the record sent at its position, if it is not."""
    pk = resource.id_field
    sent_id = item.payload.get(pk)
    if sent_id and norm(element.get(pk)) != norm(sent_id):
        return (
            f"Xero answered with {pk} {element.get(pk)!r} for the element that updates {sent_id!r}"
        )
    for key in natural_keys:
        if key.compound:
            continue
        name = key.first
        sent = item.payload.get(name)
        if sent not in (None, "") and norm(element.get(name)) != norm(sent):
            return (
                f"Xero answered with {name} {element.get(name)!r} for the element sent as {sent!r}"
            )
    return None

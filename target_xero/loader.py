"""Writing one batch of records of one resource: resolve, match, send, account for each record.

For every record, in order:

1. **References** (the table's ``references``) are resolved against the target organisation
   through the :class:`~target_xero.directory.Directory` cache: an object reference (a
   ``Contact``) by its ID, then by each natural key of the referenced resource (ContactNumber,
   then Name); a code (``AccountCode``, ``ItemCode``) by the code; tracking by category and
   option name. Nothing found rejects the record with the reason.
2. **Matching**: the record's own Xero ID if that document exists in the target organisation,
   else its natural keys in order; found means update (or ``unchanged`` when the document
   already says everything the record says), else create.
3. **Sending** in requests of up to ``batch_size`` elements (1 for single-object resources),
   ``summarizeErrors=false``, each with an ``Idempotency-Key`` that is a hash of tenant,
   method, path and canonical body, so a replayed request can never create a second document.
   Each answer element is matched back to its record by position and checked to echo it.
   Up to :data:`IN_FLIGHT` requests of a batch are in flight at once (their records' keys
   are distinct, see matching); answers are settled in request order.
4. **Status steps** (a status reached through others, ``VOIDED`` via ``AUTHORISED``): after the
   documents of the batch are written, each step is one ``POST /{path}`` of up to
   :data:`STEP_BATCH` ``{ID, Status}`` elements, keyed and matched back the same way; a failed
   element rejects its record. Payments take a status only as ``POST /Payments/{id}``, one a
   request.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from xero_api.codec import encode_json
from xero_api.resources import ACCOUNTING, Resource, WriteRule, resource_for_stream

from .directory import Directory, key_parts, key_value, norm
from .organisation import Organisation, RequestRejected
from .outcomes import Outcomes
from .records import LINE_FIELDS, drop_fields, get_path

__all__ = ["WRITE_MODES", "Loader", "idempotency_key"]

WRITE_MODES = ("upsert", "create_only", "update_only")

_LINE_IDS = ("LineItemID", "JournalLineID")
# Write requests in flight at once (Xero allows 5 calls in progress per organisation; the
# client waits for the minute budget): overlapping round trips lets the target use its budget.
IN_FLIGHT = 3
# Elements per status-step request: an element is only an ID and a status (~70 bytes), so a
# step request can carry more than a document batch and stay far below Xero's 3.5 MB.
STEP_BATCH = 200
# (method, path, params, body, Idempotency-Key) of one write request.
_Call = tuple[str, str, Mapping[str, str], Any, str]
# Xero's warning when it drops an unknown account code from a line (xero-write-rules §11).
_DROPPED_ACCOUNT = "has been removed as it does not match a recognised account"
# Xero's refusals of a value another document already holds (xero-write-rules §14; the credit
# note, quote and tracking texts are the sandbox's, Xero's own are unpublished), with the
# field that clashed: the reject names the document holding it.
_CLASHES = (
    ("Invoice # must be unique", "InvoiceNumber"),
    ("Credit Note # must be unique", "CreditNoteNumber"),
    ("Quote # must be unique", "QuoteNumber"),
    ("Order number must be unique", "PurchaseOrderNumber"),
    ("is already assigned to another contact", "Name"),
    ("Another contact has this contact number", "ContactNumber"),
    ("The Account Number already exists", "AccountNumber"),
    ("Price List Item with Code", "Code"),
    ("Please enter a unique Code", "Code"),
    ("Please enter a unique Name", "Name"),
    ("is already in use", "Name"),  # tracking categories and options
)
# Fields that name a document in a reject, after its ID.
_NAMING_FIELDS = (
    "Type",
    "InvoiceNumber",
    "CreditNoteNumber",
    "PurchaseOrderNumber",
    "QuoteNumber",
    "ContactNumber",
    "Code",
    "Name",
)


def idempotency_key(
    tenant_id: str, method: str, path: str, params: Mapping[str, str], body: Any
) -> str:
    """A key derived from everything the request says: the same request always has the same key."""
    digest = hashlib.sha256()
    query = "&".join(f"{k}={params[k]}" for k in sorted(params))
    digest.update(f"{tenant_id}\n{method}\n{path}?{query}\n".encode())
    digest.update(encode_json(_canonical(body)))
    return f"target-xero-{digest.hexdigest()}"


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


@dataclass(eq=False)
class Pending:
    """One record on its way to Xero."""

    stream: str
    record: dict[str, Any]
    payload: dict[str, Any]
    keyed: dict[str, Any]
    source_id: str | None
    reasons: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # resource stream of each unresolved ref
    target_id: str | None = None
    action: str = ""  # create, update or exists (create_only found it)
    follow: tuple[str, ...] = ()  # statuses to move the written document through
    written: bool = False


class Loader:
    """Writes batches of records into one organisation and accounts for every record."""

    def __init__(
        self,
        writer: Organisation,
        outcomes: Outcomes,
        directory: Directory,
        *,
        batch_size: int,
        dry_run: bool,
        logger: logging.Logger,
        write_mode: str = "upsert",
    ) -> None:
        """Bind the organisation, the outcomes and the shared cache of the organisation."""
        assert write_mode in WRITE_MODES
        self._writer = writer
        self._outcomes = outcomes
        self._dir = directory
        self._batch_size = batch_size
        self._dry_run = dry_run
        self._write_mode = write_mode
        self._logger = logger
        self._placeholders = 0
        self._sent: Counter[str] = Counter()
        self._pool: ThreadPoolExecutor | None = None

    # -- entry point ---------------------------------------------------------------------

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
        the batch with the same key (:meth:`_supersede`); ``convert`` shapes a copy of each
        record for Xero (dates), the record itself is kept as it arrived."""
        rule = resource.write
        assert rule is not None
        pending = [self._prepare(stream, resource, r, convert) for r in records]
        self._resolve_references(resource, pending)
        pending = self._supersede(resource, pending, key_properties)
        held = [
            p
            for p in pending
            if p.missing and len(p.missing) == len(p.reasons) and set(p.missing) <= set(waiting)
        ]
        live = self._reject_failed([p for p in pending if p not in held])
        while live:
            deferred = self._match(resource, live)
            live = self._reject_failed(live)
            self._send(resource, [p for p in live if p not in deferred])
            live = deferred
        return [p.record for p in held]

    def _prepare(
        self,
        stream: str,
        resource: Resource,
        record: dict[str, Any],
        convert: Callable[[dict[str, Any]], None] | None,
    ) -> Pending:
        payload = copy.deepcopy(record)
        if convert is not None:
            convert(payload)
        for name in list(payload):
            if name == "TenantID" or name.startswith("_sdc_"):
                payload.pop(name)
        source_id = payload.get(resource.primary_key)
        assert resource.write is not None
        _write_shape(resource.write, payload)
        for line_field in LINE_FIELDS:
            for line in payload.get(line_field) or ():
                if isinstance(line, dict):
                    if line.get("AccountCode"):
                        line.pop("AccountID", None)
                    if line.get("ItemCode"):
                        line.pop("Item", None)
        return Pending(
            stream=stream,
            record=record,
            payload=payload,
            keyed=payload,
            source_id=source_id if isinstance(source_id, str) and source_id else None,
        )

    def _supersede(
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
        seen: set[tuple[str, str]] = set()
        kept: list[Pending] = []
        for item in reversed(pending):
            if key_properties:
                values = [item.record.get(name) for name in key_properties]
                found = {("", repr(values))} if None not in values else set()
            else:
                found = {
                    (spec, repr(value))
                    for spec in keys
                    if (value := key_value(item.keyed, spec)) is not None
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

    def _reject_failed(self, pending: list[Pending]) -> list[Pending]:
        live = []
        for item in pending:
            if item.reasons:
                self._outcomes.rejected(item.stream, item.record, item.reasons)
            else:
                live.append(item)
        return live

    # -- references ----------------------------------------------------------------------

    def _resolve_references(self, resource: Resource, pending: list[Pending]) -> None:
        assert resource.write is not None
        for path, target_stream, key_field in resource.write.references:
            # ``name>field``: a value naming the document, sent as its ID in ``field``.
            path, _, into = path.partition(">")
            slots = [(p, parent, name) for p in pending for parent, name in _slots(p.payload, path)]
            if not slots:
                continue
            if key_field == "":
                self._resolve_objects(target_stream, slots)
            elif path.endswith("Tracking"):
                self._resolve_tracking(slots)
            else:
                self._resolve_codes(target_stream, key_field, slots, into)
        rule = resource.write
        kept = {*rule.fields, resource.primary_key, rule.status_field}
        if resource.parent is not None:
            kept.add(resource.parent[1])
        for item in pending:
            item.keyed = copy.deepcopy(item.payload)
            drop_fields(item.payload, rule.read_only)
            if rule.fields:
                for name in list(item.payload):
                    if name not in kept:
                        item.payload.pop(name)

    def _resolve_objects(
        self, target_stream: str, slots: list[tuple[Pending, dict[str, Any], str]]
    ) -> None:
        target = resource_for_stream(target_stream)
        assert target.write is not None
        fields = [target.primary_key]
        keys = self._dir.natural_keys(target)
        fields += [k for k in keys if "+" not in k]
        fields += [key_parts(k)[0] for k in keys if "+" in k]
        unresolved = [s for s in slots if isinstance(s[1].get(s[2]), dict)]
        for item, parent, name in slots:
            if parent.get(name) is not None and not isinstance(parent.get(name), dict):
                item.reasons.append(f"{name}: expected an object identifying a {target.noun}")
        for ref_field in fields:
            if not unresolved:
                break
            values = [get_path(parent[name], ref_field) for _, parent, name in unresolved]
            self._dir.ensure(target_stream, ref_field, values)
            still = []
            for item, parent, name in unresolved:
                xero_id = self._dir.find(
                    target_stream, ref_field, get_path(parent[name], ref_field)
                )
                if xero_id:
                    parent[name] = {target.primary_key: xero_id}
                else:
                    still.append((item, parent, name))
            unresolved = still
        for item, parent, name in unresolved:
            given = {k: v for k, v in parent[name].items() if k in fields and v not in (None, "")}
            if given:
                shown = ", ".join(f"{k}={v!r}" for k, v in given.items())
                item.reasons.append(
                    f"{name} ({shown}) matches no {target.noun} in the target organisation"
                )
                item.missing.append(target_stream)
            else:
                parent.pop(name)

    def _resolve_codes(
        self,
        target_stream: str,
        key_field: str,
        slots: list[tuple[Pending, dict[str, Any], str]],
        into: str = "",
    ) -> None:
        """Resolve values naming a document by ``key_field``. A compound ``A+B`` names it
        within the same record's (already resolved) ``A``: a task by its name in the project."""
        target = resource_for_stream(target_stream)
        scope = key_parts(key_field)[:-1]

        def value(parent: dict[str, Any], name: str) -> Any:
            named = parent.get(name)
            if not scope or named in (None, ""):
                return named
            within = tuple(parent.get(part) for part in scope)
            return None if None in within else (*within, named)

        lookups = [parent.get(scope[0]) if scope else parent.get(name) for _, parent, name in slots]
        self._dir.ensure(target_stream, key_field, lookups)
        for item, parent, name in slots:
            wanted = value(parent, name)
            if wanted in (None, ""):
                if parent.get(name) not in (None, ""):
                    shown = ", ".join(f"{part} missing" for part in scope)
                    item.reasons.append(f"{name} {parent[name]!r} cannot be looked up ({shown})")
                continue
            if isinstance(wanted, tuple):
                wanted = tuple(norm(v) for v in wanted)
            xero_id = self._dir.find(target_stream, key_field, wanted, claimed_too=True)
            if not xero_id:
                item.reasons.append(
                    f"{name} {parent[name]!r} matches no {target.noun} in the target organisation"
                    + (f" (within {', '.join(scope)} {parent[scope[0]]!r})" if scope else "")
                )
                item.missing.append(target_stream)
            elif into:
                parent.pop(name)
                parent[into] = xero_id
            elif key_field == target.primary_key:
                parent[name] = xero_id

    def _resolve_tracking(self, slots: list[tuple[Pending, dict[str, Any], str]]) -> None:
        names = [
            t.get("Name")
            for _, parent, name in slots
            for t in parent.get(name) or ()
            if isinstance(t, dict)
        ]
        self._dir.ensure("tracking_categories", "Name", names)
        for item, parent, name in slots:
            resolved = []
            for tracking in parent.get(name) or ():
                if not isinstance(tracking, dict):
                    continue
                category, option = tracking.get("Name"), tracking.get("Option")
                xero_id = self._dir.find("tracking_categories", "Name", category)
                doc = self._dir.doc("tracking_categories", xero_id) if xero_id else None
                options = {
                    norm(o.get("Name"))
                    for o in (doc or {}).get("Options") or ()
                    if isinstance(o, dict)
                }
                if doc is None:
                    item.reasons.append(
                        f"tracking category {category!r} does not exist in the target organisation"
                    )
                    item.missing.append("tracking_categories")
                elif norm(option) not in options:
                    item.reasons.append(f"tracking category {category!r} has no option {option!r}")
                    item.missing.append("tracking_categories")
                else:
                    resolved.append({"Name": category, "Option": option})
            parent[name] = resolved

    # -- matching ------------------------------------------------------------------------

    def _match(self, resource: Resource, pending: list[Pending]) -> list[Pending]:
        """Decide create/update/exists per record (or reject it, by the write mode); returns
        records deferred to a later request because an earlier record of the batch creates
        the same key."""
        rule = resource.write
        assert rule is not None
        pk = resource.primary_key
        stream = resource.stream
        natural_keys = self._dir.natural_keys(resource)
        with_ids = [p for p in pending if p.source_id]
        self._dir.ensure(stream, pk, [p.source_id for p in with_ids])
        for item in with_ids:
            item.target_id = self._dir.find(stream, pk, item.source_id)
        for spec in natural_keys:
            open_items = [p for p in pending if not p.target_id]
            if not open_items:
                break
            first = key_parts(spec)[0]
            self._dir.ensure(stream, spec, [get_path(p.keyed, first) for p in open_items])
            for item in open_items:
                value = key_value(item.keyed, spec)
                if value is None:
                    continue
                found = self._dir.find(stream, spec, value)
                if found:
                    item.target_id = found
                    if "+" in spec:
                        self._dir.claim(found)
        deferred: list[Pending] = []
        creating: set[tuple[str, Any]] = set()
        unmatched = (
            f"no {resource.noun} in the target organisation matches this record (by {pk} or "
            f"{' or '.join(natural_keys) or 'no natural key'})"
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
                    _strip_line_ids(item.payload)
                item.payload[pk] = item.target_id
                item.action = "update"
                self._plan_status(resource, item)
                continue
            item.payload.pop(pk, None)
            _strip_line_ids(item.payload)
            keys = {(spec, key_value(item.keyed, spec)) for spec in natural_keys}
            keys = {k for k in keys if k[1] is not None and "+" not in k[0]}
            if keys & creating:
                deferred.append(item)
                continue
            creating |= keys
            item.action = "create"
            self._plan_status(resource, item)
        return deferred

    def _plan_status(self, resource: Resource, item: Pending) -> None:
        """Send a status Xero takes now; remember the steps to the record's own status."""
        assert resource.write is not None
        status_name = resource.write.status_field
        status = item.payload.get(status_name)
        steps = dict(resource.write.status_steps).get(status) if isinstance(status, str) else None
        if not steps:
            return
        doc = self._dir.doc(resource.stream, item.target_id) if item.target_id else None
        current = doc.get(status_name) if doc else None
        if current == status:
            return
        if current in steps:
            item.payload.pop(status_name)
            item.follow = steps[steps.index(current) + 1 :]
        else:
            item.payload[status_name] = steps[0]
            item.follow = steps[1:]

    # -- sending -------------------------------------------------------------------------

    def _send(self, resource: Resource, pending: list[Pending]) -> None:
        rule = resource.write
        assert rule is not None
        updates: list[Pending] = []
        creates: list[Pending] = []
        # Records needing no document write, journaled (in order) once their statuses moved.
        quiet: list[tuple[Pending, list[str]]] = []
        moving: list[Pending] = []
        for item in pending:
            if item.action == "exists":
                # create_only: the document is not touched.
                self._known_as_own(resource, item)
                quiet.append((item, []))
            elif item.action == "update" and (doc := self._unchanged(resource, item)) is not None:
                self._known_as_own(resource, item, doc)
                keys = []
                if not self._dry_run and rule.children:
                    keys += self._write_children(resource, item, dict(doc))
                if not self._dry_run and item.follow:
                    moving.append(item)
                quiet.append((item, keys))
            elif item.action == "update" and not rule.updatable:
                quiet.append((item, []))
            elif item.action == "update":
                updates.append(item)
            else:
                creates.append(item)
        calls: list[tuple[str, str, dict[str, str], list[Pending]]] = []
        size = max(1, self._batch_size)
        params: dict[str, str] = {k: v for k, v in resource.params if k == "unitdp"}
        if resource.api is not ACCOUNTING:
            # One bare object a request: created on the collection, updated at its ID.
            for item in creates:
                calls.append((rule.create_method, _collection(resource, item), {}, [item]))
            for item in updates:
                path = _collection(resource, item)
                if rule.update_at_id:
                    path += f"/{item.target_id}"
                calls.append((rule.update_method, path, {}, [item]))
        elif rule.single_object:
            calls += [("PUT", resource.path, {}, [item]) for item in creates]
            for item in updates:
                _only_changes(
                    item.payload,
                    self._dir.doc(resource.stream, item.target_id or ""),
                    resource.primary_key,
                )
                calls.append(("POST", f"{resource.path}/{item.target_id}", {}, [item]))
        else:
            # Creates go with PUT, which only creates: Xero's POST without an ID updates the
            # document with the same number or name (xero-api-facts §3), which no matching
            # rule chose. Updates first: one may free a name or number a create takes.
            params["summarizeErrors"] = "false"
            calls += [("POST", resource.path, params, c) for c in _chunked(updates, size)]
            calls += [("PUT", resource.path, params, c) for c in _chunked(creates, size)]
        # Xero numbers a document created without its number in the order it arrives: such
        # requests go one at a time, so a replay numbers them alike.
        natural_keys = self._dir.natural_keys(resource)
        numbered = all(
            any(key_value(item.keyed, spec) is not None for spec in natural_keys)
            for item in creates
        )
        moving += self._requests(resource, calls, ordered=not numbered)
        moved = self._follow_statuses(resource, moving)
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
            doc = self._dir.doc(resource.stream, item.target_id or "") or {}
        self._dir.remember(resource.stream, doc, source_id=item.source_id)

    def _unchanged(self, resource: Resource, item: Pending) -> Mapping[str, Any] | None:
        """The document an update matched, when it already says all the record says."""
        doc = self._dir.doc(resource.stream, item.target_id or "")
        if doc is None:
            return None
        assert resource.write is not None
        return doc if _contains(_write_shape(resource.write, dict(doc)), item.payload) else None

    def _exchange(
        self, requests: list[_Call], *, ordered: bool = False
    ) -> Iterator[Mapping[str, Any] | RequestRejected]:
        """Send write requests, up to :data:`IN_FLIGHT` at once unless ``ordered``; the
        answers (or Xero's refusals) in request order."""
        if ordered or len(requests) < 2:
            return map(self._write_one, requests)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="target-xero-write")
        return self._pool.map(self._write_one, requests)

    def _write_one(self, call: _Call) -> Mapping[str, Any] | RequestRejected:
        method, path, params, body, key = call
        try:
            return self._writer.write(method, path, params, body, key)
        except RequestRejected as exc:
            return exc

    def close(self) -> None:
        """Stop the threads that send writes and drop the directory's spool (end of run)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self._dir.close()

    def _requests(
        self,
        resource: Resource,
        calls: list[tuple[str, str, dict[str, str], list[Pending]]],
        *,
        ordered: bool,
    ) -> list[Pending]:
        """Send the document writes and settle each record in request order; the written
        records that still have statuses to move."""
        requests: list[_Call] = []
        for method, path, params, chunk in calls:
            body = _body(resource, [item.payload for item in chunk])
            requests.append((method, path, params, body, self._key(method, path, params, body)))
        if self._dry_run:
            refused = self._predict_refusals(resource, [i for c in calls for i in c[3]])
            for (*_, key), (_, _, _, chunk) in zip(requests, calls, strict=True):
                for item in chunk:
                    if id(item) in refused:
                        self._outcomes.rejected(item.stream, item.record, refused[id(item)])
                    else:
                        self._dry_result(resource, item, key)
            return []
        moving: list[Pending] = []
        answers = self._exchange(requests, ordered=ordered)
        for (method, path, _, _, key), (_, _, _, chunk), answer in zip(
            requests, calls, answers, strict=True
        ):
            self._settle_request(resource, method, path, chunk, key, answer)
            moving += [item for item in chunk if item.follow and item.written]
        return moving

    def _settle_request(
        self,
        resource: Resource,
        method: str,
        path: str,
        chunk: list[Pending],
        key: str,
        answer: Mapping[str, Any] | RequestRejected,
    ) -> None:
        if isinstance(answer, RequestRejected):
            aligned = len(answer.elements) == len(chunk)
            refused = [
                (
                    item,
                    (_element_messages(answer.elements[index]) if aligned else [])
                    or answer.messages,
                )
                for index, item in enumerate(chunk)
            ]
            self._refuse(resource, refused, key)
            return
        elements = answer.get(resource.envelope)
        if resource.api is not ACCOUNTING:
            # A create answers the record; an update answers 204: the document is what it was
            # plus what was sent.
            item = chunk[0]
            known = self._dir.doc(resource.stream, item.target_id or "") or {}
            elements = [dict(answer) if answer else {**known, **item.payload}]
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
            return
        refused = []
        for item, element in zip(chunk, elements, strict=True):
            messages = self._settle(resource, item, element, key)
            if messages:
                refused.append((item, messages))
        self._refuse(resource, refused, key)
        for item, element in zip(chunk, elements, strict=True):
            if resource.write and resource.write.children and isinstance(element, dict):
                self._write_children(resource, item, element)

    def _follow_statuses(self, resource: Resource, items: list[Pending]) -> dict[int, list[str]]:
        """Move written documents through their remaining statuses, step by step: each step of
        up to :data:`STEP_BATCH` documents is one ``POST /{path}`` of ``{ID, Status}`` elements
        (Xero updates elements carrying their ID). Payments (not updatable) take a status only
        as ``POST /Payments/{id}``, one a request. The keys of the writes that moved each
        document, by ``id(item)``; a document whose step fails is rejected and stops there."""
        rule = resource.write
        assert rule is not None
        keys: dict[int, list[str]] = {id(item): [] for item in items}
        batched = not rule.single_object and rule.updatable
        pk = resource.primary_key
        method = rule.status_method
        active = [item for item in items if item.follow]
        step = 0
        while active:
            moves = [(item, item.follow[step]) for item in active]
            if batched:
                groups = [
                    (resource.path, {"summarizeErrors": "false"}, chunk)
                    for chunk in _chunked(moves, STEP_BATCH)
                ]
            else:
                groups = [
                    (f"{_collection(resource, m[0])}/{m[0].target_id}", {}, [m]) for m in moves
                ]
            requests: list[_Call] = []
            for path, params, chunk in groups:
                if method == "PATCH":
                    body: Any = {rule.status_field: chunk[0][1]}
                else:
                    body = {
                        resource.envelope: [{pk: item.target_id, "Status": s} for item, s in chunk]
                    }
                requests.append((method, path, params, body, self._key(method, path, params, body)))
            done: list[Pending] = []
            answers = self._exchange(requests)
            for (_, path, _, _, key), (_, _, chunk), answer in zip(
                requests, groups, answers, strict=True
            ):
                moved = self._moved(resource, path, chunk, answer)
                for item in moved:
                    keys[id(item)].append(key)
                done += moved
            step += 1
            active = [item for item in done if len(item.follow) > step]
        return keys

    def _moved(
        self,
        resource: Resource,
        path: str,
        moves: list[tuple[Pending, str]],
        answer: Mapping[str, Any] | RequestRejected,
    ) -> list[Pending]:
        """Settle one status-step request, answer elements matched back by position: a
        failed element rejects its record; the documents moved."""
        if isinstance(answer, RequestRejected):
            # One document: Xero's messages for the request, as ever.
            aligned = len(moves) > 1 and len(answer.elements) == len(moves)
            for index, (item, status) in enumerate(moves):
                messages = _element_messages(answer.elements[index]) if aligned else []
                self._follow_failed(item, status, messages or answer.messages)
            return []
        elements = answer.get(resource.envelope)
        if not isinstance(elements, list) or len(elements) != len(moves):
            if len(moves) == 1:  # as ever for one document: no echo, no complaint
                elements = [elements[0] if isinstance(elements, list) and elements else {}]
            else:
                for item, status in moves:
                    self._follow_failed(
                        item,
                        status,
                        [
                            f"Xero's answer to POST {path} did not list one element per "
                            f"document sent (sent {len(moves)}); re-run to reconcile"
                        ],
                    )
                return []
        moved: list[Pending] = []
        for (item, status), element in zip(moves, elements, strict=True):
            messages = _element_messages(element) if isinstance(element, dict) else []
            if messages:
                self._follow_failed(item, status, messages)
                continue
            if isinstance(element, dict):
                self._dir.remember(resource.stream, element, source_id=item.source_id)
            moved.append(item)
        return moved

    def _follow_failed(self, item: Pending, status: str, messages: list[str]) -> None:
        self._outcomes.rejected(
            item.stream,
            item.record,
            [f"written as {item.target_id} but not moved to {status}: {m}" for m in messages],
        )

    def _key(self, method: str, path: str, params: Mapping[str, str], body: Any) -> str:
        # Two identical requests in one run are two documents (two equal payments); numbering
        # repeats keeps their keys apart, and a replay of the same input numbers them alike.
        key = idempotency_key(self._writer.tenant_id, method, path, params, body)
        self._sent[key] += 1
        if self._sent[key] > 1:
            key = idempotency_key(
                self._writer.tenant_id,
                method,
                path,
                params,
                {"repeat": self._sent[key], "body": body},
            )
        return key

    def _settle(
        self, resource: Resource, item: Pending, element: Any, key: str
    ) -> list[str] | None:
        """Account for one answer element; Xero's messages when it refused the element
        (rejected by the caller, which names what a clash clashed with)."""
        pk = resource.primary_key
        if not isinstance(element, dict):
            return ["Xero's answer element is not an object"]
        messages = _element_messages(element)
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
        known = item.action == "create" and self._dir.doc(resource.stream, xero_id) is not None
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
        xero_id = str(element[resource.primary_key])
        self._dir.remember(resource.stream, element, source_id=item.source_id)
        self._dir.claim(xero_id)
        item.target_id = xero_id
        dropped = [w for w in warnings if _DROPPED_ACCOUNT in w]
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
        """Reject records Xero refused; a refusal because another document already holds a
        number or name (:data:`_CLASHES`) names that document, looked up in batches. A create
        refused because of a document that matches the record by its keys and says what it
        says is the record's own, written by an earlier attempt of the same request (a retry
        after Xero's 6-minute idempotency window): it is accounted as created."""
        wanted: dict[str, list[Any]] = {}
        for item, messages in refused:
            for message in messages:
                field = _clash_field(message)
                value = get_path(item.payload, field) if field else None
                if field and value not in (None, ""):
                    wanted.setdefault(field, []).append(value)
        holders = {
            field: self._dir.holding(resource.stream, field, values)
            for field, values in wanted.items()
        }
        for item, messages in refused:
            reasons = []
            for message in messages:
                field = _clash_field(message)
                holder = None
                if field:
                    candidates = holders.get(field, {}).get(norm(get_path(item.payload, field)))
                    holder = _holder(resource, item, candidates or [])
                if holder is not None and self._own(resource, item, holder):
                    self._accept(
                        resource,
                        item,
                        holder,
                        key,
                        None,
                        [
                            f"Xero refused a retry of this create ({message}); the earlier attempt "
                            f"had written it as {holder[resource.primary_key]}"
                        ],
                    )
                    break
                if holder is None:
                    reasons.append(message)
                    continue
                reasons.append(
                    f"{message} It is held by {_named(resource, holder)}, which this record's "
                    "keys did not match, so that document was left unchanged."
                )
            else:
                self._outcomes.rejected(item.stream, item.record, reasons)

    def _own(self, resource: Resource, item: Pending, doc: Mapping[str, Any]) -> bool:
        """Whether a document Xero holds is this create's own: it matches the record's keys
        and says everything the record says."""
        if item.action != "create":
            return False
        keys = self._dir.natural_keys(resource)
        matches = any(
            (value := key_value(item.keyed, spec)) is not None and key_value(doc, spec) == value
            for spec in keys
        )
        return matches and _contains(doc, item.payload)

    def _predict_refusals(self, resource: Resource, items: list[Pending]) -> dict[int, list[str]]:
        """Dry run: the creates Xero would refuse because another document already holds a
        value it keeps unique (the table's ``unique``), with the reason, by ``id(item)``."""
        rule = resource.write
        assert rule is not None
        creates = [item for item in items if item.action == "create"]
        reasons: dict[int, list[str]] = {}
        for name, kind in rule.unique:
            subject = [
                item
                for item in creates
                if get_path(item.payload, name) not in (None, "")
                and (not kind or item.payload.get("Type") == kind)
            ]
            if not subject:
                continue
            values = [get_path(item.payload, name) for item in subject]
            holders = self._dir.holding(resource.stream, name, values)
            for item in subject:
                candidates = [
                    doc
                    for doc in holders.get(norm(get_path(item.payload, name))) or []
                    # A contact's name is unique among active contacts only.
                    if name != "Name" or doc.get("ContactStatus") != "ARCHIVED"
                ]
                holder = _holder(resource, item, candidates)
                if holder is not None:
                    reasons.setdefault(id(item), []).append(
                        f"{name} {get_path(item.payload, name)!r} is held by "
                        f"{_named(resource, holder)}, which this record's keys did not match: "
                        "Xero would refuse to create it (dry run)"
                    )
        return reasons

    def _dry_result(self, resource: Resource, item: Pending, key: str) -> None:
        if item.action == "update":
            self._known_as_own(resource, item)
            self._outcomes.written(
                item.stream, "would_update", item.target_id, key, source_id=item.source_id
            )
            return
        self._placeholders += 1
        placeholder = f"dry-run-{self._placeholders:08d}"
        doc = {**item.keyed, resource.primary_key: placeholder}
        self._dir.remember(resource.stream, doc, source_id=item.source_id)
        self._outcomes.written(item.stream, "would_create", None, key, source_id=item.source_id)

    def _write_children(
        self, resource: Resource, item: Pending, element: dict[str, Any]
    ) -> list[str]:
        """Add missing sub-collection members; the idempotency keys of the writes sent."""
        assert resource.write is not None
        sent: list[str] = []
        xero_id = element.get(resource.primary_key)
        existing = self._dir.doc(resource.stream, str(xero_id)) or element
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
            key = self._key("PUT", path, {}, body)
            try:
                reply = self._writer.write("PUT", path, {}, body, key)
            except RequestRejected as exc:
                self._outcomes.rejected(
                    item.stream, item.record, [f"{child}: {m}" for m in exc.messages]
                )
                continue
            sent.append(key)
            merged = dict(existing)
            merged[child] = [*(existing.get(child) or []), *(reply.get(child) or [])]
            self._dir.remember(resource.stream, merged, source_id=item.source_id)
        return sent


def _collection(resource: Resource, item: Pending) -> str:
    """The path a record is created on (a child's under its parent in the target)."""
    if resource.parent is None:
        return resource.request_path()
    field = resource.parent[1]
    return resource.request_path(**{field: str(item.payload.get(field))})


def _body(resource: Resource, payloads: list[dict[str, Any]]) -> Any:
    """A write request's body: Accounting's envelope of elements, or the other APIs' bare
    object with only the fields it takes."""
    if resource.api is ACCOUNTING:
        return {resource.envelope: payloads}
    assert resource.write is not None
    return {k: v for k, v in payloads[0].items() if k in resource.write.fields}


def _write_shape(rule: WriteRule, record: dict[str, Any]) -> dict[str, Any]:
    """A record with its ``writes_as`` fields filled as the API takes them, in place."""
    for source, name in rule.writes_as:
        value = get_path(record, source)
        if record.get(name) is None and value is not None:
            record[name] = value
    return record


def _slots(node: Any, path: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Every (parent, key) a reference path reaches, ``*`` walking lists."""
    parts = path.split(".")

    def walk(current: Any, rest: list[str]) -> Iterator[tuple[dict[str, Any], str]]:
        head = rest[0]
        if head == "*":
            if isinstance(current, list):
                for element in current:
                    yield from walk(element, rest[1:])
            return
        if not isinstance(current, dict) or current.get(head) is None:
            return
        if len(rest) == 1:
            yield current, head
        else:
            yield from walk(current[head], rest[1:])

    yield from walk(node, parts)


def _only_changes(payload: dict[str, Any], doc: Mapping[str, Any] | None, pk: str) -> None:
    """Keep only fields that differ from the stored document (Xero refuses, for example, an
    account update that repeats its Status next to other changes)."""
    if doc is None:
        return
    for name in list(payload):
        if name != pk and _contains(doc.get(name), payload[name]):
            payload.pop(name)


def _strip_line_ids(payload: dict[str, Any]) -> None:
    for line_field in LINE_FIELDS:
        for line in payload.get(line_field) or ():
            if isinstance(line, dict):
                for name in _LINE_IDS:
                    line.pop(name, None)


def _contains(doc: Any, wanted: Any) -> bool:
    """Whether a document already says everything ``wanted`` says (values compared normalised)."""
    if isinstance(wanted, Mapping):
        if not isinstance(doc, Mapping):
            return False
        return all(_contains(doc.get(k), v) for k, v in wanted.items() if v is not None)
    if isinstance(wanted, list):
        if not isinstance(doc, list) or len(doc) != len(wanted):
            return False
        return all(_contains(d, w) for d, w in zip(doc, wanted, strict=True))
    return bool(norm(doc) == norm(wanted))


def _element_messages(element: Mapping[str, Any]) -> list[str]:
    messages = []
    for problem in element.get("ValidationErrors") or ():
        if isinstance(problem, Mapping) and isinstance(problem.get("Message"), str):
            messages.append(problem["Message"])
    for line_field in LINE_FIELDS:
        for line in element.get(line_field) or ():
            if isinstance(line, Mapping):
                for problem in line.get("ValidationErrors") or ():
                    if isinstance(problem, Mapping) and isinstance(problem.get("Message"), str):
                        messages.append(problem["Message"])
    return messages


def _clash_field(message: str) -> str | None:
    """The field whose value another document holds, when Xero refused for that reason."""
    return next((field for fragment, field in _CLASHES if fragment in message), None)


def _holder(
    resource: Resource, item: Pending, candidates: list[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The document a clash is with: not the record's own, of its type, active first."""
    pk = resource.primary_key
    others = [doc for doc in candidates if doc.get(pk) != item.target_id]
    kind = item.payload.get("Type")
    if kind:
        others = [doc for doc in others if doc.get("Type") in (None, kind)]
    others.sort(key=lambda doc: (doc.get("ContactStatus") or doc.get("Status")) == "ARCHIVED")
    return others[0] if others else None


def _named(resource: Resource, doc: Mapping[str, Any]) -> str:
    """A document as a reject names it: entity, ID, number or name, contact, status."""
    pk = resource.primary_key
    parts = [f"{pk} {doc.get(pk)}"]
    parts += [f"{name} {doc[name]!r}" for name in _NAMING_FIELDS if doc.get(name)]
    contact = doc.get("Contact")
    if isinstance(contact, Mapping) and contact.get("Name"):
        parts.append(f"contact {contact['Name']!r}")
    status = doc.get("Status") or doc.get("ContactStatus")
    if status:
        parts.append(f"status {status}")
    return f"the existing {resource.noun} ({', '.join(parts)})"


def _echo_problem(
    resource: Resource, natural_keys: Sequence[str], item: Pending, element: Mapping[str, Any]
) -> str | None:
    """Why an answer element is not the echo of the record sent at its position, if it is not."""
    pk = resource.primary_key
    sent_id = item.payload.get(pk)
    if sent_id and norm(element.get(pk)) != norm(sent_id):
        return (
            f"Xero answered with {pk} {element.get(pk)!r} for the element that updates {sent_id!r}"
        )
    for spec in natural_keys:
        if "+" in spec:
            continue
        sent = item.payload.get(spec)
        if sent not in (None, "") and norm(element.get(spec)) != norm(sent):
            return (
                f"Xero answered with {spec} {element.get(spec)!r} for the element sent as {sent!r}"
            )
    return None


def _chunked(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

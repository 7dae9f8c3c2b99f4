"""A record on its way to Xero, and the payload helpers every write stage shares."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xero_api.resources import Lines, Resource, WriteRule

from .directory import norm
from .records import get_path

__all__ = [
    "Pending",
    "collection_path",
    "contains",
    "element_messages",
    "only_changes",
    "prepare",
    "strip_line_ids",
    "write_shape",
]


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


def prepare(
    stream: str,
    resource: Resource,
    record: dict[str, Any],
    convert: Callable[[dict[str, Any]], None] | None,
) -> Pending:
    """A record as its payload for Xero: a converted copy without the tap's own fields, in
    the shape the API takes; the record itself is kept as it arrived."""
    payload = copy.deepcopy(record)
    if convert is not None:
        convert(payload)
    for name in list(payload):
        if name == "TenantID" or name.startswith("_sdc_"):
            payload.pop(name)
    source_id = payload.get(resource.id_field)
    assert resource.write is not None
    write_shape(resource.write, payload)
    for line in _lines(payload, resource.write.lines):
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
        # Rejected before matching: such a record is not the document its key names.
        reasons=[u.reason for u in resource.write.unwritable if u.matches(record)],
    )


def collection_path(resource: Resource, item: Pending) -> str:
    """The path a record is created on (a child's under its parent in the target)."""
    if resource.read.parent is None:
        return resource.write_path()
    field = resource.read.parent.field
    return resource.write_path(**{field: str(item.payload.get(field))})


def write_shape(rule: WriteRule, record: dict[str, Any]) -> dict[str, Any]:
    """A record with its ``writes_as`` fields filled as the API takes them, in place."""
    for copied in rule.writes_as:
        value = get_path(record, copied.source)
        if record.get(copied.field) is None and value is not None:
            record[copied.field] = value
    return record


def only_changes(payload: dict[str, Any], doc: Mapping[str, Any] | None, pk: str) -> None:
    """Keep only fields that differ from the stored document (Xero refuses, for example, an
    account update that repeats its Status next to other changes)."""
    if doc is None:
        return
    for name in list(payload):
        if name != pk and contains(doc.get(name), payload[name]):
            payload.pop(name)


def _lines(document: Mapping[str, Any], lines: Lines | None) -> list[dict[str, Any]]:
    """The lines of a document (payload or answer element) that are objects."""
    if lines is None:
        return []
    return [line for line in document.get(lines.field) or () if isinstance(line, dict)]


def strip_line_ids(payload: dict[str, Any], lines: Lines | None) -> None:
    """Drop the lines' own IDs (a document written anew, or to another organisation)."""
    if lines is not None:
        for line in _lines(payload, lines):
            line.pop(lines.id_field, None)


def contains(doc: Any, wanted: Any) -> bool:
    """Whether a document already says everything ``wanted`` says (values compared normalised)."""
    if isinstance(wanted, Mapping):
        if not isinstance(doc, Mapping):
            return False
        return all(contains(doc.get(k), v) for k, v in wanted.items() if v is not None)
    if isinstance(wanted, list):
        if not isinstance(doc, list) or len(doc) != len(wanted):
            return False
        return all(contains(d, w) for d, w in zip(doc, wanted, strict=True))
    return bool(norm(doc) == norm(wanted))


def element_messages(resource: Resource, element: Mapping[str, Any]) -> list[str]:
    """Xero's validation messages in an answer element, its own and its lines'."""
    messages = []
    lines = resource.write.lines if resource.write else None
    for part in (element, *_lines(element, lines)):
        for problem in part.get("ValidationErrors") or ():
            if isinstance(problem, Mapping) and isinstance(problem.get("Message"), str):
                messages.append(problem["Message"])
    return messages

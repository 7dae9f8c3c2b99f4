"""Why Xero refused a record, told in full: a clash names the document already holding the
number or name; a clash with the record's own earlier write is no refusal at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xero_api.resources import Resource

from .directory import Directory, key_value, norm
from .pending import Pending, contains
from .records import get_path

__all__ = ["Refusals", "Verdict"]

# Xero's refusals of a value another document already holds (Xero's own texts; the credit
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


@dataclass
class Verdict:
    """A refused record's fate: rejected with ``reasons``, or (``own`` set) written after all,
    as the document ``own`` that an earlier attempt of the same create wrote (``reasons``
    then hold the warning)."""

    item: Pending
    reasons: list[str]
    own: Mapping[str, Any] | None = None


class Refusals:
    """Explains refusals, looking the documents they clash with up in batches."""

    def __init__(self, directory: Directory) -> None:
        """Look clashing documents up through ``directory``."""
        self._dir = directory

    def explain(
        self, resource: Resource, refused: list[tuple[Pending, list[str]]]
    ) -> list[Verdict]:
        """The verdicts on records Xero refused; a refusal because another document already holds a
        number or name (:data:`_CLASHES`) names that document, looked up in batches. A create
        refused because of a document that matches the record by its keys and says what it
        says is the record's own, written by an earlier attempt of the same request (a retry
        after Xero's 6-minute idempotency window): its verdict says so."""
        wanted: dict[str, list[Any]] = {}
        for item, messages in refused:
            for message in messages:
                field = _clash_field(message)
                value = get_path(item.payload, field) if field else None
                if field and value not in (None, ""):
                    wanted.setdefault(field, []).append(value)
        holders = {
            field: self._dir.holding(resource, field, values) for field, values in wanted.items()
        }
        verdicts = []
        for item, messages in refused:
            reasons = []
            for message in messages:
                field = _clash_field(message)
                holder = None
                if field:
                    candidates = holders.get(field, {}).get(norm(get_path(item.payload, field)))
                    holder = _holder(resource, item, candidates or [])
                if holder is not None and self._own(resource, item, holder):
                    warning = (
                        f"Xero refused a retry of this create ({message}); the earlier attempt "
                        f"had written it as {holder[resource.id_field]}"
                    )
                    verdicts.append(Verdict(item, [warning], own=holder))
                    break
                if holder is None:
                    reasons.append(message)
                    continue
                reasons.append(
                    f"{message} It is held by {named(resource, holder)}, which this record's "
                    "keys did not match, so that document was left unchanged."
                )
            else:
                verdicts.append(Verdict(item, reasons))
        return verdicts

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
        return matches and contains(doc, item.payload)

    def predict(self, resource: Resource, items: list[Pending]) -> dict[int, list[str]]:
        """Dry run: the creates Xero would refuse because another document already holds a
        value it keeps unique (the table's ``unique``), with the reason, by ``id(item)``."""
        rule = resource.write
        assert rule is not None
        creates = [item for item in items if item.action == "create"]
        reasons: dict[int, list[str]] = {}
        for unique in rule.unique:
            name, kind = unique.field, unique.of_type
            subject = [
                item
                for item in creates
                if get_path(item.payload, name) not in (None, "")
                and (not kind or item.payload.get("Type") == kind)
            ]
            if not subject:
                continue
            values = [get_path(item.payload, name) for item in subject]
            holders = self._dir.holding(resource, name, values)
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
                        f"{named(resource, holder)}, which this record's keys did not match: "
                        "Xero would refuse to create it (dry run)"
                    )
        return reasons


def _clash_field(message: str) -> str | None:
    """The field whose value another document holds, when Xero refused for that reason."""
    return next((field for fragment, field in _CLASHES if fragment in message), None)


def _holder(
    resource: Resource, item: Pending, candidates: list[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The document a clash is with: not the record's own, of its type, active first."""
    pk = resource.id_field
    others = [doc for doc in candidates if doc.get(pk) != item.target_id]
    kind = item.payload.get("Type")
    if kind:
        others = [doc for doc in others if doc.get("Type") in (None, kind)]
    others.sort(key=lambda doc: (doc.get("ContactStatus") or doc.get("Status")) == "ARCHIVED")
    return others[0] if others else None


def named(resource: Resource, doc: Mapping[str, Any]) -> str:
    """A document as a reject names it: entity, ID, number or name, contact, status."""
    pk = resource.id_field
    parts = [f"{pk} {doc.get(pk)}"]
    parts += [f"{name} {doc[name]!r}" for name in _NAMING_FIELDS if doc.get(name)]
    contact = doc.get("Contact")
    if isinstance(contact, Mapping) and contact.get("Name"):
        parts.append(f"contact {contact['Name']!r}")
    status = doc.get("Status") or doc.get("ContactStatus")
    if status:
        parts.append(f"status {status}")
    return f"the existing {resource.noun} ({', '.join(parts)})"

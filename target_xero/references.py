"""References of a record (a contact, an account code, tracking) resolved to the IDs of the
target organisation's documents, through the directory."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from xero_api.resources import Key, Reference, Resource, resource_for_stream

from .directory import Directory, norm
from .pending import Pending
from .records import drop_fields, get_path

__all__ = ["References"]


class References:
    """Resolves the table's ``references`` of a batch; what resolves to nothing is a reason
    (and, when a later record may still create it, the resource it waits for)."""

    def __init__(self, directory: Directory) -> None:
        """Look documents up through ``directory``."""
        self._dir = directory

    def resolve(self, resource: Resource, pending: list[Pending]) -> None:
        """Resolve every reference of the batch, then keep a copy of each payload as keyed
        (for matching) and drop the fields Xero does not take."""
        assert resource.write is not None
        for ref in resource.write.references:
            slots = [(p, parent, name) for p in pending for parent, name in _slots(p.payload, ref)]
            if not slots:
                continue
            if ref.option_name:
                self._resolve_option_names(ref.stream, slots, ref.sends_as)
            elif ref.by is None:
                self._resolve_objects(ref.stream, slots)
            elif ref.options:
                self._resolve_tracking(slots)
            else:
                self._resolve_codes(ref.stream, ref.by, slots, ref.sends_as)
        rule = resource.write
        kept = {*rule.fields, resource.id_field, rule.status_field}
        if resource.read.parent is not None:
            kept.add(resource.read.parent.field)
        for item in pending:
            item.keyed = copy.deepcopy(item.payload)
            drop_fields(item.payload, rule.read_only, rule.lines.field if rule.lines else "")
            if rule.fields:
                for name in list(item.payload):
                    if name not in kept:
                        item.payload.pop(name)

    def _resolve_objects(
        self, target_stream: str, slots: list[tuple[Pending, dict[str, Any], str]]
    ) -> None:
        target = resource_for_stream(target_stream)
        assert target.write is not None
        fields = [target.id_field]
        keys = self._dir.natural_keys(target)
        fields += [k.first for k in keys if not k.compound]
        fields += [k.first for k in keys if k.compound]
        unresolved = [s for s in slots if isinstance(s[1].get(s[2]), dict)]
        for item, parent, name in slots:
            if parent.get(name) is not None and not isinstance(parent.get(name), dict):
                item.reasons.append(f"{name}: expected an object identifying a {target.noun}")
        for ref_field in fields:
            if not unresolved:
                break
            values = [get_path(parent[name], ref_field) for _, parent, name in unresolved]
            self._dir.ensure(target, Key(ref_field), values)
            still = []
            for item, parent, name in unresolved:
                xero_id = self._dir.find(target, Key(ref_field), get_path(parent[name], ref_field))
                if xero_id:
                    parent[name] = {target.id_field: xero_id}
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
        key: Key,
        slots: list[tuple[Pending, dict[str, Any], str]],
        into: str = "",
    ) -> None:
        """Resolve values naming a document by ``key``. A compound key names it within the
        same record's (already resolved) other fields: a task by its name in the project."""
        target = resource_for_stream(target_stream)
        scope = key.fields[:-1]

        def value(parent: dict[str, Any], name: str) -> Any:
            named = parent.get(name)
            if not scope or named in (None, ""):
                return named
            within = tuple(parent.get(part) for part in scope)
            return None if None in within else (*within, named)

        lookups = [parent.get(scope[0]) if scope else parent.get(name) for _, parent, name in slots]
        self._dir.ensure(target, key, lookups)
        for item, parent, name in slots:
            wanted = value(parent, name)
            if wanted in (None, ""):
                if parent.get(name) not in (None, ""):
                    shown = ", ".join(f"{part} missing" for part in scope)
                    item.reasons.append(f"{name} {parent[name]!r} cannot be looked up ({shown})")
                continue
            if isinstance(wanted, tuple):
                wanted = tuple(norm(v) for v in wanted)
            xero_id = self._dir.find(target, key, wanted, claimed_too=True)
            if not xero_id:
                item.reasons.append(
                    f"{name} {parent[name]!r} matches no {target.noun} in the target organisation"
                    + (f" (within {', '.join(scope)} {parent[scope[0]]!r})" if scope else "")
                )
                item.missing.append(target_stream)
            elif into:
                parent.pop(name)
                parent[into] = xero_id
            elif key == target.key:
                parent[name] = xero_id

    def _resolve_option_names(
        self, target_stream: str, slots: list[tuple[Pending, dict[str, Any], str]], into: str
    ) -> None:
        """Resolve values naming an option of one of the stream's documents (by name, any
        category) to the option's ID, sent in ``into``."""
        found: dict[Any, list[str]] = {}
        for category in self._dir.every(resource_for_stream(target_stream)):
            for option in category.get("Options") or ():
                if isinstance(option, dict) and option.get("TrackingOptionID"):
                    found.setdefault(norm(option.get("Name")), []).append(
                        str(option["TrackingOptionID"])
                    )
        for item, parent, name in slots:
            ids = found.get(norm(parent[name]), [])
            if len(ids) == 1:
                parent.pop(name)
                parent[into] = ids[0]
            elif ids:
                item.reasons.append(
                    f"{name} {parent[name]!r} names options of {len(ids)} tracking categories"
                )
            else:
                item.reasons.append(
                    f"{name} {parent[name]!r} matches no tracking option in the target organisation"
                )
                item.missing.append(target_stream)

    def _resolve_tracking(self, slots: list[tuple[Pending, dict[str, Any], str]]) -> None:
        names = [
            t.get("Name")
            for _, parent, name in slots
            for t in parent.get(name) or ()
            if isinstance(t, dict)
        ]
        categories = resource_for_stream("tracking_categories")
        self._dir.ensure(categories, Key("Name"), names)
        for item, parent, name in slots:
            resolved = []
            for tracking in parent.get(name) or ():
                if not isinstance(tracking, dict):
                    continue
                category, option = tracking.get("Name"), tracking.get("Option")
                xero_id = self._dir.find(categories, Key("Name"), category)
                doc = self._dir.doc(categories, xero_id) if xero_id else None
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


def _slots(record: dict[str, Any], ref: Reference) -> Iterator[tuple[dict[str, Any], str]]:
    """Every (parent, key) holding a reference: the record's own field, or that field of each
    element of the reference's list."""
    if ref.in_list:
        listed = record.get(ref.in_list)
        holders = listed if isinstance(listed, list) else []
    else:
        holders = [record]
    for holder in holders:
        if isinstance(holder, dict) and holder.get(ref.field) is not None:
            yield holder, ref.field

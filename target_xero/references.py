"""References of a record (a contact, an account code, tracking) resolved to the IDs of the
target organisation's documents, through the directory."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from xero_api.resources import Resource, resource_for_stream

from .directory import Directory, key_parts, norm
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

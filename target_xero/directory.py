"""What the target knows about the target organisation's documents: found, written or missing.

Keys are ``(stream, field, normalised value)``; values are the target organisation's IDs. A
record's own ID from the source organisation is remembered against the ID it was written as,
so references to it (a payment's invoice, an invoice's contact) resolve without a lookup.
Lookups are batched: ``IDs=`` or number lists where Xero has them, ``GET /{path}/{value}``
where it has neither, else a ``where`` filter whose values are escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import quote

from xero_api.resources import Paging, Resource, resource_for_stream

from .records import get_path, xero_date

__all__ = ["Directory", "Reader", "key_parts", "norm", "where_literal"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATEISH = re.compile(
    r"^(\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?|/Date\(-?\d+([+-]\d{4})?\)/)$"
)
_WHERE_CHUNK = 10
_LIST_CHUNK = 50

Key = tuple[str, str, Any]


class Reader(Protocol):
    """The GET half of the Xero client, bound to the target organisation."""

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        """Parsed JSON of a GET, or None when Xero answers 404."""
        ...


def norm(value: Any) -> Any:
    """A value in the form two sides compare equal in: dates as Xero takes them, numbers
    as Decimal, text case-folded (Xero's names and codes are case-insensitive)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(str(value)).normalize()
        except InvalidOperation:
            return value
    if isinstance(value, str):
        text = value.strip()
        if _DATEISH.match(text):
            try:
                return xero_date(text)
            except ValueError:
                pass
        return text.casefold()
    return value


def key_parts(spec: str) -> list[str]:
    """The fields of a natural key (``A+B`` is compound)."""
    return spec.split("+")


def key_value(record: Mapping[str, Any], spec: str) -> tuple[Any, ...] | None:
    """The normalised value of a (maybe compound) key in a record, None if a part is missing."""
    values = []
    for part in key_parts(spec):
        value = get_path(record, part)
        if value is None or value == "":
            return None
        values.append(norm(value))
    return tuple(values)


def where_literal(field: str, value: Any) -> str:
    """One value as a ``where`` literal; user text is escaped so it cannot end the string."""
    if field.endswith("ID") and isinstance(value, str):
        if not _GUID.match(value):
            raise ValueError(f"{field} {value!r} is not a GUID")
        return f'Guid("{value}")'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class Directory:
    """Cache of the target organisation's documents, filled by batched lookups and by writes."""

    def __init__(self, reader: Reader) -> None:
        """Start empty; every lookup goes through ``reader``."""
        self._reader = reader
        self._ids: dict[Key, list[str]] = {}
        self._docs: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._claimed: set[str] = set()
        self._looked_up: set[Key] = set()

    # -- filling -------------------------------------------------------------------------

    def remember(
        self, stream: str, doc: Mapping[str, Any], *, source_id: str | None = None
    ) -> None:
        """Index a document of the target organisation under its ID and every key it has."""
        resource = resource_for_stream(stream)
        xero_id = doc.get(resource.primary_key)
        if not isinstance(xero_id, str) or not xero_id:
            return
        self._docs[(stream, xero_id)] = doc
        self._add((stream, resource.primary_key, norm(xero_id)), xero_id)
        if source_id and norm(source_id) != norm(xero_id):
            self._add((stream, resource.primary_key, norm(source_id)), xero_id)
        for field in _indexed_fields(resource):
            value = key_value(doc, field)
            if value is not None:
                self._add((stream, field, value if "+" in field else value[0]), xero_id)

    def _add(self, key: Key, xero_id: str) -> None:
        ids = self._ids.setdefault(key, [])
        if xero_id not in ids:
            ids.append(xero_id)

    def ensure(self, stream: str, field: str, values: Iterable[Any]) -> None:
        """Look up, in batches, every value of ``field`` not seen yet (missing ones remembered)."""
        resource = resource_for_stream(stream)
        server_field = key_parts(field)[0]
        wanted: dict[Any, Any] = {}
        for value in values:
            if value is None or value == "":
                continue
            key = (stream, server_field, norm(value))
            # A key learnt from a write answers a unique key; a compound key (no uniqueness)
            # needs the organisation's full list once.
            if key in self._looked_up or ("+" not in field and self._ids.get(key)):
                continue
            wanted[norm(value)] = value
        if not wanted:
            return
        for doc in self._fetch(resource, server_field, list(wanted.values())):
            self.remember(stream, doc)
        for normalised in wanted:
            self._ids.setdefault((stream, server_field, normalised), [])
            self._looked_up.add((stream, server_field, normalised))

    def _fetch(
        self, resource: Resource, field: str, values: Sequence[Any]
    ) -> list[Mapping[str, Any]]:
        assert resource.write is not None
        how = dict(resource.write.lookups).get(field, "where")
        base = {k: v for k, v in resource.params if k != "includeDeleted"}
        # Xero leaves line items out of un-paged lists; page 1 of up to 1000 has them (and
        # every lookup chunk is far smaller than a page).
        if resource.paging in (Paging.PAGE, Paging.PAGE_FIXED):
            base["page"] = "1"
        if resource.paging is Paging.PAGE:
            base["pageSize"] = "1000"
        found: list[Mapping[str, Any]] = []
        if field.endswith("ID"):
            values = [v for v in values if isinstance(v, str) and _GUID.match(v)]
        if how.startswith("param:"):
            for chunk in _chunks(values, _LIST_CHUNK):
                params = {**base, how[6:]: ",".join(str(v) for v in chunk)}
                found.extend(self._list(resource, resource.path, params))
        elif how == "path":
            for value in values:
                found.extend(
                    self._list(resource, f"{resource.path}/{quote(str(value), safe='')}", base)
                )
        elif how.startswith("query:"):
            for value in values:
                found.extend(self._list(resource, resource.path, {**base, how[6:]: str(value)}))
        else:
            literals = []
            for value in values:
                try:
                    literals.append(f"{field}=={where_literal(field, value)}")
                except ValueError:
                    continue  # not a GUID: cannot be an ID in the target organisation
            for chunk in _chunks(literals, _WHERE_CHUNK):
                found.extend(
                    self._list(resource, resource.path, {**base, "where": " OR ".join(chunk)})
                )
        return found

    def _list(
        self, resource: Resource, path: str, params: Mapping[str, str]
    ) -> list[Mapping[str, Any]]:
        body = self._reader.get(path, params)
        if not body:
            return []
        docs = body.get(resource.envelope) or []
        return [d for d in docs if isinstance(d, Mapping)]

    # -- reading -------------------------------------------------------------------------

    def find(self, stream: str, field: str, value: Any) -> str | None:
        """The target ID for a key value, if one is known (compound keys: first unclaimed)."""
        if value is None or value == "":
            return None
        normalised = value if isinstance(value, tuple) else norm(value)
        if "+" not in field and isinstance(normalised, tuple):
            normalised = normalised[0]
        ids = self._ids.get((stream, field, normalised)) or []
        if "+" in field:
            free = [i for i in ids if i not in self._claimed]
            return free[0] if free else None
        return ids[0] if ids else None

    def claim(self, xero_id: str) -> None:
        """Mark a document as taken by a record, so an identical record does not match it too."""
        self._claimed.add(xero_id)

    def doc(self, stream: str, xero_id: str) -> Mapping[str, Any] | None:
        """The last known body of a document of the target organisation."""
        return self._docs.get((stream, xero_id))


def _indexed_fields(resource: Resource) -> list[str]:
    assert resource.write is not None
    fields = list(resource.write.natural_keys)
    for spec in resource.write.natural_keys:
        first = key_parts(spec)[0]
        if first not in fields:
            fields.append(first)
    for field, _ in resource.write.lookups:
        if field not in fields:
            fields.append(field)
    return fields


def _chunks(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]

"""What the target knows about the target organisation's documents: found, written or missing.

Keys are ``(stream, field, normalised value)``; values are the target organisation's IDs. A
record's own ID from the source organisation is remembered against the ID it was written as,
so references to it (a payment's invoice, an invoice's contact) resolve without a lookup.
Before its first lookup of a collection the directory reads the collection's first page (up
to 1000 documents, ``pagination.itemCount`` says how many there are): a collection of up to
:data:`FULL_READ_PAGES` pages (an empty or small organisation) is read whole, once, and every
later question about it is answered from the directory (writes of this run keep it current).
A larger collection is looked up per batch: ``IDs=`` or number lists where Xero has them,
``GET /{path}/{value}`` where it has neither, else a ``where`` filter whose values are escaped,
as many values a request as Xero's URL length allows.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, cast
from urllib.parse import quote

from xero_api.codec import decode_json, encode_json
from xero_api.id_lists import GUID, ID_LIST_CHUNK, fitting
from xero_api.paging import is_last_page, page_count, page_query, page_size
from xero_api.resources import ACCOUNTING, Key, Paging, Resource, Via

from .organisation import Reader
from .records import get_path, xero_date
from .scratch_db import scratch_database

__all__ = ["Directory", "key_value", "norm", "where_literal"]

_DATEISH = re.compile(
    r"^(\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?|/Date\(-?\d+([+-]\d{4})?\)/)$"
)
FULL_READ_PAGES = 5  # a collection this size (in pages of 1000) is read whole, once

_Entry = tuple[str, str, Any]  # (stream, field or key, normalised value)


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


def key_value(record: Mapping[str, Any], key: Key) -> tuple[Any, ...] | None:
    """The normalised value of a (maybe compound) key in a record, None if a part is missing."""
    values = []
    for part in key.fields:
        value = get_path(record, part)
        if value is None or value == "":
            return None
        values.append(norm(value))
    return tuple(values)


def where_literal(field: str, value: Any) -> str:
    """One value as a ``where`` literal; user text is escaped so it cannot end the string."""
    if field.endswith("ID") and isinstance(value, str):
        if not GUID.match(value):
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

    def __init__(
        self, reader: Reader, natural_keys: Mapping[str, Sequence[Key]] | None = None
    ) -> None:
        """Start empty; every lookup goes through ``reader``. ``natural_keys`` replaces the
        resource table's keys of the streams it names (the ``natural_keys`` setting)."""
        self._reader = reader
        self._keys = {stream: tuple(keys) for stream, keys in (natural_keys or {}).items()}
        self._store = _DocumentStore()
        self._probed: set[str] = set()  # streams whose first page has been read
        self._complete: set[str] = set()  # streams the directory holds every document of

    def natural_keys(self, resource: Resource) -> tuple[Key, ...]:
        """The keys a document of ``resource`` is matched by: the setting's, else the table's."""
        assert resource.write is not None
        return self._keys.get(resource.stream, resource.write.natural_keys)

    # -- filling -------------------------------------------------------------------------

    def remember(
        self, resource: Resource, doc: Mapping[str, Any], *, source_id: str | None = None
    ) -> None:
        """Index a document of the target organisation under its ID and every key it has."""
        stream = resource.stream
        xero_id = doc.get(resource.id_field)
        if not isinstance(xero_id, str) or not xero_id:
            return
        self._store.put_doc(stream, xero_id, doc)
        keys = [(stream, resource.id_field, norm(xero_id))]
        if source_id and norm(source_id) != norm(xero_id):
            keys.append((stream, resource.id_field, norm(source_id)))
        for key in self._indexed_keys(resource):
            value = key_value(doc, key)
            if value is not None:
                keys.append((stream, str(key), value if key.compound else value[0]))
        self._store.add_ids(keys, xero_id)

    def ensure(self, resource: Resource, key: Key, values: Iterable[Any]) -> None:
        """Look up, in batches, every value of ``key`` (its first field's, for a compound
        key) not seen yet (missing ones remembered)."""
        stream = resource.stream
        if stream in self._complete:
            return
        server_field = key.first
        values = list(values)
        wanted = self._unknown(stream, key, values)
        if not wanted:
            return
        if stream not in self._probed:
            self._probed.add(stream)
            if self._read_whole(resource):
                return
            wanted = self._unknown(stream, key, values)
        for doc in self._fetch(resource, server_field, list(wanted.values())):
            self.remember(resource, doc)
        for normalised in wanted:
            self._store.looked_up((stream, server_field, normalised))

    def _unknown(self, stream: str, key: Key, values: list[Any]) -> dict[Any, Any]:
        """The values (by normalised form) the directory cannot answer for yet."""
        server_field = key.first
        wanted: dict[Any, Any] = {}
        for value in values:
            if value is None or value == "":
                continue
            entry = (stream, server_field, norm(value))
            # A key learnt from a write answers a unique key; a compound key (no uniqueness)
            # needs the organisation's full list once.
            if self._store.was_looked_up(entry) or (not key.compound and self._store.ids(entry)):
                continue
            wanted[norm(value)] = value
        return wanted

    def _read_whole(self, resource: Resource) -> bool:
        """Read the collection's first page and, when the collection is small, the rest: True
        when every document of the collection is now in the directory. A child collection
        (a project's tasks) is read per parent instead (its ``parent`` lookup)."""
        if resource.read.parent is not None:
            return False
        base = _base_params(resource)
        path = resource.request_path()
        if resource.api is not ACCOUNTING:
            # The other APIs' collections are small (and Assets must be read per status).
            docs, complete = self._pages(resource, path), True
        elif resource.read.paging is Paging.NONE:
            docs, complete = self._list(resource, path, base), True
        else:
            size = page_size(resource.read)
            body = self._reader.get(path, base) or {}
            docs = _docs(body, resource)
            pagination = body.get("pagination")
            count = pagination.get("itemCount") if isinstance(pagination, Mapping) else None
            if not isinstance(count, int):
                # No count (Quotes): a short page is the last one.
                count = len(docs) if len(docs) < size else (FULL_READ_PAGES + 1) * size
            pages = page_count(count, size)
            complete = pages <= FULL_READ_PAGES
            for page in range(2, pages + 1 if complete else 1):
                docs += self._list(resource, path, {**base, "page": str(page)})
        for doc in docs:
            self.remember(resource, doc)
        if complete:
            self._complete.add(resource.stream)
        return complete

    def _fetch(
        self, resource: Resource, field: str, values: Sequence[Any]
    ) -> list[Mapping[str, Any]]:
        assert resource.write is not None
        lookup = resource.write.lookup(field)
        base = _base_params(resource)
        path = resource.request_path()
        found: list[Mapping[str, Any]] = []
        if field.endswith(("ID", "Id")):
            values = [v for v in values if isinstance(v, str) and GUID.match(v)]
        if lookup.via is Via.PARENT:
            # A child collection: every page of each parent's (``GET /Projects/{id}/Tasks``).
            for value in values:
                found.extend(self._pages(resource, resource.request_path(**{field: value})))
        elif resource.read.parent is not None:
            pass  # a child is found through its parent only
        elif lookup.via is Via.WHERE and resource.api is not ACCOUNTING:
            # No ``where`` outside Accounting: the collection is read whole, once.
            if resource.stream not in self._complete:
                found.extend(self._pages(resource, path))
                self._complete.add(resource.stream)
        elif lookup.via is Via.ID_LIST:
            limit = ID_LIST_CHUNK if field.endswith("ID") else len(values)
            for chunk in fitting([str(v) for v in values], ",", limit):
                params = {**base, lookup.param: chunk}
                found.extend(self._list(resource, path, params))
        elif lookup.via is Via.PATH:
            for value in values:
                found.extend(self._list(resource, f"{path}/{quote(str(value), safe='')}", base))
        elif lookup.via is Via.QUERY:
            for value in values:
                found.extend(self._list(resource, path, {**base, lookup.param: str(value)}))
        else:
            literals = []
            for value in values:
                try:
                    literals.append(f"{field}=={where_literal(field, value)}")
                except ValueError:
                    continue  # not a GUID: cannot be an ID in the target organisation
            for where in fitting(literals, " OR ", len(literals)):
                found.extend(self._list(resource, path, {**base, "where": where}))
        return found

    def _pages(self, resource: Resource, path: str) -> list[Mapping[str, Any]]:
        """Every page of a collection (a short page is the last), for each value of the
        parameter the API needs one value of a call (Assets' ``status``)."""
        each = resource.read.each
        name, values = (each.param, each.values) if each else ("", ("",))
        docs: list[Mapping[str, Any]] = []
        plan, size = resource.read, page_size(resource.read)
        for value in values:
            base = {**_base_params(resource), **({name: value} if name else {})}
            page = 1
            while True:
                batch = self._list(resource, path, {**base, **page_query(plan, page, size)})
                docs += batch
                if is_last_page(plan, len(batch), size):
                    break
                page += 1
        return docs

    def _list(
        self, resource: Resource, path: str, params: Mapping[str, str]
    ) -> list[Mapping[str, Any]]:
        return _docs(self._reader.get(path, params) or {}, resource)

    # -- reading -------------------------------------------------------------------------

    def find(
        self, resource: Resource, key: Key, value: Any, *, claimed_too: bool = False
    ) -> str | None:
        """The target ID for a key value, if one is known (compound keys: first unclaimed,
        unless ``claimed_too``: a reference may name a document a record already matched)."""
        if value is None or value == "":
            return None
        normalised = value if isinstance(value, tuple) else norm(value)
        if not key.compound and isinstance(normalised, tuple):
            normalised = normalised[0]
        unclaimed = key.compound and not claimed_too
        ids = self._store.ids((resource.stream, str(key), normalised), unclaimed=unclaimed)
        return ids[0] if ids else None

    def holding(
        self, resource: Resource, field: str, values: Sequence[Any]
    ) -> dict[Any, list[Any]]:
        """Documents of the target organisation whose ``field`` has one of ``values``, by
        normalised value, read now (a refused write's clash may be with a document written
        since the directory last looked); used to name what a refused write clashed with."""
        wanted = [v for v in values if v not in (None, "")]
        found: dict[Any, list[Any]] = {norm(v): [] for v in wanted}
        for doc in self._fetch(resource, field, wanted):
            self.remember(resource, doc)
            value = norm(get_path(doc, field))
            if value in found:
                found[value].append(doc)
        return found

    def claim(self, xero_id: str) -> None:
        """Mark a document as taken by a record, so an identical record does not match it too."""
        self._store.claim(xero_id)

    def doc(self, resource: Resource, xero_id: str) -> Mapping[str, Any] | None:
        """The last known body of a document of the target organisation."""
        return self._store.doc(resource.stream, xero_id)

    def every(self, resource: Resource) -> list[Mapping[str, Any]]:
        """Every document of a small collection read whole (tracking categories)."""
        stream = resource.stream
        if stream not in self._complete and stream not in self._probed:
            self._probed.add(stream)
            self._read_whole(resource)
        return self._store.docs(stream)

    @functools.cache  # noqa: B019 - one directory a run, a handful of resources
    def _indexed_keys(self, resource: Resource) -> tuple[Key, ...]:
        """Every key a document is indexed under: its natural keys (and the first part of
        a compound one), then the table's lookup fields."""
        assert resource.write is not None
        keys = list(self.natural_keys(resource))
        for key in self.natural_keys(resource):
            if Key(key.first) not in keys:
                keys.append(Key(key.first))
        for lookup in resource.write.lookups:
            if Key(lookup.field) not in keys:
                keys.append(Key(lookup.field))
        return tuple(keys)

    def close(self) -> None:
        """Drop the spool file."""
        self._store.close()


class _DocumentStore:
    """The directory's contents in a scratch database, so memory does not grow with the
    documents a run writes or reads."""

    def __init__(self) -> None:
        self._seq = itertools.count()
        self._db = scratch_database(
            """
            CREATE TABLE ids (key TEXT, xero_id TEXT, seq INTEGER NOT NULL,
                              PRIMARY KEY (key, xero_id)) WITHOUT ROWID;
            CREATE TABLE docs (stream TEXT NOT NULL, xero_id TEXT NOT NULL, body BLOB NOT NULL,
                               PRIMARY KEY (stream, xero_id));
            CREATE TABLE looked_up (key TEXT PRIMARY KEY);
            CREATE TABLE claimed (xero_id TEXT PRIMARY KEY);
            """
        )

    def add_ids(self, keys: list[_Entry], xero_id: str) -> None:
        rows = [(_text(key), xero_id, next(self._seq)) for key in keys]
        self._db.executemany("INSERT OR IGNORE INTO ids VALUES (?, ?, ?)", rows)

    def ids(self, key: _Entry, *, unclaimed: bool = False) -> list[str]:
        """IDs known for a key, first learnt first (``unclaimed``: not claimed yet)."""
        sql = "SELECT xero_id FROM ids WHERE key = ?"
        if unclaimed:
            sql += " AND xero_id NOT IN (SELECT xero_id FROM claimed)"
        return [row[0] for row in self._db.execute(sql + " ORDER BY seq", (_text(key),))]

    def looked_up(self, key: _Entry) -> None:
        self._db.execute("INSERT OR IGNORE INTO looked_up VALUES (?)", (_text(key),))

    def was_looked_up(self, key: _Entry) -> bool:
        sql = "SELECT 1 FROM looked_up WHERE key = ?"
        return self._db.execute(sql, (_text(key),)).fetchone() is not None

    def claim(self, xero_id: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO claimed VALUES (?)", (xero_id,))

    def put_doc(self, stream: str, xero_id: str, doc: Mapping[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?)", (stream, xero_id, encode_json(doc))
        )

    def docs(self, stream: str) -> list[Mapping[str, Any]]:
        rows = self._db.execute("SELECT body FROM docs WHERE stream = ?", (stream,))
        return [cast(Mapping[str, Any], decode_json(row[0])) for row in rows]

    def doc(self, stream: str, xero_id: str) -> Mapping[str, Any] | None:
        sql = "SELECT body FROM docs WHERE stream = ? AND xero_id = ?"
        row = self._db.execute(sql, (stream, xero_id)).fetchone()
        return None if row is None else cast(Mapping[str, Any], decode_json(row[0]))

    def close(self) -> None:
        self._db.close()


def _text(key: _Entry) -> str:
    # Normalised values are str, Decimal, bool, None or tuples of them: repr tells them apart.
    return repr(key)


def _base_params(resource: Resource) -> dict[str, str]:
    base = {k: v for k, v in resource.read.params if k != "includeDeleted"}
    # Xero leaves line items out of un-paged lists; page 1 of up to 1000 has them (and
    # every lookup chunk is far smaller than a page).
    return {**base, **page_query(resource.read, 1, page_size(resource.read))}


def _docs(body: Mapping[str, Any], resource: Resource) -> list[Mapping[str, Any]]:
    # A bare list answer comes under the key "" (Organisation.get).
    listed = body[""] if not resource.envelope and "" in body else body
    try:
        return list(resource.records_in(listed))
    except TypeError:
        return []

"""The target's directory of the target organisation: a small collection is read whole once,
a large one is looked up per batch in as few requests as Xero's URL length allows."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from target_xero.directory import FULL_READ_PAGES, Directory
from xero_api.resources import Key, resource_for_stream

CONTACTS = resource_for_stream("contacts")


class _Contacts:
    """A paged ``/Contacts`` of ``n`` documents that answers page, ``IDs`` and ``where``
    (``Name==`` alternatives) requests as Xero does, recording every request."""

    tenant_id = "t"

    def __init__(self, n: int) -> None:
        self.docs = [
            {"ContactID": str(uuid.uuid4()), "Name": f"Contact {i:06d}", "ContactNumber": f"C{i}"}
            for i in range(n)
        ]
        self.requests: list[tuple[str, dict[str, str]]] = []

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        query = dict(params or {})
        self.requests.append((path, query))
        docs = self.docs
        if "IDs" in query:
            ids = set(query["IDs"].split(","))
            docs = [d for d in docs if d["ContactID"] in ids]
        if "where" in query:
            clauses = query["where"].split(" OR ")
            fields = {re.match(r'(\w+)=="(.*)"$', c).groups() for c in clauses}  # type: ignore[union-attr]
            docs = [d for d in docs if any(d.get(f) == v for f, v in fields)]
        size, page = int(query.get("pageSize", "100")), int(query.get("page", "1"))
        pagination = {
            "page": page,
            "pageSize": size,
            "pageCount": -(-len(docs) // size),
            "itemCount": len(docs),
        }
        return {"Contacts": docs[(page - 1) * size : page * size], "pagination": pagination}


def _names(directory: Directory, docs: list[dict[str, Any]]) -> None:
    directory.ensure(CONTACTS, Key("ContactID"), [str(uuid.uuid4()) for _ in docs])
    directory.ensure(CONTACTS, Key("ContactNumber"), [d["ContactNumber"] for d in docs])
    directory.ensure(CONTACTS, Key("Name"), [d["Name"] for d in docs])


def test_an_empty_collection_costs_one_request_for_every_lookup_after() -> None:
    xero = _Contacts(0)
    directory = Directory(xero)
    _names(directory, [{"ContactNumber": f"N{i}", "Name": f"New {i}"} for i in range(500)])
    directory.ensure(CONTACTS, Key("Name"), ["Another"])
    assert xero.requests == [
        ("Contacts", {"includeArchived": "true", "page": "1", "pageSize": "1000"})
    ]
    assert directory.find(CONTACTS, Key("Name"), "New 1") is None


def test_a_small_collection_is_read_whole_once_and_answers_from_then_on() -> None:
    xero = _Contacts(2 * 1000 + 500)
    directory = Directory(xero)
    wanted = xero.docs[::7]
    _names(directory, wanted)
    assert [q.get("page") for _, q in xero.requests] == ["1", "2", "3"]
    assert all("where" not in q and "IDs" not in q for _, q in xero.requests)
    for doc in wanted:
        assert directory.find(CONTACTS, Key("Name"), doc["Name"].upper()) == doc["ContactID"]
        number = doc["ContactNumber"]
        assert directory.find(CONTACTS, Key("ContactNumber"), number) == doc["ContactID"]


def test_a_large_collection_is_looked_up_in_batches_that_fit_the_url() -> None:
    xero = _Contacts(FULL_READ_PAGES * 1000 + 1)
    directory = Directory(xero)
    wanted = xero.docs[1000:][::3]  # not on the first page
    ids = [d["ContactID"] for d in wanted[:120]]
    directory.ensure(CONTACTS, Key("ContactID"), ids)
    directory.ensure(CONTACTS, Key("Name"), [d["Name"] for d in wanted])
    first, *lookups = xero.requests
    assert first[1].get("page") == "1"
    assert "where" not in first[1]
    id_lists = [q["IDs"].split(",") for _, q in lookups if "IDs" in q]
    wheres = [q["where"] for _, q in lookups if "where" in q]
    # Xero takes at most 52 GUIDs a list; names go as many a request as the URL allows.
    assert [len(chunk) for chunk in id_lists] == [50, 50, 20]
    assert all(len(quote(where, safe="")) <= 1950 for where in wheres)
    # 40 names a request (not 10): a name's clause is ~38 URL-encoded characters.
    assert len(wheres) <= -(-(len(wanted) - 120) // 40)
    for doc in wanted:
        assert directory.find(CONTACTS, Key("Name"), doc["Name"]) == doc["ContactID"]

"""How Xero pages a collection, as pure arithmetic shared by the tap and the target.

A resource's :class:`~xero_api.resources.ReadPlan` says how its collection is paged; this module
says what that means: how many records a page holds, the query that asks for page ``n``, how a
reader knows it has the last page, and Journals' next offset. Nothing here sends a request, so
the tap's read-ahead and the target's directory can both plan with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .resources import Paging, ReadPlan

__all__ = [
    "FIXED_PAGE_SIZE",
    "PAGE_SIZE",
    "is_last_page",
    "next_offset",
    "offset_query",
    "page_count",
    "page_query",
    "page_size",
]

# Xero's largest page size (Accounting's pageSize is 1 to 1000); the fewest calls per record.
PAGE_SIZE = 1000
# Xero's own page size where a collection takes `page` but no page size, and for Journals'
# `offset` calls.
FIXED_PAGE_SIZE = 100


def page_size(plan: ReadPlan, wanted: int = PAGE_SIZE) -> int:
    """Records a full page holds: ``wanted`` capped at the API's maximum where Xero takes a
    page size, else Xero's fixed 100."""
    if plan.paging is Paging.PAGE:
        return min(wanted, plan.max_page_size)
    return FIXED_PAGE_SIZE


def page_query(plan: ReadPlan, page: int, size: int) -> dict[str, str]:
    """The query parameters asking for page ``page`` (from 1) of ``size`` records: none for a
    collection Xero does not page, ``page`` alone where Xero fixes the size."""
    if plan.paging is Paging.NONE:
        return {}
    if plan.paging is Paging.OFFSET:
        raise ValueError("a collection read by offset has no pages: use offset_query")
    query = {"page": str(page)}
    if plan.paging is Paging.PAGE:
        query[plan.page_size_param] = str(size)
    return query


def offset_query(offset: int) -> dict[str, str]:
    """The query asking for the records after ``offset`` (Journals: the last JournalNumber)."""
    return {"offset": str(offset)}


def next_offset(records: Iterable[Mapping[str, Any]], field: str) -> int:
    """The offset that follows a page: the largest ``field`` (JournalNumber) on it."""
    return max(int(record[field]) for record in records)


def is_last_page(plan: ReadPlan, count: int, size: int) -> bool:
    """Whether a page of ``count`` records is the collection's last: always for a collection
    Xero does not page, else when it holds fewer than a full page of ``size``."""
    return plan.paging is Paging.NONE or count < size


def page_count(item_count: int, size: int) -> int:
    """Pages of ``size`` that hold ``item_count`` records (a ``pagination.itemCount``)."""
    return -(-item_count // size)

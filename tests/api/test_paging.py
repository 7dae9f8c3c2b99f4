"""xero_api.paging: the page sizes, page queries and last-page test both sides read by."""

from __future__ import annotations

import pytest

from xero_api.paging import (
    FIXED_PAGE_SIZE,
    PAGE_SIZE,
    is_last_page,
    next_offset,
    offset_query,
    page_count,
    page_query,
    page_size,
)
from xero_api.resources import Paging, ReadPlan, resource_for_stream

INVOICES = resource_for_stream("invoices").read
QUOTES = resource_for_stream("quotes").read
FILES = resource_for_stream("files").read
ACCOUNTS = resource_for_stream("accounts").read


def test_page_size_is_the_wanted_size_capped_by_the_api_or_xeros_fixed_100() -> None:
    assert page_size(INVOICES) == PAGE_SIZE == 1000
    assert page_size(INVOICES, 250) == 250
    assert page_size(FILES) == 100  # the Files API takes at most 100
    assert page_size(resource_for_stream("projects").read) == 500
    assert page_size(QUOTES, 1000) == FIXED_PAGE_SIZE == 100
    assert page_size(resource_for_stream("journals").read) == 100


def test_page_query_asks_for_page_n_in_the_apis_own_words() -> None:
    assert page_query(INVOICES, 3, 1000) == {"page": "3", "pageSize": "1000"}
    assert page_query(FILES, 2, 100) == {"page": "2", "pagesize": "100"}
    assert page_query(QUOTES, 4, 100) == {"page": "4"}  # Xero fixes the size
    assert page_query(ACCOUNTS, 1, 1000) == {}  # not paged: one call
    with pytest.raises(ValueError, match="offset"):
        page_query(ReadPlan(paging=Paging.OFFSET), 1, 100)


def test_a_short_page_is_the_last_and_an_unpaged_answer_is_the_only_one() -> None:
    assert not is_last_page(INVOICES, 1000, 1000)
    assert is_last_page(INVOICES, 999, 1000)
    assert is_last_page(INVOICES, 0, 1000)
    assert is_last_page(ACCOUNTS, 5000, 1000)
    assert page_count(0, 1000) == 0
    assert page_count(1000, 1000) == 1
    assert page_count(1001, 1000) == 2


def test_journals_continue_after_the_largest_number_read() -> None:
    assert offset_query(0) == {"offset": "0"}
    assert next_offset([{"JournalNumber": 7}, {"JournalNumber": "12"}], "JournalNumber") == 12

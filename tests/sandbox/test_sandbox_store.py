"""The store's concurrency: writers take turns in order, and a long write that lets others
write between its steps is still undone as one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from xero_sandbox.store import LedgerLine, Store, Tenant, write_lock

TENANT = Tenant("11111111-1111-1111-1111-111111111111", "Books", "!AAA", 0)
OTHER = Tenant("22222222-2222-2222-2222-222222222222", "Other books", "!BBB", 0)


def _contact(contact_id: str, name: str) -> dict[str, str]:
    return {"ContactID": contact_id, "Name": name, "UpdatedDateUTC": "/Date(0+0000)/"}


def test_an_undoable_write_that_let_others_in_is_undone_as_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "books.db")
    store.add_tenant(TENANT)
    store.add_tenant(OTHER)
    tid = TENANT.tenant_id
    store.put(tid, "Contacts", _contact("c-kept", "Kept"))
    store.next_number(tid, "INV")
    line = LedgerLine(journal_number=1, date_ms=0, account_id="a", net_cents=100, tax_cents=0)

    def other_write() -> None:
        with store.transaction():
            store.put(OTHER.tenant_id, "Contacts", _contact("c-other", "Other"))
            store.add_ledger_lines(OTHER.tenant_id, [line])

    def long_write() -> None:
        with store.undoable(), store.transaction():
            store.put(tid, "Contacts", _contact("c-new", "New"))
            store.put(tid, "Contacts", _contact("c-kept", "Renamed"))
            store.next_number(tid, "INV")
            store.next_number(tid, "Journal")
            store.add_ledger_lines(tid, [line, line])
            waiter = threading.Thread(target=other_write)
            waiter.start()
            while not write_lock(tmp_path / "books.db").others_wait():
                threading.Event().wait(0.01)
            store.let_others_write()  # commits this far, lets the waiting writer in
            waiter.join()
            assert store.get(OTHER.tenant_id, "Contacts", "c-other") is not None
            store.delete(tid, "Contacts", "c-kept")
            raise ValueError("a conversion error in the last element")

    with pytest.raises(ValueError, match="a conversion error"):
        long_write()

    assert store.get(tid, "Contacts", "c-new") is None
    kept = store.get(tid, "Contacts", "c-kept")
    assert kept is not None
    assert kept["Name"] == "Kept"
    assert store.get_by_name(tid, "Contacts", "Kept") is not None
    assert store.peek_number(tid, "INV") == 1
    assert store.peek_number(tid, "Journal") == 0
    assert store.ledger_sums(tid, None, None) == {}
    # The other writer's work, committed in between, stays.
    assert store.get(OTHER.tenant_id, "Contacts", "c-other") is not None
    assert store.ledger_sums(OTHER.tenant_id, None, None) == {"a": 100}
    store.close()


def test_readers_see_committed_state_while_a_write_is_open(tmp_path: Path) -> None:
    store = Store(tmp_path / "books.db")
    store.add_tenant(TENANT)
    tid = TENANT.tenant_id
    seen: list[object] = []
    with store.transaction():
        store.put(tid, "Contacts", _contact("c-1", "Pending"))
        assert store.get(tid, "Contacts", "c-1") is not None  # the writer sees its own write
        reader = threading.Thread(target=lambda: seen.append(store.get(tid, "Contacts", "c-1")))
        reader.start()
        reader.join(timeout=30)  # a reader never waits for the writer
        assert not reader.is_alive()
    assert seen == [None]
    assert store.get(tid, "Contacts", "c-1") is not None
    store.close()

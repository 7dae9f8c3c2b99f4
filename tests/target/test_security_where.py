"""Every user value placed in a Xero ``where`` clause is escaped: injection through contact
names and numbers (and invoice numbers) matches no wrong document and updates none.

The unit half parses what the target builds with the sandbox's own ``where`` grammar; the end to
end half runs target-xero against an organisation that holds the documents an injection would
try to reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from target_xero.directory import where_literal
from tests._reliability import schema_message
from tests._target_support import Org, OrgPool, run_target, sandbox_pool, singer_file
from xero_sandbox.where import parse_where, required_equalities

HOSTILE = [
    'x" OR Name!="',
    'Victim One" OR "1"=="1',
    'V-1" OR ContactNumber!="',
    'Back\\" OR Name!="\\',
    "\\",
    'a"b""c',
    'It\'s "quoted"',
    'Name.Contains("")',
    '") OR (1==1) OR ("',
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_stays_one_string_literal(value: str) -> None:
    for field in ("Name", "ContactNumber", "InvoiceNumber"):
        clause = f"{field}=={where_literal(field, value)}"
        # One equality on the field, with the value exactly as given ...
        assert required_equalities(clause) == [(field, [value])]
        matches = parse_where(clause)
        assert matches({field: value})
        # ... that matches nothing else.
        for other in ("Victim One", "V-1", "", "x", value + " "):
            assert not matches({field: other})


def test_an_id_that_is_not_a_guid_never_reaches_a_where() -> None:
    with pytest.raises(ValueError, match="not a GUID"):
        where_literal("ContactID", '00000000-0000-0000-0000-000000000000") OR (1==1')


@pytest.fixture(scope="module")
def pool() -> Iterator[OrgPool]:
    yield from sandbox_pool(empty=1)


def _rec(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": record}


def _invoice(number: str, contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "InvoiceNumber": number,
        "Contact": contact,
        "Date": "2026-10-01T00:00:00.000000+00:00",
        "DueDate": "2026-10-31T00:00:00.000000+00:00",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [{"Description": "w", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}],
    }


def _invoice_numbered(org: Org, number: str) -> dict[str, Any]:
    return next(i for i in org.all("Invoices", "Invoices") if i["InvoiceNumber"] == number)


def test_injection_through_the_target_matches_and_updates_nothing(
    pool: OrgPool, tmp_path: Path
) -> None:
    org = pool.take()
    victims = [
        _rec("contacts", {"Name": "Victim One", "ContactNumber": "V-1", "EmailAddress": "v1@x.io"}),
        _rec("contacts", {"Name": "Victim Two", "ContactNumber": "V-2"}),
        _rec("invoices", _invoice("INV-V1", {"ContactNumber": "V-1"})),
    ]
    setup = singer_file(
        tmp_path, "setup.singer", [schema_message("contacts"), schema_message("invoices"), *victims]
    )
    first = run_target(org.config(tmp_path / "setup"), tmp_path, setup)
    assert first.returncode == 0, first.stderr[-3000:]
    before = {c["ContactID"]: c for c in org.all("Contacts", "Contacts")}
    invoice_before = next(
        i for i in org.all("Invoices", "Invoices") if i["InvoiceNumber"] == "INV-V1"
    )

    hostile_contacts = [
        {"Name": 'x" OR Name!="', "EmailAddress": "attacker@evil.io"},
        {"Name": 'Victim One" OR "1"=="1', "EmailAddress": "attacker@evil.io"},
        {"Name": "Hostile Number", "ContactNumber": 'V-1" OR ContactNumber!="'},
        {"Name": 'Back\\" OR Name!="\\'},
    ]
    attack = [
        schema_message("contacts"),
        schema_message("invoices"),
        schema_message("payments"),
        *[_rec("contacts", c) for c in hostile_contacts],
        # A reference by a hostile name must reach no victim.
        _rec("invoices", _invoice("INV-H1", {"Name": 'Victim Two" OR Name!="'})),
        # A payment on a hostile invoice number must pay no victim's invoice.
        _rec(
            "payments",
            {
                "Invoice": {"InvoiceNumber": 'INV-V1" OR InvoiceNumber!="'},
                "Account": {"Code": "090"},
                "Date": "2026-10-08T00:00:00.000000+00:00",
                "Amount": 10,
            },
        ),
    ]
    run = run_target(
        org.config(tmp_path / "attack"), tmp_path, singer_file(tmp_path, "attack.singer", attack)
    )
    assert run.returncode == 0, run.stderr[-3000:]

    # Each hostile contact is a new contact with exactly its own name; no victim changed.
    contact_actions = [a["action"] for a in run.audit if a["stream"] == "contacts"]
    assert contact_actions == ["created"] * len(hostile_contacts)
    after = {c["ContactID"]: c for c in org.all("Contacts", "Contacts")}
    for contact_id, victim in before.items():
        assert after[contact_id] == victim
    names = {c["Name"] for c in after.values()}
    assert {c["Name"] for c in hostile_contacts} <= names
    numbers = [c.get("ContactNumber") for c in after.values()]
    assert numbers.count("V-1") == 1

    # The hostile references were rejected, naming the value, not matched to a victim.
    rejected = {r["stream"]: " ".join(r["reasons"]) for r in run.rejects}
    assert set(rejected) == {"invoices", "payments"}
    assert 'Victim Two" OR Name!="' in rejected["invoices"]
    assert 'INV-V1" OR InvoiceNumber!="' in rejected["payments"]
    assert org.all("Payments", "Payments") == []
    invoice_after = next(
        i for i in org.all("Invoices", "Invoices") if i["InvoiceNumber"] == "INV-V1"
    )
    assert invoice_after["AmountPaid"] == invoice_before["AmountPaid"]
    assert invoice_after["UpdatedDateUTC"] == invoice_before["UpdatedDateUTC"]

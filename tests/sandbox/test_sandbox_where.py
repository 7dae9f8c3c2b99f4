"""The sandbox's ``where``/``order`` languages (Xero's filter and sort syntax), unit by unit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from xero_sandbox.where import (
    QueryError,
    order_key,
    parse_order,
    parse_where,
    required_equalities,
)

INVOICE: dict[str, Any] = {
    "Type": "ACCREC",
    "Status": "AUTHORISED",
    "InvoiceNumber": "INV-0042",
    "Total": Decimal("1150.00"),
    "AmountDue": Decimal("0.00"),
    "Date": "/Date(1767225600000+0000)/",  # 2026-01-01
    "Reference": None,
    "SentToContact": True,
    "Contact": {"ContactID": "4e3c8b0b-1111-4111-8111-111111111111", "Name": "Bayside Club"},
}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('Type=="ACCREC"', True),
        ('Type == "accrec"', True),  # Xero compares text case-insensitively
        ('Type!="ACCREC"', False),
        ('Type="ACCREC"', True),  # the single = Xero documents for Contacts
        ('Type=="ACCREC" AND Status=="AUTHORISED"', True),
        ('Type=="ACCREC" && Status=="DRAFT"', False),
        ('Type=="ACCPAY" OR Status=="AUTHORISED"', True),
        ('Type=="ACCPAY" || Status=="DRAFT"', False),
        ('Type=="ACCPAY" or (Total > 1000 and Status=="AUTHORISED")', True),
        ("Total > 1000", True),
        ("Total >= 1150", True),
        ("Total < 1150.00", False),
        ("Total <= 1150", True),
        ("AmountDue == 0", True),
        ("Date >= DateTime(2026, 01, 01)", True),
        ("Date > DateTime(2026,1,1)", False),
        ("Date < DateTime(2026, 01, 01, 00, 00, 01)", True),
        ('Contact.ContactID==Guid("4E3C8B0B-1111-4111-8111-111111111111")', True),
        ('Contact.ContactID==GUID("4e3c8b0b-1111-4111-8111-111111111112")', False),
        ('Contact.Name.Contains("SIDE")', True),
        ('Contact.Name.StartsWith("bay")', True),
        ('Contact.Name.EndsWith("club")', True),
        ('InvoiceNumber.EndsWith("41")', False),
        ("Reference==null", True),
        ("Reference!=null", False),
        ("Contact.Name!=null", True),
        ("SentToContact==true", True),
        ("SentToContact==false", False),
        ("SentToContact", True),
        ('NOT Type=="ACCPAY"', True),
        ('!(Type=="ACCREC")', False),
        ('"ACCREC"==Type', True),  # literal on the left
        ("1000 < Total", True),
        ("NoSuchField==null", True),
    ],
)
def test_where_expressions(where: str, expected: bool) -> None:
    assert parse_where(where)(INVOICE) is expected


@pytest.mark.parametrize(
    "where",
    [
        "Type==",
        'Type=="ACCREC" AND',
        "Total ~ 5",
        'Type=="unterminated',
        "Date > DateTime(2026)",
        "Date > DateTime(2026, 13, 1)",
        'Contact.ContactID==Guid("nope")',
        '"a"=="b"',
        "Type==Status",
        'Name.Matches("x")',
        "Contains(5)",
        "Type.Contains(5)",
        '(Type=="ACCREC"',
    ],
)
def test_bad_where_raises_query_error(where: str) -> None:
    with pytest.raises(QueryError):
        parse_where(where)(INVOICE)


def test_empty_where_matches_everything() -> None:
    assert parse_where("  ")(INVOICE)


def test_datetime_compared_with_text_is_a_query_error() -> None:
    with pytest.raises(QueryError):
        parse_where("Type > DateTime(2020, 1, 1)")(INVOICE)


def test_order_parsing_and_keys() -> None:
    parsed = parse_order("Contact.Name DESC, Date, Total asc")
    assert [(f.path, desc) for f, desc in parsed] == [
        (("Contact", "Name"), True),
        (("Date",), False),
        (("Total",), False),
    ]
    records = [
        {"Date": "/Date(200+0000)/", "Total": Decimal("2")},
        {"Date": "/Date(100+0000)/", "Total": Decimal("10")},
        {"Date": None, "Total": Decimal("1")},
    ]
    (date_field, _), (total_field, _) = parse_order("Date, Total")
    assert [r["Total"] for r in sorted(records, key=lambda r: order_key(date_field, r))] == [
        Decimal("1"),
        Decimal("10"),
        Decimal("2"),
    ]
    assert [r["Total"] for r in sorted(records, key=lambda r: order_key(total_field, r))] == [
        Decimal("1"),
        Decimal("2"),
        Decimal("10"),
    ]
    for bad in ("Total SIDEWAYS", "", "Total,,Date", "Total DESC DESC"):
        with pytest.raises(QueryError):
            parse_order(bad)


def test_required_equalities_are_only_top_level_and_terms() -> None:
    assert required_equalities('Type=="ACCREC" AND Status=="PAID" AND Total > 5') == [
        ("Type", ["ACCREC"]),
        ("Status", ["PAID"]),
    ]
    assert required_equalities('"INV-1"==InvoiceNumber') == [("InvoiceNumber", ["INV-1"])]
    assert required_equalities('Name=="A" OR Name=="B" OR name=="C"') == [("Name", ["A", "B", "C"])]
    assert required_equalities('Type=="X" AND (Status=="A" OR Status=="B")') == [
        ("Type", ["X"]),
        ("Status", ["A", "B"]),
    ]
    assert required_equalities('Type=="A" OR Status=="B"') == []
    assert required_equalities('Type=="A" OR Total > 1') == []
    assert required_equalities('Type!="A"') == []
    guid = "4e3c8b0b-1111-4111-8111-111111111111"
    assert required_equalities(f'Contact.ContactID==Guid("{guid}")') == [
        ("Contact.ContactID", [guid])
    ]


def test_case_functions_and_guid_forms_that_clients_send() -> None:
    # pyxero's __tolower/__toupper filters; .NET parses GUIDs with or without dashes/braces.
    assert parse_where('Contact.Name.ToLower()=="bayside club"')(INVOICE)
    assert parse_where('Contact.Name.toupper().Contains("SIDE")')(INVOICE)
    bare = "4E3C8B0B111141118111111111111111"
    for form in (bare, "{4e3c8b0b-1111-4111-8111-111111111111}", bare.lower()):
        assert parse_where(f'Contact.ContactID==Guid("{form}")')(INVOICE), form
    assert required_equalities(f'Contact.ContactID==Guid("{bare}")') == [
        ("Contact.ContactID", ["4e3c8b0b-1111-4111-8111-111111111111"])
    ]
    with pytest.raises(QueryError):
        parse_where('Contact.ContactID==Guid("{4e3c8b0b111141118111111111111111")')


def test_nesting_is_bounded_and_conditions_are_counted() -> None:
    assert parse_where("NOT " * 30 + "SentToContact")(INVOICE) is True
    with pytest.raises(QueryError, match="deeper than 32"):
        parse_where("NOT " * 31 + 'Type=="ACCREC"')
    with pytest.raises(QueryError):
        parse_where("(" * 5000 + "SentToContact" + ")" * 5000 + " AND " + "!" * 5000 + "X")
    assert parse_where('Type=="A" OR (Status=="B" AND Name.Contains("c")) OR X').conditions == 4

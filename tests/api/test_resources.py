"""xero_api.resources: the table's typed values say what its rows mean."""

from __future__ import annotations

from datetime import date

import pytest

from xero_api.resources import (
    REPORTS,
    RESOURCES,
    Key,
    Paging,
    ReadPlan,
    Via,
    resource_for_stream,
)


def test_keys_are_fields_and_a_compound_key_is_asked_by_its_first() -> None:
    key = Key.parse("InvoiceNumber+Type+Contact.ContactID")
    assert key == Key("InvoiceNumber", "Type", "Contact.ContactID")
    assert key.compound
    assert key.first == "InvoiceNumber"
    assert str(key) == "InvoiceNumber+Type+Contact.ContactID"
    assert not Key("Name").compound
    with pytest.raises(ValueError, match="one or more fields"):
        Key.parse("Name+")


def test_id_field_is_the_single_id_field_or_empty() -> None:
    assert resource_for_stream("invoices").id_field == "InvoiceID"
    assert resource_for_stream("file_associations").id_field == ""  # FileId+ObjectId
    assert resource_for_stream("payroll_settings").id_field == ""  # one object per tenant


def test_lookups_default_to_where_and_status_steps_are_found_by_status() -> None:
    invoices = resource_for_stream("invoices").write
    assert invoices is not None
    assert invoices.lookup("InvoiceNumber").via is Via.ID_LIST
    assert invoices.lookup("InvoiceNumber").param == "InvoiceNumbers"
    assert invoices.lookup("Reference").via is Via.WHERE
    assert invoices.steps_to("VOIDED") == ("AUTHORISED", "VOIDED")
    assert invoices.steps_to("DRAFT") is None


def test_every_reference_and_dependency_names_a_row_of_the_table() -> None:
    streams = {r.stream for r in RESOURCES}
    for row in RESOURCES:
        if row.read.parent is not None:
            assert row.read.parent.stream in streams, row.stream
        if row.write is not None:
            assert set(row.write.depends_on) <= streams, row.stream
            assert {ref.stream for ref in row.write.references} <= streams, row.stream


def test_reference_data_offset_field_and_tracking_options_are_table_data() -> None:
    assert resource_for_stream("currencies").reference_data  # full table
    assert resource_for_stream("accounts").reference_data  # the settings scope
    assert not resource_for_stream("invoices").reference_data
    assert not resource_for_stream("projects").reference_data  # full table, not Accounting
    assert resource_for_stream("journals").read.offset_field == "JournalNumber"
    with pytest.raises(ValueError, match="offset paging"):
        ReadPlan(paging=Paging.OFFSET)
    invoices = resource_for_stream("invoices").write
    assert invoices is not None
    assert [r.field for r in invoices.references if r.options] == ["Tracking"]


def test_a_report_month_is_asked_as_at_its_end_or_as_its_movement() -> None:
    first, last = date(2026, 2, 1), date(2026, 2, 28)
    assert REPORTS["report_balance_sheet"].month_params(first, last) == {"date": "2026-02-28"}
    assert REPORTS["report_trial_balance"].month_params(first, last) == {"date": "2026-02-28"}
    profit_and_loss = REPORTS["report_profit_and_loss"]
    assert profit_and_loss.name == "ProfitAndLoss"
    assert profit_and_loss.month_params(first, last) == {
        "fromDate": "2026-02-01",
        "toDate": "2026-02-28",
    }


def test_document_lines_are_table_data() -> None:
    lines = {r.stream: r.write.lines for r in RESOURCES if r.write is not None and r.write.lines}
    assert {stream: (lines.field, lines.id_field) for stream, lines in lines.items()} == {
        "bank_transactions": ("LineItems", "LineItemID"),
        "credit_notes": ("LineItems", "LineItemID"),
        "invoices": ("LineItems", "LineItemID"),
        "manual_journals": ("JournalLines", "JournalLineID"),
        "payroll_timesheets": ("TimesheetLines", ""),
        "payroll_nz_timesheets": ("timesheetLines", "timesheetLineID"),
        "payroll_uk_timesheets": ("timesheetLines", "timesheetLineID"),
        "purchase_orders": ("LineItems", "LineItemID"),
        "quotes": ("LineItems", "LineItemID"),
    }
    for row in RESOURCES:  # a reference inside a list is inside the row's lines
        rule = row.write
        in_lists = {ref.in_list for ref in rule.references if ref.in_list} if rule else set()
        assert in_lists <= ({rule.lines.field} if rule and rule.lines else set()), row.stream

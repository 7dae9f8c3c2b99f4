"""Behaviour of the sandbox's PUT/POST endpoints over real HTTP: validation with Xero's messages,
both error modes, Xero's rounding, payments, status rules, journals and webhooks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests._sandbox_edge_support import WebhookReceiver
from tests._sandbox_writes_support import (
    ADVERTISING,
    ARCHIVED_EXPENSE,
    BANK,
    EQUITY,
    GST_ON_EXPENSES,
    GST_ON_INCOME,
    SALES,
    UNLIMITED,
    Api,
    invoice,
    line,
    messages,
    parsed,
)
from xero_sandbox.launcher import Sandbox
from xero_sandbox.store import Store

ZERO_GUID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def writes_sandbox() -> Iterator[Sandbox]:
    """A sandbox of our own: these tests write, and must not disturb the shared one."""
    with Sandbox(tenants=1, scale=5, seed=11, **UNLIMITED) as sb:
        yield sb


@pytest.fixture(scope="module")
def api(writes_sandbox: Sandbox) -> Iterator[Api]:
    client = Api(writes_sandbox)
    yield client
    client.close()


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def rejected(answer: Any) -> dict[str, Any]:
    """The single failed element of a default-mode 400 ValidationException."""
    assert answer.status_code == 400, answer.text
    body = parsed(answer)
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10,
        "ValidationException",
        "A validation exception occurred",
    )
    assert len(body["Elements"]) == 1
    element: dict[str, Any] = body["Elements"][0]
    return element


def authorised_invoice(api: Api, *lines: dict[str, Any]) -> dict[str, Any]:
    return api.created("Invoices", invoice(unique("Payer"), *lines, Status="AUTHORISED"))


# ---- contacts ---------------------------------------------------------------------------------


def test_contact_create_then_update_bumps_updated_date(api: Api) -> None:
    name = unique("Contact")
    created = api.created("Contacts", {"Contacts": [{"Name": name, "EmailAddress": "a@b.co"}]})
    assert created["ContactStatus"] == "ACTIVE"
    assert created["HasValidationErrors"] is False
    time.sleep(0.01)
    answer = api.post(f"Contacts/{created['ContactID']}", {"Contacts": [{"FirstName": "Ada"}]})
    assert answer.status_code == 200, answer.text
    updated = parsed(answer)["Contacts"][0]
    assert updated["ContactID"] == created["ContactID"]
    assert updated["FirstName"] == "Ada"
    assert updated["EmailAddress"] == "a@b.co"  # partial update keeps what was not sent
    assert updated["UpdatedDateUTC"] > created["UpdatedDateUTC"]
    assert api.one("Contacts", created["ContactID"])["FirstName"] == "Ada"


def test_duplicate_contact_name_is_refused_with_xeros_message(api: Api) -> None:
    name = unique("Dup")
    api.created("Contacts", {"Name": name})
    element = rejected(api.put("Contacts", {"Name": name}))
    assert messages(element) == [
        f"The contact name {name} is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ]
    assert element["ContactID"] == ZERO_GUID
    assert element["HasValidationErrors"] is True


def test_contact_number_must_be_unique_and_email_valid(api: Api) -> None:
    number = uuid.uuid4().hex[:10]
    api.created("Contacts", {"Name": unique("Numbered"), "ContactNumber": number})
    element = rejected(api.put("Contacts", {"Name": unique("Other"), "ContactNumber": number}))
    assert messages(element) == [
        "Another contact has this contact number. Please enter a different contact number."
    ]
    element = rejected(api.put("Contacts", {"Name": unique("Mail"), "EmailAddress": "not-mail"}))
    assert messages(element) == ["Email address must be valid."]


def test_post_without_id_updates_the_contact_with_that_number(api: Api) -> None:
    number = uuid.uuid4().hex[:10]
    first = api.created("Contacts", {"Name": unique("Upsert"), "ContactNumber": number})
    answer = api.post("Contacts", {"Contacts": [{"ContactNumber": number, "LastName": "Lovelace"}]})
    assert answer.status_code == 200, answer.text
    again = parsed(answer)["Contacts"][0]
    assert again["ContactID"] == first["ContactID"]
    assert again["LastName"] == "Lovelace"


def test_archived_contact_refuses_edits_and_new_invoices(api: Api) -> None:
    name = unique("Archived")
    contact = api.created("Contacts", {"Name": name})
    answer = api.post(f"Contacts/{contact['ContactID']}", {"ContactStatus": "ARCHIVED"})
    assert answer.status_code == 200, answer.text
    element = rejected(api.post(f"Contacts/{contact['ContactID']}", {"Name": unique("New")}))
    assert messages(element) == [
        "The specified contact details matched an archived contact. Archived contacts cannot "
        "currently be edited via the API."
    ]
    body = invoice()
    body["Contact"] = {"ContactID": contact["ContactID"]}
    element = rejected(api.put("Invoices", body))
    assert messages(element) == [
        "The contact with the specified contact details has been archived. The contact must be "
        "un-archived before creating new invoices or credit notes."
    ]


def test_an_archived_contacts_name_is_free_for_a_new_contact(api: Api) -> None:
    name = unique("Reused")
    old = api.created("Contacts", {"Name": name})
    api.post(f"Contacts/{old['ContactID']}", {"ContactStatus": "ARCHIVED"})
    new = api.created("Contacts", {"Name": name})
    assert new["ContactID"] != old["ContactID"]
    named = api.created("Invoices", invoice(name))  # by Name: the active contact
    assert named["Contact"]["ContactID"] == new["ContactID"]


def test_first_sales_invoice_makes_a_customer_and_first_bill_a_supplier(api: Api) -> None:
    contact = api.created("Contacts", {"Name": unique("Roles")})
    assert (contact["IsCustomer"], contact["IsSupplier"]) == (False, False)
    body = invoice()
    body["Contact"] = {"ContactID": contact["ContactID"]}
    api.created("Invoices", body)
    customer = api.one("Contacts", contact["ContactID"])
    assert (customer["IsCustomer"], customer["IsSupplier"]) == (True, False)
    assert customer["UpdatedDateUTC"] > contact["UpdatedDateUTC"]
    api.created("Invoices", {**body, "Type": "ACCPAY"})
    assert api.one("Contacts", contact["ContactID"])["IsSupplier"] is True
    named = api.created("Invoices", invoice(unique("Named customer")))
    assert api.one("Contacts", named["Contact"]["ContactID"])["IsCustomer"] is True


# ---- error modes ------------------------------------------------------------------------------


def test_default_mode_fails_the_batch_but_keeps_its_valid_elements(api: Api) -> None:
    taken = unique("Taken")
    api.created("Contacts", {"Name": taken})
    fresh = unique("Fresh")
    answer = api.put("Contacts", {"Contacts": [{"Name": fresh}, {"Name": taken}]})
    element = rejected(answer)  # only the failing element is listed
    assert element["Name"] == taken
    assert element["StatusAttributeString"] == "ERROR"
    # The valid element was saved all the same (Xero saves the valid elements of a batch): its
    # name is now taken.
    again = rejected(api.put("Contacts", {"Name": fresh}))
    assert "already assigned" in messages(again)[0]


def test_summarize_errors_false_echoes_every_element_in_order(api: Api) -> None:
    taken = unique("Taken")
    api.created("Contacts", {"Name": taken})
    names = [unique("A"), taken, unique("C")]
    answer = api.put(
        "Contacts", {"Contacts": [{"Name": n} for n in names]}, params={"summarizeErrors": "false"}
    )
    assert answer.status_code == 200, answer.text
    elements = parsed(answer)["Contacts"]
    assert [e["Name"] for e in elements] == names
    assert [e["StatusAttributeString"] for e in elements] == ["OK", "ERROR", "OK"]
    assert [e["HasValidationErrors"] for e in elements] == [False, True, False]
    assert elements[1]["ContactID"] == ZERO_GUID
    assert "already assigned" in messages(elements[1])[0]
    assert messages(elements[0]) == []
    assert api.one("Contacts", elements[2]["ContactID"])["Name"] == names[2]


def test_warning_status_for_a_removed_account_code(api: Api) -> None:
    answer = api.put(
        "Invoices",
        invoice(unique("Warned"), line(account="9999")),
        params={"summarizeErrors": "false"},
    )
    assert answer.status_code == 200, answer.text
    element = parsed(answer)["Invoices"][0]
    assert element["StatusAttributeString"] == "WARNING"
    assert element["Warnings"] == [
        {
            "Message": "Account code '9999' has been removed as it does not match a "
            "recognised account."
        }
    ]
    assert "AccountCode" not in element["LineItems"][0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "JSON request body could not be read"),
        (
            b'{"Invoices":[{"Type":"ACCREC","LineAmountTypes":"NO_TAX","Contact":{"Name":"x"}}]}',
            "Error converting value \"NO_TAX\" to type 'Xero.API.Library..LineAmountType'. "
            "Path 'Invoices[0].LineAmountTypes'.",
        ),
        (
            b'{"Invoices":[{"Type":"ACCREC","Contact":{"ContactID":"Ashleigh Gray"}}]}',
            "Error converting value \"Ashleigh Gray\" to type 'System.Guid'. "
            "Path 'Invoices[0].Contact.ContactID'.",
        ),
        (
            b'{"Type":"ACCREC","Contact":{"Name":"x"},'
            b'"LineItems":[{"Quantity":1e30,"UnitAmount":1}]}',
            "Value was either too large or too small for a Decimal. Path 'LineItems[0].Quantity'.",
        ),
        (
            b'{"Type":"ACCREC","Contact":{"Name":"x"},'
            b'"LineItems":[{"Quantity":1,"UnitAmount":1,"Tracking":"Region"}]}',
            "Cannot deserialize the current JSON value into type",
        ),
        (  # a bare object: the path has no envelope segment
            b'{"Type":"ACCREC","Contact":{"ContactID":"x"}}',
            "Error converting value \"x\" to type 'System.Guid'. Path 'Contact.ContactID'.",
        ),
        (
            b'{"Invoices":[{"Type":"ACCREC","Contact":{"Name":"x"},'
            b'"LineItems":[{"Quantity":"lots"}]}]}',
            "Could not convert string to decimal: lots. Path 'Invoices[0].LineItems[0].Quantity'.",
        ),
    ],
)
def test_conversion_errors_are_post_data_invalid(api: Api, body: bytes, message: str) -> None:
    answer = api.raw("PUT", "Invoices", body)
    assert answer.status_code == 400, answer.text
    error = parsed(answer)
    assert (error["ErrorNumber"], error["Type"]) == (14, "PostDataInvalidException")
    assert error["Message"].startswith(message)


def test_a_conversion_error_saves_nothing_from_the_batch(api: Api) -> None:
    good, other = unique("Good"), unique("Other")
    answer = api.put(
        "Contacts", {"Contacts": [{"Name": good}, {"Name": other, "ContactID": "nope"}]}
    )
    assert parsed(answer)["ErrorNumber"] == 14
    api.created("Contacts", {"Name": good})  # still free: the batch was not processed


def test_empty_body_is_no_data_processed(api: Api) -> None:
    answer = api.raw("PUT", "Invoices", b"")
    assert answer.status_code == 400
    assert parsed(answer) == {
        "ErrorNumber": 17,
        "Type": "NoDataProcessedException",
        "Message": "No data has been processed for this endpoint. This endpoint is expecting "
        "Invoice data to be specifed in the request body.",
    }
    answer = api.put("Quotes", {"Quotes": []})
    assert parsed(answer)["Message"] == "You must supply at least one quote for creation"


# ---- invoices: totals, numbers, validation ----------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "lines", "amounts", "taxes", "totals"),
    [
        (  # Xero's rounding guide: tax per line, then summed (a total-first system gets 11.45)
            "Exclusive",
            [line(unit_amount="25.06"), line(unit_amount="25.61"), line(unit_amount="25.63")],
            ["25.06", "25.61", "25.63"],
            ["3.76", "3.84", "3.84"],
            ("76.30", "11.44", "87.74", "0.00"),
        ),
        (  # the spec's purchase-order example, on an invoice
            "Exclusive",
            [line(unit_amount=2500, DiscountRate=10)],
            ["2250.00"],
            ["337.50"],
            ("2250.00", "337.50", "2587.50", "250.00"),
        ),
        (  # the spec's quote example: 17.955 rounds half up
            "Exclusive",
            [line(unit_amount="19.95", DiscountRate=10)],
            ["17.96"],
            ["2.69"],
            ("17.96", "2.69", "20.65", "1.99"),
        ),
        (
            "Inclusive",
            [line(unit_amount=50), line(unit_amount=420)],
            ["50.00", "420.00"],
            ["6.52", "54.78"],
            ("408.70", "61.30", "470.00", "0.00"),
        ),
        (
            "NoTax",
            [line(quantity=3, unit_amount="1.10")],
            ["3.30"],
            ["0.00"],
            ("3.30", "0.00", "3.30", "0.00"),
        ),
    ],
)
def test_invoice_totals_follow_xeros_rounding(
    api: Api,
    mode: str,
    lines: list[dict[str, Any]],
    amounts: list[str],
    taxes: list[str],
    totals: tuple[str, str, str, str],
) -> None:
    body = invoice(unique("Rounding"), *lines, LineAmountTypes=mode)
    created = api.created("Invoices", body)
    assert [item["LineAmount"] for item in created["LineItems"]] == [Decimal(a) for a in amounts]
    assert [item["TaxAmount"] for item in created["LineItems"]] == [Decimal(t) for t in taxes]
    sub_total, total_tax, total, discount = (Decimal(v) for v in totals)
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (
        sub_total,
        total_tax,
        total,
    )
    assert created.get("TotalDiscount", Decimal(0)) == discount
    assert created["AmountDue"] == total
    assert created["LineItems"][0]["TaxType"] == ("NONE" if mode == "NoTax" else GST_ON_INCOME)


def test_unitdp_4_keeps_four_decimal_unit_amounts(api: Api) -> None:
    body = invoice(unique("Cables"), line(quantity=100, unit_amount="0.4575"))
    four = api.created("Invoices", body, params={"unitdp": "4"})
    assert four["LineItems"][0]["UnitAmount"] == Decimal("0.4575")
    assert four["LineItems"][0]["LineAmount"] == Decimal("45.75")
    answer = api.post(f"Invoices/{four['InvoiceID']}", {"Reference": "no unitdp here"})
    assert answer.status_code == 200, answer.text
    stored = parsed(api.get(f"Invoices/{four['InvoiceID']}", unitdp=4))["Invoices"][0]
    kept = stored["LineItems"][0]  # lines the update did not send are not re-rounded
    assert (kept["UnitAmount"], kept["LineAmount"]) == (Decimal("0.4575"), Decimal("45.75"))
    two = api.created("Invoices", body)
    assert two["LineItems"][0]["UnitAmount"] == Decimal("0.46")
    assert two["LineItems"][0]["LineAmount"] == Decimal("46.00")


def test_invoice_numbers_are_generated_and_must_be_unique(api: Api) -> None:
    first = api.created("Invoices", invoice(unique("Numbers")))
    second = api.created("Invoices", invoice(unique("Numbers")))
    assert first["InvoiceNumber"].startswith("INV-")
    assert second["InvoiceNumber"] != first["InvoiceNumber"]
    element = rejected(api.put("Invoices", invoice(InvoiceNumber=first["InvoiceNumber"])))
    assert messages(element) == ["Invoice # must be unique."]
    assert element["InvoiceID"] == ZERO_GUID
    assert element["HasErrors"] is True
    assert element["LineItems"][0]["ValidationErrors"] == []
    assert element["Total"] == Decimal("11.50")  # echoed with Xero's computed view


def test_bill_numbers_may_repeat_and_never_match_on_post(api: Api) -> None:
    number = f"SUP-{uuid.uuid4().hex[:6]}"
    bill = {**invoice(unique("Supplier")), "Type": "ACCPAY", "InvoiceNumber": number}
    first = api.created("Invoices", bill)
    answer = api.post("Invoices", {"Invoices": [bill]})
    assert answer.status_code == 200, answer.text
    second = parsed(answer)["Invoices"][0]
    assert second["InvoiceID"] != first["InvoiceID"]
    assert second["InvoiceNumber"] == number


def test_post_with_a_sales_invoice_number_updates_that_invoice(api: Api) -> None:
    created = api.created("Invoices", invoice(unique("By number")))
    answer = api.post(
        "Invoices", {"Invoices": [{"InvoiceNumber": created["InvoiceNumber"], "Reference": "R1"}]}
    )
    assert answer.status_code == 200, answer.text
    updated = parsed(answer)["Invoices"][0]
    assert (updated["InvoiceID"], updated["Reference"]) == (created["InvoiceID"], "R1")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"Type": None}, "Invoice Type must be specified"),
        ({"Type": "ACCPAYCREDIT"}, "Invoice not of valid type for creation"),
        (
            {"Contact": {}},
            "The Contact must contain at least 1 of the following elements to identify the "
            "contact: Name, ContactID, ContactNumber",
        ),
        ({"LineItems": []}, "One or more line items must be specified"),
        (
            {"LineItems": [line(TaxType="BOGUS")]},
            "The TaxType code BOGUS does not exist or cannot be used for this type of transaction.",
        ),
        (
            {"LineItems": [line(quantity=3, unit_amount=10, LineAmount=31)]},
            "The line total 31.00 does not match the expected line total 30.00",
        ),
        (
            {"LineItems": [line(quantity=-1)]},
            "The quantity value '-1.0000' is invalid. Quantity must not be less than zero.",
        ),
        (
            {"LineItems": [line(account=ARCHIVED_EXPENSE)]},
            f"Account code '{ARCHIVED_EXPENSE}' is not a valid code for this document.",
        ),
        (
            {"LineItems": [line(account=BANK)]},
            f"Account code '{BANK}' is not a valid code for this document.",
        ),
        (
            {"Status": "AUTHORISED", "LineItems": [line(account="9999")]},
            "Account code must be specified",
        ),
        (
            {"Status": "AUTHORISED", "DueDate": None},
            "The document DueDate field must be specified.",
        ),
        ({"Status": "PAID"}, "Invoice not of valid status for modification"),
        (
            {"InvoiceID": "6f2e1a58-8d3e-4c55-9a55-0d3c50cf0c11"},
            "An existing Invoice with the specified InvoiceID could not be found",
        ),
    ],
)
def test_invoice_validation_uses_xeros_messages(
    api: Api, change: dict[str, Any], expected: str
) -> None:
    body = invoice(unique("Validated"))
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    element = rejected(api.put("Invoices", {"Invoices": [body]}))
    assert expected in messages(element)


def test_unknown_properties_are_dropped_silently(api: Api) -> None:
    body = invoice(unique("Extra"), line(Colour="red"), Flavour="vanilla")
    created = api.created("Invoices", body)
    stored = api.one("Invoices", created["InvoiceID"])
    assert "Flavour" not in created
    assert "Flavour" not in stored
    assert "Colour" not in stored["LineItems"][0]


def test_huge_but_convertible_amounts_are_a_validation_error(api: Api) -> None:
    body = invoice(unique("Huge"), line(quantity="1E+20", unit_amount="1E+20"))
    element = rejected(api.put("Invoices", body))
    assert messages(element)[0].startswith("The line total ")


def test_line_amount_alone_derives_quantity_and_unit_amount(api: Api) -> None:
    created = api.created(
        "Invoices",
        invoice(unique("Derived"), {"Description": "x", "LineAmount": 12, "AccountCode": SALES}),
    )
    item = created["LineItems"][0]
    assert (item["Quantity"], item["UnitAmount"], item["LineAmount"]) == (1, 12, Decimal("12.00"))


def test_post_updates_lines_by_line_item_id(api: Api) -> None:
    created = api.created("Invoices", invoice(unique("Lines"), line(), line("Gadget", 2, 5)))
    keep = created["LineItems"][0]
    answer = api.post(
        f"Invoices/{created['InvoiceID']}",
        {"LineItems": [{"LineItemID": keep["LineItemID"], "Quantity": 4}, line("New", 1, 1)]},
    )
    assert answer.status_code == 200, answer.text
    updated = parsed(answer)["Invoices"][0]
    assert [i["Description"] for i in updated["LineItems"]] == ["Widget", "New"]
    assert updated["LineItems"][0]["LineItemID"] == keep["LineItemID"]
    assert updated["SubTotal"] == Decimal("41.00")
    assert updated["UpdatedDateUTC"] >= created["UpdatedDateUTC"]
    assert updated["InvoiceNumber"] == created["InvoiceNumber"]


# ---- payments and status rules ----------------------------------------------------------------


def test_payments_reduce_amount_due_until_the_invoice_is_paid(api: Api) -> None:
    inv = authorised_invoice(api, line(quantity=2, unit_amount=50))  # 100 + 15 % = 115
    assert inv["Total"] == Decimal("115.00")
    pay = {
        "Invoice": {"InvoiceID": inv["InvoiceID"]},
        "Account": {"Code": BANK},
        "Date": "2026-11-02",
    }
    first = api.created("Payments", {"Payments": [{**pay, "Amount": 100}]})
    assert first["PaymentType"] == "ACCRECPAYMENT"
    assert first["Status"] == "AUTHORISED"
    assert (first["Invoice"]["AmountPaid"], first["Invoice"]["AmountDue"]) == (100, 15)
    middle = api.one("Invoices", inv["InvoiceID"])
    assert (middle["Status"], middle["AmountDue"], middle["AmountPaid"]) == ("AUTHORISED", 15, 100)
    api.created("Payments", {**pay, "Amount": 15})
    paid = api.one("Invoices", inv["InvoiceID"])
    assert (paid["Status"], paid["AmountDue"], paid["AmountPaid"]) == ("PAID", 0, 115)
    assert paid["FullyPaidOnDate"].startswith("/Date(")
    assert len(paid["Payments"]) == 2


def test_payment_rules_use_xeros_messages(api: Api) -> None:
    draft = api.created("Invoices", invoice(unique("Draft")))
    inv = authorised_invoice(api)
    ref = {"InvoiceID": inv["InvoiceID"]}
    cases = [
        (
            {"Invoice": {"InvoiceID": draft["InvoiceID"]}, "Account": {"Code": BANK}, "Amount": 1},
            "Payments can only be made against Authorised documents",
        ),
        (
            {"Invoice": ref, "Account": {"Code": BANK}, "Amount": 1000},
            "Payment amount exceeds the amount outstanding on this document",
        ),
        (
            {"Invoice": ref, "Account": {"Code": SALES}, "Amount": 1},
            "Account type is invalid for making a payment to/from",
        ),
        ({"Invoice": ref, "Account": {"Code": "nope"}, "Amount": 1}, "Account could not be found."),
        (
            {
                "Invoice": ref,
                "CreditNote": {"CreditNoteNumber": "CN-0001"},
                "Account": {"Code": BANK},
                "Amount": 1,
            },
            "Payment is applied to more than one document.",
        ),
    ]
    for payment, expected in cases:
        element = rejected(api.put("Payments", {"Payments": [payment]}))
        assert expected in messages(element), payment
        assert element["HasValidationErrors"] is True
    assert api.one("Invoices", inv["InvoiceID"])["AmountPaid"] == 0


def test_deleting_a_payment_reopens_the_invoice(api: Api) -> None:
    inv = authorised_invoice(api)
    payment = api.created(
        "Payments",
        {
            "Invoice": {"InvoiceID": inv["InvoiceID"]},
            "Account": {"Code": BANK},
            "Amount": str(inv["Total"]),
        },
    )
    assert api.one("Invoices", inv["InvoiceID"])["Status"] == "PAID"
    element = rejected(api.post(f"Payments/{payment['PaymentID']}", {"Amount": 1}))
    assert messages(element) == ["Only Status accepted for updates."]
    answer = api.post(f"Payments/{payment['PaymentID']}", {"Payments": [{"Status": "DELETED"}]})
    assert answer.status_code == 200, answer.text
    assert parsed(answer)["Payments"][0]["Status"] == "DELETED"
    reopened = api.one("Invoices", inv["InvoiceID"])
    assert (reopened["Status"], reopened["AmountDue"], reopened["AmountPaid"]) == (
        "AUTHORISED",
        inv["Total"],
        0,
    )
    assert "FullyPaidOnDate" not in reopened


def test_invoice_status_rules(api: Api) -> None:
    draft = api.created("Invoices", invoice(unique("Status")))
    answer = api.post(
        f"Invoices/{draft['InvoiceNumber']}",
        {"InvoiceNumber": draft["InvoiceNumber"], "Status": "DELETED"},
    )
    assert answer.status_code == 200, answer.text
    deleted = parsed(answer)["Invoices"][0]
    assert (deleted["Status"], deleted["AmountDue"]) == ("DELETED", Decimal("0.00"))

    inv = authorised_invoice(api)
    element = rejected(api.post(f"Invoices/{inv['InvoiceID']}", {"Status": "DELETED"}))
    assert messages(element) == ["Invoice not of valid status for modification"]
    assert element["InvoiceID"] == inv["InvoiceID"]

    api.created(
        "Payments",
        {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Account": {"Code": BANK}, "Amount": 1},
    )
    element = rejected(api.post(f"Invoices/{inv['InvoiceID']}", {"Status": "VOIDED"}))
    assert messages(element) == [
        "The status VOIDED cannot be applied to the invoice because it has payments or credit "
        "notes allocated to it."
    ]
    element = rejected(api.post(f"Invoices/{inv['InvoiceID']}", {"LineItems": [line(quantity=9)]}))
    assert messages(element) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."
    ]

    other = authorised_invoice(api)
    voided = api.post(f"Invoices/{other['InvoiceID']}", {"Status": "VOIDED"})
    assert voided.status_code == 200, voided.text
    assert parsed(voided)["Invoices"][0]["AmountDue"] == Decimal("0.00")  # as seeded ones
    assert api.one("Invoices", other["InvoiceID"])["AmountDue"] == Decimal("0.00")
    element = rejected(api.post(f"Invoices/{other['InvoiceID']}", {"Reference": "late edit"}))
    assert messages(element) == ["Invoice not of valid status for modification"]


def test_seeded_documents_have_the_fields_written_ones_have() -> None:
    """The seed writes what the write path would: no field of a written document is missing
    from a seeded one of the same collection (optional content fields aside)."""
    with Sandbox(tenants=1, scale=12, seed=4, **UNLIMITED) as sb:
        api = Api(sb)
        try:
            seeded = {
                name: parsed(api.get(name, page=1))[name]
                for name in ("Invoices", "CreditNotes", "PurchaseOrders", "Quotes")
            }
            seeded["BankTransactions"] = [
                t
                for t in parsed(api.get("BankTransactions", page=1))["BankTransactions"]
                if t["Type"] in ("SPEND", "RECEIVE")
            ]
            contact = api.created("Contacts", {"Name": unique("Shape")})
            who = {"ContactID": contact["ContactID"]}
            sale, cost = line(), line(account="300")
            written = {
                "Invoices": api.created(
                    "Invoices", invoice(Contact=who, Status="AUTHORISED", DueDate="2026-01-31")
                ),
                "CreditNotes": api.created(
                    "CreditNotes",
                    {
                        "Type": "ACCRECCREDIT",
                        "Contact": who,
                        "DueDate": "2026-01-31",
                        "LineItems": [sale],
                    },
                ),
                "PurchaseOrders": api.created(
                    "PurchaseOrders", {"Contact": who, "LineItems": [cost]}
                ),
                "Quotes": api.created("Quotes", {"Contact": who, "LineItems": [sale]}),
                "BankTransactions": api.created(
                    "BankTransactions",
                    {
                        "Type": "SPEND",
                        "Contact": who,
                        "BankAccount": {"Code": BANK},
                        "LineItems": [cost],
                    },
                ),
            }
            for name, answer in written.items():
                id_field = f"{name[:-1]}ID"  # InvoiceID, CreditNoteID, ...
                document = api.one(name, answer[id_field])  # as stored, not the write's echo
                assert seeded[name], name
                for record in seeded[name]:
                    missing = set(document) - set(record) - {"Reference", "SentToContact"}
                    assert missing == set(), (name, record["Status"], sorted(missing))
        finally:
            api.close()


def test_seeded_documents_follow_the_same_rules(api: Api) -> None:
    paid = parsed(api.get("Invoices", Statuses="PAID", where='Type=="ACCREC"'))["Invoices"][0]
    element = rejected(api.post(f"Invoices/{paid['InvoiceID']}", {"Status": "VOIDED"}))
    assert messages(element) == [
        "The status VOIDED cannot be applied to the invoice because it has payments or credit "
        "notes allocated to it."
    ]
    element = rejected(api.post(f"Invoices/{paid['InvoiceID']}", {"LineItems": [line(quantity=7)]}))
    assert messages(element) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."
    ]
    answer = api.post(f"Invoices/{paid['InvoiceID']}", {"Reference": "still editable"})
    assert answer.status_code == 200, answer.text
    kept = api.one("Invoices", paid["InvoiceID"])
    assert (kept["Status"], kept["AmountDue"], kept["Reference"]) == ("PAID", 0, "still editable")

    open_ones = parsed(api.get("Invoices", Statuses="AUTHORISED"))["Invoices"]
    target = next(i for i in open_ones if i["AmountDue"] > 0)
    api.created(
        "Payments",
        {
            "Invoice": {"InvoiceID": target["InvoiceID"]},
            "Account": {"Code": BANK},
            "Amount": str(target["AmountDue"]),
        },
    )
    settled = api.one("Invoices", target["InvoiceID"])
    assert (settled["Status"], settled["AmountDue"]) == ("PAID", 0)
    assert settled["AmountPaid"] == target["AmountPaid"] + target["AmountDue"]


def journals_for(api: Api, source_id: str) -> list[dict[str, Any]]:
    """Every journal a document posted, read through GET /Journals?offset=."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = parsed(api.get("Journals", offset=offset))["Journals"]
        if not page:
            return found
        found += [j for j in page if j["SourceID"] == source_id]
        offset = max(j["JournalNumber"] for j in page)


def net_by_account(journals: list[dict[str, Any]]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for journal in journals:
        for jline in journal["JournalLines"]:
            sums[jline["AccountCode"]] = (
                sums.get(jline["AccountCode"], Decimal(0)) + jline["NetAmount"]
            )
    return {code: amount for code, amount in sums.items() if amount}


def test_journals_follow_authorise_payment_and_void(api: Api) -> None:
    draft = api.created("Invoices", invoice(unique("Journal"), line(quantity=2, unit_amount=50)))
    assert journals_for(api, draft["InvoiceID"]) == []
    answer = api.post(f"Invoices/{draft['InvoiceID']}", {"Status": "AUTHORISED"})
    assert answer.status_code == 200, answer.text
    posted = journals_for(api, draft["InvoiceID"])
    assert [j["SourceType"] for j in posted] == ["ACCREC"]
    assert net_by_account(posted) == {
        "610": Decimal("115.00"),
        SALES: Decimal("-100.00"),
        "820": Decimal("-15.00"),
    }
    assert sum(j["NetAmount"] for j in posted[0]["JournalLines"]) == 0

    payment = api.created(
        "Payments",
        {"Invoice": {"InvoiceID": draft["InvoiceID"]}, "Account": {"Code": BANK}, "Amount": 15},
    )
    assert net_by_account(journals_for(api, payment["PaymentID"])) == {
        BANK: Decimal("15.00"),
        "610": Decimal("-15.00"),
    }
    api.post(f"Payments/{payment['PaymentID']}", {"Status": "DELETED"})
    assert net_by_account(journals_for(api, payment["PaymentID"])) == {}

    answer = api.post(f"Invoices/{draft['InvoiceID']}", {"Status": "VOIDED"})
    assert answer.status_code == 200, answer.text
    after = journals_for(api, draft["InvoiceID"])
    assert len(after) == 2  # the original and its reversal
    assert net_by_account(after) == {}


def trial_balance(api: Api) -> dict[str, Decimal]:
    """Debit minus credit per account code on today's TrialBalance."""
    report = parsed(api.get("Reports/TrialBalance"))["Reports"][0]
    net: dict[str, Decimal] = {}
    for section in report["Rows"]:
        for row in section.get("Rows", []):
            label = row["Cells"][0]["Value"]
            if row["RowType"] == "Row" and label.endswith(")"):
                code = label.rsplit("(", 1)[1][:-1]
                net[code] = Decimal(row["Cells"][1]["Value"]) - Decimal(row["Cells"][2]["Value"])
    return net


def test_trial_balance_moves_with_authorise_and_void(api: Api) -> None:
    before = trial_balance(api)
    draft = api.created("Invoices", invoice(unique("Report"), line(quantity=4, unit_amount=25)))
    assert trial_balance(api) == before  # a draft posts nothing
    api.post(f"Invoices/{draft['InvoiceID']}", {"Status": "AUTHORISED"})
    after = trial_balance(api)
    assert after[SALES] - before.get(SALES, Decimal(0)) == Decimal("-100.00")
    assert after["610"] - before.get("610", Decimal(0)) == Decimal("115.00")
    assert after["820"] - before.get("820", Decimal(0)) == Decimal("-15.00")
    api.post(f"Invoices/{draft['InvoiceID']}", {"Status": "VOIDED"})
    assert trial_balance(api) == before


# ---- other resources --------------------------------------------------------------------------


def test_credit_note_numbering_and_cash_refund(api: Api) -> None:
    note = api.created(
        "CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"Name": unique("Refund")},
                    "Status": "AUTHORISED",
                    "LineItems": [line(unit_amount=20)],
                }
            ]
        },
    )
    assert note["CreditNoteNumber"].startswith("CN-")
    assert (note["Total"], note["RemainingCredit"]) == (Decimal("23.00"), Decimal("23.00"))
    refund = api.created(
        "Payments",
        {
            "CreditNote": {"CreditNoteID": note["CreditNoteID"]},
            "Account": {"Code": BANK},
            "Amount": 23,
        },
    )
    assert refund["PaymentType"] == "ARCREDITPAYMENT"
    assert api.one("CreditNotes", note["CreditNoteID"])["Status"] == "PAID"
    draft = api.created(
        "CreditNotes", {"Type": "ACCPAYCREDIT", "Contact": {"Name": unique("Supplier")}}
    )
    assert draft["Status"] == "DRAFT"  # a draft credit note needs no lines


def test_bank_transaction_tax_is_inclusive_and_must_match(api: Api) -> None:
    spend = {
        "Type": "SPEND",
        "Contact": {"Name": unique("Shop")},
        "BankAccount": {"Code": BANK},
        "LineItems": [line(unit_amount=20, account=ADVERTISING, TaxType=GST_ON_EXPENSES)],
    }
    created = api.created("BankTransactions", {"BankTransactions": [spend]})
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (
        Decimal("17.39"),
        Decimal("2.61"),
        Decimal("20.00"),
    )
    assert created["Status"] == "AUTHORISED"
    wrong_tax = {**spend, "LineItems": [{**spend["LineItems"][0], "TaxAmount": "1.75"}]}
    assert messages(rejected(api.put("BankTransactions", wrong_tax))) == [
        "Tax amount 1.75 is incorrect for INPUT2 tax type, should be 2.61"
    ]
    element = rejected(
        api.post(f"BankTransactions/{created['BankTransactionID']}", {"SubTotal": 20})
    )
    assert messages(element) == ["The document sub total does not equal the sub total of the lines"]
    not_bank = {**spend, "BankAccount": {"Code": SALES}}
    assert messages(rejected(api.put("BankTransactions", not_bank))) == [
        "Account type is invalid for making a payment to/from"
    ]
    answer = api.post(f"BankTransactions/{created['BankTransactionID']}", {"Status": "DELETED"})
    assert answer.status_code == 200, answer.text
    assert net_by_account(journals_for(api, created["BankTransactionID"])) == {}


def test_overpayment_and_prepayment_transactions_leave_a_credit(api: Api) -> None:
    over = api.created(
        "BankTransactions",
        {
            "Type": "RECEIVE-OVERPAYMENT",
            "Contact": {"Name": unique("Overpayer")},
            "BankAccount": {"Code": BANK},
            "LineItems": [line(unit_amount=40)],
        },
    )
    assert over["LineItems"][0]["AccountCode"] == "610"  # coded to Accounts Receivable
    assert (over["LineAmountTypes"], over["Total"], over["TotalTax"]) == (
        "NoTax",
        Decimal("40.00"),
        Decimal("0.00"),
    )
    credit = api.one("Overpayments", over["OverpaymentID"])
    assert (credit["Type"], credit["Status"], credit["RemainingCredit"]) == (
        "RECEIVE-OVERPAYMENT",
        "AUTHORISED",
        Decimal("40.00"),
    )
    assert net_by_account(journals_for(api, over["BankTransactionID"])) == {
        BANK: Decimal("40.00"),
        "610": Decimal("-40.00"),
    }
    pre = api.created(
        "BankTransactions",
        {
            "Type": "RECEIVE-PREPAYMENT",
            "Contact": {"Name": unique("Prepayer")},
            "BankAccount": {"Code": BANK},
            "LineItems": [line(unit_amount=115)],
        },
    )
    assert pre["LineItems"][0]["AccountCode"] == SALES
    assert api.one("Prepayments", pre["PrepaymentID"])["RemainingCredit"] == Decimal("115.00")


def test_manual_journals_balance_when_posted(api: Api) -> None:
    lines = [
        {"LineAmount": 100, "AccountCode": ADVERTISING},
        {"LineAmount": -10, "AccountCode": EQUITY},
    ]
    element = rejected(
        api.put("ManualJournals", {"Narration": "n", "Status": "POSTED", "JournalLines": lines})
    )
    assert messages(element) == ["The total debits (100.00) must equal total credits (-10.00)"]
    draft = api.created("ManualJournals", {"Narration": "unbalanced draft", "JournalLines": lines})
    assert draft["Status"] == "DRAFT"
    balanced = [
        {"LineAmount": 100, "AccountCode": ADVERTISING},
        {"LineAmount": -100, "AccountCode": EQUITY},
        {"LineAmount": 0, "AccountCode": "nope"},
    ]
    answer = api.put(
        "ManualJournals",
        {"Narration": "posted", "Status": "POSTED", "JournalLines": balanced},
        params={"summarizeErrors": "false"},
    )
    journal = parsed(answer)["ManualJournals"][0]
    assert journal["StatusAttributeString"] == "WARNING"
    assert len(journal["JournalLines"]) == 2  # the unknown account's line is removed
    assert journal["LineAmountTypes"] == "NoTax"
    element = rejected(api.post(f"ManualJournals/{journal['ManualJournalID']}", {"Status": "VOID"}))
    assert messages(element) == ["The status 'VOID' cannot be applied to the document"]
    assert net_by_account(journals_for(api, journal["ManualJournalID"])) == {
        ADVERTISING: Decimal("100.00"),
        EQUITY: Decimal("-100.00"),
    }
    api.post(f"ManualJournals/{journal['ManualJournalID']}", {"Status": "VOIDED"})
    assert net_by_account(journals_for(api, journal["ManualJournalID"])) == {}


def test_items_have_unique_codes_and_post_upserts_by_code(api: Api) -> None:
    code = uuid.uuid4().hex[:12]
    item = api.created(
        "Items",
        {
            "Items": [
                {
                    "Code": code,
                    "Name": "Thing",
                    "SalesDetails": {"UnitPrice": "12.345", "AccountCode": SALES},
                }
            ]
        },
    )
    assert item["SalesDetails"]["UnitPrice"] == Decimal("12.35")
    assert messages(rejected(api.put("Items", {"Code": code}))) == [
        f"Price List Item with Code '{code}' already exists"
    ]
    answer = api.post("Items", {"Items": [{"Code": code, "Description": "updated"}]})
    assert parsed(answer)["Items"][0]["ItemID"] == item["ItemID"]
    used = api.created("Invoices", invoice(unique("Item"), {"ItemCode": code, "Quantity": 2}))
    assert used["LineItems"][0]["LineAmount"] == Decimal("24.70")
    assert used["LineItems"][0]["Description"] == "updated"


def test_accounts_are_created_one_at_a_time_with_unique_code_and_name(api: Api) -> None:
    code = uuid.uuid4().hex[:6]
    answer = api.put("Accounts", {"Code": code, "Name": f"Acct {code}", "Type": "EXPENSE"})
    assert answer.status_code == 200, answer.text
    account = parsed(answer)["Accounts"][0]
    assert (account["Status"], account["Class"]) == ("ACTIVE", "EXPENSE")
    element = rejected(
        api.put("Accounts", {"Code": code, "Name": f"Acct {code}", "Type": "EXPENSE"})
    )
    assert messages(element) == ["Please enter a unique Code", "Please enter a unique Name."]
    element = rejected(
        api.put("Accounts", {"Code": "12345678901", "Name": "Long", "Type": "EXPENSE"})
    )
    assert messages(element) == ["Account Code is too long. Maximum of 10 characters allowed"]
    element = rejected(
        api.post(f"Accounts/{account['AccountID']}", {"Status": "ARCHIVED", "Name": "Renamed"})
    )
    assert messages(element) == ["Cannot update account details and STATUS on the same request"]
    archived = api.post(f"Accounts/{account['AccountID']}", {"Status": "ARCHIVED"})
    assert parsed(archived)["Accounts"][0]["Status"] == "ARCHIVED"
    # the new account is usable on a document right after it is created
    fresh = uuid.uuid4().hex[:6]
    api.put("Accounts", {"Code": fresh, "Name": f"Acct {fresh}", "Type": "EXPENSE"})
    bill = api.created(
        "Invoices", {**invoice(), "Type": "ACCPAY", "LineItems": [line(account=fresh)]}
    )
    assert bill["LineItems"][0]["AccountCode"] == fresh


TRACKING_LIMIT = "An organisation can have at most 2 active tracking categories. Archive one first."


def test_tracking_categories_two_active_unique_names_and_options(api: Api) -> None:
    def category(record_id: str, body: dict[str, Any]) -> Any:
        return api.post(f"TrackingCategories/{record_id}", body)

    seeded = parsed(api.get("TrackingCategories"))["TrackingCategories"]
    assert [c["Status"] for c in seeded] == ["ACTIVE", "ACTIVE"]  # the seed's Region, Department
    name = unique("Projects")
    assert messages(rejected(api.put("TrackingCategories", {"Name": name}))) == [TRACKING_LIMIT]
    mine = api.created("TrackingCategories", {"Name": name, "Status": "ARCHIVED"})
    mine_id = mine["TrackingCategoryID"]
    assert (mine["Status"], mine["Options"]) == ("ARCHIVED", [])
    assert "StatusAttributeString" not in mine
    assert "UpdatedDateUTC" not in mine
    assert messages(rejected(category(mine_id, {"Status": "ACTIVE"}))) == [TRACKING_LIMIT]
    taken = rejected(api.put("TrackingCategories", {"Name": name.upper(), "Status": "ARCHIVED"}))
    assert messages(taken) == [f"The tracking category name {name.upper()} is already in use"]

    region_id = seeded[0]["TrackingCategoryID"]
    assert category(region_id, {"Status": "ARCHIVED"}).status_code == 200  # frees a place
    try:
        assert category(mine_id, {"Status": "ACTIVE"}).status_code == 200
        answer = api.put(
            f"TrackingCategories/{mine_id}/Options",
            {"Options": [{"Name": "Alpha"}, {"Name": "Beta"}]},
        )
        assert answer.status_code == 200, answer.text
        options = parsed(answer)["Options"]
        assert [(o["Name"], o["Status"]) for o in options] == [
            ("Alpha", "ACTIVE"),
            ("Beta", "ACTIVE"),
        ]
        again = {"Idempotency-Key": uuid.uuid4().hex}
        first = api.put(f"TrackingCategories/{mine_id}/Options", {"Name": "Gamma"}, headers=again)
        replay = api.put(f"TrackingCategories/{mine_id}/Options", {"Name": "Gamma"}, headers=again)
        assert (first.status_code, first.content) == (replay.status_code, replay.content)
        duplicate = rejected(api.put(f"TrackingCategories/{mine_id}/Options", {"Name": "alpha"}))
        assert messages(duplicate) == ["The tracking option name alpha is already in use"]
        stored = api.one("TrackingCategories", mine_id)
        assert [o["Name"] for o in stored["Options"]] == ["Alpha", "Beta", "Gamma"]
        unknown = api.put(f"TrackingCategories/{uuid.uuid4()}/Options", {"Name": "Lost"})
        assert unknown.status_code == 404
    finally:
        category(mine_id, {"Status": "ARCHIVED"})
        assert category(region_id, {"Status": "ACTIVE"}).status_code == 200


def test_purchase_orders_and_quotes(api: Api) -> None:
    contact = api.created("Contacts", {"Name": unique("Vendor")})
    order = api.created(
        "PurchaseOrders",
        {
            "PurchaseOrders": [
                {
                    "Contact": {"ContactID": contact["ContactID"]},
                    "LineItems": [line(unit_amount=2500, account=ADVERTISING, DiscountRate=10)],
                }
            ]
        },
    )
    assert order["PurchaseOrderNumber"].startswith("PO-")
    assert (order["Total"], order["TotalDiscount"], order["Status"]) == (
        Decimal("2587.50"),
        Decimal("250.00"),
        "DRAFT",
    )
    element = rejected(
        api.put(
            "PurchaseOrders",
            {
                "PurchaseOrderNumber": order["PurchaseOrderNumber"],
                "Contact": {"ContactID": contact["ContactID"]},
                "LineItems": [line()],
            },
        )
    )
    assert messages(element) == ["Order number must be unique"]
    answer = api.post(
        f"PurchaseOrders/{order['PurchaseOrderID']}",
        {"SentToContact": True},
        params={"summarizeErrors": "false"},
    )
    warned = parsed(answer)["PurchaseOrders"][0]
    assert warned["Warnings"] == [
        {"Message": "Only AUTHORISED and BILLED purchase orders may have SentToContact updated."}
    ]
    quote = api.created(
        "Quotes",
        {
            "Quotes": [
                {
                    "Contact": {"ContactID": contact["ContactID"]},
                    "LineAmountTypes": "INCLUSIVE",
                    "LineItems": [line(unit_amount=50), line(unit_amount=420)],
                }
            ]
        },
    )
    assert quote["QuoteNumber"].startswith("QU-")
    assert (quote["SubTotal"], quote["TotalTax"], quote["Total"], quote["LineAmountTypes"]) == (
        Decimal("408.70"),
        Decimal("61.30"),
        Decimal("470.00"),
        "INCLUSIVE",
    )
    element = rejected(api.post(f"Quotes/{quote['QuoteID']}", {"Status": "DECLINED"}))
    assert messages(element) == ["The status 'DECLINED' cannot be applied to the document"]


def test_lock_dates_block_approving_documents_dated_on_or_before_them(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    with Sandbox(db=db, tenants=1, scale=2, seed=3, **UNLIMITED) as sb:
        tenant = sb.tenant_ids()[0]
    store = Store(db)
    try:  # Xero has no API for lock dates: set them in the books between two runs
        org = next(store.iter_records(tenant, "Organisation"))
        org["PeriodLockDate"] = "/Date(1782777600000+0000)/"  # 2026-06-30
        org["EndOfYearLockDate"] = "/Date(1774915200000+0000)/"  # 2026-03-31
        store.put(tenant, "Organisation", org)
    finally:
        store.close()
    with Sandbox(db=db, **UNLIMITED) as sb:
        api = Api(sb, tenant)
        try:
            period = invoice(unique("Locked"), Status="AUTHORISED", Date="2026-06-30")
            assert messages(rejected(api.put("Invoices", period))) == [
                "The document date cannot be before the period lock date, currently set at "
                "30-Jun-2026"
            ]
            year = invoice(unique("Locked"), Status="AUTHORISED", Date="2026-03-01")
            assert messages(rejected(api.put("Invoices", year))) == [
                "The document date cannot be before the end of year lock date, currently set at "
                "31-Mar-2026"
            ]
            api.created("Invoices", {**period, "Status": "DRAFT"})  # drafts post nothing
            api.created("Invoices", {**period, "Date": "2026-07-01"})
        finally:
            api.close()


# ---- webhooks ---------------------------------------------------------------------------------


def test_webhooks_fire_for_contact_invoice_and_credit_note_writes() -> None:
    key = "writes-webhook-key"
    with (
        WebhookReceiver(key) as receiver,
        Sandbox(
            tenants=1,
            scale=2,
            seed=3,
            webhook_url=receiver.url,
            webhook_key=key,
            time_scale=10,
            **UNLIMITED,
        ) as sb,
    ):
        api = Api(sb)
        try:
            contact = api.created("Contacts", {"Name": unique("Hooked")})
            api.post(f"Contacts/{contact['ContactID']}", {"FirstName": "Hook"})
            inv = api.created("Invoices", invoice(unique("Hooked inv")))
            note = api.created(
                "CreditNotes",
                {"Type": "ACCPAYCREDIT", "Contact": {"ContactID": contact["ContactID"]}},
            )
            paid = api.created("Invoices", invoice(unique("Hooked paid"), Status="AUTHORISED"))
            api.created(
                "Payments",
                {
                    "Invoice": {"InvoiceID": paid["InvoiceID"]},
                    "Account": {"Code": BANK},
                    "Amount": 1,
                },
            )
            wanted = {
                ("CONTACT", "CREATE", contact["ContactID"]),
                ("CONTACT", "UPDATE", contact["ContactID"]),
                ("INVOICE", "CREATE", inv["InvoiceID"]),
                ("CONTACT", "CREATE", inv["Contact"]["ContactID"]),
                ("CREDITNOTE", "CREATE", note["CreditNoteID"]),
                ("INVOICE", "UPDATE", paid["InvoiceID"]),  # settled by a payment
            }
            deadline = time.monotonic() + 30
            seen: set[tuple[str, str, str]] = set()
            while time.monotonic() < deadline and not wanted <= seen:
                time.sleep(0.2)
                seen = {
                    (e["eventCategory"], e["eventType"], e["resourceId"]) for e in receiver.events()
                }
            assert wanted <= seen
            assert {e["tenantId"] for e in receiver.events()} == {api.tenant_id}
        finally:
            api.close()


# ---- field lengths ----------------------------------------------------------------------------


def too_long(label: str, limit: int) -> str:
    return f"{label} is too long. Maximum of {limit} characters allowed"


@pytest.mark.parametrize(
    ("collection", "body", "message"),
    [
        ("Contacts", {"Name": "N" * 256}, too_long("Contact Name", 255)),
        (
            "Contacts",
            {"Name": "Long number", "ContactNumber": "9" * 51},
            too_long("Contact Number", 50),
        ),
        ("Contacts", {"Name": "Long tax", "TaxNumber": "T" * 51}, too_long("Tax Number", 50)),
        (
            "Contacts",
            {
                "Name": "Long street",
                "Addresses": [{"AddressType": "POBOX", "AddressLine1": "a" * 501}],
            },
            too_long("Address Line 1", 500),
        ),
        (
            "Contacts",
            {"Name": "Long phone", "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "1" * 51}]},
            too_long("Phone Number", 50),
        ),
        ("Invoices", invoice("Length", InvoiceNumber="I" * 256), too_long("Invoice Number", 255)),
        ("Invoices", invoice("Length", Reference="R" * 256), too_long("Reference", 255)),
        ("Invoices", invoice("Length", line("D" * 4001)), too_long("Description", 4000)),
        (
            "Quotes",
            {"Contact": {"Name": "Length"}, "LineItems": [line()], "Title": "T" * 101},
            too_long("Title", 100),
        ),
        ("Items", {"Code": "LONG-DESC", "Description": "d" * 4001}, too_long("Description", 4000)),
        ("Items", {"Code": "C" * 31}, too_long("Item Code", 30)),
        ("TrackingCategories", {"Name": "t" * 101}, too_long("Tracking Category Name", 100)),
    ],
)
def test_too_long_fields_are_validation_errors_and_nothing_is_saved(
    api: Api, writes_sandbox: Sandbox, collection: str, body: dict[str, Any], message: str
) -> None:
    before = writes_sandbox.counts()[api.tenant_id]
    element = rejected(api.put(collection, body))
    assert message in messages(element)
    assert writes_sandbox.counts()[api.tenant_id] == before


def test_a_600_character_contact_name_is_refused_in_both_error_modes(api: Api) -> None:
    long_name = "Long " + "x" * 595
    element = rejected(api.put("Contacts", {"Name": long_name}))
    assert messages(element) == [too_long("Contact Name", 255)]
    assert (element["ContactID"], element["HasValidationErrors"]) == (ZERO_GUID, True)
    assert element["Name"] == long_name  # echoed as sent, not cut short

    at_limit = unique("Edge").ljust(255, "e")
    answer = api.put(
        "Contacts",
        {"Contacts": [{"Name": long_name}, {"Name": at_limit}]},
        params={"summarizeErrors": "false"},
    )
    assert answer.status_code == 200, answer.text
    failed, saved = parsed(answer)["Contacts"]
    assert (failed["StatusAttributeString"], failed["ContactID"]) == ("ERROR", ZERO_GUID)
    assert messages(failed) == [too_long("Contact Name", 255)]
    assert saved["StatusAttributeString"] == "OK"
    assert api.one("Contacts", saved["ContactID"])["Name"] == at_limit  # 255 is allowed, whole


def test_lengths_are_counted_in_utf16_code_units(api: Api) -> None:
    # Xero is .NET: an emoji outside the BMP is two characters of the 255.
    element = rejected(api.put("Contacts", {"Name": "\U0001f642" * 128}))
    assert messages(element) == [too_long("Contact Name", 255)]
    fits = "\U0001f642" * 127 + uuid.uuid4().hex[:1]
    assert api.created("Contacts", {"Name": fits})["Name"] == fits


def test_an_update_is_held_to_the_limits_and_leaves_the_record_alone(api: Api) -> None:
    contact = api.created("Contacts", {"Name": unique("Updated")})
    element = rejected(
        api.post(f"Contacts/{contact['ContactID']}", {"EmailAddress": "a" * 250 + "@b.com"})
    )
    assert messages(element) == [too_long("Email Address", 255)]
    assert element["ContactID"] == contact["ContactID"]
    assert "EmailAddress" not in api.one("Contacts", contact["ContactID"])


def test_a_contact_named_on_a_document_is_held_to_the_contact_limits(
    api: Api, writes_sandbox: Sandbox
) -> None:
    before = writes_sandbox.counts()[api.tenant_id]
    element = rejected(api.put("Invoices", invoice("Named " + "n" * 300)))
    assert messages(element) == [too_long("Contact Name", 255)]
    assert writes_sandbox.counts()[api.tenant_id] == before  # neither invoice nor contact saved


# ---- PUT creates only; POST without an ID updates what has the number or name -------------


def _contact_id(api: Api) -> str:
    return str(api.created("Contacts", {"Name": unique("Party")})["ContactID"])


def _document(collection: str, number_field: str, **extra: Any) -> Any:
    """(first body, clash body, POST body) makers for a numbered document of ``collection``."""

    def first(api: Api) -> dict[str, Any]:
        return {"Contact": {"ContactID": _contact_id(api)}, "LineItems": [line()], **extra}

    def clash(api: Api, existing: dict[str, Any]) -> dict[str, Any]:
        return {**first(api), number_field: existing[number_field]}

    def post(existing: dict[str, Any]) -> dict[str, Any]:
        return {number_field: existing[number_field], "Reference": "by number"}

    return collection, first, clash, post


# (collection, first body, clash body, POST-without-ID body, Xero's refusal of the clash)
PUT_CLASHES: dict[str, Any] = {
    "contact name": (
        "Contacts",
        lambda api: {"Name": unique("Name clash")},
        lambda api, existing: {"Name": existing["Name"], "EmailAddress": "other@example.com"},
        lambda existing: {"Name": existing["Name"], "LastName": "by name"},
        lambda existing: (
            f"The contact name {existing['Name']} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        ),
    ),
    "contact number": (
        "Contacts",
        lambda api: {"Name": unique("Number clash"), "ContactNumber": uuid.uuid4().hex[:10]},
        lambda api, existing: {"Name": unique("Other"), "ContactNumber": existing["ContactNumber"]},
        lambda existing: {"ContactNumber": existing["ContactNumber"], "LastName": "by number"},
        lambda existing: (
            "Another contact has this contact number. Please enter a different contact number."
        ),
    ),
    "sales invoice number": (
        *_document("Invoices", "InvoiceNumber", Type="ACCREC", DueDate="2026-12-31"),
        lambda existing: "Invoice # must be unique.",
    ),
    "credit note number": (
        *_document("CreditNotes", "CreditNoteNumber", Type="ACCRECCREDIT"),
        lambda existing: "Credit Note # must be unique.",
    ),
    "purchase order number": (
        *_document("PurchaseOrders", "PurchaseOrderNumber"),
        lambda existing: "Order number must be unique",
    ),
    "quote number": (
        *_document("Quotes", "QuoteNumber"),
        lambda existing: "Quote # must be unique.",
    ),
    "item code": (
        "Items",
        lambda api: {"Code": uuid.uuid4().hex[:12], "Name": "First"},
        lambda api, existing: {"Code": existing["Code"], "Name": "Second"},
        lambda existing: {"Code": existing["Code"], "Description": "by code"},
        lambda existing: f"Price List Item with Code '{existing['Code']}' already exists",
    ),
}


@pytest.mark.parametrize("case", sorted(PUT_CLASHES))
def test_put_only_creates_and_post_without_id_updates_by_number_or_name(
    api: Api, case: str
) -> None:
    collection, first, clash, post, refusal = PUT_CLASHES[case]
    id_field = {"Contacts": "ContactID", "Items": "ItemID"}.get(collection) or (
        collection[:-1] + "ID"
    )
    existing = api.created(collection, {collection: [first(api)]})
    # PUT with a number or name another document holds: Xero's refusal, nothing changes.
    answer = api.put(collection, {collection: [clash(api, existing)]})
    element = rejected(answer)
    assert messages(element) == [refusal(existing)]
    assert element[id_field] == ZERO_GUID  # a new element that was not saved
    after = api.one(collection, existing[id_field])
    assert after.get("UpdatedDateUTC") == existing.get("UpdatedDateUTC")
    assert after.get("Contact", {}).get("ContactID") == existing.get("Contact", {}).get("ContactID")
    # POST without an ID is create-or-update: the document with that number or name is updated.
    body = post(existing)
    answer = api.post(collection, {collection: [body]})
    assert answer.status_code == 200, answer.text
    updated = parsed(answer)[collection][0]
    assert updated[id_field] == existing[id_field]
    assert all(updated[name] == value for name, value in body.items())

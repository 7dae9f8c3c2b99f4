"""Contract tests: every kind of write response the sandbox gives, checked against Xero's spec.

Success (PUT and POST update) for each of the ten writable collections, ``summarizeErrors=false``
mixed results, 400 ValidationException, PostDataInvalidException and NoDataProcessedException,
and the Idempotency-Key refusal. The operation is looked up by method and path, as at Xero.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests._accounting_spec import assert_matches_spec
from tests._sandbox_writes_support import (
    ADVERTISING,
    BANK,
    EQUITY,
    UNLIMITED,
    Api,
    invoice,
    line,
    parsed,
)
from xero_sandbox.launcher import Sandbox


@pytest.fixture(scope="module")
def contract_api() -> Iterator[Api]:
    with Sandbox(tenants=1, scale=3, seed=13, **UNLIMITED) as sb:
        client = Api(sb)
        yield client
        client.close()


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def authorised(api: Api) -> dict[str, Any]:
    return api.created("Invoices", invoice(unique("Contract"), line(), Status="AUTHORISED"))


def _contact(api: Api) -> dict[str, Any]:
    return api.created("Contacts", {"Name": unique("Contract contact")})


Scenario = Callable[[Api], httpx.Response]

SUCCESSES: dict[str, Scenario] = {
    "put contacts": lambda api: api.put("Contacts", {"Contacts": [{"Name": unique("C")}]}),
    "post contact": lambda api: api.post(
        f"Contacts/{_contact(api)['ContactID']}", {"Contacts": [{"FirstName": "Ada"}]}
    ),
    "put invoices": lambda api: api.put(
        "Invoices", {"Invoices": [invoice(unique("I"), line(DiscountRate=5))]}, params={"unitdp": 4}
    ),
    "post invoice": lambda api: api.post(
        f"Invoices/{authorised(api)['InvoiceID']}", {"Invoices": [{"Reference": "ref"}]}
    ),
    "post invoices": lambda api: api.post("Invoices", {"Invoices": [invoice(unique("P"))]}),
    "put credit notes": lambda api: api.put(
        "CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"Name": unique("N")},
                    "Status": "AUTHORISED",
                    "LineItems": [line()],
                }
            ]
        },
    ),
    "put payments": lambda api: api.put(
        "Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": authorised(api)["InvoiceID"]},
                    "Account": {"Code": BANK},
                    "Amount": 5,
                    "Date": "2026-11-01",
                }
            ]
        },
    ),
    "post payment": lambda api: api.post(
        "Payments",
        {
            "Invoice": {"InvoiceID": authorised(api)["InvoiceID"]},
            "Account": {"Code": BANK},
            "Amount": 5,
        },
    ),
    "delete payment": lambda api: api.post(
        "Payments/"
        + api.created(
            "Payments",
            {
                "Invoice": {"InvoiceID": authorised(api)["InvoiceID"]},
                "Account": {"Code": BANK},
                "Amount": 5,
            },
        )["PaymentID"],
        {"Payments": [{"Status": "DELETED"}]},
    ),
    "put items": lambda api: api.put(
        "Items",
        {
            "Items": [
                {
                    "Code": uuid.uuid4().hex[:10],
                    "Name": "Thing",
                    "SalesDetails": {"UnitPrice": 3, "AccountCode": "200"},
                }
            ]
        },
    ),
    "put manual journals": lambda api: api.put(
        "ManualJournals",
        {
            "ManualJournals": [
                {
                    "Narration": "contract",
                    "Status": "POSTED",
                    "JournalLines": [
                        {"LineAmount": 50, "AccountCode": ADVERTISING},
                        {"LineAmount": -50, "AccountCode": EQUITY},
                    ],
                }
            ]
        },
    ),
    "put bank transactions": lambda api: api.put(
        "BankTransactions",
        {
            "BankTransactions": [
                {
                    "Type": "RECEIVE",
                    "Contact": {"Name": unique("B")},
                    "BankAccount": {"Code": BANK},
                    "LineItems": [line()],
                }
            ]
        },
    ),
    "put purchase orders": lambda api: api.put(
        "PurchaseOrders",
        {
            "PurchaseOrders": [
                {
                    "Contact": {"ContactID": _contact(api)["ContactID"]},
                    "LineItems": [line(account=ADVERTISING)],
                }
            ]
        },
    ),
    "put quotes": lambda api: api.put(
        "Quotes",
        {
            "Quotes": [
                {
                    "Contact": {"ContactID": _contact(api)["ContactID"]},
                    "LineAmountTypes": "INCLUSIVE",
                    "LineItems": [line()],
                }
            ]
        },
    ),
    "put account": lambda api: api.put(
        "Accounts", {"Code": uuid.uuid4().hex[:8], "Name": unique("Acct"), "Type": "EXPENSE"}
    ),
    "post account": lambda api: api.post(
        "Accounts/"
        + parsed(
            api.put(
                "Accounts", {"Code": uuid.uuid4().hex[:8], "Name": unique("A"), "Type": "SALES"}
            )
        )["Accounts"][0]["AccountID"],
        {"Accounts": [{"Description": "updated"}]},
    ),
}

MIXED: dict[str, Scenario] = {
    "contacts": lambda api: api.put(
        "Contacts",
        {"Contacts": [{"Name": unique("ok")}, {"Name": "bad", "EmailAddress": "x"}]},
        params={"summarizeErrors": "false"},
    ),
    "invoices": lambda api: api.put(
        "Invoices",
        {
            "Invoices": [
                invoice(unique("ok")),
                {**invoice(), "Type": None},
                invoice(unique("warn"), line(account="9999")),
            ]
        },
        params={"summarizeErrors": "false"},
    ),
    "payments": lambda api: api.put(
        "Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": authorised(api)["InvoiceID"]},
                    "Account": {"Code": BANK},
                    "Amount": 1,
                },
                {
                    "Invoice": {"InvoiceID": authorised(api)["InvoiceID"]},
                    "Account": {"Code": BANK},
                    "Amount": 10_000,
                },
            ]
        },
        params={"summarizeErrors": "false"},
    ),
    "items": lambda api: api.put(
        "Items",
        {"Items": [{"Code": uuid.uuid4().hex[:10]}, {"Code": ""}]},
        params={"summarizeErrors": "false"},
    ),
    "bank transactions": lambda api: api.put(
        "BankTransactions",
        {
            "BankTransactions": [
                {
                    "Type": "SPEND",
                    "Contact": {"Name": unique("B")},
                    "BankAccount": {"Code": BANK},
                    "LineItems": [line(account=ADVERTISING)],
                },
                {
                    "Type": "SPEND",
                    "Contact": {"Name": unique("B")},
                    "BankAccount": {"Code": "200"},
                    "LineItems": [line(account=ADVERTISING)],
                },
            ]
        },
        params={"summarizeErrors": "false"},
    ),
    "purchase orders": lambda api: api.put(
        "PurchaseOrders",
        {
            "PurchaseOrders": [
                {
                    "Contact": {"ContactID": _contact(api)["ContactID"]},
                    "SentToContact": True,
                    "LineItems": [line(account=ADVERTISING)],
                },
                {"Contact": {}, "LineItems": [line()]},
            ]
        },
        params={"summarizeErrors": "false"},
    ),
}

FAILURES: dict[str, Scenario] = {
    "contact validation": lambda api: api.put("Contacts", {"Contacts": [{"Name": ""}]}),
    "invoice validation": lambda api: api.put(
        "Invoices", {**invoice(), "Status": "AUTHORISED", "LineItems": [line(TaxType="BOGUS")]}
    ),
    "invoice status": lambda api: api.post(
        f"Invoices/{authorised(api)['InvoiceID']}", {"Status": "DELETED"}
    ),
    "credit note validation": lambda api: api.put("CreditNotes", {"Type": "ACCRECCREDIT"}),
    "payment validation": lambda api: api.put("Payments", {"Amount": 1}),
    "item validation": lambda api: api.put("Items", {"Items": [{"Name": "no code"}]}),
    "journal validation": lambda api: api.put(
        "ManualJournals",
        {
            "Narration": "x",
            "Status": "POSTED",
            "JournalLines": [{"LineAmount": 1, "AccountCode": ADVERTISING}],
        },
    ),
    "bank transaction validation": lambda api: api.put(
        "BankTransactions", {"Type": "SPEND", "Contact": {"Name": "x"}, "LineItems": []}
    ),
    "purchase order validation": lambda api: api.put("PurchaseOrders", {"Contact": {}}),
    "quote validation": lambda api: api.put("Quotes", {"Contact": {"Name": "x"}, "LineItems": []}),
    "account validation": lambda api: api.put(
        "Accounts", {"Code": "12345678901", "Type": "EXPENSE"}
    ),
    "post data invalid": lambda api: api.put(
        "Invoices", {"Invoices": [{"Type": "ACCREC", "LineAmountTypes": "NO_TAX"}]}
    ),
    "malformed json": lambda api: api.raw("PUT", "Contacts", b"{oops"),
    "no data processed": lambda api: api.raw("POST", "Invoices", b"{}"),
    "idempotency mismatch": lambda api: _mismatch(api),
}


def _mismatch(api: Api) -> httpx.Response:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    api.put("Contacts", {"Name": unique("first")}, headers=headers)
    return api.put("Contacts", {"Name": unique("second")}, headers=headers)


@pytest.mark.parametrize("scenario", list(SUCCESSES), ids=list(SUCCESSES))
def test_successful_writes_match_the_spec(contract_api: Api, scenario: str) -> None:
    answer = SUCCESSES[scenario](contract_api)
    assert answer.status_code == 200, answer.text
    assert_matches_spec(answer)


@pytest.mark.parametrize("scenario", list(MIXED), ids=list(MIXED))
def test_summarize_errors_false_mixed_results_match_the_spec(
    contract_api: Api, scenario: str
) -> None:
    answer = MIXED[scenario](contract_api)
    assert answer.status_code == 200, answer.text
    statuses = {
        element["StatusAttributeString"]
        for value in parsed(answer).values()
        if isinstance(value, list)
        for element in value
    }
    assert "ERROR" in statuses
    assert statuses & {"OK", "WARNING"}
    assert_matches_spec(answer)


@pytest.mark.parametrize("scenario", list(FAILURES), ids=list(FAILURES))
def test_error_responses_match_the_spec(contract_api: Api, scenario: str) -> None:
    answer = FAILURES[scenario](contract_api)
    assert answer.status_code == 400, answer.text
    assert parsed(answer)["ErrorNumber"] in (10, 14, 17)
    assert_matches_spec(answer)

"""Xero's write-side validation: typing of request bodies, line arithmetic and status rules.

Everything here is pure: it reads request elements (parsed with ``Decimal`` floats) and lookups
passed in through :class:`References`, and reports problems in Xero's exact words
(its error strings). Two kinds of failure exist, as at Xero:

* :class:`PostDataInvalid` (ErrorNumber 14) — the body cannot be converted (bad JSON, an enum,
  GUID, number or date that does not parse). It fails the whole request.
* messages collected in an :class:`Issues` — validation errors and warnings of one element,
  reported in the element's ``ValidationErrors`` / ``Warnings``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

__all__ = [
    "FIELD_LENGTH_LIMITS",
    "INVOICE_STATUS_CHANGES",
    "ZERO_GUID",
    "Issues",
    "LinePolicy",
    "Messages",
    "NoDataProcessed",
    "PostDataInvalid",
    "References",
    "SentLine",
    "as_bool",
    "as_date",
    "as_decimal",
    "as_enum",
    "as_guid",
    "as_text",
    "check_lengths",
    "check_line",
    "format_lock_date",
    "money",
    "prepare_line",
    "round_half_up",
    "valid_email",
]

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
_GUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_MAX_LINE_AMOUNT = Decimal("9999999999.99")
_DECIMAL_MAX = Decimal("79228162514264337593543950335")  # System.Decimal.MaxValue
_HUNDRED = Decimal(100)


class PostDataInvalid(Exception):
    """ErrorNumber 14: the request body could not be converted to Xero's types."""

    def __init__(self, message: str) -> None:
        # Paths are built as f"{parent}.{field}"; a bare-object body has no parent segment.
        message = message.replace("Path '.", "Path '")
        super().__init__(message)
        self.message = message


class NoDataProcessed(Exception):
    """ErrorNumber 17: the body holds nothing for this endpoint."""

    def __init__(self, entity: str, message: str | None = None) -> None:
        self.message = message or (
            "No data has been processed for this endpoint. This endpoint is expecting "
            f"{entity} data to be specifed in the request body."
        )
        super().__init__(self.message)


class Messages:
    """Xero's validation texts, verbatim where Xero's answers are known.

    Texts marked *unconfirmed* are ours, written in Xero's style where no Xero answer is known.
    """

    CONTACT_IDENTIFIER = (  # 1
        "The Contact must contain at least 1 of the following elements to identify the contact: "
        "Name, ContactID, ContactNumber"
    )
    CONTACT_NUMBER_TAKEN = (  # 3
        "Another contact has this contact number. Please enter a different contact number."
    )
    ACCOUNT_NUMBER_TAKEN = (  # 4
        "The Account Number already exists. Please enter a different Account Number."
    )
    CONTACT_NAME_EMPTY = "Contact Name cannot be empty."  # 5
    EMAIL_INVALID = "Email address must be valid."  # 6
    CONTACT_ARCHIVED = (  # 7
        "The contact with the specified contact details has been archived. The contact must be "
        "un-archived before creating new invoices or credit notes."
    )
    ARCHIVED_CONTACT_EDIT = (  # 8
        "The specified contact details matched an archived contact. Archived contacts cannot "
        "currently be edited via the API."
    )
    INVOICE_TYPE_MISSING = "Invoice Type must be specified"  # 9
    INVOICE_TYPE_INVALID = "Invoice not of valid type for creation"  # 10
    NO_LINE_ITEMS = "One or more line items must be specified"  # 11
    DATE_MISSING = "The Date field must be specified."  # 12
    DUE_DATE_MISSING = "The document DueDate field must be specified."  # 12
    INVOICE_NUMBER_TAKEN = "Invoice # must be unique."  # 13
    ACCOUNT_CODE_MISSING = "Account code must be specified"  # 15
    TAX_TYPE_MISSING = "The TaxType field is mandatory"  # 20
    SUBTOTAL_MISMATCH = "The document sub total does not equal the sub total of the lines"  # 25
    INVOICE_STATUS = "Invoice not of valid status for modification"  # 28
    ALLOCATED_EDIT = (  # 29
        "This document cannot be edited as it has a payment or credit note allocated to it."
    )
    INVOICE_NOT_FOUND = "An existing Invoice with the specified InvoiceID could not be found"  # 32
    CREDIT_NOTE_NOT_FOUND = (  # 33
        "An existing Credit Note with the specified CreditNoteID could not be found"
    )
    PAYMENT_DOCUMENT_STATUS = "Payments can only be made against Authorised documents"  # 35
    PAYMENT_EXCEEDS = "Payment amount exceeds the amount outstanding on this document"  # 36
    PAYMENT_ACCOUNT_TYPE = "Account type is invalid for making a payment to/from"  # 37
    ACCOUNT_NOT_FOUND = "Account could not be found."  # 38
    PAYMENT_MANY_DOCUMENTS = "Payment is applied to more than one document."  # 39
    PAYMENT_ONLY_STATUS = "Only Status accepted for updates."  # 40
    ORDER_NUMBER_TAKEN = "Order number must be unique"  # 45
    SENT_TO_CONTACT = (  # 46 (a warning)
        "Only AUTHORISED and BILLED purchase orders may have SentToContact updated."
    )
    NO_QUOTES = "You must supply at least one quote for creation"  # 47
    ACCOUNT_NAME_TAKEN = "Please enter a unique Name."  # 48
    ACCOUNT_CODE_TAKEN = "Please enter a unique Code"  # 48
    ACCOUNT_STATUS_AND_DETAILS = (
        "Cannot update account details and STATUS on the same request"  # 50
    )
    ACCOUNT_IS_NOT_FOUND = "Account is not found"  # integrators match this text
    PAYMENT_STATUS = "Payment not of valid status for modification"
    # wordings no published Xero answer confirms
    CONTACT_NOT_FOUND = "An existing Contact with the specified ContactID could not be found"
    CREDIT_NUMBER_TAKEN = "Credit Note # must be unique."
    QUOTE_NUMBER_TAKEN = "Quote # must be unique."
    ITEM_CODE_MISSING = "Item Code must be specified."
    ACCOUNT_NAME_MISSING = "Account Name must be specified."
    ACCOUNT_TYPE_MISSING = "Account Type must be specified."
    BANK_ACCOUNT_NUMBER_MISSING = "Bank Account Number must be specified."
    AMOUNT_MISSING = "The Amount field must be specified."
    AMOUNT_NOT_POSITIVE = "Payment amount must be greater than zero."
    NARRATION_MISSING = "The Narration field must be specified."
    BANK_ACCOUNT_MISSING = "The BankAccount field must be specified."
    BANK_TRANSACTION_TYPE_MISSING = "Bank Transaction Type must be specified"
    TRANSFER_TYPE = "Bank transactions of type {type} cannot be created through this endpoint."
    TRACKING_ACTIVE_LIMIT = (
        "An organisation can have at most 2 active tracking categories. Archive one first."
    )

    @staticmethod
    def contact_name_taken(name: str) -> str:
        """#2 duplicate contact Name."""
        return (
            f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        )

    @staticmethod
    def account_code_removed(code: str) -> str:
        """#14, a warning: unknown account code dropped from a line."""
        return f"Account code '{code}' has been removed as it does not match a recognised account."

    @staticmethod
    def account_code_not_valid(code: str) -> str:
        """#16 account exists but may not be used on this document."""
        return f"Account code '{code}' is not a valid code for this document."

    @staticmethod
    def tax_type_unknown(tax_type: str) -> str:
        """#18 unknown TaxType."""
        return (
            f"The TaxType code {tax_type} does not exist or cannot be used for this type of "
            "transaction."
        )

    @staticmethod
    def tax_amount_wrong(sent: Decimal, tax_type: str, calculated: Decimal) -> str:
        """#21 a BankTransaction TaxAmount that differs from Xero's."""
        return (
            f"Tax amount {money(sent)} is incorrect for {tax_type} tax type, "
            f"should be {money(calculated)}"
        )

    @staticmethod
    def line_total_mismatch(sent: Decimal, calculated: Decimal) -> str:
        """#22 LineAmount that disagrees with Quantity x UnitAmount less discount."""
        return (
            f"The line total {money(sent)} does not match the expected line total "
            f"{money(calculated)}"
        )

    @staticmethod
    def discount_invalid(rate: Decimal) -> str:
        """#23 a discount larger than the line."""
        return (
            f"The discount rate '{money(rate)}' is invalid. "
            "Discount must not be greater than the line total."
        )

    @staticmethod
    def quantity_negative(quantity: Decimal) -> str:
        """#24 negative quantity."""
        return (
            f"The quantity value '{round_half_up(quantity, 4):.4f}' is invalid. "
            "Quantity must not be less than zero."
        )

    @staticmethod
    def period_locked(lock: date) -> str:
        """#26 document dated on or before the period lock date."""
        return (
            "The document date cannot be before the period lock date, currently set at "
            f"{format_lock_date(lock)}"
        )

    @staticmethod
    def year_end_locked(lock: date) -> str:
        """#27 document dated on or before the end of year lock date."""
        return (
            "The document date cannot be before the end of year lock date, currently set at "
            f"{format_lock_date(lock)}"
        )

    @staticmethod
    def status_with_allocations(status: str) -> str:
        """#30 status change on a document with payments or credit notes allocated."""
        return (
            f"The status {status} cannot be applied to the invoice because it has payments or "
            "credit notes allocated to it."
        )

    @staticmethod
    def status_not_applicable(status: str) -> str:
        """#31 a status the document cannot take."""
        return f"The status '{status}' cannot be applied to the document"

    @staticmethod
    def journal_unbalanced(debits: Decimal, credits: Decimal) -> str:
        """#44 manual journal whose debits and credits differ."""
        return f"The total debits ({money(debits)}) must equal total credits ({money(credits)})"

    @staticmethod
    def item_code_taken(code: str) -> str:
        """#43 duplicate item Code."""
        return f"Price List Item with Code '{code}' already exists"

    @staticmethod
    def item_code_unknown(code: str) -> str:
        """Unknown ItemCode on a line (unconfirmed wording)."""
        return f"Item code '{code}' is not a valid code for this organisation."

    @staticmethod
    def tracking_name_missing(what: str) -> str:
        """A tracking category or option without a Name (unconfirmed wording)."""
        return f"{what} Name must be specified"

    @staticmethod
    def too_long(label: str, limit: int) -> str:
        """#49's wording (verbatim for Account Code), used for every field length limit."""
        return f"{label} is too long. Maximum of {limit} characters allowed"

    @staticmethod
    def tracking_name_taken(what: str, name: str) -> str:
        """A tracking category or option name already used (unconfirmed wording)."""
        return f"The {what.lower()} name {name} is already in use"


@dataclass
class Issues:
    """Validation errors and warnings of one element, in the order they were found."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        """Record a validation error (once)."""
        if message not in self.errors:
            self.errors.append(message)

    def warn(self, message: str) -> None:
        """Record a warning (once)."""
        if message not in self.warnings:
            self.warnings.append(message)


class References(Protocol):
    """Lookups a validator needs from the tenant's books."""

    def account(
        self, code: str | None = None, account_id: str | None = None
    ) -> dict[str, Any] | None:
        """An account by Code or AccountID."""

    def tax_rate(self, tax_type: str) -> Decimal | None:
        """Effective rate in percent of an active TaxType, None when unknown."""

    def item(self, code: str) -> dict[str, Any] | None:
        """An item by Code."""


# ---- type conversion (ErrorNumber 14) ------------------------------------------------------


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round half away from zero, as Xero does (2.165 → 2.17)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """A 2-dp amount as Xero prints it in messages."""
    return f"{round_half_up(value, 2):.2f}"


def format_lock_date(value: date) -> str:
    """Lock dates in messages are written dd-MMM-yyyy."""
    return value.strftime("%d-%b-%Y")


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def as_decimal(value: Any, path: str) -> Decimal:
    """A JSON number (or numeric string) as Decimal, else Json.NET's conversion error.

    Values outside .NET's decimal range (about ±7.9e28) fail as they do at Xero.
    """
    if isinstance(value, bool) or value is None:
        raise PostDataInvalid(
            f"Error converting value {{null}} to type 'System.Decimal'. Path '{path}'."
        )
    if isinstance(value, (Decimal, int, float)):
        parsed = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            parsed = Decimal("NaN")
        if not parsed.is_finite():
            raise PostDataInvalid(f"Could not convert string to decimal: {value}. Path '{path}'.")
    else:
        raise PostDataInvalid(
            f"Unexpected character encountered while parsing value. Path '{path}'."
        )
    if not parsed.is_finite() or abs(parsed) > _DECIMAL_MAX:
        raise PostDataInvalid(
            f"Value was either too large or too small for a Decimal. Path '{path}'."
        )
    return parsed


def as_guid(value: Any, path: str) -> str:
    """A GUID string (lower-case, hyphenated), else Json.NET's conversion error."""
    if isinstance(value, str) and _GUID.match(value.strip()):
        hex_digits = value.strip().replace("-", "").lower()
        return "-".join(
            (
                hex_digits[:8],
                hex_digits[8:12],
                hex_digits[12:16],
                hex_digits[16:20],
                hex_digits[20:],
            )
        )
    raise PostDataInvalid(
        f"Error converting value \"{_shown(value)}\" to type 'System.Guid'. Path '{path}'."
    )


def as_enum(value: Any, allowed: Iterable[str], type_name: str, path: str) -> str:
    """One of an enum's spellings, else Json.NET's conversion error."""
    if isinstance(value, str) and value in set(allowed):
        return value
    raise PostDataInvalid(
        f"Error converting value \"{_shown(value)}\" to type 'Xero.API.Library..{type_name}'. "
        f"Path '{path}'."
    )


def as_text(value: Any, path: str) -> str:
    """A string field; numbers are accepted and written as text, as Json.NET does."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    raise PostDataInvalid(f"Unexpected character encountered while parsing value. Path '{path}'.")


def as_bool(value: Any, path: str) -> bool:
    """A boolean field (JSON true/false or the strings "true"/"false")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise PostDataInvalid(
        f"Error converting value \"{_shown(value)}\" to type 'System.Boolean'. Path '{path}'."
    )


def as_date(value: Any, path: str) -> date:
    """`YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ss` or `/Date(ms+0000)/`, else a conversion error."""
    if isinstance(value, str):
        text = value.strip()
        found = _MS_DATE.match(text)
        try:
            if found:  # a .NET DateTime is years 1 to 9999: anything else cannot convert
                return datetime.fromtimestamp(int(found.group(1)) / 1000, tz=UTC).date()
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except (ValueError, OverflowError, OSError):
            pass
    raise PostDataInvalid(f"Could not convert string to DateTime: {_shown(value)}. Path '{path}'.")


def valid_email(address: str) -> bool:
    """Xero refuses e-mail addresses without a user, an @ and a dotted domain."""
    return bool(_EMAIL.match(address))


# ---- field lengths (Xero's documented limits; the spec's maxLength) ---------------------------

#: (resource, field path) -> (most characters allowed, how the message names the field).
#: ``Name[]`` in a path walks every element of the list ``Name``.
FIELD_LENGTH_LIMITS: Mapping[tuple[str, str], tuple[int, str]] = {
    ("Contacts", "Name"): (255, "Contact Name"),
    ("Contacts", "ContactNumber"): (50, "Contact Number"),
    ("Contacts", "AccountNumber"): (50, "Account Number"),
    ("Contacts", "CompanyNumber"): (50, "Company Number"),
    ("Contacts", "TaxNumber"): (50, "Tax Number"),
    ("Contacts", "EmailAddress"): (255, "Email Address"),
    ("Contacts", "FirstName"): (255, "First Name"),
    ("Contacts", "LastName"): (255, "Last Name"),
    ("Contacts", "Phones[].PhoneNumber"): (50, "Phone Number"),
    ("Contacts", "Phones[].PhoneAreaCode"): (10, "Phone Area Code"),
    ("Contacts", "Phones[].PhoneCountryCode"): (20, "Phone Country Code"),
    ("Contacts", "Addresses[].AddressLine1"): (500, "Address Line 1"),
    ("Contacts", "Addresses[].AddressLine2"): (500, "Address Line 2"),
    ("Contacts", "Addresses[].AddressLine3"): (500, "Address Line 3"),
    ("Contacts", "Addresses[].AddressLine4"): (500, "Address Line 4"),
    ("Contacts", "Addresses[].City"): (255, "City"),
    ("Contacts", "Addresses[].Region"): (255, "Region"),
    ("Contacts", "Addresses[].PostalCode"): (50, "Postal Code"),
    ("Contacts", "Addresses[].Country"): (50, "Country"),
    ("Contacts", "Addresses[].AttentionTo"): (255, "Attention To"),
    ("Invoices", "InvoiceNumber"): (255, "Invoice Number"),
    ("Invoices", "Reference"): (255, "Reference"),
    ("Invoices", "LineItems[].Description"): (4000, "Description"),
    ("CreditNotes", "LineItems[].Description"): (4000, "Description"),
    ("BankTransactions", "LineItems[].Description"): (4000, "Description"),
    ("PurchaseOrders", "LineItems[].Description"): (4000, "Description"),
    ("PurchaseOrders", "DeliveryInstructions"): (500, "Delivery Instructions"),
    ("Quotes", "QuoteNumber"): (255, "Quote Number"),
    ("Quotes", "Reference"): (4000, "Reference"),
    ("Quotes", "Terms"): (4000, "Terms"),
    ("Quotes", "Title"): (100, "Title"),
    ("Quotes", "Summary"): (3000, "Summary"),
    ("Quotes", "LineItems[].Description"): (4000, "Description"),
    ("Items", "Code"): (30, "Item Code"),
    ("Items", "Name"): (50, "Item Name"),
    ("Items", "Description"): (4000, "Description"),
    ("Items", "PurchaseDescription"): (4000, "Purchase Description"),
    ("Accounts", "Code"): (10, "Account Code"),
    ("Accounts", "Name"): (150, "Account Name"),
    ("Accounts", "Description"): (4000, "Description"),
    ("TrackingCategories", "Name"): (100, "Tracking Category Name"),
    ("Options", "Name"): (100, "Tracking Option Name"),
}


def _at_path(node: Any, steps: list[str]) -> Iterable[Any]:
    """The values a field path reaches in a record (``X[]`` walks the list ``X``)."""
    if not steps:
        yield node
        return
    if not isinstance(node, Mapping):
        return
    head, rest = steps[0], steps[1:]
    if head.endswith("[]"):
        items = node.get(head[:-2])
        for item in items if isinstance(items, list) else ():
            yield from _at_path(item, rest)
    elif head in node:
        yield from _at_path(node[head], rest)


def _utf16_length(text: str) -> int:
    # Xero is .NET: a string's length is its count of UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def check_lengths(resource: str, record: Mapping[str, Any], issues: Issues) -> None:
    """Report every text field of ``record`` longer than :data:`FIELD_LENGTH_LIMITS` allows."""
    for (limited, path), (limit, label) in FIELD_LENGTH_LIMITS.items():
        if limited != resource:
            continue
        for value in _at_path(record, path.split(".")):
            if isinstance(value, str) and _utf16_length(value) > limit:
                issues.error(Messages.too_long(label, limit))


# ---- lines ---------------------------------------------------------------------------------
# The arithmetic itself (LineAmount, per-line tax, totals) is ``ledger.compute_totals``; this
# module prepares lines for it and checks what the client sent against what it computed.

EXCLUSIVE, INCLUSIVE, NO_TAX = "Exclusive", "Inclusive", "NoTax"


@dataclass(frozen=True)
class LinePolicy:
    """How one document kind treats its lines."""

    unit_dp: int = 2
    requires_account: bool = False  # posting state: every amount line needs an account
    forbidden_account_types: frozenset[str] = frozenset()
    default_tax_from_account: bool = True


@dataclass
class SentLine:
    """What the client sent on a line, kept to compare with Xero's computation."""

    line_amount: Decimal | None = None
    tax_amount: Decimal | None = None
    checks_line_total: bool = False


def prepare_line(
    line: Mapping[str, Any],
    path: str,
    line_amount_types: str,
    policy: LinePolicy,
    refs: References,
    issues: Issues,
) -> tuple[dict[str, Any], SentLine]:
    """Convert a line's fields, fill item defaults, resolve account and tax type.

    Derives a missing Quantity or UnitAmount from a sent LineAmount. Conversion failures
    raise :class:`PostDataInvalid`; rule failures go to ``issues``.
    """
    out: dict[str, Any] = {k: v for k, v in line.items() if v is not None}
    tracking = out.get("Tracking")
    if tracking is not None and (
        not isinstance(tracking, list) or not all(isinstance(t, dict) for t in tracking)
    ):
        raise PostDataInvalid(
            "Cannot deserialize the current JSON value into type 'System.Collections.Generic."
            f"List`1[Xero.API.Library..TrackingCategory]'. Path '{path}.Tracking'."
        )
    for drop in ("ValidationErrors", "LineAmount", "TaxAmount"):
        out.pop(drop, None)
    _item_defaults(line, out, path, refs, issues)
    sent = _line_amounts(line, out, path, policy, issues)
    account = _resolve_line_account(out, path, policy, refs, issues)
    tax_type = out.get("TaxType")
    if tax_type in (None, "") and line_amount_types == NO_TAX:
        tax_type = "NONE"
    if tax_type in (None, "") and account is not None and policy.default_tax_from_account:
        tax_type = account.get("TaxType")
    if tax_type not in (None, ""):
        tax_type = as_text(tax_type, f"{path}.TaxType")
        if refs.tax_rate(tax_type) is None:
            issues.error(Messages.tax_type_unknown(tax_type))
        out["TaxType"] = tax_type
    if sent.tax_amount is not None:
        out["TaxAmount"] = sent.tax_amount
    return out, sent


def _item_defaults(
    line: Mapping[str, Any], out: dict[str, Any], path: str, refs: References, issues: Issues
) -> None:
    """A line naming an item takes the item's description, sales price, account and tax type
    for whatever it does not say itself."""
    item_code = line.get("ItemCode")
    if item_code in (None, ""):
        return
    code = as_text(item_code, f"{path}.ItemCode")
    item = refs.item(code)
    if item is None:
        issues.error(Messages.item_code_unknown(code))
        return
    side = item.get("SalesDetails") or {}
    if not out.get("Description"):
        out["Description"] = item.get("Description") or item.get("Name") or code
    priced = "UnitAmount" in out or "LineAmount" in line
    if not priced and side.get("UnitPrice") is not None:
        out["UnitAmount"] = side["UnitPrice"]
    if "AccountCode" not in out and "AccountID" not in out and side.get("AccountCode"):
        out["AccountCode"] = side["AccountCode"]
    if "TaxType" not in out and side.get("TaxType"):
        out["TaxType"] = side["TaxType"]


def _line_amounts(
    line: Mapping[str, Any], out: dict[str, Any], path: str, policy: LinePolicy, issues: Issues
) -> SentLine:
    """Quantity, UnitAmount and discounts as numbers, a missing one derived from LineAmount;
    returns the amounts the client sent, to compare with the computed ones."""

    def number(name: str) -> Decimal | None:
        value = out.get(name) if name in out else line.get(name)
        return None if value is None else as_decimal(value, f"{path}.{name}")

    quantity, unit_amount = number("Quantity"), number("UnitAmount")
    sent = SentLine(line_amount=number("LineAmount"), tax_amount=number("TaxAmount"))
    for name in ("DiscountRate", "DiscountAmount"):
        value = number(name)
        if value is not None:
            out[name] = value
    if quantity is not None and quantity < 0:
        issues.error(Messages.quantity_negative(quantity))
    if sent.line_amount is not None:
        if quantity is None and unit_amount is None:
            quantity, unit_amount = Decimal(1), sent.line_amount
        elif unit_amount is None and quantity:
            unit_amount = round_half_up(sent.line_amount / quantity, policy.unit_dp)
        elif quantity is None and unit_amount:
            quantity = round_half_up(sent.line_amount / unit_amount, 4)
        else:
            sent.checks_line_total = True
    elif unit_amount is not None and quantity is None:
        quantity = Decimal(1)
    if quantity is not None:
        out["Quantity"] = quantity
    if unit_amount is not None:
        out["UnitAmount"] = unit_amount
    rate = out.get("DiscountRate")
    if isinstance(rate, Decimal) and (rate < 0 or rate > _HUNDRED):
        issues.error(Messages.discount_invalid(rate))
    discount = out.get("DiscountAmount")
    if (
        isinstance(discount, Decimal)
        and discount
        and quantity is not None
        and unit_amount is not None
    ):
        gross = quantity * unit_amount
        if gross <= 0 or discount > gross:
            issues.error(Messages.discount_invalid(discount))
    return sent


def check_line(
    computed: Mapping[str, Any], sent: SentLine, *, tax_must_match: bool, issues: Issues
) -> None:
    """Compare a computed line with what the client sent (its LineAmount and TaxAmount)."""
    line_amount = computed["LineAmount"]
    sent_total = sent.line_amount if sent.checks_line_total else None
    if sent_total is not None and round_half_up(sent_total, 2) != line_amount:
        issues.error(Messages.line_total_mismatch(sent_total, line_amount))
    if abs(line_amount) > _MAX_LINE_AMOUNT:
        issues.error(Messages.line_total_mismatch(line_amount, _MAX_LINE_AMOUNT))
    if tax_must_match and sent.tax_amount is not None:
        expected = computed["TaxAmount"]
        if round_half_up(sent.tax_amount, 2) != expected:
            tax_type = str(computed.get("TaxType") or "NONE")
            issues.error(Messages.tax_amount_wrong(sent.tax_amount, tax_type, expected))


def _has_amount(line: Mapping[str, Any]) -> bool:
    return any(line.get(k) is not None for k in ("Quantity", "UnitAmount", "LineAmount"))


def _resolve_line_account(
    out: dict[str, Any], path: str, policy: LinePolicy, refs: References, issues: Issues
) -> dict[str, Any] | None:
    code = out.get("AccountCode")
    account_id = out.get("AccountID")
    account = None
    if account_id not in (None, ""):
        account = refs.account(account_id=as_guid(account_id, f"{path}.AccountID"))
    if account is None and code not in (None, ""):
        code = as_text(code, f"{path}.AccountCode")
        account = refs.account(code=code)
        if account is None:
            issues.warn(Messages.account_code_removed(code))
    if account is None:
        out.pop("AccountCode", None)
        out.pop("AccountID", None)
        if policy.requires_account and _has_amount(out):
            issues.error(Messages.ACCOUNT_CODE_MISSING)
        return None
    if account.get("Type") in policy.forbidden_account_types or account.get("Status") == "ARCHIVED":
        issues.error(Messages.account_code_not_valid(str(account.get("Code", code))))
    out["AccountCode"] = account.get("Code")
    out["AccountID"] = account.get("AccountID")
    return account


# ---- status rules ---------------------------------------------------------------------------

#: Invoice and credit note statuses a client may move to from each status (None = on create).
INVOICE_STATUS_CHANGES: Mapping[str | None, frozenset[str]] = {
    None: frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"}),
    "DRAFT": frozenset({"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"}),
    "SUBMITTED": frozenset({"SUBMITTED", "AUTHORISED", "DRAFT", "DELETED"}),
    "AUTHORISED": frozenset({"AUTHORISED", "VOIDED"}),
    "PAID": frozenset(),
    "VOIDED": frozenset(),
    "DELETED": frozenset(),
}

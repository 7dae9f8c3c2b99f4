"""Contacts: Name unique among active contacts, ContactNumber and AccountNumber unique."""

from __future__ import annotations

from xero_sandbox.catalog import Record
from xero_sandbox.validation import (
    Messages,
    PostDataInvalid,
    as_enum,
    as_text,
    valid_email,
)
from xero_sandbox.writes.common import Element, Writer, _merge, _text_fields
from xero_sandbox.writes.references import _active_contact_named

_TEXT_FIELDS = (
    "Name",
    "ContactNumber",
    "AccountNumber",
    "FirstName",
    "LastName",
    "CompanyNumber",
    "EmailAddress",
    "TaxNumber",
    "BankAccountDetails",
    "AccountsReceivableTaxType",
    "AccountsPayableTaxType",
    "DefaultCurrency",
)


def build_contact(w: Writer, element: Element) -> Record:
    """A contact: Name required and unique among active contacts; ContactNumber unique."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    if existing is not None and existing.get("ContactStatus") == "ARCHIVED":
        issues.error(Messages.ARCHIVED_CONTACT_EDIT)
    record = _merge(existing, sent)
    _text_fields(record, element, _TEXT_FIELDS)
    if sent.get("ContactStatus") is not None:
        status = as_enum(
            sent["ContactStatus"],
            ("ACTIVE", "ARCHIVED", "GDPRREQUEST"),
            "ContactStatus",
            f"{path}.ContactStatus",
        )
        record["ContactStatus"] = status
    record.setdefault("ContactStatus", "ACTIVE")
    name = str(record.get("Name") or "").strip()
    if not name:
        issues.error(Messages.CONTACT_NAME_EMPTY)
    record["Name"] = name
    _check_unique(w, element, record)
    email = record.get("EmailAddress")
    if email not in (None, "") and not valid_email(str(email)):
        issues.error(Messages.EMAIL_INVALID)
    for name_field in ("Addresses", "Phones", "ContactPersons"):
        value = record.get(name_field)
        if value is not None and not isinstance(value, list):
            raise PostDataInvalid(
                "Cannot deserialize the current JSON object into type 'System.Collections.Generic."
                f"List`1'. Path '{path}.{name_field}'."
            )
        record.setdefault(name_field, [])
    record.setdefault("ContactGroups", [])
    record.setdefault("IsSupplier", False)
    record.setdefault("IsCustomer", False)
    record["HasAttachments"] = bool(record.get("HasAttachments", False))
    record["HasValidationErrors"] = False
    return record


def _check_unique(w: Writer, element: Element, record: Record) -> None:
    """Name (among active contacts), ContactNumber and AccountNumber are each the contact's own."""
    existing, issues = element.existing, element.issues
    name = record["Name"]
    contact_id = (existing or {}).get("ContactID")
    if name and (existing is None or name.lower() != str(existing.get("Name", "")).lower()):
        other = _active_contact_named(w, name)
        if other is not None and other.get("ContactID") != contact_id:
            issues.error(Messages.contact_name_taken(name))
    number = record.get("ContactNumber")
    if number not in (None, "") and (existing is None or number != existing.get("ContactNumber")):
        other = w.by_number("Contacts", str(number))
        if other is not None and other.get("ContactID") != contact_id:
            issues.error(Messages.CONTACT_NUMBER_TAKEN)
    account_number = record.get("AccountNumber")
    if account_number not in (None, "") and (
        existing is None or account_number != existing.get("AccountNumber")
    ):
        for other in w.store.iter_containing(w.tenant_id, "Contacts", account_number):
            if (
                other.get("AccountNumber") == account_number
                and other.get("ContactID") != contact_id
            ):
                issues.error(Messages.ACCOUNT_NUMBER_TAKEN)
                break


def _match_contact(w: Writer, sent: Record, path: str) -> Record | None:
    if sent.get("ContactNumber") not in (None, ""):
        found = w.by_number("Contacts", as_text(sent["ContactNumber"], f"{path}.ContactNumber"))
        if found is not None:
            return found
    if sent.get("Name") not in (None, ""):
        return _active_contact_named(w, as_text(sent["Name"], f"{path}.Name"))
    return None

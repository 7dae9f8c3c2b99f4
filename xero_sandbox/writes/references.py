"""What documents point at: the contact a document names (found, or created with it) and
the account a line or payment is coded to.
"""

from __future__ import annotations

import uuid
from typing import Any

from xero_sandbox.catalog import Record
from xero_sandbox.validation import (
    Messages,
    PostDataInvalid,
    as_guid,
    as_text,
)
from xero_sandbox.writes.common import Element, Writer


def _contact_summary(contact: Record) -> Record:
    return {k: v for k, v in contact.items() if k not in ("ValidationErrors", "Warnings")}


def _resolve_contact(
    w: Writer, element: Element, record: Record, *, may_create: bool
) -> Record | None:
    """The contact a document names: by ContactID, then ContactNumber, then Name."""
    path = f"{element.path}.Contact"
    sent = element.sent.get("Contact")
    if sent is None:
        if element.existing is None:
            element.issues.error(Messages.CONTACT_IDENTIFIER)
        return None
    if not isinstance(sent, dict):
        raise PostDataInvalid(
            f"Error converting value \"{sent}\" to type 'Xero.API.Library..Contact'. Path '{path}'."
        )
    contact: Record | None = None
    if sent.get("ContactID") not in (None, ""):
        contact_id = as_guid(sent["ContactID"], f"{path}.ContactID")
        contact = w.get("Contacts", contact_id)
        if contact is None:
            element.issues.error(Messages.CONTACT_NOT_FOUND)
            record["Contact"] = {"ContactID": contact_id}
            return None
    elif sent.get("ContactNumber") not in (None, ""):
        number = as_text(sent["ContactNumber"], f"{path}.ContactNumber")
        contact = w.by_number("Contacts", number)
        if contact is None and not may_create:
            element.issues.error(Messages.CONTACT_NOT_FOUND)
            return None
    if contact is None and sent.get("Name") not in (None, ""):
        name = as_text(sent["Name"], f"{path}.Name")
        contact = _active_contact_named(w, name)
        if contact is None and not may_create:
            element.issues.error(Messages.CONTACT_NOT_FOUND)
            return None
        if contact is None:
            contact = _new_contact(w, sent, element)
    if contact is None:
        if sent.get("ContactNumber") in (None, ""):
            element.issues.error(Messages.CONTACT_IDENTIFIER)
        else:
            element.issues.error(Messages.CONTACT_NOT_FOUND)
        return None
    if contact.get("ContactStatus") in ("ARCHIVED", "GDPRREQUEST"):
        element.issues.error(Messages.CONTACT_ARCHIVED)
    record["Contact"] = _contact_summary(contact)
    return contact


def _active_contact_named(w: Writer, name: str) -> Record | None:
    """The active contact with that Name; archived ones may share it (Name is unique among
    active contacts only)."""
    for found in w.store.all_by_name(w.tenant_id, "Contacts", name.strip()):
        if found.get("ContactStatus", "ACTIVE") == "ACTIVE":
            return found
    return None


_CONTACT_ROLE = {"ACCREC": "IsCustomer", "ACCPAY": "IsSupplier"}


def _mark_role(w: Writer, element: Element, contact: Record, kind: str) -> None:
    """The first sales invoice makes a contact a customer, the first bill a supplier."""
    flag = _CONTACT_ROLE.get(kind)
    if flag is None or contact.get(flag):
        return
    if contact is element.new_contact:
        contact[flag] = True
        return

    def mark() -> None:
        updated = {**contact, flag: True}
        w.stamp(updated)
        w.save("Contacts", updated)
        w.notify("CONTACT", "UPDATE", str(updated["ContactID"]), updated)

    element.after_save.append(mark)


def _new_contact(w: Writer, sent: Record, element: Element) -> Record:
    """A contact a document creates by naming it (saved with the document)."""
    contact: Record = {
        "ContactID": str(uuid.uuid4()),
        "ContactStatus": "ACTIVE",
        "Name": str(sent["Name"]).strip(),
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
        "IsSupplier": False,
        "IsCustomer": False,
    }
    for name in ("ContactNumber", "EmailAddress", "FirstName", "LastName", "AccountNumber"):
        if sent.get(name) not in (None, ""):
            contact[name] = as_text(sent[name], f"{element.path}.Contact.{name}")
    w.stamp(contact)

    def save_contact() -> None:
        w.save("Contacts", contact)
        w.notify("CONTACT", "CREATE", contact["ContactID"], contact)

    element.before_save.append(save_contact)
    element.new_contact = contact
    return contact


def _resolve_account_ref(w: Writer, sent: Any, path: str) -> Record | None:
    if not isinstance(sent, dict):
        return None
    if sent.get("AccountID") not in (None, ""):
        return w.account(account_id=as_guid(sent["AccountID"], f"{path}.AccountID"))
    if sent.get("Code") not in (None, ""):
        return w.account(code=as_text(sent["Code"], f"{path}.Code"))
    return None


def _account_summary(account: Record) -> Record:
    return {k: account[k] for k in ("AccountID", "Code", "Name") if k in account}

"""Items, accounts and tracking categories with their options."""

from __future__ import annotations

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import ACCOUNT_CLASS, unit
from xero_sandbox.validation import (
    Messages,
    PostDataInvalid,
    as_decimal,
    as_enum,
)
from xero_sandbox.writes.common import (
    ACCOUNT_TYPES,
    Element,
    Writer,
    _bool_fields,
    _merge,
    _status,
    _text_fields,
)


def build_item(w: Writer, element: Element) -> Record:
    """An item: Code required and unique."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    record = _merge(existing, sent)
    _text_fields(
        record,
        element,
        ("Code", "Name", "Description", "PurchaseDescription", "InventoryAssetAccountCode"),
    )
    _bool_fields(record, element, ("IsSold", "IsPurchased"))
    code = str(record.get("Code") or "").strip()
    if not code:
        issues.error(Messages.ITEM_CODE_MISSING)
    elif existing is None or code != existing.get("Code"):
        other = w.by_number("Items", code)
        if other is not None and other.get("ItemID") != (existing or {}).get("ItemID"):
            issues.error(Messages.item_code_taken(code))
    record["Code"] = code
    for side in ("SalesDetails", "PurchaseDetails"):
        details = record.get(side)
        if details is None:
            continue
        if not isinstance(details, dict):
            raise PostDataInvalid(
                f"Error converting value \"{details}\" to type 'Xero.API.Library..Purchase'. "
                f"Path '{path}.{side}'."
            )
        details = dict(details)
        if details.get("UnitPrice") is not None:
            price = as_decimal(details["UnitPrice"], f"{path}.{side}.UnitPrice")
            details["UnitPrice"] = unit(price, w.unit_dp)
        code_in = details.get("AccountCode")
        if code_in not in (None, "") and w.account(code=str(code_in)) is None:
            issues.warn(Messages.account_code_removed(str(code_in)))
            details.pop("AccountCode")
        record[side] = details
    record.setdefault("IsSold", True)
    record.setdefault("IsPurchased", True)
    record["IsTrackedAsInventory"] = bool(record.get("InventoryAssetAccountCode"))
    return record


_ACCOUNT_TEXT_FIELDS = (
    "Code",
    "Name",
    "Description",
    "BankAccountNumber",
    "TaxType",
    "CurrencyCode",
    "ReportingCode",
)


def build_account(w: Writer, element: Element) -> Record:
    """An account: Code (≤10) and Name unique, Type required; archive alone."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    record = _merge(existing, sent)
    _text_fields(record, element, _ACCOUNT_TEXT_FIELDS)
    _bool_fields(
        record, element, ("EnablePaymentsToAccount", "ShowInExpenseClaims", "AddToWatchlist")
    )
    if sent.get("Type") is not None:
        record["Type"] = as_enum(sent["Type"], ACCOUNT_TYPES, "AccountType", f"{path}.Type")
    if sent.get("Status") is not None:
        record["Status"] = as_enum(
            sent["Status"], ("ACTIVE", "ARCHIVED", "DELETED"), "AccountStatus", f"{path}.Status"
        )
    if existing is not None and sent.get("Status") not in (None, existing.get("Status")):
        details = {
            k for k in sent if k not in ("Status", "AccountID") and sent[k] != existing.get(k)
        }
        if details:
            issues.error(Messages.ACCOUNT_STATUS_AND_DETAILS)
    _check_code_and_name(w, element, record)
    if not record.get("Type"):
        issues.error(Messages.ACCOUNT_TYPE_MISSING)
    elif record["Type"] == "BANK" and not record.get("BankAccountNumber"):
        issues.error(Messages.BANK_ACCOUNT_NUMBER_MISSING)
    if record.get("TaxType") and w.tax_rate(str(record["TaxType"])) is None:
        issues.error(Messages.tax_type_unknown(str(record["TaxType"])))
    record.setdefault("Status", "ACTIVE")
    record["Class"] = ACCOUNT_CLASS.get(str(record.get("Type")), "EXPENSE")
    record.setdefault("EnablePaymentsToAccount", False)
    record.setdefault("ShowInExpenseClaims", False)
    record.setdefault("HasAttachments", False)
    if record.get("Type") == "BANK":
        record.setdefault("BankAccountType", "BANK")
        record.setdefault("CurrencyCode", w.base_currency())

    def forget_cache() -> None:
        w.ledger.forget(w.tenant_id)

    element.after_save.append(forget_cache)
    return record


def _check_code_and_name(w: Writer, element: Element, record: Record) -> None:
    """Code and Name are each unique among the tenant's accounts; Name is required."""
    existing, issues = element.existing, element.issues
    code = str(record.get("Code") or "")
    if code and (existing is None or code.lower() != str(existing.get("Code", "")).lower()):
        other = w.account(code=code)
        if other is not None and other.get("AccountID") != (existing or {}).get("AccountID"):
            issues.error(Messages.ACCOUNT_CODE_TAKEN)
    name = str(record.get("Name") or "")
    if not name:
        issues.error(Messages.ACCOUNT_NAME_MISSING)
    elif existing is None or name.lower() != str(existing.get("Name", "")).lower():
        for other in w.store.iter_records(w.tenant_id, "Accounts"):
            if str(other.get("Name", "")).lower() == name.lower() and other.get("AccountID") != (
                existing or {}
            ).get("AccountID"):
                issues.error(Messages.ACCOUNT_NAME_TAKEN)
                break


TRACKING_STATUSES = ("ACTIVE", "ARCHIVED", "DELETED")


MAX_ACTIVE_TRACKING_CATEGORIES = 2


def _tracking_name(element: Element, record: Record, what: str, siblings: list[Record]) -> None:
    """Name required and unique among ``siblings`` ignoring case."""
    _text_fields(record, element, ("Name",))
    name = str(record.get("Name") or "").strip()
    record["Name"] = name
    if not name:
        element.issues.error(Messages.tracking_name_missing(what))
    elif any(str(other.get("Name", "")).casefold() == name.casefold() for other in siblings):
        element.issues.error(Messages.tracking_name_taken(what, name))


def build_tracking_category(w: Writer, element: Element) -> Record:
    """A tracking category (one per request): Name unique, at most two ACTIVE at a time.

    Status moves between ACTIVE and ARCHIVED here; DELETED is the DELETE verb's (not served).
    """
    existing, sent, issues = element.existing, element.sent, element.issues
    record = _merge(existing, sent)
    category_id = (existing or {}).get("TrackingCategoryID")
    others = [
        other
        for other in w.store.iter_records(w.tenant_id, "TrackingCategories")
        if other.get("TrackingCategoryID") != category_id
    ]
    _tracking_name(element, record, "Tracking Category", others)
    status = _status(element, TRACKING_STATUSES, "TrackingCategoryStatus")
    record["Status"] = status or record.get("Status") or "ACTIVE"
    if status == "DELETED":
        issues.error(Messages.status_not_applicable(status))
    becomes_active = record["Status"] == "ACTIVE" and (existing or {}).get("Status") != "ACTIVE"
    active = sum(1 for other in others if other.get("Status") == "ACTIVE")
    if becomes_active and active >= MAX_ACTIVE_TRACKING_CATEGORIES:
        issues.error(Messages.TRACKING_ACTIVE_LIMIT)
    record.setdefault("Options", [])
    return record


def build_tracking_option(w: Writer, element: Element) -> Record:
    """An option added to the tracking category named in the URL: Name unique within it."""
    category = w.parent or {}
    record = _merge(None, element.sent)
    _tracking_name(element, record, "Tracking Option", list(category.get("Options") or []))
    status = _status(element, TRACKING_STATUSES, "TrackingOptionStatus")
    record["Status"] = status or "ACTIVE"
    if status == "DELETED":
        element.issues.error(Messages.status_not_applicable(status))
    return record

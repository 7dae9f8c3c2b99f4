"""Manual journals."""

from __future__ import annotations

from collections.abc import Mapping

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import compute_totals
from xero_sandbox.validation import (
    NO_TAX,
    LinePolicy,
    Messages,
    PostDataInvalid,
    as_decimal,
    prepare_line,
)
from xero_sandbox.writes.common import (
    ZERO,
    Element,
    Writer,
    _bool_fields,
    _check_lock_dates,
    _merge,
    _set_date,
    _text_fields,
)
from xero_sandbox.writes.lines import _line_amount_types

_JOURNAL_TRANSITIONS: Mapping[str | None, frozenset[str]] = {
    None: frozenset({"DRAFT", "POSTED"}),
    "DRAFT": frozenset({"DRAFT", "POSTED", "DELETED"}),
    "POSTED": frozenset({"POSTED", "VOIDED"}),
}


def build_manual_journal(w: Writer, element: Element) -> Record:
    """A manual journal: lines must balance once POSTED; unknown accounts drop the line."""
    existing, sent, issues = element.existing, element.sent, element.issues
    record = _merge(existing, sent)
    _text_fields(record, element, ("Narration",))
    _bool_fields(record, element, ("ShowOnCashBasisReports",))
    if not str(record.get("Narration") or "").strip():
        issues.error(Messages.NARRATION_MISSING)
    old_status = existing.get("Status") if existing else None
    new_status = str(sent["Status"]) if sent.get("Status") is not None else (old_status or "DRAFT")
    if new_status not in _JOURNAL_TRANSITIONS.get(old_status, frozenset()):
        issues.error(Messages.status_not_applicable(new_status))
    record["Status"] = new_status
    _set_date(record, element, "Date", None, w.today())
    record.setdefault("ShowOnCashBasisReports", True)
    record.pop("CurrencyCode", None)
    mode = _line_amount_types(element, record, NO_TAX)
    lines = _journal_lines(w, element, mode)
    record["JournalLines"] = lines
    if new_status == "POSTED":
        debits = sum((line["LineAmount"] for line in lines if line["LineAmount"] > 0), ZERO)
        credits = sum((line["LineAmount"] for line in lines if line["LineAmount"] < 0), ZERO)
        if debits + credits != 0 or not lines:
            issues.error(Messages.journal_unbalanced(debits, credits))
        if old_status != "POSTED":
            _check_lock_dates(w, record, issues)
    record.setdefault("HasAttachments", False)
    return record


def _journal_lines(w: Writer, element: Element, mode: str) -> list[Record]:
    """The journal's lines as Xero keeps them; a line on an unknown account is dropped."""
    existing, sent, issues, path = element.existing, element.sent, element.issues, element.path
    policy = LinePolicy(unit_dp=2, default_tax_from_account=mode != NO_TAX)
    source = (
        sent.get("JournalLines")
        if "JournalLines" in sent
        else (existing or {}).get("JournalLines", [])
    )
    if not isinstance(source, list):
        raise PostDataInvalid(
            "Cannot deserialize the current JSON object into type 'System.Collections.Generic."
            f"List`1[Xero.API.Library..ManualJournalLine]'. Path '{path}.JournalLines'."
        )
    lines: list[Record] = []
    rates = w.ledger.tax_rates(w.tenant_id)
    for index, raw in enumerate(source):
        line_path = f"{path}.JournalLines[{index}]"
        if not isinstance(raw, dict):
            raise PostDataInvalid(
                f"Unexpected character encountered while parsing value. Path '{line_path}'."
            )
        amount = as_decimal(raw.get("LineAmount", 0), f"{line_path}.LineAmount")
        line, _ = prepare_line(
            {k: v for k, v in raw.items() if k not in ("LineAmount", "TaxAmount")},
            line_path,
            mode,
            policy,
            w,
            issues,
        )
        if not line.get("AccountID"):
            continue  # unknown account: the line is removed with a warning
        holder: Record = {"LineAmountTypes": mode, "LineItems": [{**line, "LineAmount": amount}]}
        compute_totals(holder, rates)
        computed = holder["LineItems"][0]
        lines.append(
            {
                "LineAmount": computed["LineAmount"],
                "AccountCode": line["AccountCode"],
                "AccountID": line["AccountID"],
                "Description": str(line.get("Description", "")),
                "TaxType": str(line.get("TaxType") or "NONE"),
                "TaxAmount": computed["TaxAmount"],
                "Tracking": line.get("Tracking", []),
                "IsBlank": False,
            }
        )
    return lines

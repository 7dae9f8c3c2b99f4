"""Line rows: Xero's own CSV import templates (sales invoice, bill, contact) as input streams,
one record per spreadsheet row, read into the records the invoice and contact write paths take
(docs/target.md, "Xero's CSV templates"). Column names match in any case and punctuation, with
or without the leading ``*`` of a required column."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from xero_api.codec import decode_json, encode_json

from .directory import norm
from .organisation import Reader
from .records import xero_date
from .scratch_db import scratch_database

__all__ = [
    "ROW_SETTINGS",
    "ROW_STREAMS",
    "DocumentRows",
    "OrganisationFacts",
    "Row",
    "RowGroups",
    "canonical_row",
    "contact_from_row",
    "document_total",
    "row_date",
]

# Input stream -> (resource stream, invoice Type; None for contacts).
ROW_STREAMS: dict[str, tuple[str, str | None]] = {
    "invoice_rows": ("invoices", "ACCREC"),
    "bill_rows": ("invoices", "ACCPAY"),
    "contact_rows": ("contacts", None),
}

_ADDRESS = ("AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4", "City", "Region")
_ADDRESS_COLUMNS = (*_ADDRESS, "PostalCode", "Country")
_PO = tuple(f"PO{c}" for c in _ADDRESS_COLUMNS)
_SA = tuple(f"SA{c}" for c in _ADDRESS_COLUMNS)
_TRACKING = ("TrackingName1", "TrackingOption1", "TrackingName2", "TrackingOption2")

# The sales invoice template's columns; the bill template has the same less Reference,
# Discount and BrandingTheme (they are still taken when present).
DOCUMENT_COLUMNS = (
    "ContactName",
    "EmailAddress",
    *_PO,
    "InvoiceNumber",
    "Reference",
    "InvoiceDate",
    "DueDate",
    "Total",
    "InventoryItemCode",
    "Description",
    "Quantity",
    "UnitAmount",
    "Discount",
    "AccountCode",
    "TaxType",
    "TaxAmount",
    *_TRACKING,
    "Currency",
    "BrandingTheme",
)
# Columns of Xero's invoice and bill *export* that the import template does not have: Xero
# computes them (or they describe the exported document's state), so they are not written.
EXPORT_ONLY_COLUMNS = (
    *_SA,
    "PlannedDate",
    "TaxTotal",
    "InvoiceAmountPaid",
    "InvoiceAmountDue",
    "LineAmount",
    "Type",
    "Sent",
    "Status",
)
_PERSONS = tuple(
    f"Person{n}{part}" for n in range(1, 6) for part in ("FirstName", "LastName", "Email")
) + tuple(f"Person{n}IncludeInEmail" for n in range(1, 6))
# The contact template's columns.
CONTACT_COLUMNS = (
    "ContactName",
    "AccountNumber",
    "EmailAddress",
    "FirstName",
    "LastName",
    "POAttentionTo",
    *_PO,
    "SAAttentionTo",
    *_SA,
    "PhoneNumber",
    "FaxNumber",
    "MobileNumber",
    "DDINumber",
    "SkypeName",
    "BankAccountName",
    "BankAccountNumber",
    "BankAccountParticulars",
    "TaxNumberName",
    "TaxNumber",
    "AccountsReceivableTaxCodeName",
    "AccountsPayableTaxCodeName",
    "Website",
    "LegalName",
    "Discount",
    "CompanyNumber",
    "DueDateBillDay",
    "DueDateBillTerm",
    "DueDateSalesDay",
    "DueDateSalesTerm",
    "SalesAccount",
    "PurchasesAccount",
    "TrackingName1",
    "SalesTrackingOption1",
    "PurchasesTrackingOption1",
    "TrackingName2",
    "SalesTrackingOption2",
    "PurchasesTrackingOption2",
    "BrandingTheme",
    "DefaultTaxBills",
    "DefaultTaxSales",
    *_PERSONS,
)
# Contact template columns Xero's API has no writable field for (read-only or absent).
CONTACT_UNWRITABLE = (
    "SkypeName",
    "BankAccountName",
    "BankAccountParticulars",
    "TaxNumberName",
    "Website",
    "LegalName",
    "Discount",
)
_NUMBERS = frozenset({"Total", "Quantity", "UnitAmount", "Discount", "TaxAmount"})
# Columns that must agree on every row of one document.
_DOCUMENT_LEVEL = ("Reference", "InvoiceDate", "DueDate", "Total", "Currency", "BrandingTheme")

DATE_ORDERS = ("day_month_year", "month_day_year")
# Organisation countries whose Xero templates write day/month/year or month/day/year.
_COUNTRY_ORDER = {"AU": "day_month_year", "NZ": "day_month_year", "GB": "day_month_year"}
_COUNTRY_ORDER |= {"UK": "day_month_year", "US": "month_day_year"}

ROW_SETTINGS: dict[str, dict[str, Any]] = {
    "row_date_order": {
        "type": "string",
        "enum": list(DATE_ORDERS),
        "description": "How invoice_rows and bill_rows write dates like 03/04/2026: "
        "day_month_year (Xero's AU, NZ and UK templates) or month_day_year (US). Default: "
        "from the organisation's country. ISO 8601 dates are always accepted.",
    },
    "row_line_amount_types": {
        "type": "string",
        "enum": ["Exclusive", "Inclusive", "NoTax"],
        "default": "Exclusive",
        "description": "Whether the UnitAmount of invoice_rows and bill_rows includes tax "
        "(Xero's import asks the same question).",
    },
    "row_status": {
        "type": "string",
        "enum": ["DRAFT", "SUBMITTED", "AUTHORISED"],
        "default": "DRAFT",
        "description": "Status of documents made from invoice_rows and bill_rows (Xero's "
        "import makes drafts).",
    },
}

_CENT = Decimal("0.01")
_UNIT = Decimal("0.0001")  # the target sends unitdp=4
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_PUNCTUATION = re.compile(r"[^a-z0-9]")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _round(value: Decimal | int, step: Decimal = _CENT) -> Decimal:
    """Xero's rounding: half away from zero."""
    return Decimal(value).quantize(step, rounding=ROUND_HALF_UP)


def _column_key(name: str) -> str:
    return _PUNCTUATION.sub("", name.lower())


_COLUMN_KEYS = {
    stream: {
        _column_key(c): c
        for c in (CONTACT_COLUMNS if kind is None else DOCUMENT_COLUMNS + EXPORT_ONLY_COLUMNS)
    }
    for stream, (_, kind) in ROW_STREAMS.items()
}


def canonical_row(stream: str, record: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A row's non-empty values under the template's column names, and the names of the
    fields that are no column of the template (``_sdc_*`` metadata aside)."""
    known = _COLUMN_KEYS[stream]
    values: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in record.items():
        column = known.get(_column_key(name))
        if column is None:
            if not name.startswith("_sdc_"):
                unknown.append(name)
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        values[column] = value.strip() if isinstance(value, str) else value
    return values, unknown


def _text(value: Any) -> str:
    """A cell as text; a spreadsheet tap may have read ``200`` (an account code) as a number."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value)


def _number(value: Any) -> Decimal:
    """A cell as an exact number; ValueError when it is not one."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    if "," in text:
        # Thousands separators only: "12,5" could be a decimal comma, never guess.
        if not _THOUSANDS.match(text):
            raise ValueError(f"{value!r} is not a number (a comma only separates thousands)")
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number


def row_date(value: Any, order: str | None, country: str | None = None) -> str:
    """A template date as ``YYYY-MM-DD``: ``d/m/yyyy`` or ``m/d/yyyy`` (``/``, ``.`` or ``-``)
    in the given order, or ISO 8601. Without an order, a date that reads two ways is refused.

    Raises ValueError saying why.
    """
    text = _text(value).strip()
    matched = _SLASHED.match(text)
    if matched is None:
        try:
            return xero_date(text)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a date (day/month/year, month/day/year or ISO 8601)"
            ) from None
    first, second, year = (int(part) for part in matched.groups())
    if order is None:
        if first > 12 >= second:
            order = "day_month_year"
        elif second > 12 >= first:
            order = "month_day_year"
        elif first == second:
            order = "day_month_year"
        else:
            where = f"organisation country {country}" if country else "the organisation"
            raise ValueError(
                f"{text!r} is ambiguous (day/month or month/day?) and {where} does not say "
                "which; set row_date_order"
            )
    day, month = (first, second) if order == "day_month_year" else (second, first)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        shown = order.replace("_", "/")
        raise ValueError(f"{text!r} is not a valid {shown} date") from None


class OrganisationFacts:
    """What turning rows into documents needs to know about the target organisation: its
    country (date order), tax rates (names to codes, rates) and branding themes; each read
    once, on first use."""

    def __init__(self, reader: Reader, date_order: str | None = None) -> None:
        """Read through ``reader``; ``date_order`` (row_date_order) overrides the country."""
        self._reader = reader
        self._date_order = date_order

    @functools.cached_property
    def country(self) -> str | None:
        """The organisation's CountryCode (``Version`` when it has none)."""
        body = self._reader.get("Organisation") or {}
        orgs = body.get("Organisations") or [{}]
        org = orgs[0] if isinstance(orgs[0], Mapping) else {}
        code = org.get("CountryCode") or org.get("Version")
        return str(code).upper() if code else None

    def date(self, value: Any) -> str:
        """A template date as ``YYYY-MM-DD`` (:func:`row_date`); only a date that needs the
        order reads the organisation."""
        if self._date_order or not _SLASHED.match(_text(value).strip()):
            return row_date(value, self._date_order)
        return row_date(value, _COUNTRY_ORDER.get(self.country or ""), self.country)

    @functools.cached_property
    def _tax(self) -> dict[str, tuple[str, Decimal]]:
        tax: dict[str, tuple[str, Decimal]] = {}
        body = self._reader.get("TaxRates") or {}
        for rate in body.get("TaxRates") or ():
            if not isinstance(rate, Mapping) or not rate.get("TaxType"):
                continue
            entry = (str(rate["TaxType"]), _number(rate.get("EffectiveRate") or 0))
            tax.setdefault(norm(str(rate["TaxType"])), entry)
            if rate.get("Name"):
                tax.setdefault(norm(str(rate["Name"])), entry)
        return tax

    def tax_rate(self, name_or_code: str) -> tuple[str, Decimal] | None:
        """(TaxType code, effective rate in percent) for a tax rate's display name or code."""
        return self._tax.get(norm(name_or_code))

    @functools.cached_property
    def _account_tax(self) -> dict[str, str]:
        return self._index("Accounts", "Code", "TaxType")

    def account_tax_type(self, code: str) -> str | None:
        """The default TaxType of an account (what Xero applies to a line without one)."""
        return self._account_tax.get(norm(code))

    @functools.cached_property
    def _themes(self) -> dict[str, str]:
        return self._index("BrandingThemes", "Name", "BrandingThemeID")

    def branding_theme(self, name: str) -> str | None:
        """The BrandingThemeID of a theme's name."""
        return self._themes.get(norm(name))

    def _index(self, collection: str, key: str, value: str) -> dict[str, str]:
        """``collection``'s documents read once: normalised ``key`` -> ``value``."""
        body = self._reader.get(collection) or {}
        return {
            norm(str(doc[key])): str(doc[value])
            for doc in body.get(collection) or ()
            if isinstance(doc, Mapping) and doc.get(key) and doc.get(value)
        }


@dataclass
class Row:
    """One input row: its position in its stream (1-based), as it arrived, and its values."""

    number: int
    raw: dict[str, Any]
    values: dict[str, Any]


class RowGroups:
    """Rows of one input stream in a scratch database, grouped by document key
    and read back one group at a time: groups in the order their first row arrived, rows in
    arrival order."""

    def __init__(self) -> None:
        self._db = scratch_database(
            """
            CREATE TABLE groups (key TEXT PRIMARY KEY, ord INTEGER NOT NULL);
            CREATE TABLE rows (ord INTEGER, seq INTEGER, body BLOB NOT NULL,
                               PRIMARY KEY (ord, seq)) WITHOUT ROWID;
            """
        )
        self.count = 0  # rows seen (each row's number)
        self.spooled = 0  # rows waiting to be grouped
        self._groups = 0

    def number(self) -> int:
        """The next row's number in its stream."""
        self.count += 1
        return self.count

    def add(self, key: str, row: Row) -> None:
        """Keep a row under its document key."""
        inserted = self._db.execute(
            "INSERT OR IGNORE INTO groups VALUES (?, ?)", (key, self._groups + 1)
        )
        if inserted.rowcount == 1:
            self._groups += 1
        self._db.execute(
            "INSERT INTO rows SELECT ord, ?, ? FROM groups WHERE key = ?",
            (row.number, encode_json([row.number, row.raw, row.values]), key),
        )
        self.spooled += 1

    def groups(self) -> Iterator[list[Row]]:
        """Each document's rows; the database is emptied as it is read, and closed at the end."""
        current: list[Row] = []
        ord_now = None
        for ord_, body in self._db.execute("SELECT ord, body FROM rows ORDER BY ord, seq"):
            number, raw, values = decode_json(body)
            if ord_ != ord_now and current:
                yield current
                current = []
            ord_now = ord_
            current.append(Row(number, raw, values))
        if current:
            yield current
        self.spooled = 0
        self._db.close()


def document_key(values: Mapping[str, Any]) -> str | None:
    """The grouping key of an invoice or bill row (invoice number and contact), or None."""
    number, contact = values.get("InvoiceNumber"), values.get("ContactName")
    if number is None or contact is None:
        return None
    return encode_json([norm(_text(number)), norm(_text(contact))]).decode()


@dataclass
class DocumentRows:
    """Turns the rows of one invoice or bill into the record the invoice write path takes."""

    invoice_type: str
    facts: OrganisationFacts
    line_amount_types: str = "Exclusive"
    status: str = "DRAFT"

    def build(self, rows: Sequence[Row]) -> tuple[dict[str, Any] | None, list[str]]:
        """The document, or None and why not (each reason names its row and field)."""
        reasons = _differing_headers(rows)
        first = rows[0].values
        header = {c: r.values[c] for r in reversed(rows) for c in _DOCUMENT_LEVEL if c in r.values}
        doc: dict[str, Any] = {
            "Type": self.invoice_type,
            "InvoiceNumber": _text(first["InvoiceNumber"]),
            "Contact": {"Name": _text(first["ContactName"])},
            "LineAmountTypes": self.line_amount_types,
            "Status": self.status,
        }
        self._header(rows, header, doc, reasons)
        lines: list[dict[str, Any]] = []
        rates: list[Decimal | None] = []
        for row in rows:
            line, rate, problems = self._line(row)
            lines.append(line)
            rates.append(rate)
            reasons += problems
        doc["LineItems"] = lines
        if reasons:
            return None, reasons
        if "Total" in header:
            total = _number(header["Total"])
            computed = document_total(lines, rates, self.line_amount_types)
            if computed != total:
                reasons.append(
                    f"{_row_of(rows, 'Total')} Total: {total} does not match the lines, which "
                    f"come to {computed} (amounts {self.line_amount_types.lower()} of tax, "
                    "rounded as Xero does)"
                )
                return None, reasons
        return doc, []

    def _header(
        self,
        rows: Sequence[Row],
        header: Mapping[str, Any],
        doc: dict[str, Any],
        reasons: list[str],
    ) -> None:
        """The document's dates, reference, currency and branding theme, in place."""
        for column, field in (("InvoiceDate", "Date"), ("DueDate", "DueDate")):
            if column in header:
                try:
                    doc[field] = self.facts.date(header[column])
                except ValueError as exc:
                    reasons.append(f"{_row_of(rows, column)} {column}: {exc}")
        if "Reference" in header:
            doc["Reference"] = _text(header["Reference"])
        if "Currency" in header:
            doc["CurrencyCode"] = _text(header["Currency"]).upper()
        if "BrandingTheme" in header:
            theme = self.facts.branding_theme(_text(header["BrandingTheme"]))
            if theme is None:
                reasons.append(
                    f"{_row_of(rows, 'BrandingTheme')} BrandingTheme: "
                    f"{_text(header['BrandingTheme'])!r} is no branding theme of the "
                    "target organisation"
                )
            else:
                doc["BrandingThemeID"] = theme

    def _line(self, row: Row) -> tuple[dict[str, Any], Decimal | None, list[str]]:
        values = row.values
        line: dict[str, Any] = {}
        problems: list[str] = []
        for column, field in (("Description", "Description"), ("AccountCode", "AccountCode")):
            if column in values:
                line[field] = _text(values[column])
        if "InventoryItemCode" in values:
            line["ItemCode"] = _text(values["InventoryItemCode"])
        for column, field in (
            ("Quantity", "Quantity"),
            ("UnitAmount", "UnitAmount"),
            ("Discount", "DiscountRate"),
            ("TaxAmount", "TaxAmount"),
        ):
            if column in values:
                try:
                    line[field] = _number(values[column])
                except ValueError as exc:
                    problems.append(f"row {row.number} {column}: {exc}")
        if "Total" in values:
            try:
                _number(values["Total"])
            except ValueError as exc:
                problems.append(f"row {row.number} Total: {exc}")
        rate = self._line_tax(row, line, problems)
        tracking = []
        for n in ("1", "2"):
            name, option = values.get(f"TrackingName{n}"), values.get(f"TrackingOption{n}")
            if name is not None and option is not None:
                tracking.append({"Name": _text(name), "Option": _text(option)})
            elif name is not None or option is not None:
                missing = f"TrackingOption{n}" if name is not None else f"TrackingName{n}"
                problems.append(f"row {row.number} {missing}: empty while its pair is given")
        if tracking:
            line["Tracking"] = tracking
        return line, rate, problems

    def _line_tax(self, row: Row, line: dict[str, Any], problems: list[str]) -> Decimal | None:
        """A line's TaxType, in place, and the rate Xero applies to it (None: unknown)."""
        values = row.values
        rate: Decimal | None = None
        if "TaxType" in values:
            found = self.facts.tax_rate(_text(values["TaxType"]))
            if found is None:
                problems.append(
                    f"row {row.number} TaxType: {_text(values['TaxType'])!r} is no tax rate "
                    "(name or code) of the target organisation"
                )
            else:
                line["TaxType"], rate = found
        elif "AccountCode" in values:
            # Xero applies the account's own tax rate to a line without one.
            default = self.facts.account_tax_type(_text(values["AccountCode"]))
            found = self.facts.tax_rate(default) if default else None
            rate = found[1] if found else None
        return rate


def _differing_headers(rows: Sequence[Row]) -> list[str]:
    """A reason for each document-level column whose value differs between the rows."""
    reasons = []
    for column in _DOCUMENT_LEVEL:
        seen = {(r.number, _text(r.values[column])) for r in rows if column in r.values}
        distinct = sorted({v for _, v in seen})
        if len(distinct) > 1:
            numbers = sorted(n for n, _ in seen)
            reasons.append(
                f"{column} differs between the rows of one document (rows "
                f"{', '.join(map(str, numbers))}: {', '.join(map(repr, distinct))})"
            )
    return reasons


def _row_of(rows: Sequence[Row], column: str) -> str:
    """``row N``: the first row of a document that gives ``column``."""
    for row in rows:
        if column in row.values:
            return f"row {row.number}"
    return f"row {rows[0].number}"


def document_total(
    lines: Sequence[Mapping[str, Any]], rates: Sequence[Decimal | None], line_amount_types: str
) -> Decimal:
    """The Total Xero computes for these lines, as its documentation describes: each line's
    amount and tax rounded half away from zero to the cent, tax summed per line, never on the
    total."""
    amounts = Decimal(0)
    taxes = Decimal(0)
    for line, rate in zip(lines, rates, strict=True):
        quantity = _round(cast(Decimal, line.get("Quantity", Decimal(1))), _UNIT)
        unit = _round(cast(Decimal, line.get("UnitAmount", Decimal(0))), _UNIT)
        discount = cast(Decimal, line.get("DiscountRate", Decimal(0)))
        amount = _round(quantity * unit * (100 - discount) / 100)
        amounts += amount
        if "TaxAmount" in line:
            taxes += _round(cast(Decimal, line["TaxAmount"]))
        elif rate is not None and line_amount_types != "NoTax":
            r = rate / 100
            taxes += _round(
                amount * r if line_amount_types == "Exclusive" else amount * r / (1 + r)
            )
    return amounts + taxes if line_amount_types == "Exclusive" else amounts


def _address(kind: str, prefix: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
    address: dict[str, Any] = {
        field: _text(values[f"{prefix}{field}"])
        for field in ("AttentionTo", *_ADDRESS_COLUMNS)
        if f"{prefix}{field}" in values
    }
    return {"AddressType": kind, **address} if address else None


def invoice_contact(values: Mapping[str, Any]) -> dict[str, Any]:
    """The contact an invoice or bill row describes (Xero's import creates it when no contact
    has the name): name, email and postal address."""
    contact: dict[str, Any] = {"Name": _text(values["ContactName"])}
    if "EmailAddress" in values:
        contact["EmailAddress"] = _text(values["EmailAddress"])
    address = _address("POBOX", "PO", values)
    if address:
        contact["Addresses"] = [address]
    return contact


_PHONES = (
    ("PhoneNumber", "DEFAULT"),
    ("FaxNumber", "FAX"),
    ("MobileNumber", "MOBILE"),
    ("DDINumber", "DDI"),
)
_TERMS = {
    "currentmonth": "OFCURRENTMONTH",
    "followingmonth": "OFFOLLOWINGMONTH",
    "daysafter": "DAYSAFTERBILLDATE",
    "daysafterendofmonth": "DAYSAFTERBILLMONTH",
}
_DEFAULT_TAX = {"taxexclusive": "EXCLUSIVE", "taxinclusive": "INCLUSIVE", "notax": "NONE"}
_YES = frozenset({"yes", "y", "true", "1"})


def contact_from_row(row: Row, facts: OrganisationFacts) -> tuple[dict[str, Any] | None, list[str]]:
    """The contact record of one contact template row, or None and why not."""
    problems: list[str] = []
    contact = _contact_details(row.values)
    _contact_defaults(row, facts, contact, problems)
    _payment_terms(row, contact, problems)
    _contact_tracking_and_theme(row, facts, contact, problems)
    _contact_persons(row.values, contact)
    return (None, problems) if problems else (contact, [])


def _contact_details(values: Mapping[str, Any]) -> dict[str, Any]:
    """Name, numbers, bank account, addresses and phones of a contact row."""
    contact: dict[str, Any] = {"Name": _text(values["ContactName"])}
    for column in ("AccountNumber", "EmailAddress", "FirstName", "LastName", "TaxNumber"):
        if column in values:
            contact[column] = _text(values[column])
    if "CompanyNumber" in values:
        contact["CompanyNumber"] = _text(values["CompanyNumber"])
    if "BankAccountNumber" in values:
        contact["BankAccountDetails"] = _text(values["BankAccountNumber"])
    addresses = [
        a for a in (_address("POBOX", "PO", values), _address("STREET", "SA", values)) if a
    ]
    if addresses:
        contact["Addresses"] = addresses
    phones = [
        {"PhoneType": kind, "PhoneNumber": _text(values[column])}
        for column, kind in _PHONES
        if column in values
    ]
    if phones:
        contact["Phones"] = phones
    return contact


def _contact_defaults(
    row: Row, facts: OrganisationFacts, contact: dict[str, Any], problems: list[str]
) -> None:
    """A contact row's default tax rates, accounts and line amount types, in place."""
    values = row.values
    for column, field in (
        ("AccountsReceivableTaxCodeName", "AccountsReceivableTaxType"),
        ("AccountsPayableTaxCodeName", "AccountsPayableTaxType"),
    ):
        if column in values:
            found = facts.tax_rate(_text(values[column]))
            if found is None:
                problems.append(
                    f"row {row.number} {column}: {_text(values[column])!r} is no tax rate of "
                    "the target organisation"
                )
            else:
                contact[field] = found[0]
    for column, field in (
        ("SalesAccount", "SalesDefaultAccountCode"),
        ("PurchasesAccount", "PurchasesDefaultAccountCode"),
    ):
        if column in values:
            contact[field] = _text(values[column])
    for column, field in (
        ("DefaultTaxSales", "SalesDefaultLineAmountType"),
        ("DefaultTaxBills", "PurchasesDefaultLineAmountType"),
    ):
        if column in values:
            kind = _DEFAULT_TAX.get(_column_key(_text(values[column])))
            if kind is None:
                problems.append(
                    f"row {row.number} {column}: {_text(values[column])!r} is not Tax "
                    "Exclusive, Tax Inclusive or No Tax"
                )
            else:
                contact[field] = kind


def _payment_terms(row: Row, contact: dict[str, Any], problems: list[str]) -> None:
    """A contact row's bill and sales payment terms, in place."""
    values = row.values
    terms: dict[str, Any] = {}
    for side, label in (("Bill", "Bills"), ("Sales", "Sales")):
        day, term = values.get(f"DueDate{side}Day"), values.get(f"DueDate{side}Term")
        if day is None and term is None:
            continue
        kind = _TERMS.get(_column_key(_text(term))) if term is not None else None
        if day is None or kind is None:
            problems.append(
                f"row {row.number} DueDate{side}Day/DueDate{side}Term: both are needed, the "
                "term one of Current Month, Following Month, Days After, Days After End of Month"
            )
            continue
        try:
            terms[label] = {"Day": int(_number(day)), "Type": kind}
        except ValueError as exc:
            problems.append(f"row {row.number} DueDate{side}Day: {exc}")
    if terms:
        contact["PaymentTerms"] = terms


def _contact_tracking_and_theme(
    row: Row, facts: OrganisationFacts, contact: dict[str, Any], problems: list[str]
) -> None:
    """A contact row's default tracking options and branding theme, in place."""
    values = row.values
    for side in ("Sales", "Purchases"):
        tracking = [
            {
                "TrackingCategoryName": _text(values[f"TrackingName{n}"]),
                "TrackingOptionName": _text(values[f"{side}TrackingOption{n}"]),
            }
            for n in ("1", "2")
            if f"TrackingName{n}" in values and f"{side}TrackingOption{n}" in values
        ]
        if tracking:
            contact[f"{side}TrackingCategories"] = tracking
    if "BrandingTheme" in values:
        theme = facts.branding_theme(_text(values["BrandingTheme"]))
        if theme is None:
            problems.append(
                f"row {row.number} BrandingTheme: {_text(values['BrandingTheme'])!r} is no "
                "branding theme of the target organisation"
            )
        else:
            contact["BrandingTheme"] = {"BrandingThemeID": theme}


def _contact_persons(values: Mapping[str, Any], contact: dict[str, Any]) -> None:
    """Up to five contact persons of a contact row, in place."""
    persons = []
    for n in range(1, 6):
        person: dict[str, Any] = {
            field: _text(values[f"Person{n}{column}"])
            for column, field in (
                ("FirstName", "FirstName"),
                ("LastName", "LastName"),
                ("Email", "EmailAddress"),
            )
            if f"Person{n}{column}" in values
        }
        if person:
            flag = values.get(f"Person{n}IncludeInEmail")
            person["IncludeInEmails"] = flag is not None and _text(flag).lower() in _YES
            persons.append(person)
    if persons:
        contact["ContactPersons"] = persons

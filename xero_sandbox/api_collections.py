"""Collections of the APIs beside Accounting, as the store keeps them.

Each collection is stored under ``"<api>/<Name>"`` in the store's records table (so it never
meets an Accounting collection of the same name). ``parent_field`` names the field holding the
parent's ID for child collections (Projects' tasks and time entries): it is kept in the store's
indexed ``number`` column, so a parent's children are found by index.
"""

from __future__ import annotations

from dataclasses import dataclass

from xero_sandbox.catalog import Paging, ResourceSpec

__all__ = [
    "API_PREFIXES",
    "API_SCOPES",
    "ATTACHMENT_PARENTS",
    "COLLECTIONS",
    "PAYROLL_AU",
    "PAYROLL_V2",
    "Collection",
    "collection_for",
    "stored_name",
]


def stored_name(api: str, name: str) -> str:
    """The store's resource name of an API's collection."""
    return f"{api}/{name}"


@dataclass(frozen=True)
class Collection:
    """One stored collection of another API (attribute names as the store reads them)."""

    api: str
    name: str
    key: str
    parent_field: str | None = None
    status_field: str | None = None
    ims_field: str | None = None  # none of these APIs compare If-Modified-Since
    number_is_int: bool = False
    unitdp: bool = False

    @property
    def stored(self) -> str:
        """The resource name in the store."""
        return stored_name(self.api, self.name)

    @property
    def number_field(self) -> str | None:
        """The store's ``number`` column holds the parent's ID."""
        return self.parent_field


# API name -> base path (the servers of Xero's OpenAPI specs).
API_PREFIXES: dict[str, str] = {
    "projects": "/projects.xro/2.0",
    "assets": "/assets.xro/1.0",
    "payroll-au": "/payroll.xro/1.0",
    "files": "/files.xro/1.0",
    "payroll-2": "/payroll.xro/2.0",
}
# Payroll UK and NZ share one base path and API name: the organisation's region picks the models.
PAYROLL_V2 = "payroll-2"
# API name -> the scope family of each first path segment (lower case; "" for every segment).
API_SCOPES: dict[str, dict[str, str]] = {
    "projects": {"": "projects"},
    "assets": {"": "assets"},
    "files": {"": "files"},
    "payroll-au": {
        "employees": "payroll.employees",
        "leaveapplications": "payroll.employees",
        "payitems": "payroll.settings",
        "payrollcalendars": "payroll.settings",
        "settings": "payroll.settings",
        "superfunds": "payroll.settings",
        "superfundproducts": "payroll.settings",
        "payruns": "payroll.payruns",
        "payslip": "payroll.payslip",
        "timesheets": "payroll.timesheets",
    },
    # Payroll UK and NZ: the specs' security per path (statutory leaves are settings).
    "payroll-2": {
        "employees": "payroll.employees",
        "statutoryleaves": "payroll.settings",
        "benefits": "payroll.settings",
        "deductions": "payroll.settings",
        "earningsorders": "payroll.settings",
        "earningsrates": "payroll.settings",
        "leavetypes": "payroll.settings",
        "reimbursements": "payroll.settings",
        "payruncalendars": "payroll.settings",
        "settings": "payroll.settings",
        "statutorydeductions": "payroll.settings",
        "superannuations": "payroll.settings",
        "payruns": "payroll.payruns",
        "payslips": "payroll.payslip",
        "timesheets": "payroll.timesheets",
    },
}


def _payroll_au(name: str, envelope: str, key: str, *, ims: bool = True) -> ResourceSpec:
    """A Payroll AU collection: Accounting's conventions (PascalCase, /Date()/ dates, plural
    envelopes, If-Modified-Since, where, order, `page` of 100), so the Accounting read side
    serves it; stored as ``payroll-au/<Name>``."""
    return ResourceSpec(
        stored_name("payroll-au", name),
        envelope,
        key,
        ims_field="UpdatedDateUTC" if ims else None,
        paging=Paging.PAGE_FIXED if ims else Paging.NONE,
        where=ims,
        order=ims,
        status_field=None,
    )


PAYROLL_AU: tuple[ResourceSpec, ...] = (
    _payroll_au("Employees", "Employees", "EmployeeID"),
    _payroll_au("LeaveApplications", "LeaveApplications", "LeaveApplicationID"),
    _payroll_au("PayrollCalendars", "PayrollCalendars", "PayrollCalendarID"),
    _payroll_au("PayRuns", "PayRuns", "PayRunID"),
    _payroll_au("Superfunds", "SuperFunds", "SuperFundID"),
    _payroll_au("Timesheets", "Timesheets", "TimesheetID"),
    _payroll_au("Payslips", "Payslip", "PayslipID", ims=False),
    # One object per tenant each, kept under a fixed key.
    _payroll_au("PayItems", "PayItems", "Key", ims=False),
    _payroll_au("Settings", "Settings", "Key", ims=False),
)

COLLECTIONS: tuple[Collection, ...] = (
    Collection("projects", "Projects", "projectId", status_field="status"),
    Collection("projects", "ProjectsUsers", "userId"),
    Collection("projects", "Tasks", "taskId", parent_field="projectId", status_field="status"),
    Collection("projects", "Time", "timeEntryId", parent_field="projectId", status_field="status"),
    Collection("assets", "Assets", "assetId", status_field="assetStatus"),
    Collection("assets", "AssetTypes", "assetTypeId"),
    Collection("assets", "Settings", "assetNumberPrefix"),  # one per tenant
    Collection("files", "Files", "Id", parent_field="FolderId"),
    Collection("files", "Folders", "Id"),
    # A file's link to a document: kept under "<FileId>:<ObjectId>", found by the document.
    Collection("files", "Associations", "Key", parent_field="ObjectId"),
    # Payroll UK and NZ: an employee's records are found by the employee, payslips by pay run;
    # one-object answers are kept under "Key" (settings) or the employee's ID (EmployeeDetails).
    *(
        Collection(PAYROLL_V2, name, key, parent_field=parent)
        for name, key, parent in (
            ("Employees", "employeeID", None),
            ("EmployeeDetails", "employeeID", None),
            ("Leave", "leaveID", "employeeID"),
            ("SalaryAndWages", "salaryAndWagesID", "employeeID"),
            ("StatutoryLeaves", "statutoryLeaveID", "employeeID"),
            ("Benefits", "id", None),
            ("Superannuations", "id", None),
            ("Deductions", "deductionId", None),
            ("EarningsOrders", "id", None),
            ("StatutoryDeductions", "id", None),
            ("EarningsRates", "earningsRateID", None),
            ("LeaveTypes", "leaveTypeID", None),
            ("Reimbursements", "reimbursementID", None),
            ("Timesheets", "timesheetID", None),
            ("PayRunCalendars", "payrollCalendarID", None),
            ("PayRuns", "payRunID", None),
            ("Payslips", "paySlipID", "payRunID"),
            ("Settings", "Key", None),
            ("TrackingCategories", "Key", None),
        )
    ),
    # Accounting attachments: every document's, by the document's ID (the API's own routes).
    Collection("accounting", "Attachments", "AttachmentID", parent_field="DocumentID"),
)

# Accounting collections whose documents take attachments (the spec's /{Name}/{ID}/Attachments).
ATTACHMENT_PARENTS = (
    "Accounts",
    "BankTransactions",
    "BankTransfers",
    "Contacts",
    "CreditNotes",
    "Invoices",
    "ManualJournals",
    "PurchaseOrders",
    "Quotes",
    "Receipts",
    "RepeatingInvoices",
)

_BY_STORED: dict[str, Collection | ResourceSpec] = {c.stored: c for c in COLLECTIONS}
_BY_STORED.update({spec.name: spec for spec in PAYROLL_AU})


def collection_for(stored: str) -> Collection | ResourceSpec | None:
    """The collection stored under ``stored``, or None."""
    return _BY_STORED.get(stored)

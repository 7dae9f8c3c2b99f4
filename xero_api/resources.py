"""The resource table: what the tap and the target know about each Xero resource.

One :class:`Resource` row per collection: how the tap reads it (its :class:`ReadPlan`) and,
for writable rows, how the target writes it (its :class:`WriteRule`). Adding a read-only
endpoint is one row here and one schema in ``schemas/`` (see ``docs/development.md``).
Facts come from Xero's OpenAPI specs (``openapi/``) and Xero's developer documentation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum
from typing import Any

__all__ = [
    "ACCOUNTING",
    "APIS",
    "ASSETS",
    "ATTACHMENT_PARENTS",
    "FILES",
    "PAYROLL_NZ",
    "PAYROLL_UK",
    "PROJECTS",
    "REPORTS",
    "RESOURCES",
    "UK_STATUTORY_LEAVE_TYPES",
    "Api",
    "Content",
    "Each",
    "Key",
    "Lines",
    "Lookup",
    "Paging",
    "Parent",
    "Period",
    "ReadPlan",
    "Record",
    "Reference",
    "Replication",
    "Report",
    "Resource",
    "Settled",
    "StatusRoute",
    "Unique",
    "Unwritable",
    "Via",
    "WriteRule",
    "WritesAs",
    "bookmarked_on_parent",
    "lineage",
    "resource_for_stream",
    "settled_root",
]


# One record of a resource as Xero's JSON gives it (and as the tap emits it).
Record = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Api:
    """One of Xero's APIs: where it lives, the spec it is described by, who may use it.

    ``regions`` lists the organisation countries (Organisation ``Version``) the API serves;
    empty means every region. The tap asks each organisation's region once a run before
    reading an API with regions, and reads it only for organisations of those regions (see
    :attr:`regional`). ``optional`` APIs are not part of every subscription: an organisation
    without one answers 403, and the tap skips that tenant for the API's streams.
    ``dropped_warnings`` are texts of the warnings by which the API says it saved a document
    without part of what was sent: the target rejects such a write instead of counting it.
    """

    name: str
    title: str
    base_path: str
    spec_file: str
    regions: tuple[str, ...] = ()
    optional: bool = False
    dropped_warnings: tuple[str, ...] = ()

    @property
    def regional(self) -> bool:
        """Whether the API serves some regions only, so organisations are asked their region
        before it is read: Payroll UK and NZ share a base path and Xero answers with the
        models of the organisation's region; Payroll AU refuses other regions (403). An
        organisation of another region costs no call to the API."""
        return bool(self.regions)


ACCOUNTING = Api(
    name="accounting",
    title="Accounting",
    base_path="/api.xro/2.0",
    spec_file="xero_accounting.json",
    # An unknown account code is removed from a line (or an item's details) and the document
    # saved: "Account code '…' has been removed as it does not match a recognised account."
    dropped_warnings=("has been removed as it does not match a recognised account",),
)
PROJECTS = Api(
    name="projects",
    title="Projects",
    base_path="/projects.xro/2.0",
    spec_file="xero-projects.json",
    optional=True,
)
ASSETS = Api(
    name="assets",
    title="Fixed Assets",
    base_path="/assets.xro/1.0",
    spec_file="xero_assets.json",
    optional=True,
)
FILES = Api(
    name="files",
    title="Files",
    base_path="/files.xro/1.0",
    spec_file="xero_files.json",
    optional=True,
)
PAYROLL_AU = Api(
    name="payroll-au",
    title="Payroll AU",
    base_path="/payroll.xro/1.0",
    spec_file="xero-payroll-au.json",
    regions=("AU",),
    optional=True,
)
PAYROLL_UK = Api(
    name="payroll-uk",
    title="Payroll UK",
    base_path="/payroll.xro/2.0",
    spec_file="xero-payroll-uk.json",
    regions=("UK",),
    optional=True,
)
PAYROLL_NZ = Api(
    name="payroll-nz",
    title="Payroll NZ",
    base_path="/payroll.xro/2.0",
    spec_file="xero-payroll-nz.json",
    regions=("NZ",),
    optional=True,
)
APIS: tuple[Api, ...] = (ACCOUNTING, PROJECTS, ASSETS, PAYROLL_AU, PAYROLL_UK, PAYROLL_NZ, FILES)


@dataclass(frozen=True, slots=True, init=False)
class Key:
    """The fields whose values together identify a document: ``Key("Code")``, or a compound
    ``Key("InvoiceNumber", "Type", "Contact.ContactID")`` for documents Xero keeps no unique
    key for. Fields are dotted paths into the record (``Contact.ContactID``)."""

    fields: tuple[str, ...]

    def __init__(self, *fields: str) -> None:
        if not fields or not all(fields):
            raise ValueError(f"a key names one or more fields, not {fields!r}")
        object.__setattr__(self, "fields", fields)

    @classmethod
    def parse(cls, spec: str) -> Key:
        """A key written as the ``natural_keys`` setting writes it: ``A+B`` is compound."""
        return cls(*spec.split("+"))

    @property
    def compound(self) -> bool:
        """True for a key of more than one field (not unique in Xero: matched on our side)."""
        return len(self.fields) > 1

    @property
    def first(self) -> str:
        """The first field: the one Xero is asked about (the rest are compared on our side)."""
        return self.fields[0]

    def __str__(self) -> str:
        return "+".join(self.fields)


class Via(Enum):
    """How Xero finds documents by one field's value."""

    WHERE = "where"  # a batched ``where`` filter (Accounting); other APIs: read whole, once
    ID_LIST = "id_list"  # a comma list query parameter (``IDs=``, ``InvoiceNumbers=``)
    PATH = "path"  # ``GET /{path}/{value}``, one value a call
    QUERY = "query"  # a query parameter taking one value a call
    PARENT = "parent"  # a child collection, read under each parent (``/Projects/{id}/Tasks``)


@dataclass(frozen=True, kw_only=True)
class Lookup:
    """How the target looks documents up by ``field``; ``param`` names the query parameter
    for :attr:`Via.ID_LIST` and :attr:`Via.QUERY`."""

    field: str
    via: Via
    param: str = ""


@dataclass(frozen=True, kw_only=True)
class Reference:
    """A record field naming a document of another resource, resolved against the target
    organisation before sending.

    ``field`` holds the reference, in the record itself or, when ``in_list`` names a list
    (``LineItems``), in every element of that list. ``by`` is the key the value names the
    document by; ``None`` means the field holds an object identifying the document
    (``{"ContactID": ...}`` or ``{"Name": ...}``), matched by the stream's ID or natural keys.
    A compound ``by`` names the document within the record's other, already resolved, fields
    (a task by its name within the record's ``projectId``). With ``sends_as`` the value names
    the document (an asset type's name) and its ID is sent in that field instead. With
    ``options`` the field holds a list of ``{"Name": category, "Option": option}`` pairs
    naming a category by ``by`` and one of its options by name (a line's tracking). With
    ``option_name`` the value names an option of any of the stream's documents (its
    ``Options``) by name, and the option's ID is sent in ``sends_as`` (a timesheet line's
    tracking item).
    """

    field: str
    stream: str
    by: Key | None = None
    in_list: str = ""
    sends_as: str = ""
    options: bool = False
    option_name: bool = False


@dataclass(frozen=True, kw_only=True)
class StatusRoute:
    """A status Xero will not take on create, and the statuses that reach it: the document
    is created with the first and moved through the rest (``VOIDED`` is created
    ``AUTHORISED`` then voided); a status missing from the end (``PAID``) is reached by Xero
    itself once the payments are written."""

    status: str
    through: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Unique:
    """A field Xero keeps unique; ``of_type`` limits the rule to documents of that ``Type``
    (sales invoice numbers are unique, bill numbers repeat)."""

    field: str
    of_type: str = ""


@dataclass(frozen=True, kw_only=True)
class Unwritable:
    """Records the API cannot write as they are, rejected with ``reason`` as they arrive: those
    whose ``field`` (of any element of the list ``in_list``, where given) holds one of
    ``values`` (a Payroll AU leave request: the API makes none, and would save it as leave)."""

    field: str
    values: tuple[str, ...]
    reason: str
    in_list: str = ""

    def matches(self, record: Record) -> bool:
        """Whether ``record`` is such a record."""
        items = (record.get(self.in_list) or ()) if self.in_list else (record,)
        return any(isinstance(item, dict) and item.get(self.field) in self.values for item in items)


@dataclass(frozen=True, kw_only=True)
class WritesAs:
    """A record's field copied to the body field the API takes instead (a project's
    ``estimate.value`` is written as ``estimateAmount``)."""

    source: str
    field: str


@dataclass(frozen=True, kw_only=True)
class Lines:
    """A document's lines: the list ``field`` holding them, and the field holding each
    line's own ID (a line written to another organisation is sent without it; "" for lines
    without IDs, a Payroll AU timesheet's). ``slot`` names the fields placing a line in its
    document (a Payroll UK/NZ timesheet line's day, rate and tracking): a record's line and
    the document's with the same slot are one line, changed in place when lines are written
    one by one."""

    field: str
    id_field: str = ""
    slot: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WriteRule:
    """What the target needs to write a resource.

    ``natural_keys`` are alternatives tried in order when a record's Xero ID is not in the
    target organisation (a compound key: Xero is asked about its first field, the others are
    compared on our side). ``batch_size`` caps elements per request (1 where Xero takes a
    single object, which is then updated with ``POST /{path}/{id}``). Every writable
    Accounting resource is created with ``PUT`` (create only) and updated with ``POST``
    carrying its ID. ``repeats`` marks resources whose keys are content, not identity (two
    equal payments are two payments): records sharing a key are not one document.
    ``updatable=False`` marks documents Xero cannot edit once written (Payments);
    ``creatable=False`` marks resources the API cannot create (Projects' users): their
    records are only matched, so references to them resolve. ``unique`` lists the fields Xero
    keeps unique: a dry run predicts the refusal of a create that repeats one. ``lookups``
    say how to find documents by a field (any other field: a batched ``where`` filter).
    ``references`` are resolved before sending. ``lines`` names the document's lines (their
    echoed messages are read, their echo-only fields dropped). ``children`` are
    sub-collections written with ``PUT /{path}/{id}/{child}`` after the parent
    (TrackingCategory options).
    ``status_steps`` are the statuses reached in steps.

    The APIs beside Accounting write one bare object a request: ``create_method`` on the
    collection, ``update_method`` on ``/{path}/{id}`` (Projects: ``POST`` creates, ``PUT``
    updates, answering 204), or on the collection with the ID in the body when
    ``update_at_id`` is false (Fixed Assets). With ``bare_list`` (Payroll AU) the body is a
    list of up to ``batch_size`` elements instead, answered in the envelope, and a refused
    request saved none of them. ``fields`` are the fields their body carries.
    ``status_field`` names the status; with ``status_method`` ``PATCH`` a status step is
    ``PATCH /{path}/{id}`` with that field alone.

    Payroll UK and NZ answer the written object under ``answer_key`` (``employee``). Their
    timesheets are never rewritten whole: with ``lines_path`` an update adds, changes and
    deletes lines at ``/{path}/{id}/{lines_path}[/{line id}]``, and ``status_actions`` name
    the ``POST /{path}/{id}/{action}`` that moves a document to each status. ``statuses``
    lists the statuses a record may ask for (others are rejected before sending); the first
    is the one a document's lines are written in. ``unwritable`` records are rejected as they
    arrive, before matching.
    """

    natural_keys: tuple[Key, ...]
    batch_size: int = 50
    single_object: bool = False
    read_only: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    repeats: bool = False
    updatable: bool = True
    unique: tuple[Unique, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    references: tuple[Reference, ...] = ()
    lines: Lines | None = None
    children: tuple[str, ...] = ()
    status_steps: tuple[StatusRoute, ...] = ()
    creatable: bool = True
    create_method: str = "PUT"
    update_method: str = "POST"
    fields: tuple[str, ...] = ()
    writes_as: tuple[WritesAs, ...] = ()
    status_field: str = "Status"
    status_method: str = "POST"
    update_at_id: bool = True
    bare_list: bool = False
    answer_key: str = ""
    lines_path: str = ""
    status_actions: tuple[tuple[str, str], ...] = ()
    statuses: tuple[str, ...] = ()
    unwritable: tuple[Unwritable, ...] = ()

    def lookup(self, field: str) -> Lookup:
        """How documents are found by ``field``: the declared lookup, else ``where``."""
        for lookup in self.lookups:
            if lookup.field == field:
                return lookup
        return Lookup(field=field, via=Via.WHERE)

    def steps_to(self, status: str) -> tuple[str, ...] | None:
        """The statuses a document is moved through to reach ``status``, if it takes steps."""
        for route in self.status_steps:
            if route.status == status:
                return route.through
        return None


class Paging(Enum):
    """How a collection is paged."""

    NONE = "none"  # one call returns everything
    PAGE = "page"  # page + page size (up to the API's maximum) with a pagination object
    PAGE_FIXED = "page_fixed"  # page only, Xero fixes 100 per page
    OFFSET = "offset"  # Journals: offset=<last JournalNumber>, 100 per call


class Replication(Enum):
    """How the tap keeps a bookmark for a resource."""

    INCREMENTAL = "INCREMENTAL"
    FULL_TABLE = "FULL_TABLE"


@dataclass(frozen=True, kw_only=True)
class Settled:
    """When a parent's children stop changing: once its ``field`` holds one of ``values`` (a
    posted pay run). A bookmarked child asks a settled parent for its children only when its
    ``changed`` date is past the bookmark; a parent not settled yet (a draft) on every run."""

    changed: str
    field: str
    values: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Parent:
    """A child collection's parent: the parent's stream, and the field of a parent record
    that fills the ``{placeholder}`` of the child's path. A child record carries the parent's
    ID in ``child_field`` (default: the same name), which the tap fills where Xero leaves it
    out (an employee's tax, a pay run's payslips). ``only`` asks only the parents whose field
    has that value (a statutory leave of type Sick for its sick leave). ``params`` are query
    parameters taken from the parent record, (parameter, parent field); ``carries`` names
    further parent fields each child record carries (a leave's ID on its periods)."""

    stream: str
    field: str
    child_field: str = ""
    settled: Settled | None = None
    only: tuple[str, str] | None = None  # (field, value): only such parents have children
    params: tuple[tuple[str, str], ...] = ()
    carries: tuple[str, ...] = ()

    def has_children(self, parent: Record) -> bool:
        """Whether ``parent`` is asked for children: it has the ID, and ``only`` matches."""
        field_value = self.only
        return bool(parent.get(self.field)) and (
            field_value is None or parent.get(field_value[0]) == field_value[1]
        )

    @property
    def carried_as(self) -> str:
        """The child record's field holding the parent's ID."""
        return self.child_field or self.field

    def query(self, parent: Record) -> dict[str, str]:
        """The query parameters ``parent`` gives its children's request (``params``)."""
        return {param: str(parent[name]) for param, name in self.params if parent.get(name)}

    def carry(self, parent: Record, child: Record) -> None:
        """Put the parent's ID and ``carries`` fields in ``child`` where Xero leaves them out."""
        child.setdefault(self.carried_as, str(parent[self.field]))
        for name in self.carries:
            child.setdefault(name, parent.get(name))


@dataclass(frozen=True, kw_only=True)
class Each:
    """A query parameter the API answers one value of per call (Assets' ``status``, a UK
    employee's statutory leave balance's ``LeaveType``): the collection is read once per
    value, a child collection once per parent and value. ``field`` names the record field
    holding the value, which the tap fills where Xero leaves it out."""

    param: str
    values: tuple[str, ...]
    field: str = ""


@dataclass(frozen=True, kw_only=True)
class Content:
    """Where each record's file content is (a Files API file's ``Files/{Id}/Content``; the
    placeholder names a record field), and the record fields giving its size and file name."""

    path: str
    size_field: str
    name_field: str


@dataclass(frozen=True, kw_only=True)
class ReadPlan:
    """How the tap reads a collection.

    ``replication_key`` is the field bookmarked on (none: full table). ``modified_since``
    rows send ``If-Modified-Since`` and are read by time cursor, sorted by ``order``.
    ``params`` go with every request. ``max_page_size`` is the API's largest page, sent as
    ``page_size_param`` (``PAGE`` paging). A child collection names its ``parent`` and is
    read once per parent record; ``each`` reads it once per parameter value (a child: once
    per parent and value); ``nested`` names a list inside each answered element that holds
    the records (a pay run's ``Payslips``), and such records carry their parent's field.
    With ``content`` each record is a file whose content the tap can download (its records
    carry ``SHA256`` and ``Path``).
    A child with a ``replication_key`` is bookmarked on its root ancestor's change date where
    the root's link says which field (:class:`Settled`): the tap puts it in that field of each
    record, with the root's ID; on its parent's own change date where the link ``carries`` it
    (a leave's periods: only leave changed since is asked); otherwise on a change date of its
    own, every parent asked.
    ``by_page_number`` rows (Xero fixes their page at 100) keep one If-Modified-Since for the
    whole read and page by number, verified by re-reading (docs/tap.md, Bookmarks).
    ``path`` is where the collection is read when that is not where it is written (Payroll
    AU's leave applications: ``LeaveApplications/v2`` lists employees' leave requests too).
    """

    paging: Paging = Paging.NONE
    replication_key: str | None = None
    modified_since: bool = False
    order: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    max_page_size: int = 1000
    page_size_param: str = "pageSize"
    parent: Parent | None = None
    each: Each | None = None
    nested: str | None = None
    content: Content | None = None
    by_page_number: bool = False
    path: str = ""

    def __post_init__(self) -> None:
        if self.by_page_number and not self.modified_since:
            raise ValueError("paging by number keeps one If-Modified-Since: set modified_since")
        if self.paging is Paging.OFFSET and not self.replication_key:
            raise ValueError("offset paging continues from the replication key: name one")

    @property
    def replication(self) -> Replication:
        """INCREMENTAL when Xero gives a field to bookmark on, else FULL_TABLE."""
        return Replication.INCREMENTAL if self.replication_key else Replication.FULL_TABLE

    @property
    def offset_field(self) -> str:
        """The field whose last value is the next ``offset`` (``OFFSET`` paging)."""
        return self.replication_key or ""


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One Xero collection and how to read (and maybe write) it.

    ``path`` is relative to the API's base path. ``envelope`` is the key of the list in the
    answer; empty when the answer is the list itself, or a single settings object (then
    ``key`` is ``None`` too: one record per tenant). ``key`` identifies a record; a compound
    key where a record has no ID of its own. ``id_field`` is the one field holding a record's
    Xero ID ("" for a compound key or none).
    """

    stream: str
    path: str
    envelope: str
    key: Key | None
    scope: str = "accounting.settings.read"
    api: Api = ACCOUNTING
    read: ReadPlan = ReadPlan()
    write: WriteRule | None = None
    description: str = ""
    id_field: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        single = self.key is not None and not self.key.compound
        object.__setattr__(self, "id_field", self.key.first if self.key and single else "")

    @property
    def replication(self) -> Replication:
        """INCREMENTAL when Xero gives a field to bookmark on, else FULL_TABLE."""
        return self.read.replication

    @property
    def reference_data(self) -> bool:
        """Settings-like data, refreshed on its own schedule beside webhook-driven streams:
        the Accounting API's full-table rows (tax rates, currencies, themes...) and the rest
        of its settings scope (accounts, items, users)."""
        full_table = self.replication is Replication.FULL_TABLE and self.api is ACCOUNTING
        return full_table or self.scope == "accounting.settings.read"

    @property
    def noun(self) -> str:
        """What one record is called in messages ("invoice", "project task")."""
        if self.api is ACCOUNTING:
            return self.envelope[:-1]
        return self.stream.replace("_", " ").removesuffix("s")

    def records_in(self, body: Any) -> list[Record]:
        """The records of one answer: under the envelope key, or the answer itself (a list,
        or a single settings object), and inside each element's ``nested`` list if the read
        plan says. TypeError when the answer holds no list of records."""
        if self.envelope:
            body = body.get(self.envelope) if isinstance(body, dict) else None
            body = body if body is not None else []
        records = body if isinstance(body, list) else [body] if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise TypeError(f"{self.path}: the answer holds no list of records")
        if self.read.nested:
            records = [
                item
                for element in records
                if isinstance(element, dict)
                for item in element.get(self.read.nested) or ()
            ]
        return [record for record in records if isinstance(record, dict)]

    def child_path(self, parent: Record) -> str:
        """The path of this child collection under one ``parent`` record: the parent's fields
        fill the placeholders of their names (the employee's ID a pattern carries), and its ID
        the first one left."""
        assert self.read.parent is not None
        named = {name: value for name, value in parent.items() if isinstance(value, str)}
        return self.request_path(str(parent[self.read.parent.field]), **named)

    def request_path(self, parent_id: str | None = None, **ids: str) -> str:
        """The path to hand the client to read the collection: Accounting paths as they are
        (the client adds ``/api.xro/2.0``), other APIs' from the root; ``parent_id`` fills a
        child's ``{placeholder}`` whatever its name, ``ids`` fill placeholders by name, in any
        case (``employeeID`` fills ``{EmployeeID}``)."""
        return self._client_path(self.read.path or self.path, parent_id, ids)

    def write_path(self, **ids: str) -> str:
        """The path to create records on, as :meth:`request_path` gives the read's."""
        return self._client_path(self.path, None, ids)

    def _client_path(self, template: str, parent_id: str | None, ids: Mapping[str, str]) -> str:
        named = {name.lower(): value for name, value in ids.items()}
        path = re.sub(r"\{([^}]+)\}", lambda m: named.get(m[1].lower(), m[0]), template)
        if parent_id is not None:
            path = re.sub(r"\{[^}]+\}", parent_id, path, count=1)
        return path if self.api is ACCOUNTING else f"{self.api.base_path}/{path}"


_UPDATED = "UpdatedDateUTC"
_ASC = "UpdatedDateUTC ASC"
_UNITDP = ("unitdp", "4")
_ARCHIVED = ("includeArchived", "true")


def _since(
    paging: Paging = Paging.NONE,
    *params: tuple[str, str],
    order: bool = True,
    by_page_number: bool = False,
) -> ReadPlan:
    """Read by If-Modified-Since on ``UpdatedDateUTC``, oldest first."""
    return ReadPlan(
        paging=paging,
        replication_key=_UPDATED,
        modified_since=True,
        order=_ASC if order else None,
        params=params,
        by_page_number=by_page_number,
    )


# Payroll AU's collections: 100 a page, and many records may share one second (a pay period's
# timesheets), which would make the time cursor re-read most of each page.
_PAYROLL_AU_READ = _since(Paging.PAGE_FIXED, by_page_number=True)
# A pay run's payslips are bookmarked on its change date, carried in each payslip: a run asks
# only pay runs changed since (posted: their payslips are final) and drafts.
_PAY_RUN_UPDATED = "PayRunUpdatedDateUTC"
_PAY_RUN_AU = Parent(
    stream="payroll_pay_runs",
    field="PayRunID",
    settled=Settled(changed=_UPDATED, field="PayRunStatus", values=("POSTED",)),
)


_CONTACT_REF = Reference(field="Contact", stream="contacts")
_PROJECT_REF = Reference(field="projectId", stream="projects", by=Key("projectId"))
# How Projects writes: one object a request, POST creates, PUT /{id} updates.
_PROJECTS_WRITE: dict[str, Any] = {
    "batch_size": 1,
    "single_object": True,
    "create_method": "POST",
    "update_method": "PUT",
}
# Projects API (projects.xro/2.0): page + pageSize (1-500, default 50), `pagination` and
# `items`; no If-Modified-Since and no change date on projects, tasks or time entries.
_PROJECTS_READ = ReadPlan(paging=Paging.PAGE, max_page_size=500)
_UNDER_PROJECT = ReadPlan(
    paging=Paging.PAGE, max_page_size=500, parent=Parent(stream="projects", field="projectId")
)
_BY_PROJECT = (Lookup(field="projectId", via=Via.PARENT),)


# Payroll UK and NZ (payroll.xro/2.0): `page` of 100 with a `pagination` object, and no
# If-Modified-Since or change filter, so records with an `updatedDateUTC` are kept from that
# bookmark on every page (the way `files` is read). A row: stream name (after
# `payroll_{region}_`), path, envelope, key, scope (`payroll.{scope}.read`), read plan.
_V2Row = tuple[str, str, str, Key | None, str, ReadPlan]
_V2_PAGED = ReadPlan(paging=Paging.PAGE_FIXED)
_V2_CHANGED = ReadPlan(paging=Paging.PAGE_FIXED, replication_key="updatedDateUTC")
_V2_SETTINGS_OBJECT = ReadPlan()


def _v2_pay(region: str) -> list[_V2Row]:
    """Employees, timesheets, pay runs and their payslips: a pay run's payslips come with the
    pay run (GET /PayRuns/{id}, one call per pay run), bookmarked on its posting: a run asks
    only pay runs posted since, and drafts."""
    pay_run = Parent(
        stream=f"payroll_{region}_pay_runs",
        field="payRunID",
        settled=Settled(changed="postedDateTime", field="payRunStatus", values=("Posted",)),
    )
    payslips = ReadPlan(parent=pay_run, nested="paySlips", replication_key="payRunPostedDateTime")
    return [
        ("employees", "Employees", "employees", Key("employeeID"), "employees", _V2_CHANGED),
        ("timesheets", "Timesheets", "timesheets", Key("timesheetID"), "timesheets", _V2_CHANGED),
        ("pay_runs", "PayRuns", "payRuns", Key("payRunID"), "payruns", _V2_PAGED),
        ("payslips", "PayRuns/{PayRunID}", "payRun", Key("paySlipID"), "payruns", payslips),
    ]


def _v2_settings(region: str) -> list[_V2Row]:
    """Pay items, calendars and settings, the region's own ones after the shared ones."""
    rows: list[_V2Row] = [
        ("deductions", "Deductions", "deductions", Key("deductionId"), "settings", _V2_PAGED),
        (
            "earnings_rates",
            "EarningsRates",
            "earningsRates",
            Key("earningsRateID"),
            "settings",
            _V2_PAGED,
        ),
        ("leave_types", "LeaveTypes", "leaveTypes", Key("leaveTypeID"), "settings", _V2_CHANGED),
        (
            "reimbursements",
            "Reimbursements",
            "reimbursements",
            Key("reimbursementID"),
            "settings",
            _V2_PAGED,
        ),
        (
            "pay_run_calendars",
            "PayRunCalendars",
            "payRunCalendars",
            Key("payrollCalendarID"),
            "settings",
            _V2_CHANGED,
        ),
        ("settings", "Settings", "settings", None, "settings", _V2_SETTINGS_OBJECT),
    ]
    if region == "uk":
        return [
            *rows,
            ("benefits", "Benefits", "benefits", Key("id"), "settings", _V2_PAGED),
            (
                "earnings_orders",
                "EarningsOrders",
                "statutoryDeductions",
                Key("id"),
                "settings",
                _V2_PAGED,
            ),
            (
                "tracking_categories",
                "Settings/trackingCategories",
                "trackingCategories",
                None,
                "settings",
                _V2_SETTINGS_OBJECT,
            ),
        ]
    return [
        *rows,
        ("superannuations", "Superannuations", "benefits", Key("id"), "settings", _V2_PAGED),
        (
            "statutory_deductions",
            "StatutoryDeductions",
            "statutoryDeductions",
            Key("id"),
            "settings",
            _V2_PAGED,
        ),
        (
            "tracking_categories",
            "Settings/TrackingCategories",
            "trackingCategories",
            None,
            "settings",
            _V2_SETTINGS_OBJECT,
        ),
    ]


# The Payroll UK spec's statutory leave types (``EmployeeStatutoryLeaveSummary.type``).
UK_STATUTORY_LEAVE_TYPES = (
    "Sick",
    "Adoption",
    "Maternity",
    "Paternity",
    "Sharedparental",
    "Bereavement",
    "NeonatalCare",
    "BereavementNire",
)


def _v2_per_employee(region: str) -> list[_V2Row]:
    """An employee's records, read per employee (GET /Employees/{id}/...), every employee on
    every run: nothing says an employee's ``updatedDateUTC`` moves when these change. Leave
    has a change date of its own, so only leave changed since its bookmark is kept, and only
    such leave is asked for its periods."""
    each = ReadPlan(parent=Parent(stream=f"payroll_{region}_employees", field="employeeID"))
    paged = ReadPlan(paging=Paging.PAGE_FIXED, parent=each.parent)
    own_date = ReadPlan(parent=each.parent, replication_key="updatedDateUTC")
    # A leave's pay periods, asked for its dates (Xero answers each pay period they touch
    # once), only for leave changed since the bookmark: the periods carry its change date.
    of_leave = Parent(
        stream=f"payroll_{region}_employee_leave",
        field="employeeID",
        carries=("leaveID", "updatedDateUTC"),
        params=(("startDate", "startDate"), ("endDate", "endDate")),
    )
    at = "Employees/{EmployeeID}/"
    rows: list[_V2Row] = [
        ("employee_leave", f"{at}Leave", "leave", Key("leaveID"), "employees", own_date),
        (
            "employee_leave_periods",
            f"{at}LeavePeriods",
            "periods",
            Key("leaveID", "periodStartDate"),
            "employees",
            ReadPlan(parent=of_leave, replication_key="updatedDateUTC"),
        ),
        (
            "employee_leave_balances",
            f"{at}LeaveBalances",
            "leaveBalances",
            Key("employeeID", "leaveTypeID"),
            "employees",
            each,
        ),
        (
            "employee_leave_types",
            f"{at}LeaveTypes",
            "leaveTypes",
            Key("employeeID", "leaveTypeID"),
            "employees",
            each,
        ),
        (
            "employee_salary_and_wages",
            f"{at}SalaryAndWages",
            "salaryAndWages",
            Key("salaryAndWagesID"),
            "employees",
            paged,
        ),
        ("employee_tax", f"{at}Tax", "employeeTax", Key("employeeID"), "employees", each),
        (
            "employee_pay_templates",
            f"{at}PayTemplates",
            "payTemplate",
            Key("employeeID"),
            "employees",
            each,
        ),
        (
            "employee_payment_methods",
            f"{at}PaymentMethods",
            "paymentMethod",
            Key("employeeID"),
            "employees",
            each,
        ),
    ]
    if region == "uk":
        return [
            *rows,
            (
                "employee_opening_balances",
                f"{at}ukopeningbalances",
                "openingBalances",
                Key("employeeID"),
                "employees",
                each,
            ),
            (
                "statutory_leaves",
                "StatutoryLeaves/Summary/{EmployeeID}",
                "statutoryLeaves",
                Key("statutoryLeaveID"),
                "settings",
                each,
            ),
            # Each sick leave of the summary in full (one call each): its work pattern, notice
            # and entitlement.
            (
                "statutory_sick_leave",
                "StatutoryLeaves/Sick/{StatutorySickLeaveID}",
                "statutorySickLeave",
                Key("statutoryLeaveID"),
                "settings",
                ReadPlan(
                    parent=Parent(
                        stream="payroll_uk_statutory_leaves",
                        field="statutoryLeaveID",
                        only=("type", "Sick"),
                    )
                ),
            ),
            # The balance of each statutory leave type (what is left of the statutory
            # entitlement, in hours): one call per employee and type.
            (
                "employee_statutory_leave_balances",
                "Employees/{EmployeeID}/StatutoryLeaveBalance",
                "leaveBalance",
                Key("employeeID", "leaveType"),
                "employees",
                ReadPlan(
                    parent=each.parent,
                    each=Each(
                        param="LeaveType", values=UK_STATUTORY_LEAVE_TYPES, field="leaveType"
                    ),
                ),
            ),
        ]
    return [
        *rows,
        (
            "employee_opening_balances",
            f"{at}OpeningBalances",
            "openingBalances",
            Key("employeeID", "periodEndDate"),
            "employees",
            each,
        ),
        (
            "employee_working_patterns",
            f"{at}Working-Patterns",
            "payeeWorkingPatterns",
            Key("payeeWorkingPatternID"),
            "employees",
            each,
        ),
        # Each pattern of that list in full (one call each): its working weeks, the hours of
        # each day, which the list leaves out.
        (
            "employee_working_pattern_details",
            f"{at}Working-Patterns/{{EmployeeWorkingPatternID}}",
            "payeeWorkingPattern",
            Key("payeeWorkingPatternID"),
            "employees",
            ReadPlan(
                parent=Parent(
                    stream="payroll_nz_employee_working_patterns",
                    field="payeeWorkingPatternID",
                    carries=("employeeID",),
                )
            ),
        ),
    ]


def _payroll_v2(api: Api) -> tuple[Resource, ...]:
    """The streams of Payroll UK or NZ, in the order of the tables above."""
    region = api.regions[0].lower()
    rows = [*_v2_pay(region), *_v2_settings(region), *_v2_per_employee(region)]
    writes = _payroll_v2_writes(region)
    return tuple(
        Resource(
            stream=f"payroll_{region}_{name}",
            path=path,
            envelope=envelope,
            key=key,
            scope=f"payroll.{scope}.read",
            api=api,
            read=plan,
            write=writes.get(name),
        )
        for name, path, envelope, key, scope, plan in rows
    )


def _payroll_v2_writes(region: str) -> dict[str, WriteRule]:
    """How target-xero writes Payroll UK or NZ: one object a request, ``POST`` on the
    collection creates and ``PUT`` at the ID updates, the object answered under its name.
    Timesheets change line by line (there is no timesheet update), employees are named by ID
    or e-mail (the specs give them no number); calendars, earnings rates and leave types are
    only matched, by name, so records can name them."""
    stream = f"payroll_{region}_{{}}".format
    one: dict[str, Any] = {
        "batch_size": 1,
        "single_object": True,
        "create_method": "POST",
        "update_method": "PUT",
    }
    matched = WriteRule(natural_keys=(Key("name"),), **one, creatable=False, updatable=False)
    by_name = {
        "calendar": ("payrollCalendar", "pay_run_calendars"),
        "rate": ("earningsRate", "earnings_rates"),
        "leave type": ("leaveType", "leave_types"),
    }

    def named(what: str, in_list: str = "") -> tuple[Reference, ...]:
        field, name = by_name[what]
        return (
            Reference(
                in_list=in_list,
                field=f"{field}Name",
                stream=stream(name),
                by=Key("name"),
                sends_as=f"{field}ID",
            ),
            Reference(
                in_list=in_list, field=f"{field}ID", stream=stream(name), by=Key(f"{field}ID")
            ),
        )

    employee = (
        Reference(
            field="employeeEmail",
            stream=stream("employees"),
            by=Key("email"),
            sends_as="employeeID",
        ),
        Reference(field="employeeID", stream=stream("employees"), by=Key("employeeID")),
    )
    own = ("niCategory", "nationalInsuranceNumber", "isOffPayrollWorker")
    if region == "nz":
        own = ("jobTitle", "engagementType", "fixedTermEndDate")
    return {
        "pay_run_calendars": matched,
        "earnings_rates": matched,
        "leave_types": matched,
        "employees": WriteRule(
            natural_keys=(Key("email"), Key("firstName", "lastName", "dateOfBirth")),
            **one,
            answer_key="employee",
            fields=(
                "title",
                "firstName",
                "lastName",
                "dateOfBirth",
                "address",
                "email",
                "gender",
                "phoneNumber",
                "startDate",
                "endDate",
                "payrollCalendarID",
                *own,
            ),
            depends_on=(stream("pay_run_calendars"),),
            references=named("calendar"),
        ),
        "timesheets": WriteRule(
            natural_keys=(Key("employeeID", "startDate", "endDate"),),
            **one,
            answer_key="timesheet",
            fields=("payrollCalendarID", "employeeID", "startDate", "endDate", "timesheetLines"),
            lines=Lines(
                field="timesheetLines",
                id_field="timesheetLineID",
                slot=("date", "earningsRateID", "trackingItemID"),
            ),
            lines_path="Lines",
            status_field="status",
            statuses=("Draft", "Approved"),
            status_steps=_steps(("Approved", ("Draft", "Approved"))),
            status_actions=(("Approved", "Approve"), ("Draft", "RevertToDraft")),
            depends_on=(
                stream("employees"),
                stream("pay_run_calendars"),
                stream("earnings_rates"),
                "tracking_categories",
            ),
            references=(
                *employee,
                *named("calendar"),
                *named("rate", "timesheetLines"),
                Reference(
                    in_list="timesheetLines",
                    field="trackingItemName",
                    stream="tracking_categories",
                    option_name=True,
                    sends_as="trackingItemID",
                ),
            ),
        ),
        # One employee's leave of one type over the same days is one leave.
        "employee_leave": WriteRule(
            natural_keys=(Key("employeeID", "leaveTypeID", "startDate", "endDate"),),
            **one,
            answer_key="leave",
            fields=("leaveTypeID", "description", "startDate", "endDate"),
            lookups=(Lookup(field="employeeID", via=Via.PARENT),),
            depends_on=(stream("employees"), stream("leave_types")),
            references=(*employee, *named("leave type")),
        ),
    }


_LINE_ITEMS = Lines(field="LineItems", id_field="LineItemID")
_JOURNAL_LINES = Lines(field="JournalLines", id_field="JournalLineID")


def _line_refs(lines: Lines) -> tuple[Reference, ...]:
    """References every document line can carry: account, item and tracking."""
    return (
        Reference(in_list=lines.field, field="AccountCode", stream="accounts", by=Key("Code")),
        Reference(in_list=lines.field, field="AccountID", stream="accounts", by=Key("AccountID")),
        Reference(in_list=lines.field, field="ItemCode", stream="items", by=Key("Code")),
        Reference(
            in_list=lines.field,
            field="Tracking",
            stream="tracking_categories",
            by=Key("Name"),
            options=True,
        ),
    )


def _steps(*routes: tuple[str, tuple[str, ...]]) -> tuple[StatusRoute, ...]:
    return tuple(StatusRoute(status=status, through=through) for status, through in routes)


# Statuses of invoices and credit notes that Xero sets only on an existing document.
_DOC_STEPS = _steps(
    ("PAID", ("AUTHORISED",)),
    ("VOIDED", ("AUTHORISED", "VOIDED")),
    ("DELETED", ("DRAFT", "DELETED")),
)
_DOC_DEPENDS = ("contacts", "accounts", "items", "tracking_categories")

_DOC_READ_ONLY = (
    "SubTotal",
    "TotalTax",
    "Total",
    "AmountDue",
    "AmountPaid",
    "AmountCredited",
    "UpdatedDateUTC",
    "UpdatedDateUTCString",
    "FullyPaidOnDate",
    "HasAttachments",
    "HasErrors",
    "Payments",
    "CreditNotes",
    "Prepayments",
    "Overpayments",
    "Allocations",
    "StatusAttributeString",
    "ValidationErrors",
    "Warnings",
    "DateString",
    "DueDateString",
    "IsDiscounted",
)
_ASSET_READ_ONLY = (
    "bookDepreciationSetting.depreciableObjectId",
    "bookDepreciationSetting.depreciableObjectType",
    "bookDepreciationSetting.bookEffectiveDateOfChangeId",
)

# How Payroll AU writes: a list of elements a request, POST on the collection creates them
# and updates those carrying their ID.
_PAYROLL_AU_WRITE: dict[str, Any] = {
    "bare_list": True,
    "create_method": "POST",
    "update_method": "POST",
    "update_at_id": False,
}
# Payroll settings the target does not write: matched by name so records can name them.
_PAYROLL_MATCHED_BY_NAME = WriteRule(
    natural_keys=(Key("Name"),), **_PAYROLL_AU_WRITE, creatable=False, updatable=False
)
# An employee named by ID, or by e-mail address (sent as the employee's ID).
_EMPLOYEE_REFS = (
    Reference(
        field="EmployeeEmail", stream="payroll_employees", by=Key("Email"), sends_as="EmployeeID"
    ),
    Reference(field="EmployeeID", stream="payroll_employees", by=Key("EmployeeID")),
)
_EMPLOYEE_FIELDS = (
    "FirstName",
    "LastName",
    "DateOfBirth",
    "Email",
    "Title",
    "MiddleNames",
    "Gender",
    "Phone",
    "Mobile",
    "TwitterUserName",
    "IsAuthorisedToApproveLeave",
    "IsAuthorisedToApproveTimesheets",
    "JobTitle",
    "Classification",
    "EmployeeGroupName",
    "StartDate",
    "TerminationDate",
    "TerminationReason",
    "HomeAddress",
    "OrdinaryEarningsRateID",
    "PayrollCalendarID",
    "IncomeType",
    "EmploymentType",
    "CountryOfResidence",
)

RESOURCES: tuple[Resource, ...] = (
    Resource(
        stream="accounts",
        path="Accounts",
        envelope="Accounts",
        key=Key("AccountID"),
        read=_since(),
        write=WriteRule(
            natural_keys=(Key("Code"), Key("Name")),
            batch_size=1,
            single_object=True,
            unique=(Unique(field="Code"), Unique(field="Name")),
            read_only=(
                "UpdatedDateUTC",
                "HasAttachments",
                "ReportingCodeName",
                "Class",
                "SystemAccount",
                "ValidationErrors",
            ),
        ),
    ),
    Resource(
        stream="bank_transactions",
        path="BankTransactions",
        envelope="BankTransactions",
        key=Key("BankTransactionID"),
        scope="accounting.banktransactions.read",
        read=_since(Paging.PAGE, _UNITDP),
        # No unique key: matched on content (contact, date, type, bank account, total).
        write=WriteRule(
            natural_keys=(
                Key("Contact.ContactID", "Date", "Type", "BankAccount.AccountID", "Total"),
            ),
            read_only=(*_DOC_READ_ONLY, "PrepaymentID", "OverpaymentID"),
            repeats=True,
            depends_on=_DOC_DEPENDS,
            lines=_LINE_ITEMS,
            references=(
                _CONTACT_REF,
                Reference(field="BankAccount", stream="accounts"),
                *_line_refs(_LINE_ITEMS),
            ),
            status_steps=_steps(("DELETED", ("AUTHORISED", "DELETED"))),
        ),
    ),
    Resource(
        stream="bank_transfers",
        path="BankTransfers",
        envelope="BankTransfers",
        key=Key("BankTransferID"),
        scope="accounting.banktransactions.read",
        read=ReadPlan(
            replication_key="CreatedDateUTC",
            modified_since=True,
            order="CreatedDateUTC ASC",
            params=(("includeDeleted", "true"),),
        ),
    ),
    Resource(
        stream="batch_payments",
        path="BatchPayments",
        envelope="BatchPayments",
        key=Key("BatchPaymentID"),
        scope="accounting.payments.read",
        read=_since(),
    ),
    Resource(
        stream="branding_themes",
        path="BrandingThemes",
        envelope="BrandingThemes",
        key=Key("BrandingThemeID"),
    ),
    Resource(
        stream="budgets",
        path="Budgets",
        envelope="Budgets",
        key=Key("BudgetID"),
        scope="accounting.budgets.read",
    ),
    Resource(
        stream="contacts",
        path="Contacts",
        envelope="Contacts",
        key=Key("ContactID"),
        scope="accounting.contacts.read",
        read=_since(Paging.PAGE, _ARCHIVED),
        write=WriteRule(
            natural_keys=(Key("ContactNumber"), Key("Name")),
            lookups=(Lookup(field="ContactID", via=Via.ID_LIST, param="IDs"),),
            unique=(
                Unique(field="Name"),
                Unique(field="ContactNumber"),
                Unique(field="AccountNumber"),
            ),
            read_only=(
                "UpdatedDateUTC",
                "HasAttachments",
                "HasValidationErrors",
                "Balances",
                "IsSupplier",
                "IsCustomer",
                "ValidationErrors",
                "StatusAttributeString",
                "ContactGroups",
                "BatchPayments",
            ),
        ),
    ),
    Resource(
        stream="contact_groups",
        path="ContactGroups",
        envelope="ContactGroups",
        key=Key("ContactGroupID"),
        scope="accounting.contacts.read",
    ),
    Resource(
        stream="credit_notes",
        path="CreditNotes",
        envelope="CreditNotes",
        key=Key("CreditNoteID"),
        scope="accounting.invoices.read",
        read=_since(Paging.PAGE, _UNITDP),
        write=WriteRule(
            natural_keys=(Key("CreditNoteNumber", "Type", "Contact.ContactID"),),
            unique=(Unique(field="CreditNoteNumber", of_type="ACCRECCREDIT"),),
            read_only=(
                *_DOC_READ_ONLY,
                "RemainingCredit",
                "AppliedAmount",
                "CISDeduction",
                "CISRate",
                "SentToContact",
            ),
            depends_on=_DOC_DEPENDS,
            lines=_LINE_ITEMS,
            references=(_CONTACT_REF, *_line_refs(_LINE_ITEMS)),
            status_steps=_DOC_STEPS,
        ),
    ),
    Resource(stream="currencies", path="Currencies", envelope="Currencies", key=Key("Code")),
    Resource(
        stream="expense_claims",
        path="ExpenseClaims",
        envelope="ExpenseClaims",
        key=Key("ExpenseClaimID"),
        scope="accounting.transactions.read",
        read=_since(),
    ),
    Resource(
        stream="invoices",
        path="Invoices",
        envelope="Invoices",
        key=Key("InvoiceID"),
        scope="accounting.invoices.read",
        read=_since(Paging.PAGE, _UNITDP),
        # ACCPAY numbers repeat across suppliers, hence type and contact in the key.
        write=WriteRule(
            natural_keys=(Key("InvoiceNumber", "Type", "Contact.ContactID"),),
            unique=(Unique(field="InvoiceNumber", of_type="ACCREC"),),
            read_only=(*_DOC_READ_ONLY, "TotalDiscount", "CISDeduction", "CISRate"),
            depends_on=_DOC_DEPENDS,
            lookups=(
                Lookup(field="InvoiceID", via=Via.ID_LIST, param="IDs"),
                Lookup(field="InvoiceNumber", via=Via.ID_LIST, param="InvoiceNumbers"),
            ),
            lines=_LINE_ITEMS,
            references=(_CONTACT_REF, *_line_refs(_LINE_ITEMS)),
            status_steps=_DOC_STEPS,
        ),
    ),
    Resource(
        stream="items",
        path="Items",
        envelope="Items",
        key=Key("ItemID"),
        read=_since(Paging.NONE, _UNITDP),
        write=WriteRule(
            natural_keys=(Key("Code"),),
            unique=(Unique(field="Code"),),
            read_only=(
                "UpdatedDateUTC",
                "ValidationErrors",
                "StatusAttributeString",
                "TotalCostPool",
                "QuantityOnHand",
                "IsTrackedAsInventory",
            ),
            depends_on=("accounts",),
        ),
    ),
    Resource(
        stream="journals",
        path="Journals",
        envelope="Journals",
        key=Key("JournalID"),
        scope="accounting.journals.read",
        read=ReadPlan(paging=Paging.OFFSET, replication_key="JournalNumber"),
    ),
    Resource(
        stream="linked_transactions",
        path="LinkedTransactions",
        envelope="LinkedTransactions",
        key=Key("LinkedTransactionID"),
        scope="accounting.invoices.read",
        # No If-Modified-Since: every page is read and filtered on the bookmark.
        read=ReadPlan(paging=Paging.PAGE_FIXED, replication_key=_UPDATED),
    ),
    Resource(
        stream="manual_journals",
        path="ManualJournals",
        envelope="ManualJournals",
        key=Key("ManualJournalID"),
        scope="accounting.manualjournals.read",
        # No `order`: Xero has ignored paging on ordered ManualJournals requests; its default
        # order is already UpdatedDateUTC ASC.
        read=_since(Paging.PAGE, order=False),
        write=WriteRule(
            natural_keys=(Key("Narration", "Date"),),
            repeats=True,
            read_only=(
                "UpdatedDateUTC",
                "HasAttachments",
                "ValidationErrors",
                "StatusAttributeString",
                "Warnings",
                "Attachments",
            ),
            depends_on=("accounts", "tracking_categories"),
            lines=_JOURNAL_LINES,
            references=_line_refs(_JOURNAL_LINES),
            status_steps=_steps(
                ("VOIDED", ("POSTED", "VOIDED")),
                ("DELETED", ("DRAFT", "DELETED")),
            ),
        ),
    ),
    Resource(
        stream="organisations",
        path="Organisation",
        envelope="Organisations",
        key=Key("OrganisationID"),
    ),
    Resource(
        stream="overpayments",
        path="Overpayments",
        envelope="Overpayments",
        key=Key("OverpaymentID"),
        scope="accounting.payments.read",
        read=_since(Paging.PAGE, _UNITDP),
    ),
    Resource(
        stream="payments",
        path="Payments",
        envelope="Payments",
        key=Key("PaymentID"),
        scope="accounting.payments.read",
        read=_since(Paging.PAGE),
        # No unique key and no edits: matched on content (document, date, amount).
        write=WriteRule(
            natural_keys=(
                Key("Invoice.InvoiceID", "Date", "Amount"),
                Key("CreditNote.CreditNoteID", "Date", "Amount"),
            ),
            repeats=True,
            updatable=False,
            references=(
                Reference(field="Invoice", stream="invoices"),
                Reference(field="CreditNote", stream="credit_notes"),
                Reference(field="Account", stream="accounts"),
            ),
            status_steps=_steps(("DELETED", ("AUTHORISED", "DELETED"))),
            read_only=(
                "UpdatedDateUTC",
                "HasAccount",
                "HasValidationErrors",
                "ValidationErrors",
                "StatusAttributeString",
                "BankAmount",
                "PaymentType",
                "BatchPaymentID",
                "BatchPayment",
                "UpdatedDateUTCString",
                "Warnings",
            ),
            depends_on=("invoices", "credit_notes", "accounts"),
        ),
    ),
    Resource(
        stream="payment_services",
        path="PaymentServices",
        envelope="PaymentServices",
        key=Key("PaymentServiceID"),
        scope="paymentservices",
    ),
    Resource(
        stream="prepayments",
        path="Prepayments",
        envelope="Prepayments",
        key=Key("PrepaymentID"),
        scope="accounting.payments.read",
        read=_since(Paging.PAGE, _UNITDP),
    ),
    Resource(
        stream="purchase_orders",
        path="PurchaseOrders",
        envelope="PurchaseOrders",
        key=Key("PurchaseOrderID"),
        scope="accounting.invoices.read",
        read=_since(Paging.PAGE),
        write=WriteRule(
            natural_keys=(Key("PurchaseOrderNumber"),),
            unique=(Unique(field="PurchaseOrderNumber"),),
            read_only=(*_DOC_READ_ONLY, "TotalDiscount", "Type"),
            depends_on=_DOC_DEPENDS,
            lookups=(
                Lookup(field="PurchaseOrderID", via=Via.PATH),
                Lookup(field="PurchaseOrderNumber", via=Via.PATH),
            ),
            lines=_LINE_ITEMS,
            references=(_CONTACT_REF, *_line_refs(_LINE_ITEMS)),
            status_steps=_steps(
                ("BILLED", ("AUTHORISED", "BILLED")),
                ("DELETED", ("DRAFT", "DELETED")),
            ),
        ),
    ),
    Resource(
        stream="quotes",
        path="Quotes",
        envelope="Quotes",
        key=Key("QuoteID"),
        scope="accounting.invoices.read",
        read=_since(Paging.PAGE_FIXED),
        write=WriteRule(
            natural_keys=(Key("QuoteNumber"),),
            unique=(Unique(field="QuoteNumber"),),
            read_only=(*_DOC_READ_ONLY, "TotalDiscount"),
            depends_on=_DOC_DEPENDS,
            lookups=(
                Lookup(field="QuoteID", via=Via.PATH),
                Lookup(field="QuoteNumber", via=Via.QUERY, param="QuoteNumber"),
            ),
            lines=_LINE_ITEMS,
            references=(_CONTACT_REF, *_line_refs(_LINE_ITEMS)),
            status_steps=_steps(
                ("ACCEPTED", ("SENT", "ACCEPTED")),
                ("DECLINED", ("SENT", "DECLINED")),
                ("INVOICED", ("SENT", "ACCEPTED", "INVOICED")),
                ("DELETED", ("DRAFT", "DELETED")),
            ),
        ),
    ),
    Resource(
        stream="receipts",
        path="Receipts",
        envelope="Receipts",
        key=Key("ReceiptID"),
        scope="accounting.transactions.read",
        read=_since(Paging.NONE, _UNITDP),
    ),
    Resource(
        stream="repeating_invoices",
        path="RepeatingInvoices",
        envelope="RepeatingInvoices",
        key=Key("RepeatingInvoiceID"),
        scope="accounting.invoices.read",
    ),
    Resource(stream="tax_rates", path="TaxRates", envelope="TaxRates", key=Key("TaxType")),
    Resource(
        stream="tracking_categories",
        path="TrackingCategories",
        envelope="TrackingCategories",
        key=Key("TrackingCategoryID"),
        read=ReadPlan(params=(_ARCHIVED,)),
        write=WriteRule(
            natural_keys=(Key("Name"),),
            batch_size=1,
            single_object=True,
            unique=(Unique(field="Name"),),
            read_only=("TrackingOptionID", "Option", "Options"),
            children=("Options",),
        ),
    ),
    Resource(stream="users", path="Users", envelope="Users", key=Key("UserID"), read=_since()),
    # Projects writes: POST creates, PUT /{id} updates; tasks and time under their project.
    Resource(
        stream="projects",
        path="Projects",
        envelope="items",
        key=Key("projectId"),
        scope="projects.read",
        api=PROJECTS,
        read=_PROJECTS_READ,
        write=WriteRule(
            natural_keys=(Key("name", "contactId"),),
            **_PROJECTS_WRITE,
            fields=("contactId", "name", "estimateAmount", "deadlineUtc"),
            writes_as=(WritesAs(source="estimate.value", field="estimateAmount"),),
            depends_on=("contacts",),
            references=(Reference(field="contactId", stream="contacts", by=Key("ContactID")),),
            lookups=(Lookup(field="projectId", via=Via.ID_LIST, param="projectIds"),),
            status_field="status",
            status_method="PATCH",
            status_steps=_steps(("CLOSED", ("INPROGRESS", "CLOSED"))),
        ),
    ),
    Resource(
        stream="project_users",
        path="ProjectsUsers",
        envelope="items",
        key=Key("userId"),
        scope="projects.read",
        api=PROJECTS,
        read=_PROJECTS_READ,
        # The API cannot create users: records only map a source's users to the target's.
        write=WriteRule(
            natural_keys=(Key("email"), Key("name")),
            **_PROJECTS_WRITE,
            creatable=False,
            updatable=False,
        ),
    ),
    Resource(
        stream="project_tasks",
        path="Projects/{projectId}/Tasks",
        envelope="items",
        key=Key("taskId"),
        scope="projects.read",
        api=PROJECTS,
        read=_UNDER_PROJECT,
        write=WriteRule(
            natural_keys=(Key("projectId", "name"),),
            **_PROJECTS_WRITE,
            fields=("name", "rate", "chargeType", "estimateMinutes"),
            depends_on=("projects",),
            references=(_PROJECT_REF,),
            lookups=_BY_PROJECT,
        ),
    ),
    Resource(
        stream="project_time",
        path="Projects/{projectId}/Time",
        envelope="items",
        key=Key("timeEntryId"),
        scope="projects.read",
        api=PROJECTS,
        read=_UNDER_PROJECT,
        # Two equal entries (same user, task, day, minutes and words) are two entries.
        write=WriteRule(
            natural_keys=(
                Key("projectId", "taskId", "userId", "dateUtc", "duration", "description"),
            ),
            **_PROJECTS_WRITE,
            repeats=True,
            fields=("userId", "taskId", "dateUtc", "duration", "description"),
            depends_on=("projects", "project_tasks", "project_users"),
            # By ID, or by name: project name, task name in it, user e-mail.
            references=(
                Reference(
                    field="projectName", stream="projects", by=Key("name"), sends_as="projectId"
                ),
                _PROJECT_REF,
                Reference(
                    field="taskName",
                    stream="project_tasks",
                    by=Key("projectId", "name"),
                    sends_as="taskId",
                ),
                Reference(field="taskId", stream="project_tasks", by=Key("taskId")),
                Reference(
                    field="userEmail", stream="project_users", by=Key("email"), sends_as="userId"
                ),
                Reference(field="userId", stream="project_users", by=Key("userId")),
            ),
            lookups=_BY_PROJECT,
        ),
    ),
    # Fixed Assets API (assets.xro/1.0): `status` is required on /Assets, one value a call;
    # pageSize defaults to 10 and the spec gives no maximum (100 is asked for). Writes: POST
    # /Assets creates (or, with the assetId of a draft, updates); POST /AssetTypes creates.
    Resource(
        stream="assets",
        path="Assets",
        envelope="items",
        key=Key("assetId"),
        scope="assets.read",
        api=ASSETS,
        read=ReadPlan(
            paging=Paging.PAGE,
            max_page_size=100,
            each=Each(param="status", values=("DRAFT", "REGISTERED", "DISPOSED")),
        ),
        write=WriteRule(
            natural_keys=(Key("assetNumber"),),
            batch_size=1,
            single_object=True,
            create_method="POST",
            update_method="POST",
            update_at_id=False,
            fields=(
                "assetId",
                "assetName",
                "assetTypeId",
                "assetNumber",
                "purchaseDate",
                "purchasePrice",
                "assetStatus",
                "warrantyExpiryDate",
                "serialNumber",
                "bookDepreciationSetting",
            ),
            read_only=_ASSET_READ_ONLY,
            status_field="assetStatus",
            depends_on=("asset_types",),
            references=(
                Reference(
                    field="assetTypeName",
                    stream="asset_types",
                    by=Key("assetTypeName"),
                    sends_as="assetTypeId",
                ),
                Reference(field="assetTypeId", stream="asset_types", by=Key("assetTypeId")),
            ),
        ),
    ),
    Resource(
        stream="asset_types",
        path="AssetTypes",
        envelope="",
        key=Key("assetTypeId"),
        scope="assets.read",
        api=ASSETS,
        # No update endpoint: a type the target has (by name) is left as it is.
        write=WriteRule(
            natural_keys=(Key("assetTypeName"),),
            batch_size=1,
            single_object=True,
            create_method="POST",
            updatable=False,
            fields=(
                "assetTypeName",
                "fixedAssetAccountId",
                "depreciationExpenseAccountId",
                "accumulatedDepreciationAccountId",
                "bookDepreciationSetting",
            ),
            read_only=_ASSET_READ_ONLY,
            depends_on=("accounts",),
            references=tuple(
                Reference(field=name, stream="accounts", by=Key("AccountID"))
                for name in (
                    "fixedAssetAccountId",
                    "depreciationExpenseAccountId",
                    "accumulatedDepreciationAccountId",
                )
            ),
        ),
    ),
    Resource(
        stream="asset_settings",
        path="Settings",
        envelope="",
        key=None,
        scope="assets.read",
        api=ASSETS,
    ),
    # Payroll AU (payroll.xro/1.0, Australian organisations): Accounting's conventions, with
    # If-Modified-Since, `order` and `page` (100 fixed) on its collections. Writes: POST on the
    # collection with a list of elements creates them (an element with its ID updates).
    Resource(
        stream="payroll_employees",
        path="Employees",
        envelope="Employees",
        key=Key("EmployeeID"),
        scope="payroll.employees.read",
        api=PAYROLL_AU,
        read=_PAYROLL_AU_READ,
        write=WriteRule(
            natural_keys=(Key("Email"), Key("FirstName", "LastName", "DateOfBirth")),
            **_PAYROLL_AU_WRITE,
            fields=_EMPLOYEE_FIELDS,
            depends_on=("payroll_calendars", "payroll_earnings_rates"),
            references=(
                Reference(
                    field="PayrollCalendarID",
                    stream="payroll_calendars",
                    by=Key("PayrollCalendarID"),
                ),
                Reference(
                    field="OrdinaryEarningsRateName",
                    stream="payroll_earnings_rates",
                    by=Key("Name"),
                    sends_as="OrdinaryEarningsRateID",
                ),
                Reference(
                    field="OrdinaryEarningsRateID",
                    stream="payroll_earnings_rates",
                    by=Key("EarningsRateID"),
                ),
            ),
        ),
    ),
    Resource(
        stream="payroll_leave_applications",
        path="LeaveApplications",
        envelope="LeaveApplications",
        key=Key("LeaveApplicationID"),
        scope="payroll.employees.read",
        api=PAYROLL_AU,
        # The collection at LeaveApplications lists approved leave only (its examples:
        # SCHEDULED and PROCESSED periods); v2 also lists employees' requests, REQUESTED or
        # REJECTED, and is read instead.
        read=replace(_PAYROLL_AU_READ, path="LeaveApplications/v2"),
        # One employee's leave of one type over the same days is one application.
        write=WriteRule(
            natural_keys=(Key("EmployeeID", "LeaveTypeID", "StartDate", "EndDate"),),
            **_PAYROLL_AU_WRITE,
            unwritable=(
                Unwritable(
                    in_list="LeavePeriods",
                    field="LeavePeriodStatus",
                    values=("REQUESTED", "REJECTED"),
                    reason="An employee's leave request (REQUESTED or REJECTED) cannot be made "
                    "through the API, which would save it as scheduled leave",
                ),
            ),
            fields=(
                "EmployeeID",
                "LeaveTypeID",
                "Title",
                "StartDate",
                "EndDate",
                "Description",
                "PayOutType",
            ),
            depends_on=("payroll_employees", "payroll_leave_types"),
            references=(
                *_EMPLOYEE_REFS,
                Reference(
                    field="LeaveTypeName",
                    stream="payroll_leave_types",
                    by=Key("Name"),
                    sends_as="LeaveTypeID",
                ),
                Reference(field="LeaveTypeID", stream="payroll_leave_types", by=Key("LeaveTypeID")),
            ),
        ),
    ),
    Resource(
        stream="payroll_calendars",
        path="PayrollCalendars",
        envelope="PayrollCalendars",
        key=Key("PayrollCalendarID"),
        scope="payroll.settings.read",
        api=PAYROLL_AU,
        read=_PAYROLL_AU_READ,
        write=_PAYROLL_MATCHED_BY_NAME,
    ),
    # A pay item's earnings rates and leave types, one record each: matched by name only, so
    # employees, timesheets and leave name them.
    Resource(
        stream="payroll_earnings_rates",
        path="PayItems",
        envelope="PayItems",
        key=Key("EarningsRateID"),
        scope="payroll.settings.read",
        api=PAYROLL_AU,
        read=ReadPlan(nested="EarningsRates"),
        write=_PAYROLL_MATCHED_BY_NAME,
    ),
    Resource(
        stream="payroll_leave_types",
        path="PayItems",
        envelope="PayItems",
        key=Key("LeaveTypeID"),
        scope="payroll.settings.read",
        api=PAYROLL_AU,
        read=ReadPlan(nested="LeaveTypes"),
        write=_PAYROLL_MATCHED_BY_NAME,
    ),
    Resource(
        stream="payroll_pay_runs",
        path="PayRuns",
        envelope="PayRuns",
        key=Key("PayRunID"),
        scope="payroll.payruns.read",
        api=PAYROLL_AU,
        read=_PAYROLL_AU_READ,
    ),
    # A pay run's payslips (summaries) come with the pay run itself: one call per pay run.
    Resource(
        stream="payroll_payslips",
        path="PayRuns/{PayRunID}",
        envelope="PayRuns",
        key=Key("PayslipID"),
        scope="payroll.payruns.read",
        api=PAYROLL_AU,
        read=ReadPlan(parent=_PAY_RUN_AU, nested="Payslips", replication_key=_PAY_RUN_UPDATED),
    ),
    # The whole payslip (earnings, deduction, leave, reimbursement, super and tax lines): one
    # call per payslip of every pay run.
    Resource(
        stream="payroll_payslip_details",
        path="Payslip/{PayslipID}",
        envelope="Payslip",
        key=Key("PayslipID"),
        scope="payroll.payslip.read",
        api=PAYROLL_AU,
        read=ReadPlan(
            parent=Parent(stream="payroll_payslips", field="PayslipID"),
            replication_key=_PAY_RUN_UPDATED,
        ),
    ),
    Resource(
        stream="payroll_superfunds",
        path="Superfunds",
        envelope="SuperFunds",
        key=Key("SuperFundID"),
        scope="payroll.settings.read",
        api=PAYROLL_AU,
        read=_PAYROLL_AU_READ,
    ),
    Resource(
        stream="payroll_timesheets",
        path="Timesheets",
        envelope="Timesheets",
        key=Key("TimesheetID"),
        scope="payroll.timesheets.read",
        api=PAYROLL_AU,
        read=_PAYROLL_AU_READ,
        write=WriteRule(
            natural_keys=(Key("EmployeeID", "StartDate", "EndDate"),),
            **_PAYROLL_AU_WRITE,
            fields=("EmployeeID", "StartDate", "EndDate", "Status", "TimesheetLines"),
            lines=Lines(field="TimesheetLines"),
            read_only=("TimesheetLines.UpdatedDateUTC",),
            depends_on=("payroll_employees", "payroll_earnings_rates", "tracking_categories"),
            references=(
                *_EMPLOYEE_REFS,
                Reference(
                    in_list="TimesheetLines",
                    field="EarningsRateName",
                    stream="payroll_earnings_rates",
                    by=Key("Name"),
                    sends_as="EarningsRateID",
                ),
                Reference(
                    in_list="TimesheetLines",
                    field="EarningsRateID",
                    stream="payroll_earnings_rates",
                    by=Key("EarningsRateID"),
                ),
                Reference(
                    in_list="TimesheetLines",
                    field="TrackingItemName",
                    stream="tracking_categories",
                    option_name=True,
                    sends_as="TrackingItemID",
                ),
            ),
        ),
    ),
    Resource(
        stream="payroll_pay_items",
        path="PayItems",
        envelope="PayItems",
        key=None,
        scope="payroll.settings.read",
        api=PAYROLL_AU,
    ),
    Resource(
        stream="payroll_settings",
        path="Settings",
        envelope="Settings",
        key=None,
        scope="payroll.settings.read",
        api=PAYROLL_AU,
    ),
    *_payroll_v2(PAYROLL_UK),
    *_payroll_v2(PAYROLL_NZ),
    # Files API (files.xro/1.0): `page` + `pagesize` (at most 100); no If-Modified-Since or
    # date filter, so every page is read oldest first and kept from the UpdatedDateUtc bookmark.
    Resource(
        stream="files",
        path="Files",
        envelope="Items",
        key=Key("Id"),
        scope="files.read",
        api=FILES,
        read=ReadPlan(
            paging=Paging.PAGE,
            replication_key="UpdatedDateUtc",
            params=(("sort", "CreatedDateUTC"), ("direction", "ASC")),
            max_page_size=100,
            page_size_param="pagesize",
            content=Content(path="Files/{Id}/Content", size_field="Size", name_field="Name"),
        ),
        # Uploaded (multipart) by target-xero's own files stream, which matches a file by
        # its folder and name through this rule; the Files API cannot replace content.
        write=WriteRule(
            natural_keys=(Key("FolderId", "Name"),),
            depends_on=("file_folders",),
            create_method="POST",
            fields=("Name", "FolderId"),
        ),
    ),
    Resource(
        stream="file_folders",
        path="Folders",
        envelope="",
        key=Key("Id"),
        scope="files.read",
        api=FILES,
        # POST /Folders creates, PUT /Folders/{id} renames; both take and answer the folder.
        write=WriteRule(
            natural_keys=(Key("Name"),),
            create_method="POST",
            update_method="PUT",
            fields=("Name",),
        ),
    ),
    Resource(
        stream="file_associations",
        path="Files/{FileId}/Associations",
        envelope="",
        key=Key("FileId", "ObjectId"),
        scope="files.read",
        api=FILES,
        read=ReadPlan(parent=Parent(stream="files", field="Id", child_field="FileId")),
    ),
)

# Streams whose documents take attachments (the spec's /{Collection}/{ID}/Attachments).
ATTACHMENT_PARENTS: tuple[str, ...] = (
    "accounts",
    "bank_transactions",
    "bank_transfers",
    "contacts",
    "credit_notes",
    "invoices",
    "manual_journals",
    "purchase_orders",
    "quotes",
    "receipts",
    "repeating_invoices",
)

_BY_STREAM = {r.stream: r for r in RESOURCES}


class Period(Enum):
    """How a report is asked for one month."""

    AS_AT = "as_at"  # ``date=`` the month's last day: balances at its end
    MOVEMENT = "movement"  # ``fromDate=`` first day, ``toDate=`` last day: the month's movement


@dataclass(frozen=True, kw_only=True)
class Report:
    """One of Xero's reports (``GET /Reports/{name}``), read one call a month."""

    name: str
    period: Period = Period.AS_AT

    def month_params(self, first: date, last: date) -> dict[str, str]:
        """The query asking for the month from ``first`` to ``last``."""
        if self.period is Period.MOVEMENT:
            return {"fromDate": first.isoformat(), "toDate": last.isoformat()}
        return {"date": last.isoformat()}


# The report streams: stream name -> Xero report.
REPORTS: dict[str, Report] = {
    "report_trial_balance": Report(name="TrialBalance"),
    "report_profit_and_loss": Report(name="ProfitAndLoss", period=Period.MOVEMENT),
    "report_balance_sheet": Report(name="BalanceSheet"),
}


def lineage(row: Resource) -> list[Resource]:
    """A child collection's ancestors, its parent first and the root (a collection read on
    its own) last; empty for a root (a payslip's details: payslips, then pay runs)."""
    found: list[Resource] = []
    while row.read.parent is not None:
        row = resource_for_stream(row.read.parent.stream)
        found.append(row)
    return found


def settled_root(row: Resource) -> Settled | None:
    """For a child bookmarked on its root ancestor (its ``replication_key`` carries the root's
    change date), when the root's children are final; None for any other row (a child with a
    change date of its own is filtered on it)."""
    chain = [row, *lineage(row)]
    link = chain[-2].read.parent if len(chain) > 1 else None
    return link.settled if link is not None and row.read.replication_key else None


def bookmarked_on_parent(row: Resource) -> bool:
    """Whether a child is bookmarked on its parent's change date: its link carries the field
    the child bookmarks on (a leave's ``updatedDateUTC`` on its periods)."""
    link, field = row.read.parent, row.read.replication_key
    return link is not None and field is not None and field in link.carries


def resource_for_stream(stream: str) -> Resource:
    """The row for a stream name; raises KeyError naming the stream when there is none."""
    try:
        return _BY_STREAM[stream]
    except KeyError:
        raise KeyError(f"no Xero resource is declared for stream {stream!r}") from None

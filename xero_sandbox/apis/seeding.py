"""Demo data of the APIs beside Accounting (projects with tasks and time, fixed assets) and of
Accounting attachments.

Deterministic: one ``random.Random`` per tenant, seeded apart from the Accounting seed's (whose
output stays byte for byte what it was). Grown by ``--scale``: ``scale // 20 + 3`` projects with
2-4 tasks each and 2-6 + ``scale // 100`` time entries a project; ``scale // 10 + 4`` assets.
Projects refer to the tenant's contacts and users, asset types to its fixed-asset and
depreciation accounts. Attachments: one invoice or bill in eight (``scale // 8 + 2`` of them) has
one or two files (PDF, PNG or text, 200 bytes to 400 KB; the first invoice also a 2 MB scan),
as do two contacts, two bank transactions and a purchase order; their documents say
``HasAttachments: true``. Files: the inbox and two folders holding ``scale // 10 + 5`` files,
about half of them associated with an invoice, a bill or a contact, and a 3 MB scan in the
inbox. Empty tenants (``--empty-tenants``) have none of these APIs (no subscription) and no
documents to attach to.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from xero_sandbox.apis.payroll_seed import seed_payroll_au
from xero_sandbox.apis.table import stored_name
from xero_sandbox.catalog import spec_for
from xero_sandbox.regions import region_of
from xero_sandbox.store import Store, Tenant

__all__ = ["LAST_DEPRECIATION", "seed_other_apis"]

Record = dict[str, Any]

LAST_DEPRECIATION = date(2026, 8, 31)  # depreciation is run to the end of each month
_FIRST_DAY = date(2025, 4, 1)
_LAST_DAY = date(2026, 9, 30)
_PROJECT_KINDS = ("Kitchen fit-out", "Office move", "Website rebuild", "Garden design", "Audit")
_TASKS = (
    ("Design", "TIME"),
    ("Build", "TIME"),
    ("Materials", "FIXED"),
    ("Site visit", "NON_CHARGEABLE"),
)
# (type name, fixed asset account code, effective life in years)
_ASSET_TYPES = (("Office Equipment", "710", 5), ("Computer Equipment", "720", 3))
_ASSET_NAMES = {
    "Office Equipment": ("Desk", "Chair", "Printer", "Shelving", "Whiteboard"),
    "Computer Equipment": ("Laptop", "Monitor", "Server", "Tablet", "Router"),
}


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def day(self, first: date = _FIRST_DAY, last: date = _LAST_DAY) -> date:
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _amount(currency: str, value: Decimal) -> Record:
    return {"currency": currency, "value": _money(value)}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _zoneless(moment: datetime) -> str:
    """UTC without a zone, to the 7 fractional digits of the Files spec's file timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def seed_other_apis(store: Store, tenant: Tenant, seed_text: str, scale: int) -> None:
    """Write one tenant's projects and assets (nothing for an empty tenant)."""
    if tenant.empty:
        return
    gen = _Gen(random.Random(seed_text))
    with store.transaction():
        _projects(store, tenant.tenant_id, gen, scale)
        _assets(store, tenant.tenant_id, gen, scale)
        _attachments(store, tenant.tenant_id, gen, scale)
        _files(store, tenant.tenant_id, gen, scale)
        if region_of(store, tenant.tenant_id) == "AU":
            seed_payroll_au(store, tenant.tenant_id, random.Random(f"{seed_text}:payroll"), scale)


def _projects(store: Store, tid: str, gen: _Gen, scale: int) -> None:
    rng = gen.rng
    org = next(store.iter_records(tid, "Organisation"))
    currency = str(org.get("BaseCurrency") or "NZD")
    users = [
        {
            "userId": u["UserID"],
            "name": f"{u.get('FirstName', '')} {u.get('LastName', '')}".strip(),
            "email": u.get("EmailAddress", ""),
        }
        for u in store.iter_records(tid, "Users")
    ]
    store.put_many(tid, stored_name("projects", "ProjectsUsers"), users)
    contacts = [
        c["ContactID"] for c, _ in zip(store.iter_records(tid, "Contacts"), range(40), strict=False)
    ]
    projects: list[Record] = []
    tasks: list[Record] = []
    times: list[Record] = []
    for number in range(1, scale // 20 + 4):
        project_id = gen.uid()
        closed = rng.random() < 0.3
        project_tasks: list[Record] = []
        for name, charge in rng.sample(_TASKS, rng.randint(2, 4)):
            rate = Decimal(rng.choice((60, 85, 120, 150))) if charge == "TIME" else Decimal(0)
            if charge == "FIXED":
                rate = Decimal(rng.randrange(200, 3000))
            project_tasks.append(
                {
                    "taskId": gen.uid(),
                    "name": name,
                    "rate": _amount(currency, rate),
                    "chargeType": charge,
                    "estimateMinutes": rng.choice((60, 120, 240, 480, 960)),
                    "projectId": project_id,
                    "status": "INVOICED" if closed else "ACTIVE",
                }
            )
        entries: list[Record] = []
        for _ in range(rng.randint(2, 6) + scale // 100):
            task = rng.choice(project_tasks)
            when = datetime.combine(gen.day(), datetime.min.time(), UTC) + timedelta(
                hours=rng.randint(7, 17)
            )
            entries.append(
                {
                    "timeEntryId": gen.uid(),
                    "userId": rng.choice(users)["userId"] if users else gen.uid(),
                    "projectId": project_id,
                    "taskId": task["taskId"],
                    "dateUtc": _iso(when),
                    "dateEnteredUtc": _iso(when + timedelta(hours=rng.randint(1, 30))),
                    "duration": rng.choice((15, 30, 45, 60, 90, 120, 240, 480)),
                    "description": f"{task['name']} work",
                    "status": "INVOICED" if closed else rng.choice(("ACTIVE", "ACTIVE", "LOCKED")),
                }
            )
        task_total = Decimal(0)
        for task in project_tasks:
            minutes = sum(e["duration"] for e in entries if e["taskId"] == task["taskId"])
            rate = task["rate"]["value"]
            total = {"TIME": rate * minutes / 60, "FIXED": rate}.get(task["chargeType"], Decimal(0))
            invoiced = total if closed else Decimal(0)
            task.update(
                totalMinutes=minutes,
                totalAmount=_amount(currency, total),
                minutesInvoiced=minutes if closed else 0,
                minutesToBeInvoiced=0 if closed else minutes,
                fixedMinutes=minutes if task["chargeType"] == "FIXED" else 0,
                nonChargeableMinutes=minutes if task["chargeType"] == "NON_CHARGEABLE" else 0,
                amountToBeInvoiced=_amount(currency, total - invoiced),
                amountInvoiced=_amount(currency, invoiced),
            )
            task_total += _money(total)
        logged = sum(e["duration"] for e in entries)
        estimate = _money(task_total * Decimal("1.2") + rng.randrange(0, 2000))
        zero = _amount(currency, Decimal(0))
        done = _amount(currency, task_total) if closed else zero
        open_ = zero if closed else _amount(currency, task_total)
        deadline = datetime.combine(gen.day(), datetime.min.time(), UTC)
        projects.append(
            {
                "projectId": project_id,
                "contactId": rng.choice(contacts) if contacts else gen.uid(),
                "name": f"{rng.choice(_PROJECT_KINDS)} #{number}",
                "currencyCode": currency,
                "minutesLogged": logged,
                "totalTaskAmount": _amount(currency, task_total),
                "totalExpenseAmount": zero,
                "minutesToBeInvoiced": 0 if closed else logged,
                "taskAmountToBeInvoiced": open_,
                "taskAmountInvoiced": done,
                "expenseAmountToBeInvoiced": zero,
                "expenseAmountInvoiced": zero,
                "projectAmountInvoiced": done,
                "deposit": zero,
                "depositApplied": zero,
                "creditNoteAmount": zero,
                "deadlineUtc": _iso(deadline),
                "totalInvoiced": done,
                "totalToBeInvoiced": open_,
                "estimate": _amount(currency, estimate),
                "status": "CLOSED" if closed else "INPROGRESS",
            }
        )
        tasks += project_tasks
        times += entries
    store.put_many(tid, stored_name("projects", "Projects"), projects)
    store.put_many(tid, stored_name("projects", "Tasks"), tasks)
    store.put_many(tid, stored_name("projects", "Time"), times)


def _months(start: date, end: date) -> int:
    """Whole months of depreciation from ``start`` to ``end`` (full-month averaging)."""
    return max(0, (end.year - start.year) * 12 + end.month - start.month + 1)


def _assets(store: Store, tid: str, gen: _Gen, scale: int) -> None:
    rng = gen.rng
    accounts = {a["Code"]: a["AccountID"] for a in store.iter_records(tid, "Accounts")}
    types: list[Record] = []
    for name, code, life in _ASSET_TYPES:
        type_id = gen.uid()
        types.append(
            {
                "assetTypeId": type_id,
                "assetTypeName": name,
                "fixedAssetAccountId": accounts.get(code),
                "depreciationExpenseAccountId": accounts.get("416"),
                "accumulatedDepreciationAccountId": accounts.get(code),
                "bookDepreciationSetting": {
                    "depreciableObjectId": type_id,
                    "depreciableObjectType": "AssetType",
                    "depreciationMethod": "StraightLine",
                    "averagingMethod": "FullMonth",
                    "depreciationRate": _money(Decimal(100) / life),
                    "effectiveLifeYears": life,
                    "depreciationCalculationMethod": "Life",
                },
                "locks": 0,
            }
        )
    assets = []
    count = scale // 10 + 4
    for number in range(1, count + 1):
        kind = rng.choice(types)
        life = int(kind["bookDepreciationSetting"]["effectiveLifeYears"])
        bought = gen.day(date(2023, 1, 1), date(2026, 6, 30))
        price = _money(Decimal(rng.randrange(50_000, 2_000_000)) / 100)
        roll = rng.random()
        status = "Draft" if roll < 0.25 else "Disposed" if roll < 0.4 else "Registered"
        asset_id = gen.uid()
        end = LAST_DEPRECIATION
        record: Record = {
            "assetId": asset_id,
            "assetName": f"{rng.choice(_ASSET_NAMES[kind['assetTypeName']])} {number}",
            "assetTypeId": kind["assetTypeId"],
            "assetNumber": f"FA-{number:04d}",
            "purchaseDate": bought.isoformat(),
            "purchasePrice": price,
            "assetStatus": status,
            "serialNumber": f"SN{rng.randrange(10**7, 10**8)}",
            "warrantyExpiryDate": (bought + timedelta(days=365 * 2)).isoformat(),
            "canRollback": status == "Registered",
            "isDeleteEnabledForDate": status == "Draft",
        }
        if status == "Disposed":
            disposed = gen.day(bought, date(2026, 8, 31)) if bought < date(2026, 8, 31) else end
            end = disposed
            record["disposalDate"] = disposed.isoformat()
            record["disposalPrice"] = _money(price * Decimal(rng.randrange(5, 60)) / 100)
        else:
            record["disposalPrice"] = Decimal("0.00")
        setting = {**kind["bookDepreciationSetting"], "depreciableObjectId": asset_id}
        setting["depreciableObjectType"] = "Asset"
        record["bookDepreciationSetting"] = setting
        months = 0 if status == "Draft" else min(_months(bought, end), life * 12)
        accumulated = _money(price * months / (life * 12))
        book_value = price - accumulated
        detail: Record = {
            "depreciationStartDate": bought.isoformat(),
            "priorAccumDepreciationAmount": Decimal("0.00"),
            "currentAccumDepreciationAmount": accumulated,
            "currentCapitalGain": Decimal("0.00"),
            "currentGainLoss": Decimal("0.00"),
        }
        if status == "Disposed":
            sale = record["disposalPrice"]
            detail["currentCapitalGain"] = _money(max(Decimal(0), sale - price))
            detail["currentGainLoss"] = _money(min(sale, price) - book_value)
            book_value = Decimal("0.00")
        record["bookDepreciationDetail"] = detail
        record["accountingBookValue"] = _money(book_value)
        assets.append(record)
    store.put_many(tid, stored_name("assets", "AssetTypes"), types)
    store.put_many(tid, stored_name("assets", "Assets"), assets)
    store.put(
        tid,
        stored_name("assets", "Settings"),
        {
            "assetNumberPrefix": "FA-",
            "assetNumberSequence": f"{count + 1:04d}",
            "assetStartDate": "2023-01-01",
            "lastDepreciationDate": LAST_DEPRECIATION.isoformat(),
            "defaultGainOnDisposalAccountId": accounts.get("260"),
            "defaultLossOnDisposalAccountId": accounts.get("429"),
            "defaultCapitalGainOnDisposalAccountId": accounts.get("260"),
            "optInForTax": False,
        },
    )


# (extension, MIME type, smallest and largest size in bytes)
_FILE_KINDS = (
    ("pdf", "application/pdf", 20_000, 400_000),
    ("png", "image/png", 5_000, 200_000),
    ("txt", "text/plain", 200, 4_000),
)
_BIG_SCAN = 2 * 1024 * 1024
_LARGE_FILE = 3 * 1024 * 1024


def _file_added(folder: Record, files: list[Record], record: Record) -> None:
    folder["FileCount"] += 1
    files.append(record)


def _attachments(store: Store, tid: str, gen: _Gen, scale: int) -> None:
    rng = gen.rng
    picks: list[tuple[str, Record]] = [
        ("Invoices", doc)
        for doc in store.in_written_order(tid, "Invoices", limit=(scale // 8 + 2) * 8)[::8]
    ]
    for resource, count in (("Contacts", 2), ("BankTransactions", 2), ("PurchaseOrders", 1)):
        picks += [(resource, doc) for doc in store.in_written_order(tid, resource, limit=count)]
    attachments: list[Record] = []
    for index, (resource, document) in enumerate(picks):
        spec = spec_for(resource)
        assert spec is not None
        document_id = str(document[spec.key])
        label = str(document.get(spec.number_field or "") or document.get("Name") or "document")
        for number in range(1, rng.randint(1, 2) + 1):
            extension, mime, low, high = rng.choice(_FILE_KINDS)
            size = rng.randint(low, high)
            name = f"{label.replace('/', '-')}-{number}.{extension}"
            if index == 0 and number == 1:
                extension, mime, size, name = "pdf", "application/pdf", _BIG_SCAN, "scan.pdf"
            attachments.append(
                {
                    "AttachmentID": gen.uid(),
                    "FileName": name,
                    "Url": f"https://api.xero.com/api.xro/2.0/{resource}/{document_id}"
                    f"/Attachments/{name}",
                    "MimeType": mime,
                    "ContentLength": size,
                    "IncludeOnline": resource == "Invoices" and rng.random() < 0.5,
                    "DocumentType": resource,
                    "DocumentID": document_id,
                }
            )
        store.put(tid, resource, {**document, "HasAttachments": True})
    store.put_many(tid, stored_name("accounting", "Attachments"), attachments)


def _files(store: Store, tid: str, gen: _Gen, scale: int) -> None:
    rng = gen.rng
    users = list(store.iter_records(tid, "Users"))
    org = next(store.iter_records(tid, "Organisation"))
    folders: list[Record] = [
        {
            "Id": gen.uid(),
            "Name": "Inbox",
            "FileCount": 0,
            "Email": f"{str(org.get('ShortCode', 'org')).strip('!')}.inbox@xerofiles.com",
            "IsInbox": True,
        },
        {"Id": gen.uid(), "Name": "Receipts", "FileCount": 0, "IsInbox": False},
        {"Id": gen.uid(), "Name": "Contracts", "FileCount": 0, "IsInbox": False},
    ]
    documents = [
        ("Invoice", "AccRec" if doc.get("Type") == "ACCREC" else "Accpay", doc["InvoiceID"])
        for doc in store.in_written_order(tid, "Invoices", limit=12)
    ] + [
        ("Contact", "Contact", doc["ContactID"])
        for doc in store.in_written_order(tid, "Contacts", limit=4)
    ]
    files: list[Record] = []
    associations: list[Record] = []
    for number in range(1, scale // 10 + 6):
        folder = rng.choice(folders)
        extension, mime, low, high = rng.choice(_FILE_KINDS)
        created = datetime.combine(gen.day(), datetime.min.time(), UTC) + timedelta(
            hours=rng.randint(8, 17)
        )
        user = rng.choice(users) if users else {}
        first, last = user.get("FirstName", ""), user.get("LastName", "")
        record: Record = {
            "Name": f"{folder['Name'].lower()}-{number:03d}.{extension}",
            "MimeType": mime,
            "Size": rng.randint(low, high),
            "CreatedDateUtc": _zoneless(created),
            "UpdatedDateUtc": _zoneless(created + timedelta(days=rng.randint(0, 30))),
            "User": {
                "Id": user.get("UserID", gen.uid()),
                "Name": user.get("EmailAddress", ""),
                "FirstName": first,
                "LastName": last,
                "FullName": f"{first} {last}".strip(),
            },
            "Id": gen.uid(),
            "FolderId": folder["Id"],
        }
        _file_added(folder, files, record)
        if documents and rng.random() < 0.5:
            group, kind, object_id = rng.choice(documents)
            associations.append(
                {
                    "Key": f"{record['Id']}:{object_id}",
                    "SendWithObject": group == "Invoice" and rng.random() < 0.5,
                    "Name": record["Name"],
                    "Size": record["Size"],
                    "CreatedDateUtc": _iso(created),
                    "AssociationDateUtc": _iso(created + timedelta(hours=1)),
                    "FileId": record["Id"],
                    "ObjectId": str(object_id),
                    "ObjectGroup": group,
                    "ObjectType": kind,
                }
            )
    # One large scan in the inbox, so content downloads are proved streamed in chunks.
    scan = {**files[0], "Name": "inbox-scan.pdf", "MimeType": "application/pdf"}
    scan.update(Size=_LARGE_FILE, Id=gen.uid(), FolderId=folders[0]["Id"])
    _file_added(folders[0], files, scan)
    store.put_many(tid, stored_name("files", "Folders"), folders)
    store.put_many(tid, stored_name("files", "Files"), files)
    store.put_many(tid, stored_name("files", "Associations"), associations)

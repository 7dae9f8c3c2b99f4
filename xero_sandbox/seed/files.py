"""Files of a Demo Company. Accounting attachments: one invoice or bill in eight
(``scale // 8 + 2`` of them) has one or two files, the first invoice also a 2 MB scan, as do two
contacts, two bank transactions and a purchase order; their documents say ``HasAttachments``.
The Files API: the inbox and two folders holding ``scale // 10 + 5`` files, about half of them
associated with an invoice, a bill or a contact, and a 3 MB scan in the inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from xero_sandbox.api_collections import stored_name
from xero_sandbox.catalog import Record, spec_for
from xero_sandbox.seed.world import Draws, iso_utc
from xero_sandbox.store import Store

__all__ = ["write_attachments", "write_files"]

# (extension, MIME type, smallest and largest size in bytes)
_FILE_KINDS = (
    ("pdf", "application/pdf", 20_000, 400_000),
    ("png", "image/png", 5_000, 200_000),
    ("txt", "text/plain", 200, 4_000),
)
_BIG_SCAN = 2 * 1024 * 1024
_LARGE_FILE = 3 * 1024 * 1024


def _zoneless(moment: datetime) -> str:
    """UTC without a zone, to the 7 fractional digits of the Files spec's file timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def write_attachments(store: Store, tid: str, draws: Draws, scale: int) -> None:
    picks: list[tuple[str, Record]] = [
        ("Invoices", doc)
        for doc in store.in_written_order(tid, "Invoices", limit=(scale // 8 + 2) * 8)[::8]
    ]
    for resource, count in (("Contacts", 2), ("BankTransactions", 2), ("PurchaseOrders", 1)):
        picks += [(resource, doc) for doc in store.in_written_order(tid, resource, limit=count)]
    attachments: list[Record] = []
    for index, (resource, document) in enumerate(picks):
        attachments += _attachments_of(draws, resource, document, first=index == 0)
        store.put(tid, resource, {**document, "HasAttachments": True})
    store.put_many(tid, stored_name("accounting", "Attachments"), attachments)


def _attachments_of(draws: Draws, resource: str, document: Record, first: bool) -> list[Record]:
    """One or two files of a document; the ``first`` document's first is the big scan."""
    rng = draws.rng
    spec = spec_for(resource)
    assert spec is not None
    document_id = str(document[spec.key])
    label = str(document.get(spec.number_field or "") or document.get("Name") or "document")
    attachments = []
    for number in range(1, rng.randint(1, 2) + 1):
        extension, mime, low, high = rng.choice(_FILE_KINDS)
        size = rng.randint(low, high)
        name = f"{label.replace('/', '-')}-{number}.{extension}"
        if first and number == 1:
            extension, mime, size, name = "pdf", "application/pdf", _BIG_SCAN, "scan.pdf"
        attachments.append(
            {
                "AttachmentID": draws.uid(),
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
    return attachments


def write_files(store: Store, tid: str, draws: Draws, scale: int) -> None:
    users = list(store.iter_records(tid, "Users"))
    org = next(store.iter_records(tid, "Organisation"))
    inbox = f"{str(org.get('ShortCode', 'org')).strip('!')}.inbox@xerofiles.com"
    folders: list[Record] = [
        {"Id": draws.uid(), "Name": "Inbox", "FileCount": 0, "Email": inbox, "IsInbox": True},
        {"Id": draws.uid(), "Name": "Receipts", "FileCount": 0, "IsInbox": False},
        {"Id": draws.uid(), "Name": "Contracts", "FileCount": 0, "IsInbox": False},
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
        folder = draws.rng.choice(folders)
        record, created = _file(draws, folder, number, users)
        _file_added(folder, files, record)
        if documents and draws.rng.random() < 0.5:
            associations.append(_association(draws, record, created, documents))
    # One large scan in the inbox, so content downloads are proved streamed in chunks.
    scan = {**files[0], "Name": "inbox-scan.pdf", "MimeType": "application/pdf"}
    scan.update(Size=_LARGE_FILE, Id=draws.uid(), FolderId=folders[0]["Id"])
    _file_added(folders[0], files, scan)
    store.put_many(tid, stored_name("files", "Folders"), folders)
    store.put_many(tid, stored_name("files", "Files"), files)
    store.put_many(tid, stored_name("files", "Associations"), associations)


def _file_added(folder: Record, files: list[Record], record: Record) -> None:
    folder["FileCount"] += 1
    files.append(record)


def _file(
    draws: Draws, folder: Record, number: int, users: list[Record]
) -> tuple[Record, datetime]:
    """A file in ``folder``, uploaded by one of the users; and when it was uploaded."""
    rng = draws.rng
    extension, mime, low, high = rng.choice(_FILE_KINDS)
    created = datetime.combine(draws.day(), datetime.min.time(), UTC) + timedelta(
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
            "Id": user.get("UserID", draws.uid()),
            "Name": user.get("EmailAddress", ""),
            "FirstName": first,
            "LastName": last,
            "FullName": f"{first} {last}".strip(),
        },
        "Id": draws.uid(),
        "FolderId": folder["Id"],
    }
    return record, created


def _association(
    draws: Draws, record: Record, created: datetime, documents: list[tuple[str, str, str]]
) -> Record:
    """The file's association with one of the first invoices, bills or contacts."""
    group, kind, object_id = draws.rng.choice(documents)
    return {
        "Key": f"{record['Id']}:{object_id}",
        "SendWithObject": group == "Invoice" and draws.rng.random() < 0.5,
        "Name": record["Name"],
        "Size": record["Size"],
        "CreatedDateUtc": iso_utc(created),
        "AssociationDateUtc": iso_utc(created + timedelta(hours=1)),
        "FileId": record["Id"],
        "ObjectId": str(object_id),
        "ObjectGroup": group,
        "ObjectType": kind,
    }

"""The Files API's ``files`` and ``file_associations`` streams (docs/target.md, "Files");
folders (``file_folders``) are a row of the resource table, written as any resource.

A file record names its folder (``FolderId``: the target's, or the source's ID of a folder
this run wrote or matched; or ``FolderName``; neither: the inbox) and its ``Name``, and gives
its content as an attachment does (``Path`` or base64 ``Content``, streamed, checked by
``SHA256``). Its natural key is the folder and the name: a file there with the same content is
left alone (``unchanged``); one with other content is never touched (the Files API cannot
replace a file's content) and the record is rejected, saying so. An association record names
a file (``FileId``, or ``FileName`` in a folder as above) and a document (``ObjectId`` with its
``ObjectGroup``, or ``DocumentType`` with ``DocumentID``, ``DocumentNumber`` or
``DocumentReference``, as attachments name theirs). Folders are written before files, files and
documents before associations; a record whose folder, file or document may still arrive waits
for the end of input.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Mapping
from typing import Any

from typing_extensions import override

from xero_api.client import Upload
from xero_api.exchange import UploadLengthError
from xero_api.resources import Key, Resource, resource_for_stream

from .content import DocumentFinder, Refused, hashed, same_content, text
from .directory import key_value, norm
from .exchange import idempotency_key
from .held_stream import HeldStream
from .organisation import RequestRejected
from .sdk_hooks import RecordSink
from .session import WriteSession

__all__ = [
    "FILES",
    "FILE_ASSOCIATIONS",
    "AssociationSink",
    "AssociationStream",
    "FileSink",
    "FileStream",
]

FILES = "files"
FILE_ASSOCIATIONS = "file_associations"
_FILES = resource_for_stream(FILES)
_FOLDERS = resource_for_stream("file_folders")
# The spec's ObjectGroup of an association -> the stream of its documents.
_GROUPS = {
    "Account": "accounts",
    "BankTransaction": "bank_transactions",
    "Contact": "contacts",
    "CreditNote": "credit_notes",
    "Invoice": "invoices",
    "Item": "items",
    "ManualJournal": "manual_journals",
    "Overpayment": "overpayments",
    "Payment": "payments",
    "Prepayment": "prepayments",
    "Quote": "quotes",
    "Receipt": "receipts",
}
# ObjectGroup, collection ("Invoices") or stream ("invoices"), any case -> ObjectGroup.
_GROUP_NAMES = {
    name.lower(): group
    for group, stream in _GROUPS.items()
    for name in (group, stream, resource_for_stream(stream).path)
}


def _name(record: Mapping[str, Any], field: str) -> str:
    """A file name from ``field``: required, no path separators or control characters."""
    name = text(record, field)
    if not name:
        raise Refused(f"missing {field}")
    if any(c in name for c in "/\\") or any(ord(c) < 32 for c in name):
        raise Refused(f"{field} {name!r} must not contain /, \\ or control characters")
    return name


def _folder(session: WriteSession, record: Mapping[str, Any]) -> str | None:
    """The target folder a record names (``FolderId``, else ``FolderName``, else the inbox),
    or None when the organisation has none (yet)."""
    directory = session.directory
    folder_id = text(record, "FolderId")
    if folder_id:
        directory.ensure(_FOLDERS, Key("Id"), [folder_id])
        return directory.find(_FOLDERS, Key("Id"), folder_id)
    folder_name = text(record, "FolderName")
    for folder in directory.every(_FOLDERS):
        if (
            (norm(folder.get("Name")) == norm(folder_name))
            if folder_name
            else folder.get("IsInbox")
        ):
            return str(folder["Id"])
    return None


def _folder_named(record: Mapping[str, Any]) -> str:
    for field in ("FolderId", "FolderName"):
        if text(record, field):
            return f"{field} {text(record, field)!r}"
    return "the inbox"


def _find_file(session: WriteSession, folder_id: str, name: str) -> str | None:
    """The target file with this name in this folder (by the files' natural keys)."""
    directory = session.directory
    candidate = {"FolderId": folder_id, "Name": name}
    for key in directory.natural_keys(_FILES):
        value = key_value(candidate, key)
        if value is None:
            continue
        directory.ensure(_FILES, key, [value[0]])
        found = directory.find(_FILES, key, value, claimed_too=True)
        if found:
            return found
    return None


def _multipart(upload: Upload, name: str, mime: str, boundary: str) -> Upload:
    """The file as the Files API's multipart upload body, streamed: the form's fields, the
    file part, the closing boundary."""
    quoted = name.replace('"', "%22")
    disposition = f"--{boundary}\r\nContent-Disposition: form-data; name="
    head = b"".join(
        f'{disposition}"{field}"\r\n\r\n{value}\r\n'.encode()
        for field, value in (("name", name), ("filename", name), ("mimeType", mime))
    )
    head += (f'{disposition}"body"; filename="{quoted}"\r\nContent-Type: {mime}\r\n\r\n').encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        yield from upload.open()
        yield tail

    return Upload(len(head) + upload.length + len(tail), chunks, name=upload.name)


class FileStream(HeldStream):
    """The files of one run: each uploaded into its folder unless the folder holds it."""

    resource: Resource = _FILES
    depends_on = _FILES.write.depends_on if _FILES.write else ()

    @override
    def write_one(self, record: dict[str, Any]) -> str | None:
        name = _name(record, "Name")
        folder_id = _folder(self._session, record)
        if folder_id is None:
            return f"no folder in the target organisation matches {_folder_named(record)}"
        upload, sha256 = hashed(record)
        session, outcomes = self._session, self._session.outcomes
        source_id = text(record, "Id") or None
        existing = _find_file(session, folder_id, name)
        if existing is not None:
            doc = session.directory.doc(_FILES, existing) or {}
            if session.write_mode == "create_only":
                action = "exists"
            elif doc.get("Size") == upload.length and same_content(
                session, f"{_FILES.request_path()}/{existing}/Content", sha256
            ):
                action = "unchanged"
            else:
                raise Refused(
                    f"the folder's file {doc.get('Name', name)!r} ({existing}) has other "
                    "content, and the Files API cannot replace a file's content: it is left "
                    "as it is (rename the record's file, or delete Xero's, to load it)"
                )
            session.directory.remember(_FILES, doc, source_id=source_id)
            outcomes.written(self.name, action, existing, None, source_id=source_id)
            return None
        if session.write_mode == "update_only":
            raise Refused(f"write_mode is update_only and the folder has no file named {name!r}")
        path = f"{_FILES.request_path()}/{folder_id}"
        organisation = session.organisation
        key = idempotency_key(
            organisation.tenant_id, "POST", path, {}, {"Name": name, "SHA256": sha256}
        )
        if session.dry_run:
            outcomes.written(self.name, "would_create", None, key, source_id=source_id)
            return None
        mime = text(record, "MimeType") or mimetypes.guess_type(name)[0]
        body = _multipart(upload, name, mime or "application/octet-stream", key[-40:])
        try:
            written = organisation.upload(
                "POST", path, {}, body, key, f"multipart/form-data; boundary={key[-40:]}"
            )
        except RequestRejected as exc:
            raise Refused("; ".join(exc.messages)) from None
        except UploadLengthError as exc:
            raise Refused(str(exc)) from None
        if not written.get("Id"):
            raise Refused(f"POST {path}: Xero's answer names no file; re-run to reconcile")
        session.directory.remember(_FILES, written, source_id=source_id)
        outcomes.written(self.name, "created", str(written["Id"]), key, source_id=source_id)
        return None


class AssociationStream(HeldStream):
    """The associations of one run: each file linked to its document unless it is already."""

    depends_on = (FILES, *_GROUPS.values())

    def __init__(self, session: WriteSession, stream_name: str) -> None:
        """Bind the stream to the run's session; nothing connects yet."""
        super().__init__(session, stream_name)
        self._documents = DocumentFinder(session)
        self._listed: dict[str, list[Mapping[str, Any]]] = {}

    @override
    def write_one(self, record: dict[str, Any]) -> str | None:
        group, named = _object(record)
        resource = resource_for_stream(_GROUPS[group])
        file_id = self._file(record)
        if file_id is None:
            shown = text(record, "FileId") or text(record, "FileName")
            return f"no file in the target organisation matches {shown!r}"
        document = self._documents.find(resource, named)
        if document is None:
            return self._documents.missing(resource, named)
        session, outcomes = self._session, self._session.outcomes
        object_id = document.document_id
        target_id = f"{file_id}/{object_id}"
        sources = (text(record, "FileId"), text(named, "DocumentID"))
        source_id = "/".join(sources) if all(sources) else None
        send_with = record.get("SendWithObject")
        existing = self._existing(file_id, object_id)
        if existing is not None:
            if session.write_mode == "create_only":
                action = "exists"
            elif isinstance(send_with, bool) and existing.get("SendWithObject") is not send_with:
                raise Refused(
                    f"the file is associated with this {resource.noun} with SendWithObject "
                    f"{existing.get('SendWithObject')}, and the Files API cannot change that"
                )
            else:
                action = "unchanged"
            outcomes.written(self.name, action, target_id, None, source_id=source_id)
            return None
        if session.write_mode == "update_only":
            raise Refused(
                f"write_mode is update_only and the file is not associated with this "
                f"{resource.noun}"
            )
        path = f"{_FILES.request_path()}/{file_id}/Associations"
        body: dict[str, Any] = {"ObjectId": object_id, "ObjectGroup": group}
        if text(record, "ObjectType"):
            body["ObjectType"] = text(record, "ObjectType")
        if isinstance(send_with, bool):
            body["SendWithObject"] = send_with
        organisation = session.organisation
        key = idempotency_key(organisation.tenant_id, "POST", path, {}, body)
        if session.dry_run:
            outcomes.written(self.name, "would_create", None, key, source_id=source_id)
            return None
        try:
            written = organisation.write("POST", path, {}, body, key)
        except RequestRejected as exc:
            raise Refused("; ".join(exc.messages)) from None
        self._listed.setdefault(file_id, []).append(written)
        outcomes.written(self.name, "created", target_id, key, source_id=source_id)
        return None

    def _file(self, record: Mapping[str, Any]) -> str | None:
        file_id = text(record, "FileId")
        if file_id:
            directory = self._session.directory
            directory.ensure(_FILES, Key("Id"), [file_id])
            return directory.find(_FILES, Key("Id"), file_id)
        name = _name(record, "FileName")
        folder_id = _folder(self._session, record)
        return None if folder_id is None else _find_file(self._session, folder_id, name)

    def _existing(self, file_id: str, object_id: str) -> Mapping[str, Any] | None:
        if file_id not in self._listed:
            path = f"{_FILES.request_path()}/{file_id}/Associations"
            body = self._session.organisation.get(path) or {}
            listed = body.get("") or []
            self._listed[file_id] = [a for a in listed if isinstance(a, Mapping)]
        wanted = norm(object_id)
        return next((a for a in self._listed[file_id] if norm(a.get("ObjectId")) == wanted), None)


def _object(record: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The association's ObjectGroup and its document as the finder reads it
    (``DocumentID``, ``DocumentNumber`` or ``DocumentReference``)."""
    kind = text(record, "ObjectGroup") or text(record, "DocumentType")
    group = _GROUP_NAMES.get(kind.lower().replace(" ", ""))
    if group is None:
        raise Refused(f"ObjectGroup (or DocumentType) {kind!r} is not one of {', '.join(_GROUPS)}")
    named = {
        "DocumentID": text(record, "ObjectId") or text(record, "DocumentID"),
        "DocumentNumber": text(record, "DocumentNumber"),
        "DocumentReference": text(record, "DocumentReference"),
    }
    if not any(named.values()):
        raise Refused("name the document by ObjectId, DocumentNumber or DocumentReference")
    if not text(record, "FileId") and not text(record, "FileName"):
        raise Refused("name the file by FileId, or by FileName (and FolderId or FolderName)")
    return group, named


class FileSink(RecordSink[FileStream]):
    """Takes the ``files`` stream: see the module docstring."""

    @override
    def open_stream(self, session: WriteSession, stream_name: str) -> FileStream:
        """The run's files stream."""
        return FileStream(session, stream_name)


class AssociationSink(RecordSink[AssociationStream]):
    """Takes the ``file_associations`` stream: see the module docstring."""

    last_finisher = True  # after the held documents

    @override
    def open_stream(self, session: WriteSession, stream_name: str) -> AssociationStream:
        """The run's associations stream."""
        return AssociationStream(session, stream_name)

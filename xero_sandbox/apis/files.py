"""The Files API (``files.xro/1.0``): files and their content, folders, the inbox and
associations, paged and sorted as the spec says. What each route answers is in docs/apis.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from xero_sandbox.api_collections import API_PREFIXES
from xero_sandbox.apis.attachments import download
from xero_sandbox.apis.files_writes import stored_content
from xero_sandbox.apis.serving import ApiRequest, json_answer, split_list
from xero_sandbox.catalog import Record

__all__ = ["routes"]

PREFIX = API_PREFIXES["files"]
MAX_PAGE_SIZE = 100
_FILE_SORTS = {"Name": "Name", "Size": "Size", "CreatedDateUTC": "CreatedDateUtc"}
_ASSOCIATION_SORTS = {
    "Name": "Name",
    "Size": "Size",
    "CreatedDateUtc": "CreatedDateUtc",
    "AssociationDateUtc": "AssociationDateUtc",
}
_FOLDER_SORTS = ("Name", "Size", "CreatedDateUTC")
_PRIVATE = ("Key", "Uploaded")


def _call(request: Request) -> ApiRequest:
    return ApiRequest(request, "files")


def _bad_request(detail: str) -> Response:
    """A 400 with the error body of the spec's examples."""
    problem = {"type": "Validation", "title": "Validation failure", "detail": detail}
    return json_answer([problem], 400)


def _public(record: Record) -> Record:
    return {k: v for k, v in record.items() if k not in _PRIVATE}


def _order(call: ApiRequest, offered: tuple[str, ...]) -> tuple[str | None, bool] | Response:
    """The asked ``sort`` (one of ``offered``, as the spec spells it; None when absent) and
    whether descending: from ``direction``, or a second word of ``sort``."""
    words = call.query.get("sort", "").split()
    direction = call.query.get("direction", words[1] if len(words) > 1 else "ASC").upper()
    if direction not in ("ASC", "DESC") or len(words) > 2:
        return _bad_request("direction must be ASC or DESC")
    if not words:
        return None, direction == "DESC"
    name = next((o for o in offered if o.lower() == words[0].lower()), None)
    if name is None:
        return _bad_request(f"sort must be one of {', '.join(offered)}")
    return name, direction == "DESC"


def _field_key(field: str) -> Callable[[Record], Any]:
    def key(record: Record) -> Any:
        value = record.get(field)
        return (value is None, value if isinstance(value, int) else str(value or "").lower())

    return key


def _sorted(
    call: ApiRequest, records: list[Record], sorts: dict[str, str], default: str | None
) -> list[Record] | Response:
    """``records`` ordered by the asked sort (``sorts`` maps each offered to its field)."""
    order = _order(call, tuple(sorts))
    if isinstance(order, Response):
        return order
    name, descending = order
    field = sorts[name] if name else default
    if field is None:
        return records
    return sorted(records, key=_field_key(field), reverse=descending)


def _window(call: ApiRequest, records: list[Record]) -> tuple[list[Record], int, int] | Response:
    page = call.int_param("page", 1)
    size = call.int_param("pagesize", MAX_PAGE_SIZE)
    if page is None or page < 1:
        return _bad_request("page must be 1 or more")
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        return _bad_request(f"pagesize must be between 1 and {MAX_PAGE_SIZE}")
    return records[(page - 1) * size : page * size], page, size


async def get_files(request: Request) -> Response:
    """GET /Files."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    ordered = _sorted(call, call.records("Files"), _FILE_SORTS, None)
    if isinstance(ordered, Response):
        return ordered
    window = _window(call, ordered)
    if isinstance(window, Response):
        return window
    items, page, size = window
    call.served(len(items))
    shown = [_public(item) for item in items]
    return json_answer({"TotalCount": len(ordered), "Page": page, "PerPage": size, "Items": shown})


async def get_file(request: Request) -> Response:
    """GET /Files/{FileId}."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    file = call.record("Files", request.path_params["file_id"])
    return call.one(None if file is None else _public(file))


async def get_content(request: Request) -> Response:
    """GET /Files/{FileId}/Content: the bytes, streamed."""
    found = _call(request).found("Files", request.path_params["file_id"])
    if isinstance(found, Response):
        return found
    stored = stored_content(request, found)
    if stored is not None:
        return stored
    return download(found["Id"], int(found["Size"]), str(found.get("MimeType")))


async def get_file_associations(request: Request) -> Response:
    """GET /Files/{FileId}/Associations."""
    call = _call(request)
    file = call.found("Files", request.path_params["file_id"])
    if isinstance(file, Response):
        return file
    found = [_public(a) for a in call.records("Associations") if a["FileId"] == file["Id"]]
    call.served(len(found))
    return json_answer(found)


async def get_object_associations(request: Request) -> Response:
    """GET /Associations/{ObjectId}."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    found = [_public(a) for a in call.records("Associations", request.path_params["object_id"])]
    ordered = _sorted(call, found, _ASSOCIATION_SORTS, "CreatedDateUtc")
    if isinstance(ordered, Response):
        return ordered
    window = _window(call, ordered)
    if isinstance(window, Response):
        return window
    call.served(len(window[0]))
    return json_answer(window[0])


async def count_associations(request: Request) -> Response:
    """GET /Associations/Count?ObjectIds=a,b."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    wanted = split_list(call.query.get("objectids", ""))
    if not wanted:
        return _bad_request("ObjectIds is required")
    counts = {object_id: len(call.records("Associations", object_id)) for object_id in wanted}
    return json_answer(counts)


async def get_folders(request: Request) -> Response:
    """GET /Folders."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    order = _order(call, _FOLDER_SORTS)
    if isinstance(order, Response):
        return order
    name, descending = order
    folders = call.records("Folders")  # in the order they were made
    held: dict[str, int] = {}
    for file in call.records("Files"):
        held[file["FolderId"]] = held.get(file["FolderId"], 0) + int(file["Size"])
    keys: dict[str, Callable[[Record], Any]] = {
        "Name": _field_key("Name"),
        "Size": lambda folder: held.get(folder["Id"], 0),
        "CreatedDateUTC": folders.index,
    }
    ordered = sorted(folders, key=keys[name], reverse=descending) if name else folders
    call.served(len(ordered))
    return json_answer(ordered)


async def get_folder(request: Request) -> Response:
    """GET /Folders/{FolderId}."""
    return _call(request).one_at("Folders", "folder_id")


async def get_inbox(request: Request) -> Response:
    """GET /Inbox: the folder files emailed to the organisation land in."""
    call = _call(request)
    if call.refusal:
        return call.refusal
    return call.one(next((f for f in call.records("Folders") if f.get("IsInbox")), None))


routes: list[BaseRoute] = [
    Route(PREFIX + "/Files", get_files, methods=["GET"]),
    Route(PREFIX + "/Files/{file_id}", get_file, methods=["GET"]),
    Route(PREFIX + "/Files/{file_id}/Content", get_content, methods=["GET"]),
    Route(PREFIX + "/Files/{file_id}/Associations", get_file_associations, methods=["GET"]),
    Route(PREFIX + "/Associations/Count", count_associations, methods=["GET"]),
    Route(PREFIX + "/Associations/{object_id}", get_object_associations, methods=["GET"]),
    Route(PREFIX + "/Folders", get_folders, methods=["GET"]),
    Route(PREFIX + "/Folders/{folder_id}", get_folder, methods=["GET"]),
    Route(PREFIX + "/Inbox", get_inbox, methods=["GET"]),
]

"""The sandbox's outer edge: Xero's request-size and URL-length bounds, and the request log."""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

import h11
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from xero_sandbox.apis.attachments import too_large, upload_limit
from xero_sandbox.identity import problem_body
from xero_sandbox.reads import API, error_response, not_found

__all__ = [
    "ALIASES",
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "MAX_PATH_BYTES",
    "MAX_QUERY_BYTES",
    "Guard",
    "XeroShapedH11",
    "http_exception_response",
    "server_error_response",
]

MAX_BODY_BYTES = 3_500_000
MAX_QUERY_BYTES = 2048
MAX_PATH_BYTES = 4096
MAX_HEAD_BYTES = 1024 * 1024  # request line + headers the parser holds before giving up
_LINGER_S = 5.0  # how long an unreadable request may keep sending after its answer

# Paths well-known clients call that Xero serves under another name (lower case, under the
# Accounting API prefix). Xero's own spec, xero-python and xero-node use GET /Organisation;
# singer-io/tap-xero (its resource name is the stream name in title case, "organisations") and
# pyxero (whose object list names "Organisations") call the plural, which Xero serves too.
ALIASES = {"organisations": "Organisation"}


def _problem(status: int, title: str, detail: str) -> Response:
    body = problem_body(status, detail)
    body["Title"] = title
    return error_response(status, body)


def too_long_url(kind: str, limit: int) -> Response:
    """Xero's 404 for an over-long URL, in the sandbox's not-found shape."""
    return not_found(
        f"The {kind} is longer than Xero accepts ({limit:,} characters); Xero answers 404"
    )


def _too_large() -> Response:
    return _problem(
        413,
        "RequestEntityTooLarge",
        f"The request body is larger than Xero accepts ({MAX_BODY_BYTES:,} bytes)",
    )


def http_exception_response(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no such route or method) in Xero's shapes instead of text."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return not_found()
    if status == 405 and request.url.path.lower().startswith(API.lower() + "/"):
        # Xero answers 501 to a method an endpoint does not implement.
        detail = "The method you have called has not been implemented"
        return _problem(501, "NotImplemented", detail)
    detail = exc.detail if isinstance(exc, HTTPException) else "An unexpected error occurred"
    return _problem(status, "Error", str(detail))


def server_error_response() -> Response:
    """A bug in the sandbox: Xero's 500 problem body rather than Starlette's plain text."""
    return _problem(500, "Server Error", "An unexpected error occurred (xero-sandbox)")


class _Body:
    """The request body, read once by the guard and handed to the app as one message."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._message: Message | None = None
        self.gone = False  # the client went away before its body was complete

    async def read(self, declared: int | None, limit: int = MAX_BODY_BYTES) -> bool:
        """Read the whole body; False (with the excess discarded) when it is over ``limit``."""
        chunks: list[bytes] = []
        size = 0
        over = declared is not None and declared > limit
        while True:
            message = await self._receive()
            if message["type"] != "http.request":
                self.gone = True
                return not over
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            over = over or size > limit
            if not over:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self._message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return not over

    async def receive(self) -> Message:
        message, self._message = self._message, None
        return message if message is not None else await self._receive()


def _aliased(scope: Scope) -> Scope:
    """The scope with an aliased Accounting API collection replaced by Xero's own name."""
    path = str(scope["path"])
    prefix = API + "/"
    if not path.lower().startswith(prefix.lower()):
        return scope
    head, slash, rest = path[len(prefix) :].partition("/")
    name = ALIASES.get(head.lower())
    if name is None:
        return scope
    new_path = prefix + name + slash + rest
    return {**scope, "path": new_path, "raw_path": new_path.encode()}


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


class Guard:
    """ASGI middleware: URL and body bounds, then the request log.

    The outermost middleware: before anything else runs, it

    1. answers 404 (the sandbox's Xero-shaped not-found body) to a URL whose query string is
       longer than :data:`MAX_QUERY_BYTES` or whose path is longer than :data:`MAX_PATH_BYTES`:
       Xero answers 404 to over-long query strings, e.g. an ``IDs=`` list of more than 52 GUIDs.
       52 GUIDs with encoded commas are 2,025 characters and 53 are 2,064: the 2,048 of IIS's
       default ``maxQueryString`` (and its ``maxUrl`` of 4,096 for the path) sit between;
    2. reads the request body, counting as it goes, and answers 413 to a body over
       :data:`MAX_BODY_BYTES` (Xero's documented 3.5 MB per POST) without keeping more than that
       in memory: a declared ``Content-Length`` over the limit is refused before anything is
       read, and the rest of an oversized body is read and discarded so the client gets the
       answer; an upload's body (an attachment's, the Files API's) is left to its handler,
       which streams it to disk (a declared length over the upload's limit is refused here);
    3. with ``--log-requests``, writes one line per request to stderr once the answer is sent:
       method, path (and query, on Accounting API paths), tenant, status, milliseconds.

    Request heads the HTTP parser itself cannot take (over :data:`MAX_HEAD_BYTES`, or malformed)
    never reach the app: :class:`XeroShapedH11` answers those in the same shapes.
    """

    def __init__(self, app: ASGIApp, log_requests: bool = False) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = [0]

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self._guarded(scope, receive, watched)
        except Exception:
            if status[0]:
                raise
            # A bug in the sandbox: Xero's 500 body rather than Starlette's plain text; the
            # traceback goes to the server's stderr for whoever debugs it.
            traceback.print_exc()
            await server_error_response()(scope, receive, watched)
        finally:
            if self.log_requests:
                self._log_line(scope, status[0], time.perf_counter() - started)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = _aliased(scope)
        query = bytes(scope.get("query_string", b""))
        path = bytes(scope.get("raw_path") or str(scope["path"]).encode())
        if len(query) > MAX_QUERY_BYTES:
            await too_long_url("query string", MAX_QUERY_BYTES)(scope, receive, send)
            return
        if len(path) > MAX_PATH_BYTES:
            await too_long_url("URL path", MAX_PATH_BYTES)(scope, receive, send)
            return
        body = _Body(receive)
        declared = _declared_length(Headers(scope=scope))
        limit = upload_limit(str(scope["method"]), str(scope["path"]))
        if limit is not None:
            # An upload's body is streamed by its handler, which counts it too.
            if declared is not None and declared > limit:
                await body.read(declared, limit)
                if not body.gone:
                    await too_large(limit)(scope, body.receive, send)
                return
            await self.app(scope, receive, send)
            return
        fits = await body.read(declared)
        if body.gone:
            return  # nobody to answer
        if not fits:
            await _too_large()(scope, body.receive, send)
            return
        await self.app(scope, body.receive, send)

    def _log_line(self, scope: Scope, status: int, seconds: float) -> None:
        path = str(scope["path"])
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        if query and path.lower().startswith(API.lower()):
            path += "?" + (query if len(query) <= 300 else query[:300] + "...")
        state: dict[str, Any] = scope.get("state") or {}
        tenant = state.get("tenant_id") or "-"
        line = f"{scope['method']} {path} {tenant} {status or '-'} {seconds * 1000:.0f}ms\n"
        sys.stderr.write(line)
        sys.stderr.flush()


class XeroShapedH11(H11Protocol):
    """uvicorn's h11 protocol, answering requests it cannot parse in Xero's shapes.

    uvicorn answers a request head it cannot parse with a plain-text 400. A head whose request
    line is over the URL limits gets Xero's 404 (as an over-long URL reaching the app does);
    anything else malformed gets a 400 problem body.
    """

    _answered = False
    log_requests = False  # set on a subclass by :meth:`logging`

    @classmethod
    def logging(cls, log_requests: bool) -> type[XeroShapedH11]:
        """This protocol, writing a ``--log-requests`` line for each request it answers."""
        return type(cls.__name__, (cls,), {"log_requests": log_requests})

    def send_400_response(self, msg: str) -> None:
        pending = self.conn.trailing_data[0]
        line = pending.split(b"\r\n", 1)[0]
        if len(line) > MAX_QUERY_BYTES:
            answer = too_long_url("URL", MAX_QUERY_BYTES)
        else:
            answer = _problem(400, "BadRequest", "The HTTP request could not be read")
        if self.log_requests:
            method, _, target = line.decode("latin-1").rsplit(" HTTP/", 1)[0].partition(" ")
            shown = target if len(target) <= 300 else target[:300] + "..."
            sys.stderr.write(f"{method or '-'} {shown or '-'} - {answer.status_code} 0ms\n")
            sys.stderr.flush()
        body = bytes(answer.body)
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        reason = b"Not Found" if answer.status_code == 404 else b"Bad Request"
        self.transport.write(
            self.conn.send(
                h11.Response(status_code=answer.status_code, headers=headers, reason=reason)
            )
        )
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        # Closing with the rest of a long request unread would reset the connection and lose
        # the answer: end our side, drop what still arrives, and close a little later.
        self._answered = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_S, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if not self._answered:
            super().data_received(data)

    def eof_received(self) -> None:
        if self._answered:
            self.transport.close()

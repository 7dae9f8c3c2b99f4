"""One request and its answer, as the client's layers pass them along, and the transport that
sends a request once: the innermost layer of :class:`~xero_api.client.XeroClient`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import msgspec

from .codec import decode_json
from .errors import UploadLengthError

__all__ = [
    "Call",
    "Exchange",
    "Layer",
    "Sink",
    "Transport",
    "Upload",
    "UploadLengthError",
    "fault_name",
]

_CHUNK = 1 << 16


class Sink(Protocol):
    """Where a download writes a body: ``reset()`` before every attempt."""

    def reset(self) -> None:
        """Forget what an earlier attempt wrote."""

    def write(self, chunk: bytes) -> None:
        """Take the next chunk of the body."""


class Upload:
    """A request body streamed from its source, its length known up front (sent as
    ``Content-Length``), never held whole in memory.

    Each attempt opens the source again from its first byte: a file, or a function returning
    fresh chunks, can be sent as often as the retries need. A one-shot iterator of chunks can
    be sent once: after its first chunk has gone, :attr:`can_resend` is False and the call is
    not sent again. A source that gives more or fewer bytes than ``length`` stops the request
    with :class:`UploadLengthError` (Xero would take a short body as the whole file).
    """

    def __init__(
        self,
        length: int,
        opener: Callable[[], Iterable[bytes]],
        *,
        replayable: bool = True,
        name: str = "upload",
    ) -> None:
        if length < 0:
            raise ValueError(f"{name}: length must not be negative, got {length}")
        self.length = length
        self.name = name
        self._opener = opener
        self._replayable = replayable
        self._started = False

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Upload:
        """A local file, read in 64 KB chunks on every attempt."""
        location = os.fspath(path)

        def chunks() -> Iterator[bytes]:
            with open(location, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    yield chunk

        return cls(os.stat(location).st_size, chunks, name=location)

    @classmethod
    def from_chunks(cls, chunks: Iterable[bytes], length: int, name: str = "upload") -> Upload:
        """A one-shot iterator of chunks: sent once, never again after its first chunk."""
        return cls(length, lambda: chunks, replayable=False, name=name)

    @property
    def can_resend(self) -> bool:
        """Whether another attempt can send the body from its first byte."""
        return self._replayable or not self._started

    def open(self) -> Iterator[bytes]:
        """The body from its first byte, checked against :attr:`length` as it goes."""
        if not self.can_resend:
            raise UploadLengthError(f"{self.name}: a one-shot stream cannot be sent again")
        sent = 0
        for chunk in self._opener():
            self._started = True
            sent += len(chunk)
            if sent > self.length:
                break
            if chunk:
                yield chunk
        self._started = True
        if sent > self.length:
            raise UploadLengthError(
                f"{self.name}: the source gave more than the {self.length:,} bytes declared"
            )
        if sent < self.length:
            raise UploadLengthError(
                f"{self.name}: the source gave {sent:,} bytes, not the {self.length:,} declared"
            )


@dataclass(slots=True)
class Call:
    """One logical request, and what the layers count over its attempts."""

    method: str
    path: str
    url: str
    tenant_id: str | None
    params: Mapping[str, Any] | None
    content: bytes | None
    headers: dict[str, str]  # the layers add to it (Authorization) before each attempt
    priority: float | None = None
    sink: Sink | None = None
    retry_safe: bool = True  # may be sent again after it may have reached Xero
    upload: Upload | None = None  # a streamed body (``content`` is then None)
    retries: int = 0  # after faults and 5xx
    rate_limit_waits: int = 0  # after 429s
    renewals: int = 0  # of the access token, after 401s

    @property
    def where(self) -> str:
        """``GET Invoices tenant=…``: how messages name the request."""
        tenant = f" tenant={self.tenant_id}" if self.tenant_id else ""
        return f"{self.method} {self.path}{tenant}"


@dataclass(slots=True)
class Exchange:
    """One attempt's outcome: an answer (status, headers, decoded body), or a fault."""

    response: httpx.Response | None = None
    body: Any = None
    fault: str | None = None  # a transport fault, or a success body that did not decode
    may_have_reached_xero: bool = True

    @property
    def status(self) -> int:
        """The answer's status; 0 when there is none (a fault before any answer)."""
        return 0 if self.response is None else self.response.status_code


class Layer(Protocol):
    """One concern of the send path; ``send`` hands the call to the next layer inward."""

    def send(self, call: Call) -> Exchange:
        """Send ``call``, handling this layer's concern, and return the outcome."""
        ...


class Transport:
    """Sends a call once over the pooled ``httpx.Client``; transport faults become values."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def send(self, call: Call) -> Exchange:
        """One attempt; a connection that never opened is marked as never reaching Xero."""
        if call.upload is not None and not call.upload.can_resend:
            return Exchange(fault="upload_not_replayable")
        try:
            if call.sink is not None:
                return self._stream(call, call.sink)
            response = self._http.request(
                call.method,
                call.url,
                params=call.params,
                content=_body(call),
                headers=call.headers,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return Exchange(fault=fault_name(exc), may_have_reached_xero=False)
        except httpx.TransportError as exc:
            return Exchange(fault=fault_name(exc))
        return _decoded(response)

    def _stream(self, call: Call, sink: Sink) -> Exchange:
        with self._http.stream(
            call.method, call.url, params=call.params, content=_body(call), headers=call.headers
        ) as response:
            try:
                if response.status_code < 300:
                    return _streamed(response, sink)
                response.read()
            except httpx.TransportError as exc:
                return Exchange(response=response, fault=fault_name(exc))
        return _decoded(response)


def _body(call: Call) -> bytes | Iterator[bytes] | None:
    """What an attempt sends: the upload opened from its first byte, else the content."""
    return call.upload.open() if call.upload is not None else call.content


def _decoded(response: httpx.Response) -> Exchange:
    """The answer with its JSON body decoded; a success body that does not decode is a fault
    (cut short), an error body that does not decode is kept as text."""
    body: Any = None
    # httpx binds a response's stream to the response (to close it): a reference cycle that
    # keeps each answer, a page's bytes with it, until the garbage collector runs. The body
    # is read: cut the cycle, so the answer is freed as soon as it is dropped.
    response.stream = httpx.ByteStream(b"")
    if response.content:
        try:
            body = decode_json(response.content)
        except msgspec.DecodeError:
            if response.status_code < 300:
                return Exchange(response=response, fault="truncated_or_invalid_json")
            body = response.text
    return Exchange(response=response, body=body)


def _streamed(response: httpx.Response, sink: Sink) -> Exchange:
    """Copy a success body into ``sink`` chunk by chunk; a short body is a fault to retry."""
    sink.reset()
    received = 0
    for chunk in response.iter_bytes(_CHUNK):
        sink.write(chunk)
        received += len(chunk)
    expected = response.headers.get("content-length")
    if expected is not None and expected.isdigit() and int(expected) != received:
        return Exchange(response=response, fault="truncated_body")
    return Exchange(response=response)


_FAULT_NAMES: dict[type[Exception], str] = {
    httpx.ConnectTimeout: "connect_timeout",
    httpx.ReadTimeout: "read_timeout",
    httpx.WriteTimeout: "write_timeout",
    httpx.PoolTimeout: "pool_timeout",
    httpx.ConnectError: "connect_error",
    httpx.RemoteProtocolError: "dropped_connection",
    httpx.ReadError: "read_error",
}


def fault_name(exc: Exception) -> str:
    """The name a transport fault is counted and reported under (``read_timeout`` …)."""
    if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "tls_certificate_not_trusted"
    return _FAULT_NAMES.get(type(exc), type(exc).__name__)

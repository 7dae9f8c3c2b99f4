"""Plain ``http://`` only to this machine: decided on resolved addresses, and held to them.

A base URL may use ``http://`` (the sandbox) only when its host is a loopback name
(``localhost``, ``*.localhost``) or a loopback IP literal, **and** every address the system
resolver gives for it is loopback. Names alone are not trusted: ``foo.localhost`` may be sent to a
DNS server that answers anything. The host is resolved once (:func:`loopback_addresses`), and
:class:`PinnedTransport` connects plain-http requests only to those addresses, trying them in
order as ``socket.create_connection`` would, with the original ``Host`` header. A later
answer from the resolver (DNS rebinding) is never consulted. ``https://`` is left alone: TLS
verifies the name, and SNI and certificates need it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["PinnedTransport", "client_transport", "is_loopback_host", "loopback_addresses"]


def is_loopback_host(host: str) -> bool:
    """True for loopback names and loopback IP literals (the name test; see the module doc)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_addresses(host: str) -> tuple[str, ...]:
    """Every address ``host`` resolves to, when all are loopback; ``ValueError`` saying why not.

    Only a loopback name or literal is looked up at all, so no other name leaves the machine."""
    if not is_loopback_host(host):
        raise ValueError(f"{host} is not a loopback host")
    try:
        answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"{host} does not resolve ({exc})") from None
    addresses = tuple(dict.fromkeys(str(answer[4][0]) for answer in answers))
    others = [a for a in addresses if not ipaddress.ip_address(a.partition("%")[0]).is_loopback]
    if others or not addresses:
        shown = ", ".join(others) or "nothing"
        raise ValueError(f"{host} resolves to {shown}, not only loopback addresses")
    return addresses


class PinnedTransport(httpx.BaseTransport):
    """Sends plain-http requests to the checked loopback addresses of their host only."""

    def __init__(
        self, inner: httpx.BaseTransport, addresses: Mapping[str, tuple[str, ...]]
    ) -> None:
        self._inner = inner
        self._addresses = dict(addresses)
        self._lock = threading.Lock()

    def _pinned(self, request: httpx.Request) -> tuple[str, ...]:
        host = request.url.host
        with self._lock:
            known = self._addresses.get(host)
            if known is None:
                # A host the settings did not check (say xero-auth's own callback): check now,
                # once, under the same rule.
                try:
                    known = self._addresses[host] = loopback_addresses(host)
                except ValueError as exc:
                    raise httpx.ConnectError(
                        f"plain http refused: {exc}", request=request
                    ) from None
            return known

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Pass https through; send http to each checked address in turn until one connects."""
        if request.url.scheme != "http":
            return self._inner.handle_request(request)
        addresses = self._pinned(request)
        for index, address in enumerate(addresses):
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,  # keeps Host: the name the server was asked for
                stream=request.stream,
                extensions=request.extensions,
            )
            try:
                return self._inner.handle_request(pinned)
            except httpx.ConnectError:
                if index + 1 == len(addresses):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


def client_transport(
    addresses: Mapping[str, tuple[str, ...]],
    inner: httpx.BaseTransport | None = None,
    limits: httpx.Limits | None = None,
) -> dict[str, Any]:
    """``httpx.Client`` keyword arguments that send every request through a
    :class:`PinnedTransport` (also mounted for ``http://``, so no proxy from the environment
    takes plain http off the machine)."""
    transport = PinnedTransport(
        inner or httpx.HTTPTransport(limits=limits or httpx.Limits()), addresses
    )
    return {"transport": transport, "mounts": {"http://": transport}}

"""The organisation being written: the shared Xero client bound to one tenant, as the loader,
the directory and the row streams see it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from xero_api.client import Upload, XeroClient
from xero_api.errors import (
    XeroAuthError,
    XeroError,
    XeroHTTPError,
    XeroNotFound,
    XeroValidationError,
)
from xero_api.settings import XeroSettings

__all__ = ["Organisation", "Reader", "RequestRejected", "XeroOrganisation"]


class RequestRejected(Exception):
    """Xero refused a whole write request (4xx): its messages and the echoed elements."""

    def __init__(self, messages: list[str], elements: list[dict[str, Any]] | None = None) -> None:
        """Keep Xero's own words; ``elements`` line up with the request when Xero sent them."""
        super().__init__("; ".join(messages) or "Xero refused the request")
        self.messages = messages or ["Xero refused the request"]
        self.elements = elements or []


class Reader(Protocol):
    """The GET half of the organisation."""

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        """Parsed JSON of a GET, or None when Xero answers 404."""
        ...


class Organisation(Reader, Protocol):
    """The organisation the target writes into: reads, and writes keyed for idempotency."""

    tenant_id: str

    def write(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        body: Any,
        idempotency_key: str,
    ) -> Mapping[str, Any]:
        """Send one write; raise :class:`RequestRejected` for a 4xx Xero explains."""
        ...


class XeroOrganisation:
    """:class:`Organisation` over the shared Xero client (which it owns and closes)."""

    def __init__(self, client: XeroClient, tenant_id: str) -> None:
        """Bind ``client`` to the tenant written into."""
        self.client = client
        self.tenant_id = tenant_id

    @classmethod
    def connect(
        cls, settings: XeroSettings, tenant_id: str | None, logger: logging.Logger
    ) -> XeroOrganisation:
        """Open the client; without a ``tenant_id`` the connection must reach exactly one
        organisation (XeroError naming the setting otherwise)."""
        client = XeroClient(settings, logger)
        if tenant_id:
            return cls(client, tenant_id)
        tenants = client.tenant_ids()
        if len(tenants) != 1:
            raise XeroError(
                f"config setting 'tenant_id': the connection reaches {len(tenants)} organisations; "
                "set tenant_id to the one to write into"
            )
        return cls(client, tenants[0])

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Mapping[str, Any] | None:
        """Parsed JSON of a GET (a bare list under the key ``""``), None for 404."""
        try:
            data = self.client.get(path, self.tenant_id, params).data
        except XeroNotFound:
            return None
        if isinstance(data, list):
            # A collection answered as a bare list (asset types): under the table's empty
            # envelope, where the directory reads it.
            return {"": data}
        return data if isinstance(data, Mapping) else None

    def write(
        self, method: str, path: str, params: Mapping[str, str], body: Any, idempotency_key: str
    ) -> Mapping[str, Any]:
        """Send one write; a 4xx becomes :class:`RequestRejected` with Xero's messages."""
        return self._send(method, path, params, idempotency_key, json=body)

    def upload(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        file: Upload,
        idempotency_key: str,
        content_type: str | None = None,
    ) -> Mapping[str, Any]:
        """Send a file as the body (streamed; raw unless ``content_type`` says otherwise, as a
        multipart body does); a 4xx becomes :class:`RequestRejected`."""
        headers = {"Content-Type": content_type} if content_type else None
        return self._send(method, path, params, idempotency_key, upload=file, headers=headers)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        idempotency_key: str,
        *,
        json: Any = None,
        upload: Upload | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Mapping[str, Any]:
        try:
            data = self.client.request(
                method,
                path,
                self.tenant_id,
                params=params,
                json=json,
                idempotency_key=idempotency_key,
                upload=upload,
                headers=headers,
            ).data
        except XeroValidationError as exc:
            raise RequestRejected(exc.messages, exc.elements) from exc
        except XeroAuthError:
            raise
        except XeroHTTPError as exc:
            if 400 <= exc.status < 500:
                raise RequestRejected([exc.message]) from exc
            raise
        return data if isinstance(data, Mapping) else {}

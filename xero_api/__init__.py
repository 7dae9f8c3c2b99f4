"""xero_api: everything tap-xero and target-xero know about Xero.

Public API (see each module's docstring):

* :class:`XeroClient`, :class:`XeroResponse` (``client``) -- the HTTP client: auth, pacing, retries.
* :class:`XeroSettings`, :data:`SETTINGS`, :class:`Setting` (``settings``) -- config keys.
* the exception tree in ``errors``; ``dates`` and ``codec`` for Xero's dates and exact money;
* :class:`Usage` (``usage``) -- the per-tenant usage report;
* ``resources`` -- the resource table; ``scopes`` -- which scope each endpoint needs.

May import only httpx, filelock, msgspec and the standard library (and psycopg, lazily, for a
PostgreSQL webhook queue in ``event_queue``).
"""

from typing import TYPE_CHECKING, Any

from .codec import decode_json, encode_json
from .errors import (
    UploadLengthError,
    XeroAuthError,
    XeroConfigError,
    XeroConnectionError,
    XeroError,
    XeroHTTPError,
    XeroNotFound,
    XeroRateLimited,
    XeroRateLimitExhausted,
    XeroServerError,
    XeroTokenError,
    XeroValidationError,
)
from .settings import SETTINGS, Setting, XeroSettings
from .usage import Usage

if TYPE_CHECKING:
    from .client import XeroClient, XeroResponse


def __getattr__(name: str) -> Any:
    # The client, and httpx under it, load on first use: tap-xero --about never needs them.
    if name in ("XeroClient", "XeroResponse"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SETTINGS",
    "Setting",
    "UploadLengthError",
    "Usage",
    "XeroAuthError",
    "XeroClient",
    "XeroConfigError",
    "XeroConnectionError",
    "XeroError",
    "XeroHTTPError",
    "XeroNotFound",
    "XeroRateLimitExhausted",
    "XeroRateLimited",
    "XeroResponse",
    "XeroServerError",
    "XeroSettings",
    "XeroTokenError",
    "XeroValidationError",
    "decode_json",
    "encode_json",
]

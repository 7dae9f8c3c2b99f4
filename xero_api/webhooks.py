"""Verifying Xero webhook deliveries.

Xero signs every webhook POST with ``x-xero-signature`` = base64(HMAC-SHA256(webhook key, raw
body)). A receiver must compute it over the raw bytes *before* parsing JSON, compare in constant
time, answer 401 to a bad or missing signature and 200 with an empty body to a good one (this is
also how Xero's intent-to-receive handshake checks the receiver).

tap-xero and target-xero are batch programs and receive no webhooks themselves; the receiver,
``xero-webhooks serve`` (``xero_webhooks``), uses this module, so that the check exists once and
is done right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "sign", "verify_signature"]

SIGNATURE_HEADER = "x-xero-signature"


def sign(key: str, body: bytes) -> str:
    """The signature Xero sends for ``body`` under the webhook ``key``."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def verify_signature(key: str, body: bytes, header: str | None) -> bool:
    """True only when ``header`` is the signature of the raw ``body`` under ``key``.

    A missing or empty header, or an empty key, is never valid. The comparison is constant time
    (``hmac.compare_digest``), so the time taken does not tell an attacker how much was right.
    """
    if not key or not header:
        return False
    expected = sign(key, body).encode()
    return hmac.compare_digest(expected, header.strip().encode())

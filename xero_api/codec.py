"""JSON in and out of Xero with exact money.

Responses decode with msgspec into plain Python objects where every non-integer number is a
``Decimal`` (``1.0000`` stays ``Decimal('1.0000')``), so amounts are never rounded through float.
Request bodies encode Decimals as JSON numbers with their exact digits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

__all__ = ["decode_json", "encode_json"]

_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")


def decode_json(data: bytes | str) -> Any:
    """Decode a JSON document; floats become ``Decimal``. Raises ``msgspec.DecodeError``."""
    return _decoder.decode(data)


def encode_json(value: Any) -> bytes:
    """Encode a request body; ``Decimal`` is written as a JSON number, datetimes as RFC 3339."""
    return _encoder.encode(value)

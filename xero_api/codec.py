"""JSON in and out of Xero with exact money.

Responses decode with msgspec into plain Python objects where every non-integer number is a
``Decimal`` (``1.0000`` stays ``Decimal('1.0000')``), so amounts are never rounded through float.
Request bodies encode Decimals as JSON numbers with their exact digits.

A caller that only passes numbers on to msgspec-encoded output (the tap's RECORD lines) may
decode inside :func:`numbers_as_text`: every non-integer number then stays its JSON text, as
``msgspec.Raw``, and is written back verbatim. That keeps Xero's exact digits too, without
building and printing a ``Decimal`` per number (about half the cost of a page).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

import msgspec

__all__ = ["decode_json", "encode_json", "numbers_as_text"]

_decoder = msgspec.json.Decoder(float_hook=Decimal)
_text_decoder = msgspec.json.Decoder(float_hook=msgspec.Raw)
_encoder = msgspec.json.Encoder(decimal_format="number")
# A context variable rather than a parameter: the decode happens deep in the client's request
# loop (retries, token renewal), and the choice belongs to whoever consumes the body.
_as_text: ContextVar[bool] = ContextVar("xero_numbers_as_text", default=False)


def decode_json(data: bytes | str) -> Any:
    """Decode a JSON document; floats become ``Decimal`` (``msgspec.Raw`` inside
    :func:`numbers_as_text`). Raises ``msgspec.DecodeError``."""
    return (_text_decoder if _as_text.get() else _decoder).decode(data)


@contextmanager
def numbers_as_text(enabled: bool = True) -> Iterator[None]:
    """Within this block (this thread or task), :func:`decode_json` keeps non-integer numbers
    as their JSON text (``msgspec.Raw``) when ``enabled``; integers stay ``int``."""
    token = _as_text.set(enabled)
    try:
        yield
    finally:
        _as_text.reset(token)


def encode_json(value: Any) -> bytes:
    """Encode a request body; ``Decimal`` is written as a JSON number, datetimes as RFC 3339."""
    return _encoder.encode(value)

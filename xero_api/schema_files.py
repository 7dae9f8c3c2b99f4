"""Where the generated JSON Schemas (``schemas/<stream>.json``) live, in a checkout or a wheel."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["load_schema", "schema_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def schema_dir() -> Path:
    """The folder holding the stream schemas.

    A wheel carries them as ``xero_api/schemas`` (pyproject force-include); a checkout or an
    editable install reads the committed ``<repo>/schemas``.
    """
    for candidate in (_PACKAGE_DIR / "schemas", _PACKAGE_DIR.parent / "schemas"):
        if (candidate / "invoices.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"no stream schemas found next to {_PACKAGE_DIR}; run `make schemas` in a checkout"
    )


def load_schema(stream: str) -> dict[str, Any]:
    """The JSON Schema of one stream (a fresh copy the caller may change)."""
    path = schema_dir() / f"{stream}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"no schema for stream {stream!r} at {path}") from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded

"""Xero's official OpenAPI specs, as committed in ``openapi/`` by ``scripts/vendor_openapi.py``.

Each ``openapi/<name>.json`` is one spec whole minus its prose (``openapi/SOURCE.json`` names the
Xero-OpenAPI commit, versions and licence). Tests read only these files, never Xero's YAML.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "openapi"
# Some specs fail openapi-core's check of the document itself (xero_accounting writes boolean
# defaults as the strings "false"/"true"): load them without it.
UNCHECKED = Config(spec_validator_cls=None)


@cache
def spec_document(name: str) -> dict[str, Any]:
    """The spec ``openapi/<name>.json`` as plain JSON (e.g. ``"xero_accounting"``)."""
    document: dict[str, Any] = json.loads((OPENAPI_DIR / f"{name}.json").read_text("utf-8"))
    return document


def openapi(name: str, config: Config = UNCHECKED) -> OpenAPI:
    """An openapi-core validator for the spec ``openapi/<name>.json``."""
    return OpenAPI.from_dict(spec_document(name), config=config)

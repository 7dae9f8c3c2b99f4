"""Lists of IDs and ``where`` alternatives packed into as few GETs as Xero's URLs take.

Xero answers 404 to an ``IDs=`` list of more than 52 GUIDs (the URL grows too long:
52 is 2,025 URL-encoded characters): every batched lookup keeps its list or ``where`` value
under that length, and ID lists at 50. Used by the target's lookups and the tap's reads of the
documents webhook events name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

__all__ = ["GUID", "ID_LIST_CHUNK", "QUERY_BUDGET", "fitting"]

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ID_LIST_CHUNK = 50
QUERY_BUDGET = 1950


def fitting(values: Sequence[str], joiner: str, limit: int) -> list[str]:
    """``values`` joined into as few query values as fit :data:`QUERY_BUDGET` URL-encoded
    characters (and ``limit`` values) each; a value too long alone still gets its own."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    glue = len(quote(joiner, safe=""))
    for value in values:
        length = len(quote(value, safe=""))
        if current and (size + glue + length > QUERY_BUDGET or len(current) >= limit):
            chunks.append(joiner.join(current))
            current, size = [], 0
        size += (glue if current else 0) + length
        current.append(value)
    if current:
        chunks.append(joiner.join(current))
    return chunks

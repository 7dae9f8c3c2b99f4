"""The Accounting API's write side: HTTP handling in :mod:`.http`, the table of writable
collections in :mod:`.table`, one module per family of documents, shared parts in
:mod:`.common`, :mod:`.references` and :mod:`.lines`."""

from xero_sandbox.writes.http import idempotent, read_elements, routes
from xero_sandbox.writes.table import WRITE_RESOURCES, WriteResource

__all__ = ["WRITE_RESOURCES", "WriteResource", "idempotent", "read_elements", "routes"]

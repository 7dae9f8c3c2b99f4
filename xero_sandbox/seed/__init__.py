"""The deterministic Demo Company: the same seed and scale always write the same database.

Every value comes from a ``random.Random`` seeded per tenant from ``--seed`` and the tenant's
position; no wall clock, no iteration whose order could vary. ``--scale N`` is the number of
invoices per tenant, and other documents grow in proportion (``scale.Counts``). Demo Companies
number their contacts ``C000001``... and sales invoices ``INV-0001``... alike; ``--overlap N``
also draws the first N contacts' names and invoices' contacts alike in all of them. The writes
side continues the sequences ``INV``, ``CN``, ``PO``, ``QU`` and ``Journal``.
"""

from xero_sandbox.seed.tenants import seed_if_empty, seed_tenant
from xero_sandbox.seed.world import SEED_START

__all__ = ["SEED_START", "seed_if_empty", "seed_tenant"]

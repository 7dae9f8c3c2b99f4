"""Organisation regions of the seeded tenants (``--regions NZ,AU,UK,US``).

A region sets what the Organisation record says about the country (``Version``, ``CountryCode``,
base currency, timezone, address) and, through ``Version``, which region-bound APIs the
organisation has (Payroll AU is Australian only; Payroll 2.0 serves UK and NZ organisations).
The Demo Company's chart of accounts and documents are the same in every region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xero_sandbox.store import Store

__all__ = ["REGIONS", "Region", "apply_region", "parse_regions", "region_of"]


@dataclass(frozen=True)
class Region:
    """What an organisation of one region says about itself."""

    version: str  # Organisation.Version
    country: str  # Organisation.CountryCode (ISO 3166)
    currency: str
    timezone: str
    country_name: str
    city: str


REGIONS: dict[str, Region] = {
    "NZ": Region("NZ", "NZ", "NZD", "NEWZEALANDSTANDARDTIME", "New Zealand", "Wellington"),
    "AU": Region("AU", "AU", "AUD", "AUSEASTERNSTANDARDTIME", "Australia", "Sydney"),
    "UK": Region("UK", "GB", "GBP", "GMTSTANDARDTIME", "United Kingdom", "London"),
    "US": Region("US", "US", "USD", "EASTERNSTANDARDTIME", "United States", "New York"),
}


def parse_regions(text: str) -> tuple[str, ...]:
    """``"NZ,AU"`` -> ``("NZ", "AU")``; ValueError naming ``--regions`` on an unknown one."""
    regions = tuple(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = [r for r in regions if r not in REGIONS]
    if not regions or unknown:
        wrong = ", ".join(unknown) if unknown else repr(text)
        raise ValueError(f"--regions: unknown region {wrong} (choose from {', '.join(REGIONS)})")
    return regions


def apply_region(store: Store, tenant_id: str, region: str) -> None:
    """Make a seeded tenant's Organisation record one of ``region`` (NZ is the seed's own)."""
    if region == "NZ":
        return
    facts = REGIONS[region]
    org: dict[str, Any] = next(store.iter_records(tenant_id, "Organisation"))
    org.update(
        Version=facts.version,
        CountryCode=facts.country,
        BaseCurrency=facts.currency,
        Timezone=facts.timezone,
    )
    for address in org.get("Addresses") or ():
        address.update(City=facts.city, Country=facts.country_name)
    store.put(tenant_id, "Organisation", org)


def region_of(store: Store, tenant_id: str) -> str:
    """The region (Organisation.Version) of a tenant."""
    for org in store.iter_records(tenant_id, "Organisation"):
        return str(org.get("Version") or "NZ")
    return "NZ"

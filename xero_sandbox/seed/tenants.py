"""Which tenants a seed makes, and the order in which each one's data is written."""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Callable
from datetime import date

from xero_sandbox.catalog import Record
from xero_sandbox.config import SandboxConfig
from xero_sandbox.ledger import Ledger
from xero_sandbox.regions import apply_region, parse_regions, region_of
from xero_sandbox.seed import documents, parties, payments, settings
from xero_sandbox.seed.assets import write_assets
from xero_sandbox.seed.files import write_attachments, write_files
from xero_sandbox.seed.payroll_au import seed_payroll_au
from xero_sandbox.seed.payroll_v2 import seed_payroll_v2
from xero_sandbox.seed.projects import write_projects
from xero_sandbox.seed.scale import Counts, write_invoices
from xero_sandbox.seed.world import Draws, World, day_ms
from xero_sandbox.store import Store, Tenant

__all__ = ["seed_if_empty", "seed_other_apis", "seed_tenant"]


def seed_tenant(
    store: Store,
    tenant: Tenant,
    rng: random.Random,
    scale: int,
    *,
    overlap: int = 0,
    shared_seed: str = "",
) -> None:
    """Write one tenant: settings always; documents unless the tenant is empty. The first
    ``overlap`` contacts and invoices are drawn from ``shared_seed``, alike in every tenant."""
    ledger = Ledger(store, new_id=lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    world = World(
        rng=rng,
        store=store,
        ledger=ledger,
        tenant_id=tenant.tenant_id,
        overlap=overlap,
        shared_seed=shared_seed,
    )
    store.add_tenant(tenant)
    with store.transaction():
        settings.write_tax_rates_and_currencies(world)
        settings.write_accounts(world, tenant.created_ms)
        settings.write_organisation(world, tenant)
    if tenant.empty:
        return
    counts = Counts.of(scale)
    with store.transaction():
        items = _write_reference_data(world, tenant.created_ms, counts.contacts)
    write_invoices(world, items, counts.invoices)  # commits every batch of 1,000
    for step in _document_steps(world, items, counts):
        with store.transaction(), ledger.buffered(tenant.tenant_id):
            step()


def _write_reference_data(world: World, created_ms: int, contacts: int) -> list[Record]:
    """Users, branding themes, tracking, items, contacts and groups; returns the items."""
    parties.write_users(world, created_ms)
    settings.write_branding_themes(world, created_ms)
    settings.write_tracking_categories(world)
    items = settings.write_items(world, created_ms)
    parties.write_contacts(world, created_ms, contacts)
    parties.write_contact_groups(world)
    return items


def _document_steps(world: World, items: list[Record], counts: Counts) -> list[Callable[[], None]]:
    """The documents after the invoices, in the order they are drawn; each is one transaction."""
    return [
        lambda: documents.write_credit_notes(world, items, counts.credit_notes),
        lambda: documents.write_bank_transactions(world, counts.bank_transactions),
        lambda: payments.write_cash_credits(world, counts.cash_credits, "OVERPAYMENT"),
        lambda: payments.write_cash_credits(world, counts.cash_credits, "PREPAYMENT"),
        lambda: documents.write_bank_transfers(world, counts.bank_transfers),
        lambda: documents.write_manual_journals(world, counts.manual_journals),
        lambda: documents.write_orders_and_quotes(world, items, counts.orders_and_quotes),
        lambda: documents.write_repeating_invoices(world, items, counts.repeating_invoices),
        lambda: documents.write_linked_transactions(world, counts.linked_transactions),
        lambda: payments.write_batch_payments(world, counts.batch_payments),
        lambda: settings.write_budget(world),
        lambda: documents.write_expense_claim(world),
        lambda: payments.write_payment_service(world),
    ]


def seed_other_apis(store: Store, tenant: Tenant, seed_text: str, scale: int) -> None:
    """Write one tenant's projects, assets, attachments, files and payroll (Payroll AU in
    Australia, Payroll UK or NZ in Britain or New Zealand), each payroll from a generator of its
    own, so the Accounting data stays what it was; nothing for an empty
    tenant (no subscription, no documents to attach to)."""
    if tenant.empty:
        return
    draws = Draws(random.Random(seed_text))
    with store.transaction():
        write_projects(store, tenant.tenant_id, draws, scale)
        write_assets(store, tenant.tenant_id, draws, scale)
        write_attachments(store, tenant.tenant_id, draws, scale)
        write_files(store, tenant.tenant_id, draws, scale)
        region = region_of(store, tenant.tenant_id)
        if region == "AU":
            seed_payroll_au(store, tenant.tenant_id, random.Random(f"{seed_text}:payroll"), scale)
        elif region in ("UK", "NZ"):
            payroll = Draws(random.Random(f"{seed_text}:payroll-2"))
            seed_payroll_v2(store, tenant.tenant_id, payroll, region, scale)


def _tenant(config: SandboxConfig, index: int, region: str, rng: random.Random) -> Tenant:
    """The ``index``-th tenant: Demo Companies first, then the empty ones."""
    empty = index >= config.tenants
    name = (
        f"Empty Company {index - config.tenants + 1}"
        if empty
        else f"Demo Company ({region})"
        if index == 0
        else f"Demo Company ({region}) {index + 1}"
    )
    return Tenant(
        tenant_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        name=name,
        short_code=f"!{rng.getrandbits(24):06x}",
        created_ms=day_ms(date(2025, 3, 1)) + index * 60_000,
        empty=empty,
    )


def seed_if_empty(store: Store, config: SandboxConfig) -> bool:
    """Seed the database unless it already holds a world; True when it seeded now."""
    if store.is_seeded():
        return False
    if store.tenants():
        raise ValueError(f"{store.path} holds an unfinished seed; delete it and start again")
    regions = parse_regions(config.regions)
    for index in range(config.tenants + config.empty_tenants):
        rng = random.Random(f"xero-sandbox:{config.seed}:{index}")
        region = regions[index % len(regions)]
        tenant = _tenant(config, index, region, rng)
        if config.scale >= 100_000:
            print(f"xero-sandbox: seeding {tenant.name}...", file=sys.stderr, flush=True)
        seed_tenant(
            store,
            tenant,
            rng,
            config.scale,
            overlap=config.overlap,
            shared_seed=f"xero-sandbox:{config.seed}:shared",
        )
        apply_region(store, tenant.tenant_id, region)
        seed_other_apis(store, tenant, f"xero-sandbox:{config.seed}:{index}:apis", config.scale)
    store.set_meta("seeded", "1")
    store.set_meta("seed", str(config.seed))
    store.set_meta("scale", str(config.scale))
    if config.overlap:
        store.set_meta("overlap", str(config.overlap))
    return True

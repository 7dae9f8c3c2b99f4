"""The people of a Demo Company: its users, its contacts (customers and suppliers) and contact
groups."""

from __future__ import annotations

from collections.abc import Iterator

from xero_sandbox.catalog import Record
from xero_sandbox.ledger import ms_date
from xero_sandbox.seed.scale import in_batches
from xero_sandbox.seed.world import World, contact_ref

__all__ = ["write_contact_groups", "write_contacts", "write_users"]

_FIRST = (
    "Ann",
    "Ben",
    "Chloe",
    "Dev",
    "Ema",
    "Finn",
    "Grace",
    "Hana",
    "Ivan",
    "Jo",
    "Kiri",
    "Liam",
)
_LAST = ("Ngata", "Smith", "Walker", "Patel", "Chen", "Brown", "Wilson", "Taylor", "Clarke", "Reid")
_WORDS = (
    "Aroha",
    "Basket",
    "Bayside",
    "Boom",
    "City",
    "Coastal",
    "Diisco",
    "Espresso",
    "Fern",
    "Hamilton",
    "Harbour",
    "Kauri",
    "Marine",
    "Moana",
    "Orchard",
    "Pinnacle",
    "Ridgeway",
    "Southern",
    "Summit",
    "Tasman",
    "Totara",
    "Vantage",
    "Waitaki",
    "Zenith",
)
_SUFFIX = ("Ltd", "Limited", "& Co", "Traders", "Services", "Supplies", "Group", "Partners")


def write_users(world: World, created_ms: int) -> None:
    """A subscriber and two more users; ``world.users`` keeps them."""
    for index, role in enumerate(("STANDARD", "FINANCIALADVISER", "READONLY")):
        first, last = _FIRST[index], _LAST[index]
        world.users.append(
            {
                "UserID": world.uid(),
                "EmailAddress": f"{first.lower()}.{last.lower()}@example.co.nz",
                "FirstName": first,
                "LastName": last,
                "UpdatedDateUTC": ms_date(created_ms + index * 60_000),
                "IsSubscriber": index == 0,
                "OrganisationRole": role,
            }
        )
    world.store.put_many(world.tenant_id, "Users", world.users)


def write_contacts(world: World, created_ms: int, count: int) -> None:
    """``count`` contacts, one in three a supplier, one in ten archived; the active ones join
    ``world.customers`` or ``world.suppliers`` (and the --overlap customers the shared ones)."""

    def contacts() -> Iterator[Record]:
        for index in range(count):
            contact = _contact(world, index, created_ms)
            if contact["ContactStatus"] == "ACTIVE":
                ref = contact_ref(contact)
                if contact["IsSupplier"]:
                    world.suppliers.append(ref)
                else:
                    world.customers.append(ref)
                    if index < world.overlap:
                        world.shared_customers.append(ref)
            yield contact

    in_batches(lambda batch: world.store.put_many(world.tenant_id, "Contacts", batch), contacts())


def _contact_name(world: World, index: int) -> str:
    """A made-up business name; an --overlap contact's is the same in every Demo Company."""
    words = world.shared("contact", index) or world.rng
    first = _WORDS[words.randrange(len(_WORDS))]
    second = _WORDS[words.randrange(len(_WORDS))]
    return f"{first} {second} {_SUFFIX[words.randrange(len(_SUFFIX))]} {index + 1}"


def _contact(world: World, index: int, created_ms: int) -> Record:
    rng, supplier = world.rng, index % 3 == 2
    name = _contact_name(world, index)
    first, last = _FIRST[rng.randrange(len(_FIRST))], _LAST[rng.randrange(len(_LAST))]
    archived = index % 10 == 5  # about one contact in ten is archived
    return {
        "ContactID": world.uid(),
        "ContactNumber": f"C{index + 1:06d}",
        "AccountNumber": f"AC{index + 1:05d}",
        "ContactStatus": "ARCHIVED" if archived else "ACTIVE",
        "Name": name,
        "FirstName": first,
        "LastName": last,
        "EmailAddress": f"{first.lower()}@{name.split()[0].lower()}{index + 1}.co.nz",
        "BankAccountDetails": "",
        "Addresses": [
            {"AddressType": "STREET", "City": "Auckland", "Country": "New Zealand"},
            {
                "AddressType": "POBOX",
                "AddressLine1": f"PO Box {rng.randrange(100, 9999)}",
                "City": "Auckland",
                "PostalCode": "1010",
                "Country": "New Zealand",
            },
        ],
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneNumber": f"555-{rng.randrange(1000, 9999)}"},
            {"PhoneType": "MOBILE", "PhoneNumber": ""},
        ],
        "UpdatedDateUTC": ms_date(created_ms + 7200_000 + index * 1000),
        "ContactGroups": [],
        "IsSupplier": supplier,
        "IsCustomer": not supplier,
        "DefaultCurrency": "NZD",
        "HasAttachments": False,
        "HasValidationErrors": False,
    }


def write_contact_groups(world: World) -> None:
    groups = []
    for index, name in enumerate(("Preferred Customers", "Wholesale", "Key Suppliers")):
        pool = world.suppliers if index == 2 else world.customers
        groups.append(
            {
                "ContactGroupID": world.uid(),
                "Name": name,
                "Status": "ACTIVE",
                "Contacts": [contact_ref(c) for c in pool[index : index + 3]],
            }
        )
    world.store.put_many(world.tenant_id, "ContactGroups", groups)

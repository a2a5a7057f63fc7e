"""Sample data for `invoicebridge demo`: one company with customers, products, tax rates and ~50 SOs, and an
admin who logs in by a one-time link.

Deterministic (a seeded generator) and idempotent: a book that already has the demo company is left alone, and
the demo admin is created only when missing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from invoicebridge.domain import Company, NotFound, PageRequest, ProductVariant, RowInput
from invoicebridge.domain.access import Role, User
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.sync.people import People

COMPANY_NAME = "Demo Trading Co"
CUSTOMERS = [
    ("Ada Lovelace Engineering", "accounts@ada-eng.example", "12 Analytical Way", "Boston", "MA", "02110"),
    ("Brunel Bridges Ltd", "ap@brunel.example", "1 Clifton Rd", "Albany", "NY", "12207"),
    ("Curie Labs", "billing@curielabs.example", "88 Radium St", "Chicago", "IL", "60601"),
    ("Darwin Outfitters", "orders@darwin.example", "5 Beagle Ave", "Austin", "TX", "73301"),
    ("Euler & Sons", None, "271 Prime Blvd", "Denver", "CO", "80202"),
    ("Faraday Electric", "finance@faraday.example", "9 Coil Ct", "Seattle", "WA", "98101"),
]
PRODUCTS = [
    ("WID-100", "Widget, small", "12.50", "4.10"),
    ("WID-200", "Widget, large", "24.00", "9.75"),
    ("GEAR-7", "Gear assembly", "149.99", "61.20"),
    ("BOLT-M8", "Bolt M8 (box of 100)", "18.40", "6.05"),
    ("CAB-2M", "Cable 2 m", "7.95", "2.30"),
    ("PNL-SOL", "Solar panel 400 W", "289.00", "190.00"),
    ("SRV-INST", "Installation (hour)", "85.00", "40.00"),
    ("KIT-START", "Starter kit", "59.90", "22.15"),
]
TAX_RATES = [("Sales tax 8.25%", "8.25"), ("Reduced 5%", "5"), ("Exempt", "0")]
ORDER_COUNT = 50
ADMIN_EMAIL = "admin@demo.invoicebridge.example"  # .example: a domain that can never receive mail
ADMIN_NAME = "Demo Admin"


@dataclass(frozen=True)
class DemoSummary:
    company: Company
    created: bool
    orders: int


def seed_demo(book: OrderBook, now: datetime, orders: int = ORDER_COUNT) -> DemoSummary:
    """Create the demo company and its data unless it exists already."""
    existing = [c for c in book.list_companies(PageRequest(limit=500)).items if c.name == COMPANY_NAME]
    if existing:
        return DemoSummary(existing[0], False, orders)
    company = book.create_company(COMPANY_NAME, "USD", "America/New_York")
    assert company.id is not None
    customers: list[int] = [
        book.create_customer(
            company.id, name, email, {"line1": line1, "city": city, "region": region, "postal_code": postal,
                                      "country": "US"}, None,
        ).id or 0
        for name, email, line1, city, region, postal in CUSTOMERS
    ]  # fmt: skip
    products = [book.create_product(company.id, *p) for p in PRODUCTS]
    rates = [book.create_tax_rate(company.id, *r).id or 0 for r in TAX_RATES]
    generator = random.Random(20261125)
    for n in range(1, orders + 1):
        _seed_order(book, company.id, n, now, generator, customers, products, rates)
    return DemoSummary(company, True, orders)


def _seed_order(
    book: OrderBook,
    company_id: int,
    n: int,
    now: datetime,
    generator: random.Random,
    customers: list[int],
    products: list[ProductVariant],
    rates: list[int],
) -> None:
    chosen = generator.sample(products, generator.randint(1, 4))
    rows = [RowInput(p.id, str(generator.randint(1, 12)), None, generator.choice(rates)) for p in chosen]
    created = now - timedelta(days=generator.randint(0, 60), hours=generator.randint(0, 23))
    deadline = (created + timedelta(days=generator.randint(7, 30))).date()
    order = book.create_sales_order(
        company_id, f"SO-{1000 + n}", generator.choice(customers), rows, created_at=created, delivery_deadline=deadline
    )
    fate = generator.random()
    if fate < 0.3 or order.id is None:
        return  # not shipped
    if fate < 0.5:  # partially delivered: the first row, partly
        first = order.rows[0]
        book.record_delivery(company_id, order.id, {first.id or 0: max(Decimal(1), first.quantity // 2)}, created)
        return
    book.record_delivery(company_id, order.id, {r.id or 0: r.quantity for r in order.rows}, created + timedelta(days=2))


def ensure_demo_admin(people: People, company_id: int) -> User:
    """The demo's admin, created without a password on the first run (the demo prints a login link for them).
    They are made admin of the demo company on every run: the link the demo prints promises an admin."""
    try:
        user = people.user(ADMIN_EMAIL)
    except NotFound:
        user = people.create_user(ADMIN_EMAIL, ADMIN_NAME)
    people.add_member(company_id, user.email, Role.ADMIN)
    return user

"""Amounts round-trip exactly on SQLite and PostgreSQL (issue 9, item 4): every value the validators accept, and
every value an amount column declares (NUMERIC(18, 4)); the migration converts SQLite's old REALs to exactly what
the application showed for them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import exact_amounts

from invoicebridge.domain import OrderFilter, PageRequest, ProductVariant, RowInput
from invoicebridge.domain.money import MAX_LINE_AMOUNT
from invoicebridge.store.db import make_engine, make_session_factory
from invoicebridge.store.migrate import alembic_config, upgrade
from invoicebridge.store.tables import ProductRow
from invoicebridge.store.unit_of_work import SqlUnitOfWork
from invoicebridge.sync.orderbook import OrderBook

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FOUR_PLACES = Decimal("0.0001")
# Everything a NUMERIC(18, 4) column declares it holds (beyond what the validators accept).
column_values = st.decimals(min_value=Decimal(0), max_value=Decimal("99999999999999.9999"), places=4)
DB_EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass
class Book:
    orders: OrderBook
    engine: sa.Engine
    company: int
    customer: int
    numbers: Iterator[int]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def book(request: pytest.FixtureRequest) -> Iterator[Book]:
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    orders = OrderBook(lambda: SqlUnitOfWork(sessions), lambda: T0)
    company = orders.create_company("Acme", "USD", "America/New_York").id or 0
    customer = orders.create_customer(company, "Ada").id or 0
    yield Book(orders, engine, company, customer, itertools.count(1))
    engine.dispose()


@DB_EXAMPLES
@given(price=exact_amounts, cost=exact_amounts, quantity=exact_amounts, percent=exact_amounts)
def test_every_amount_the_validators_accept_reads_back_exactly(
    book: Book, price: Decimal, cost: Decimal, quantity: Decimal, percent: Decimal
) -> None:
    n = next(book.numbers)
    percent = percent % 100
    quantity = max(quantity, FOUR_PLACES)
    unit_price = price if quantity * price <= MAX_LINE_AMOUNT else Decimal(0)  # larger rows are refused
    unit_cost = cost if quantity * cost <= MAX_LINE_AMOUNT else Decimal(0)
    product = book.orders.create_product(book.company, f"SKU-{n}", "Thing", str(price), str(cost))
    rate = book.orders.create_tax_rate(book.company, f"Rate {n}", str(percent))
    row = RowInput(product.id, str(quantity), str(unit_price), rate.id, str(unit_cost))
    order = book.orders.create_sales_order(book.company, f"SO-{n}", book.customer, [row])

    stored = book.orders.get_product(book.company, product.id or 0)
    assert (stored.sales_price, stored.unit_cost) == (price, cost)
    assert book.orders.get_tax_rate(book.company, rate.id or 0).percent == percent
    again = book.orders.get_sales_order(book.company, order.id or 0).order.rows[0]
    assert (again.quantity, again.unit_price, again.unit_cost) == (quantity, unit_price, unit_cost)
    listed = book.orders.list_sales_orders(book.company, OrderFilter(), PageRequest(limit=1, after=(order.id or 1) - 1))
    assert listed.items[0].order.total == quantity * unit_price


@DB_EXAMPLES
@given(price=column_values, cost=column_values)
def test_every_value_an_amount_column_declares_reads_back_exactly(book: Book, price: Decimal, cost: Decimal) -> None:
    n = next(book.numbers)
    with SqlUnitOfWork(make_session_factory(book.engine)) as uow:
        added = uow.products.add(ProductVariant(None, book.company, f"COL-{n}", "Thing", price, cost))
        uow.commit()
    stored = book.orders.get_product(book.company, added.id or 0)
    assert (stored.sales_price, stored.unit_cost) == (price, cost)
    assert str(stored.sales_price) == str(price.quantize(FOUR_PLACES))  # same digits on both backends


def test_the_amount_of_the_issue_keeps_its_last_digits(book: Book) -> None:
    big = Decimal("12345678901234.5678")  # read back as 12345678901234.5684 when SQLite kept it as a REAL
    with SqlUnitOfWork(make_session_factory(book.engine)) as uow:
        added = uow.products.add(ProductVariant(None, book.company, "BIG", "Big", big, big))
        uow.commit()
    assert book.orders.get_product(book.company, added.id or 0).sales_price == big


def test_amounts_sort_and_compare_as_numbers_in_sql(book: Book) -> None:
    prices = ["9", "10", "100.5", "0.0001", "2"]
    for n, price in enumerate(prices):
        book.orders.create_product(book.company, f"S-{n}", "Thing", price, "0")
    with book.engine.connect() as connection:
        ordered = connection.scalars(sa.select(ProductRow.sales_price).order_by(ProductRow.sales_price)).all()
        over_nine = connection.scalars(sa.select(ProductRow.sku).where(ProductRow.sales_price > Decimal(9))).all()
        total = connection.scalar(sa.select(sa.func.sum(ProductRow.sales_price)))
    assert ordered == sorted(Decimal(p) for p in prices)
    assert sorted(over_nine) == ["S-1", "S-2"]
    assert total == sum(Decimal(p) for p in prices)


def test_an_amount_too_large_for_its_column_is_refused_not_rounded(book: Book) -> None:
    over = ProductVariant(None, book.company, "OVER", "Over", Decimal("100000000000000"), Decimal(0))
    with SqlUnitOfWork(make_session_factory(book.engine)) as uow, pytest.raises(sa.exc.StatementError) as caught:
        uow.products.add(over)
    assert "does not fit NUMERIC(18, 4)" in str(caught.value)


# -- the migration ----------------------------------------------------------------------------------------------
def old_book(url: str) -> sa.Engine:
    """A SQLite book at revision 0003, its amounts written as the application then wrote them: floats."""
    from alembic import command

    command.upgrade(alembic_config(url), "0003")
    engine = make_engine(url)
    with engine.begin() as db:
        db.execute(
            sa.text("INSERT INTO companies (id, name, home_currency, timezone) VALUES (1, 'Acme', 'USD', 'UTC')")
        )
        db.execute(sa.text(
            "INSERT INTO customers (id, company_id, display_name, billing_address, shipping_address, currency) "
            "VALUES (1, 1, 'Ada', '{}', '{}', 'USD')"
        ))  # fmt: skip
        db.execute(
            sa.text(
                "INSERT INTO product_variants (id, company_id, sku, name, sales_price, unit_cost) "
                "VALUES (:id, 1, :sku, 'Thing', :price, :cost)"
            ),
            [
                {"id": 1, "sku": "BIG", "price": 12345678901234.5678, "cost": 4.1},
                {"id": 2, "sku": "WHOLE", "price": 12.0, "cost": 0.0},
            ],
        )
        db.execute(sa.text("INSERT INTO tax_rates (id, company_id, name, percent) VALUES (1, 1, 'VAT', 8.625)"))
        db.execute(sa.text(
            "INSERT INTO sales_orders (id, company_id, number, customer_id, billing_address, shipping_address, "
            "created_at, currency, delivery_status) VALUES (1, 1, 'SO-1', 1, '{}', '{}', '2026-03-01 09:00:00', "
            "'USD', 'not_shipped')"
        ))  # fmt: skip
        db.execute(sa.text(
            "INSERT INTO sales_order_rows (id, company_id, sales_order_id, position, variant_id, quantity, unit_price,"
            " tax_rate_id, unit_cost, delivered_quantity, description) "
            "VALUES (1, 1, 1, 0, 1, 2.5, 0.1, 1, 0.3333, 0.0, '')"
        ))  # fmt: skip
        db.execute(sa.text(
            "INSERT INTO cogs_entries (id, company_id, sales_order_id, state, amount, version) "
            "VALUES (1, 1, 1, 'posting', 0.83, 1)"
        ))  # fmt: skip
    return engine


def test_the_migration_keeps_every_old_amount_as_the_application_showed_it(sqlite_url: str) -> None:
    old_book(sqlite_url).dispose()
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with SqlUnitOfWork(make_session_factory(engine)) as uow:
        big, whole = uow.products.get(1, 1), uow.products.get(1, 2)
        row = uow.sales_orders.get(1, 1).rows[0]
        rate = uow.tax_rates.get(1, 1)
        cogs = uow.cogs.get(1, 1)
    engine.dispose()
    # Before, SQLAlchemy read each REAL as "%.4f": those are the digits users saw, and keep.
    assert big.sales_price == Decimal(f"{12345678901234.5678:.4f}") == Decimal("12345678901234.5684")
    assert (big.unit_cost, whole.sales_price, whole.unit_cost) == (Decimal("4.1"), Decimal(12), Decimal(0))
    assert (row.quantity, row.unit_price, row.unit_cost, row.delivered_quantity) == (
        Decimal("2.5"), Decimal("0.1"), Decimal("0.3333"), Decimal(0),
    )  # fmt: skip
    assert (rate.percent, cogs.amount) == (Decimal("8.625"), Decimal("0.83"))


def test_the_migration_rebuilds_no_table_so_rows_and_references_stay(sqlite_url: str) -> None:
    engine = old_book(sqlite_url)
    with engine.connect() as db:
        before = db.exec_driver_sql("SELECT sql FROM sqlite_master ORDER BY name").all()
    command.upgrade(alembic_config(sqlite_url), "0004")  # 0004 alone: later migrations change the schema on purpose
    with engine.connect() as db:
        after = db.exec_driver_sql("SELECT sql FROM sqlite_master ORDER BY name").all()
        assert db.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert db.exec_driver_sql("SELECT count(*) FROM sales_order_rows").scalar() == 1
    engine.dispose()
    assert before == after  # the declared types stay NUMERIC: only the values change


def test_the_migration_goes_back_to_floats(sqlite_url: str) -> None:
    from alembic import command

    old_book(sqlite_url).dispose()
    upgrade(sqlite_url)
    command.downgrade(alembic_config(sqlite_url), "0003")
    engine = make_engine(sqlite_url)
    with engine.connect() as db:
        price, kind = db.exec_driver_sql("SELECT unit_cost, typeof(unit_cost) FROM product_variants WHERE id = 1").one()
    engine.dispose()
    assert (price, kind) == (4.1, "real")

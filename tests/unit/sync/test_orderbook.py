"""The order book's use cases, on the in-memory fake store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tests.fakes import in_memory_uow_factory

from invoicebridge.domain import (
    Conflict,
    DeliveryStatus,
    InvoiceState,
    NotFound,
    OrderFilter,
    PageRequest,
    RowInput,
    ValidationError,
)
from invoicebridge.sync.orderbook import OrderBook

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def book() -> OrderBook:
    return OrderBook(in_memory_uow_factory(), lambda: NOW)


@pytest.fixture
def ids(book: OrderBook) -> dict[str, int]:
    company = book.create_company("Acme", "USD", "America/Chicago")
    assert company.id
    customer = book.create_customer(
        company.id, "Ada", "ada@example.com", {"line1": "1 Main St", "city": "Chicago"}, None
    )
    product = book.create_product(company.id, "SKU-1", "Widget", "12.50", "5.00")
    rate = book.create_tax_rate(company.id, "Sales tax", "8")
    assert customer.id and product.id and rate.id
    return {"company": company.id, "customer": customer.id, "product": product.id, "rate": rate.id}


def test_order_takes_customer_addresses_currency_and_product_prices_by_default(
    book: OrderBook, ids: dict[str, int]
) -> None:
    so = book.create_sales_order(ids["company"], "SO-1", ids["customer"], [RowInput(ids["product"], "2")])
    assert so.billing_address.city == "Chicago"
    assert so.currency == "USD"
    assert so.created_at == NOW
    assert (so.rows[0].unit_price, so.rows[0].unit_cost) == (Decimal("12.50"), Decimal("5.00"))


def test_customer_takes_the_company_home_currency_by_default(book: OrderBook, ids: dict[str, int]) -> None:
    assert book.get_customer(ids["company"], ids["customer"]).currency == "USD"


def test_duplicate_so_number_is_refused_and_the_first_order_is_kept(book: OrderBook, ids: dict[str, int]) -> None:
    book.create_sales_order(ids["company"], "SO-1", ids["customer"], [RowInput(ids["product"], "2")])
    with pytest.raises(Conflict, match="SO-1 is already used"):
        book.create_sales_order(ids["company"], "SO-1", ids["customer"], [RowInput(ids["product"], "9")])
    assert book.get_sales_order_by_number(ids["company"], "SO-1").order.rows[0].quantity == Decimal(2)


def test_duplicate_sku_is_refused(book: OrderBook, ids: dict[str, int]) -> None:
    with pytest.raises(Conflict, match="SKU-1"):
        book.create_product(ids["company"], "SKU-1", "Another", "1")


def test_unknown_customer_product_and_tax_rate_are_refused_naming_the_field(
    book: OrderBook, ids: dict[str, int]
) -> None:
    with pytest.raises(ValidationError) as caught:
        book.create_sales_order(ids["company"], "SO-1", 999, [RowInput(998, "1", "1", 997)])
    fields = {p.field for p in caught.value.problems}
    assert fields == {"customer_id", "rows[1].variant_id", "rows[1].tax_rate_id"}


def test_refused_order_stores_nothing(book: OrderBook, ids: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        book.create_sales_order(ids["company"], "SO-1", ids["customer"], [RowInput(ids["product"], "-1")])
    listed = book.list_sales_orders(ids["company"], OrderFilter(), PageRequest())
    assert listed.items == ()


def test_partial_then_full_delivery(book: OrderBook, ids: dict[str, int]) -> None:
    so = book.create_sales_order(ids["company"], "SO-1", ids["customer"], [RowInput(ids["product"], "3")])
    assert so.id and so.rows[0].id
    partial = book.record_delivery(ids["company"], so.id, {so.rows[0].id: "1"})
    assert partial.delivery_status is DeliveryStatus.PARTIALLY_DELIVERED
    full = book.record_delivery(ids["company"], so.id, {so.rows[0].id: "2"})
    assert full.delivery_status is DeliveryStatus.DELIVERED
    with pytest.raises(ValidationError, match="only 3 were ordered"):
        book.record_delivery(ids["company"], so.id, {so.rows[0].id: "1"})


def test_new_order_shows_not_invoiced(book: OrderBook, ids: dict[str, int]) -> None:
    so = book.create_sales_order(ids["company"], "SO-1", ids["customer"], [RowInput(ids["product"], "3")])
    view = book.get_sales_order(ids["company"], so.id or 0)
    assert view.link.state is InvoiceState.NOT_INVOICED
    assert view.link.status_text == "Not invoiced"


def test_order_with_deliveries_can_no_longer_be_edited(book: OrderBook, ids: dict[str, int]) -> None:
    so = book.create_sales_order(ids["company"], "SO-1", ids["customer"], [RowInput(ids["product"], "3")])
    book.record_delivery(ids["company"], so.id or 0, {so.rows[0].id or 0: "1"})
    with pytest.raises(Conflict, match="deliveries"):
        book.update_sales_order(ids["company"], so.id or 0, delivery_deadline=None)


def test_editing_an_order_validates_and_keeps_its_rows(book: OrderBook, ids: dict[str, int]) -> None:
    so = book.create_sales_order(ids["company"], "SO-1", ids["customer"], [RowInput(ids["product"], "3")])
    updated = book.update_sales_order(ids["company"], so.id or 0, number="SO-1B")
    assert updated.number == "SO-1B"
    assert updated.rows[0].quantity == Decimal(3)
    with pytest.raises(ValidationError):
        book.update_sales_order(ids["company"], so.id or 0, currency="ZZZ")


def test_records_of_a_missing_company_are_not_found(book: OrderBook) -> None:
    with pytest.raises(NotFound):
        book.list_customers(404, PageRequest())


def test_too_many_rows_are_refused_before_any_product_is_looked_up(book: OrderBook, ids: dict[str, int]) -> None:
    """20,000 rows of products that do not exist: refused on the count alone, not after 20,000 look-ups (which
    would also have named every unknown product)."""
    rows = [RowInput(10_000 + n, "1", "1.00", None) for n in range(20_000)]
    with pytest.raises(ValidationError) as refused:
        book.create_sales_order(ids["company"], "SO-BIG", ids["customer"], rows)
    assert [p.field for p in refused.value.problems] == ["rows"]
    assert "at most 750 rows" in refused.value.problems[0].message

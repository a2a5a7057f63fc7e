"""CSV import: the optional `category` column gives the products the import creates their category; a product
that exists keeps its own; a category that is not one refuses its SO, naming the line and column."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from tests.fakes import in_memory_uow_factory

from invoicebridge.sync.order_import import OrderImporter
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.sync.ports import UnitOfWork

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HEADER = "so_number,customer_name,sku,quantity,unit_price,category\n"


@pytest.fixture
def uow() -> Callable[[], UnitOfWork]:
    return in_memory_uow_factory()


@pytest.fixture
def company(uow: Callable[[], UnitOfWork]) -> int:
    return OrderBook(uow, lambda: NOW).create_company("Acme", "USD", "America/New_York").id or 0


def category_of(uow: Callable[[], UnitOfWork], company: int, sku: str) -> str | None:
    with uow() as work:
        product = work.products.get_by_sku(company, sku)
    assert product is not None
    return product.category


def test_new_products_take_the_category_column_and_existing_ones_keep_theirs(
    uow: Callable[[], UnitOfWork], company: int
) -> None:
    OrderBook(uow, lambda: NOW).create_product(company, "OLD-1", "Old one", "5", "0", "Books")
    data = (HEADER + "SO-1,Ada,NEW-1,1,10, Garden \nSO-1,Ada,NEW-2,1,10,\nSO-1,Ada,OLD-1,1,5,Garden\n").encode()
    report = OrderImporter(uow, lambda: NOW).run(company, data)
    assert report.imported == ["SO-1"]
    assert category_of(uow, company, "NEW-1") == "Garden"
    assert category_of(uow, company, "NEW-2") is None
    assert category_of(uow, company, "OLD-1") == "Books"  # matched by SKU, never changed


def test_a_category_that_is_not_one_refuses_its_order(uow: Callable[[], UnitOfWork], company: int) -> None:
    data = (HEADER + f"SO-2,Ada,NEW-3,1,10,{'x' * 101}\nSO-3,Bea,NEW-4,1,10,Toys\n").encode()
    report = OrderImporter(uow, lambda: NOW).run(company, data)
    assert report.imported == ["SO-3"]
    [refused] = report.refused
    assert refused.so_number == "SO-2"
    assert (2, "category", "The category is longer than QuickBooks allows (100 characters).") in refused.problems
    assert category_of(uow, company, "NEW-4") == "Toys"

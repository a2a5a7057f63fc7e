"""CSV import: idempotent by SO number, all or nothing per SO, a report with lines and reasons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests.fakes import in_memory_uow_factory

from invoicebridge.domain import OrderFilter, PageRequest
from invoicebridge.sync.order_import import ImportFileError, OrderImporter
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.sync.ports import UnitOfWork

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SAMPLE = (Path(__file__).parents[3] / "examples" / "orders.csv").read_text()


@pytest.fixture
def uow() -> Callable[[], UnitOfWork]:
    return in_memory_uow_factory()


@pytest.fixture
def company(uow: Callable[[], UnitOfWork]) -> int:
    return OrderBook(uow, lambda: NOW).create_company("Acme", "USD", "America/New_York").id or 0


def numbers(uow: Callable[[], UnitOfWork], company: int) -> list[str]:
    book = OrderBook(uow, lambda: NOW)
    return [v.order.number for v in book.list_sales_orders(company, OrderFilter(), PageRequest()).items]


def test_sample_file_imports_good_orders_and_reports_the_bad_one_by_line(
    uow: Callable[[], UnitOfWork], company: int
) -> None:
    report = OrderImporter(uow, lambda: NOW).run(company, SAMPLE)
    assert report.imported == ["SO-2001", "SO-2002", "SO-2003"]
    assert [r.so_number for r in report.refused] == ["SO-2004"]
    lines = {(line, field) for line, field, _ in report.refused[0].problems}
    assert (6, "quantity") in lines  # quantity 0 on line 6
    assert (7, "sku") in lines  # "BAD:SKU" on line 7
    assert (7, "unit_price") in lines  # a negative price, named by its CSV column
    assert numbers(uow, company) == ["SO-2001", "SO-2002", "SO-2003"]


def test_a_refused_order_stores_nothing_not_even_its_new_customer_or_products(
    uow: Callable[[], UnitOfWork], company: int
) -> None:
    OrderImporter(uow, lambda: NOW).run(company, SAMPLE)
    with uow() as work:
        assert work.customers.find_by_display_name(company, "Lamarr Radio") is None
        assert work.products.get_by_sku(company, "KIT-START") is None


def test_importing_twice_changes_nothing_and_reports_the_skips(uow: Callable[[], UnitOfWork], company: int) -> None:
    OrderImporter(uow, lambda: NOW).run(company, SAMPLE)
    again = OrderImporter(uow, lambda: NOW).run(company, SAMPLE)
    assert again.imported == []
    assert [(line, number) for line, number, _ in again.skipped] == [(2, "SO-2001"), (4, "SO-2002"), (5, "SO-2003")]
    assert numbers(uow, company) == ["SO-2001", "SO-2002", "SO-2003"]


def test_rows_customers_and_dates_are_read_as_documented(uow: Callable[[], UnitOfWork], company: int) -> None:
    OrderImporter(uow, lambda: NOW).run(company, SAMPLE)
    book = OrderBook(uow, lambda: NOW)
    first = book.get_sales_order_by_number(company, "SO-2001").order
    assert [r.quantity for r in first.rows] == [Decimal(10), Decimal(2)]
    assert first.total == Decimal("424.98")
    assert first.billing_address.city == "Arlington"
    assert first.created_at == datetime(2026, 11, 2, 14, 15, tzinfo=UTC)
    third = book.get_sales_order_by_number(company, "SO-2003").order
    assert third.customer_id == first.customer_id  # matched by e-mail, not created twice
    assert third.created_at.utcoffset() is not None  # a time without offset is read in the company's zone
    assert third.created_at == datetime(2026, 11, 4, 19, 0, tzinfo=UTC)


def test_missing_required_columns_refuse_the_whole_file(uow: Callable[[], UnitOfWork], company: int) -> None:
    with pytest.raises(ImportFileError, match="quantity, unit_price"):
        OrderImporter(uow, lambda: NOW).run(company, "so_number,customer_name,sku\nSO-1,Ada,W\n")


def test_unknown_columns_are_refused_rather_than_ignored(uow: Callable[[], UnitOfWork], company: int) -> None:
    text = "so_number,customer_name,sku,quantity,unit_price,colour\nSO-1,Ada,W,1,1,red\n"
    with pytest.raises(ImportFileError, match="colour"):
        OrderImporter(uow, lambda: NOW).run(company, text)


def test_lines_of_one_order_that_disagree_on_the_customer_are_refused(
    uow: Callable[[], UnitOfWork], company: int
) -> None:
    text = "so_number,customer_name,sku,quantity,unit_price\nSO-1,Ada,W,1,1\nSO-1,Bob,W,1,1\n"
    report = OrderImporter(uow, lambda: NOW).run(company, text)
    assert report.refused[0].problems == ((3, "customer_name", "Differs from line 2 of the same order."),)
    assert numbers(uow, company) == []


def test_progress_is_reported_per_order(uow: Callable[[], UnitOfWork], company: int) -> None:
    seen: list[tuple[int, int]] = []
    OrderImporter(uow, lambda: NOW).run(company, SAMPLE, lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]

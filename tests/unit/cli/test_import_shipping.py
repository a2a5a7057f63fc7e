"""CSV import: the optional SO columns `shipping_fee` and `shipping_tax_name` (a tax rate the order book has, or
one a line of the file made) give the SO its shipping fee; a bad fee, an unknown rate or lines of one SO that
disagree refuse that SO, naming the line and column, and the other SOs are imported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tests.fakes import in_memory_uow_factory

from invoicebridge.sync.order_import import ImportReport, OrderImporter
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.sync.ports import UnitOfWork

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HEADER = "so_number,customer_name,sku,quantity,unit_price,tax_name,tax_percent,shipping_fee,shipping_tax_name\n"
Factory = Callable[[], UnitOfWork]


@pytest.fixture
def uow() -> Factory:
    return in_memory_uow_factory()


@pytest.fixture
def company(uow: Factory) -> int:
    return OrderBook(uow, lambda: NOW).create_company("Acme", "USD", "America/New_York").id or 0


def run(uow: Factory, company: int, body: str) -> ImportReport:
    return OrderImporter(uow, lambda: NOW).run(company, (HEADER + body).encode())


def problems(report: ImportReport, number: str) -> dict[str, str]:
    [refused] = [r for r in report.refused if r.so_number == number]
    return {f"{line}.{column}": message for line, column, message in refused.problems}


def test_the_fee_and_its_rate_are_imported_and_an_so_without_one_has_none(uow: Factory, company: int) -> None:
    report = run(uow, company, "SO-1,Ada,A-1,1,10,VAT,20,4.50,VAT\nSO-1,Ada,A-2,1,5,VAT,20,4.50,VAT\n"
                               "SO-2,Bea,A-1,1,10,,,,\n")  # fmt: skip
    assert report.imported == ["SO-1", "SO-2"]
    book = OrderBook(uow, lambda: NOW)
    one = book.get_sales_order_by_number(company, "SO-1").order
    with uow() as work:
        vat = work.tax_rates.find_by_name(company, "VAT")
    assert vat is not None
    assert (one.shipping_fee, one.shipping_tax_rate_id) == (Decimal("4.50"), vat.id)
    assert book.get_sales_order_by_number(company, "SO-2").order.shipping_fee is None


def test_bad_fees_unknown_rates_and_disagreeing_lines_refuse_only_their_so(uow: Factory, company: int) -> None:
    report = run(uow, company, "SO-3,Cy,A-1,1,10,,,-1,\nSO-4,Di,A-1,1,10,,,2,Nowhere\n"
                               "SO-5,Ed,A-1,1,10,,,2,\nSO-5,Ed,A-1,1,10,,,3,\nSO-6,Fa,A-1,1,10,,,1.25,\n")  # fmt: skip
    assert report.imported == ["SO-6"]
    assert problems(report, "SO-3")["2.shipping_fee"] == "The shipping fee cannot be negative."
    assert problems(report, "SO-4")["3.shipping_tax_name"] == "There is no tax rate Nowhere in the order book."
    assert problems(report, "SO-5")["5.shipping_fee"] == "Differs from line 4 of the same order."

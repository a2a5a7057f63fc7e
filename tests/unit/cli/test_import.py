"""CSV import: idempotent by SO number, all or nothing per SO, a report with lines and reasons."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import Result
from tests.fakes import in_memory_uow_factory
from typer.testing import CliRunner

from invoicebridge.bootstrap import Container, build
from invoicebridge.cli import app
from invoicebridge.domain import OrderFilter, PageRequest
from invoicebridge.settings import Settings
from invoicebridge.sync.order_import import MAX_FILE_BYTES, ImportFileError, OrderImporter
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.sync.ports import UnitOfWork

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SAMPLE = (Path(__file__).parents[3] / "examples" / "orders.csv").read_bytes()


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
        OrderImporter(uow, lambda: NOW).run(company, b"so_number,customer_name,sku\nSO-1,Ada,W\n")


def test_unknown_columns_are_refused_rather_than_ignored(uow: Callable[[], UnitOfWork], company: int) -> None:
    text = b"so_number,customer_name,sku,quantity,unit_price,colour\nSO-1,Ada,W,1,1,red\n"
    with pytest.raises(ImportFileError, match="colour"):
        OrderImporter(uow, lambda: NOW).run(company, text)


def test_lines_of_one_order_that_disagree_on_the_customer_are_refused(
    uow: Callable[[], UnitOfWork], company: int
) -> None:
    text = b"so_number,customer_name,sku,quantity,unit_price\nSO-1,Ada,W,1,1\nSO-1,Bob,W,1,1\n"
    report = OrderImporter(uow, lambda: NOW).run(company, text)
    assert report.refused[0].problems == ((3, "customer_name", "Differs from line 2 of the same order."),)
    assert numbers(uow, company) == []


def test_progress_is_reported_per_order(uow: Callable[[], UnitOfWork], company: int) -> None:
    seen: list[tuple[int, int]] = []
    OrderImporter(uow, lambda: NOW).run(company, SAMPLE, lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


# -- issue 9, item 7: each case used to go wrong; now a report with line numbers, or the file refused whole --------

HEADER = "so_number,customer_name,sku,quantity,unit_price,created_at,description\n"


def test_a_stray_quote_refuses_its_order_at_the_line_it_opened_and_the_lines_after_it_still_import(
    uow: Callable[[], UnitOfWork], company: int
) -> None:
    # It used to swallow every following line into SO-1's description: "Imported 1".
    text = (
        HEADER
        + 'SO-1,Ada,W,1,1,2026-11-02,"Rush order\n'
        + "SO-2,Ada,W,1,1,2026-11-02,\n"
        + "SO-3,Bob,V,2,5,2026-11-03,\n"
    )
    report = OrderImporter(uow, lambda: NOW).run(company, text.encode())
    assert report.imported == ["SO-2", "SO-3"]
    [refused] = report.refused
    assert refused.so_number == "SO-1"
    [(line, _, message)] = refused.problems
    assert line == 2
    assert "never closed" in message
    assert numbers(uow, company) == ["SO-2", "SO-3"]


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Container]:
    container = build(Settings(data_dir=tmp_path), migrate=True)
    yield container
    container.close()


def test_an_out_of_range_date_refuses_its_order_and_the_others_still_import_on_sqlite(sqlite: Container) -> None:
    # It used to raise mid-file (OverflowError inside SQLAlchemy) after SO-1 was committed, with no report.
    company = sqlite.orderbook.create_company("Acme", "USD", "America/New_York").id or 0
    text = (
        HEADER
        + "SO-1,Ada,W,1,1,2026-11-02,\n"
        + "SO-2,Ada,W,1,1,0001-01-01T00:00:00+05:00,\n"
        + "SO-3,Ada,W,1,1,9999-12-31T23:30:00,\n"
        + "SO-4,Ada,W,1,1,2026-11-02,\n"
    )
    report = OrderImporter(sqlite.uow, lambda: NOW).run(company, text.encode())
    assert report.imported == ["SO-1", "SO-4"]
    assert [(r.so_number, [p[:2] for p in r.problems]) for r in report.refused] == [
        ("SO-2", [(3, "created_at")]),
        ("SO-3", [(4, "created_at")]),
    ]
    assert numbers(sqlite.uow, company) == ["SO-1", "SO-4"]


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An order book with one company in a data directory the CLI reads (INVOICEBRIDGE_DATA_DIR)."""
    monkeypatch.setenv("INVOICEBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("INVOICEBRIDGE_DATABASE_URL", raising=False)
    container = build(Settings(data_dir=tmp_path), migrate=True)
    container.orderbook.create_company("Acme", "USD", "America/New_York")
    container.close()
    return tmp_path


def import_file(book: Path, data: bytes) -> Result:
    path = book / "orders.csv"
    path.write_bytes(data)
    result = CliRunner().invoke(app, ["import", str(path)])
    assert isinstance(result.exception, SystemExit | None), result.exception  # never a traceback
    return result


def test_the_cli_refuses_a_file_not_in_utf8_with_the_byte_and_line(book: Path) -> None:
    # It used to print a UnicodeDecodeError traceback.
    result = import_file(book, (HEADER + "SO-1,Ada,W,1,1,,\nSO-2,Café,W,1,1,,\n").encode("latin-1"))
    assert result.exit_code == 1
    assert "Nothing imported: The file is not UTF-8 text (byte 0xE9 at line 3): save it as UTF-8 CSV." in result.output


def test_the_cli_prints_the_report_with_line_numbers_and_exits_1_when_an_order_is_refused(book: Path) -> None:
    result = import_file(book, (HEADER + 'SO-1,Ada,W,1,1,,"oops\nSO-2,Ada,W,1,1,,\n').encode())
    assert result.exit_code == 1
    assert "Imported 1, skipped 0, refused 1." in result.output
    assert "refused SO-1 line 2: This line cannot be read: a quote opened on this line is never closed" in result.output


def test_the_cli_exits_0_when_nothing_was_refused(book: Path) -> None:
    result = import_file(book, (HEADER + "SO-1,Ada,W,1,1,,\n").encode())
    assert result.exit_code == 0, result.output
    assert "Imported 1, skipped 0, refused 0." in result.output


def test_the_cli_prints_what_comes_from_the_file_as_text_not_markup(book: Path) -> None:
    # "[/b]" would make rich raise MarkupError; ":fire:" would become an emoji.
    refused = import_file(book, (HEADER + "[/b],Ada,W,0,1,,\n:fire:,Ada,W,0,1,,\n").encode())
    assert "refused [/b] line 2 quantity:" in refused.output
    assert "refused :fire: line 3 quantity:" in refused.output
    header = import_file(book, b"so_number,customer_name,sku,quantity,unit_price,[/b]\n")
    assert header.exit_code == 1
    assert "Unknown columns: [/b]" in header.output


def test_the_cli_refuses_a_file_over_the_size_bound_without_reading_it_all(book: Path) -> None:
    result = import_file(book, HEADER.encode() + b"x" * (MAX_FILE_BYTES + 10))
    assert result.exit_code == 1
    assert "larger than 10 MB" in result.output

"""The CSV importer on files that go wrong (issue 9, item 7): stray quotes, values Python refuses, odd bytes, huge
files. Always a report with line numbers, or the whole file refused with a sentence; never a traceback, never half
an SO. The property tests run on the in-memory store, and a few on SQLite, where out-of-range values used to crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from tests.fakes import in_memory_uow_factory
from tests.strategies import OrderFile, import_bytes, order_files

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import OrderFilter, PageRequest, SalesOrder
from invoicebridge.settings import Settings
from invoicebridge.sync.order_csv import (
    MAX_CELL,
    MAX_FILE_BYTES,
    MAX_LINES,
    ImportFileError,
    decode,
    read_lines,
)
from invoicebridge.sync.order_import import (
    ImportReport,
    OrderImporter,
)
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.sync.ports import UnitOfWork

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HEADER = "so_number,customer_name,sku,quantity,unit_price,created_at,description\n"
FALLBACK = "A value of this order cannot be read"  # the importer's last resort: no test input may reach it

Factory = Callable[[], UnitOfWork]


@pytest.fixture
def uow() -> Factory:
    return in_memory_uow_factory()


@pytest.fixture
def company(uow: Factory) -> int:
    return new_company(uow)


def new_company(uow: Factory) -> int:
    return OrderBook(uow, lambda: NOW).create_company("Acme", "USD", "America/New_York").id or 0


def run(uow: Factory, company: int, data: bytes | str) -> ImportReport:
    return OrderImporter(uow, lambda: NOW).run(company, data.encode() if isinstance(data, str) else data)


def stored(uow: Factory, company: int) -> dict[str, SalesOrder]:
    with uow() as work:
        return {o.number: o for o in work.sales_orders.list(company, OrderFilter(), PageRequest(limit=500)).items}


def refused_at(report: ImportReport) -> dict[str, set[int]]:
    """The lines each refused SO was refused for."""
    return {r.so_number: {line for line, _, _ in r.problems} for r in report.refused}


def check_nothing_half_stored(uow: Factory, company: int, report: ImportReport, data: bytes) -> None:
    """The store holds exactly the SOs reported imported, each with a row for every line of it in the file, and
    no customer, product or tax rate that no stored SO uses (a refused SO left nothing behind)."""
    orders = stored(uow, company)
    assert sorted(orders) == sorted(report.imported)
    lines = read_lines(decode(data))
    for number, order in orders.items():
        assert len(order.rows) == sum(1 for line in lines if line.cells and line.get("so_number") == number)
    page = PageRequest(limit=500)
    with uow() as work:
        customers = {c.id for c in work.customers.list(company, page).items}
        products = {p.id for p in work.products.list(company, page).items}
        rates = {r.id for r in work.tax_rates.list(company, page).items}
    assert customers == {o.customer_id for o in orders.values()}
    assert products == {row.variant_id for o in orders.values() for row in o.rows}
    assert rates == {row.tax_rate_id for o in orders.values() for row in o.rows} - {None}
    assert not any(FALLBACK in message for r in report.refused for _, _, message in r.problems)


# Damage that always makes its line unreadable or its value refused. A stray quote can also turn a line into
# another well-formed one (`"K1` before a description `",…` reads as the SKU "K1,"), and a quote inside a quoted
# value can leave it well-formed: such an SO may be imported, but whole, and a stray quote is always reported.
REFUSING = frozenset({"comma", "nul", "date", "number", "long"})


def check_file(uow: Factory, company: int, case: OrderFile) -> None:
    """Every SO stored has a row for each of its lines, exactly as written unless a quote damaged it, and no SO
    with a refusing damage is stored; a damaged line is reported; every undamaged SO is imported, or refused only
    because a stray quote ran over its lines (so at a damaged line)."""
    report = run(uow, company, case.data)
    check_nothing_half_stored(uow, company, report, case.data)
    orders, refused = stored(uow, company), refused_at(report)
    with uow() as work:
        sku = {p.id: p.sku for p in work.products.list(company, PageRequest(limit=500)).items}
    for number, order in orders.items():
        damage = case.damage.get(number, set())
        assert not damage & REFUSING, f"{number} was imported despite {damage}"
        written = [(sku[row.variant_id], row.quantity) for row in order.rows]
        assert len(written) == len(case.rows[number])
        assert written == case.rows[number] or damage
    if any(damage - {"inner quote"} for damage in case.damage.values()):
        assert case.damaged_lines & {line for lines in refused.values() for line in lines}
    for number in set(case.rows) - set(case.damage) - set(orders):
        assert refused.get(number), f"{number} was neither imported nor refused"
        assert refused[number] <= case.damaged_lines, f"{number} refused for a line of its own"


# -- properties ---------------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=import_bytes)
def test_any_bytes_give_a_report_or_a_refusal_in_a_sentence_and_never_half_an_order(data: bytes) -> None:
    uow = in_memory_uow_factory()
    company = new_company(uow)
    try:
        report: ImportReport | None = run(uow, company, data)
    except ImportFileError as error:
        report, refusal = None, str(error)
    if report is None:
        assert refusal[:1].isupper() and refusal.endswith("."), refusal
        assert stored(uow, company) == {}
    else:
        check_nothing_half_stored(uow, company, report, data)


@settings(max_examples=300, deadline=None)
@given(case=order_files())
def test_damaged_lines_refuse_their_orders_and_every_other_order_is_imported_whole(case: OrderFile) -> None:
    uow = in_memory_uow_factory()
    check_file(uow, new_company(uow), case)


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    container = build(Settings(data_dir=tmp_path_factory.mktemp("import")), migrate=True)
    yield container
    container.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=order_files())
def test_on_sqlite_too_damaged_orders_store_nothing_and_the_others_are_whole(
    sqlite: Container, case: OrderFile
) -> None:
    check_file(sqlite.uow, new_company(sqlite.uow), case)  # a company per example: a fresh order book


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=import_bytes)
def test_on_sqlite_any_bytes_give_a_report_or_a_refusal(sqlite: Container, data: bytes) -> None:
    company = new_company(sqlite.uow)
    try:
        report = run(sqlite.uow, company, data)
    except ImportFileError:
        assert stored(sqlite.uow, company) == {}
        return
    check_nothing_half_stored(sqlite.uow, company, report, data)


# -- stray quotes -------------------------------------------------------------------------------------------------


def test_a_quote_closed_lines_later_does_not_swallow_the_lines_between(uow: Factory, company: int) -> None:
    text = (
        HEADER
        + 'SO-1,Ada,W,1,1,2026-11-02,"Rush\n'  # the quote opens here…
        + "SO-2,Ada,W,2,1,2026-11-02,x\n"
        + "SO-3,Ada,W,3,1,2026-11-02,y\n"
        + 'SO-4,Ada,W,4,1,2026-11-02,"z"\n'  # …and a well-formed quoted value would close it
    )
    report = run(uow, company, text)
    assert report.imported == ["SO-2", "SO-3", "SO-4"]
    assert refused_at(report) == {"SO-1": {2}}


def test_a_stray_quote_before_the_so_number_still_refuses_every_line_of_that_order(uow: Factory, company: int) -> None:
    text = HEADER + '"SO-1,Ada,W,1,1,2026-11-02,x\nSO-1,Ada,V,1,1,2026-11-02,y\nSO-2,Ada,W,1,1,2026-11-02,z\n'
    report = run(uow, company, text)
    assert report.imported == ["SO-2"]
    assert refused_at(report) == {"SO-1": {2}}
    assert "SO-1" not in stored(uow, company)  # not imported with line 3 alone


def test_a_value_not_in_quotes_holding_a_quote_is_refused_as_a_stray_quote(uow: Factory, company: int) -> None:
    report = run(uow, company, HEADER + 'SO-1,Ada,W,1,1,2026-11-02,12" pipe\nSO-2,Ada,W,1,1,2026-11-02,x\n')
    assert report.imported == ["SO-2"]
    [(line, field, message)] = report.refused[0].problems
    assert (line, field) == (2, "")
    assert "stray quote" in message


def test_a_quoted_description_may_span_lines(uow: Factory, company: int) -> None:
    text = HEADER + 'SO-1,Ada,W,1,1,2026-11-02,"Deliver to the back door,\nring twice"\nSO-2,Ada,W,1,1,2026-11-02,x\n'
    report = run(uow, company, text)
    assert report.imported == ["SO-1", "SO-2"]
    assert stored(uow, company)["SO-1"].rows[0].description == "Deliver to the back door,\nring twice"


def test_a_quote_closed_by_the_next_lines_quoted_value_refuses_only_its_own_order(uow: Factory, company: int) -> None:
    # The stray quote on line 2 is closed by the quote that opens SO-2's description on line 3, and the record
    # reads as well-formed CSV: the description ending in the first columns of a row gives it away.
    text = HEADER + 'SO-1,Ada,W,1,1,2026-11-02,"oops\nSO-2,Ada,W,1,1,2026-11-02,"\nsecond line"\n'
    report = run(uow, company, text)
    assert report.imported == ["SO-2"]
    assert 2 in refused_at(report)["SO-1"]
    assert stored(uow, company)["SO-2"].rows[0].description == "second line"


def test_a_line_with_too_many_values_refuses_its_order(uow: Factory, company: int) -> None:
    text = HEADER + "SO-1,Ada,W,1,1,2026-11-02,a,b\nSO-1,Ada,V,1,1,2026-11-02,c\n"
    report = run(uow, company, text)
    assert report.imported == []
    [(line, _, message)] = report.refused[0].problems
    assert line == 2
    assert "8 values where the header has 7 columns" in message


def test_blank_lines_and_lines_of_empty_values_are_ignored(uow: Factory, company: int) -> None:
    report = run(uow, company, HEADER + "\n,,,,,,\nSO-1,Ada,W,1,1,2026-11-02,x\n\n")
    assert (report.imported, report.refused) == (["SO-1"], [])


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_numbers_count_every_kind_of_line_break(uow: Factory, company: int, newline: str) -> None:
    lines = [HEADER.strip(), "SO-1,Ada,W,1,1,2026-11-02,x", 'SO-2,Ada,W,1,1,2026-11-02,"a\nb"', "SO-3,Ada,W,0,1,,"]
    report = run(uow, company, newline.join(lines) + newline)
    assert refused_at(report) == {"SO-3": {5}}


# -- values Python refuses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("created_at", "0001-01-01T00:00:00+05:00"),  # before year 1 in UTC
        ("created_at", "9999-12-31T23:00:00-05:00"),  # after year 9999 in UTC
        ("created_at", "9999-12-31T23:30:00"),  # the same, read in the company's zone
        ("quantity", "1e1000000"),  # decimal.Overflow in the amount checks
        ("unit_price", "-1E+1000000"),
    ],
)
def test_a_value_python_cannot_hold_refuses_its_order_by_line_and_field(
    uow: Factory, company: int, column: str, value: str
) -> None:
    row = {"so_number": "SO-2", "customer_name": "Ada", "sku": "W", "quantity": "1", "unit_price": "1"}
    row |= {"created_at": "2026-11-02", "description": "x", column: value}
    text = HEADER + "SO-1,Ada,W,1,1,2026-11-02,x\n" + ",".join(row.values()) + "\nSO-3,Ada,W,1,1,2026-11-02,x\n"
    report = run(uow, company, text)
    assert report.imported == ["SO-1", "SO-3"]
    assert [(r.so_number, {(line, field) for line, field, _ in r.problems}) for r in report.refused] == [
        ("SO-2", {(3, column)})
    ]


# -- odd bytes ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("odd", ["\x00", "\x1b", "\x7f", "\x85"])
def test_control_characters_refuse_the_order_before_any_look_up(uow: Factory, company: int, odd: str) -> None:
    report = run(uow, company, HEADER + f"SO-1,Ada{odd},W,1,1,2026-11-02,x\nSO-2,Ada,W,1,1,2026-11-02,x\n")
    assert report.imported == ["SO-2"]
    assert [(line, field) for line, field, _ in report.refused[0].problems] == [(2, "customer_name")]


def test_a_nul_in_the_so_number_refuses_that_order_whole(uow: Factory, company: int) -> None:
    report = run(uow, company, HEADER + "SO-1\x00,Ada,W,1,1,2026-11-02,x\nSO-1,Ada,V,1,1,2026-11-02,y\n")
    assert [(r.so_number, r.problems[0][:2]) for r in report.refused] == [("SO-1", (2, "so_number"))]
    assert stored(uow, company) == {}


def test_a_value_longer_than_any_column_takes_is_refused_with_its_column(uow: Factory, company: int) -> None:
    report = run(uow, company, HEADER + f"SO-1,Ada,W,1,1,2026-11-02,{'x' * (MAX_CELL + 1)}\n")
    [(line, field, message)] = report.refused[0].problems
    assert (line, field) == (2, "description")
    assert f"{MAX_CELL:,}" in message


def test_a_value_beyond_csvs_own_limit_is_a_line_refused_not_a_csv_error(uow: Factory, company: int) -> None:
    text = HEADER + f'SO-1,Ada,W,1,1,2026-11-02,"{"x" * 200_000}"\nSO-2,Ada,W,1,1,2026-11-02,x\n'
    report = run(uow, company, text)
    assert report.imported == ["SO-2"]
    assert refused_at(report) == {"SO-1": {2}}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (HEADER.encode() + "SO-1,Café,W,1,1,,\n".encode("latin-1"), "not UTF-8 text (byte 0xE9 at line 2)"),
        (HEADER.encode() + b"SO-1,\xed\xa0\x80,W,1,1,,\n", "not UTF-8 text (byte 0xED at line 2)"),  # a surrogate
        (HEADER.encode("utf-16"), "UTF-16"),
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b'"so_number,customer_name\n', "the header"),
        (b"so_number,customer_name,sku,quantity,unit_price,sku\n", "named more than once: sku"),
        (b"so_number,customer_name,sku,quantity,unit_price,\n", "(no name, column 6)"),
    ],
)
def test_a_file_that_cannot_be_read_as_orders_is_refused_whole_with_the_reason(
    uow: Factory, company: int, data: bytes, reason: str
) -> None:
    with pytest.raises(ImportFileError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        run(uow, company, data)
    assert stored(uow, company) == {}


def test_a_byte_order_mark_is_fine(uow: Factory, company: int) -> None:
    assert run(uow, company, b"\xef\xbb\xbf" + (HEADER + "SO-1,Ada,W,1,1,,\n").encode()).imported == ["SO-1"]


def test_files_over_the_size_and_line_bounds_are_refused_unread(uow: Factory, company: int) -> None:
    with pytest.raises(ImportFileError, match="larger than 10 MB"):
        run(uow, company, HEADER.encode() + b"x" * MAX_FILE_BYTES)
    with pytest.raises(ImportFileError, match="more than 100,000 lines"):
        run(uow, company, HEADER + "\n" * (MAX_LINES + 1))


def test_the_sample_file_still_imports_as_documented(uow: Factory, company: int) -> None:
    sample = (Path(__file__).parents[3] / "examples" / "orders.csv").read_bytes()
    report = run(uow, company, sample)
    assert report.imported == ["SO-2001", "SO-2002", "SO-2003"]
    assert stored(uow, company)["SO-2001"].total == Decimal("424.98")


def test_a_sku_taken_meanwhile_refuses_that_order_and_the_import_goes_on(uow: Factory, company: int) -> None:
    units = 0

    class Racing:
        """A unit of work during which, the second time, someone else creates the product W."""

        def __init__(self) -> None:
            self.inner = uow()

        def __enter__(self) -> UnitOfWork:
            nonlocal units
            work = self.inner.__enter__()
            units += 1
            if units == 2:  # the first SO's: it began before W existed, and will try to create it
                OrderBook(uow, lambda: NOW).create_product(company, "W", "Widget", "1", "0")
            return work

        def __exit__(self, *exc: object) -> None:
            self.inner.__exit__(None, None, None)

    text = HEADER + "SO-1,Ada,W,1,1,,\nSO-2,Ada,V,1,1,,\n"
    report = OrderImporter(Racing, lambda: NOW).run(company, text.encode())
    assert report.imported == ["SO-2"]
    assert [(r.so_number, r.problems[0][:2]) for r in report.refused] == [("SO-1", (2, "sku"))]
    assert run(uow, company, text).imported == ["SO-1"]  # importing again settles it

"""Bounds (issue 9): every amount fits what is stored and what QuickBooks takes, amounts are written only as plain
decimals, ids fit a database, an order has no more rows than an invoice can take, and the tax mapping names only
the company's own rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from tests.strategies import line_amounts, non_plain_amounts, plain_amounts

from invoicebridge.domain import OrderFilter, PageRequest, RowInput, SalesOrder, ValidationError, new_sales_order
from invoicebridge.domain.catalog import new_product
from invoicebridge.domain.checks import MAX_ID, identifier
from invoicebridge.domain.connection import ConnectionSettings
from invoicebridge.domain.money import MAX_AMOUNT, MAX_LINE_AMOUNT, parse_amount
from invoicebridge.domain.orders import MAX_ROWS

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def order(rows: list[RowInput]) -> SalesOrder:
    return new_sales_order(1, "SO-1", 1, None, None, NOW, None, "USD", rows)


def refusal(call: object, *args: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        call(*args)  # type: ignore[operator]
    return {p.field: p.message for p in caught.value.problems}


# -- written forms ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["1_000", "١٢", "１２", "12٫5", "1e3", "1E-2", "0x10", "1 000", "1,5", "--1", "."])
def test_an_amount_not_written_as_a_plain_ascii_decimal_is_refused(text: str) -> None:
    assert "quantity" in refusal(parse_amount, text, "quantity")


@given(plain_amounts)
def test_every_plain_decimal_within_bounds_is_read_exactly(text: str) -> None:
    assert parse_amount(text, "price") == Decimal(text)


@given(non_plain_amounts)
def test_digits_of_other_scripts_and_separators_are_never_read_as_amounts(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_amount(text, "quantity")


@pytest.mark.parametrize("text", ["1e999999999", "-1e999999999", "1e-999999999", "9" * 100_000])
def test_an_amount_of_extreme_size_is_refused_not_a_crash(text: str) -> None:
    assert "price" in refusal(parse_amount, text, "price")  # abs() used to overflow the decimal context: a 500


def test_a_negative_zero_is_read_as_zero() -> None:
    assert str(parse_amount("-0.00", "price")) == "0.00"


# -- sizes ------------------------------------------------------------------------------------------------------
def test_amounts_up_to_ten_digits_before_the_point_are_accepted_and_larger_ones_refused() -> None:
    assert parse_amount(str(MAX_AMOUNT), "price") == MAX_AMOUNT
    assert parse_amount(9_999_999_999, "price") == Decimal(9_999_999_999)
    for too_large in ("10000000000", "99999999999999", 10**10, 10**4000):
        assert "too large" in refusal(parse_amount, too_large, "price")["price"]


def test_the_poison_order_of_the_issue_is_refused_field_by_field() -> None:
    # Quantity and price of 99999999999999 each passed before; the order was stored and could never be shown.
    problems = refusal(order, [RowInput(1, "99999999999999", "99999999999999", None, "0")])
    assert set(problems) == {"rows[1].quantity", "rows[1].unit_price"}
    assert all("too large" in message for message in problems.values())


def test_a_product_priced_past_what_quickbooks_takes_is_refused() -> None:
    problems = refusal(new_product, 1, "SKU", "Name", "12345678901234.5678", "0")
    assert set(problems) == {"sales_price"}


@given(line_amounts, line_amounts)
def test_a_row_whose_amount_passes_a_quickbooks_line_is_refused_saying_so(quantity: Decimal, price: Decimal) -> None:
    rows = [RowInput(1, str(quantity), str(price), None, "0")]
    if quantity * price <= MAX_LINE_AMOUNT:
        assert order(rows).total == quantity * price
    else:
        assert "QuickBooks takes at most 9,999,999,999.99" in refusal(order, rows)["rows[1].amount"]


def test_a_row_whose_cost_passes_a_quickbooks_line_is_refused() -> None:
    problems = refusal(order, [RowInput(1, "100000", "1", None, "100000")])
    assert set(problems) == {"rows[1].cost"}


def test_rows_that_each_fit_but_sum_past_a_quickbooks_amount_are_refused_on_the_total() -> None:
    rows = [RowInput(1, "1", "5000000000", None, "0"), RowInput(1, "1", "5000000000", None, "0")]
    assert set(refusal(order, rows)) == {"total"}
    assert order(rows[:1]).total == Decimal("5000000000")


def test_the_total_counts_each_row_rounded_to_cents_as_quickbooks_will() -> None:
    # Each row is 4999999999.995 exactly, 4999999999.99 + 0.005: rounded half up, two of them make 10 billion.
    rows = [RowInput(1, "0.5", "9999999999.99", None, "0")] * 2
    assert set(refusal(order, rows)) == {"total"}


def test_costs_that_sum_past_a_journal_entry_amount_are_refused_on_the_total_cost() -> None:
    rows = [RowInput(1, "1", "1", None, "6000000000")] * 2
    assert set(refusal(order, rows)) == {"total_cost"}


# -- rows -------------------------------------------------------------------------------------------------------
def test_an_order_takes_as_many_rows_as_a_quickbooks_invoice_and_no_more() -> None:
    row = RowInput(1, "1", "1.00", None, "0")
    assert len(order([row] * MAX_ROWS).rows) == MAX_ROWS
    problems = refusal(order, [row] * (MAX_ROWS + 1))
    assert problems == {"rows": f"An order can have at most 750 rows (QuickBooks takes no more invoice lines); "
                                f"this one has {MAX_ROWS + 1}."}  # fmt: skip


def test_a_huge_order_is_refused_by_its_count_without_reading_its_rows() -> None:
    unreadable = RowInput(object(), object(), object(), object(), object())  # would each be a problem if read
    assert set(refusal(order, [unreadable] * 300_000)) == {"rows"}


# -- ids --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [2**63, 2**64, -1, 0, True])
def test_an_id_no_database_can_hold_is_refused(value: int) -> None:
    assert refusal(identifier, value, "customer_id", "The customer") == {
        "customer_id": "The customer must be the id of an existing record."
    }
    assert set(refusal(OrderFilter, None, None, value)) == {"customer_id"}


def test_the_largest_id_a_database_holds_is_an_id() -> None:
    assert identifier(MAX_ID, "customer_id", "The customer") == 2**63 - 1


@pytest.mark.parametrize("after", [2**63, 2**64, -1])
def test_a_page_cursor_past_any_id_is_refused(after: int) -> None:
    assert set(refusal(PageRequest, 50, after)) == {"after"}


# -- the tax mapping --------------------------------------------------------------------------------------------
def test_a_tax_mapping_naming_a_rate_the_company_does_not_have_is_refused() -> None:
    settings = ConnectionSettings("1", {7: "TAX", 99: "TAX", 2**40: "NON"})
    assert settings.problems([7]) == [
        ("tax_mapping.99", "There is no tax rate 99 in this company."),
        (f"tax_mapping.{2**40}", f"There is no tax rate {2**40} in this company."),
    ]
    assert ConnectionSettings("1", {7: "TAX"}).problems([7]) == []

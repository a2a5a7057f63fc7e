"""Property tests: whatever the input, a valid object or a refusal with reasons — never a crash."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st
from tests.strategies import junk, names, positive_amounts, prices

from invoicebridge.domain import (
    RowInput,
    ValidationError,
    new_company,
    new_customer,
    new_product,
    new_sales_order,
    new_tax_rate,
    parse_address,
)
from invoicebridge.domain.money import MAX_LINE_AMOUNT, to_cents

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def valid_or_reasoned(build: Any, *args: Any) -> object | None:
    try:
        return build(*args)
    except ValidationError as error:
        assert error.problems  # noqa: PT017 - either outcome is fine; a refusal must carry reasons
        assert all(p.field and p.message for p in error.problems)  # noqa: PT017
        return None


@given(junk, junk, junk)
def test_company_from_any_input_is_valid_or_refused_with_reasons(name: Any, currency: Any, zone: Any) -> None:
    valid_or_reasoned(new_company, name, currency, zone)


@given(st.one_of(names, junk), junk, junk, junk, st.one_of(st.sampled_from(["USD", "eur"]), junk))
def test_customer_from_any_input_is_valid_or_refused_with_reasons(
    name: Any, email: Any, billing: Any, shipping: Any, currency: Any
) -> None:
    customer = valid_or_reasoned(new_customer, 1, name, email, billing, shipping, currency)
    if customer is not None:
        assert ":" not in customer.display_name  # type: ignore[attr-defined]
        assert 0 < len(customer.display_name) <= 500  # type: ignore[attr-defined]


@given(st.one_of(names, junk), st.one_of(names, junk), junk, junk)
def test_product_from_any_input_is_valid_or_refused_with_reasons(sku: Any, name: Any, price: Any, cost: Any) -> None:
    product = valid_or_reasoned(new_product, 1, sku, name, price, cost)
    if product is not None:
        assert isinstance(product.sales_price, Decimal)  # type: ignore[attr-defined]
        assert product.sales_price >= 0  # type: ignore[attr-defined]


@given(junk, junk)
def test_tax_rate_from_any_input_is_valid_or_refused_with_reasons(name: Any, percent: Any) -> None:
    valid_or_reasoned(new_tax_rate, 1, name, percent)


@given(junk)
def test_address_from_any_input_is_valid_or_refused_with_reasons(value: Any) -> None:
    valid_or_reasoned(parse_address, value, "billing_address")


row_inputs = st.builds(RowInput, st.one_of(st.integers(-2, 5), junk), junk, junk, junk, junk, junk)


@given(junk, junk, st.lists(row_inputs, max_size=4), junk, junk)
def test_sales_order_from_any_input_is_valid_or_refused_with_reasons(
    number: Any, customer: Any, rows: list[RowInput], created: Any, currency: Any
) -> None:
    valid_or_reasoned(new_sales_order, 1, number, customer, None, None, created, None, currency, rows)


@given(st.lists(st.tuples(positive_amounts, prices), min_size=1, max_size=6))
def test_order_total_is_exactly_the_sum_of_quantity_times_price(rows: list[tuple[Decimal, Decimal]]) -> None:
    # Orders QuickBooks could not take (a line or total past 10 digits) are refused instead (test_bounds.py).
    assume(sum((to_cents(q * p) for q, p in rows), Decimal(0)) <= MAX_LINE_AMOUNT)
    inputs = [RowInput(1, str(q), str(p), None, "0") for q, p in rows]
    so = new_sales_order(1, "SO-1", 1, None, None, NOW, None, "USD", inputs)
    assert so.total == sum((q * p for q, p in rows), Decimal(0))

"""Every kind of bad input is refused before anything is stored, with the field and a sentence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from invoicebridge.domain import (
    RowInput,
    SalesOrder,
    ValidationError,
    new_company,
    new_customer,
    new_product,
    new_sales_order,
    new_tax_rate,
    parse_amount,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def order(**overrides: object) -> object:
    fields: dict[str, object] = {
        "company_id": 1, "number": "SO-1", "customer_id": 1, "billing_address": None, "shipping_address": None,
        "created_at": NOW, "delivery_deadline": None, "currency": "USD", "rows": [RowInput(1, "2", "10.00", None, "3")],
    }  # fmt: skip
    fields.update(overrides)
    return new_sales_order(**fields)  # type: ignore[arg-type]


def refusal(call: object, *args: object, **kwargs: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return {p.field: p.message for p in caught.value.problems}


def test_sales_order_without_rows_is_refused_with_a_reason() -> None:
    assert refusal(order, rows=[]) == {"rows": "An order needs at least one row."}


@pytest.mark.parametrize("quantity", ["0", "-1", 0])
def test_quantity_of_zero_or_less_is_refused(quantity: object) -> None:
    problems = refusal(order, rows=[RowInput(1, quantity, "10")])
    assert problems["rows[1].quantity"] == "The quantity (row 1) must be more than 0."


def test_negative_price_is_refused() -> None:
    problems = refusal(order, rows=[RowInput(1, "1", "-0.01", None, "0")])
    assert problems["rows[1].unit_price"] == "The price (row 1) cannot be negative."


def test_negative_unit_cost_is_refused() -> None:
    assert "rows[1].unit_cost" in refusal(order, rows=[RowInput(1, "1", "1", None, "-5")])


@pytest.mark.parametrize("code", ["XXX", "usdollar", "", None, 840])
def test_unknown_currency_is_refused(code: object) -> None:
    assert "ISO 4217" in refusal(order, currency=code)["currency"]


def test_float_amounts_are_refused_because_they_have_lost_cents_already() -> None:
    assert "not a float" in refusal(parse_amount, 0.1, "price")["price"]


def test_customer_name_with_a_colon_is_refused_as_quickbooks_would() -> None:
    problems = refusal(new_customer, 1, "Acme: East", None, None, None, "USD")
    assert problems["display_name"] == "The display name contains characters QuickBooks refuses: ':'."


def test_customer_name_over_500_characters_is_refused() -> None:
    problems = refusal(new_customer, 1, "x" * 501, None, None, None, "USD")
    assert "500 characters" in problems["display_name"]


def test_customer_name_with_a_tab_or_newline_is_refused() -> None:
    assert "display_name" in refusal(new_customer, 1, "Ada\tLovelace", None, None, None, "USD")
    assert "display_name" in refusal(new_customer, 1, "Ada\nLovelace", None, None, None, "USD")


@pytest.mark.parametrize("email", ["ada", "ada@", "@example.com", "ada@example", "a b@example.com"])
def test_malformed_email_is_refused(email: str) -> None:
    assert "not a valid e-mail address" in refusal(new_customer, 1, "Ada", email, None, None, "USD")["email"]


def test_sku_with_a_colon_or_over_100_characters_is_refused() -> None:
    assert "':'" in refusal(new_product, 1, "A:B", "Widget", "1", "0")["sku"]
    assert "100 characters" in refusal(new_product, 1, "S" * 101, "Widget", "1", "0")["sku"]


def test_product_name_quickbooks_would_reject_is_refused() -> None:
    assert "':'" in refusal(new_product, 1, "SKU", "Wid:get", "1", "0")["name"]
    assert "100 characters" in refusal(new_product, 1, "SKU", "W" * 101, "1", "0")["name"]


def test_so_number_longer_than_an_invoice_number_can_be_is_refused() -> None:
    assert "21 characters" in refusal(order, number="SO-" + "9" * 19)["number"]


def test_tax_percent_outside_0_to_100_is_refused() -> None:
    assert "more than 100" in refusal(new_tax_rate, 1, "VAT", "101")["percent"]
    assert "negative" in refusal(new_tax_rate, 1, "VAT", "-1")["percent"]


def test_company_with_unknown_time_zone_is_refused() -> None:
    assert "time zone" in refusal(new_company, "Acme", "USD", "Mars/Olympus")["timezone"]


def test_naive_created_time_is_refused() -> None:
    assert "time zone" in refusal(order, created_at=datetime(2026, 3, 1, 9, 0))["created_at"]


def test_every_problem_is_listed_not_only_the_first() -> None:
    problems = refusal(order, number="", currency="XXX", rows=[RowInput(1, "0", "-1")])
    assert set(problems) >= {"number", "currency", "rows[1].quantity", "rows[1].unit_price"}


def with_ids(so: SalesOrder) -> SalesOrder:
    """The order as storage returns it: it and its rows have ids."""
    rows = tuple(replace(row, id=70 + n) for n, row in enumerate(so.rows))
    return replace(so, id=7, rows=rows)


def test_delivering_more_than_ordered_is_refused() -> None:
    so = with_ids(new_sales_order(1, "SO-1", 1, None, None, NOW, None, "USD", [RowInput(1, "2", "1", None, "0")]))
    problems = refusal(so.record_delivery, {70: "3"}, NOW)
    assert problems["rows[70].quantity"] == "Cannot deliver 3 of row 70: only 2 were ordered."


def test_delivering_to_a_row_the_order_does_not_have_is_refused() -> None:
    so = with_ids(new_sales_order(1, "SO-1", 1, None, None, NOW, None, "USD", [RowInput(1, "2", "1", None, "0")]))
    assert "has no row 99" in refusal(so.record_delivery, {99: "1"}, NOW)["rows[99].quantity"]


def test_valid_order_keeps_decimal_totals() -> None:
    so = order(rows=[RowInput(1, "3", "0.10", None, "0"), RowInput(1, "1", "0.20", None, "0")])
    assert so.total == Decimal("0.50")

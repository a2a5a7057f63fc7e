"""Input rules beyond the headline refusals: trimming, required fields, amounts, text QBO cannot take,
e-mail syntax, filters and paging, Money."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from invoicebridge.domain import (
    Money,
    OrderFilter,
    PageRequest,
    RowInput,
    SalesOrder,
    ValidationError,
    new_company,
    new_customer,
    new_product,
    new_sales_order,
    new_tax_rate,
    parse_address,
    parse_amount,
    parse_currency,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ROW = RowInput(1, "2", "10.00", None, "3")


def order(**overrides: object) -> SalesOrder:
    fields: dict[str, object] = {
        "company_id": 1, "number": "SO-1", "customer_id": 1, "billing_address": None, "shipping_address": None,
        "created_at": NOW, "delivery_deadline": None, "currency": "USD", "rows": [ROW],
    }  # fmt: skip
    fields.update(overrides)
    return new_sales_order(**fields)  # type: ignore[arg-type]


def refusal(call: object, *args: object, **kwargs: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return {p.field: p.message for p in caught.value.problems}


# -- SO numbers -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["SO\x01-1", "SO-1\x00", "SO\x7f1", "SO\x851"])
def test_so_number_with_a_control_character_is_refused(number: str) -> None:
    assert refusal(order, number=number)["number"] == "The SO number contains control characters."


@pytest.mark.parametrize("number", ["SO\t1", "SO\n1"])
def test_so_number_with_a_tab_or_line_break_is_refused_naming_the_character(number: str) -> None:
    assert "QuickBooks refuses" in refusal(order, number=number)["number"]


@pytest.mark.parametrize("number", ["", "   ", None])
def test_missing_so_number_is_refused(number: object) -> None:
    assert refusal(order, number=number)["number"] == "The SO number is required."


def test_so_number_of_exactly_21_characters_is_accepted_and_trimmed() -> None:
    assert order(number="  " + "S" * 21 + " ").number == "S" * 21


# -- trimming and required fields ------------------------------------------------------------------------------
def test_surrounding_spaces_are_trimmed_from_every_text_field() -> None:
    customer = new_customer(1, "  Ada  ", " ada@example.com ", {"city": " Chicago "}, None, " usd ")
    assert (customer.display_name, customer.email, customer.billing_address.city, customer.currency) == (
        "Ada",
        "ada@example.com",
        "Chicago",
        "USD",
    )
    product = new_product(1, " SKU-1 ", " Widget ", " 12.50 ", "0")
    assert (product.sku, product.name, product.sales_price) == ("SKU-1", "Widget", Decimal("12.50"))


def test_customer_without_a_name_or_currency_is_refused_naming_both() -> None:
    assert set(refusal(new_customer, 1, "  ", None, None, None, None)) == {"display_name", "currency"}


def test_an_empty_email_means_no_email() -> None:
    assert new_customer(1, "Ada", "  ", None, None, "USD").email is None


def test_product_without_sku_name_or_price_is_refused_naming_each() -> None:
    problems = refusal(new_product, 1, "", None, None, "0")
    assert set(problems) == {"sku", "name", "sales_price"}
    assert problems["sales_price"] == "A number is required."


def test_company_without_name_currency_or_time_zone_is_refused_naming_each() -> None:
    assert set(refusal(new_company, "", None, None)) == {"name", "home_currency", "timezone"}


def test_tax_rate_without_a_name_is_refused() -> None:
    assert refusal(new_tax_rate, 1, " ", "5") == {"name": "The tax rate name is required."}


def test_row_without_a_product_or_quantity_is_refused_naming_the_row() -> None:
    problems = refusal(order, rows=[RowInput(None, None, "1", None, "0")])
    assert set(problems) == {"rows[1].variant_id", "rows[1].quantity"}


def test_order_without_created_time_is_refused() -> None:
    assert refusal(order, created_at=None) == {"created_at": "A date and time is required."}


def test_delivery_deadline_must_be_a_date_not_a_time() -> None:
    assert "must be a date" in refusal(order, delivery_deadline=NOW)["delivery_deadline"]
    assert order(delivery_deadline=date(2026, 4, 1)).delivery_deadline == date(2026, 4, 1)


# -- rows -------------------------------------------------------------------------------------------------------
def test_two_rows_for_the_same_variant_are_allowed() -> None:
    so = order(rows=[RowInput(1, "1", "10", None, "0"), RowInput(1, "2", "9", None, "0")])
    assert [row.variant_id for row in so.rows] == [1, 1]
    assert so.total == Decimal("28")


def test_row_description_may_span_several_lines() -> None:
    so = order(rows=[RowInput(1, "1", "10", None, "0", "Blue\nsize M")])
    assert so.rows[0].description == "Blue\nsize M"


def test_row_description_with_a_nul_character_is_refused() -> None:
    assert (
        "control characters" in refusal(order, rows=[RowInput(1, "1", "1", None, "0", "a\x00b")])["rows[1].description"]
    )


def test_problems_of_several_rows_each_name_their_row() -> None:
    problems = refusal(order, rows=[RowInput(1, "1", "1", None, "0"), RowInput(1, "-2", "1", None, "0")])
    assert problems == {"rows[2].quantity": "The quantity (row 2) must be more than 0."}


# -- amounts ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0.5, "not a float"),
        (True, "not a float"),
        ("NaN", "finite"),
        (Decimal("NaN"), "finite"),
        (Decimal("sNaN"), "finite"),
        ("Infinity", "finite"),
        ("-inf", "finite"),
        ("twelve", "not a number"),
        ("", "not a number"),
        ([], "A number is required"),
        (None, "A number is required"),
        ("1.00001", "4 decimal places"),
        ("1e20", "too large"),
    ],
)
def test_amounts_that_are_not_exact_finite_decimals_are_refused_with_a_reason(value: object, reason: str) -> None:
    assert reason in refusal(parse_amount, value, "unit_price")["unit_price"]


@pytest.mark.parametrize(
    ("value", "expected"), [(3, Decimal(3)), ("12.50", Decimal("12.50")), (Decimal("0.1"), Decimal("0.1"))]
)
def test_ints_decimals_and_numeric_strings_are_exact_amounts(value: object, expected: Decimal) -> None:
    amount = parse_amount(value, "unit_price")
    assert amount == expected
    assert isinstance(amount, Decimal)


def test_zero_price_and_cost_are_allowed_for_free_items() -> None:
    row = order(rows=[RowInput(1, "1", "0", None, "0")]).rows[0]
    assert (row.unit_price, row.unit_cost) == (Decimal(0), Decimal(0))


def test_tax_percent_of_0_and_100_are_allowed() -> None:
    assert new_tax_rate(1, "None", "0").percent == Decimal(0)
    assert new_tax_rate(1, "All", "100").percent == Decimal(100)


# -- currencies -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["usd", " EUR ", "JPY", "CHF"])
def test_active_iso_4217_codes_are_accepted_in_any_case(code: str) -> None:
    assert parse_currency(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["DEM", "XAU", "US", "EURO", "€"])
def test_withdrawn_metal_and_made_up_currency_codes_are_refused(code: str) -> None:
    assert "ISO 4217" in refusal(parse_currency, code, "currency")["currency"]


# -- names QBO refuses ------------------------------------------------------------------------------------------
def test_customer_name_of_exactly_500_characters_is_accepted() -> None:
    assert len(new_customer(1, "x" * 500, None, None, None, "USD").display_name) == 500


def test_customer_name_with_a_control_character_is_refused() -> None:
    assert "control characters" in refusal(new_customer, 1, "Ada\x00", None, None, None, "USD")["display_name"]


def test_sku_or_product_name_with_a_tab_is_refused() -> None:
    assert set(refusal(new_product, 1, "A\tB", "Wid\tget", "1", "0")) == {"sku", "name"}


# -- e-mail -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("email", ["ada@example..com", "ada@.example.com", "ada@example.com.", "a@b@example.com"])
def test_email_with_a_broken_domain_is_refused(email: str) -> None:
    assert "not a valid e-mail address" in refusal(new_customer, 1, "Ada", email, None, None, "USD")["email"]


@pytest.mark.parametrize("email", ["ada@example.com", "ada.lovelace+books@mail.example.co.uk", "o'brien@example.ie"])
def test_ordinary_email_addresses_are_accepted(email: str) -> None:
    assert new_customer(1, "Ada", email, None, None, "USD").email == email


def test_email_longer_than_quickbooks_takes_is_refused() -> None:
    assert "100 characters" in refusal(new_customer, 1, "Ada", "a" * 95 + "@example.com", None, None, "USD")["email"]


# -- addresses --------------------------------------------------------------------------------------------------
def test_address_with_an_unknown_field_is_refused_naming_it() -> None:
    assert refusal(parse_address, {"street": "1 Main St"}, "billing_address") == {
        "billing_address": "Unknown address fields: street."
    }


def test_address_line_with_a_line_break_is_refused_naming_the_line() -> None:
    assert "billing_address.line1" in refusal(parse_address, {"line1": "1 Main St\nFlat 2"}, "billing_address")


# -- filters and paging -----------------------------------------------------------------------------------------
def test_filter_by_created_time_without_a_zone_is_refused() -> None:
    problems = refusal(OrderFilter, created_from=datetime(2026, 3, 1), created_to=datetime(2026, 4, 1))
    assert set(problems) == {"created_from", "created_to"}
    assert "time zone" in problems["created_from"]


def test_filter_by_a_customer_needs_a_customer_id() -> None:
    assert "customer_id" in refusal(OrderFilter, customer_id=0)


@pytest.mark.parametrize(("limit", "after"), [(0, None), (501, None), ("10", None), (True, None), (10, -1), (10, "x")])
def test_page_request_outside_the_rules_is_refused(limit: object, after: object) -> None:
    assert refusal(PageRequest, limit, after)


def test_page_request_within_the_rules_is_kept() -> None:
    assert PageRequest(500, 0) == PageRequest(limit=500, after=0)


# -- Money ------------------------------------------------------------------------------------------------------
def test_money_adds_and_multiplies_exactly_in_one_currency() -> None:
    price = Money(Decimal("0.10"), "USD")
    assert price * 3 == Money(Decimal("0.30"), "USD")
    assert Decimal("2.5") * price == Money(Decimal("0.25"), "USD")
    assert price + price == Money(Decimal("0.20"), "USD")


def test_money_refuses_floats_mixed_currencies_and_nan() -> None:
    with pytest.raises(TypeError):
        Money(0.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal(1), "USD") * 0.5  # type: ignore[operator]
    with pytest.raises(ValueError, match="EUR"):
        Money(Decimal(1), "USD") + Money(Decimal(1), "EUR")
    with pytest.raises(ValueError, match="finite"):
        Money(Decimal("NaN"), "USD")
    with pytest.raises(ValidationError):
        Money(Decimal(1), "XXX")

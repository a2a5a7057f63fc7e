"""Product categories (domain/catalog.py) and the settings that give each its income account and map 0 % tax rates
to the no-tax code (domain/connection.py)."""

from __future__ import annotations

import pytest

from invoicebridge.domain import ValidationError
from invoicebridge.domain.catalog import category, new_product
from invoicebridge.domain.connection import ConnectionSettings


def refusal(error: ValidationError) -> dict[str, str]:
    return {p.field: p.message for p in error.problems}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("  Garden tools ", "Garden tools"), ("Café & Bücher", "Café & Bücher"), ("x" * 100, "x" * 100),
     (None, None), ("", None), ("   ", None)],
)  # fmt: skip
def test_a_category_is_trimmed_and_nothing_is_none(sent: str | None, kept: str | None) -> None:
    assert category(sent) == kept
    assert new_product(1, "SKU-1", "Widget", "1", "0", sent).category == kept


@pytest.mark.parametrize(
    ("sent", "message"),
    [("x" * 101, "The category is longer than QuickBooks allows (100 characters)."),
     ("Garden\ttools", "The category contains control characters."),
     ("Garden\u200btools", "The category contains characters that cannot be shown."),
     (12, "The category must be text.")],
)  # fmt: skip
def test_a_category_that_is_not_one_is_refused_with_the_other_problems(sent: object, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        new_product(1, "", "Widget", "-1", "0", sent)
    assert refusal(refused.value) == {
        "sku": "The SKU is required.", "sales_price": "The price cannot be negative.", "category": message,
    }  # fmt: skip


def test_a_product_without_a_category_has_none() -> None:
    assert new_product(1, "SKU-1", "Widget", "1", "0").category is None


def test_new_items_post_to_their_categorys_account_else_to_the_revenue_account() -> None:
    settings = ConnectionSettings("1", category_accounts={"Garden": "7", "Books": "8"})
    assert settings.income_account("Garden") == "7"
    assert settings.income_account("Books") == "8"
    assert settings.income_account("Toys") == "1"  # a category without an account of its own
    assert settings.income_account(None) == "1"
    assert settings.income_account("garden") == "1"  # categories are told apart exactly, as products carry them


@pytest.mark.parametrize(
    ("accounts", "problem"),
    [({"Garden": ""}, ("category_accounts.Garden", "Choose the income account of category Garden.")),
     ({" Garden": "7"}, ("category_accounts. Garden",
                         "Write the category as the products carry it, without spaces around it.")),
     ({"": "7"}, ("category_accounts.", "Name the category.")),
     ({"x" * 101: "7"}, (f"category_accounts.{'x' * 101}",
                         "The category is longer than QuickBooks allows (100 characters)."))],
)  # fmt: skip
def test_a_category_map_entry_that_is_not_one_is_a_problem(accounts: dict[str, str], problem: tuple[str, str]) -> None:
    settings = ConnectionSettings("1", category_accounts=accounts)
    assert settings.problems([]) == [problem]


def test_a_zero_rate_is_mapped_to_the_no_tax_code_unless_mapped_itself() -> None:
    settings = ConnectionSettings("1", {1: "3", 2: "9"}, no_tax_code_id="5")
    assert settings.tax_code(2, zero=True) == "9"  # chosen by hand: kept
    assert settings.tax_code(4, zero=True) == "5"  # a 0 % rate added since: the no-tax code
    assert settings.tax_code(4, zero=False) is None  # a taxed rate is never guessed
    assert settings.problems([1, 2, 4], zero_rate_ids=[4]) == []
    assert settings.problems([1, 2, 4, 6], zero_rate_ids=[4]) == [
        ("tax_mapping", "Map every tax rate to a QuickBooks tax code (missing: [6]).")
    ]


def test_without_a_no_tax_code_a_zero_rate_must_be_mapped_by_hand() -> None:
    settings = ConnectionSettings("1", {1: "3"})
    assert settings.problems([1, 4], zero_rate_ids=[4]) == [
        ("tax_mapping", "Map every tax rate to a QuickBooks tax code (missing: [4]).")
    ]

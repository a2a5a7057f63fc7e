"""What the company sells (product variants, by SKU) and the tax rates on its order rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from invoicebridge.domain import checks
from invoicebridge.domain.errors import ValidationError

# QBO Item: Name ≤ 100 characters without ':' (it separates sub-items); Sku ≤ 100.
ITEM_NAME_MAX = 100
SKU_MAX = 100
ITEM_FORBIDDEN = ":\t\n\r"
# A product's category picks the QBO income account its item is created with (settings: category → account).
CATEGORY_MAX = 100


@dataclass(frozen=True)
class ProductVariant:
    """A sellable variant; the SKU is unique per company and is how it is matched to a QBO item."""

    id: int | None
    company_id: int
    sku: str
    name: str
    sales_price: Decimal
    unit_cost: Decimal
    category: str | None = None  # None: uncategorised (its item posts to the revenue account)


@dataclass(frozen=True)
class TaxRate:
    """A tax rate rows can carry; mapped to a QBO tax code when the company connects."""

    id: int | None
    company_id: int
    name: str
    percent: Decimal


def sku(value: object, field: str = "sku") -> str:
    return checks.text(value, field, max_length=SKU_MAX, forbidden=ITEM_FORBIDDEN, what="The SKU")


def item_name(value: object, field: str = "name") -> str:
    return checks.text(value, field, max_length=ITEM_NAME_MAX, forbidden=ITEM_FORBIDDEN, what="The product name")


def category(value: object, field: str = "category") -> str | None:
    """A product category: trimmed printable text up to 100 characters; nothing, or only spaces, is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    named = checks.text(value, field, max_length=CATEGORY_MAX, what="The category")
    if not named.isprintable():  # e.g. a zero-width or bidi control: two categories that look alike must not be two
        raise ValidationError.single(field, "The category contains characters that cannot be shown.")
    return named


def category_account_problems(accounts: Mapping[str, str]) -> list[tuple[str, str]]:
    """(field, sentence) for each entry of a category → income account map that is not one: a key that is not a
    category as products carry them (trimmed, ≤ 100 printable characters), or no account chosen."""
    found: list[tuple[str, str]] = []
    for name, account_id in accounts.items():
        where = f"category_accounts.{name}"
        try:
            named = category(name, where)
            if named is None:
                found.append((where, "Name the category."))
            elif named != name:
                found.append((where, "Write the category as the products carry it, without spaces around it."))
        except ValidationError as refused:
            found += [(where, p.message) for p in refused.problems]
        if not account_id.strip():
            found.append((where, f"Choose the income account of category {name}."))
    return found


def new_product(
    company_id: int, sku: object, name: object, sales_price: object, unit_cost: object, category: object = None
) -> ProductVariant:
    """A validated ProductVariant. Raises ValidationError listing every problem."""
    check = checks.Checker()
    code = check.run("sku", lambda: _sku(sku), "")
    title = check.run("name", lambda: item_name(name), "")
    price = check.run("sales_price", lambda: checks.non_negative(sales_price, "sales_price", "The price"), Decimal(0))
    cost = check.run("unit_cost", lambda: checks.non_negative(unit_cost, "unit_cost", "The unit cost"), Decimal(0))
    group = check.run("category", lambda: _category(category), None)
    check.done()
    return ProductVariant(None, company_id, code, title, price, cost, group)


def percent(value: object, field: str = "percent") -> Decimal:
    rate = checks.non_negative(value, field, "The tax percent")
    if rate > 100:
        raise ValidationError.single(field, "The tax percent cannot be more than 100.")
    return rate


def new_tax_rate(company_id: int, name: object, percent: object) -> TaxRate:
    """A validated TaxRate (0 to 100 percent). Raises ValidationError listing every problem."""
    check = checks.Checker()
    title = check.run("name", lambda: checks.text(name, "name", max_length=100, what="The tax rate name"), "")
    rate = check.run("percent", lambda: _percent(percent), Decimal(0))
    check.done()
    return TaxRate(None, company_id, title, rate)


_sku = sku
_percent = percent
_category = category

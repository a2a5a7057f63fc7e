"""What the company sells (product variants, by SKU) and the tax rates on its order rows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from invoicebridge.domain import checks
from invoicebridge.domain.errors import ValidationError

# QBO Item: Name ≤ 100 characters without ':' (it separates sub-items); Sku ≤ 100.
ITEM_NAME_MAX = 100
SKU_MAX = 100
ITEM_FORBIDDEN = ":\t\n\r"


@dataclass(frozen=True)
class ProductVariant:
    """A sellable variant; the SKU is unique per company and is how it is matched to a QBO item."""

    id: int | None
    company_id: int
    sku: str
    name: str
    sales_price: Decimal
    unit_cost: Decimal


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


def new_product(company_id: int, sku: object, name: object, sales_price: object, unit_cost: object) -> ProductVariant:
    """A validated ProductVariant. Raises ValidationError listing every problem."""
    check = checks.Checker()
    code = check.run("sku", lambda: _sku(sku), "")
    title = check.run("name", lambda: item_name(name), "")
    price = check.run("sales_price", lambda: checks.non_negative(sales_price, "sales_price", "The price"), Decimal(0))
    cost = check.run("unit_cost", lambda: checks.non_negative(unit_cost, "unit_cost", "The unit cost"), Decimal(0))
    check.done()
    return ProductVariant(None, company_id, code, title, price, cost)


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

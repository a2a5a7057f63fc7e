"""Customers and addresses of the order book."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import partial

from invoicebridge.domain import checks
from invoicebridge.domain.errors import ValidationError

# QBO Customer.DisplayName: ≤ 500 characters, no ':' (it separates sub-customers), no tab or newline.
DISPLAY_NAME_MAX = 500
DISPLAY_NAME_FORBIDDEN = ":\t\n\r"
# QBO address lines take 500 characters; city, region, postal code and country far fewer.
ADDRESS_LIMITS = {"line1": 500, "line2": 500, "city": 255, "region": 255, "postal_code": 30, "country": 255}


@dataclass(frozen=True)
class Address:
    """A postal address as QBO's BillAddr/ShipAddr take it (Line1, Line2, City, region, postal code, country)."""

    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


def parse_address(value: object, field: str) -> Address:
    """An Address from an Address, a mapping of its field names, or None (empty). Raises ValidationError."""
    if value is None:
        return Address()
    if isinstance(value, Address):
        value = {f.name: getattr(value, f.name) for f in fields(value)}
    if not isinstance(value, Mapping):
        raise ValidationError.single(field, "An address must be an object with line1, city, postal_code, ….")
    unknown = sorted(str(k) for k in value if k not in ADDRESS_LIMITS)
    if unknown:
        raise ValidationError.single(field, f"Unknown address fields: {', '.join(unknown)}.")
    check = checks.Checker()
    parts = {
        name: check.run(
            f"{field}.{name}",
            partial(
                checks.text, value.get(name), f"{field}.{name}", max_length=limit, required=False, what="The address"
            ),
            "",
        )
        for name, limit in ADDRESS_LIMITS.items()
    }
    check.done()
    return Address(**parts)


@dataclass(frozen=True)
class Customer:
    """A customer of the company; `currency` is the currency its orders are priced in."""

    id: int | None
    company_id: int
    display_name: str
    email: str | None
    billing_address: Address
    shipping_address: Address
    currency: str


def display_name(value: object, field: str = "display_name") -> str:
    return checks.text(
        value, field, max_length=DISPLAY_NAME_MAX, forbidden=DISPLAY_NAME_FORBIDDEN, what="The display name"
    )


def new_customer(
    company_id: int,
    display_name: object,
    email: object,
    billing_address: object,
    shipping_address: object,
    currency: object,
) -> Customer:
    """A validated Customer. Raises ValidationError listing every problem."""
    check = checks.Checker()
    name = check.run("display_name", lambda: _display_name(display_name), "")
    mail = check.run("email", lambda: checks.email(email), None)
    billing = check.run("billing_address", lambda: parse_address(billing_address, "billing_address"), Address())
    shipping = check.run("shipping_address", lambda: parse_address(shipping_address, "shipping_address"), Address())
    money = check.run("currency", lambda: checks.currency(currency), "")
    check.done()
    return Customer(None, company_id, name, mail, billing, shipping, money)


_display_name = display_name

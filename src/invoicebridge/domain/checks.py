"""A collector of problems, so a refusal lists every bad field at once, and the text rules QBO enforces.

QBO's limits (shared/qbo-reference.md, "Entities"): Customer.DisplayName ≤ 500 characters, no ':' tab or
newline; Item.Name ≤ 100, no ':'; Item.Sku ≤ 100; Invoice.DocNumber ≤ 21.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from invoicebridge.domain.errors import Problem, ValidationError
from invoicebridge.domain.money import parse_amount, parse_currency

T = TypeVar("T")

# Deliberately simple (QBO checks no more): one @, no spaces, a domain of dot-separated non-empty labels
# with at least one dot, so "ada@example" and "ada@example..com" are refused.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# C0 and C1 control characters and DEL. Tab, CR and LF are among them; only free text (descriptions) may
# keep line breaks and tabs.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
LINE_BREAKS = "\t\n\r"
# The largest id a database stores (a signed 64-bit integer). A larger one names no record, and SQLite cannot
# even compare it (OverflowError), so it is refused before any query.
MAX_ID = 2**63 - 1


class Checker:
    """Runs field checks, keeps the value of each good field and every problem of the bad ones."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def run(self, field: str, check: Callable[[], T], fallback: T) -> T:
        try:
            return check()
        except ValidationError as error:
            self.problems.extend(Problem(field, p.message) for p in error.problems)
            return fallback

    def refuse(self, field: str, message: str) -> None:
        self.problems.append(Problem(field, message))

    def done(self) -> None:
        if self.problems:
            raise ValidationError(self.problems)


def text(
    value: object,
    field: str,
    *,
    max_length: int,
    forbidden: str = "",
    required: bool = True,
    what: str = "This field",
    multiline: bool = False,
) -> str:
    """A trimmed string within QBO's limits. Raises ValidationError saying which rule it broke.

    `forbidden` characters are named in the refusal; any other control character is refused too, except
    tabs and line breaks when `multiline` (free text such as a row description).
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError.single(field, f"{what} must be text.")
    cleaned = value.strip()
    if required and not cleaned:
        raise ValidationError.single(field, f"{what} is required.")
    if len(cleaned) > max_length:
        raise ValidationError.single(field, f"{what} is longer than QuickBooks allows ({max_length} characters).")
    bad = sorted({c for c in cleaned if c in forbidden})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise ValidationError.single(field, f"{what} contains characters QuickBooks refuses: {shown}.")
    if any(CONTROL.match(c) and not (multiline and c in LINE_BREAKS) for c in cleaned):
        raise ValidationError.single(field, f"{what} contains control characters.")
    return cleaned


def email(value: object, field: str = "email") -> str | None:
    """None for no e-mail, else a syntactically valid address."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    address = text(value, field, max_length=100, what="The e-mail address")
    if not EMAIL.match(address):
        raise ValidationError.single(field, f"{address!r} is not a valid e-mail address.")
    return address


def non_negative(value: object, field: str, what: str) -> Decimal:
    amount = parse_amount(value, field)
    if amount < 0:
        raise ValidationError.single(field, f"{what} cannot be negative.")
    return amount


def positive(value: object, field: str, what: str) -> Decimal:
    amount = parse_amount(value, field)
    if amount <= 0:
        raise ValidationError.single(field, f"{what} must be more than 0.")
    return amount


def currency(value: object, field: str = "currency") -> str:
    return parse_currency(value, field)


def identifier(value: object, field: str, what: str) -> int:
    """A positive integer id of a referenced object, at most MAX_ID."""
    if not is_id(value):
        raise ValidationError.single(field, f"{what} must be the id of an existing record.")
    assert isinstance(value, int)
    return value


def is_id(value: object) -> bool:
    """True for an int that can be the id of a stored record (1 to MAX_ID); bools are not ids."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID

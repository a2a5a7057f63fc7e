"""JSON in and out. Amounts are Decimal inside the sandbox (parsed with parse_float=Decimal) and go out as
JSON numbers, as QBO sends them. What comes in must be JSON the sandbox can keep (text.py): no lone
surrogates, no deep nesting, no NaN or Infinity (not JSON; QBO's Jackson parser refuses them too)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from qbo_sandbox import text

MAX_EXPONENT = 308  # a double's


class Unreadable(ValueError):
    """JSON the sandbox refuses; ``element`` names where the problem is (empty: the whole body)."""

    def __init__(self, reason: str, element: str = "") -> None:
        super().__init__(reason)
        self.element = element


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping every number with a fraction as an exact Decimal. Raises ValueError (UnicodeDecodeError
    for bytes that are not UTF-8/16/32, :class:`Unreadable` for what parses but cannot be kept)."""
    try:
        parsed = json.loads(raw, parse_float=_decimal, parse_constant=_not_json)
    except RecursionError:  # json's C parser stops at the interpreter's recursion limit (about 1000 levels)
        raise Unreadable(f"the body is nested deeper than {text.MAX_DEPTH} levels") from None
    flaw = text.flaw(parsed)
    if flaw is not None:
        raise Unreadable(flaw.reason, flaw.element)
    return parsed


def _decimal(literal: str) -> Decimal:
    """A JSON number with a fraction or exponent, exactly. One beyond a double's range (1e999999999) is refused:
    QBO reads numbers as Java doubles or BigDecimals, and such an exponent would overflow the arithmetic that
    follows (decimal.Overflow)."""
    number = Decimal(literal)
    if not number.is_zero() and abs(number.adjusted()) > MAX_EXPONENT:
        raise Unreadable(f"the number {literal[:40]} is outside the range of a JSON number (1e±{MAX_EXPONENT})")
    return number


def _not_json(constant: str) -> object:
    raise Unreadable(f"{constant} is not a JSON number")


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        # QBO sends numbers; a float repr is the shortest that reads back to the same value, so amounts of up to
        # 15 significant digits come out exactly as stored ("424.98", not "424.9800000001"). copy_abs, unlike
        # abs(), cannot overflow the decimal context.
        return int(value) if value == value.to_integral_value() and value.copy_abs() < 2**53 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(body: object) -> bytes:
    return json.dumps(body, default=_number, ensure_ascii=False).encode()

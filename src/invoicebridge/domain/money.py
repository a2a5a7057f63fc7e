"""Money is Decimal, never float: parsing amounts and currency codes with reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from invoicebridge.domain.errors import ValidationError

# Active ISO 4217 codes (list of 2024; funds and precious-metal codes left out because no order is priced in them).
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
    CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ
    GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
    LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG
    """.split()
)

# Every amount and quantity QuickBooks takes is a decimal of "max 15 digits in 10.5 format" (Intuit's Invoice
# reference, Line.Amount): at most 10 digits before the point. Each number we accept stays within that, with the
# 4 decimals we store (NUMERIC(18, 4) holds 14 digits before the point, so the store never overflows either).
MAX_AMOUNT = Decimal("9999999999.9999")
# A line amount (quantity × price) and an invoice or journal entry total become a QBO Line.Amount rounded to
# cents, so they are bounded by its 10 digits before the point too.
MAX_LINE_AMOUNT = Decimal("9999999999.99")
CENT = Decimal("0.01")
# The one written form of an amount: ASCII digits, one optional point, an optional sign. Python's Decimal would
# also read "1_000", "1e3" and other scripts' digits ("١٢"), which people do not mean as amounts.
PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def parse_amount(value: object, field: str) -> Decimal:
    """Turn an int, a Decimal or a plain decimal string ("12.50", ASCII digits) into a finite Decimal of at
    most 4 decimals and at most MAX_AMOUNT in size.

    Floats are refused: a float has already lost the cents it was meant to carry. Raises ValidationError.
    """
    if isinstance(value, bool | float):
        raise ValidationError.single(field, 'Give the amount as a decimal string such as "12.50", not a float.')
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = _from_int(value, field)
    elif isinstance(value, str):
        amount = _from_text(value.strip(), field)
    else:
        raise ValidationError.single(field, "A number is required.")
    if not amount.is_finite():
        raise ValidationError.single(field, "The number must be finite.")
    if amount.copy_abs() > MAX_AMOUNT:  # copy_abs, not abs(): abs rounds in the context and overflows on 1e999999999
        raise ValidationError.single(field, f"The number is too large (at most {plain(MAX_AMOUNT)}).")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValidationError.single(field, "Use at most 4 decimal places.")
    if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value.strip()):
        raise ValidationError.single(
            field, f'{value!r} is not written as a plain decimal: use the digits 0-9 and a point, such as "1000.50".'
        )
    return amount + 0  # x + 0 turns -0 into 0, so a "-0" price reads back as 0.00, not -0.00


def _from_int(value: int, field: str) -> Decimal:
    # Checked before converting: Decimal(10**5000) would be a long computation for nothing.
    if abs(value) > MAX_AMOUNT:
        raise ValidationError.single(field, f"The number is too large (at most {plain(MAX_AMOUNT)}).")
    return Decimal(value)


def _from_text(text: str, field: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError.single(field, f"{text!r} is not a number.") from None


def to_cents(value: Decimal) -> Decimal:
    """Rounded to cents, half up: how a line amount or a total reaches QuickBooks."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_currency(code: object, field: str = "currency") -> str:
    """An ISO 4217 currency code, upper-cased. Raises ValidationError for anything else."""
    if not isinstance(code, str) or code.strip().upper() not in ISO_4217:
        raise ValidationError.single(field, f"{code!r} is not an ISO 4217 currency code (such as USD, EUR, GBP).")
    return code.strip().upper()


@dataclass(frozen=True)
class Money:
    """An amount in a currency; arithmetic only within one currency."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        """Raises TypeError for a non-Decimal amount (a float has lost cents already), ValueError for NaN or
        an infinity, ValidationError for an unknown currency. Input from people goes through parse_amount."""
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        if not self.amount.is_finite():
            raise ValueError("Money.amount must be finite")
        parse_currency(self.currency)

    def __add__(self, other: Money) -> Money:
        """The sum in the same currency; ValueError for two currencies."""
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        """The amount times a quantity (Decimal or int; floats and bools are refused with TypeError)."""
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__


def plain(value: Decimal) -> str:
    """A Decimal as people write it: 3 not 3.0000, 0.5 not 5E-1."""
    normal = value.normalize()
    return format(normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal, "f")

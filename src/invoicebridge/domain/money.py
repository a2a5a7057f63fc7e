"""Money is Decimal, never float: parsing amounts and currency codes with reasons."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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

# Amounts are stored as NUMERIC(18, 4): up to 14 digits before the point.
MAX_AMOUNT = Decimal("99999999999999")


def parse_amount(value: object, field: str) -> Decimal:
    """Turn an int, a Decimal or a numeric string into a finite Decimal.

    Floats are refused: a float has already lost the cents it was meant to carry. Raises ValidationError.
    """
    if isinstance(value, bool | float):
        raise ValidationError.single(field, 'Give the amount as a decimal string such as "12.50", not a float.')
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError.single(field, f"{value!r} is not a number.") from None
    else:
        raise ValidationError.single(field, "A number is required.")
    if not amount.is_finite():
        raise ValidationError.single(field, "The number must be finite.")
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError.single(field, "The number is too large.")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValidationError.single(field, "Use at most 4 decimal places.")
    return amount


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

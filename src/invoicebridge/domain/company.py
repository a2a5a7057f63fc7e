"""The company: the tenant every record belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from invoicebridge.domain import checks
from invoicebridge.domain.errors import ValidationError


@dataclass(frozen=True)
class Company:
    """A business using invoicebridge: its name, home currency and time zone (IANA name)."""

    id: int | None
    name: str
    home_currency: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_timezone(value: object, field: str = "timezone") -> str:
    """An IANA time zone name such as "Europe/London". Raises ValidationError."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.single(field, 'A time zone such as "Europe/London" is required.')
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError.single(field, f"{value!r} is not a known time zone.") from None
    return value.strip()


def new_company(name: object, home_currency: object, timezone: object) -> Company:
    """A validated Company. Raises ValidationError listing every problem."""
    check = checks.Checker()
    clean_name = check.run("name", lambda: checks.text(name, "name", max_length=200, what="The name"), "")
    currency = check.run("home_currency", lambda: checks.currency(home_currency, "home_currency"), "")
    zone = check.run("timezone", lambda: parse_timezone(timezone), "")
    check.done()
    return Company(None, clean_name, currency, zone)

"""JSON shapes of the API. Amounts travel as decimal strings ("12.50"), never as JSON numbers with a fraction,
because a float has already lost the cents it was meant to carry. Times travel as ISO 8601 strings with a zone,
dates as YYYY-MM-DD; ids are whole numbers a database can hold (1 to 2⁶³−1), anything else is refused (422)."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from invoicebridge.domain import (
    Address,
    Company,
    Customer,
    ProductVariant,
    RowInput,
    TaxRate,
)
from invoicebridge.domain.money import plain
from invoicebridge.domain.orders import MAX_ROWS
from invoicebridge.sync.meter import MonthUsage
from invoicebridge.web.auth import MAX_ID

T = TypeVar("T")
# The documented forms (docs/api.md): 2026-03-01T09:30:00-05:00, …Z, with seconds and fractions optional. pydantic
# alone would also read a JSON number, or a string of digits, as a Unix time.
ISO_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})", re.ASCII
)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
TIME_FORM = "give a date and time with its zone, such as 2026-03-01T09:30:00-05:00 or 2026-03-01T14:30:00Z"
# Times any zone (offsets stay within a day) can show: a return dated 0001-01-01T00:00Z broke its SO's card in Chicago.
EARLIEST_TIME = datetime(1, 1, 2, tzinfo=UTC)
LATEST_TIME = datetime(9999, 12, 30, tzinfo=UTC)


def _no_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError('give amounts as decimal strings such as "12.50", not JSON numbers with a fraction')
    if isinstance(value, bool):
        raise ValueError("an amount is required, not true/false")
    return value


def money_text(value: Decimal) -> str:
    """At least two decimals ("12.50"), more only when the amount has them ("0.0001")."""
    value = value.normalize()
    # format(), not quantize(): quantize raises past 28 digits, and an amount stored before amounts were bounded
    # must still be shown, not answered with a 500.
    return format(value, ".2f" if value.as_tuple().exponent > -2 else "f")  # type: ignore[operator]


def quantity_text(value: Decimal) -> str:
    return plain(value)


def _iso_time(value: object) -> object:
    if isinstance(value, datetime):  # built in Python, not read from a request
        return value
    if not isinstance(value, str) or not ISO_TIME.fullmatch(value):
        raise ValueError(TIME_FORM)
    moment = datetime.fromisoformat(value)  # pydantic checks the calendar and the zone after this
    try:  # stored in UTC and shown in the company's zone: near year 1 or 9999 the moment may exist in neither
        in_range = EARLIEST_TIME <= moment.astimezone(UTC) <= LATEST_TIME
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError("give a time between the years 1 and 9999 that exists in every time zone")
    return moment


def _iso_date(value: object) -> object:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError("give a date as YYYY-MM-DD, such as 2026-03-01")
    return value


def _whole_id(value: object) -> object:
    # Ids are JSON integers (or, as object keys, their digits): not true/false, 1.0, "1_000" or "+1".
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise ValueError("give the id as a whole number such as 42")


AmountIn = Annotated[str | int, BeforeValidator(_no_float), Field(examples=["12.50"])]
ZonedTime = Annotated[AwareDatetime, BeforeValidator(_iso_time), Field(examples=["2026-03-01T09:30:00-05:00"])]
Day = Annotated[date, BeforeValidator(_iso_date), Field(examples=["2026-03-01"])]
Id = Annotated[int, BeforeValidator(_whole_id), Field(ge=1, le=MAX_ID)]
MoneyOut = Annotated[Decimal, PlainSerializer(money_text, return_type=str)]
QuantityOut = Annotated[Decimal, PlainSerializer(quantity_text, return_type=str)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressBody(Strict):
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""

    @classmethod
    def of(cls, address: Address) -> AddressBody:
        return cls(**asdict(address))


class CompanyIn(Strict):
    name: str
    home_currency: str = Field(examples=["USD"])
    timezone: str = Field(examples=["America/New_York"])


class CompanyOut(BaseModel):
    id: int
    name: str
    home_currency: str
    timezone: str

    @classmethod
    def of(cls, c: Company) -> CompanyOut:
        return cls(id=c.id or 0, name=c.name, home_currency=c.home_currency, timezone=c.timezone)


class CustomerIn(Strict):
    display_name: str
    email: str | None = None
    billing_address: AddressBody | None = None
    shipping_address: AddressBody | None = None
    currency: str | None = Field(None, description="ISO 4217; defaults to the company's home currency")


class CustomerPatch(Strict):
    display_name: str | None = None
    email: str | None = None
    billing_address: AddressBody | None = None
    shipping_address: AddressBody | None = None
    currency: str | None = None


class CustomerOut(BaseModel):
    id: int
    display_name: str
    email: str | None
    billing_address: AddressBody
    shipping_address: AddressBody
    currency: str

    @classmethod
    def of(cls, c: Customer) -> CustomerOut:
        return cls(
            id=c.id or 0, display_name=c.display_name, email=c.email, currency=c.currency,
            billing_address=AddressBody.of(c.billing_address), shipping_address=AddressBody.of(c.shipping_address),
        )  # fmt: skip


CATEGORY_HELP = "picks the QuickBooks income account of the product's item (settings); up to 100 characters"


class ProductIn(Strict):
    sku: str
    name: str
    sales_price: AmountIn
    unit_cost: AmountIn = "0"
    category: str | None = Field(None, description=CATEGORY_HELP)


class ProductPatch(Strict):
    sku: str | None = None
    name: str | None = None
    sales_price: AmountIn | None = None
    unit_cost: AmountIn | None = None
    category: str | None = Field(None, description=CATEGORY_HELP + "; null or empty: none")


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    sales_price: MoneyOut
    unit_cost: MoneyOut
    category: str | None = None

    @classmethod
    def of(cls, p: ProductVariant) -> ProductOut:
        return cls(id=p.id or 0, sku=p.sku, name=p.name, sales_price=p.sales_price, unit_cost=p.unit_cost,
                   category=p.category)  # fmt: skip


class TaxRateIn(Strict):
    name: str
    percent: AmountIn


class TaxRatePatch(Strict):
    name: str | None = None
    percent: AmountIn | None = None


class TaxRateOut(BaseModel):
    id: int
    name: str
    percent: QuantityOut

    @classmethod
    def of(cls, r: TaxRate) -> TaxRateOut:
        return cls(id=r.id or 0, name=r.name, percent=r.percent)


class RowIn(Strict):
    variant_id: Id
    quantity: AmountIn
    unit_price: AmountIn | None = Field(None, description="defaults to the product's sales price")
    tax_rate_id: Id | None = None
    unit_cost: AmountIn | None = Field(None, description="defaults to the product's unit cost")
    description: str = ""

    def to_domain(self) -> RowInput:
        return RowInput(
            self.variant_id, self.quantity, self.unit_price, self.tax_rate_id, self.unit_cost, self.description
        )


# QBO takes at most MAX_ROWS lines on an invoice (domain/orders.py); counted here too, so a huge body is refused
# before any row of it is read.
Rows = Annotated[list[RowIn], Field(max_length=MAX_ROWS, description=f"at most {MAX_ROWS} rows")]


SHIPPING_FEE_HELP = (
    "charged once, on the SO's first invoice (QuickBooks' shipping line, or a line on the item 'Shipping'); null: none"
)


class SalesOrderIn(Strict):
    number: str = Field(examples=["SO-1001"])
    customer_id: Id
    rows: Rows
    billing_address: AddressBody | None = Field(None, description="defaults to the customer's")
    shipping_address: AddressBody | None = Field(None, description="defaults to the customer's")
    created_at: ZonedTime | None = Field(None, description="defaults to now; must carry a time zone")
    delivery_deadline: Day | None = None
    currency: str | None = Field(None, description="defaults to the customer's currency")
    shipping_fee: AmountIn | None = Field(None, description=SHIPPING_FEE_HELP)
    shipping_tax_rate_id: Id | None = Field(None, description="the shipping fee's tax rate (needs a fee)")


class SalesOrderPatch(Strict):
    number: str | None = None
    customer_id: Id | None = None
    rows: Rows | None = None
    billing_address: AddressBody | None = None
    shipping_address: AddressBody | None = None
    created_at: ZonedTime | None = None
    delivery_deadline: Day | None = None
    currency: str | None = None
    shipping_fee: AmountIn | None = Field(None, description=SHIPPING_FEE_HELP + "; null takes it (and its rate) away")
    shipping_tax_rate_id: Id | None = None


class DeliveryLine(Strict):
    row_id: Id
    quantity: AmountIn


class DeliveryIn(Strict):
    rows: list[DeliveryLine] = Field(min_length=1, max_length=MAX_ROWS)
    delivered_at: ZonedTime | None = Field(None, description="defaults to now")


class QboUsageOut(BaseModel):
    """A month's counted QuickBooks calls (docs/quickbooks.md, "Metering"). Intuit caps CorePlus calls per app and
    month across all the companies it serves, so the deployment's total is what the budget is checked against."""

    month: str = Field(description="calendar month (UTC), YYYY-MM")
    core: int = Field(description="this company's data-in calls (creates, updates, deletes, voids): not metered")
    coreplus: int = Field(description="this company's data-out calls (reads, queries, CDC, preferences): metered")
    deployment_coreplus: int = Field(description="CorePlus calls of every company this deployment serves")
    coreplus_budget: int | None = Field(description="the deployment's monthly CorePlus budget; null: no budget")
    warn_at: int | None = Field(description="the CorePlus count from which the warning is on; null: no budget")
    warning: bool = Field(description="the deployment's CorePlus calls reached the warning share of the budget")

    @classmethod
    def of(cls, usage: MonthUsage, company_id: int) -> QboUsageOut:
        mine = usage.of(company_id)
        return cls(
            month=usage.month, core=mine.core, coreplus=mine.coreplus, deployment_coreplus=usage.deployment.coreplus,
            coreplus_budget=usage.budget.monthly or None, warn_at=usage.budget.warn_at, warning=usage.warning,
        )  # fmt: skip


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_after: int | None = Field(description="pass as `after` to get the next page; null on the last page")


class ProblemOut(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    problems: list[ProblemOut] = []


class ErrorOut(BaseModel):
    """The one shape of every error the API returns."""

    error: ErrorBody

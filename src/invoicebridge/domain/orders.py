"""Sales orders: rows, delivery status from delivered quantities, and validated construction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import partial

from invoicebridge.domain import checks
from invoicebridge.domain.customers import Address, parse_address
from invoicebridge.domain.deliveries import Delivery
from invoicebridge.domain.errors import Problem, ValidationError
from invoicebridge.domain.invoice_link import InvoiceState, InvoiceStatus
from invoicebridge.domain.money import MAX_LINE_AMOUNT, plain, to_cents
from invoicebridge.domain.payments import PaymentStatus

# The SO number becomes the invoice's DocNumber, which QBO caps at 21 characters.
SO_NUMBER_MAX = 21
# Each row becomes one invoice line, and QBO takes at most 750 lines on a taxable invoice ("If the transaction is
# taxable there is a limit of 750 lines per transaction": Intuit's Invoice entity reference, Line). Refusing more
# here also keeps an SO small enough to store, list and show quickly.
MAX_ROWS = 750


class DeliveryStatus(StrEnum):
    NOT_SHIPPED = "not_shipped"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class OrderRow:
    """One row: a variant, how many, at what price, with which tax rate, at what cost; and how many went out."""

    id: int | None
    variant_id: int
    quantity: Decimal
    unit_price: Decimal
    tax_rate_id: int | None
    unit_cost: Decimal
    delivered_quantity: Decimal = Decimal(0)
    description: str = ""

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price

    @property
    def cost(self) -> Decimal:
        return self.quantity * self.unit_cost


@dataclass(frozen=True)
class RowInput:
    """A row as it arrives from the API, the CSV import or the demo, before validation."""

    variant_id: object
    quantity: object
    unit_price: object = None  # None: the order book fills in the product's sales price
    tax_rate_id: object = None
    unit_cost: object = None  # None: the order book fills in the product's unit cost
    description: object = ""


@dataclass(frozen=True)
class SalesOrder:
    """A sales order; addresses are a snapshot taken when it was made."""

    id: int | None
    company_id: int
    number: str
    customer_id: int
    billing_address: Address
    shipping_address: Address
    created_at: datetime
    delivery_deadline: date | None
    currency: str
    rows: tuple[OrderRow, ...]
    delivered_at: datetime | None = None
    deliveries: tuple[Delivery, ...] = ()  # oldest first; each row's delivered_quantity sums them
    # Charged once, on the SO's first invoice (domain/order_invoices.py); None: no shipping fee. Its tax rate is
    # mapped to a QBO tax code like a row's.
    shipping_fee: Decimal | None = None
    shipping_tax_rate_id: int | None = None
    # From its invoices' balances in QBO (domain/payments.py), kept by the store; None while not tracked (opt-in).
    payment_status: PaymentStatus | None = None

    @property
    def total(self) -> Decimal:
        """Σ quantity × price over the rows, before tax (the shipping fee is not in it)."""
        return sum((row.amount for row in self.rows), Decimal(0))

    def without_shipping(self) -> SalesOrder:
        """The SO as an invoice that does not carry its shipping fee sees it."""
        return replace(self, shipping_fee=None, shipping_tax_rate_id=None)

    @property
    def delivery_status(self) -> DeliveryStatus:
        delivered = [row.delivered_quantity for row in self.rows]
        if all(d >= row.quantity for d, row in zip(delivered, self.rows, strict=True)):
            return DeliveryStatus.DELIVERED
        if any(d > 0 for d in delivered):
            return DeliveryStatus.PARTIALLY_DELIVERED
        return DeliveryStatus.NOT_SHIPPED

    def record_delivery(self, deliveries: Mapping[int, object], when: datetime) -> SalesOrder:
        """Add delivered quantities per row id, as one new delivery. Refuses unknown rows and delivering more
        than ordered."""
        _require_aware(when, "delivered_at")
        check = checks.Checker()
        by_id = {row.id: row for row in self.rows}
        added: dict[int, Decimal] = {}
        for row_id, quantity in deliveries.items():
            field = f"rows[{row_id}].quantity"
            row = by_id.get(row_id)
            if row is None:
                check.refuse(field, f"Order {self.number} has no row {row_id}.")
                continue
            delivered: Decimal | None = None
            amount = check.run(field, partial(checks.positive, quantity, field, "The delivered quantity"), delivered)
            if amount is not None and row.delivered_quantity + amount > row.quantity:
                check.refuse(
                    field,
                    f"Cannot deliver {plain(row.delivered_quantity + amount)} of row {row_id}: "
                    f"only {plain(row.quantity)} were ordered.",
                )
            elif amount is not None:
                added[row_id] = amount
        if not deliveries:
            check.refuse("deliveries", "Say which rows were delivered and how many.")
        check.done()
        rows = tuple(
            replace(row, delivered_quantity=row.delivered_quantity + added.get(row.id or 0, Decimal(0)))
            for row in self.rows
        )
        delivery = Delivery(None, len(self.deliveries) + 1, when, added)
        updated = replace(self, rows=rows, deliveries=(*self.deliveries, delivery))
        if updated.delivery_status is DeliveryStatus.DELIVERED and self.delivered_at is None:
            updated = replace(updated, delivered_at=when)
        return updated


@dataclass(frozen=True)
class OrderFilter:
    """Which SOs a list shows; `created_from` inclusive, `created_to` exclusive."""

    invoice_state: InvoiceState | None = None  # SOs with a live invoice in this state (not_invoiced: none)
    delivery_status: DeliveryStatus | None = None
    customer_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    invoice_status: InvoiceStatus | None = None  # not, partly or fully invoiced
    search: str | None = None  # a piece of the SO number or of the customer's name, any case
    payment_status: PaymentStatus | None = None  # SOs whose invoices are unpaid, partly paid or paid (if tracked)

    def __post_init__(self) -> None:
        """Refuses naive times (they cannot be compared with stored, zoned ones), non-id customers and searches
        that are too long or not text."""
        check = checks.Checker()
        if self.search is not None:
            check.run("search", partial(_search_text, self.search), None)
        for name in ("created_from", "created_to"):
            value = getattr(self, name)
            if value is not None:
                check.run(name, partial(_aware, value, name), None)
        if self.customer_id is not None:
            check.run("customer_id", partial(checks.identifier, self.customer_id, "customer_id", "The customer"), 0)
        check.done()


MAX_SEARCH = 100


def _search_text(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_SEARCH or not value.isprintable():
        raise ValidationError.single("search", f"Search for up to {MAX_SEARCH} printable characters.")
    return value


def so_number(value: object, field: str = "number") -> str:
    return checks.text(value, field, max_length=SO_NUMBER_MAX, forbidden="\t\n\r", what="The SO number")


def new_sales_order(
    company_id: int,
    number: object,
    customer_id: object,
    billing_address: object,
    shipping_address: object,
    created_at: object,
    delivery_deadline: object,
    currency: object,
    rows: Sequence[RowInput],
    shipping_fee: object = None,
    shipping_tax_rate_id: object = None,
) -> SalesOrder:
    """A validated SalesOrder. Raises ValidationError listing every problem, rows and shipping fee included."""
    check = checks.Checker()
    clean_number = check.run("number", lambda: so_number(number), "")
    customer = check.run("customer_id", lambda: checks.identifier(customer_id, "customer_id", "The customer"), 0)
    billing = check.run("billing_address", lambda: parse_address(billing_address, "billing_address"), Address())
    shipping = check.run("shipping_address", lambda: parse_address(shipping_address, "shipping_address"), Address())
    created = check.run("created_at", lambda: _aware(created_at, "created_at"), None)
    deadline = check.run("delivery_deadline", lambda: _optional_date(delivery_deadline), None)
    money = check.run("currency", lambda: checks.currency(currency), "")
    clean_rows = _rows(rows, check)
    fee, fee_rate = _shipping(shipping_fee, shipping_tax_rate_id, check)
    _check_sums(clean_rows, check, fee)
    check.done()
    assert created is not None  # a bad created_at was refused by check.done()
    return SalesOrder(
        None, company_id, clean_number, customer, billing, shipping, created, deadline, money, clean_rows,
        shipping_fee=fee, shipping_tax_rate_id=fee_rate,
    )  # fmt: skip


def _shipping(fee: object, rate: object, check: checks.Checker) -> tuple[Decimal | None, int | None]:
    """The shipping fee (None or blank: none; else an amount ≥ 0 that fits one QBO line) and its tax rate (only
    with a fee: a rate without a fee would tax nothing, and is refused rather than silently dropped)."""
    if fee is None or (isinstance(fee, str) and not fee.strip()):
        if rate is not None:
            check.refuse("shipping_tax_rate_id", "A tax rate for shipping needs a shipping fee.")
        return None, None
    amount = check.run("shipping_fee", partial(checks.non_negative, fee, "shipping_fee", "The shipping fee"), None)
    if amount is not None and to_cents(amount) > MAX_LINE_AMOUNT:
        check.refuse(
            "shipping_fee",
            f"The shipping fee is {plain(amount)}; QuickBooks takes at most {MAX_LINE_AMOUNT:,} on one line.",
        )
        amount = None
    clean_rate = None
    if rate is not None:
        clean_rate = check.run(
            "shipping_tax_rate_id",
            partial(checks.identifier, rate, "shipping_tax_rate_id", "The shipping tax rate"),
            None,
        )
    return amount, clean_rate


def too_many_rows(count: int) -> str | None:
    """Why an order of `count` rows is refused on its count alone (None when it is not)."""
    if count <= MAX_ROWS:
        return None
    return f"An order can have at most {MAX_ROWS} rows (QuickBooks takes no more invoice lines); this one has {count}."


def _rows(rows: Sequence[RowInput], check: checks.Checker) -> tuple[OrderRow, ...]:
    if not rows:
        check.refuse("rows", "An order needs at least one row.")
        return ()
    if (too_many := too_many_rows(len(rows))) is not None:  # refused before reading any row: the count decides
        check.refuse("rows", too_many)
        return ()
    return tuple(_row(row, index, check) for index, row in enumerate(rows, start=1))


def _check_sums(rows: tuple[OrderRow, ...], check: checks.Checker, shipping_fee: Decimal | None = None) -> None:
    """Each row's amount and cost, and the order's total (shipping fee included) and total cost, must fit one QBO
    line amount: the invoice carries the amounts (and QBO's subtotal line the total), the COGS journal entry the
    cost."""
    limit = f"{MAX_LINE_AMOUNT:,}"
    before = len(check.problems)
    for index, row in enumerate(rows, start=1):
        if row.amount > MAX_LINE_AMOUNT:
            check.refuse(
                f"rows[{index}].amount",
                f"Quantity × price (row {index}) comes to {plain(row.amount)}; QuickBooks takes at most {limit} "
                "on one line.",
            )
        if row.cost > MAX_LINE_AMOUNT:
            check.refuse(
                f"rows[{index}].cost",
                f"Quantity × unit cost (row {index}) comes to {plain(row.cost)}; QuickBooks takes at most {limit} "
                "on one line.",
            )
    if len(check.problems) > before:
        return  # a total over rows already refused would only repeat them
    total = sum((to_cents(row.amount) for row in rows), to_cents(shipping_fee or Decimal(0)))
    if total > MAX_LINE_AMOUNT:
        with_fee = " with its shipping fee" if shipping_fee else ""
        check.refuse("total", f"The order's total{with_fee} comes to {plain(total)}; QuickBooks takes at most {limit}.")
    cost = sum((row.cost for row in rows), Decimal(0))
    if to_cents(cost) > MAX_LINE_AMOUNT:
        check.refuse(
            "total_cost", f"The order's cost comes to {plain(cost)}; a QuickBooks journal entry takes at most {limit}."
        )


def _row(row: RowInput, index: int, check: checks.Checker) -> OrderRow:
    at = f"rows[{index}]"
    variant = check.run(
        f"{at}.variant_id", lambda: checks.identifier(row.variant_id, f"{at}.variant_id", "The product"), 0
    )
    quantity = check.run(
        f"{at}.quantity", lambda: checks.positive(row.quantity, at, f"The quantity (row {index})"), Decimal(0)
    )
    price = check.run(
        f"{at}.unit_price",
        lambda: checks.non_negative(row.unit_price, at, f"The price (row {index})"),
        Decimal(0),
    )
    cost = check.run(
        f"{at}.unit_cost",
        lambda: checks.non_negative(row.unit_cost, at, f"The unit cost (row {index})"),
        Decimal(0),
    )
    tax = None
    if row.tax_rate_id is not None:
        tax = check.run(f"{at}.tax_rate_id", lambda: checks.identifier(row.tax_rate_id, at, "The tax rate"), None)
    text = check.run(
        f"{at}.description",
        lambda: checks.text(
            row.description, at, max_length=4000, required=False, what="The description", multiline=True
        ),
        "",
    )
    return OrderRow(None, variant, quantity, price, tax, cost, Decimal(0), text)


def _require_aware(moment: datetime, field: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            [Problem(field, "The time must carry a time zone (for example 2026-05-01T09:30:00+02:00).")]
        )


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError.single(field, "A date and time is required.")
    _require_aware(value, field)
    return value


def _optional_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError.single("delivery_deadline", "The delivery deadline must be a date (YYYY-MM-DD).")
    return value

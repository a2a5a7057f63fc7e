"""The order book's use cases. The web API, the CLI, the CSV import and the demo all go through here.

Each call opens one unit of work: it validates (listing every problem), checks that what it refers to exists in
the same company, stores, and commits — or stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from invoicebridge.domain import (
    Company,
    Conflict,
    Customer,
    InvoiceState,
    NotFound,
    Page,
    PageRequest,
    Problem,
    ProductVariant,
    RowInput,
    SalesOrder,
    TaxRate,
    ValidationError,
    new_company,
    new_customer,
    new_product,
    new_sales_order,
    new_tax_rate,
)
from invoicebridge.domain.orders import too_many_rows
from invoicebridge.sync.order_reads import OrderReads
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory

Clock = Callable[[], datetime]


class OrderBook(OrderReads):
    """Companies, customers, products, tax rates and sales orders, validated and stored."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # -- companies ---------------------------------------------------------------------------------
    def create_company(self, name: object, home_currency: object, timezone: object) -> Company:
        company = new_company(name, home_currency, timezone)
        with self._uow() as uow:
            stored = uow.companies.add(company)
            uow.commit()
        return stored

    def get_company(self, company_id: int) -> Company:
        with self._uow() as uow:
            return uow.companies.get(company_id)

    def list_companies(self, page: PageRequest, among: Sequence[int] | None = None) -> Page[Company]:
        """Every company (the CLI), or those whose ids are `among` (a caller's own)."""
        with self._uow() as uow:
            return uow.companies.list(page, among)

    # -- customers ---------------------------------------------------------------------------------
    def create_customer(
        self,
        company_id: int,
        display_name: object,
        email: object = None,
        billing_address: object = None,
        shipping_address: object = None,
        currency: object = None,
    ) -> Customer:
        with self._uow() as uow:
            company = uow.companies.get(company_id)
            customer = new_customer(
                company_id, display_name, email, billing_address, shipping_address, currency or company.home_currency
            )
            stored = uow.customers.add(customer)
            uow.commit()
        return stored

    def update_customer(self, company_id: int, customer_id: int, **changes: object) -> Customer:
        with self._uow() as uow:
            current = uow.customers.get(company_id, customer_id)
            merged = _merge(
                current, changes, ("display_name", "email", "billing_address", "shipping_address", "currency")
            )
            fresh = new_customer(company_id, **merged)
            stored = uow.customers.update(replace(fresh, id=current.id))
            uow.commit()
        return stored

    def get_customer(self, company_id: int, customer_id: int) -> Customer:
        with self._uow() as uow:
            return uow.customers.get(company_id, customer_id)

    def list_customers(self, company_id: int, page: PageRequest) -> Page[Customer]:
        with self._uow() as uow:
            uow.companies.get(company_id)
            return uow.customers.list(company_id, page)

    # -- products and tax rates --------------------------------------------------------------------
    def create_product(
        self, company_id: int, sku: object, name: object, sales_price: object, unit_cost: object = "0",
        category: object = None,
    ) -> ProductVariant:  # fmt: skip
        """`category` (optional) picks the QBO income account of the product's item (docs/quickbooks.md)."""
        product = new_product(company_id, sku, name, sales_price, unit_cost, category)
        with self._uow() as uow:
            uow.companies.get(company_id)
            stored = uow.products.add(product)
            uow.commit()
        return stored

    def update_product(self, company_id: int, product_id: int, **changes: object) -> ProductVariant:
        with self._uow() as uow:
            current = uow.products.get(company_id, product_id)
            merged = _merge(current, changes, ("sku", "name", "sales_price", "unit_cost", "category"))
            stored = uow.products.update(replace(new_product(company_id, **merged), id=current.id))
            uow.commit()
        return stored

    def get_product(self, company_id: int, product_id: int) -> ProductVariant:
        with self._uow() as uow:
            return uow.products.get(company_id, product_id)

    def list_products(self, company_id: int, page: PageRequest) -> Page[ProductVariant]:
        with self._uow() as uow:
            uow.companies.get(company_id)
            return uow.products.list(company_id, page)

    def create_tax_rate(self, company_id: int, name: object, percent: object) -> TaxRate:
        rate = new_tax_rate(company_id, name, percent)
        with self._uow() as uow:
            uow.companies.get(company_id)
            stored = uow.tax_rates.add(rate)
            uow.commit()
        return stored

    def update_tax_rate(self, company_id: int, rate_id: int, **changes: object) -> TaxRate:
        with self._uow() as uow:
            current = uow.tax_rates.get(company_id, rate_id)
            merged = _merge(current, changes, ("name", "percent"))
            stored = uow.tax_rates.update(replace(new_tax_rate(company_id, **merged), id=current.id))
            uow.commit()
        return stored

    def get_tax_rate(self, company_id: int, rate_id: int) -> TaxRate:
        with self._uow() as uow:
            return uow.tax_rates.get(company_id, rate_id)

    def list_tax_rates(self, company_id: int, page: PageRequest) -> Page[TaxRate]:
        with self._uow() as uow:
            uow.companies.get(company_id)
            return uow.tax_rates.list(company_id, page)

    # -- sales orders ------------------------------------------------------------------------------
    def create_sales_order(
        self,
        company_id: int,
        number: object,
        customer_id: object,
        rows: Sequence[RowInput],
        billing_address: object = None,
        shipping_address: object = None,
        created_at: object = None,
        delivery_deadline: object = None,
        currency: object = None,
        shipping_fee: object = None,
        shipping_tax_rate_id: object = None,
    ) -> SalesOrder:
        """Validate and store a new SO; addresses and currency default to the customer's. A shipping fee (None:
        none) is charged once, on the SO's first invoice.

        Raises ValidationError (bad fields, unknown customer/product/tax rate) or Conflict (number taken).
        """
        with self._uow() as uow:
            uow.companies.get(company_id)
            customer = _customer_or_none(uow, company_id, customer_id)
            currency = currency if currency is not None else (customer.currency if customer else None)
            order = _validated(
                uow,
                company_id,
                customer_id,
                customer,
                currency,
                rows,
                lambda filled: new_sales_order(
                    company_id,
                    number,
                    customer_id,
                    billing_address if billing_address is not None else _address_of(customer, "billing_address"),
                    shipping_address if shipping_address is not None else _address_of(customer, "shipping_address"),
                    created_at if created_at is not None else self._clock(),
                    delivery_deadline,
                    currency,
                    filled,
                    shipping_fee,
                    shipping_tax_rate_id,
                ),
            )
            _refuse_unknown_shipping_rate(uow, company_id, order)
            _refuse_taken_number(uow, company_id, order.number)
            stored = uow.sales_orders.add(order)
            uow.commit()
        return stored

    def update_sales_order(self, company_id: int, order_id: int, **changes: Any) -> SalesOrder:
        """Change an SO that has not been invoiced or delivered. Raises ValidationError, Conflict, NotFound."""
        with self._uow() as uow:
            uow.invoice_links.lock_order(company_id, order_id)  # no invoice is planned while the SO changes
            current = uow.sales_orders.get(company_id, order_id)
            _refuse_if_locked(uow, company_id, current)
            rows = changes.pop("rows", None)
            merged = _merge(
                current,
                changes,
                (
                    "number",
                    "customer_id",
                    "billing_address",
                    "shipping_address",
                    "created_at",
                    "delivery_deadline",
                    "currency",
                    "shipping_fee",
                    "shipping_tax_rate_id",
                ),
            )
            if "shipping_fee" in changes and changes["shipping_fee"] is None and "shipping_tax_rate_id" not in changes:
                merged["shipping_tax_rate_id"] = None  # the fee taken away takes its tax rate with it
            row_inputs = rows if rows is not None else [_as_input(row) for row in current.rows]
            customer = _customer_or_none(uow, company_id, merged["customer_id"])
            order = _validated(
                uow,
                company_id,
                merged["customer_id"],
                customer,
                merged["currency"],
                row_inputs,
                lambda filled: new_sales_order(company_id, rows=filled, **merged),
            )
            if rows is None:  # unchanged rows keep their ids (deliveries refer to them)
                order = replace(order, rows=current.rows)
            _refuse_unknown_shipping_rate(uow, company_id, order)
            if order.number != current.number:
                _refuse_taken_number(uow, company_id, order.number)
            stored = uow.sales_orders.update(replace(order, id=current.id))
            uow.commit()
        return stored

    def record_delivery(
        self, company_id: int, order_id: int, deliveries: Mapping[int, object], at: datetime | None = None
    ) -> SalesOrder:
        """Add delivered quantities (partial or full), as one new delivery. Raises ValidationError for
        over-delivery or unknown rows."""
        with self._uow() as uow:
            uow.invoice_links.lock_order(company_id, order_id)  # deliveries are numbered one after the other
            current = uow.sales_orders.get(company_id, order_id)
            stored = uow.sales_orders.update(current.record_delivery(deliveries, at or self._clock()))
            uow.commit()
        return stored


def _merge(current: object, changes: Mapping[str, object], names: Sequence[str]) -> dict[str, object]:
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise ValidationError([Problem(name, "This field cannot be changed here.") for name in unknown])
    return {name: changes.get(name, getattr(current, name)) for name in names}


def _customer_or_none(uow: UnitOfWork, company_id: int, customer_id: object) -> Customer | None:
    if isinstance(customer_id, bool) or not isinstance(customer_id, int):
        return None
    try:
        return uow.customers.get(company_id, customer_id)
    except NotFound:
        return None


def _address_of(customer: Customer | None, name: str) -> object:
    return getattr(customer, name) if customer else None


def _fill_rows(uow: UnitOfWork, company_id: int, rows: Sequence[RowInput]) -> list[RowInput]:
    """Rows without a price or cost take the product's sales price and unit cost."""
    filled = []
    for row in rows:
        product = _product_or_none(uow, company_id, row.variant_id)
        if product is not None:
            row = replace(
                row,
                unit_price=product.sales_price if row.unit_price is None else row.unit_price,
                unit_cost=product.unit_cost if row.unit_cost is None else row.unit_cost,
            )
        filled.append(row)
    return filled


def _product_or_none(uow: UnitOfWork, company_id: int, product_id: object) -> ProductVariant | None:
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        return None
    try:
        return uow.products.get(company_id, product_id)
    except NotFound:
        return None


def _validated(
    uow: UnitOfWork,
    company_id: int,
    customer_id: object,
    customer: Customer | None,
    currency: object,
    rows: Sequence[RowInput],
    build: Callable[[Sequence[RowInput]], SalesOrder],
) -> SalesOrder:
    """Build the SO, refusing it with every problem: unknown references first, then the fields' own problems.

    A field's problem that only follows from an unknown reference (no price because the product is unknown,
    no currency because the customer is) is left out: the reference problem already says what to fix.
    """
    if (too_many := too_many_rows(len(rows))) is not None:  # before a single product is looked up
        raise ValidationError.single("rows", too_many)
    references, consequences = _reference_problems(uow, company_id, customer_id, customer, currency, rows)
    try:
        order = build(_fill_rows(uow, company_id, rows))
    except ValidationError as error:
        named = {p.field for p in references} | consequences
        raise ValidationError([*references, *(p for p in error.problems if p.field not in named)]) from None
    if references:
        raise ValidationError(references)
    return order


def _reference_problems(
    uow: UnitOfWork,
    company_id: int,
    customer_id: object,
    customer: Customer | None,
    currency: object,
    rows: Sequence[RowInput],
) -> tuple[list[Problem], set[str]]:
    """Problems with what the SO refers to (customer, products, tax rates must exist in this company), and
    the fields whose own problems would only repeat them."""
    problems: list[Problem] = []
    consequences: set[str] = set()
    if customer is None:
        problems.append(Problem("customer_id", f"There is no customer {customer_id} in this company."))
        if currency is None:
            consequences.add("currency")
    for index, row in enumerate(rows, start=1):
        at = f"rows[{index}]"
        if _product_or_none(uow, company_id, row.variant_id) is None:
            problems.append(Problem(f"{at}.variant_id", f"There is no product {row.variant_id} (row {index})."))
            consequences |= {f"{at}.{name}" for name in ("unit_price", "unit_cost") if getattr(row, name) is None}
        if row.tax_rate_id is not None and not _tax_rate_exists(uow, company_id, row.tax_rate_id):
            problems.append(Problem(f"{at}.tax_rate_id", f"There is no tax rate {row.tax_rate_id} (row {index})."))
    return problems, consequences


def _tax_rate_exists(uow: UnitOfWork, company_id: int, rate_id: object) -> bool:
    if isinstance(rate_id, bool) or not isinstance(rate_id, int):
        return False
    try:
        uow.tax_rates.get(company_id, rate_id)
    except NotFound:
        return False
    return True


def _refuse_unknown_shipping_rate(uow: UnitOfWork, company_id: int, order: SalesOrder) -> None:
    rate = order.shipping_tax_rate_id
    if rate is not None and not _tax_rate_exists(uow, company_id, rate):
        raise ValidationError.single("shipping_tax_rate_id", f"There is no tax rate {rate} in this company.")


def _refuse_taken_number(uow: UnitOfWork, company_id: int, number: str) -> None:
    if uow.sales_orders.get_by_number(company_id, number) is not None:
        raise Conflict("number", f"Sales order number {number} is already used in this company.")


def _refuse_if_locked(uow: UnitOfWork, company_id: int, order: SalesOrder) -> None:
    assert order.id is not None
    for link in uow.invoice_links.of_order(company_id, order.id).live:
        if link.state in (InvoiceState.CREATING, InvoiceState.INVOICED):
            raise Conflict(
                "invoice", f"Sales order {order.number} is '{link.status_text}' and can no longer be changed."
            )
    if any(row.delivered_quantity > 0 for row in order.rows):
        raise Conflict("delivery", f"Sales order {order.number} has deliveries and can no longer be changed.")


def _as_input(row: Any) -> RowInput:
    return RowInput(row.variant_id, row.quantity, row.unit_price, row.tax_rate_id, row.unit_cost, row.description)

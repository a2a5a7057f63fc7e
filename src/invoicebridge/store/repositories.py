"""SQLAlchemy repositories. They satisfy `sync.ports` structurally (store does not import sync).

Every query filters by company_id. Lists use keyset pagination on id, so a page never repeats or skips a row
while others are inserted. A broken unique constraint becomes a domain Conflict. An id no record can have (0,
negative, above the 64-bit range SQLite cannot even compare) is not found without a query.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from invoicebridge.domain import (
    Company,
    Conflict,
    Customer,
    InvoiceState,
    InvoiceStatus,
    NotFound,
    OrderFilter,
    Page,
    PageRequest,
    ProductVariant,
    SalesOrder,
    TaxRate,
)
from invoicebridge.domain.checks import is_id
from invoicebridge.store import mapping
from invoicebridge.store.tables import (
    CompanyRow,
    CustomerRow,
    InvoiceLinkRow,
    ProductRow,
    SalesOrderRow,
    TaxRateRow,
)

T = TypeVar("T")
R = TypeVar("R")


def _page(
    session: Session, query: Select[Any], id_column: Any, page: PageRequest, to_domain: Callable[[Any], T]
) -> Page[T]:
    if page.after is not None:
        query = query.where(id_column > page.after)
    rows = session.scalars(query.order_by(id_column).limit(page.limit + 1)).all()
    items = tuple(to_domain(r) for r in rows[: page.limit])
    next_after = rows[page.limit - 1].id if len(rows) > page.limit else None
    return Page(items, next_after)


def flush_or_conflict(session: Session, conflict: Conflict) -> None:
    """Flush inside a savepoint so a unique-constraint failure leaves the transaction usable."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        if "unique" in str(error.orig).lower() or "duplicate" in str(error.orig).lower():
            raise conflict from None
        raise
    except StaleDataError:  # a versioned row changed under us: another worker got there first
        raise conflict from None


def _scoped(session: Session, model: type[R], company_id: int, object_id: int, kind: str) -> R:
    if not is_id(object_id):
        raise NotFound(kind, object_id)
    row = session.scalars(
        select(model).where(model.company_id == company_id, model.id == object_id)  # type: ignore[attr-defined]
    ).one_or_none()
    if row is None:
        raise NotFound(kind, object_id)
    return row


class SqlCompanies:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, company: Company) -> Company:
        row = CompanyRow(name=company.name, home_currency=company.home_currency, timezone=company.timezone)
        self._s.add(row)
        self._s.flush()
        return mapping.company(row)

    def get(self, company_id: int) -> Company:
        row = self._s.get(CompanyRow, company_id) if is_id(company_id) else None
        if row is None:
            raise NotFound("company", company_id)
        return mapping.company(row)

    def list(self, page: PageRequest, among: Sequence[int] | None = None) -> Page[Company]:
        query = select(CompanyRow) if among is None else select(CompanyRow).where(CompanyRow.id.in_(among))
        return _page(self._s, query, CompanyRow.id, page, mapping.company)


class SqlCustomers:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, customer: Customer) -> Customer:
        row = mapping.fill_customer(CustomerRow(), customer)
        self._s.add(row)
        self._s.flush()
        return mapping.customer(row)

    def get(self, company_id: int, customer_id: int) -> Customer:
        return mapping.customer(_scoped(self._s, CustomerRow, company_id, customer_id, "customer"))

    def update(self, customer: Customer) -> Customer:
        row = _scoped(self._s, CustomerRow, customer.company_id, customer.id or 0, "customer")
        mapping.fill_customer(row, customer)
        self._s.flush()
        return mapping.customer(row)

    def list(self, company_id: int, page: PageRequest) -> Page[Customer]:
        query = select(CustomerRow).where(CustomerRow.company_id == company_id)
        return _page(self._s, query, CustomerRow.id, page, mapping.customer)

    def get_many(self, company_id: int, customer_ids: Sequence[int]) -> tuple[Customer, ...]:
        wanted = [i for i in dict.fromkeys(customer_ids) if is_id(i)]
        found: builtins.list[Customer] = []
        for start in range(0, len(wanted), 500):
            query = select(CustomerRow).where(
                CustomerRow.company_id == company_id, CustomerRow.id.in_(wanted[start : start + 500])
            )
            found.extend(mapping.customer(row) for row in self._s.scalars(query))
        return tuple(found)

    def names(self, company_id: int, customer_ids: Iterable[int]) -> dict[int, str]:
        """Display names of these customers of the company, in one query."""
        wanted = sorted({i for i in customer_ids if is_id(i)})
        query = select(CustomerRow.id, CustomerRow.display_name).where(
            CustomerRow.company_id == company_id, CustomerRow.id.in_(wanted)
        )
        return {customer_id: name for customer_id, name in self._s.execute(query)}

    def find_by_email(self, company_id: int, email: str) -> Customer | None:
        return self._first(CustomerRow.email == email, company_id)

    def find_by_display_name(self, company_id: int, name: str) -> Customer | None:
        return self._first(CustomerRow.display_name == name, company_id)

    def _first(self, condition: Any, company_id: int) -> Customer | None:
        query = select(CustomerRow).where(CustomerRow.company_id == company_id, condition).order_by(CustomerRow.id)
        row = self._s.scalars(query.limit(1)).first()
        return mapping.customer(row) if row else None


class SqlProducts:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, product: ProductVariant) -> ProductVariant:
        row = mapping.fill_product(ProductRow(), product)
        self._s.add(row)
        flush_or_conflict(self._s, _sku_taken(product.sku))
        return mapping.product(row)

    def get(self, company_id: int, product_id: int) -> ProductVariant:
        return mapping.product(_scoped(self._s, ProductRow, company_id, product_id, "product"))

    def get_many(self, company_id: int, product_ids: Sequence[int]) -> list[ProductVariant]:
        wanted = [i for i in dict.fromkeys(product_ids) if is_id(i)]
        found: list[ProductVariant] = []
        for start in range(0, len(wanted), 500):
            query = select(ProductRow).where(
                ProductRow.company_id == company_id, ProductRow.id.in_(wanted[start : start + 500])
            )
            found.extend(mapping.product(row) for row in self._s.scalars(query))
        return found

    def update(self, product: ProductVariant) -> ProductVariant:
        row = _scoped(self._s, ProductRow, product.company_id, product.id or 0, "product")
        mapping.fill_product(row, product)
        flush_or_conflict(self._s, _sku_taken(product.sku))
        return mapping.product(row)

    def list(self, company_id: int, page: PageRequest) -> Page[ProductVariant]:
        query = select(ProductRow).where(ProductRow.company_id == company_id)
        return _page(self._s, query, ProductRow.id, page, mapping.product)

    def get_by_sku(self, company_id: int, sku: str) -> ProductVariant | None:
        query = select(ProductRow).where(ProductRow.company_id == company_id, ProductRow.sku == sku)
        row = self._s.scalars(query).one_or_none()
        return mapping.product(row) if row else None

    def categories(self, company_id: int) -> tuple[str, ...]:
        """The company's product categories, each once, in order."""
        query = select(ProductRow.category).where(ProductRow.company_id == company_id, ProductRow.category.is_not(None))
        return tuple(sorted({c for c in self._s.scalars(query.distinct()) if c is not None}))


def _sku_taken(sku: str) -> Conflict:
    return Conflict("sku", f"SKU {sku} is already used by another product in this company.")


class SqlTaxRates:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, rate: TaxRate) -> TaxRate:
        row = TaxRateRow(company_id=rate.company_id, name=rate.name, percent=rate.percent)
        self._s.add(row)
        self._s.flush()
        return mapping.tax_rate(row)

    def get(self, company_id: int, rate_id: int) -> TaxRate:
        return mapping.tax_rate(_scoped(self._s, TaxRateRow, company_id, rate_id, "tax rate"))

    def update(self, rate: TaxRate) -> TaxRate:
        row = _scoped(self._s, TaxRateRow, rate.company_id, rate.id or 0, "tax rate")
        row.name, row.percent = rate.name, rate.percent
        self._s.flush()
        return mapping.tax_rate(row)

    def list(self, company_id: int, page: PageRequest) -> Page[TaxRate]:
        query = select(TaxRateRow).where(TaxRateRow.company_id == company_id)
        return _page(self._s, query, TaxRateRow.id, page, mapping.tax_rate)

    def find_by_name(self, company_id: int, name: str) -> TaxRate | None:
        query = select(TaxRateRow).where(TaxRateRow.company_id == company_id, TaxRateRow.name == name)
        row = self._s.scalars(query.order_by(TaxRateRow.id).limit(1)).first()
        return mapping.tax_rate(row) if row else None


class SqlSalesOrders:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, order: SalesOrder) -> SalesOrder:
        row = mapping.fill_sales_order(SalesOrderRow(), order)
        self._s.add(row)
        flush_or_conflict(self._s, _number_taken(order.number))
        return mapping.sales_order(row)

    def get(self, company_id: int, order_id: int) -> SalesOrder:
        return mapping.sales_order(_scoped(self._s, SalesOrderRow, company_id, order_id, "sales order"))

    def get_many(self, company_id: int, order_ids: Sequence[int]) -> list[SalesOrder]:
        """These SOs of the company, in the order asked (others' and unknown ids left out), in one query."""
        wanted = [i for i in order_ids if is_id(i)]
        query = select(SalesOrderRow).where(SalesOrderRow.company_id == company_id, SalesOrderRow.id.in_(wanted))
        found = {row.id: mapping.sales_order(row) for row in self._s.scalars(query)}
        return [found[i] for i in dict.fromkeys(wanted) if i in found]

    def get_by_number(self, company_id: int, number: str) -> SalesOrder | None:
        query = select(SalesOrderRow).where(SalesOrderRow.company_id == company_id, SalesOrderRow.number == number)
        row = self._s.scalars(query).one_or_none()
        return mapping.sales_order(row) if row else None

    def update(self, order: SalesOrder) -> SalesOrder:
        row = _scoped(self._s, SalesOrderRow, order.company_id, order.id or 0, "sales order")
        mapping.fill_sales_order(row, order)
        flush_or_conflict(self._s, _number_taken(order.number))
        return mapping.sales_order(row)

    def list(self, company_id: int, filters: OrderFilter, page: PageRequest) -> Page[SalesOrder]:
        query = select(SalesOrderRow).where(SalesOrderRow.company_id == company_id)
        for condition in _order_conditions(filters):
            query = query.where(condition)
        if filters.invoice_state is not None:
            query = with_invoice_state(query, company_id, filters.invoice_state)
        if filters.invoice_status is not None:
            query = with_invoice_status(query, filters.invoice_status)
        return _page(self._s, query, SalesOrderRow.id, page, mapping.sales_order)


def _number_taken(number: str) -> Conflict:
    return Conflict("number", f"Sales order number {number} is already used in this company.")


def _order_conditions(filters: OrderFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.delivery_status is not None:
        conditions.append(SalesOrderRow.delivery_status == filters.delivery_status.value)
    if filters.customer_id is not None:
        conditions.append(SalesOrderRow.customer_id == filters.customer_id)
    if filters.payment_status is not None:  # stored with the invoices' balances (store/payment_repositories.py)
        conditions.append(SalesOrderRow.payment_status == filters.payment_status.value)
    if filters.created_from is not None:
        conditions.append(SalesOrderRow.created_at >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(SalesOrderRow.created_at < filters.created_to)
    if filters.search and filters.search.strip():
        term = filters.search.strip().lower()
        named = exists().where(
            CustomerRow.id == SalesOrderRow.customer_id,
            func.lower(CustomerRow.display_name).contains(term, autoescape=True),
        )
        conditions.append(or_(func.lower(SalesOrderRow.number).contains(term, autoescape=True), named))
    return conditions


def with_invoice_state(query: Select[Any], company_id: int, state: InvoiceState) -> Select[Any]:
    """SOs with an invoice in `state`; for `not_invoiced`, SOs without any live (not deleted or voided) invoice."""
    unwanted = state is InvoiceState.NOT_INVOICED
    gone = (InvoiceState.DELETED.value, InvoiceState.VOIDED.value)
    found = exists().where(
        and_(
            InvoiceLinkRow.company_id == company_id,
            InvoiceLinkRow.sales_order_id == SalesOrderRow.id,
            InvoiceLinkRow.state.notin_(gone) if unwanted else InvoiceLinkRow.state == state.value,
        )
    )
    return query.where(~found if unwanted else found)


def with_invoice_status(query: Select[Any], status: InvoiceStatus) -> Select[Any]:
    return query.where(SalesOrderRow.invoice_status == status.value)

"""In-memory implementations of the storage ports, for fast tests of the use cases.

They pass the same repository contract tests as the SQL store (tests/contract/store), so a test that passes on
the fake means the same thing on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any, TypeVar

from invoicebridge.domain import (
    Company,
    Conflict,
    Customer,
    InvoiceLink,
    InvoiceState,
    NotFound,
    OrderFilter,
    Page,
    PageRequest,
    ProductVariant,
    SalesOrder,
    TaxRate,
    new_link,
)

T = TypeVar("T")


class Tables:
    """The committed state shared by every unit of work of one fake database."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[int, Any]] = {
            name: {} for name in ("companies", "customers", "products", "tax_rates", "orders", "links")
        }
        self.next_id = 1
        self.row_ids = 1_000_000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


def _page(items: list[Any], page: PageRequest) -> Page[Any]:
    items = sorted((i for i in items if page.after is None or i.id > page.after), key=lambda i: i.id)
    chosen = items[: page.limit]
    return Page(tuple(chosen), chosen[-1].id if len(items) > page.limit else None)


class _Scoped:
    table = ""
    kind = ""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _all(self, company_id: int) -> list[Any]:
        return [r for r in self._t.rows[self.table].values() if r.company_id == company_id]

    def _get(self, company_id: int, object_id: int) -> Any:
        row = self._t.rows[self.table].get(object_id)
        if row is None or row.company_id != company_id:
            raise NotFound(self.kind, object_id)
        return row

    def _store(self, obj: T) -> T:
        stored = replace(obj, id=getattr(obj, "id", None) or self._t.new_id())  # type: ignore[type-var]
        self._t.rows[self.table][stored.id] = stored
        return stored

    def get(self, company_id: int, object_id: int) -> Any:
        return self._get(company_id, object_id)

    def list(self, company_id: int, page: PageRequest) -> Page[Any]:
        return _page(self._all(company_id), page)


class FakeCompanies:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, company: Company) -> Company:
        stored = replace(company, id=self._t.new_id())
        self._t.rows["companies"][stored.id] = stored
        return stored

    def get(self, company_id: int) -> Company:
        if company_id not in self._t.rows["companies"]:
            raise NotFound("company", company_id)
        return self._t.rows["companies"][company_id]  # type: ignore[no-any-return]

    def list(self, page: PageRequest) -> Page[Company]:
        return _page(list(self._t.rows["companies"].values()), page)


class FakeCustomers(_Scoped):
    table, kind = "customers", "customer"

    def add(self, customer: Customer) -> Customer:
        return self._store(customer)

    def update(self, customer: Customer) -> Customer:
        self._get(customer.company_id, customer.id or 0)
        return self._store(customer)

    def find_by_email(self, company_id: int, email: str) -> Customer | None:
        return next((c for c in sorted(self._all(company_id), key=lambda c: c.id) if c.email == email), None)

    def find_by_display_name(self, company_id: int, name: str) -> Customer | None:
        return next((c for c in sorted(self._all(company_id), key=lambda c: c.id) if c.display_name == name), None)


class FakeProducts(_Scoped):
    table, kind = "products", "product"

    def add(self, product: ProductVariant) -> ProductVariant:
        self._refuse_taken(product)
        return self._store(product)

    def update(self, product: ProductVariant) -> ProductVariant:
        self._get(product.company_id, product.id or 0)
        self._refuse_taken(product)
        return self._store(product)

    def get_by_sku(self, company_id: int, sku: str) -> ProductVariant | None:
        return next((p for p in self._all(company_id) if p.sku == sku), None)

    def _refuse_taken(self, product: ProductVariant) -> None:
        other = self.get_by_sku(product.company_id, product.sku)
        if other is not None and other.id != product.id:
            raise Conflict("sku", f"SKU {product.sku} is already used by another product in this company.")


class FakeTaxRates(_Scoped):
    table, kind = "tax_rates", "tax rate"

    def add(self, rate: TaxRate) -> TaxRate:
        return self._store(rate)

    def update(self, rate: TaxRate) -> TaxRate:
        self._get(rate.company_id, rate.id or 0)
        return self._store(rate)

    def find_by_name(self, company_id: int, name: str) -> TaxRate | None:
        return next((r for r in sorted(self._all(company_id), key=lambda r: r.id) if r.name == name), None)


class FakeSalesOrders(_Scoped):
    table, kind = "orders", "sales order"

    def add(self, order: SalesOrder) -> SalesOrder:
        self._refuse_taken(order)
        return self._store(self._number_rows(order))

    def update(self, order: SalesOrder) -> SalesOrder:
        self._get(order.company_id, order.id or 0)
        self._refuse_taken(order)
        return self._store(self._number_rows(order))

    def get_by_number(self, company_id: int, number: str) -> SalesOrder | None:
        return next((o for o in self._all(company_id) if o.number == number), None)

    def list(self, company_id: int, filters: OrderFilter, page: PageRequest) -> Page[SalesOrder]:  # type: ignore[override]
        links = self._t.rows["links"]
        return _page([o for o in self._all(company_id) if _matches(o, filters, links)], page)

    def _number_rows(self, order: SalesOrder) -> SalesOrder:
        rows = []
        for row in order.rows:
            if row.id is None:
                self._t.row_ids += 1
                row = replace(row, id=self._t.row_ids)
            rows.append(row)
        return replace(order, rows=tuple(rows))

    def _refuse_taken(self, order: SalesOrder) -> None:
        other = self.get_by_number(order.company_id, order.number)
        if other is not None and other.id != order.id:
            raise Conflict("number", f"Sales order number {order.number} is already used in this company.")


def _matches(order: SalesOrder, f: OrderFilter, links: dict[int, Any]) -> bool:
    link = links.get(order.id or 0)
    state = link[1].state if link else InvoiceState.NOT_INVOICED
    return (
        (f.invoice_state is None or state == f.invoice_state)
        and (f.delivery_status is None or order.delivery_status == f.delivery_status)
        and (f.customer_id is None or order.customer_id == f.customer_id)
        and (f.created_from is None or order.created_at >= f.created_from)
        and (f.created_to is None or order.created_at < f.created_to)
    )


class FakeInvoiceLinks:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def get(self, company_id: int, sales_order_id: int) -> InvoiceLink:
        stored = self._t.rows["links"].get(sales_order_id)
        return stored[1] if stored and stored[0] == company_id else new_link(sales_order_id)

    def get_many(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, InvoiceLink]:
        return {so_id: self.get(company_id, so_id) for so_id in sales_order_ids}

    def save(self, company_id: int, link: InvoiceLink) -> InvoiceLink:
        order = self._t.rows["orders"].get(link.sales_order_id)
        if order is None or order.company_id != company_id:
            raise NotFound("sales order", link.sales_order_id)
        self._t.rows["links"][link.sales_order_id] = (company_id, link)
        return link


class InMemoryUnitOfWork:
    """A unit of work over a copy of the committed tables; commit() publishes the copy."""

    def __init__(self, database: Tables) -> None:
        self._database = database

    def __enter__(self) -> InMemoryUnitOfWork:
        self._begin()
        return self

    def _begin(self) -> None:
        self._work = copy.deepcopy(self._database)
        self.companies = FakeCompanies(self._work)
        self.customers = FakeCustomers(self._work)
        self.products = FakeProducts(self._work)
        self.tax_rates = FakeTaxRates(self._work)
        self.sales_orders = FakeSalesOrders(self._work)
        self.invoice_links = FakeInvoiceLinks(self._work)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._work = copy.deepcopy(self._database)

    def commit(self) -> None:
        self._database.__dict__.update(copy.deepcopy(self._work).__dict__)

    def rollback(self) -> None:
        self._begin()


def in_memory_uow_factory() -> Callable[[], InMemoryUnitOfWork]:
    """A factory of units of work sharing one fresh in-memory database."""
    database = Tables()
    return lambda: InMemoryUnitOfWork(database)

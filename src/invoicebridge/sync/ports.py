"""What the use cases need from storage, in domain types. `store` implements these structurally.

Every method is scoped by company: a repository never returns another company's records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol

from invoicebridge.domain import (
    Company,
    Customer,
    InvoiceLink,
    OrderFilter,
    Page,
    PageRequest,
    ProductVariant,
    SalesOrder,
    TaxRate,
)

__all__ = [
    "CompanyRepository",
    "CustomerRepository",
    "InvoiceLinkRepository",
    "OrderFilter",
    "Page",
    "PageRequest",
    "ProductRepository",
    "SalesOrderRepository",
    "TaxRateRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


class CompanyRepository(Protocol):
    def add(self, company: Company) -> Company: ...
    def get(self, company_id: int) -> Company:
        """Raises NotFound."""
        ...

    def list(self, page: PageRequest) -> Page[Company]: ...


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> Customer: ...
    def get(self, company_id: int, customer_id: int) -> Customer:
        """Raises NotFound."""
        ...

    def update(self, customer: Customer) -> Customer: ...
    def list(self, company_id: int, page: PageRequest) -> Page[Customer]: ...
    def find_by_email(self, company_id: int, email: str) -> Customer | None: ...
    def find_by_display_name(self, company_id: int, name: str) -> Customer | None: ...


class ProductRepository(Protocol):
    def add(self, product: ProductVariant) -> ProductVariant:
        """Raises Conflict when the SKU is taken in this company."""
        ...

    def get(self, company_id: int, product_id: int) -> ProductVariant: ...
    def update(self, product: ProductVariant) -> ProductVariant: ...
    def list(self, company_id: int, page: PageRequest) -> Page[ProductVariant]: ...
    def get_by_sku(self, company_id: int, sku: str) -> ProductVariant | None: ...


class TaxRateRepository(Protocol):
    def add(self, rate: TaxRate) -> TaxRate: ...
    def get(self, company_id: int, rate_id: int) -> TaxRate: ...
    def update(self, rate: TaxRate) -> TaxRate: ...
    def list(self, company_id: int, page: PageRequest) -> Page[TaxRate]: ...
    def find_by_name(self, company_id: int, name: str) -> TaxRate | None: ...


class SalesOrderRepository(Protocol):
    def add(self, order: SalesOrder) -> SalesOrder:
        """Raises Conflict when the number is taken in this company."""
        ...

    def get(self, company_id: int, order_id: int) -> SalesOrder: ...
    def get_by_number(self, company_id: int, number: str) -> SalesOrder | None: ...
    def update(self, order: SalesOrder) -> SalesOrder: ...
    def list(self, company_id: int, filters: OrderFilter, page: PageRequest) -> Page[SalesOrder]: ...


class InvoiceLinkRepository(Protocol):
    def get(self, company_id: int, sales_order_id: int) -> InvoiceLink:
        """The stored link, or a Not invoiced one when none is stored."""
        ...

    def get_many(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, InvoiceLink]:
        """The links of these SOs (Not invoiced ones for SOs without a stored link)."""
        ...

    def save(self, company_id: int, link: InvoiceLink) -> InvoiceLink: ...


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving the block without commit() rolls back."""

    @property
    def companies(self) -> CompanyRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def products(self) -> ProductRepository: ...
    @property
    def tax_rates(self) -> TaxRateRepository: ...
    @property
    def sales_orders(self) -> SalesOrderRepository: ...
    @property
    def invoice_links(self) -> InvoiceLinkRepository: ...

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]

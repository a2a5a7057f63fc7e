"""What the use cases need from storage, in domain types. `store` implements these structurally.

Every method is scoped by company: a repository never returns another company's records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from invoicebridge.domain import (
    Company,
    Customer,
    InvoiceLink,
    OrderFilter,
    OrderInvoices,
    Page,
    PageRequest,
    ProductVariant,
    SalesOrder,
    TaxRate,
)
from invoicebridge.domain.bulk import BulkRun
from invoicebridge.domain.payments import InvoiceBalance
from invoicebridge.domain.records import AuditEntry, CogsEntry
from invoicebridge.domain.returns import Return
from invoicebridge.sync.access_ports import (
    ApiTokenRepository,
    LoginLinkRepository,
    LoginThrottleRepository,
    MembershipRepository,
    OAuthStateRepository,
    UserRepository,
    WebSessionRepository,
)
from invoicebridge.sync.qbo_ports import (
    ConnectionRepository,
    ProcessedEventRepository,
    QboMirrorRepository,
    QboRefRepository,
    QboUsageRepository,
    TokenVault,
)

if TYPE_CHECKING:
    from invoicebridge.sync.customer_import import CustomerImportRepository
    from invoicebridge.sync.failed_invoices import FailedInvoiceQueries
    from invoicebridge.sync.overview import OverviewRepository

__all__ = [
    "ApiTokenRepository",
    "AuditRepository",
    "BulkRunRepository",
    "CogsRepository",
    "CompanyRepository",
    "ConnectionRepository",
    "CustomerRepository",
    "InvoiceLinkRepository",
    "LoginLinkRepository",
    "LoginThrottleRepository",
    "MembershipRepository",
    "OAuthStateRepository",
    "OrderFilter",
    "Page",
    "PageRequest",
    "PaymentRepository",
    "ProcessedEventRepository",
    "ProductRepository",
    "QboRefRepository",
    "QboUsageRepository",
    "ReturnRepository",
    "SalesOrderRepository",
    "TaxRateRepository",
    "TokenVault",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UnsettledLinkRepository",
    "UserRepository",
    "WebSessionRepository",
]


class CompanyRepository(Protocol):
    def add(self, company: Company) -> Company: ...
    def get(self, company_id: int) -> Company:
        """Raises NotFound."""
        ...

    def list(self, page: PageRequest, among: Sequence[int] | None = None) -> Page[Company]:
        """Every company, or only those whose ids are `among`."""
        ...


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> Customer: ...
    def get(self, company_id: int, customer_id: int) -> Customer:
        """Raises NotFound."""
        ...

    def update(self, customer: Customer) -> Customer: ...
    def list(self, company_id: int, page: PageRequest) -> Page[Customer]: ...
    def names(self, company_id: int, customer_ids: Iterable[int]) -> dict[int, str]:
        """Display names of these customers of the company (ids of others left out)."""
        ...

    def get_many(self, company_id: int, customer_ids: Sequence[int]) -> tuple[Customer, ...]:
        """These customers of the company in one query (others' and unknown ids left out)."""
        ...

    def find_by_email(self, company_id: int, email: str) -> Customer | None: ...
    def find_by_display_name(self, company_id: int, name: str) -> Customer | None: ...


class ProductRepository(Protocol):
    def add(self, product: ProductVariant) -> ProductVariant:
        """Raises Conflict when the SKU is taken in this company."""
        ...

    def get(self, company_id: int, product_id: int) -> ProductVariant: ...
    def get_many(self, company_id: int, product_ids: Sequence[int]) -> list[ProductVariant]:
        """These products of the company in one query (others' and unknown ids left out)."""
        ...

    def update(self, product: ProductVariant) -> ProductVariant: ...
    def list(self, company_id: int, page: PageRequest) -> Page[ProductVariant]: ...
    def get_by_sku(self, company_id: int, sku: str) -> ProductVariant | None: ...
    def categories(self, company_id: int) -> tuple[str, ...]:
        """The distinct categories of the company's products, sorted."""
        ...


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
    def get_many(self, company_id: int, order_ids: Sequence[int]) -> list[SalesOrder]:
        """These SOs of the company, in the order asked; others' and unknown ids are left out."""
        ...

    def get_by_number(self, company_id: int, number: str) -> SalesOrder | None: ...
    def update(self, order: SalesOrder) -> SalesOrder: ...
    def list(self, company_id: int, filters: OrderFilter, page: PageRequest) -> Page[SalesOrder]: ...


class InvoiceLinkRepository(Protocol):
    """An SO's invoices. Adding one, and recording that one was invoiced or deleted, happen under the SO's
    invoicing lock; the store's constraints keep a delivery (and a DocNumber slot) on one live invoice."""

    def lock_order(self, company_id: int, sales_order_id: int) -> None:
        """Take the SO's invoicing lock for the rest of the transaction: the first write of a transaction that
        decides what to invoice. NotFound for another company's SO."""
        ...

    def of_order(self, company_id: int, sales_order_id: int) -> OrderInvoices:
        """The SO with every invoice it has had, read fresh. NotFound for another company's SO."""
        ...

    def of_orders(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, tuple[InvoiceLink, ...]]:
        """Every invoice of each of these SOs, oldest first."""
        ...

    def get(self, company_id: int, sales_order_id: int, number: int) -> InvoiceLink:
        """The SO's invoice `number`. Raises NotFound."""
        ...

    def mark_sending(
        self, company_id: int, claims: Sequence[tuple[int, int, str]], at: datetime, note: str
    ) -> set[tuple[int, int]]:
        """Note that these claims' creates go out now (a sweeper then leaves them be); (SO id, number) of those
        still claimed with their request id — the others were taken over and must not be sent."""
        ...

    def still_queued(self, company_id: int, keys: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Those of these (SO id, invoice number) whose invoice is `queued` now, in the order given; loads
        nothing."""
        ...

    def lock_orders(self, company_id: int, sales_order_ids: Sequence[int]) -> None:
        """lock_order for many SOs at once (in id order). NotFound when one is not an SO of this company."""
        ...

    def of_orders_whole(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, OrderInvoices]:
        """of_order for many SOs at once (SOs of other companies left out)."""
        ...

    def save_many(self, company_id: int, links: Sequence[InvoiceLink]) -> list[InvoiceLink]:
        """save for many invoices at once; Conflict, nothing saved, when one changed since it was read."""
        ...

    def add_many(self, company_id: int, links: Sequence[InvoiceLink]) -> list[InvoiceLink]:
        """add for many new invoices at once (take their SOs' locks first)."""
        ...

    def queued(self, company_id: int, limit: int) -> list[tuple[int, int]]:
        """(SO id, invoice number) of up to `limit` of the company's `queued` invoices, longest queued first;
        loads nothing (lock the SOs, then `get` each)."""
        ...

    def find_by_qbo_invoice(self, company_id: int, qbo_invoice_id: str) -> InvoiceLink | None:
        """The invoice pointing at this QBO invoice (the live one first), if any."""
        ...

    def add(self, company_id: int, link: InvoiceLink) -> InvoiceLink:
        """A new invoice of an SO. Raises Conflict when a concurrent request took its number, slot or a delivery."""
        ...

    def save(self, company_id: int, link: InvoiceLink) -> InvoiceLink:
        """A transition of a stored invoice. Raises Conflict when it changed since it was read."""
        ...


class AuditRepository(Protocol):
    def add(self, company_id: int, entries: Sequence[AuditEntry]) -> None: ...
    def for_order(self, company_id: int, sales_order_id: int) -> list[AuditEntry]: ...


class BulkRunRepository(Protocol):
    def add(self, run: BulkRun) -> BulkRun: ...
    def get(self, company_id: int, run_id: int) -> BulkRun:
        """Raises NotFound, also for another company's run."""
        ...


class CogsRepository(Protocol):
    def get(self, company_id: int, sales_order_id: int, delivery_number: int = 0) -> CogsEntry: ...
    def of_order(self, company_id: int, sales_order_id: int) -> list[CogsEntry]: ...
    def save(self, company_id: int, entry: CogsEntry) -> CogsEntry:
        """Raises Conflict when another worker changed it meanwhile."""
        ...


class ReturnRepository(Protocol):
    """An SO's returns and their credit memos (domain/returns.py)."""

    def of_order(self, company_id: int, sales_order_id: int) -> list[Return]: ...
    def get(self, company_id: int, sales_order_id: int, number: int) -> Return:
        """Raises NotFound, also for another company's."""
        ...

    def add(self, company_id: int, order: SalesOrder, ret: Return) -> Return:
        """Raises Conflict when a concurrent return of the SO took its number."""
        ...

    def save(self, company_id: int, ret: Return) -> Return:
        """Raises Conflict when it changed since it was read."""
        ...

    def unsettled(
        self, claimed_before: datetime, pending_before: datetime, failed_before: datetime,
        uncertain_codes: Iterable[str], limit: int,
    ) -> list[tuple[int, int, int]]:  # fmt: skip
        """(company id, SO id, number) of stale claims, lost pending jobs and uncertain failures."""
        ...


class PaymentRepository(Protocol):
    """Invoice balances and the SOs' payment status (domain/payments.py; store/payment_repositories.py)."""

    def tracked(self, company_id: int) -> bool: ...
    def ours(self, company_id: int, qbo_invoice_ids: Sequence[str]) -> set[str]:
        """Which of these QBO invoices are the company's invoices that exist in QBO."""
        ...

    def unread(self, company_id: int, limit: int) -> list[str]:
        """QBO ids of the company's invoices whose balance was never read, oldest first."""
        ...

    def record(self, company_id: int, balances: Mapping[str, InvoiceBalance]) -> list[int]:
        """Store the balances (others' invoices and older SyncTokens ignored); the SOs whose status changed."""
        ...

    def track(self, company_id: int, on: bool) -> None:
        """Opt-in turned on (statuses from the balances known) or off (statuses and balances forgotten)."""
        ...


class UnsettledLinkRepository(Protocol):
    def find(
        self, claimed_before: datetime, queued_before: datetime, failed_before: datetime,
        uncertain_codes: Iterable[str], limit: int,
    ) -> list[tuple[int, int, int]]:  # fmt: skip
        """(company id, SO id, invoice number) of stale `creating` claims, lost `queued` jobs and uncertain
        failures."""
        ...

    def queued_companies(self) -> list[int]:
        """Companies with an invoice `queued`."""
        ...

    def cogs_due(self, per_order: Iterable[int], per_delivery: Iterable[int], limit: int) -> list[tuple[int, int]]:
        """(company id, SO id) whose COGS is due and not posted: SOs delivered and invoiced, among the companies
        `per_order`; SOs with a delivery on an invoice in QBO and no posted entry for it, among `per_delivery`."""
        ...


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
    @property
    def connections(self) -> ConnectionRepository: ...
    @property
    def qbo_refs(self) -> QboRefRepository: ...
    @property
    def qbo_mirror(self) -> QboMirrorRepository: ...
    @property
    def qbo_usage(self) -> QboUsageRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def cogs(self) -> CogsRepository: ...
    @property
    def returns(self) -> ReturnRepository: ...
    @property
    def overview(self) -> OverviewRepository: ...
    @property
    def bulk_runs(self) -> BulkRunRepository: ...
    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def processed_events(self) -> ProcessedEventRepository: ...
    @property
    def unsettled(self) -> UnsettledLinkRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def memberships(self) -> MembershipRepository: ...
    @property
    def web_sessions(self) -> WebSessionRepository: ...
    @property
    def api_tokens(self) -> ApiTokenRepository: ...
    @property
    def oauth_states(self) -> OAuthStateRepository: ...
    @property
    def login_links(self) -> LoginLinkRepository: ...
    @property
    def login_throttle(self) -> LoginThrottleRepository: ...
    @property
    def customer_imports(self) -> CustomerImportRepository: ...
    @property
    def failed_invoices(self) -> FailedInvoiceQueries: ...

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]

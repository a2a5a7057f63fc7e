"""One transaction over every repository (one SQLAlchemy session)."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from invoicebridge.store.access_repositories import (
    SqlApiTokens,
    SqlLoginLinks,
    SqlLoginThrottle,
    SqlMemberships,
    SqlOAuthStates,
    SqlUsers,
    SqlWebSessions,
)
from invoicebridge.store.customer_import_repositories import SqlCustomerImports
from invoicebridge.store.failed_queries import SqlFailedInvoices
from invoicebridge.store.invoice_repositories import SqlInvoiceLinks
from invoicebridge.store.mirror_repositories import SqlQboMirror
from invoicebridge.store.overview_queries import SqlOverview
from invoicebridge.store.payment_repositories import SqlPayments
from invoicebridge.store.qbo_repositories import (
    SqlAudit,
    SqlBulkRuns,
    SqlCogs,
    SqlConnections,
    SqlProcessedEvents,
    SqlQboRefs,
)
from invoicebridge.store.repositories import (
    SqlCompanies,
    SqlCustomers,
    SqlProducts,
    SqlSalesOrders,
    SqlTaxRates,
)
from invoicebridge.store.return_repositories import SqlReturns
from invoicebridge.store.unsettled import SqlUnsettledLinks
from invoicebridge.store.usage_repositories import SqlQboUsage


class SqlUnitOfWork:
    """Use as `with uow: ...; uow.commit()`. Leaving without commit rolls back; the session always closes."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        self.companies = SqlCompanies(self.session)
        self.customers = SqlCustomers(self.session)
        self.products = SqlProducts(self.session)
        self.tax_rates = SqlTaxRates(self.session)
        self.sales_orders = SqlSalesOrders(self.session)
        self.invoice_links = SqlInvoiceLinks(self.session)
        self.payments = SqlPayments(self.session)
        self.connections = SqlConnections(self.session)
        self.qbo_refs = SqlQboRefs(self.session)
        self.qbo_mirror = SqlQboMirror(self.session)
        self.qbo_usage = SqlQboUsage(self.session)
        self.audit = SqlAudit(self.session)
        self.overview = SqlOverview(self.session)
        self.bulk_runs = SqlBulkRuns(self.session)
        self.cogs = SqlCogs(self.session)
        self.returns = SqlReturns(self.session)
        self.processed_events = SqlProcessedEvents(self.session)
        self.unsettled = SqlUnsettledLinks(self.session)
        self.users = SqlUsers(self.session)
        self.memberships = SqlMemberships(self.session)
        self.web_sessions = SqlWebSessions(self.session)
        self.api_tokens = SqlApiTokens(self.session)
        self.oauth_states = SqlOAuthStates(self.session)
        self.login_links = SqlLoginLinks(self.session)
        self.login_throttle = SqlLoginThrottle(self.session)
        self.customer_imports = SqlCustomerImports(self.session)
        self.failed_invoices = SqlFailedInvoices(self.session)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

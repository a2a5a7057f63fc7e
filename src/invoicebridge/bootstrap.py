"""Composition root: settings → engine → unit of work → QBO plumbing → use cases. Nothing here runs at import
time, and nothing is fetched from the network while building (discovery is read on first use)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from invoicebridge.domain.connection import Connection
from invoicebridge.jobs.queue import make_huey
from invoicebridge.jobs.tasks import Jobs, Services
from invoicebridge.qbo.auth import OAuthApp
from invoicebridge.qbo.client import QboClient, QboConfig
from invoicebridge.qbo.limits import Limiter, LimitRules, MemoryLedger, SharedLimiter
from invoicebridge.qbo.links import credit_memo_url, invoice_url
from invoicebridge.settings import Settings
from invoicebridge.store.db import make_engine, make_session_factory
from invoicebridge.store.limiter_redis import RedisLedger
from invoicebridge.store.limiter_sqlite import SqliteLedger
from invoicebridge.store.migrate import upgrade
from invoicebridge.store.tokens import SqlTokenVault
from invoicebridge.store.unit_of_work import SqlUnitOfWork
from invoicebridge.sync.api_tokens import ApiTokens
from invoicebridge.sync.batch_invoicing import BatchInvoicing
from invoicebridge.sync.bulk_runs import BulkRuns
from invoicebridge.sync.cogs import Cogs
from invoicebridge.sync.connecting import Connecting
from invoicebridge.sync.customer_import import CustomerImport
from invoicebridge.sync.failed_invoices import FailedInvoices
from invoicebridge.sync.gateway import ClientFactory, Recorder
from invoicebridge.sync.invoicing import Invoicing
from invoicebridge.sync.meter import Budget, Meter
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.sync.pacing import EchoWatch, Pacing
from invoicebridge.sync.people import People
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory
from invoicebridge.sync.reconcile import Reconcile
from invoicebridge.sync.returns import Returns
from invoicebridge.sync.sessions import SessionPolicy, Sessions
from invoicebridge.sync.tokens import OAuthSetup, VaultTokenSource


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    """Everything an entry point needs, built once from the settings."""

    settings: Settings
    engine: Engine
    uow: UnitOfWorkFactory
    orderbook: OrderBook
    http: httpx.Client
    vault: SqlTokenVault
    oauth: OAuthSetup
    clients: ClientFactory
    connecting: Connecting
    invoicing: Invoicing
    cogs: Cogs
    reconcile: Reconcile
    jobs: Jobs
    people: People
    sessions: Sessions
    api_tokens: ApiTokens
    bulk_runs: BulkRuns
    meter: Meter

    def invoice_url(self, company_id: int, qbo_invoice_id: str | None) -> str | None:
        """The link that opens the invoice in QBO (or in qbo_sandbox's own UI for the local environment)."""
        return self.invoice_urls(company_id)(qbo_invoice_id)

    def invoice_urls(self, company_id: int) -> Callable[[str | None], str | None]:
        """invoice_url for many invoices of one company, reading its connection once (a list page's rows)."""
        connection = self.connecting.connection(company_id)
        local = self.settings.qbo_environment == "local"
        base = self.settings.qbo_sandbox_url.rstrip("/") if local else None

        def url(qbo_invoice_id: str | None) -> str | None:
            if connection is None or qbo_invoice_id is None:
                return None
            return invoice_url(self.settings.qbo_environment, connection.realm_id, qbo_invoice_id, sandbox_base=base)

        return url

    @property
    def customer_import(self) -> CustomerImport:
        """Importing QBO customers into the order book (sync/customer_import.py)."""
        return CustomerImport(self.uow, self.clients, self.invoicing.mirror)

    @property
    def failed_invoices(self) -> FailedInvoices:
        """A company's failed invoices by reason, and *Retry all failed* (sync/failed_invoices.py)."""
        return FailedInvoices(self.uow, self.bulk_runs, utc_now)

    @property
    def returns(self) -> Returns:
        """Returns of delivered quantities and their credit memos (sync/returns.py); jobs.credit_memo sends them."""
        return make_returns(self.settings, self.uow, self.clients, self.invoicing)

    def credit_memo_urls(self, company_id: int) -> Callable[[str | None], str | None]:
        """The link that opens a credit memo in QBO (or in qbo_sandbox's UI), for many of one company's."""
        connection = self.connecting.connection(company_id)
        local = self.settings.qbo_environment == "local"
        base = self.settings.qbo_sandbox_url.rstrip("/") if local else None

        def url(qbo_id: str | None) -> str | None:
            if connection is None or qbo_id is None:
                return None
            return credit_memo_url(self.settings.qbo_environment, connection.realm_id, qbo_id, sandbox_base=base)

        return url

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()


def make_returns(settings: Settings, uow: UnitOfWorkFactory, clients: ClientFactory, invoicing: Invoicing) -> Returns:
    """The returns use case, sharing invoicing's mirror of QBO customers and items."""
    stale = timedelta(seconds=settings.claim_stale_seconds)
    return Returns(uow, clients, utc_now, invoicing.mirror, stale_after=stale)


def make_limiter(settings: Settings) -> Limiter:
    """The one QBO limiter of this deployment: Redis across machines, else a SQLite file beside the job queue's
    (every process on the machine), else — immediate mode, one process — in memory."""
    rules = LimitRules(
        settings.qbo_requests_per_minute, settings.qbo_concurrent_requests, settings.qbo_batch_requests_per_minute,
        margin_seconds=settings.qbo_limit_margin_seconds, lease_seconds=settings.qbo_limit_lease_seconds,
    )  # fmt: skip
    if settings.redis_url:
        return SharedLimiter(RedisLedger(settings.redis_url, rules))
    if settings.jobs_immediate:
        return SharedLimiter(MemoryLedger(rules))
    return SharedLimiter(SqliteLedger(settings.data_dir / "limits.db", rules))


def build(settings: Settings, *, migrate: bool = False, http: httpx.Client | None = None) -> Container:
    """Wire the application for `settings`; with `migrate`, bring the schema up to date first. `http` is the
    transport seam for QBO calls (a default client with timeouts otherwise)."""
    url = settings.resolved_database_url()
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def unit_of_work() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    client = http or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
    vault = SqlTokenVault(sessions, settings.fernet_keys())
    app = OAuthApp(settings.qbo_client_id, settings.qbo_client_secret.get_secret_value(), settings.qbo_redirect_uri)
    oauth = OAuthSetup(app, settings.qbo_discovery_url(), client)
    config = QboConfig(
        settings.qbo_api_base(), minor_version=settings.qbo_minor_version, max_attempts=settings.qbo_max_attempts,
        backoff=settings.qbo_backoff_seconds,
    )  # fmt: skip

    budget = Budget(settings.qbo_coreplus_monthly_budget, settings.qbo_coreplus_warn_percent)
    meter = Meter(unit_of_work, budget, utc_now)
    limiter = make_limiter(settings)  # one per process, every company's clients share it (and the file or Redis)
    echoes = EchoWatch(unit_of_work)  # our writes, noted for webhook health (sync/pacing.py)

    def clients(connection: Connection, recorder: Recorder | None) -> QboClient:
        tokens = VaultTokenSource(connection.company_id, vault, oauth, unit_of_work, utc_now)
        on_exchange = meter.recorder(connection.company_id, then=recorder)  # every attempt counted, then audited
        on_exchange = echoes.recorder(connection.company_id, then=on_exchange)  # a write then awaits its webhook
        return QboClient(config, connection.realm_id, tokens, client, on_exchange=on_exchange, limiter=limiter)

    cogs = Cogs(unit_of_work, clients, utc_now, stale_after=timedelta(seconds=settings.claim_stale_seconds))
    invoicing = Invoicing(unit_of_work, clients, utc_now, stale_after=timedelta(seconds=settings.claim_stale_seconds))
    pacing = Pacing(
        timedelta(minutes=settings.cdc_poll_minutes), timedelta(hours=settings.cdc_idle_hours),
        timedelta(seconds=settings.webhook_echo_grace_seconds),
    )  # fmt: skip
    reconcile = Reconcile(unit_of_work, clients, utc_now, pacing)

    def connected_companies() -> list[int]:
        with unit_of_work() as uow:
            return [c.company_id for c in uow.connections.connected()]

    huey = make_huey(
        redis_url=settings.redis_url, sqlite_path=settings.data_dir / "jobs.db", immediate=settings.jobs_immediate
    )
    customer_import = CustomerImport(unit_of_work, clients, invoicing.mirror)
    services = Services(
        invoicing,
        reconcile,
        cogs,
        connected_companies,
        BatchInvoicing(invoicing),
        customer_import=customer_import,
        returns=make_returns(settings, unit_of_work, clients, invoicing),
    )
    jobs = Jobs(huey, services, settings.cdc_poll_minutes)
    invoicing.after_invoiced = jobs.cogs  # COGS follows an invoice through the queue, with its own retries
    secret_key = settings.secret_key_bytes()
    policy = SessionPolicy(
        secret_key, timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_max_hours)
    )
    return Container(
        settings, engine, unit_of_work, OrderBook(unit_of_work, utc_now), client, vault, oauth, clients,
        Connecting(unit_of_work, vault, oauth, clients, utc_now, secret_key), invoicing, cogs, reconcile, jobs,
        People(unit_of_work, utc_now), Sessions(unit_of_work, utc_now, policy), ApiTokens(unit_of_work, utc_now),
        BulkRuns(unit_of_work, utc_now), meter=meter,
    )  # fmt: skip

"""Importing a company's QBO customers into its order book (docs/quickbooks.md, "Importing customers from
QuickBooks"), at connection (a job) and on demand (API, CLI, the Customers screen).

It reads the company's mirror of QBO customers (sync/mirror.py), loading it first when it is not loaded — so a run
costs no QBO request at all once the mirror is there. Each active QBO customer is:

* skipped as *already linked* when a customer of ours is remembered for it (qbo_refs, kind "customer");
* reported as a *clash*, not created, when its e-mail (ignoring case) is an order-book customer's already — that
  customer is not linked to it, and we never decide for the bookkeeper which of the two is meant;
* reported as *refused*, not created, when the order book refuses its name or e-mail (domain/customers.py);
* else created — display name, e-mail, currency (the QBO customer's, else the company's home currency), no
  addresses: the mirror holds none, and QBO copies the customer's own addresses onto an invoice that names
  none — and its QBO id remembered, so later invoices of its SOs match it by that id (sync/matching.py).

Idempotent: a second run creates nothing. Pages of PAGE customers are imported one transaction each under the
company's import lock (store/customer_import_repositories.py), which also reads what the page needs afresh: two
runs at once (a click and the job queued at connection) wait for each other, and the second finds the first's
customers linked. A run that stops half-way has committed whole pages only; running it again finishes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from invoicebridge.domain import Company, NotConnected, ValidationError
from invoicebridge.domain.connection import RECONNECT_MESSAGE, Connection, Health
from invoicebridge.domain.customer_import import CustomerImportReport, SkippedCustomer
from invoicebridge.domain.customers import new_customer
from invoicebridge.domain.qbo_mirror import MirrorCustomer
from invoicebridge.sync.gateway import ClientFactory
from invoicebridge.sync.matching import CUSTOMER
from invoicebridge.sync.mirror import Mirror
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
PAGE = 200  # QBO customers per transaction: short lock, bounded memory for companies with tens of thousands
Progress = Callable[[int, int], object]  # (looked at so far, active QBO customers in all)
CLASH = "An order-book customer has this e-mail already and is not linked to this QuickBooks customer."


class CustomerImportRepository(Protocol):
    """What an import reads and locks (store/customer_import_repositories.py)."""

    def lock(self, company_id: int) -> None:
        """The company's import lock, held to the end of the transaction; NotFound for no such company."""
        ...

    def mirrored_count(self, company_id: int) -> int: ...
    def mirrored_customers(self, company_id: int, after: str | None, limit: int) -> list[MirrorCustomer]:
        """Active mirrored customers ordered by QBO id (as text), after `after`."""
        ...

    def linked(self, company_id: int, qbo_ids: Sequence[str]) -> dict[str, int]:
        """QBO customer id → our customer remembered for it."""
        ...

    def by_emails(self, company_id: int, emails: Sequence[str]) -> dict[str, int]:
        """Lower-cased e-mail → our first customer with it (ignoring case)."""
        ...


class CustomerImport:
    def __init__(self, uow: UnitOfWorkFactory, clients: ClientFactory, mirror: Mirror, page: int = PAGE) -> None:
        self._uow, self._clients, self._mirror, self._page = uow, clients, mirror, page

    def run(self, company_id: int, progress: Progress | None = None) -> CustomerImportReport:
        """Import the company's active QBO customers (see the module). NotConnected without a usable connection;
        a QboError when the mirror had to be loaded and QBO refused (nothing is imported then). `progress` is
        told after each page."""
        connection = self._connection(company_id)
        self._mirror.ensure_loaded(company_id, connection.realm_id, self._clients(connection, None))
        with self._uow() as uow:
            total = uow.customer_imports.mirrored_count(company_id)
        report, after = CustomerImportReport(), None
        while True:
            with self._uow() as uow:
                page = uow.customer_imports.mirrored_customers(company_id, after, self._page)
            if not page:
                break
            report = report.plus(self._import_page(company_id, page))
            after = page[-1].qbo_id
            if progress is not None:
                progress(report.looked_at, max(total, report.looked_at))
        log.info(
            "QBO customers imported for company %s: %s created, %s already linked, %s clashes, %s refused",
            *(company_id, report.created, report.already_linked, len(report.clashes), len(report.refused)),
        )
        return report

    def _connection(self, company_id: int) -> Connection:
        with self._uow() as uow:
            uow.companies.get(company_id)
            connection = uow.connections.get(company_id)
        if connection is None or connection.health is Health.DISCONNECTED:
            raise NotConnected("QuickBooks is not connected for this company: connect QuickBooks first.")
        if not connection.usable:
            raise NotConnected(RECONNECT_MESSAGE)
        return connection

    def _import_page(self, company_id: int, page: Sequence[MirrorCustomer]) -> CustomerImportReport:
        with self._uow() as uow:
            uow.customer_imports.lock(company_id)  # first: what follows is read under the lock
            company = uow.companies.get(company_id)
            linked = uow.customer_imports.linked(company_id, [c.qbo_id for c in page])
            taken = uow.customer_imports.by_emails(company_id, [c.email for c in page if c.email])
            created, already = 0, 0
            clashes: list[SkippedCustomer] = []
            refused: list[SkippedCustomer] = []
            for qbo in page:
                email_key = qbo.email.lower() if qbo.email else None
                if qbo.qbo_id in linked:
                    already += 1
                elif email_key is not None and email_key in taken:
                    clashes.append(_skipped(qbo, CLASH, taken[email_key]))
                else:
                    try:
                        made = _create(uow, company, qbo)
                    except ValidationError as refusal:
                        refused.append(_skipped(qbo, " ".join(p.message for p in refusal.problems)))
                        continue
                    created += 1
                    if email_key is not None:
                        taken[email_key] = made  # two QBO customers with one e-mail: the second clashes
            uow.commit()
        return CustomerImportReport(created, already, tuple(clashes), tuple(refused))


def _create(uow: UnitOfWork, company: Company, qbo: MirrorCustomer) -> int:
    """The order-book customer for `qbo`, linked to it; its id. ValidationError when the order book refuses it."""
    customer = new_customer(
        company.id or 0, qbo.display_name, qbo.email, None, None, qbo.currency or company.home_currency
    )
    stored = uow.customers.add(customer)
    assert stored.id is not None
    uow.qbo_refs.put(company.id or 0, CUSTOMER, stored.id, qbo.qbo_id)
    return stored.id


def _skipped(qbo: MirrorCustomer, reason: str, existing: int | None = None) -> SkippedCustomer:
    return SkippedCustomer(qbo.qbo_id, qbo.display_name, qbo.email, reason, existing)


__all__ = ["CustomerImport", "CustomerImportRepository", "Progress"]

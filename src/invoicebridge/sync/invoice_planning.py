"""Step 0 of invoicing (sync/invoicing.py): planning an SO's invoices under its invoicing lock — *invoice all* for
many SOs at once (a bulk action: marked `queued` in one transaction before their batch jobs are enqueued, so a job
lost with its worker is found again), or partial invoices of chosen deliveries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from invoicebridge.domain import Conflict, InvoiceLink, InvoiceScope, InvoiceState, OrderInvoices
from invoicebridge.sync.ports import UnitOfWorkFactory

QUEUE_ATTEMPTS = 3
_BUSY_OR_DONE = (InvoiceState.INVOICED, InvoiceState.CREATING)


def whole_invoice(invoices: OrderInvoices) -> InvoiceLink | None:
    """The SO's live whole-SO invoice, if it has one."""
    return next((link for link in invoices.live if link.scope is InvoiceScope.WHOLE), None)


class Planning:
    """Mixed into Invoicing, whose unit of work and clock it uses."""

    _uow: UnitOfWorkFactory
    _now: Callable[[], datetime]

    def plan_deliveries(
        self, company_id: int, sales_order_id: int, delivery_ids: Sequence[int] | None, combine: bool
    ) -> list[InvoiceLink]:
        """The partial invoices, stored under the SO's lock as `queued`: should the request that planned them stop
        before making them, the sweeper finds them and makes them. See invoice_deliveries."""
        now = self._now()
        with self._uow() as uow:
            uow.invoice_links.lock_order(company_id, sales_order_id)
            invoices = uow.invoice_links.of_order(company_id, sales_order_id)
            planned = invoices.plan_deliveries(delivery_ids, combine)
            stored = [uow.invoice_links.add(company_id, link.queue(now)) for link in planned]
            uow.commit()
        return stored

    def queue(self, company_id: int, sales_order_ids: Sequence[int]) -> list[tuple[int, int]]:
        """*Invoice all* for many SOs: each one's whole-SO invoice is planned if need be and marked `queued` (in one
        transaction, before the jobs are put on the queue, so a job lost with its worker is found again by the
        sweeper). Returns (SO id, invoice number) of those marked; SOs invoiced, being invoiced or invoiced partly
        are left as they are. NotFound, with nothing marked, when one is not an SO of this company."""
        ids = list(dict.fromkeys(sales_order_ids))
        for attempt in range(1, QUEUE_ATTEMPTS + 1):
            try:
                return self._queue(company_id, ids)
            except Conflict:  # a worker claimed one of them meanwhile: read them again and leave that one be
                if attempt == QUEUE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _queue(self, company_id: int, ids: list[int]) -> list[tuple[int, int]]:
        now = self._now()
        new, again = [], []
        with self._uow() as uow:
            uow.invoice_links.lock_orders(company_id, ids)  # in id order, as every caller: no deadlock
            orders = uow.invoice_links.of_orders_whole(company_id, ids)
            for order_id in ids:
                invoices = orders[order_id]
                link = whole_invoice(invoices)
                if invoices.scope is InvoiceScope.DELIVERIES or (link and link.state in _BUSY_OR_DONE):
                    continue
                if link is None:
                    new.append(invoices.plan_whole().queue(now))
                else:
                    again.append(link.queue(now))
            queued = uow.invoice_links.add_many(company_id, new) + uow.invoice_links.save_many(company_id, again)
            uow.commit()
        numbers = {link.sales_order_id: link.number for link in queued}
        return [(order_id, numbers[order_id]) for order_id in ids if order_id in numbers]

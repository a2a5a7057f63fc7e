"""The tasks — a few lines each, calling sync/ — and the enqueue API the web layer and CLI use.

Tasks are registered on a given huey instance with explicit names, so the web process (which enqueues) and
the worker (which runs) agree without module-level state. Invoicing needs no task lock: the invoice link's
versioned claim already lets only one worker create an SO's invoice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab

from invoicebridge.sync.cogs import Cogs
from invoicebridge.sync.invoicing import Invoicing
from invoicebridge.sync.reconcile import Reconcile

PRIORITY = 10  # webhooks and CDC polls; everything else 0


@dataclass(frozen=True)
class Services:
    invoicing: Invoicing
    reconcile: Reconcile
    cogs: Cogs
    connected_companies: Callable[[], list[int]]


class Jobs:
    """What can be put on the queue."""

    def __init__(self, huey: Huey, services: Services, poll_minutes: int = 1) -> None:
        self.huey = huey
        self._services = services

        @huey.task(name="invoice", retries=2, retry_delay=5)
        def invoice(company_id: int, sales_order_id: int, number: int | None = None) -> str:
            # `number` None: a job queued before partial invoicing, meaning the SO's whole-SO invoice
            return services.invoicing.create_invoice(company_id, sales_order_id, number).state.value

        # Status back from QBO goes ahead of bulk invoicing (the soak saw deletions wait behind a 16,000-job
        # queue): a higher priority is dequeued first, on SQLite and Redis alike.
        @huey.task(name="webhook", retries=5, retry_delay=10, priority=PRIORITY)  # unhandled events are retried
        def webhook(body: str) -> int:
            return services.reconcile.apply_webhook(body.encode())

        @huey.task(name="poll", retries=1, retry_delay=10, priority=PRIORITY)
        def poll(company_id: int) -> int:
            return services.reconcile.poll(company_id)

        @huey.task(name="cogs", retries=3, retry_delay=30)
        def cogs(company_id: int, sales_order_id: int) -> bool:
            return services.cogs.post_if_due(company_id, sales_order_id) is not None

        def sweep_now() -> int:
            """Claims left by dead workers and uncertain failures, queued again (invoicing looks first):
            nothing waits for a click. Only connected companies: the others would fail again at once."""
            connected = set(services.connected_companies())
            idle = huey.pending_count() == 0
            found = [(c, so, n) for c, so, n in services.invoicing.unsettled(queue_idle=idle) if c in connected]
            requeued = [(c, so, n) for c, so, n in found if services.invoicing.requeue(c, so, n)]
            for company_id, sales_order_id, number in requeued:
                invoice(company_id, sales_order_id, number)
            due = services.cogs.unsettled() if idle else []  # idle: no COGS job of theirs is waiting
            for company_id, sales_order_id in due:
                cogs(company_id, sales_order_id)
            return len(requeued) + len(due)

        @huey.periodic_task(crontab(minute="*"), name="sweep")
        def sweep() -> int:
            return sweep_now()

        @huey.periodic_task(crontab(minute=f"*/{poll_minutes}"), name="poll_all")
        def poll_all() -> int:
            companies = services.connected_companies()
            for company_id in companies:
                poll(company_id)
            return len(companies)

        self._invoice, self._webhook, self._poll, self._cogs, self._poll_all = invoice, webhook, poll, cogs, poll_all
        self._sweep = sweep_now

    def invoice(self, company_id: int, sales_order_ids: Sequence[int]) -> list[Any]:
        """Queue *invoice all* for these SOs: their whole-SO invoices are marked `queued` first (durably), then
        their jobs are enqueued. SOs invoiced partly are left out."""
        marked = self._services.invoicing.queue(company_id, sales_order_ids)
        return [self._invoice(company_id, so_id, number) for so_id, number in marked]

    def webhook(self, body: bytes) -> Any:
        return self._webhook(body.decode())

    def poll(self, company_id: int) -> Any:
        return self._poll(company_id)

    def cogs(self, company_id: int, sales_order_id: int) -> Any:
        return self._cogs(company_id, sales_order_id)

    def poll_all(self) -> Any:
        return self._poll_all()

    def sweep(self) -> int:
        """One sweep now, in this process (the worker runs it every minute); how many SOs it queued."""
        return self._sweep()

"""The tasks — a few lines each, calling sync/ — and the enqueue API the web layer and CLI use.

Tasks are registered on a given huey instance with explicit names, so the web process (which enqueues) and
the worker (which runs) agree without module-level state. Invoicing needs no task lock: the invoice link's
versioned claim already lets only one worker create an SO's invoice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab

from invoicebridge.qbo.client import BATCH_LIMIT
from invoicebridge.sync.batch_invoicing import BatchInvoicing
from invoicebridge.sync.cogs import Cogs
from invoicebridge.sync.customer_import import CustomerImport
from invoicebridge.sync.invoicing import Invoicing
from invoicebridge.sync.reconcile import Reconcile
from invoicebridge.sync.returns import Returns

PRIORITY = 10  # webhooks and CDC polls; everything else 0


DRAINS_PER_COMPANY = (
    3  # a company's batches in flight at once: QBO answers a batch in seconds, allows 10 requests at once
)
RETRY_DRAIN_SECONDS = 5
PENDING_SCAN = 10_000  # queued jobs the sweeper looks through for a company's batch job


@dataclass(frozen=True)
class Services:
    invoicing: Invoicing
    reconcile: Reconcile
    cogs: Cogs
    connected_companies: Callable[[], list[int]]
    batches: BatchInvoicing
    returns: Returns | None = None  # credit memos of returns (sync/returns.py)
    customer_import: CustomerImport | None = None  # QBO customers into the order book (at connection)


class Jobs:
    """What can be put on the queue."""

    def __init__(self, huey: Huey, services: Services, poll_minutes: int = 1) -> None:
        self.huey = huey
        self._services = services

        @huey.task(name="invoice", retries=2, retry_delay=5)
        def invoice(company_id: int, sales_order_id: int, number: int | None = None) -> str:
            # `number` None: a job queued before partial invoicing, meaning the SO's whole-SO invoice
            return services.invoicing.create_invoice(company_id, sales_order_id, number).state.value

        # Bulk invoicing: one batch (up to 30 invoices) per job. While more are queued the job puts itself at the
        # back of the queue, so companies' backlogs take turns (one company's 10,000 SOs never starve another's
        # few); a batch that claimed nothing (others hold them) looks again a little later.
        @huey.task(name="drain", retries=2, retry_delay=5)
        def drain(company_id: int) -> int:
            drained = services.batches.drain(company_id)
            while drained.claimed and drained.left and huey.immediate:  # tests: no recursion through the queue
                drained = services.batches.drain(company_id)
            if drained.left and not huey.immediate:
                if drained.claimed:
                    drain(company_id)
                else:
                    drain.schedule((company_id,), delay=RETRY_DRAIN_SECONDS)
            return drained.left

        # Status back from QBO goes ahead of bulk invoicing (the soak saw deletions wait behind a 16,000-job
        # queue): a higher priority is dequeued first, on SQLite and Redis alike.
        @huey.task(name="webhook", retries=5, retry_delay=10, priority=PRIORITY)  # unhandled events are retried
        def webhook(body: str) -> int:
            return services.reconcile.apply_webhook(body.encode())

        @huey.task(name="poll", retries=1, retry_delay=10, priority=PRIORITY)
        def poll(company_id: int) -> int:  # paced: runs only when due and claimed (sync/pacing.py)
            return services.reconcile.poll_if_due(company_id)

        @huey.task(name="cogs", retries=3, retry_delay=30)
        def cogs(company_id: int, sales_order_id: int) -> bool:
            return services.cogs.post_if_due(company_id, sales_order_id) is not None

        @huey.task(name="credit_memo", retries=2, retry_delay=5)
        def credit_memo(company_id: int, sales_order_id: int, number: int) -> str:
            assert services.returns is not None, "credit memos need the returns service"
            return services.returns.send(company_id, sales_order_id, number).state.value

        def sweep_now() -> int:
            """Claims left by dead workers and uncertain failures, queued again (invoicing looks first):
            nothing waits for a click. Only connected companies: the others would fail again at once."""
            connected = set(services.connected_companies())
            idle = huey.pending_count() == 0
            found = [(c, so, n) for c, so, n in services.invoicing.unsettled(queue_idle=idle) if c in connected]
            requeued = [(c, so, n) for c, so, n in found if services.invoicing.requeue(c, so, n)]
            # Requeued invoices (they look themselves up first), and queued ones whose batch job died with its
            # worker, are made by the company's batch job: one is queued for each company that has none waiting.
            waiting = {c for c in services.batches.waiting_companies() if c in connected}
            pending = {task.args[0] for task in huey.pending(limit=PENDING_SCAN) if task.name == "drain"}
            for company_id in sorted(waiting - pending):
                drain(company_id)
            due = services.cogs.unsettled() if idle else []  # idle: no COGS job of theirs is waiting
            for company_id, sales_order_id in due:
                cogs(company_id, sales_order_id)
            # Returns whose credit memo is unsettled (a dead worker's claim, a lost job, an uncertain failure): sent
            # again, looking the credit memo up first. Only while idle: their jobs may still be waiting otherwise.
            unsettled = services.returns.unsettled() if idle and services.returns else []
            returns = [(c, so, n) for c, so, n in unsettled if c in connected]
            for company_id, sales_order_id, number in returns:
                credit_memo(company_id, sales_order_id, number)
            return len(requeued) + len(due) + len(returns)

        @huey.periodic_task(crontab(minute="*"), name="sweep")
        def sweep() -> int:
            return sweep_now()

        # Every tick asks which companies' polls are due by their webhook health: hours apart while webhooks
        # echo our writes, every tick while they may be lost. Every worker process's scheduler ticks; the poll's
        # claim lets one of them poll per slot.
        @huey.periodic_task(crontab(minute=f"*/{poll_minutes}"), name="poll_all")
        def poll_all() -> int:
            companies = services.reconcile.due_for_poll()
            for company_id in companies:
                poll(company_id)
            return len(companies)

        # Once a day, the ids of webhook events handled long ago are forgotten (sync/reconcile.EVENT_MEMORY). Every
        # worker's scheduler runs it; the deletes are idempotent.
        @huey.periodic_task(crontab(minute="23", hour="4"), name="forget_events")
        def forget_events() -> int:
            return services.reconcile.forget_old_events()

        # Right after connecting: the QBO customers become order-book customers linked to them (idempotent; a retry
        # after a failure re-reads what the previous attempt committed).
        @huey.task(name="import_customers", retries=2, retry_delay=30)
        def import_customers(company_id: int) -> int:
            if services.customer_import is None:
                return 0
            return services.customer_import.run(company_id).created

        self._import_customers = import_customers
        self._invoice, self._webhook, self._poll, self._cogs, self._poll_all = invoice, webhook, poll, cogs, poll_all
        self._drain = drain
        self._credit_memo = credit_memo
        self._sweep = sweep_now
        self._forget_events = forget_events

    def invoice(self, company_id: int, sales_order_ids: Sequence[int]) -> list[tuple[int, int]]:
        """Queue *invoice all* for these SOs: their whole-SO invoices are marked `queued` first (durably), then
        batch jobs are enqueued for the company (sync/batch_invoicing.py). SOs invoiced partly are left out.
        Returns (SO id, invoice number) of those queued."""
        marked = self._services.invoicing.queue(company_id, sales_order_ids)
        for _ in range(min(DRAINS_PER_COMPANY, math.ceil(len(marked) / BATCH_LIMIT))):
            self._drain(company_id)
        return marked

    def drain_queued(self, company_id: int, count: int) -> None:
        """Enqueue batch jobs for `count` invoices of the company already marked `queued` (a retry of failed ones,
        sync/failed_invoices.py), as `invoice` does after marking."""
        for _ in range(min(DRAINS_PER_COMPANY, math.ceil(count / BATCH_LIMIT))):
            self._drain(company_id)

    def import_customers(self, company_id: int) -> Any:
        """Queue importing the company's QBO customers into its order book (sync/customer_import.py)."""
        return self._import_customers(company_id)

    def webhook(self, body: bytes) -> Any:
        return self._webhook(body.decode())

    def poll(self, company_id: int) -> Any:
        return self._poll(company_id)

    def cogs(self, company_id: int, sales_order_id: int) -> Any:
        return self._cogs(company_id, sales_order_id)

    def credit_memo(self, company_id: int, sales_order_id: int, number: int) -> Any:
        """Queue the credit memo of the SO's return `number` (recorded `pending` first: a lost job is swept up)."""
        return self._credit_memo(company_id, sales_order_id, number)

    def poll_all(self) -> Any:
        return self._poll_all()

    def sweep(self) -> int:
        """One sweep now, in this process (the worker runs it every minute); how many SOs it queued."""
        return self._sweep()

    def forget_events(self) -> Any:
        """The daily forgetting of old webhook event ids, queued now (run at once in immediate mode)."""
        return self._forget_events()

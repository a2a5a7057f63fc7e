"""*Retry all failed* (docs/quickbooks.md, "Retrying every failed invoice"): a company's failed invoices grouped by
reason, and retrying all of them — or one group — as a bulk run.

A retry marks the failed invoices `queued` (under their SOs' invoicing locks, in one transaction, as a bulk action
does: sync/invoice_planning.py) and records a bulk run of their SOs, so the batch path makes them and the Sell
screen's progress panel follows them. Queuing keeps each invoice's last failure code, so an invoice whose outcome
was uncertain stays uncertain: the batch path looks it up in QBO before it creates anything. The caller enqueues
the batch jobs (jobs/tasks.py `Jobs.drain_queued`); should it not get to, the sweeper finds the queued invoices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from invoicebridge.domain import Conflict, InvoiceState, NotFound, ValidationError
from invoicebridge.domain.bulk import MAX_BULK, BulkRun
from invoicebridge.domain.failed_invoices import FailedGroup, FailedInvoice, group_failures
from invoicebridge.sync.bulk_runs import BulkRuns
from invoicebridge.sync.explain import outcome_uncertain
from invoicebridge.sync.ports import UnitOfWorkFactory
from invoicebridge.sync.reads import usable_connection

QUEUE_ATTEMPTS = 3
CHUNK = 500  # SOs locked and marked per transaction: short locks


class FailedInvoiceQueries(Protocol):
    def failed(self, company_id: int, limit: int) -> list[FailedInvoice]:
        """Up to `limit` of the company's failed invoices, in SO then invoice order."""
        ...


@dataclass(frozen=True)
class FailedOverview:
    groups: tuple[FailedGroup, ...]
    more: bool  # more than MAX_BULK failed: the first MAX_BULK are listed (and retried)

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)


@dataclass(frozen=True)
class Retried:
    """A retry: the bulk run that follows it and how many invoices were queued again."""

    run: BulkRun
    queued: int


class FailedInvoices:
    def __init__(self, uow: UnitOfWorkFactory, bulk_runs: BulkRuns, now: Callable[[], datetime]) -> None:
        self._uow, self._bulk_runs, self._now = uow, bulk_runs, now

    def overview(self, company_id: int) -> FailedOverview:
        """The company's failed invoices by reason (the first MAX_BULK of them). NotFound for no such company."""
        with self._uow() as uow:
            uow.companies.get(company_id)
            failed = uow.failed_invoices.failed(company_id, MAX_BULK + 1)
        return FailedOverview(tuple(group_failures(failed[:MAX_BULK], outcome_uncertain)), len(failed) > MAX_BULK)

    def retry(self, company_id: int, started_by: str, reason: str | None = None) -> Retried:
        """Queue every failed invoice of the company again — or those of the group named `reason` — and record a
        bulk run of their SOs. NotConnected (or ValidationError for incomplete settings) while invoices cannot be
        made — nothing is queued then, so they do not fail again for that; NotFound for an unknown `reason`;
        ValidationError when nothing has failed (or all were retried meanwhile by someone else)."""
        with self._uow() as uow:
            usable_connection(uow, company_id)
        groups = self.overview(company_id).groups
        if reason is not None:
            groups = tuple(group for group in groups if group.key == reason)
            if not groups:
                raise NotFound("group of failed invoices", reason)
        wanted = [(f.sales_order_id, f.number) for group in groups for f in group.invoices]
        queued = [
            key
            for start in range(0, len(wanted), CHUNK)
            for key in self._queue(company_id, wanted[start : start + CHUNK])
        ]
        if not queued:
            raise ValidationError.single("reason", "No failed invoices to retry: none has failed, or all are queued.")
        run = self._bulk_runs.record(company_id, [so_id for so_id, _ in queued], started_by)
        return Retried(run, len(queued))

    def _queue(self, company_id: int, keys: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        for attempt in range(1, QUEUE_ATTEMPTS + 1):
            try:
                return self._queue_once(company_id, keys)
            except Conflict:  # a worker took one of them meanwhile: read them again, leave that one be
                if attempt == QUEUE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _queue_once(self, company_id: int, keys: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Mark those of `keys` still failed `queued`, in one transaction; the keys marked."""
        now, ids = self._now(), sorted({so_id for so_id, _ in keys})
        with self._uow() as uow:
            uow.invoice_links.lock_orders(company_id, ids)  # in id order, as every caller: no deadlock
            orders = uow.invoice_links.of_orders_whole(company_id, ids)
            wanted = set(keys)
            again = [
                link.queue(now)
                for order in orders.values()
                for link in order.links
                if (link.sales_order_id, link.number) in wanted and link.state is InvoiceState.FAILED
            ]
            saved = uow.invoice_links.save_many(company_id, again)
            uow.commit()
        marked = {(link.sales_order_id, link.number) for link in saved}
        return [key for key in keys if key in marked]


__all__ = ["FailedInvoiceQueries", "FailedInvoices", "FailedOverview", "Retried"]

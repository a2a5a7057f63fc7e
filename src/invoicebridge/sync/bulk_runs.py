"""Bulk invoicing from the Sell screen: which SOs were asked for, and where they stand now (done, failed with the
sentence, left, skipped) — read from the SOs' invoices, so the panel is true after a reload, a worker's death
or a retry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from invoicebridge.domain import InvoiceLink, InvoiceScope, InvoiceState, ValidationError
from invoicebridge.domain.bulk import MAX_BULK, BulkFailure, BulkProgress, BulkRun
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory

CHUNK = 500  # SO ids per query


class BulkRuns:
    def __init__(self, uow: UnitOfWorkFactory, now: Callable[[], datetime]) -> None:
        self._uow, self._now = uow, now

    def record(self, company_id: int, sales_order_ids: Sequence[int], started_by: str) -> BulkRun:
        """Remember a bulk action (its jobs are queued by the caller). ValidationError for none or too many."""
        ids = tuple(dict.fromkeys(sales_order_ids))
        if not ids:
            raise ValidationError.single("sales_order_ids", "Select at least one sales order.")
        if len(ids) > MAX_BULK:
            raise ValidationError.single("sales_order_ids", f"Invoice at most {MAX_BULK:,} sales orders at once.")
        with self._uow() as uow:
            run = uow.bulk_runs.add(BulkRun(None, company_id, self._now(), started_by[:254], ids))
            uow.commit()
        return run

    def progress(self, company_id: int, run_id: int) -> BulkProgress:
        """NotFound for another company's run."""
        with self._uow() as uow:
            run = uow.bulk_runs.get(company_id, run_id)
            done = left = skipped = 0
            failed: list[BulkFailure] = []
            for start in range(0, len(run.sales_order_ids), CHUNK):
                chunk = run.sales_order_ids[start : start + CHUNK]
                links = uow.invoice_links.of_orders(company_id, chunk)
                for so_id in chunk:
                    state, whole = _standing(links.get(so_id, ()))
                    if state is InvoiceState.INVOICED:
                        done += 1
                    elif state is InvoiceState.FAILED and whole is not None:
                        failed.append(BulkFailure(so_id, "", whole.error_message or whole.status_text))
                    elif state is None:
                        skipped += 1
                    else:
                        left += 1
            numbers = _numbers(uow, company_id, [f.sales_order_id for f in failed])
        named = tuple(BulkFailure(f.sales_order_id, numbers.get(f.sales_order_id, "?"), f.message) for f in failed)
        return BulkProgress(run, done, left, skipped, named)

    def failed_ids(self, company_id: int, run_id: int) -> list[int]:
        return [f.sales_order_id for f in self.progress(company_id, run_id).failed]


def _standing(links: Sequence[InvoiceLink]) -> tuple[InvoiceState | None, InvoiceLink | None]:
    """The state of the SO's live whole-SO invoice (NOT_INVOICED when it has none yet); None when the SO is
    invoiced delivery by delivery instead (a bulk action invoices whole SOs only)."""
    live = [link for link in links if link.live]
    whole = next((link for link in live if link.scope is InvoiceScope.WHOLE), None)
    if whole is not None:
        return whole.state, whole
    return (None, None) if live else (InvoiceState.NOT_INVOICED, None)


def _numbers(uow: UnitOfWork, company_id: int, ids: list[int]) -> dict[int, str]:
    """SO numbers of the failures shown (the first 200: the panel lists no more)."""
    return {o.id or 0: o.number for o in uow.sales_orders.get_many(company_id, ids[:200])}

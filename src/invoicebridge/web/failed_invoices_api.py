"""*Retry all failed* over the API (sync/failed_invoices.py): `GET /api/companies/{company_id}/failed-invoices`
lists the company's failed invoices grouped by reason; `POST …/failed-invoices/retry` queues all of them (or one
group) as a bulk run, whose progress `GET …/bulk-runs/{run_id}` answers. Members may: it is invoicing."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from invoicebridge.domain.bulk import BulkProgress
from invoicebridge.domain.failed_invoices import FailedGroup
from invoicebridge.web.api import ERRORS
from invoicebridge.web.auth import App, CallerDep, MemberCompany, ObjectId
from invoicebridge.web.schemas import Strict

router = APIRouter(prefix="/api/companies/{company_id}", tags=["invoices"], responses=ERRORS)
GROUP_KEY_MAX = 64


class FailedInvoiceOut(BaseModel):
    sales_order_id: int
    sales_order_number: str
    invoice_number: int = Field(description="which of the SO's invoices (1 for the whole SO's first)")
    scope: str = Field(description="whole, or deliveries (a partial invoice)")
    message: str = Field(description="the whole sentence this invoice failed with")


class FailedGroupOut(BaseModel):
    key: str = Field(description="names the group in a retry (`reason`)")
    code: str
    sentence: str = Field(
        description="what went wrong, for a bookkeeper, as the group's messages share it; "
        "[SO number] stands for each SO's number"
    )
    count: int
    uncertain: bool = Field(description="QuickBooks may have made these invoices: a retry looks them up first")
    invoices: list[FailedInvoiceOut]

    @classmethod
    def of(cls, group: FailedGroup) -> FailedGroupOut:
        invoices = [
            FailedInvoiceOut(sales_order_id=f.sales_order_id, sales_order_number=f.so_number, invoice_number=f.number,
                             scope=f.scope.value, message=f.message)
            for f in group.invoices
        ]  # fmt: skip
        return cls(key=group.key, code=group.code, sentence=group.sentence, count=group.count,
                   uncertain=group.uncertain, invoices=invoices)  # fmt: skip


class FailedInvoicesOut(BaseModel):
    total: int
    more: bool = Field(description="more failed than are listed (the first 10,000 are listed and retried)")
    groups: list[FailedGroupOut]


class RetryIn(Strict):
    reason: str | None = Field(
        None, min_length=1, max_length=GROUP_KEY_MAX, description="a group's key: retry that group only"
    )


class BulkRunOut(BaseModel):
    id: int
    started_at: datetime
    started_by: str
    total: int
    done: int
    failed: int
    left: int
    skipped: int = Field(description="SOs invoiced delivery by delivery: their invoices are not counted here")
    finished: bool

    @classmethod
    def of(cls, progress: BulkProgress) -> BulkRunOut:
        run = progress.run
        return cls(id=run.id or 0, started_at=run.started_at, started_by=run.started_by, total=progress.total,
                   done=progress.done, failed=len(progress.failed), left=progress.left, skipped=progress.skipped,
                   finished=progress.finished)  # fmt: skip


class RetriedOut(BaseModel):
    queued: int = Field(description="failed invoices queued again")
    run: BulkRunOut


@router.get("/failed-invoices")
def failed_invoices(company_id: MemberCompany, app: App) -> FailedInvoicesOut:
    """The company's failed invoices grouped by reason (code and sentence), the largest group first."""
    overview = app.failed_invoices.overview(company_id)
    groups = [FailedGroupOut.of(group) for group in overview.groups]
    return FailedInvoicesOut(total=overview.total, more=overview.more, groups=groups)


@router.post("/failed-invoices/retry", status_code=status.HTTP_202_ACCEPTED)
def retry_failed_invoices(company_id: MemberCompany, caller: CallerDep, app: App, body: RetryIn) -> RetriedOut:
    """Queue every failed invoice again (or the group `reason`) as a bulk run; follow it at `…/bulk-runs/{id}`.
    Invoices whose outcome was uncertain are looked up in QuickBooks before anything is created. 404 for an
    unknown `reason`; 422 when nothing is left to retry."""
    retried = app.failed_invoices.retry(company_id, caller.label, body.reason)
    app.jobs.drain_queued(company_id, retried.queued)
    progress = app.bulk_runs.progress(company_id, retried.run.id or 0)
    return RetriedOut(queued=retried.queued, run=BulkRunOut.of(progress))


@router.get("/bulk-runs/{run_id}")
def bulk_run(company_id: MemberCompany, run_id: ObjectId, app: App) -> BulkRunOut:
    """Where a bulk run's SOs stand now (a retry's, or the Sell screen's bulk action's)."""
    return BulkRunOut.of(app.bulk_runs.progress(company_id, run_id))

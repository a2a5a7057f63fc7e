"""The *Failed invoices* screen (sync/failed_invoices.py): the company's failed invoices grouped by reason, with
*Retry all* and, per group, *Retry these*. A retry is a bulk run: the answer is the Sell screen with its progress
panel, as for a bulk action."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from invoicebridge.domain import InvoiceBridgeError, NotFound, ValidationError
from invoicebridge.web.auth import App
from invoicebridge.web.screens.layout import ScreenDep, show

router = APIRouter(include_in_schema=False)
PATH = "/c/{company_id}/failed-invoices"
TEMPLATE = "screens/failed/page.html"
SHOWN = 50  # SO numbers listed per group; the count says how many there are


@router.get(PATH, response_class=HTMLResponse)
def failed_page(request: Request, screen: ScreenDep, app: App) -> HTMLResponse:
    overview = app.failed_invoices.overview(screen.company_id)
    return show(request, TEMPLATE, screen, active="sell", overview=overview, shown=SHOWN, problem=None)


@router.post(PATH + "/retry", response_model=None)
async def retry(request: Request, screen: ScreenDep, app: App) -> Response:
    """Queue the failed invoices again — all, or the group named by the form's `reason` — and follow them on the
    Sell screen. The page again, with a sentence, when nothing is left to retry or the group is gone."""
    form = await request.form()
    reason = str(form.get("reason") or "").strip()[:64] or None
    try:
        retried = app.failed_invoices.retry(screen.company_id, screen.caller.label, reason)
    except InvoiceBridgeError as refusal:  # nothing left, the group gone, or invoices cannot be made now
        sentence = _sentence(refusal)
        overview = app.failed_invoices.overview(screen.company_id)
        return show(request, TEMPLATE, screen, 409, active="sell", overview=overview, shown=SHOWN, problem=sentence)
    app.jobs.drain_queued(screen.company_id, retried.queued)
    return RedirectResponse(f"/c/{screen.company_id}/sell?run={retried.run.id}", status_code=303)


def _sentence(refusal: InvoiceBridgeError) -> str:
    if isinstance(refusal, NotFound):
        return "These invoices are not failed any more: they were retried or made meanwhile."
    if isinstance(refusal, ValidationError):
        return " ".join(p.message for p in refusal.problems)
    return str(refusal)

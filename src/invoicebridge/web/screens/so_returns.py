"""The SO card's *Returns* section: the SO's returns with their credit memos in QuickBooks, and a form to return
delivered, invoiced quantities (a plain post with the CSRF token, enhanced by htmx like the card's other forms), and
a retry for a failed credit memo. The rules are the Returns use case's (sync/returns.py); this module turns its
answers and refusals into the card."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from invoicebridge.domain import Conflict, NotConnected, Problem, ValidationError
from invoicebridge.web.auth import App
from invoicebridge.web.screens.layout import ScreenDep
from invoicebridge.web.screens.so_card import BASE, FormDep, SoId, _done, _one, _refused, path_id
from invoicebridge.web.screens.so_returns_view import return_field

router = APIRouter(include_in_schema=False)


@router.post(BASE + "/returns", response_class=HTMLResponse)
def record_return(request: Request, screen: ScreenDep, so_id: SoId, app: App, form: FormDep) -> Response:
    """Return the quantities typed per row (blank or 0: none of it); the credit memo is queued at once. Refusals
    come back next to their fields, with what was typed."""
    invoices = app.orderbook.get_sales_order(screen.company_id, so_id).invoices
    lines: dict[int, object] = {}
    entered: dict[str, str] = {}
    twice: list[Problem] = []
    for row in invoices.order.rows:
        name = return_field(row.id or 0)
        text = entered[name] = _one(form, name)
        if len(form.get(name, [])) > 1:  # a crafted post: taking either value would return what nobody typed
            twice.append(Problem(name, f"Row {row.id} came twice in the form: type its quantity once."))
        elif text and not _zero(text):
            lines[row.id or 0] = text
    if twice:
        return _refused(request, app, screen, so_id, 422, tuple(twice), entered=entered, posted="return")
    try:
        recorded = app.returns.record(screen.company_id, so_id, lines)
    except (ValidationError, Conflict) as refused:
        problems = refused.problems if isinstance(refused, ValidationError) else (Problem("lines", str(refused)),)
        return _refused(request, app, screen, so_id, 422, problems, entered=entered, posted="return")
    app.jobs.credit_memo(screen.company_id, so_id, recorded.number)
    return _done(request, app, screen, so_id, "#returns")


@router.post(BASE + "/returns/{number}/retry", response_class=HTMLResponse)
def retry_return(request: Request, screen: ScreenDep, so_id: SoId, number: str, app: App) -> Response:
    """Make a failed (or stuck) return's credit memo again now; its outcome shows on the card."""
    which = path_id(number)
    try:
        app.returns.send(screen.company_id, so_id, which)
    except NotConnected as refused:
        return _refused(request, app, screen, so_id, 409, (Problem("lines", str(refused)),), posted="return")
    return _done(request, app, screen, so_id, "#returns")


def _zero(text: str) -> bool:
    try:
        return Decimal(text) == 0
    except ArithmeticError:
        return False  # not a number: the use case says what is wrong with it

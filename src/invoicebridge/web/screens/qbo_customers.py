"""*Import customers from QuickBooks* (sync/customer_import.py) on the Customers screen: the button posts here and
the answer is the report — created, already linked, clashes and refusals, each named."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from invoicebridge.domain import InvoiceBridgeError
from invoicebridge.qbo.errors import QboError
from invoicebridge.web.auth import App
from invoicebridge.web.screens.layout import ScreenDep, show

router = APIRouter(include_in_schema=False)
PATH = "/c/{company_id}/customers/import-qbo"
TEMPLATE = "screens/entry/qbo_import.html"


@router.get(PATH, response_class=HTMLResponse)
def import_page(request: Request, screen: ScreenDep) -> HTMLResponse:
    """What the import does, and its button."""
    return show(request, TEMPLATE, screen, active="customers", report=None, problem=None, names={})


@router.post(PATH, response_class=HTMLResponse)
def import_customers(request: Request, screen: ScreenDep, app: App) -> HTMLResponse:
    """Run the import now and show its report; a sentence (409/502) when QuickBooks is not connected or failed."""
    try:
        report = app.customer_import.run(screen.company_id)
    except QboError as failure:  # only loading the mirror reads QBO: nothing was imported yet
        problem = f"QuickBooks did not answer as it should ({failure}); nothing was imported: try again."
        return show(request, TEMPLATE, screen, 502, active="customers", report=None, problem=problem)
    except InvoiceBridgeError as refusal:
        return show(request, TEMPLATE, screen, 409, active="customers", report=None, problem=str(refusal))
    ours = app.orderbook.customer_names(screen.company_id, {c.existing_customer_id or 0 for c in report.clashes})
    return show(request, TEMPLATE, screen, active="customers", report=report, problem=None, names=ours)

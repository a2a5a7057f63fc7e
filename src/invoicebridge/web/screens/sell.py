"""The Sell screen (the home page of a company): its SOs with the Invoice column, filters, search, keyset pages,
live statuses, one-click and bulk invoicing with a progress panel that survives a reload."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BeforeValidator, Field

from invoicebridge.domain import (
    DeliveryStatus,
    InvoiceBridgeError,
    InvoiceScope,
    InvoiceState,
    InvoiceStatus,
    OrderFilter,
    PageRequest,
    ValidationError,
)
from invoicebridge.domain.bulk import MAX_BULK
from invoicebridge.domain.orders import MAX_SEARCH
from invoicebridge.domain.payments import PAYMENT_STATUS_TEXT, PaymentStatus
from invoicebridge.sync.duplicates import existing_invoice_id
from invoicebridge.sync.order_reads import OrderView
from invoicebridge.web.auth import MAX_ID, App, ObjectId
from invoicebridge.web.screens.layout import CompanyScreen, ScreenDep, show

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_POLLED = 200
MAX_CHOICES = 300  # customers listed in the filter's drop-down; past that, the search box names them
# The one "Invoice" filter: how much is invoiced (InvoiceStatus), or an invoice in a state that needs a look.
STATUS_CHOICES = {
    "not_invoiced": "Not invoiced", "partly_invoiced": "Partly invoiced", "invoiced": "Invoiced",
    "voided": "Voided in QuickBooks", "failed": "Failed", "queued": "Queued", "creating": "Being created",
}  # fmt: skip
# The filter form sends its empty fields ("from=&to=&customer="): empty is "any", not a refusal.
BLANK = BeforeValidator(lambda value: None if value == "" else value)
CustomerId = Annotated[int, Field(ge=1, le=MAX_ID)]
DELIVERY_CHOICES = {"not_shipped": "Not shipped", "partially_delivered": "Partly delivered", "delivered": "Delivered"}
PAYMENT_CHOICES = {status.value: text for status, text in PAYMENT_STATUS_TEXT.items()}  # companies that track them


@dataclass(frozen=True)
class Filters:
    """The Sell screen's query: what the form shows and what the list asks the order book for."""

    status: str = ""
    delivery: str = ""
    q: str = ""
    created_from: date | None = None
    created_to: date | None = None
    customer: int | None = None
    payment: str = ""  # unpaid, partly_paid or paid (companies that track payments)

    def order_filter(self, zone: ZoneInfo) -> OrderFilter:
        status = InvoiceStatus(self.status) if self.status in InvoiceStatus._value2member_map_ else None
        state = InvoiceState(self.status) if self.status in ("failed", "queued", "creating") else None
        start = datetime.combine(self.created_from, time(), zone) if self.created_from else None
        last_day = self.created_to + timedelta(days=1) if self.created_to else None  # "to" includes its whole day
        end = datetime.combine(last_day, time(), zone) if last_day else None
        delivery = DeliveryStatus(self.delivery) if self.delivery in DELIVERY_CHOICES else None
        paid = PaymentStatus(self.payment) if self.payment in PAYMENT_CHOICES else None
        return OrderFilter(state, delivery, self.customer, start, end, status, self.q.strip() or None, paid)

    def query(self, **extra: object) -> str:
        """The filters (and `extra`) as a query string, for links that keep them."""
        fields: dict[str, object] = {"status": self.status, "delivery": self.delivery, "q": self.q,
                                     "from": self.created_from or "", "to": self.created_to or "",
                                     "customer": self.customer or "", "payment": self.payment, **extra}  # fmt: skip
        return urlencode({k: v for k, v in fields.items() if v not in ("", None)})


def filters_from(
    status: Annotated[str, Query(max_length=32)] = "",
    delivery: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=MAX_SEARCH)] = "",
    created_from: Annotated[date | None, BLANK, Query(alias="from")] = None,
    created_to: Annotated[date | None, BLANK, Query(alias="to")] = None,
    customer: Annotated[CustomerId | None, BLANK, Query()] = None,
    payment: Annotated[str, Query(max_length=32)] = "",
) -> Filters:
    return Filters(status if status in STATUS_CHOICES else "", delivery if delivery in DELIVERY_CHOICES else "",
                   q if q.isprintable() else "", created_from, created_to, customer,
                   payment if payment in PAYMENT_CHOICES else "")  # fmt: skip


@router.get("/c/{company_id}/sell", response_class=HTMLResponse)
def sell(
    request: Request,
    screen: ScreenDep,
    app: App,
    status: Annotated[str, Query(max_length=32)] = "",
    delivery: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=MAX_SEARCH)] = "",
    created_from: Annotated[date | None, BLANK, Query(alias="from")] = None,
    created_to: Annotated[date | None, BLANK, Query(alias="to")] = None,
    customer: Annotated[CustomerId | None, BLANK, Query()] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    run: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    payment: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    filters = filters_from(status, delivery, q, created_from, created_to, customer, payment)
    zone = ZoneInfo(screen.company.timezone)
    try:
        found = app.orderbook.list_sales_orders(
            screen.company_id, filters.order_filter(zone), PageRequest(PAGE_SIZE, after)
        )
        problem = None
    except ValidationError as refused:
        found, problem = None, " ".join(p.message for p in refused.problems)
    views = list(found.items) if found else []
    progress = app.bulk_runs.progress(screen.company_id, run) if run else None
    return show(
        request, "screens/sell/page.html", screen, active="sell", views=views, rows=_rows(app, screen, views),
        filters=filters, status_choices=STATUS_CHOICES, delivery_choices=DELIVERY_CHOICES, problem=problem,
        payment_choices=PAYMENT_CHOICES,
        next_after=found.next_after if found else None, after=after, progress=progress, max_bulk=MAX_BULK, zone=zone,
        customers=_customer_choices(app, screen.company_id),
    )  # fmt: skip


@router.get("/c/{company_id}/sell/status", response_class=HTMLResponse)
def statuses(
    request: Request, screen: ScreenDep, app: App, ids: Annotated[str, Query(max_length=MAX_POLLED * 21)] = ""
) -> HTMLResponse:
    """The Invoice cells of these SOs, each swapped into its place (htmx out-of-band): the live statuses."""
    wanted = _ids(ids.split(","))[:MAX_POLLED]
    views = app.orderbook.views(screen.company_id, wanted)
    zone = ZoneInfo(screen.company.timezone)
    return show(request, "screens/sell/cells.html", screen, rows=_rows(app, screen, views), zone=zone)


@router.post("/c/{company_id}/sell/{order_id}/invoice")
def invoice_now(request: Request, screen: ScreenDep, app: App, order_id: ObjectId) -> Response:
    """*Create invoice* (or *Retry*) for one SO: the whole SO, now. Answers its Invoice cell (htmx) or the list."""
    problem = None
    try:
        app.invoicing.create_invoice(screen.company_id, order_id)
    except InvoiceBridgeError as refused:
        problem = str(refused)
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(_back(request, screen), status_code=303)
    view = app.orderbook.get_sales_order(screen.company_id, order_id)
    return show(request, "screens/sell/cell.html", screen, row=_rows(app, screen, [view])[0], problem=problem)


@router.post("/c/{company_id}/sell/bulk")
async def invoice_many(request: Request, screen: ScreenDep, app: App) -> Response:
    """*Create invoices* for the selected SOs, or for all that match the filters: queued, with a progress panel."""
    form = await request.form()
    if form.get("all_matching") == "1":
        text = {k: str(form.get(k, "")) for k in ("status", "delivery", "q", "payment")}
        filters = filters_from(text["status"], text["delivery"], text["q"], _date(form.get("from"), "from"),
                               _date(form.get("to"), "to"), _customer(form.get("customer")),
                               payment=text["payment"])  # fmt: skip
        ids = app.orderbook.matching_ids(screen.company_id, filters.order_filter(ZoneInfo(screen.company.timezone)),
                                         MAX_BULK + 1)  # fmt: skip
    else:
        ids = _ids(str(value) for value in form.getlist("so"))
    return _start(request, screen, app, ids)


@router.get("/c/{company_id}/sell/bulk/{run_id}", response_class=HTMLResponse)
def bulk_progress(request: Request, screen: ScreenDep, app: App, run_id: ObjectId) -> HTMLResponse:
    progress = app.bulk_runs.progress(screen.company_id, run_id)
    return show(request, "screens/sell/progress.html", screen, progress=progress)


@router.post("/c/{company_id}/sell/bulk/{run_id}/retry")
def retry_failed(screen: ScreenDep, app: App, run_id: ObjectId) -> Response:
    """*Retry failed*: the run's failed SOs are queued again; the same panel follows them."""
    failed = app.bulk_runs.failed_ids(screen.company_id, run_id)
    if failed:
        app.jobs.invoice(screen.company_id, failed)
    return RedirectResponse(f"/c/{screen.company_id}/sell?run={run_id}", status_code=303)


def _start(request: Request, screen: CompanyScreen, app: Any, ids: Sequence[int]) -> Response:
    try:
        run = app.bulk_runs.record(screen.company_id, ids, screen.caller.label)
    except ValidationError as refused:
        return show(request, "screens/problem.html", screen, 422, heading="Nothing was queued",
                    message=" ".join(p.message for p in refused.problems))  # fmt: skip
    for start in range(0, len(run.sales_order_ids), 500):  # one transaction per chunk: short locks
        app.jobs.invoice(screen.company_id, run.sales_order_ids[start : start + 500])
    return RedirectResponse(f"/c/{screen.company_id}/sell?run={run.id}", status_code=303)


@dataclass(frozen=True)
class Row:
    """One SO as the Sell screen shows it."""

    view: OrderView
    customer: str
    url: Callable[[str | None], str | None]

    @property
    def id(self) -> int:
        return self.view.order.id or 0

    @property
    def whole(self) -> Any:
        return next((link for link in self.view.invoices.live if link.scope is InvoiceScope.WHOLE), None)

    @property
    def partial(self) -> bool:
        return self.view.invoices.scope is InvoiceScope.DELIVERIES

    @property
    def busy(self) -> bool:
        return any(link.state in (InvoiceState.QUEUED, InvoiceState.CREATING) for link in self.view.invoices.live)

    @property
    def existing(self) -> tuple[str, str | None] | None:
        """(id, link) of the QuickBooks invoice that has the whole-SO invoice's number, when it failed for that."""
        txn = existing_invoice_id(self.whole)
        return None if txn is None else (txn, self.url(txn))

    @property
    def failed_partial(self) -> bool:
        return self.partial and any(link.state is InvoiceState.FAILED for link in self.view.invoices.live)


def _rows(app: Any, screen: CompanyScreen, views: Sequence[OrderView]) -> list[Row]:
    names = app.orderbook.customer_names(screen.company_id, {v.order.customer_id for v in views})
    url = app.invoice_urls(screen.company_id)
    return [Row(v, names.get(v.order.customer_id, "?"), url) for v in views]


def _customer_choices(app: Any, company_id: int) -> list[tuple[int, str]] | None:
    """The customers for the filter's drop-down, by name; None past MAX_CHOICES (the search box finds them)."""
    page = app.orderbook.list_customers(company_id, PageRequest(MAX_CHOICES + 1))
    if len(page.items) > MAX_CHOICES:
        return None
    return sorted(((c.id or 0, c.display_name) for c in page.items), key=lambda choice: choice[1].lower())


def _ids(values: Any) -> list[int]:
    """Positive ids from form or query values, in order, each once; anything else is ignored."""
    ids: list[int] = []
    for value in values:
        text = str(value).strip()
        if text.isascii() and text.isdigit() and len(text) <= 19 and 0 < int(text) <= MAX_ID:
            ids.append(int(text))
    return list(dict.fromkeys(ids))


# A filter the bulk form carries but cannot read is refused, never dropped: dropped, "all matching" would invoice
# more SOs than the list showed.
def _date(value: object, field: str) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        raise ValidationError.single(field, "The date filter must be a date (YYYY-MM-DD).") from None


def _customer(value: object) -> int | None:
    text = str(value or "")
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise ValidationError.single("customer", "The customer filter must be a customer's id.")
    return int(text)


def _back(request: Request, screen: CompanyScreen) -> str:
    """The Sell screen the form came from (its query kept), never another site."""
    referer = request.headers.get("referer", "")
    path = f"/c/{screen.company_id}/sell"
    query = referer.split("?", 1)[1] if "?" in referer and path in referer.split("?", 1)[0] else ""
    return path + (f"?{query}" if query else "")

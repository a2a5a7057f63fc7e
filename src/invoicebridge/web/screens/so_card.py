"""The SO card (/c/{company_id}/so/{so_id}): one sales order with its rows, deliveries, invoices in QuickBooks,
COGS entries and the QuickBooks calls made for it — and the actions: record a delivery, *Create invoice* (invoice
all), *Invoice some…* (chosen deliveries, one invoice or one each), retry a failed invoice, preview, audit.

Every action is a plain form (Post/Redirect/Get) that htmx enhances: with `HX-Request` the answer is the card
itself (the `card` block of the same template), refusals included, so htmx swaps it in. The card polls
`…/card?seen=<fingerprint>` while an invoice is settling (and, slower, while one exists in QBO and could be deleted
there): 204 while nothing changed, else the fresh card. Rules stay in the use cases (OrderBook, Invoicing); this
module turns their answers and refusals into pages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from invoicebridge.bootstrap import Container
from invoicebridge.domain import (
    Conflict,
    Customer,
    InvalidTransition,
    InvoiceLink,
    InvoiceState,
    NotConnected,
    NotFound,
    OrderInvoices,
    Problem,
    ProductVariant,
    SalesOrder,
    TaxRate,
    ValidationError,
)
from invoicebridge.domain.connection import AccountingMode
from invoicebridge.domain.money import plain, to_cents
from invoicebridge.domain.order_invoices import MAX_DELIVERIES_PER_REQUEST
from invoicebridge.domain.records import CogsEntry
from invoicebridge.qbo.errors import QboError
from invoicebridge.sync.duplicates import existing_invoice_id
from invoicebridge.sync.explain import explain
from invoicebridge.sync.link_existing import LinkExisting
from invoicebridge.web.auth import MAX_ID, App
from invoicebridge.web.qbo_api import preview_body
from invoicebridge.web.screens.layout import CompanyScreen, ScreenDep, show
from invoicebridge.web.screens.so_returns_view import returns_context, returns_fingerprint, returns_poll
from invoicebridge.web.screens.so_voided import invoice_again

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
CARD = "screens/so_card/card.html"
PREVIEW = "screens/so_card/preview.html"
AUDIT = "screens/so_card/audit.html"
BASE = "/c/{company_id}/so/{order_id}"  # order_id: the SO's id, as in the JSON API
REFUSALS = (InvalidTransition, ValidationError, Conflict, NotConnected)
BUSY = (InvoiceState.QUEUED, InvoiceState.CREATING)
IN_QBO = (InvoiceState.INVOICED, InvoiceState.VOIDED)  # invoices that exist in QBO: linked (a voided one too)
POLL_BUSY, POLL_WATCH = 2, 10  # seconds: while an invoice settles; while one in QBO could be deleted there
CUSTOMER_HOW = {
    "email": "matched by e-mail",
    "remembered": "the QuickBooks customer remembered for this customer",
    "display_name": "matched by display name",
    "created": "created in QuickBooks",
    "would create": "will be created in QuickBooks",
}
ITEM_HOW = {"sku": "matched by SKU", "created": "created in QuickBooks", "would create": "will be created"}


def path_id(value: str) -> int:
    """An id from the path; anything that cannot be a stored id (not digits, 0, too large) is a page that does not
    exist — the 404 page, never a JSON validation error."""
    if not value.isascii() or not value.isdigit() or len(value) > 19 or not 0 < int(value) <= MAX_ID:
        raise NotFound("page", value[:40])
    return int(value)


def so_path(order_id: str) -> int:
    return path_id(order_id)


SoId = Annotated[int, Depends(so_path)]
Fields = dict[str, list[str]]


async def form_fields(request: Request) -> Fields:
    """The posted form as text values (files ignored); read in the async world so the routes can stay plain."""
    fields: Fields = {}
    for name, value in (await request.form()).multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return fields


FormDep = Annotated[Fields, Depends(form_fields)]


# -- pages -----------------------------------------------------------------------------------------------
@router.get(BASE, response_class=HTMLResponse)
def so_card(request: Request, screen: ScreenDep, so_id: SoId, app: App) -> HTMLResponse:
    return _card(request, app, screen, so_id)


@router.get(BASE + "/card", response_class=HTMLResponse)
def so_card_live(request: Request, screen: ScreenDep, so_id: SoId, app: App, seen: str = "") -> Response:
    """The card's polling: 204 while nothing changed since `seen`, else the card (outside htmx: the page)."""
    if not _htmx(request):
        return RedirectResponse(_url(screen, so_id), status_code=303)
    context = card_context(app, screen, so_id)
    if seen and seen == context["fingerprint"]:
        return Response(status_code=204)
    return show(request, CARD, screen, fragment="card", **context)


@router.get(BASE + "/preview", response_class=HTMLResponse)
def preview(request: Request, screen: ScreenDep, so_id: SoId, app: App) -> HTMLResponse:
    """The exact payload of the next invoice (the whole SO, or one invoice for `?deliveries=…`) and the matches;
    creates nothing in QuickBooks. A preview that cannot be made says why."""
    view = app.orderbook.get_sales_order(screen.company_id, so_id)
    chosen, problem = _delivery_ids(request.query_params.getlist("deliveries"))
    context: dict[str, Any] = {"invoices": view.invoices, "chosen": chosen or [], "failure": None, "body": None}
    try:
        if problem is not None:
            raise ValidationError([problem])
        body = preview_body(app.invoicing.preview(screen.company_id, so_id, chosen))
        context["body"], context["payload"] = body, json.dumps(body["payload"], indent=2, ensure_ascii=False)
    except (*REFUSALS, QboError) as error:
        context["failure"] = explain(error, view.order.number)
    return show(request, PREVIEW, screen, customer_how=CUSTOMER_HOW, item_how=ITEM_HOW, at=_clock(screen), **context)


@router.get(BASE + "/audit", response_class=HTMLResponse)
def audit(request: Request, screen: ScreenDep, so_id: SoId, app: App) -> HTMLResponse:
    """Every QuickBooks call made for the SO, newest first."""
    view = app.orderbook.get_sales_order(screen.company_id, so_id)
    entries = list(reversed(app.invoicing.audit(screen.company_id, so_id)))
    return show(request, AUDIT, screen, order=view.order, entries=entries, at=_clock(screen))


# -- actions ---------------------------------------------------------------------------------------------
@router.post(BASE + "/deliveries", response_class=HTMLResponse)
def record_delivery(request: Request, screen: ScreenDep, so_id: SoId, app: App, form: FormDep) -> Response:
    """Record one delivery: the quantity typed per row (blank or 0: not in this delivery), or with `everything`
    what is left of every row. Refusals come back next to their fields."""
    order = app.orderbook.get_sales_order(screen.company_id, so_id).order
    everything = bool(form.get("everything"))
    quantities: dict[int, object] = {}
    entered: dict[str, str] = {}
    for row in order.rows:
        left = row.quantity - row.delivered_quantity
        name = quantity_field(row.id or 0)
        text = _one(form, name)
        entered[name] = text
        if everything and left > 0:
            quantities[row.id or 0] = left
        elif not everything and not _blank_or_zero(text):
            quantities[row.id or 0] = text
    try:
        app.orderbook.record_delivery(screen.company_id, so_id, quantities)
    except ValidationError as refused:
        return _refused(request, app, screen, so_id, 422, refused.problems, entered=entered, posted="delivery")
    app.jobs.cogs(screen.company_id, so_id)  # as the API does: COGS once delivered (or per delivery) and invoiced
    return _done(request, app, screen, so_id, "#deliveries")


@router.post(BASE + "/invoice", response_class=HTMLResponse)
def invoice_all(request: Request, screen: ScreenDep, so_id: SoId, app: App) -> Response:
    """*Create invoice*: the whole SO, now. The invoice's outcome (made, or failed with its reason) shows on the
    card; a refusal (the SO is invoiced partly, or already has an invoice) is said in words."""
    return _invoicing(request, app, screen, so_id, lambda: app.invoicing.create_invoice(screen.company_id, so_id))


@router.post(BASE + "/invoices", response_class=HTMLResponse)
def invoice_some(request: Request, screen: ScreenDep, so_id: SoId, app: App, form: FormDep) -> Response:
    """*Invoice some…*: the chosen deliveries, on one invoice (`combine=one`) or one invoice each."""
    chosen, problem = _delivery_ids(form.get("deliveries", []))
    if problem is not None:
        return _refused(request, app, screen, so_id, 422, (problem,), posted="invoice_some")
    combine = _one(form, "combine") != "each"
    # none ticked is [] (refused by the rules), never None (which would mean every open delivery)
    act = lambda: app.invoicing.invoice_deliveries(screen.company_id, so_id, chosen or [], combine)  # noqa: E731
    return _invoicing(request, app, screen, so_id, act, posted="invoice_some")


@router.post(BASE + "/invoices/{number}/retry", response_class=HTMLResponse)
def retry(request: Request, screen: ScreenDep, so_id: SoId, number: str, app: App) -> Response:
    """Try one of the SO's invoices again (idempotent: an invoiced one stays as it is)."""
    invoice = path_id(number)
    return _invoicing(
        request, app, screen, so_id, lambda: app.invoicing.create_invoice(screen.company_id, so_id, invoice)
    )


@router.post(BASE + "/invoices/{number}/link-existing", response_class=HTMLResponse)
def link_existing(request: Request, screen: ScreenDep, so_id: SoId, number: str, app: App) -> Response:
    """*Link to this invoice*: a failed invoice becomes the QuickBooks invoice that has its number, when customer and
    amount match (checked again now); else the reason is said above the invoices."""
    return _invoicing(request, app, screen, so_id, lambda: link_to_existing(app, screen.company_id, so_id, number))


def link_to_existing(app: Container, company_id: int, so_id: int, number: str) -> InvoiceLink:
    """A QuickBooks failure while checking is a refusal like the others (nothing was changed)."""
    try:
        return LinkExisting(app.invoicing).link(company_id, so_id, path_id(number))
    except QboError as failed:
        message = f"QuickBooks could not be asked about that invoice, so nothing was changed: {failed}"
        raise InvalidTransition(message) from None


def _invoicing(
    request: Request, app: Container, screen: CompanyScreen, so_id: int, act: Callable[[], object], posted: str = ""
) -> Response:
    app.orderbook.get_sales_order(screen.company_id, so_id)  # NotFound (the 404 page) before anything is tried
    try:
        act()
    except REFUSALS as refused:
        status = 422 if isinstance(refused, ValidationError) else 409
        problems = refused.problems if isinstance(refused, ValidationError) else ()
        notice: str | None = None if problems else str(refused)
        if problems and not posted:  # no field to show them at: said above the invoices
            notice, problems = " ".join(p.message for p in problems), ()
        return _refused(request, app, screen, so_id, status, problems, notice=notice, posted=posted)
    return _done(request, app, screen, so_id, "#invoices")


# -- the card --------------------------------------------------------------------------------------------
def card_context(app: Container, screen: CompanyScreen, so_id: int) -> dict[str, Any]:
    """What the card template shows: the SO, its invoices and what can be done with them."""
    invoices = app.orderbook.get_sales_order(screen.company_id, so_id).invoices
    order = invoices.order
    customer, products, rates, cogs = _catalog(app, screen, order)
    returns = returns_context(app, screen.company_id, invoices, products)  # the Returns section (so_returns_view)
    poll = _poll(invoices) or returns_poll(returns["returns"])
    return {
        **returns, "invoices": invoices, "order": order, "customer": customer, "products": products, "rates": rates,
        "cogs": cogs, "urls": {link.number: app.invoice_url(screen.company_id, link.qbo_invoice_id)
                               for link in invoices.links if link.state in IN_QBO},
        "again": invoice_again(invoices),
        "existing": _existing(app, screen, invoices), "offer_link": _offer_link(screen),
        "can_invoice_all": _can_invoice_all(invoices), "open_deliveries": invoices.open_deliveries(),
        "deliveries_text": {d.id: _delivered(d.quantities, order.rows, products) for d in order.deliveries},
        "scope_text": {link.number: scope_text(invoices, link) for link in invoices.links},
        "poll": poll, "fingerprint": fingerprint(invoices, cogs) + returns_fingerprint(returns["returns"]),
        "at": _clock(screen),
        "inventory": _inventory(screen), "total": sum((to_cents(r.amount) for r in order.rows), Decimal(0)),
        "quantity_field": quantity_field, "plain": plain, "money": _money, "price": _price,
    }  # fmt: skip


def _card(
    request: Request, app: Container, screen: CompanyScreen, so_id: int, status: int = 200, **extra: Any
) -> HTMLResponse:
    context = {
        "problems": {},
        "entered": {},
        "notice": None,
        "posted": None,
        **card_context(app, screen, so_id),
        **extra,
    }
    if _htmx(request):  # htmx swaps only 2xx answers: a refusal comes as the card with its messages, 200
        return show(request, CARD, screen, fragment="card", **context)
    return show(request, CARD, screen, status, fragment=None, **context)


def _refused(
    request: Request, app: Container, screen: CompanyScreen, so_id: int, status: int,
    problems: tuple[Problem, ...], **extra: Any,
) -> HTMLResponse:  # fmt: skip
    by_field: dict[str, list[str]] = {}
    for problem in problems:  # "deliveries[2]" is the checkbox list as a whole: its message goes there
        field = "deliveries" if problem.field.startswith("deliveries[") else problem.field
        by_field.setdefault(field, []).append(problem.message)
    return _card(request, app, screen, so_id, status, problems=by_field, **extra)


def _done(request: Request, app: Container, screen: CompanyScreen, so_id: int, anchor: str) -> Response:
    """Post/Redirect/Get; with htmx the fresh card at once."""
    if _htmx(request):
        return _card(request, app, screen, so_id)
    return RedirectResponse(_url(screen, so_id) + anchor, status_code=303)


def fingerprint(invoices: OrderInvoices, cogs: list[CogsEntry]) -> str:
    """Changes whenever what the card shows of invoices, deliveries or COGS changes (every save bumps a version)."""
    seen = [(link.number, link.state.value, link.version) for link in invoices.links]
    seen_cogs = [(e.delivery_number, e.state.value, e.version) for e in cogs]
    text = repr((seen, len(invoices.order.deliveries), seen_cogs, invoices.order.payment_status))  # paid: QBO's news
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def scope_text(invoices: OrderInvoices, link: InvoiceLink) -> str:
    if not link.delivery_ids:
        return "Whole order"
    numbers = {d.id: d.number for d in invoices.order.deliveries}
    shown = sorted(numbers.get(i, 0) for i in link.delivery_ids)
    return ("Delivery " if len(shown) == 1 else "Deliveries ") + ", ".join(str(n) for n in shown)


def quantity_field(row_id: int) -> str:
    """The delivery form's field of a row — the same name the order book's refusals use."""
    return f"rows[{row_id}].quantity"


def _poll(invoices: OrderInvoices) -> int | None:
    if any(link.state in BUSY for link in invoices.links):
        return POLL_BUSY
    if any(link.state is InvoiceState.INVOICED for link in invoices.links):
        return POLL_WATCH
    return None


def _existing(app: Container, screen: CompanyScreen, invoices: OrderInvoices) -> dict[int, tuple[str, str | None]]:
    """Invoice number → (id, link) of the QuickBooks invoice that has a failed invoice's number (6140)."""
    found = {link.number: existing_invoice_id(link) for link in invoices.links}
    return {n: (txn, app.invoice_url(screen.company_id, txn)) for n, txn in found.items() if txn is not None}


def _offer_link(screen: CompanyScreen) -> bool:
    """Whether *Link to this invoice* is offered (the company's opt-in; sync/link_existing.py checks the rest)."""
    return screen.connection is not None and screen.connection.settings.offer_link_duplicates


def _can_invoice_all(invoices: OrderInvoices) -> bool:
    """Whether *invoice all* would be accepted now — the domain's own rule, asked without storing anything."""
    try:
        invoices.plan_whole()
    except InvalidTransition:
        return False
    return True


def _delivered(
    quantities: Mapping[int, Decimal], rows: tuple[Any, ...], products: Mapping[int, ProductVariant | None]
) -> str:
    parts = []
    for row in rows:
        if quantities.get(row.id or 0):
            product = products.get(row.variant_id)
            parts.append(f"{plain(quantities[row.id or 0])} × {product.sku if product else row.variant_id}")
    return ", ".join(parts)


def _delivery_ids(values: list[str]) -> tuple[list[int] | None, Problem | None]:
    """Delivery ids as sent (None when none were), or the problem with them."""
    if not values:
        return None, None
    if len(values) > MAX_DELIVERIES_PER_REQUEST:
        return None, Problem("deliveries", f"Choose at most {MAX_DELIVERIES_PER_REQUEST} deliveries at a time.")
    try:
        return [path_id(v) for v in values], None
    except NotFound:
        return None, Problem("deliveries", "Choose deliveries from the list.")


def _catalog(app: Container, screen: CompanyScreen, order: SalesOrder) -> tuple[
    Customer | None, dict[int, ProductVariant | None], dict[int, TaxRate | None], list[CogsEntry]
]:  # fmt: skip
    """The customer, products and tax rates the SO names (None for one that is gone), and its COGS entries."""
    company = order.company_id
    with app.uow() as uow:
        customer = _found(uow.customers.get, company, order.customer_id)
        products = {i: _found(uow.products.get, company, i) for i in sorted({r.variant_id for r in order.rows})}
        named = [r.tax_rate_id for r in order.rows] + [order.shipping_tax_rate_id]  # the shipping fee's too
        rate_ids = sorted({rate for rate in named if rate is not None})
        rates = {i: _found(uow.tax_rates.get, company, i) for i in rate_ids}
        cogs = uow.cogs.of_order(company, order.id or 0) if _inventory(screen) else []
    return customer, products, rates, cogs


def _found(read: Callable[[int, int], T], company_id: int, key: int) -> T | None:
    try:
        return read(company_id, key)
    except NotFound:
        return None


def _inventory(screen: CompanyScreen) -> bool:
    return screen.connection is not None and screen.connection.settings.mode is AccountingMode.INVENTORY


def _clock(screen: CompanyScreen) -> Callable[[datetime | None], str]:
    """Times as the company reads them: in its own time zone."""
    zone = screen.company.zone
    return lambda at: "" if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _one(form: Fields, name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def _blank_or_zero(text: str) -> bool:
    try:
        return not text or Decimal(text) == 0
    except InvalidOperation:
        return False  # the order book says what is wrong with it


def _money(value: Decimal) -> str:
    return f"{to_cents(value):,.2f}"


def _price(value: Decimal) -> str:
    """A unit price: with cents, or with its finer decimals when it has them (12.50, 0.1234)."""
    return _money(value) if value == to_cents(value) else f"{value.normalize():,f}"


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _url(screen: CompanyScreen, so_id: int) -> str:
    return f"/c/{screen.company_id}/so/{so_id}"

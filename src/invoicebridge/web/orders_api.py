"""/api/companies/{company_id}/sales-orders: create, read, update, list with filters, record deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from invoicebridge.domain import DeliveryStatus, InvoiceState, InvoiceStatus, OrderFilter
from invoicebridge.domain.payments import PaymentStatus
from invoicebridge.web.api import ERRORS, changes
from invoicebridge.web.auth import MAX_ID, App, MemberCompany, ObjectId
from invoicebridge.web.deps import Book, JobQueue, Paging
from invoicebridge.web.order_schemas import InvoiceOut, SalesOrderOut
from invoicebridge.web.returns_api import SalesOrderDetailOut
from invoicebridge.web.row_quantities import quantities_by_row
from invoicebridge.web.schemas import DeliveryIn, PageOut, SalesOrderIn, SalesOrderPatch, ZonedTime

router = APIRouter(prefix="/api/companies/{company_id}/sales-orders", tags=["sales orders"], responses=ERRORS)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_sales_order(company_id: MemberCompany, body: SalesOrderIn, book: Book, app: App) -> SalesOrderDetailOut:
    fields = changes(body)
    fields["rows"] = [row.to_domain() for row in body.rows]
    order = book.create_sales_order(company_id, **fields)
    return SalesOrderDetailOut.detail(app, company_id, book.get_sales_order(company_id, order.id or 0))


@router.get("")
def list_sales_orders(
    company_id: MemberCompany,
    book: Book,
    page: Paging,
    invoice_state: Annotated[
        InvoiceState | None, Query(description="SOs with an invoice in this state (not_invoiced: with none)")
    ] = None,
    delivery_status: DeliveryStatus | None = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    created_from: Annotated[ZonedTime | None, Query(description="inclusive")] = None,
    created_to: Annotated[ZonedTime | None, Query(description="exclusive")] = None,
    invoice_status: Annotated[
        InvoiceStatus | None, Query(description="not, partly or fully on invoices in QuickBooks")
    ] = None,
    payment_status: Annotated[
        PaymentStatus | None, Query(description="unpaid, partly or fully paid (companies that track payments)")
    ] = None,
) -> PageOut[SalesOrderOut]:
    filters = OrderFilter(invoice_state, delivery_status, customer_id, created_from, created_to, invoice_status,
                          payment_status=payment_status)  # fmt: skip
    found = book.list_sales_orders(company_id, filters, page)
    return PageOut(items=[SalesOrderOut.of(v) for v in found.items], next_after=found.next_after)


@router.get("/by-number/{number}")
def get_sales_order_by_number(company_id: MemberCompany, number: str, book: Book, app: App) -> SalesOrderDetailOut:
    return SalesOrderDetailOut.detail(app, company_id, book.get_sales_order_by_number(company_id, number))


@router.get("/{order_id}")
def get_sales_order(company_id: MemberCompany, order_id: ObjectId, book: Book, app: App) -> SalesOrderDetailOut:
    """The SO with its invoices, deliveries and returns."""
    return SalesOrderDetailOut.detail(app, company_id, book.get_sales_order(company_id, order_id))


@router.patch("/{order_id}")
def update_sales_order(
    company_id: MemberCompany, order_id: ObjectId, body: SalesOrderPatch, book: Book, app: App
) -> SalesOrderDetailOut:
    fields = changes(body)
    if body.rows is not None:
        fields["rows"] = [row.to_domain() for row in body.rows]
    book.update_sales_order(company_id, order_id, **fields)
    return SalesOrderDetailOut.detail(app, company_id, book.get_sales_order(company_id, order_id))


@router.post("/{order_id}/deliveries")
def record_delivery(
    company_id: MemberCompany, order_id: ObjectId, body: DeliveryIn, book: Book, jobs: JobQueue, app: App
) -> SalesOrderDetailOut:
    lines = [(line.row_id, line.quantity) for line in body.rows]
    deliveries = quantities_by_row(lines, "rows", "went out in this delivery")
    book.record_delivery(company_id, order_id, deliveries, body.delivered_at)
    jobs.cogs(company_id, order_id)  # accounting with inventory: COGS once delivered (or per delivery) and invoiced
    return SalesOrderDetailOut.detail(app, company_id, book.get_sales_order(company_id, order_id))


@router.get("/{order_id}/invoice")
def get_invoice_status(company_id: MemberCompany, order_id: ObjectId, book: Book) -> InvoiceOut:
    return InvoiceOut.of(book.invoice_link(company_id, order_id))
